// Runs the built Worker (build/index.js + its wasm) in workerd through Miniflare, listening on
// 127.0.0.1, with the bindings a test chooses and everything the Worker logs captured.
import { Miniflare } from 'miniflare';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** The settings a working local deployment has, pointed at `mock`. */
export function workingBindings(mock, overrides = {}) {
  return {
    FREEDOM_ID_CLIENT_ID: 'demo-client',
    FREEDOM_ID_CLIENT_SECRET: 'demo-secret',
    FREEDOM_ID_REDIRECT_URI: 'http://127.0.0.1:8787/callback',
    FREEDOM_ID_GRANTS: 'openid read.email, read.phone',
    FREEDOM_ID_AUTHORIZE_URL: mock.authorizeUrl,
    FREEDOM_ID_TIMEOUT_MS: '1000',
    ...overrides,
  };
}

/**
 * Starts the Worker with the static site in www/. Bindings set to `undefined` are left out.
 * @returns {Promise<{url: URL, logs: () => string, close: () => Promise<void>}>}
 */
export async function startWorker(bindings, { port = 0 } = {}) {
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
    bindings: Object.fromEntries(Object.entries(bindings).filter(([, v]) => v !== undefined)),
    host: '127.0.0.1',
    port,
    // As wrangler.toml's [assets]: files in www/ first, the Worker for everything else.
    assets: { directory: path.join(root, 'www'), routerConfig: { has_user_worker: true } },
    handleRuntimeStdio(stdout, stderr) {
      capture(stdout);
      capture(stderr);
    },
  });
  const url = await mf.ready;
  return {
    url,
    logs: () => output,
    close: () => mf.dispose(),
  };
}

/** A TCP port on 127.0.0.1 that was free a moment ago, for a Worker that must know its own URL. */
export async function freePort() {
  const { createServer } = await import('node:net');
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}
