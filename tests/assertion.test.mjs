// The gate's word can be checked (issue 22), end to end: the built wasm in workerd (Miniflare),
// the mock Freedom ID, and behind each Worker a real site that verifies X-Freedom-ID-Assertion
// with the PACKED npm package (`npm pack pkg/`, installed into a temporary folder and imported
// as a user does: verifyGateAssertion, a real ES256 check against the Worker's
// /.well-known/jwks.json). Signing keys are made here with WebCrypto; tokens the Worker never
// made (tampered, another key, expired, ...) are crafted with them and sent straight to the
// site, as a request that did not pass the gate would be. FREEDOM_ID_ALLOW lets some users
// through and stops the others with 403 ACCESS_DENIED. Needs `make build-worker` and
// `make build-npm` first.
// One file: five Worker configurations started once (a signing gate with the user known; a
// rotated key set under FREEDOM_ID_PROTECT=/ with the access token forwarded; an allow-list;
// an allow-list the gate cannot check, without a key; broken settings), one verifying site
// each; a Worker whose key WebCrypto refuses is started by its test. The log sweep is last.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { DEMO_USER, PROFILE_FIELDS, startMockFreedomId } from './support/mock-freedom-id.mjs';
import { BASIC_CREDENTIALS as BASIC, CLIENT_ID, CLIENT_SECRET, SESSION_SECRET, startWorker, workingBindings } from './support/worker.mjs';
import { Jar } from './support/jar.mjs';
import { unseal } from './support/seal.mjs';
import { packAndInstall } from './support/runtimes.mjs';
import { BROWSER_ACCEPT, SESSION, Secrets, assertCleared, assertProblem, send, signInSteps } from './support/client.mjs';

const { subtle } = globalThis.crypto;
const JWKS_PATH = '/.well-known/jwks.json';
const LIFETIME = 60;
/** The user as the Worker keeps it with the user-info call: the id and the ten profile fields. */
const PROFILE = Object.freeze(Object.fromEntries([['id', DEMO_USER.id], ...PROFILE_FIELDS.map((f) => [f, DEMO_USER[f]])]));

let verifyGateAssertion; // from the packed package
let app; // the folder it is installed in
let mock;
let K1; // {kid, jwk (private, as the setting takes it), privateKey, publicJwk}
let K2;
let STRANGER; // a key no Worker has
/** One Worker and its verifying site per configuration. */
let signing; // oauth2 + user-info, key K1, PROTECT /app
let rotated; // oauth2 without user-info, keys [K2, K1], PROTECT /, FORWARD_ACCESS_TOKEN=on
let allowing; // oauth2 + user-info, key K1, PROTECT /app, FREEDOM_ID_ALLOW of each kind, LOG all
let blind; // oauth2 without user-info, no key, PROTECT /app, FREEDOM_ID_ALLOW an email
let broken; // FREEDOM_ID_ALLOW, _ASSERTION_KEY and _FORWARD_ACCESS_TOKEN all invalid
const workers = [];
const sites = [];
const secrets = new Secrets([CLIENT_SECRET, BASIC, SESSION_SECRET]);

/** What FREEDOM_ID_ALLOW of `allowing` lets in: one rule of each kind. */
const ALLOWED_ID = '6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b';
const ALLOW = `${ALLOWED_ID.toUpperCase()} Aida@Example.COM @partner.kz +77015550011`;
/** Text of a broken FREEDOM_ID_ALLOW: the second rule is none of the four kinds. */
const BAD_RULE = 'secret-rule-text-0123';
const BAD_KEY_D = 'cGVyc29uYWwtc2VjcmV0LWQtdmFsdWUtMDEyMzQ1Njc';

// ---------------------------------------------------------------------------------------------
// Keys and tokens, made here with WebCrypto.

const b64 = (value) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const decodePart = (part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
const nowSeconds = () => Math.floor(Date.now() / 1000);

async function makeKey(kid) {
  const pair = await subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
  const { kty, crv, x, y, d } = await subtle.exportKey('jwk', pair.privateKey);
  secrets.remember(d);
  return { kid, jwk: { kty, crv, x, y, d, kid }, privateKey: pair.privateKey, publicJwk: { kty, crv, x, y, kid, alg: 'ES256', use: 'sig' } };
}

/** A compact JWS over `header` and `claims`, signed ES256 (r || s) by `key`. */
async function sign(key, header, claims) {
  const input = `${b64(header)}.${b64(claims)}`;
  const signature = await subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key.privateKey, Buffer.from(input));
  return `${input}.${Buffer.from(signature).toString('base64url')}`;
}

const decodeToken = (token) => {
  const [header, claims] = token.split('.');
  return { header: decodePart(header), claims: decodePart(claims) };
};

