// Runs the built Worker (build/index.js + its wasm) in workerd through Miniflare, listening on
// 127.0.0.1, configured as wrangler.toml configures it (support/workerd-config.mjs: www/ as assets
// with its _headers; here also an optional rate limiter and KV), with everything the Worker logs
// captured.
import { Miniflare } from 'miniflare';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { WORKER_ORIGIN, freePort, rustWorker, workerdOptions } from './workerd-config.mjs';

export {
  BASIC_CREDENTIALS,
  CLIENT_ID,
  CLIENT_SECRET,
  SESSION_SECRET,
  WORKER_ORIGIN,
  freePort,
  workingBindings,
} from './workerd-config.mjs';

/**
 * The FREEDOM_ID_REVOKE_KEY of the test deployments that bind FREEDOM_ID_REVOCATIONS (at least
 * 32 characters, no whitespace, nothing a query string must escape): `/revoke?key=<it>`.
 */
export const REVOKE_KEY = 'test-revoke-key-0123456789abcdef-XYZ';

/**
 * Starts the Worker. Bindings set to `undefined` are left out. `rateLimit` ({limit, period})
 * binds FREEDOM_ID_RATE_LIMITER as wrangler.toml's [[ratelimits]] does.
 * `kv` ({BINDING: 'namespace-id'}) binds KV namespaces. String values containing WORKER_ORIGIN
 * get the Worker's own origin (its port is picked first when `port` is 0).
 * @returns {Promise<{url: URL, origin: string, mf: Miniflare, logs: () => string, close: () => Promise<void>}>}
 */
export async function startWorker(bindings, { port = 0, rateLimit, kv } = {}) {
  // The redirect URI must be on the Worker's own origin, so the port is chosen first.
  if (port === 0) port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const filled = Object.fromEntries(
    Object.entries(bindings)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k, typeof v === 'string' ? v.replaceAll(WORKER_ORIGIN, origin) : v]),
  );
  let output = '';
  const capture = (stream) => {
    stream.setEncoding('utf8');
    stream.on('data', (chunk) => { output += chunk; });
  };
  const mf = new Miniflare({
    ...workerdOptions({
      port,
      bindings: filled,
      handleRuntimeStdio(stdout, stderr) {
        capture(stdout);
        capture(stderr);
      },
    }),
    ...rustWorker(),
    ...(rateLimit ? { ratelimits: { FREEDOM_ID_RATE_LIMITER: { namespace_id: '1001', simple: rateLimit } } } : {}),
    ...(kv ? { kvNamespaces: kv } : {}),
  });
  const url = await mf.ready;
  return {
    url,
    origin,
    mf,
    logs: () => output,
    close: () => mf.dispose(),
  };
}

/** Resident memory (KiB) of the workerd processes this test process started. */
export function workerdRssKiB() {
  const children = execFileSync('ps', ['-eo', 'pid=,ppid=,comm='], { encoding: 'utf8' })
    .trim().split('\n').map((line) => line.trim().split(/\s+/));
  const mine = new Set([String(process.pid)]);
  let total = 0;
  for (let grew = true; grew;) {
    grew = false;
    for (const [pid, ppid, comm] of children) {
      if (mine.has(ppid) && !mine.has(pid)) {
        mine.add(pid);
        grew = true;
        if (comm.startsWith('workerd')) {
          total += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
        }
      }
    }
  }
  return total;
}
