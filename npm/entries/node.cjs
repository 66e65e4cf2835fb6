// require('freedom-id-edge') in Node (18 or later) and Bun. wasm-bindgen's `nodejs` glue
// reads the shared .wasm next to it and instantiates it synchronously.
'use strict';
// The default state comes from globalThis.crypto.getRandomValues, which Node 18 has in
// CommonJS only behind a flag: lend it node:crypto's WebCrypto when (and only when) it is
// missing. `in`, not a read: reading Node's lazy `crypto` getter costs 2-3 ms at load.
if (!('crypto' in globalThis)) {
  Object.defineProperty(globalThis, 'crypto', {
    value: require('node:crypto').webcrypto,
    writable: true,
    configurable: true,
  });
}
module.exports = require('./freedom_id_edge.js');
