// import ... from 'npm:freedom-id-edge' in Deno 2 (the `deno` condition). A source-phase
// import hands over the shared .wasm as a compiled WebAssembly.Module, so no file is read at
// run time and no --allow-read is needed.
import source module from './freedom_id_edge_bg.wasm';
import { initSync } from './freedom_id_edge.mjs';

initSync({ module });

export { completeSignIn, createAuthorizationLink, exchangeAuthorizationCode, fetchUserInfo, refreshTokens, verifyGateAssertion } from './freedom_id_edge.mjs';
