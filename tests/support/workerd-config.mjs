// How the tests (support/worker.mjs) and the benchmark (bench/workerd.mjs) configure a Worker
// for workerd through Miniflare, as wrangler.toml configures it: its compatibility date, www/ as
// assets with www/_headers, the built Worker and its wasm modules; and the settings a working
// test deployment has. node: built-ins only: the benchmark loads Miniflare itself, once it has
// checked that it is installed.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
/** The demo site the Worker serves as its assets. */
export const WWW = path.join(root, 'www');
/** As wrangler.toml's compatibility_date. */
export const COMPATIBILITY_DATE = '2026-07-01';

/** The client credentials of the test deployments (start the mock Freedom ID with them). */
export const CLIENT_ID = 'demo-client';
export const CLIENT_SECRET = 'demo-secret';
/** Their HTTP Basic credentials as the Worker sends them to Freedom ID: base64 of `id:secret`. */
export const BASIC_CREDENTIALS = Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64');
/** Stands for the Worker's own origin in binding values; support/worker.mjs's startWorker fills it in. */
export const WORKER_ORIGIN = '{WORKER_ORIGIN}';
/** The session secret of the test deployments (at least 32 characters). */
export const SESSION_SECRET = 'test-session-secret-0123456789abcdef';

/** The settings a working local deployment has, pointed at `mock` (anything with authorizeUrl and tokenUrl). */
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
export function staticHeaders(www = WWW) {
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
 * The Miniflare options every Worker here gets: an ES module Worker at the compatibility date,
 * listening on 127.0.0.1:`port`, with `bindings`, www/ as its assets (with www/_headers, the
 * asset router's `routerConfig` on top of `has_user_worker`), and workerd's output to
 * `handleRuntimeStdio`. The script comes on top (rustWorker, or the benchmark's others).
 */
export function workerdOptions({ port, bindings, routerConfig = {}, handleRuntimeStdio }) {
  return {
    modules: true,
    compatibilityDate: COMPATIBILITY_DATE,
    bindings,
    host: '127.0.0.1',
    port,
    assets: {
      directory: WWW,
      routerConfig: { has_user_worker: true, ...routerConfig },
      assetConfig: { headers: staticHeaders() },
    },
    handleRuntimeStdio,
  };
}

/** The built Worker (`make build-worker`: build/index.js and its wasm), as Miniflare script options. */
export function rustWorker(build = path.join(root, 'build')) {
  return {
    scriptPath: path.join(build, 'index.js'),
    modulesRoot: build,
    modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'] }],
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
