// The mock Freedom ID in its own process for the benchmark, logging off: prints one JSON line
// {"origin": ..., "authorizeUrl": ...} once listening, and stops when stdin closes (its parent
// ended) or on SIGTERM/SIGINT.
import { startMockFreedomId } from '../tests/support/mock-freedom-id.mjs';

const mock = await startMockFreedomId({ log: false });
process.stdout.write(`${JSON.stringify({ origin: mock.origin, authorizeUrl: mock.authorizeUrl })}\n`);
const stop = () => mock.close().then(() => process.exit(0));
process.stdin.on('end', stop).on('close', stop).resume();
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
