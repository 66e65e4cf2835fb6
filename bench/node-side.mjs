// The Node side of the benchmark, in a child process of bench/run.mjs on the machine's own Node
// (20), as the npm package's users run it. Never imports Miniflare.
//
//   /usr/bin/node bench/node-side.mjs '{"impls":["ours-link","plain-link",...],"pkgDir":"...",
//     "authorizeUrl":"...","tokenUrl":"...","userInfoUrl":"...","control":"http://127.0.0.1:PORT",
//     "count":2000,"concurrency":64,"warmup":200,"blocks":4}'
//
// impls: `ours-link` / `plain-link`: createAuthorizationLink from pkg/ (require) / bench/plain-js.mjs;
// `ours-complete` / `plain-complete`: completeSignIn with userInfoUrl (the exchange, then the
// user-info call), each call with a fresh code (issued by the mock's control server before the
// block, untimed) and its state; `floor-authorize` / `floor-token`: a bare fetch of the same
// upstream calls (the token call, then the user-info call), bodies read, no checks; `ours-verify` /
// `plain-verify` / `floor-verify`: verifyGateAssertion with the key set inline, and a bare
// WebCrypto check of the same signature; `NAME-link` /
// `NAME-complete`: ours from another build, config.variants [{name, pkgDir}] (an experiment).
// Each impl makes `count` calls sequentially, then `count` with `concurrency` in flight, in
// `blocks` alternating blocks whose order rotates. Prints one JSON line: {node, impls: {IMPL:
// {sequential, concurrent}}}. Exits non-zero on any rejected call or wrong answer.
import { createRequire } from 'node:module';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { summarize } from './stats.mjs';

const config = JSON.parse(process.argv[2]);
const origin = new URL(config.authorizeUrl).origin;
const REDIRECT_URI = 'http://127.0.0.1:8787/callback';
const client = { clientId: 'demo-client', clientSecret: 'demo-secret' };
const linkOptions = { ...client, redirectUri: REDIRECT_URI, grants: ['openid', 'read.email', 'read.phone'], authorizeUrl: config.authorizeUrl, timeoutMs: 5000 };
const basic = `Basic ${Buffer.from('demo-client:demo-secret').toString('base64')}`;

function codes(n) {
  return new Promise((resolve, reject) => {
    const request = http.request(`${config.control}/codes?n=${n}`, { method: 'POST' }, (response) => {
      let text = '';
      response.setEncoding('utf8').on('data', (chunk) => { text += chunk; });
      response.on('end', () => (response.statusCode === 200 ? resolve(JSON.parse(text)) : reject(new Error(`codes: ${response.statusCode}`))));
    });
    request.on('error', reject);
    request.end();
  });
}

/** n callbacks as completeSignIn gets them: {callbackUrl, expectedState}. */
async function callbacks(n) {
  return (await codes(n)).map((code) => {
    const state = randomBytes(32).toString('base64url');
    return { callbackUrl: `${REDIRECT_URI}?state=${state}&authorization_code=${code}`, expectedState: state, code };
  });
}

function checkLink(link) {
  if (typeof link?.url !== 'string' || !link.url.startsWith(`${origin}/login?track_id=`) || typeof link.state !== 'string') throw new Error(`unexpected link ${JSON.stringify(link)}`);
}

const USER_ID = '41790bb3-5d6e-4c1a-9f7e-2b8a3c0d9e41'; // the mock's demo user

function checkTokens(tokens) {
  if (typeof tokens?.accessToken !== 'string' || typeof tokens.refreshToken !== 'string' || !Number.isInteger(tokens.accessExpiresAt)) throw new Error(`unexpected tokens ${JSON.stringify(Object.keys(tokens ?? {}))}`);
  if (tokens.user?.id !== USER_ID || tokens.user.email !== 'aida@example.com') throw new Error(`unexpected user ${JSON.stringify(tokens.user)}`);
}

