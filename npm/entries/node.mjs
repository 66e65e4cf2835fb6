// import ... from 'freedom-id-edge' in Node (18 or later) and Bun: a real ES module. The
// shared .wasm is read next to this file and instantiated synchronously, so the functions
// are ready once the import resolves.
import { createRequire } from 'node:module';
import { initSync } from './freedom_id_edge.mjs';

// Built-ins through require: the first `import ... from 'node:fs'` costs Node about 3 ms
// (it builds an ES module facade over every fs export), require('node:fs') almost nothing.
const require = createRequire(import.meta.url);

// The default state comes from globalThis.crypto.getRandomValues, missing in Node 18
// without a flag: lend it node:crypto's WebCrypto when (and only when) it is missing.
// `in`, not a read (reading Node's lazy `crypto` getter costs 2-3 ms at load), and
// node:crypto is loaded only then.
if (!('crypto' in globalThis)) {
  Object.defineProperty(globalThis, 'crypto', { value: require('node:crypto').webcrypto, writable: true, configurable: true });
}
initSync({ module: require('node:fs').readFileSync(new URL('./freedom_id_edge_bg.wasm', import.meta.url)) });

export { completeSignIn, createAuthorizationLink, exchangeAuthorizationCode, fetchUserInfo, refreshTokens, verifyGateAssertion } from './freedom_id_edge.mjs';