// ---------------------------------------------------------------------------------------------
// A site behind the gate that trusts nothing but a verified assertion.

/**
 * A site that verifies every request's X-Freedom-ID-Assertion with the packed package against
 * `trust()` ({jwksUrl, issuer, audience}; the Worker's, known once it listens): 200 with
 * the verified claims and what it received, or 401 with the refusal's code and problem.
 */
async function startVerifyingSite(trust) {
  const requests = [];
  const server = http.createServer(async (req, res) => {
    for await (const _ of req); // eslint-disable-line no-unused-vars
    const rawHeaders = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) rawHeaders.push([req.rawHeaders[i], req.rawHeaders[i + 1]]);
    const seen = { method: req.method, path: req.url, headers: req.headers, rawHeaders };
    try {
      seen.verified = await verifyGateAssertion(req.headers['x-freedom-id-assertion'], trust());
    } catch (error) {
      seen.refused = { code: error.code, problem: error.details?.problem };
    }
    requests.push(seen);
    const body = JSON.stringify(seen);
    res.writeHead(seen.verified ? 200 : 401, { 'content-type': 'application/json', 'x-origin': 'verifying-site' });
    res.end(body);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const site = {
    url: `http://127.0.0.1:${server.address().port}`,
    requests,
    get count() {
      return requests.length;
    },
    close: () => new Promise((resolve) => {
      server.closeAllConnections?.();
      server.close(resolve);
    }),
  };
  sites.push(site);
  return site;
}

/** What a gate's site trusts: the Worker's key set and origin, its own origin as the audience. */
const trusting = (gate) => () => ({ jwksUrl: `${gate.worker.origin}${JWKS_PATH}`, issuer: gate.worker.origin, audience: gate.site.url });

/** A Worker with `bindings` in front of a verifying site of its own; retried if its port was taken meanwhile. */
async function startGate(overrides, { site = true } = {}) {
  const gate = {};
  if (site) gate.site = await startVerifyingSite(trusting(gate));
  const bindings = workingBindings(mock, { ...(site ? { FREEDOM_ID_APP_ORIGIN: gate.site.url } : {}), ...overrides });
  for (let attempt = 1; ; attempt += 1) {
    try {
      gate.worker = await startWorker(bindings);
      break;
    } catch (error) {
      if (error?.code !== 'ERR_ADDRESS_IN_USE' || attempt >= 3) throw error;
    }
  }
  // Closed once, whoever asks first (a test's own Worker is also closed in after()).
  const close = gate.worker.close;
  let closing;
  gate.worker.close = () => {
    closing ??= close();
    return closing;
  };
  workers.push(gate.worker);
  return gate;
}

before(async () => {
  app = mkdtempSync(path.join(tmpdir(), 'freedom-id-edge-assertion-'));
  packAndInstall(app, [], ['--offline']);
  // Imported as an ES module user imports it, by name from a file of theirs.
  writeFileSync(path.join(app, 'load.mjs'), "export { verifyGateAssertion } from 'freedom-id-edge';\n");
  ({ verifyGateAssertion } = await import(pathToFileURL(path.join(app, 'load.mjs')).href));
  [K1, K2, STRANGER] = await Promise.all([makeKey('key-one'), makeKey('key.two_2026-12'), makeKey('key-one')]);
  mock = await startMockFreedomId({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
  const userInfo = { FREEDOM_ID_USERINFO_URL: mock.userInfoUrl };
  signing = await startGate({ ...userInfo, FREEDOM_ID_PROTECT: '/app', FREEDOM_ID_ASSERTION_KEY: JSON.stringify(K1.jwk) });
  rotated = await startGate({
    FREEDOM_ID_PROTECT: '/',
    FREEDOM_ID_ASSERTION_KEY: JSON.stringify([K2.jwk, K1.jwk]),
    FREEDOM_ID_FORWARD_ACCESS_TOKEN: 'on',
  });
  allowing = await startGate({
    ...userInfo,
    FREEDOM_ID_PROTECT: '/app',
    FREEDOM_ID_ASSERTION_KEY: JSON.stringify(K1.jwk),
    FREEDOM_ID_ALLOW: ALLOW,
    FREEDOM_ID_LOG: 'all',
  });
  blind = await startGate({ FREEDOM_ID_PROTECT: '/app', FREEDOM_ID_ALLOW: 'aida@example.com', FREEDOM_ID_LOG: 'all' });
  broken = await startGate({
    FREEDOM_ID_PROTECT: '/app',
    FREEDOM_ID_ALLOW: `aida@example.com ${BAD_RULE}`,
    FREEDOM_ID_ASSERTION_KEY: JSON.stringify({ kty: 'EC', crv: 'P-256', d: BAD_KEY_D, kid: 'no-public-half' }),
    FREEDOM_ID_FORWARD_ACCESS_TOKEN: 'yes',
  });
});

after(async () => {
  await Promise.all(workers.map((worker) => worker.close()));
  await Promise.all(sites.map((site) => site.close()));
  await mock?.close();
  if (app) rmSync(app, { recursive: true, force: true });
});

beforeEach(() => mock.reset());

// ---------------------------------------------------------------------------------------------
// A browser, in small (support/client.mjs).

const call = (worker, target, options) => send(worker, target, { secrets, ...options });
const { startSignIn, decide, finish } = signInSteps({ mock: () => mock, call, secrets });

/** A whole sign-in at `gate`'s Worker (as `user`, if given); a jar holding the session and what it seals. */
async function signedIn(gate, user) {
  if (user) mock.setUser(user);
  const jar = new Jar();
  const { link } = await startSignIn(gate.worker, jar);
  const answer = await finish(gate.worker, jar, await decide(link));
  assert.equal(answer.status, 303, answer.body);
  const session = await unseal(SESSION_SECRET, SESSION, jar.get(SESSION));
  assert.ok(session, 'signed in: the session cookie opens');
  secrets.remember(session.a, session.r);
  return { jar, session };
}

/** A request through the gate that reached the site: the site's record of it (it verified the assertion). */
async function throughGate(gate, target, options) {
  const before = gate.site.count;
  const answer = await call(gate.worker, target, options);
  assert.equal(answer.headers.get('x-origin'), 'verifying-site', `${target} reached the site: ${answer.status} ${answer.body.slice(0, 300)}`);
  assert.equal(gate.site.count, before + 1, 'the site saw it once');
  const seen = gate.site.requests.at(-1);
  secrets.remember(seen.headers['x-freedom-id-access-token']);
  return { answer, seen };
}

/** The X-Freedom-ID-* headers the site received, names folded as a CGI-style site reads them (`_` as `-`, any case). */
const identityHeaders = (seen) =>
  seen.rawHeaders
    .map(([name, value]) => [name.toLowerCase().replaceAll('_', '-'), value])
    .filter(([name]) => name.startsWith('x-freedom-id'));

/** The one assertion the site received. */
function assertionOf(seen) {
  const sent = identityHeaders(seen).filter(([name]) => name === 'x-freedom-id-assertion');
  assert.equal(sent.length, 1, `one assertion: ${JSON.stringify(sent)}`);
  return sent[0][1];
}

/** What the site says of `token` when it arrives straight, not through the gate. */
async function straightToSite(gate, headers) {
  const answer = await fetch(new URL('/app/direct', gate.site.url), { headers });
  const body = await answer.json();
  return { status: answer.status, ...body };
}

/** verifyGateAssertion's refusal of `token` with `options`: its code and problem. */
async function refusal(token, options) {
  try {
    await verifyGateAssertion(token, options);
  } catch (error) {
    assert.ok(!String(error.message).includes(token), 'the message never holds the assertion');
    return { code: error.code, problem: error.details?.problem };
  }
  return { code: null, problem: null };
}

// ---------------------------------------------------------------------------------------------
// The assertion

test('a signed-in request reaches the site with an assertion the packed package verifies: who, for whom, for one minute', async () => {
  const { jar, session } = await signedIn(signing);
  const status = JSON.parse((await call(signing.worker, '/session', { jar })).body);
  const { answer, seen } = await throughGate(signing, '/app/profile?x=1', { jar });
  assert.equal(answer.status, 200, 'the site verified it');
  assert.equal(seen.path, '/app/profile?x=1');
  const token = assertionOf(seen);
  const { header, claims } = decodeToken(token);
  assert.deepEqual(header, { alg: 'ES256', typ: 'JWT', kid: K1.kid });
  assert.deepEqual(Object.keys(claims), ['iss', 'aud', 'sub', 'sid', 'iat', 'exp', 'user']);
  assert.equal(claims.iss, signing.worker.origin, "iss: the Worker's origin, no trailing slash");
  assert.equal(claims.aud, signing.site.url, 'aud: the origin the request was forwarded to');
  assert.equal(claims.sub, DEMO_USER.id, "sub: the user's id");
  assert.equal(claims.sid, session.i, "sid: the token pair's id");
  assert.ok(Number.isInteger(claims.iat) && Math.abs(claims.iat - nowSeconds()) <= 2, `iat is now: ${claims.iat}`);
  assert.equal(claims.exp - claims.iat, LIFETIME);
  assert.deepEqual(claims.user, PROFILE, 'user: the profile');
  assert.deepEqual(claims.user, status.user, 'exactly as /session shows it');
  assert.deepEqual(seen.verified, { sub: DEMO_USER.id, sid: session.i, user: PROFILE, iat: claims.iat, exp: claims.exp });
  assert.equal(token.split('.')[2].length, 86, 'a 64-byte r || s signature');
  // Never to the browser; a fresh one per request.
  assert.ok(![...answer.headers].some(([name, value]) => /assertion/i.test(name) || value.includes(token)), 'not in the answer');
  const again = assertionOf((await throughGate(signing, '/app/profile?x=1', { jar })).seen);
  assert.notEqual(again, token, 'each forwarded request gets its own');
  // The other identity headers are still there; the access token only on request (below).
  assert.deepEqual(
    identityHeaders(seen).map(([name]) => name).sort(),
    ['x-freedom-id-access-expires-at', 'x-freedom-id-assertion', 'x-freedom-id-token-id', 'x-freedom-id-user-id'],
  );
});

test('without a user the subject is the token pair, and user is null', async () => {
  const { jar, session } = await signedIn(rotated);
  const { seen } = await throughGate(rotated, '/anything', { jar });
  assert.deepEqual(seen.verified, { sub: session.i, sid: session.i, user: null, iat: seen.verified.iat, exp: seen.verified.iat + LIFETIME });
  assert.equal(decodeToken(assertionOf(seen)).claims.user, null);
});

test('a client-supplied X-Freedom-ID-Assertion, in any spelling, never reaches the site as sent', async () => {
  const { jar } = await signedIn(signing);
  const captured = assertionOf((await throughGate(signing, '/app', { jar })).seen);
  const forged = await sign(K1, { alg: 'ES256', typ: 'JWT', kid: K1.kid }, { ...decodeToken(captured).claims, sub: 'someone-else' });
  for (const headers of [
    { 'X-Freedom-ID-Assertion': captured },
    { 'x-freedom-id-assertion': forged },
    { x_freedom_id_assertion: forged },
    { 'X_Freedom_ID_Assertion': forged, 'x-freedom-id_assertion': captured },
  ]) {
    const why = JSON.stringify(Object.keys(headers));
    const { answer, seen } = await throughGate(signing, '/app/x', { jar, headers });
    assert.equal(answer.status, 200, why);
    const token = assertionOf(seen);
    assert.ok(![captured, forged].includes(token), `${why}: the gate's own, fresh assertion only`);
    assert.ok(!JSON.stringify(seen.rawHeaders).includes(forged) && !JSON.stringify(seen.rawHeaders).includes(captured), why);
    assert.equal(seen.verified.sub, DEMO_USER.id, why);
  }
  // Without a session a supplied assertion, even a genuine one, is no pass: nothing is forwarded.
  for (const gate of [signing, rotated]) {
    const before = gate.site.count;
    for (const headers of [{ 'X-Freedom-ID-Assertion': captured }, { x_freedom_id_assertion: captured }]) {
      const answer = await call(gate.worker, '/app', { headers, accept: 'application/json' });
      assertProblem(answer, 'SIGN_IN_REQUIRED', 401);
    }
    assert.equal(gate.site.count, before, 'signed out: nothing reached the site');
  }
});

test('a request that did not pass the gate is refused by the verifier: tampered, another key, expired, and the rest', async () => {
  const { jar } = await signedIn(signing);
  const genuine = assertionOf((await throughGate(signing, '/app', { jar })).seen);
  const { claims } = decodeToken(genuine);
  const [h, , s] = genuine.split('.');
  const header = { alg: 'ES256', typ: 'JWT', kid: K1.kid };
  const now = nowSeconds();
  const fresh = { ...claims, iat: now, exp: now + LIFETIME };
  // The crafting is sound: the same claims signed with the Worker's key pass.
  const control = await straightToSite(signing, { 'x-freedom-id-assertion': await sign(K1, header, fresh) });
  assert.equal(control.status, 200, JSON.stringify(control.refused));
  assert.equal(control.verified.sub, DEMO_USER.id);
  const cases = {
    'a changed payload': [`${h}.${b64({ ...claims, sub: '00000000-0000-4000-8000-000000000000' })}.${s}`, 'signature'],
    'a changed user': [`${h}.${b64({ ...claims, user: { ...claims.user, email: 'mallory@example.com' } })}.${s}`, 'signature'],
    'another key under the same kid': [await sign(STRANGER, header, fresh), 'signature'],
    'another key under its own kid': [await sign(STRANGER, { ...header, kid: 'stranger' }, fresh), 'kid'],
    'expired a minute ago': [await sign(K1, header, { ...claims, iat: now - 2 * LIFETIME, exp: now - LIFETIME }), 'exp'],
    'issued in the future': [await sign(K1, header, { ...claims, iat: now + 120, exp: now + 180 }), 'iat'],
    'another issuer': [await sign(K1, header, { ...fresh, iss: 'https://evil.example' }), 'iss'],
    'another audience': [await sign(K1, header, { ...fresh, aud: 'https://other-site.example' }), 'aud'],
    'alg none': [`${b64({ alg: 'none', typ: 'JWT', kid: K1.kid })}.${b64(fresh)}.`, 'alg'],
    'alg HS256': [`${b64({ alg: 'HS256', typ: 'JWT', kid: K1.kid })}.${b64(fresh)}.${s}`, 'alg'],
    'two parts': [`${h}.${b64(fresh)}`, 'malformed'],
  };
  for (const [why, [token, problem]] of Object.entries(cases)) {
    const answer = await straightToSite(signing, { 'x-freedom-id-assertion': token });
    assert.equal(answer.status, 401, `${why}: refused`);
    assert.deepEqual(answer.refused, { code: 'ASSERTION_INVALID', problem }, why);
  }
  // Plain identity headers, as a misrouted request could carry them, prove nothing.
  const plain = await straightToSite(signing, { 'x-freedom-id-user-id': DEMO_USER.id, 'x-freedom-id-token-id': claims.sid });
  assert.deepEqual([plain.status, plain.refused], [401, { code: 'ASSERTION_INVALID', problem: 'malformed' }]);
  // The genuine assertion, checked for another site or against another Worker's keys, is refused too.
  assert.deepEqual(await refusal(genuine, { ...trusting(signing)(), audience: 'http://127.0.0.1:1' }), { code: 'ASSERTION_INVALID', problem: 'aud' });
  assert.deepEqual(await refusal(genuine, { jwks: { keys: [STRANGER.publicJwk] }, issuer: claims.iss, audience: claims.aud }), { code: 'ASSERTION_INVALID', problem: 'signature' });
});

test('key rotation: [new, old] signs with the new key, publishes both, and assertions of the old key still verify by kid', async () => {
  const { jar } = await signedIn(signing);
  const old = assertionOf((await throughGate(signing, '/app', { jar })).seen);
  assert.equal(decodeToken(old).header.kid, K1.kid);
  // The jar works at the rotated Worker too (same session secret, cookies per host).
  const { seen } = await throughGate(rotated, '/app', { jar });
  const signedNew = assertionOf(seen);
  assert.equal(decodeToken(signedNew).header.kid, K2.kid, 'the first key signs');
  assert.ok(seen.verified, `the site verified the new key's assertion: ${JSON.stringify(seen.refused)}`);
  const keys = JSON.parse((await call(rotated.worker, JWKS_PATH)).body).keys;
  assert.deepEqual(keys, [K2.publicJwk, K1.publicJwk], 'both public halves, in the setting\'s order');
  // The old key's assertion, checked against the rotated key set, verifies by its kid.
  const options = { jwksUrl: `${rotated.worker.origin}${JWKS_PATH}`, issuer: signing.worker.origin, audience: signing.site.url };
  const verified = await verifyGateAssertion(old, options);
  assert.equal(verified.sub, DEMO_USER.id);
  assert.deepEqual(await refusal(old, { jwks: { keys: [K2.publicJwk] }, issuer: options.issuer, audience: options.audience }), { code: 'ASSERTION_INVALID', problem: 'kid' }, 'without the old key it would not');
  // A key set without the new key does not verify the new key's assertions.
  assert.deepEqual(
    await refusal(signedNew, { jwksUrl: `${signing.worker.origin}${JWKS_PATH}`, issuer: rotated.worker.origin, audience: rotated.site.url }),
    { code: 'ASSERTION_INVALID', problem: 'kid' },
  );
});

test('/.well-known/jwks.json: the public halves only (never d), cacheable 5 minutes, answered even under FREEDOM_ID_PROTECT=/; 404 without a key', async () => {
  const forwarded = rotated.site.count;
  for (const [gate, expected] of [[signing, [K1]], [rotated, [K2, K1]]]) {
    for (const options of [{}, { accept: BROWSER_ACCEPT }]) {
      const answer = await call(gate.worker, JWKS_PATH, options);
      assert.equal(answer.status, 200, answer.body);
      assert.match(answer.headers.get('content-type'), /^application\/json/);
      assert.equal(answer.headers.get('cache-control'), 'public, max-age=300');
      assert.deepEqual(JSON.parse(answer.body), { keys: expected.map((key) => key.publicJwk) });
      assert.ok(!answer.body.includes('"d"'), 'no d member');
      for (const key of [K1, K2]) assert.ok(!answer.body.includes(key.jwk.d), 'no private half');
      assert.deepEqual(answer.setCookies, []);
    }
  }
  assert.equal(rotated.site.count, forwarded, 'under PROTECT=/ the Worker answers it, the site never sees it');
  const none = await call(blind.worker, JWKS_PATH);
  assertProblem(none, 'NOT_FOUND', 404);
});

test('the access token reaches the site only with FREEDOM_ID_FORWARD_ACCESS_TOKEN=on', async () => {
  const { jar, session } = await signedIn(signing);
  const spoof = { 'X-Freedom-ID-Access-Token': 'spoofed-token-0123456789', x_freedom_id_access_token: 'spoofed-token-abcdefgh' };
  for (const headers of [{}, spoof]) {
    const off = (await throughGate(signing, '/app', { jar, headers })).seen;
    const names = identityHeaders(off).map(([name]) => name);
    assert.ok(!names.includes('x-freedom-id-access-token'), `off (the default): none: ${names}`);
    assert.ok(!JSON.stringify(off.rawHeaders).includes(session.a) && !JSON.stringify(off.rawHeaders).includes('spoofed'), 'not the token, not a client\'s');
    assert.equal(off.headers['x-freedom-id-token-id'], session.i);
    const on = (await throughGate(rotated, '/app', { jar, headers })).seen;
    assert.deepEqual(identityHeaders(on).filter(([name]) => name === 'x-freedom-id-access-token'), [['x-freedom-id-access-token', session.a]], 'on: the token, once');
    assert.ok(!JSON.stringify(on.rawHeaders).includes('spoofed'));
  }
});

// ---------------------------------------------------------------------------------------------
// Who may pass: FREEDOM_ID_ALLOW

const person = (overrides) => ({ id: '0b0b0b0b-1111-4222-8333-444455556666', firstname: 'Test', lastname: 'Person', email: 'someone@elsewhere.kz', phone: '+77019999999', ...overrides });
const LET_IN = {
  'a user id (the rule in capitals)': person({ id: ALLOWED_ID }),
  'an email, whatever its case': person({ email: 'aida@EXAMPLE.com' }),
  'an email domain': person({ email: 'dana@partner.kz' }),
  'a phone, by its digits': person({ phone: '+7 (701) 555-00-11' }),
};
const KEPT_OUT = {
  'no rule matches': person({}),
  'a subdomain of the allowed domain': person({ email: 'dana@mail.partner.kz' }),
  'a lookalike address': person({ email: 'aida@example.com.kz' }),
  'another phone': person({ phone: '+77015550012' }),
  'a neighbouring id': person({ id: `${ALLOWED_ID.slice(0, -1)}c` }),
};

test('FREEDOM_ID_ALLOW: each rule kind lets its user through, and the site learns who', async () => {
  for (const [why, user] of Object.entries(LET_IN)) {
    const { jar } = await signedIn(allowing, user);
    const { answer, seen } = await throughGate(allowing, '/app/x', { jar, accept: BROWSER_ACCEPT });
    assert.equal(answer.status, 200, why);
    assert.equal(seen.verified.sub, user.id, why);
    assert.equal(seen.verified.user.email, user.email, why);
  }
});

/** The ACCESS_DENIED page's texts in `lang`, from the Worker's own tables. */
async function texts(lang) {
  const { readFileSync } = await import('node:fs');
  const source = readFileSync(new URL(`../src/web/i18n/${lang}.rs`, import.meta.url), 'utf8');
  const table = {};
  for (const [, key, raw] of source.matchAll(/\(\s*"([^"]+)",\s*"((?:[^"\\]|\\.)*)"\s*,?\s*\)/g)) {
    table[key] = raw.replace(/\\u\{([0-9a-fA-F]+)\}|\\(.)/g, (_, hex, char) => (hex ? String.fromCodePoint(parseInt(hex, 16)) : char));
  }
  return table;
}

const escapeHtml = (text) => text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

test('FREEDOM_ID_ALLOW stops everyone else: 403 ACCESS_DENIED, a page for browsers in their language, problem+json for the rest, nothing forwarded', async () => {
  const user = KEPT_OUT['no rule matches'];
  const linesBefore = allowing.worker.logs().length;
  for (const [why, someone] of Object.entries(KEPT_OUT)) {
    const { jar } = await signedIn(allowing, someone);
    const before = allowing.site.count;
    assertProblem(await call(allowing.worker, '/app/report?y=1', { jar, accept: 'application/json' }), 'ACCESS_DENIED', 403);
    assertProblem(await call(allowing.worker, '/app/items', { jar, method: 'POST', body: '{}', headers: { origin: allowing.worker.origin } }), 'ACCESS_DENIED', 403);
    const page = await call(allowing.worker, '/app/report?y=1', { jar, accept: BROWSER_ACCEPT });
    assert.equal(page.status, 403, why);
    assert.match(page.body, /<code>ACCESS_DENIED<\/code>/, why);
    assert.equal(allowing.site.count, before, `${why}: nothing reached the site`);
    assert.equal(JSON.parse((await call(allowing.worker, '/session', { jar })).body).signedIn, true, `${why}: still signed in`);
  }
  // The page, in each language as Accept-Language asks.
  const { jar } = await signedIn(allowing, user);
  for (const [acceptLanguage, lang] of [['kk-KZ,kk;q=0.9', 'kk'], ['ru-RU,ru;q=0.9,en;q=0.5', 'ru'], ['en-GB', 'en'], ['de-DE', 'en']]) {
    const t = await texts(lang);
    const page = await call(allowing.worker, '/app/report?y=1', { jar, accept: BROWSER_ACCEPT, headers: { 'accept-language': acceptLanguage } });
    assert.equal(page.status, 403, acceptLanguage);
    assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(page.headers.get('content-language'), lang, acceptLanguage);
    assert.match(page.body, new RegExp(`<html lang="${lang}"`), acceptLanguage);
    assert.match(page.body, new RegExp(`<title>${escapeHtml(t['title.ACCESS_DENIED'])}</title>`), `${acceptLanguage}: the title`);
    assert.match(page.body, new RegExp(`<h1>${escapeHtml(t['title.ACCESS_DENIED'])}</h1>`));
    assert.ok(page.body.includes(`<form method="post" action="/logout"><button type="submit" class="button button-secondary" id="sign-out">${escapeHtml(t['start.sign_out'])}</button>`), `${acceptLanguage}: Sign out`);
    assert.ok(page.body.includes(`<form method="post" action="/logout?then=login&amp;return_to=%2Fapp%2Freport%3Fy%3D1"><button type="submit" class="button" id="sign-in-again">${escapeHtml(t['page.sign_in_again'])}</button>`), `${acceptLanguage}: Sign in with another account`);
    for (const value of [user.email, user.phone, user.id, user.firstname]) assert.ok(!page.body.includes(value), 'the page names nothing of the user');
  }
  // The log: gate_denied with ACCESS_DENIED, nothing of the user.
  await new Promise((resolve) => setTimeout(resolve, 200));
  const denials = allowing.worker.logs().slice(linesBefore).split('\n').filter((line) => line.includes('gate_denied'));
  assert.ok(denials.length >= Object.keys(KEPT_OUT).length * 3, `a gate_denied line per refusal: ${denials.length}`);
  for (const line of denials) {
    const event = JSON.parse(line);
    assert.equal(event.event, 'gate_denied');
    assert.equal(event.code, 'ACCESS_DENIED');
    for (const someone of Object.values(KEPT_OUT)) {
      for (const value of [someone.id, someone.email, someone.phone, someone.firstname, someone.lastname]) assert.ok(!line.includes(value), `nothing of the user in ${line}`);
    }
  }
});

test('ACCESS_DENIED\'s buttons: "Sign in with another account" signs out and starts a sign-in back to the page; "Sign out" goes home', async () => {
  for (const [action, location] of [
    ['/logout?then=login&return_to=%2Fapp%2Freport%3Fy%3D1', '/login?return_to=%2Fapp%2Freport%3Fy%3D1'],
    ['/logout', '/'],
  ]) {
    const { jar } = await signedIn(allowing, KEPT_OUT['no rule matches']);
    const out = await call(allowing.worker, action, { jar, method: 'POST', headers: { origin: allowing.worker.origin } });
    assert.equal(out.status, 303, out.body);
    assert.equal(out.headers.get('location'), location);
    assertCleared(out, SESSION);
    assert.equal(JSON.parse((await call(allowing.worker, '/session', { jar })).body).signedIn, false);
  }
  // Another account then passes, on the page it was refused.
  const jar = new Jar();
  const login = await call(allowing.worker, '/login?return_to=%2Fapp%2Freport%3Fy%3D1', { jar });
  mock.setUser(LET_IN['an email domain']);
  const landed = await finish(allowing.worker, jar, await decide(new URL(login.headers.get('location'))));
  assert.equal(landed.headers.get('location'), '/app/report?y=1');
  assert.equal((await throughGate(allowing, '/app/report?y=1', { jar })).seen.verified.user.email, 'dana@partner.kz');
});

test('a user lacking what the rules need is denied (oauth2 without the user-info call, an email rule), and /healthz warns without failing', async () => {
  const { jar } = await signedIn(blind);
  const before = blind.site.count;
  assertProblem(await call(blind.worker, '/app', { jar, accept: 'application/json' }), 'ACCESS_DENIED', 403);
  assert.equal((await call(blind.worker, '/app', { jar, accept: BROWSER_ACCEPT })).status, 403);
  assert.equal(blind.site.count, before, 'nothing forwarded');
  const health = await call(blind.worker, '/healthz');
  assert.equal(health.status, 200, health.body);
  const { status, warnings } = JSON.parse(health.body);
  assert.equal(status, 'ok');
  assert.equal(warnings.length, 1, health.body);
  assert.match(warnings[0], /FREEDOM_ID_ALLOW/);
  assert.match(warnings[0], /FREEDOM_ID_USERINFO_URL/);
  // With the user-info call the rules can be checked: no warning.
  for (const gate of [allowing, signing, rotated]) assert.deepEqual(JSON.parse((await call(gate.worker, '/healthz')).body), { status: 'ok' });
});

// ---------------------------------------------------------------------------------------------
// Misconfiguration

test('an unparseable FREEDOM_ID_ALLOW, a bad FREEDOM_ID_ASSERTION_KEY, FREEDOM_ID_FORWARD_ACCESS_TOKEN=yes: MISCONFIGURED naming each, never a value', async () => {
  const names = ['FREEDOM_ID_ALLOW', 'FREEDOM_ID_ASSERTION_KEY', 'FREEDOM_ID_FORWARD_ACCESS_TOKEN'];
  const health = await call(broken.worker, '/healthz');
  assert.equal(health.status, 503, health.body);
  const { status, problems } = JSON.parse(health.body);
  assert.equal(status, 'misconfigured');
  assert.deepEqual([...problems].sort(), names);
  // A guarded path goes nowhere while the settings are broken.
  const guarded = await call(broken.worker, '/app', { accept: 'application/json' });
  assert.notEqual(guarded.status, 200);
  assert.equal(guarded.headers.get('x-origin'), null);
  for (const target of ['/login', JWKS_PATH]) {
    const answer = await call(broken.worker, target, { accept: 'application/json' });
    const problem = assertProblem(answer, 'MISCONFIGURED', 500);
    for (const name of names) assert.match(problem.detail, new RegExp(name), `${target}: the detail names ${name}`);
    for (const value of [BAD_RULE, BAD_KEY_D, 'no-public-half', 'aida@example.com']) assert.ok(!answer.body.includes(value), `${target}: never echoes ${value}`);
  }
  assert.equal(broken.site.count, 0);
  const logs = broken.worker.logs();
  for (const value of [BAD_RULE, BAD_KEY_D]) assert.ok(!logs.includes(value), 'nor logs it');
});

test('a key WebCrypto refuses (its public half not on the curve): the gate answers MISCONFIGURED naming FREEDOM_ID_ASSERTION_KEY, and forwards nothing', async () => {
  const offCurve = { ...K1.jwk, kid: 'off-curve', y: Buffer.alloc(32, 7).toString('base64url') };
  const gate = await startGate({ FREEDOM_ID_PROTECT: '/app', FREEDOM_ID_ASSERTION_KEY: JSON.stringify(offCurve) });
  try {
    const { jar } = await signedIn(gate);
    const answer = await call(gate.worker, '/app', { jar, accept: 'application/json' });
    const problem = assertProblem(answer, 'MISCONFIGURED', 500);
    assert.match(problem.detail, /FREEDOM_ID_ASSERTION_KEY/);
    assert.ok(!answer.body.includes(K1.jwk.d) && !answer.body.includes(offCurve.y), 'never echoes the key');
    assert.equal(gate.site.count, 0, 'nothing forwarded without its assertion');
  } finally {
    await gate.worker.close();
  }
});

// ---------------------------------------------------------------------------------------------
// Last: the logs

test('no log line of any Worker here holds an assertion, a private key, a token or a claim of the user', async () => {
  await new Promise((resolve) => setTimeout(resolve, 200));
  const claims = [DEMO_USER.id, DEMO_USER.email, DEMO_USER.phone, DEMO_USER.firstname, DEMO_USER.lastname];
  let lines = 0;
  for (const worker of workers) {
    for (const line of worker.logs().split('\n').filter(Boolean)) {
      lines += 1;
      assert.ok(!line.includes('eyJ'), `no JWT in ${line}`);
      for (const secret of secrets) assert.ok(!line.includes(secret), `no secret in ${line}`);
      for (const claim of claims) assert.ok(!line.includes(claim), `no claim of the user in ${line}`);
    }
  }
  assert.ok(lines > 10, `read the Workers' lines (${lines})`);
});