/** completeSignIn's options for one prepared callback, the same for every implementation. */
const completeOptions = (input) => ({ ...client, tokenUrl: config.tokenUrl, userInfoUrl: config.userInfoUrl, timeoutMs: 5000, callbackUrl: input.callbackUrl, expectedState: input.expectedState });

const none = async (n) => new Array(n).fill(null);

// verifyGateAssertion: n assertions as the gate signs them (ES256, a minute's life, the demo
// user's profile), made before the block (untimed), with one key set given inline.
const ISSUER = 'http://127.0.0.1:8787';
const AUDIENCE = 'http://127.0.0.1:8789';
let signingKeyOnce;
function signingKey() {
  signingKeyOnce ??= (async () => {
    const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
    const { kty, crv, x, y } = await crypto.subtle.exportKey('jwk', pair.publicKey);
    return { key: pair.privateKey, publicJwk: { kty, crv, x, y, kid: 'bench-key', alg: 'ES256', use: 'sig' } };
  })();
  return signingKeyOnce;
}
async function verifyOptions() {
  const { publicJwk } = await signingKey();
  return { jwks: { keys: [publicJwk] }, issuer: ISSUER, audience: AUDIENCE };
}
async function assertions(n) {
  const { key } = await signingKey();
  const part = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const user = { id: '41790bb3-5d6e-4c1a-9f7e-2b8a3c0d9e41', firstname: 'Aida', lastname: 'Seitkali', email: 'aida@example.com', phone: '+77011234567' };
  return Promise.all(Array.from({ length: n }, async (_, i) => {
    const now = Math.floor(Date.now() / 1000);
    const input = `${part({ alg: 'ES256', typ: 'JWT', kid: 'bench-key' })}.${part({ iss: ISSUER, aud: AUDIENCE, sub: user.id, sid: `pair-${i}`, iat: now, exp: now + 600, user })}`;
    const signature = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key, Buffer.from(input));
    return `${input}.${Buffer.from(signature).toString('base64url')}`;
  }));
}
function checkVerified(claims) {
  if (claims?.user?.firstname !== 'Aida' || typeof claims.sid !== 'string' || !Number.isInteger(claims.exp)) throw new Error(`unexpected claims ${JSON.stringify(claims)}`);
}

