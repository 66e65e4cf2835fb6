// import ... from 'freedom-id-edge' in a Cloudflare Worker (the `workerd` and `worker`
// conditions). Workers cannot compile wasm from bytes at run time: wrangler turns this static
// import into a WebAssembly.Module at upload, and it is instantiated synchronously here.
import module from './freedom_id_edge_bg.wasm';
import { initSync } from './freedom_id_edge.mjs';

initSync({ module });

export { completeSignIn, createAuthorizationLink, exchangeAuthorizationCode, fetchUserInfo, refreshTokens, verifyGateAssertion } from './freedom_id_edge.mjs';
