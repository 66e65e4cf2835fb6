// Runs the built Worker (build/index.js + its wasm) in workerd through Miniflare, listening on
// 127.0.0.1, configured as wrangler.toml configures it (www/ as assets with its _headers, an
// optional rate limiter, optional KV), with everything the Worker logs captured.
import { Miniflare } from 'miniflare';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = fileURLToPath(new URL('../..', import.meta.url));
const www = path.join(root, 'www');

/** The client credentials of the test deployments (start the mock Freedom ID with them). */
export const CLIENT_ID = 'demo-client';
export const CLIENT_SECRET = 'demo-secret';
/** Their HTTP Basic credentials as the Worker sends them to Freedom ID: base64 of `id:secret`. */
export const BASIC_CREDENTIALS = Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64');
/** Stands for the Worker's own origin in binding values; startWorker fills it in. */
export const WORKER_ORIGIN = '{WORKER_ORIGIN}';
/** The session secret of the test deployments (at least 32 characters). */
export const SESSION_SECRET = 'test-session-secret-0123456789abcdef';
/**
 * The FREEDOM_ID_REVOKE_KEY of the test deployments that bind FREEDOM_ID_REVOCATIONS (at least
 * 32 characters, no whitespace, nothing a query string must escape): `/revoke?key=<it>`.
 */
export const REVOKE_KEY = 'test-revoke-key-0123456789abcdef-XYZ';

/** The settings a working local deployment has, pointed at `mock`. */
export function workingBindings(mock, overrides = {}) {
  return {
    FREEDOM_ID_CLIENT_ID: CLIENT_ID,
    FREEDOM_ID_CLIENT_SECRET: CLIENT_SECRET,
    FREEDOM_ID_REDIRECT_URI: `${WORKER_ORIGIN}/callback`,
    FREEDOM_ID_GRANTS: 'openid read.email, read.phone',
    FREEDOM_ID_AUTHORIZE_URL: mock.authorizeUrl,
    FREEDOM_ID_TOKEN_URL: mock.tokenUrl,
    FREEDOM_ID_SESSION_SECRET: SESSION_SECRET,
    FREEDOM_ID_TIMEOUT_MS: '1000',
    ...overrides,
  };
}

/** www/_headers in the shape Miniflare's asset worker takes (wrangler parses it the same way). */
function staticHeaders() {
  const rules = {};
  let pattern = null;
  for (const line of readFileSync(path.join(www, '_headers'), 'utf8').split('\n')) {
    if (!line.trim() || line.trim().startsWith('#')) continue;
    if (!/^\s/.test(line)) {
      pattern = line.trim();
      rules[pattern] = { set: {} };
    } else if (pattern) {
      const at = line.indexOf(':');
      rules[pattern].set[line.slice(0, at).trim()] = line.slice(at + 1).trim();
    }
  }
  return { version: 2, rules };
}

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
    modules: true,
    scriptPath: path.join(root, 'build/index.js'),
    modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'] }],
    compatibilityDate: '2026-07-01',
    bindings: filled,
    host: '127.0.0.1',
    port,
    assets: {
      directory: www,
      routerConfig: { has_user_worker: true },
      assetConfig: { headers: staticHeaders() },
    },
    ...(rateLimit ? { ratelimits: { FREEDOM_ID_RATE_LIMITER: { namespace_id: '1001', simple: rateLimit } } } : {}),
    ...(kv ? { kvNamespaces: kv } : {}),
    handleRuntimeStdio(stdout, stderr) {
      capture(stdout);
      capture(stderr);
    },
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

/** A TCP port on 127.0.0.1 that was free a moment ago, for a Worker that must know its own URL. */
export async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
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