/** {prepare(n) -> inputs (untimed), call(input)} per implementation. */
async function load(impl) {
  const variant = (config.variants ?? []).find((v) => impl === `${v.name}-link` || impl === `${v.name}-complete`);
  if (variant) {
    const { createAuthorizationLink, completeSignIn } = createRequire(import.meta.url)(variant.pkgDir);
    return impl.endsWith('-link')
      ? { prepare: none, call: async () => checkLink(await createAuthorizationLink(linkOptions)) }
      : { prepare: callbacks, call: async (input) => checkTokens(await completeSignIn(completeOptions(input))) };
  }
  const ours = () => createRequire(import.meta.url)(config.pkgDir);
  const plain = () => import('./plain-js.mjs');
  switch (impl) {
    case 'ours-link': {
      const { createAuthorizationLink } = ours();
      return { prepare: none, call: async () => checkLink(await createAuthorizationLink(linkOptions)) };
    }
    case 'plain-link': {
      const { createAuthorizationLink } = await plain();
      return { prepare: none, call: async () => checkLink(await createAuthorizationLink(linkOptions)) };
    }
    case 'ours-complete': {
      const { completeSignIn } = ours();
      return { prepare: callbacks, call: async (input) => checkTokens(await completeSignIn(completeOptions(input))) };
    }
    case 'plain-complete': {
      const { completeSignIn } = await plain();
      return { prepare: callbacks, call: async (input) => checkTokens(await completeSignIn(completeOptions(input))) };
    }
    case 'ours-verify': {
      const { verifyGateAssertion } = ours();
      return { prepare: assertions, call: async (token) => checkVerified(await verifyGateAssertion(token, await verifyOptions())) };
    }
    case 'plain-verify': {
      const { verifyGateAssertion } = await plain();
      return { prepare: assertions, call: async (token) => checkVerified(await verifyGateAssertion(token, await verifyOptions())) };
    }
    case 'floor-verify': {
      // A bare WebCrypto check of the same signature with a key imported once: no parsing.
      const { publicJwk } = await signingKey();
      const publicKey = await crypto.subtle.importKey('jwk', publicJwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
      return {
        prepare: assertions,
        call: async (token) => {
          const at = token.lastIndexOf('.');
          const ok = await crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, publicKey, Buffer.from(token.slice(at + 1), 'base64url'), Buffer.from(token.slice(0, at)));
          if (!ok) throw new Error('the floor did not verify');
        },
      };
    }
    case 'floor-authorize': {
      const body = JSON.stringify({ redirect_uri: REDIRECT_URI, grants: linkOptions.grants });
      return {
        prepare: none,
        call: async () => {
          const response = await fetch(config.authorizeUrl, { method: 'POST', headers: { Authorization: basic, 'Content-Type': 'application/json' }, body, redirect: 'manual' });
          const text = await response.text();
          if (response.status !== 200) throw new Error(`mock answered ${response.status}: ${text.slice(0, 200)}`);
        },
      };
    }
    case 'floor-token':
      return {
        prepare: callbacks,
        call: async (input) => {
          const response = await fetch(config.tokenUrl, { method: 'POST', headers: { Authorization: basic, 'Content-Type': 'application/json' }, body: JSON.stringify({ authorization_code: input.code }), redirect: 'manual' });
          const text = await response.text();
          if (response.status !== 200) throw new Error(`mock answered ${response.status}: ${text.slice(0, 200)}`);
          const info = await fetch(config.userInfoUrl, { headers: { Authorization: `Bearer ${JSON.parse(text).access_token}` }, redirect: 'manual' });
          const profile = await info.text();
          if (info.status !== 200) throw new Error(`mock's user info answered ${info.status}: ${profile.slice(0, 200)}`);
        },
      };
    default:
      throw new Error(`unknown impl ${impl}`);
  }
}

/** Every input with `concurrency` in flight: the latencies, wall time and process CPU time. */
async function run(call, inputs, concurrency) {
  const latencies = new Float64Array(inputs.length);
  let next = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  const lane = async () => {
    while (next < inputs.length) {
      const i = next++;
      const t0 = performance.now();
      await call(inputs[i]);
      latencies[i] = performance.now() - t0;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, inputs.length) }, lane));
  const wallMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return { latencies, wallMs, cpuUs: used.user + used.system };
}

const impls = config.impls;
const blocks = config.blocks ?? 1;
const loaded = new Map();
for (const impl of impls) loaded.set(impl, await load(impl));
for (const impl of impls) {
  const { prepare, call } = loaded.get(impl);
  await run(call, await prepare(config.warmup), Math.min(config.concurrency, 16));
}
const result = { node: process.version, impls: {} };
for (const [phase, concurrency] of [['sequential', 1], ['concurrent', config.concurrency]]) {
  const pooled = new Map(impls.map((impl) => [impl, { latencies: [], wallMs: 0, cpuUs: 0 }]));
  const perBlock = Math.ceil(config.count / blocks);
  for (let block = 0; block < blocks; block++) {
    for (let k = 0; k < impls.length; k++) {
      const impl = impls[(k + block) % impls.length];
      const { prepare, call } = loaded.get(impl);
      const inputs = await prepare(perBlock);
      const { latencies, wallMs, cpuUs } = await run(call, inputs, concurrency);
      const into = pooled.get(impl);
      into.latencies.push(...latencies);
      into.wallMs += wallMs;
      into.cpuUs += cpuUs;
    }
  }
  for (const [impl, { latencies, wallMs, cpuUs }] of pooled) {
    result.impls[impl] ??= {};
    result.impls[impl][phase] = { ...summarize(latencies, wallMs), cpuUsPerOp: cpuUs / latencies.length };
  }
}
process.stdout.write(`${JSON.stringify(result)}\n`);
