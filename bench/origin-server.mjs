// The site behind the gate for the benchmark (tests/support/origin-server.mjs: echoes what it
// received as JSON) in its own process, so that neither load generator blocks its event loop.
// Prints one JSON line {"url"} once listening; stops when stdin closes or on SIGTERM/SIGINT.
import { startOriginServer } from '../tests/support/origin-server.mjs';

const origin = await startOriginServer();
process.stdout.write(`${JSON.stringify({ url: origin.url })}\n`);
const stop = () => origin.close().then(() => process.exit(0));
process.stdin.on('end', stop).on('close', stop).resume();
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
