// Who signed in (issue 21), end to end: the built wasm in workerd (Miniflare), driven over HTTP
// like a browser against the mock Freedom ID. In the OpenID Connect flavour
// (FREEDOM_ID_PROTOCOL=oidc) /login builds the authorization URL itself and calls nobody,
// /callback checks the state, exchanges the code at the OIDC token URL and checks the id_token
// (its signature too, with real WebCrypto, when FREEDOM_ID_JWKS_URL is set); the session keeps
// the user and ends with its access token, never refreshed. FREEDOM_ID_USERINFO_URL adds the
// user's profile in both flavours. The user shows in /session and as X-Freedom-ID-User-Id at
// the gate, never in a log line. Every fault of the OIDC token and user-info endpoints has its
// code (support/faults.mjs). Needs `make build-worker` first.
// One file: one mock Freedom ID and one site behind the gate, shared by five Worker
// configurations started once (oidc, oidc with the key set, oidc and oauth2 with the user-info
// call, oauth2 without it), plus a Worker with a mock of its own for key rotation, its first
// key set fetched in before() so the rotation test near the end can wait out the minute an
// unknown kid must wait; misconfigured Workers are started by their test. Split below (the OIDC
// sign-in, its id_token faults, the key set, the user-info call, the gate, misconfiguration, and
// the log sweep over everything the Workers printed, last).
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { DEMO_USER, PROFILE_FIELDS, SIGNING_ALGS, startMockFreedomId } from './support/mock-freedom-id.mjs';
import { BASIC_CREDENTIALS as BASIC, CLIENT_ID, CLIENT_SECRET, SESSION_SECRET, WORKER_ORIGIN, startWorker, workingBindings } from './support/worker.mjs';
import { Jar } from './support/jar.mjs';
import { unseal } from './support/seal.mjs';
import { startOriginServer } from './support/origin-server.mjs';
import { OIDC_TOKEN_FAULTS, USERINFO_FAULTS, fault } from './support/faults.mjs';
import {
  ATTRIBUTES, BROWSER_ACCEPT, FLOW_PREFIX, SESSION, Secrets,
  assertCleared, assertHtmlProblem, assertProblem, send, setCookieFor, signInSteps,
} from './support/client.mjs';

const AFTER_SIGN_IN = '/welcome';
const FLOW_MAX_AGE = 900;
/** The grants of the test deployments (workingBindings), as the OIDC `scope` carries them. */
const SCOPE = 'openid read.email read.phone';
const OIDC_PARAMETERS = ['scope', 'state', 'response_type', 'client_id', 'redirect_uri', 'nonce'];
/** The longest sealed cookie a browser keeps, name and `=` included. */
const MAX_COOKIE_BYTES = 4096;
/** How long an unknown kid waits before the Worker fetches the key set again (README). */
const REFETCH_GAP_MS = 60_000;
/** The user as the Worker keeps it: the id and the ten profile fields, never `cards`. */
const PROFILE = Object.freeze(Object.fromEntries([['id', DEMO_USER.id], ...PROFILE_FIELDS.map((f) => [f, DEMO_USER[f]])]));
/** What the id_token alone tells in these deployments: its `sub`, and a claim per `read.*` grant. */
const FROM_ID_TOKEN = Object.freeze({ id: DEMO_USER.id, email: DEMO_USER.email, phone: DEMO_USER.phone });
/** The log contract's keys (logs.test.mjs) and the codes this file's failures may carry. */
const LOG_KEYS = new Set(['event', 'code', 'upstream_status', 'elapsed_ms', 'request_id', 'token_id', 'problems']);

let mock;
let site; // the site behind the gate of oidc, oauth2Info and oauth2Plain
let oidc; // FREEDOM_ID_PROTOCOL=oidc, no key set, no user-info; PROTECT /app; FREEDOM_ID_LOG=all
let oidcJwks; // oidc with FREEDOM_ID_JWKS_URL: the mock's key set
let oidcInfo; // oidc with FREEDOM_ID_USERINFO_URL
let oauth2Info; // oauth2 with FREEDOM_ID_USERINFO_URL; PROTECT /app; FREEDOM_ID_LOG=all
let oauth2Plain; // oauth2, no user-info (the user unknown); PROTECT /app
let rotatingMock; // the key-rotation test's own Freedom ID: its keys change
let rotating; // oidc with rotatingMock's key set
let rotatingFirstFetch; // Date.now() of rotating's first key set fetch (in before())
/** Every Worker this file started, for the log sweep. */
const workers = [];
/** Every secret value seen during the file (tokens, codes, states, nonces, cookie values, ...). */
const secrets = new Secrets([CLIENT_SECRET, BASIC, SESSION_SECRET]);
const remember = (...values) => secrets.remember(...values);

/** The settings of an oidc deployment pointed at `idp`. */
const oidcBindings = (idp, overrides = {}) =>
  workingBindings(idp, {
    FREEDOM_ID_PROTOCOL: 'oidc',
    FREEDOM_ID_OIDC_AUTHORIZE_URL: idp.oidcAuthorizeUrl,
    FREEDOM_ID_OIDC_TOKEN_URL: idp.oidcTokenUrl,
    FREEDOM_ID_ISSUER: idp.issuer,
    FREEDOM_ID_AFTER_SIGN_IN: AFTER_SIGN_IN,
    ...overrides,
  });

/**
 * startWorker, remembered for the log sweep (a test's own Worker too, once closed: its close()
 * runs once); tried again when the port it picked was taken meanwhile.
 */
async function start(bindings, options) {
  for (let attempt = 1; ; attempt += 1) {
    try {
      const worker = await startWorker(bindings, options);
      const close = worker.close;
      let closing;
      worker.close = () => {
        closing ??= close();
        return closing;
      };
      workers.push(worker);
      return worker;
    } catch (error) {
      if (error?.code !== 'ERR_ADDRESS_IN_USE' || attempt >= 3) throw error;
    }
  }
}

before(async () => {
  [mock, rotatingMock, site] = await Promise.all([
    startMockFreedomId({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }),
    startMockFreedomId({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }),
    startOriginServer(),
  ]);
  const gate = { FREEDOM_ID_PROTECT: '/app', FREEDOM_ID_APP_ORIGIN: site.url, FREEDOM_ID_FORWARD_ACCESS_TOKEN: 'on' };
  // One after another: startWorker picks a free port before Miniflare binds it.
  oidc = await start(oidcBindings(mock, { ...gate, FREEDOM_ID_LOG: 'all' }));
  oidcJwks = await start(oidcBindings(mock, { FREEDOM_ID_JWKS_URL: mock.jwksUrl, FREEDOM_ID_LOG: 'all' }));
  oidcInfo = await start(oidcBindings(mock, { FREEDOM_ID_USERINFO_URL: mock.userInfoUrl, FREEDOM_ID_LOG: 'all' }));
  oauth2Info = await start(workingBindings(mock, {
    ...gate, FREEDOM_ID_USERINFO_URL: mock.userInfoUrl, FREEDOM_ID_AFTER_SIGN_IN: AFTER_SIGN_IN, FREEDOM_ID_LOG: 'all',
  }));
  oauth2Plain = await start(workingBindings(mock, { ...gate, FREEDOM_ID_AFTER_SIGN_IN: AFTER_SIGN_IN }));
  rotating = await start(oidcBindings(rotatingMock, { FREEDOM_ID_JWKS_URL: rotatingMock.jwksUrl }));
  // The rotating Worker's first sign-in fetches the key set now; the rotation test waits out
  // the rest of the minute after it.
  const { answer } = await signInOidc(rotating, new Jar(), { idp: rotatingMock });
  assert.equal(answer.status, 303, answer.body);
  assert.equal(jwksFetches(rotatingMock), 1);
  rotatingFirstFetch = Date.now();
});

after(async () => {
  await Promise.all(workers.map((worker) => worker.close()));
  await Promise.all([mock?.close(), rotatingMock?.close(), site?.close()]);
});

beforeEach(() => {
  mock.reset();
  rotatingMock.reset();
});

// ---------------------------------------------------------------------------------------------
// A browser, in small (support/client.mjs): a cookie jar, requests, the mock's pages clicked through.

const call = (worker, path, options) => send(worker, path, { secrets, ...options });
const { startSignIn, decide, finish } = signInSteps({ mock: () => mock, call, secrets });
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const nowSeconds = () => Math.floor(Date.now() / 1000);

const requestsTo = (idp, endpoint) => idp.requests.filter((r) => r.endpoint === endpoint);
const jwksFetches = (idp) => requestsTo(idp, 'jwks').length;
/** Upstream calls the Worker made (the browser's own visits to the mock's pages left out). */
const workerCalls = (idp) => idp.requests.filter((r) => r.endpoint !== 'openid');

/**
 * GET /login in the OIDC flavour: 302 to the mock's /openid with exactly the six parameters, no
 * upstream call, a sealed 15-minute flow cookie holding the state and the nonce. Answers the
 * link, the state, the nonce, the flow cookie's name and the answer.
 */
async function startOidc(worker, jar, { idp = mock, returnTo, redirectUri = `${worker.origin}/callback`, scope = SCOPE } = {}) {
  const before = idp.requests.length;
  const query = returnTo === undefined ? '' : `?return_to=${encodeURIComponent(returnTo)}`;
  const answer = await call(worker, `/login${query}`, { jar });
  assert.equal(answer.status, 302, answer.body);
  assert.equal(answer.headers.get('cache-control'), 'no-store');
  assert.deepEqual(idp.requests.slice(before), [], '/login makes no upstream call in oidc');
  const link = new URL(answer.headers.get('location'));
  assert.equal(`${link.origin}${link.pathname}`, idp.oidcAuthorizeUrl, 'FREEDOM_ID_OIDC_AUTHORIZE_URL');
  const names = [...link.searchParams.keys()];
  assert.deepEqual([...names].sort(), [...OIDC_PARAMETERS].sort(), `exactly the six parameters, each once: ${link.search}`);
  const param = (name) => link.searchParams.get(name);
  assert.equal(param('scope'), scope);
  assert.equal(param('response_type'), 'code');
  assert.equal(param('client_id'), CLIENT_ID);
  assert.equal(param('redirect_uri'), redirectUri, 'FREEDOM_ID_REDIRECT_URI exactly as set: no state appended');
  const state = param('state');
  const nonce = param('nonce');
  for (const value of [state, nonce]) assert.match(value, /^[A-Za-z0-9_-]{43,}$/, '256 bits, URL-safe');
  assert.notEqual(state, nonce);
  remember(state, nonce);
  const flowName = `${FLOW_PREFIX}${state.slice(0, 16)}`;
  const line = setCookieFor(answer, flowName);
  const [, value] = new RegExp(`^${flowName}=([A-Za-z0-9_-]+); ${ATTRIBUTES}; Max-Age=${FLOW_MAX_AGE}$`).exec(line ?? '') ?? [];
  assert.ok(value, `the flow cookie: ${JSON.stringify(answer.setCookies)}`);
  assert.ok(!value.includes(state) && !value.includes(nonce), 'sealed, not in clear');
  const flow = await unseal(SESSION_SECRET, flowName, value);
  assert.equal(flow?.s, state, 'the flow keeps the state');
  assert.equal(flow.n, nonce, 'and the nonce');
  return { link, state, nonce, flowName, answer };
}

/** The mock's OIDC page: GET the link, POST Allow or Decline; answers the URL it sends the browser back to. */
async function decideOidc(link, decision = 'allow') {
  const page = await fetch(link);
  const html = await page.text();
  assert.equal(page.status, 200, html);
  const [, requestId] = /name="request_id" value="([^"]+)"/.exec(html) ?? [];
  assert.ok(requestId, 'the page has a request to decide');
  const answer = await fetch(new URL('/openid/decide', link), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ request_id: requestId, decision }).toString(),
  });
  assert.equal(answer.status, 303);
  const back = new URL(answer.headers.get('location'));
  remember(back.searchParams.get('code'));
  return back;
}

/** A whole OIDC sign-in through the mock's page; answers the callback's answer with the flow's values. */
async function signInOidc(worker, jar, { decision = 'allow', ...options } = {}) {
  const started = await startOidc(worker, jar, options);
  const back = await decideOidc(started.link, decision);
  const answer = await finish(worker, jar, back);
  return { ...started, back, code: back.searchParams.get('code'), answer };
}

/** A whole OAuth2 sign-in (the authorization link); answers the callback's answer. */
async function signInOauth2(worker, jar) {
  const { link, flowName } = await startSignIn(worker, jar);
  const back = await decide(link);
  return { answer: await finish(worker, jar, back), flowName };
}

/** The session sealed in a Set-Cookie line of `answer`; its tokens remembered. */
async function openSessionOf(answer) {
  const line = setCookieFor(answer, SESSION);
  assert.ok(line, `a session cookie: ${answer.status} ${JSON.stringify(answer.setCookies)}`);
  const [, pair, value, maxAge] = new RegExp(`^((?:${SESSION})=([A-Za-z0-9_-]+)); ${ATTRIBUTES}; Max-Age=(\\d+)$`).exec(line) ?? [];
  assert.ok(value, `session Set-Cookie shape: ${line}`);
  assert.ok(Buffer.byteLength(pair) <= MAX_COOKIE_BYTES, `the sealed cookie fits ${MAX_COOKIE_BYTES} bytes: ${Buffer.byteLength(pair)}`);
  const session = await unseal(SESSION_SECRET, SESSION, value);
  assert.ok(session, 'the session cookie opens');
  remember(session.a, session.r);
  return { value, session, maxAge: Number(maxAge), cookieBytes: Buffer.byteLength(pair) };
}

/** A signed-in /callback answer of the OIDC flavour: 303 to `landing`, the flow cleared, the session sealed without refresh. */
async function assertOidcSignedIn(answer, { flowName, landing = AFTER_SIGN_IN }) {
  assert.equal(answer.status, 303, answer.body);
  assert.equal(answer.headers.get('location'), landing);
  assert.equal(answer.headers.get('cache-control'), 'no-store');
  assertCleared(answer, flowName);
  const opened = await openSessionOf(answer);
  const { session, maxAge } = opened;
  assert.equal(session.o, true, 'an OIDC session cannot be refreshed');
  assert.equal(session.u?.id, DEMO_USER.id, "the user is sealed: the id_token's sub");
  assert.ok(Math.abs(session.b - nowSeconds()) <= 2, 'the sign-in time');
  // The cookie lives as long as the access token (no refresh token to outlive it).
  assert.ok(Math.abs(maxAge - (session.ae - nowSeconds())) <= 2, `Max-Age ${maxAge}, access token until ${session.ae}`);
  return opened;
}

/** A failed /callback: the code's problem, and nothing sealed. */
function assertSignInFailed(answer, code, status, why) {
  assertProblem(answer, code, status);
  assert.equal(setCookieFor(answer, SESSION), undefined, `${why}: no session cookie is set`);
}

/** GET /session as JSON; a signed-in answer has exactly its four members, and never a token. */
async function sessionStatus(worker, jar) {
  const answer = await call(worker, '/session', { jar });
  assert.equal(answer.status, 200, answer.body);
  assert.equal(answer.headers.get('cache-control'), 'no-store');
  const json = JSON.parse(answer.body);
  if (json.signedIn) assert.deepEqual(Object.keys(json), ['signedIn', 'accessExpiresAt', 'refreshExpiresAt', 'user']);
  for (const secret of secrets) assert.ok(!answer.body.includes(secret), '/session never shows a token, code, state or nonce');
  return { ...answer, json };
}

/** A forwarded request's answer: 200 from the site, its echo parsed. */
function siteEcho(answer, why = '') {
  assert.equal(answer.status, 200, `${why} forwarded: ${answer.body.slice(0, 300)}`);
  assert.equal(answer.headers.get('x-origin'), 'test-origin', `${why} answered by the site`);
  const echo = JSON.parse(answer.body);
  remember(echo.headers['x-freedom-id-access-token']);
  return echo;
}

/** The X-Freedom-ID-* headers the site saw, names folded as a CGI-style site reads them (`_` as `-`, any case). */
const identityHeaders = (echo) =>
  echo.rawHeaders
    .map(([name, value]) => [name.toLowerCase().replaceAll('_', '-'), value])
    .filter(([name]) => name.startsWith('x-freedom-id-'));

// ---------------------------------------------------------------------------------------------
// The OIDC sign-in

test('oidc: GET /login answers 302 to the locally built /openid URL, with a fresh state and nonce in the flow cookie, calling nobody', async () => {
  const jar = new Jar();
  const one = await startOidc(oidc, jar, { returnTo: '/app/page?x=1' });
  const flow = await unseal(SESSION_SECRET, one.flowName, jar.get(one.flowName));
  assert.equal(flow.r, '/app/page?x=1');
  assert.ok(Math.abs(flow.t - nowSeconds()) <= 2);
  const two = await startOidc(oidc, jar);
  assert.notEqual(two.state, one.state, 'a fresh state per sign-in');
  assert.notEqual(two.nonce, one.nonce, 'a fresh nonce per sign-in');
  assert.deepEqual(jar.names(FLOW_PREFIX), [one.flowName, two.flowName]);
  // HEAD /login too, and still nobody called.
  const head = await call(oidc, '/login', { method: 'HEAD', apply: false });
  assert.equal(head.status, 302);
  assert.equal(new URL(head.headers.get('location')).pathname, '/openid');
  assert.deepEqual(mock.requests, [], 'no upstream call at all');
});

test('oidc: Allow on the mock\'s page comes back to /callback and signs in; /session shows the user and refreshExpiresAt null', async () => {
  const jar = new Jar();
  const { answer, flowName, code, back } = await signInOidc(oidc, jar, { returnTo: '/after?x=1' });
  assert.deepEqual([...back.searchParams.keys()].sort(), ['code', 'state']);
  const { session } = await assertOidcSignedIn(answer, { flowName, landing: '/after?x=1' });
  assert.equal(mock.codeStatus(code).spent, true);
  // The exchange: POST to the OIDC token URL, Basic auth, the three members.
  const exchanges = requestsTo(mock, 'oidc-token');
  assert.equal(exchanges.length, 1);
  assert.equal(exchanges[0].method, 'POST');
  assert.equal(exchanges[0].headers.authorization, `Basic ${BASIC}`);
  assert.deepEqual(JSON.parse(exchanges[0].body), { code, redirect_uri: `${oidc.origin}/callback`, grant_type: 'authorization_code' });
  assert.deepEqual(workerCalls(mock).map((r) => r.endpoint), ['oidc-token'], 'one upstream call: no key set, no user-info, no OAuth2 call');
  assert.match(session.a, /^[A-Za-z0-9]{128}$/);
  assert.equal(session.i, null, 'no token pair id in this flavour');
  for (const secret of [session.a, session.r, code]) {
    assert.ok(!JSON.stringify([...answer.headers]).includes(secret), 'no token or code in the answer');
  }
  assert.deepEqual(jar.names(), [SESSION]);
  const status = await sessionStatus(oidc, jar);
  assert.deepEqual(status.json, { signedIn: true, accessExpiresAt: session.ae, refreshExpiresAt: null, user: FROM_ID_TOKEN });
  assert.ok(Math.abs(session.ae - (nowSeconds() + 3600)) <= 2, "expires_in: the mock's hour");
  assert.deepEqual(status.setCookies, []);
  assert.equal(workerCalls(mock).length, 1, '/session costs no upstream call');
});

test('oidc: /callback also takes `authorization_code` for the code', async () => {
  const jar = new Jar();
  const { link, flowName } = await startOidc(oidc, jar);
  const back = await decideOidc(link);
  const answer = await call(oidc, `/callback?authorization_code=${back.searchParams.get('code')}&state=${back.searchParams.get('state')}`, { jar });
  await assertOidcSignedIn(answer, { flowName });
});

test('oidc: the session ends when its access token does, with no refresh call', async () => {
  mock.setTokenLifetimes({ accessTtlSeconds: 3 });
  const jar = new Jar();
  const { answer, flowName } = await signInOidc(oidc, jar);
  const { session, maxAge } = await assertOidcSignedIn(answer, { flowName });
  assert.ok(maxAge <= 3, `the cookie lives as long as the access token: Max-Age ${maxAge}`);
  assert.equal((await sessionStatus(oidc, jar)).json.signedIn, true, 'signed in while the access token lives');
  // Close to expiry (where an OAuth2 session would refresh), still no upstream call.
  assert.equal(siteEcho(await call(oidc, '/app/x', { jar: jar.clone() })).headers['x-freedom-id-user-id'], DEMO_USER.id);
  await sleep(Math.max(0, session.ae * 1000 - Date.now()) + 100);
  const over = await sessionStatus(oidc, jar.clone());
  assert.deepEqual(over.json, { signedIn: false });
  assertCleared(over, SESSION);
  const gated = await call(oidc, '/app/x', { jar: jar.clone(), accept: BROWSER_ACCEPT });
  assert.equal(gated.status, 302, 'the gate sends a browser to sign in again');
  assert.match(gated.headers.get('location'), /^\/login\?return_to=/);
  assert.deepEqual(workerCalls(mock).map((r) => r.endpoint), ['oidc-token'], 'never a refresh (no PATCH), nor any other call');
});

test('oidc: Decline on the mock\'s page is SIGN_IN_DECLINED (a page with "Try again" for a browser), and so is error_code; no token call', async () => {
  const { answer, back } = await signInOidc(oidc, new Jar(), { decision: 'decline' });
  assert.equal(back.searchParams.get('error'), 'access_denied');
  assertSignInFailed(answer, 'SIGN_IN_DECLINED', 403, 'Decline');
  const jar = new Jar();
  const { link } = await startOidc(oidc, jar);
  const page = await finish(oidc, jar, await decideOidc(link, 'decline'), { accept: BROWSER_ACCEPT });
  assertHtmlProblem(page, 'SIGN_IN_DECLINED', 403);
  assert.match(page.body, /<a class="button" href="\/login">/);
  const { state } = await startOidc(oidc, jar);
  assertSignInFailed(await call(oidc, `/callback?error_code=100200&state=${state}`, { jar }), 'SIGN_IN_DECLINED', 403, 'error_code');
  assert.deepEqual(requestsTo(mock, 'oidc-token'), [], 'a declined sign-in exchanges nothing');
});

test('oidc: a wrong or missing state is STATE_MISMATCH before the code is spent; the right one still signs in', async () => {
  const jar = new Jar();
  const { link, state, flowName } = await startOidc(oidc, jar);
  const back = await decideOidc(link);
  const code = back.searchParams.get('code');
  const other = `${state.slice(0, 16)}${'A'.repeat(state.length - 16)}`; // the same flow cookie named, another state
  for (const query of [`code=${code}&state=${other}`, `code=${code}`, `code=${code}&state=x${state}`]) {
    const answer = await call(oidc, `/callback?${query}`, { jar: jar.clone() });
    assertSignInFailed(answer, 'STATE_MISMATCH', 403, query);
  }
  // Without the flow cookie (another browser) too.
  assertSignInFailed(await call(oidc, `${back.pathname}${back.search}`), 'STATE_MISMATCH', 403, 'no flow cookie');
  assert.deepEqual(requestsTo(mock, 'oidc-token'), [], 'no token call');
  assert.equal(mock.codeStatus(code).spent, false, 'the code is not spent');
  await assertOidcSignedIn(await finish(oidc, jar, back), { flowName });
});

test('oidc: a sub no header can carry (a space, a quote, a control or non-ASCII character) is ID_TOKEN_INVALID, nothing sealed', async () => {
  for (const id of ['user 1', 'user"1', 'user\\1', 'user\u00e91', 'user\t1']) {
    mock.reset();
    mock.setUser({ ...PROFILE, id });
    const { answer } = await signInOidc(oidc, new Jar());
    assertSignInFailed(answer, 'ID_TOKEN_INVALID', 502, JSON.stringify(id));
  }
});

test('oidc: FREEDOM_ID_REDIRECT_URI with a query of its own is sent exactly as set, and the callback still signs in', async () => {
  const worker = await start(oidcBindings(mock, { FREEDOM_ID_REDIRECT_URI: `${WORKER_ORIGIN}/callback?from=freedom-id` }));
  try {
    const jar = new Jar();
    const { answer, flowName, back } = await signInOidc(worker, jar, { redirectUri: `${worker.origin}/callback?from=freedom-id` });
    assert.equal(back.searchParams.get('from'), 'freedom-id');
    await assertOidcSignedIn(answer, { flowName });
    assert.equal(JSON.parse(requestsTo(mock, 'oidc-token')[0].body).redirect_uri, `${worker.origin}/callback?from=freedom-id`);
  } finally {
    await worker.close();
  }
});

// ---------------------------------------------------------------------------------------------
// The id_token and the OIDC token endpoint's faults (support/faults.mjs)

/** One sign-in on `worker` with the OIDC token endpoint in `mode` (and id_tokens signed with `alg`). */
async function oidcFaultSignIn(worker, mode, alg) {
  mock.reset();
  if (alg) mock.setSigningAlg(alg);
  mock.setOidcTokenMode(mode);
  const jar = new Jar();
  const signIn = await signInOidc(worker, jar);
  return { ...signIn, jar };
}

/** Walks every row of OIDC_TOKEN_FAULTS on `worker`, `step` the row's expected outcome there. */
async function walkOidcTokenFaults(worker, step, alg) {
  let fetches = 0;
  for (const row of OIDC_TOKEN_FAULTS) {
    const { code, status } = row[step];
    const why = `${row.mode}${alg ? ` (${alg})` : ''}`;
    const { answer, flowName, code: spent, jar } = await oidcFaultSignIn(worker, row.mode, alg);
    fetches += jwksFetches(mock);
    if (code === null) {
      await assertOidcSignedIn(answer, { flowName });
      const status = await sessionStatus(worker, jar);
      assert.deepEqual(status.json.user, FROM_ID_TOKEN, `${why}: who signed in`);
      assert.equal(status.json.refreshExpiresAt, null);
    } else {
      assertSignInFailed(answer, code, status, why);
      assert.deepEqual(jar.names(SESSION), [], `${why}: nothing sealed`);
      assert.deepEqual((await sessionStatus(worker, jar)).json, { signedIn: false }, `${why}: signed out`);
    }
    if (row.spendsCode) assert.equal(mock.codeStatus(spent).spent, true, `${why}: the exchange ran`);
    assert.equal(requestsTo(mock, 'oidc-token').length, 1, `${why}: one exchange`);
  }
  return fetches;
}

test('oidc without a key set: every mode of the OIDC token endpoint has its code (the id_token rules ID_TOKEN_INVALID, nothing sealed), the signature unchecked', async () => {
  const fetches = await walkOidcTokenFaults(oidc, 'exchange');
  assert.equal(fetches, 0, 'no key set: never fetched');
  // The rows a checked signature alone would catch sign in here (OIDC Core 3.1.3.7, step 6).
  for (const mode of ['bad-signature', 'unknown-kid']) assert.equal(fault(OIDC_TOKEN_FAULTS, mode).exchange.code, null);
  assert.equal(fault(OIDC_TOKEN_FAULTS, 'alg-none').exchange.code, 'ID_TOKEN_INVALID', 'alg none is refused even unchecked');
});

for (const alg of SIGNING_ALGS) {
  test(`oidc with FREEDOM_ID_JWKS_URL, id_tokens signed ${alg}: every mode has its code, signatures verified with WebCrypto in workerd`, async () => {
    const fetches = await walkOidcTokenFaults(oidcJwks, 'exchangeWithJwks', alg);
    assert.ok(fetches <= 2, `the key set is kept, not fetched per sign-in: ${fetches} fetches for ${OIDC_TOKEN_FAULTS.length} sign-ins`);
    // The key set request: a plain GET, no credentials.
    mock.reset();
    mock.setSigningAlg(alg);
    const { answer, flowName } = await signInOidc(oidcJwks, new Jar());
    await assertOidcSignedIn(answer, { flowName });
    assert.equal(jwksFetches(mock), 0, 'a known kid: the kept set, no fetch');
  });
}

test('oidc with a key set: the set is fetched with a plain GET, no credentials', async () => {
  const worker = await start(oidcBindings(mock, { FREEDOM_ID_JWKS_URL: mock.jwksUrl }));
  try {
    const { answer, flowName } = await signInOidc(worker, new Jar());
    await assertOidcSignedIn(answer, { flowName });
    const [fetch, ...more] = requestsTo(mock, 'jwks');
    assert.equal(more.length, 0, 'one fetch');
    assert.equal(fetch.method, 'GET');
    assert.equal(fetch.headers.authorization, undefined, 'the key set is public: no credentials sent');
    assert.equal(fetch.headers['accept-encoding'], 'identity');
    assert.deepEqual(workerCalls(mock).map((r) => r.endpoint), ['oidc-token', 'jwks'], 'exchange, then the key set');
  } finally {
    await worker.close();
  }
});

// ---------------------------------------------------------------------------------------------
// The user's profile (FREEDOM_ID_USERINFO_URL)

/** One sign-in on `worker` (`flavour` oidc or oauth2) with the user-info endpoint in `mode`. */
async function userInfoSignIn(worker, flavour, mode) {
  mock.reset();
  mock.setUserInfoMode(mode);
  const jar = new Jar();
  const { answer, flowName } = flavour === 'oidc' ? await signInOidc(worker, jar) : await signInOauth2(worker, jar);
  return { answer, flowName, jar };
}

/** What `/session` must show after a user-info answer in `mode` (`row`), in `flavour`. */
function expectedUser(row, flavour) {
  const user = { ...PROFILE };
  for (const field of row.drops) {
    // Too long to keep: in oidc the id_token's claim of that name (if any) stands in.
    if (flavour === 'oidc' && field in FROM_ID_TOKEN) user[field] = FROM_ID_TOKEN[field];
    else delete user[field];
  }
  return user;
}

for (const [flavour, worker] of [['oidc', () => oidcInfo], ['oauth2', () => oauth2Info]]) {
  test(`${flavour} with FREEDOM_ID_USERINFO_URL: /session shows the user's profile (the ten fields, never cards), from one user-info call`, async () => {
    const jar = new Jar();
    const { answer, flowName } = flavour === 'oidc' ? await signInOidc(worker(), jar) : await signInOauth2(worker(), jar);
    assert.equal(answer.status, 303, answer.body);
    assertCleared(answer, flowName);
    const { session } = await openSessionOf(answer);
    const status = await sessionStatus(worker(), jar);
    assert.deepEqual(status.json.user, PROFILE, 'the profile: the ten known fields only');
    assert.ok(!status.body.includes('cards') && !status.body.includes(DEMO_USER.cards[0].mask), 'cards ignored');
    assert.deepEqual(session.u, PROFILE, 'the user is sealed as it shows');
    if (flavour === 'oidc') assert.equal(status.json.refreshExpiresAt, null);
    else assert.equal(status.json.refreshExpiresAt, session.re);
    const calls = requestsTo(mock, 'userinfo');
    assert.equal(calls.length, 1, 'once per sign-in');
    assert.equal(calls[0].method, 'GET');
    assert.equal(calls[0].path, '/api/v1/user/info');
    assert.equal(calls[0].headers.authorization, `Bearer ${session.a}`);
    assert.equal(calls[0].headers.accept, 'application/json');
    assert.equal(calls[0].headers['accept-encoding'], 'identity');
    assert.deepEqual(
      workerCalls(mock).map((r) => r.endpoint),
      flavour === 'oidc' ? ['oidc-token', 'userinfo'] : ['authorize', 'token', 'userinfo'],
      'right after the exchange',
    );
    // Reading the session again costs no further user-info call.
    await sessionStatus(worker(), jar);
    assert.equal(requestsTo(mock, 'userinfo').length, 1);
  });

  test(`${flavour} with FREEDOM_ID_USERINFO_URL: every mode of the user-info endpoint has its code, nothing sealed on a failure`, async () => {
    for (const row of USERINFO_FAULTS) {
      const { code, status } = row[flavour];
      const why = `${flavour} ${row.mode}`;
      const { answer, flowName, jar } = await userInfoSignIn(worker(), flavour, row.mode);
      assert.equal(requestsTo(mock, 'userinfo').length, 1, `${why}: one user-info call`);
      if (code !== null) {
        assertSignInFailed(answer, code, status, why);
        assert.deepEqual((await sessionStatus(worker(), jar)).json, { signedIn: false }, `${why}: signed out`);
        continue;
      }
      assert.equal(answer.status, 303, `${why}: ${answer.body}`);
      assertCleared(answer, flowName);
      const { cookieBytes } = await openSessionOf(answer);
      const { user } = (await sessionStatus(worker(), jar)).json;
      assert.equal(user.id, DEMO_USER.id, `${why}: the id is always kept`);
      if (row.overflowsCookie) {
        // Each field keepable, together too big: the largest dropped first until the cookie fits.
        const sent = Object.keys(user).filter((field) => field !== 'id');
        const dropped = PROFILE_FIELDS.filter((field) => !sent.includes(field));
        assert.ok(dropped.length > 0, `${why}: some fields dropped (${cookieBytes} bytes)`);
        assert.ok(sent.length > 0, `${why}: not more than needed: ${JSON.stringify(user)}`);
        const longest = Math.max(...sent.map((field) => user[field].length));
        for (const field of dropped) assert.ok(256 - 10 * PROFILE_FIELDS.indexOf(field) >= longest, `${why}: ${field} dropped before a shorter one`);
        for (const field of sent) assert.equal(user[field], '\u0416'.repeat(256 - 10 * PROFILE_FIELDS.indexOf(field)), `${why}: ${field} as sent`);
      } else {
        assert.deepEqual(user, expectedUser(row, flavour), `${why}: the user`);
      }
    }
  });
}

test('oauth2 without FREEDOM_ID_USERINFO_URL: /session says "user": null, and no user-info call is made', async () => {
  const jar = new Jar();
  const { answer } = await signInOauth2(oauth2Plain, jar);
  const { session } = await openSessionOf(answer);
  assert.equal(session.u, undefined, 'no user sealed');
  const status = await sessionStatus(oauth2Plain, jar);
  assert.deepEqual(status.json, { signedIn: true, accessExpiresAt: session.ae, refreshExpiresAt: session.re, user: null });
  assert.deepEqual(requestsTo(mock, 'userinfo'), []);
});

test('oauth2 with FREEDOM_ID_USERINFO_URL: a whole-number id is the user\'s id as a string, and only the fields sent show', async () => {
  mock.setUser({ id: 770012, firstname: 'Dana', email: 42, nickname: 'dd', cards: [] });
  const jar = new Jar();
  const { answer } = await signInOauth2(oauth2Info, jar);
  assert.equal(answer.status, 303, answer.body);
  assert.deepEqual((await sessionStatus(oauth2Info, jar)).json.user, { id: '770012', firstname: 'Dana' }, 'a number where a string belongs is left out');
  const echo = siteEcho(await call(oauth2Info, '/app', { jar }));
  assert.equal(echo.headers['x-freedom-id-user-id'], '770012');
});

test('a user-info failure shows the HTML error page, whose "Try again" starts a new sign-in', async () => {
  mock.setUserInfoMode('status:403');
  const jar = new Jar();
  const { link } = await startOidc(oidcInfo, jar);
  const back = await decideOidc(link);
  const page = await finish(oidcInfo, jar, back, { accept: BROWSER_ACCEPT });
  assertHtmlProblem(page, 'USERINFO_REJECTED', 502);
  assert.match(page.body, /<a class="button" href="\/login">/);
  assert.equal(setCookieFor(page, SESSION), undefined);
  mock.setUserInfoMode('ok');
  const again = await signInOidc(oidcInfo, jar);
  assert.equal(again.answer.status, 303, again.answer.body);
  assert.equal((await sessionStatus(oidcInfo, jar)).json.user.firstname, DEMO_USER.firstname);
});

// ---------------------------------------------------------------------------------------------
// The gate

const SPOOFED = {
  'X-Freedom-ID-User-Id': 'spoofed-user-1',
  X_Freedom_ID_User_Id: 'spoofed-user-2',
  'x-freedom-id-user_id': 'spoofed-user-3',
};

test('the gate forwards X-Freedom-ID-User-Id when the user is known (oidc, oauth2 with user-info), never a client\'s', async () => {
  for (const [name, worker, signIn] of [['oidc', oidc, signInOidc], ['oauth2 + user-info', oauth2Info, signInOauth2]]) {
    const jar = new Jar();
    const { answer } = await signIn(worker, jar);
    assert.equal(answer.status, 303, `${name}: ${answer.body}`);
    const { session } = await openSessionOf(answer);
    for (const headers of [{}, SPOOFED]) {
      const echo = siteEcho(await call(worker, '/app/profile?x=1', { jar, headers }), name);
      const seen = identityHeaders(echo);
      assert.deepEqual(seen.filter(([header]) => header === 'x-freedom-id-user-id'), [['x-freedom-id-user-id', DEMO_USER.id]], `${name}: the user's id, once`);
      assert.ok(!JSON.stringify(echo.rawHeaders).includes('spoofed'), `${name}: no client value reaches the site`);
      assert.equal(echo.headers['x-freedom-id-access-token'], session.a);
    }
  }
});

test('the gate sends no X-Freedom-ID-User-Id when the user is unknown (oauth2 without user-info), and strips a client\'s', async () => {
  const jar = new Jar();
  const { answer } = await signInOauth2(oauth2Plain, jar);
  assert.equal(answer.status, 303, answer.body);
  const echo = siteEcho(await call(oauth2Plain, '/app', { jar, headers: SPOOFED }));
  assert.deepEqual(
    identityHeaders(echo).map(([name]) => name).sort(),
    ['x-freedom-id-access-expires-at', 'x-freedom-id-access-token', 'x-freedom-id-token-id'],
  );
  assert.ok(!JSON.stringify(echo.rawHeaders).includes('spoofed'));
  // Without a session, a spoofed user id is not a pass.
  const refused = await call(oauth2Plain, '/app', { headers: SPOOFED, accept: 'application/json' });
  assertProblem(refused, 'SIGN_IN_REQUIRED', 401);
});

// ---------------------------------------------------------------------------------------------
// Misconfiguration

test('a misconfigured oidc deployment: /healthz 503 names the setting, /login is MISCONFIGURED, nobody called', async () => {
  const cases = [
    ['grants without openid', { FREEDOM_ID_GRANTS: 'read.email read.phone' }, 'FREEDOM_ID_GRANTS'],
    ['FREEDOM_ID_STATE=off', { FREEDOM_ID_STATE: 'off' }, 'FREEDOM_ID_STATE'],
    ['FREEDOM_ID_PROTOCOL=saml', { FREEDOM_ID_PROTOCOL: 'saml' }, 'FREEDOM_ID_PROTOCOL'],
    ['FREEDOM_ID_PROTOCOL=OIDC', { FREEDOM_ID_PROTOCOL: 'OIDC' }, 'FREEDOM_ID_PROTOCOL'],
  ];
  for (const [why, overrides, setting] of cases) {
    const worker = await start(oidcBindings(mock, overrides));
    try {
      const health = await call(worker, '/healthz');
      assert.equal(health.status, 503, `${why}: ${health.body}`);
      assert.deepEqual(JSON.parse(health.body), { status: 'misconfigured', problems: [setting] }, why);
      const problem = assertProblem(await call(worker, '/login'), 'MISCONFIGURED', 500);
      assert.match(problem.detail, new RegExp(setting), `${why}: the detail names the setting`);
      assert.deepEqual(mock.requests, [], `${why}: nobody called`);
    } finally {
      await worker.close();
    }
  }
});

test('/healthz is 200 for each working configuration of this file', async () => {
  for (const worker of [oidc, oidcJwks, oidcInfo, oauth2Info, oauth2Plain, rotating]) {
    const health = await call(worker, '/healthz');
    assert.equal(health.status, 200, health.body);
  }
  assert.deepEqual(mock.requests, [], '/healthz calls nobody (not even the key set)');
});

// ---------------------------------------------------------------------------------------------
// Key rotation (its own mock and Worker: the minute since the Worker's first fetch is waited out)

test('key rotation: a token with a new kid makes the Worker fetch the key set again, once, and sign in', async () => {
  // An unknown kid refetches at most once a minute: wait out what is left of it since before().
  await sleep(Math.max(0, rotatingFirstFetch + REFETCH_GAP_MS + 1000 - Date.now()));
  const oldKids = rotatingMock.jwks.keys.map((key) => key.kid);
  const rotated = await rotatingMock.rotateSigningKeys();
  assert.ok(rotated.keys.every((key) => !oldKids.includes(key.kid)), 'both keys replaced, new kids');
  const first = await signInOidc(rotating, new Jar(), { idp: rotatingMock });
  await assertOidcSignedIn(first.answer, { flowName: first.flowName });
  assert.equal(jwksFetches(rotatingMock), 1, 'the new kid: the set fetched once more');
  // The other alg's new key came with the same set: no fetch.
  rotatingMock.reset();
  rotatingMock.setSigningAlg('RS256');
  const second = await signInOidc(rotating, new Jar(), { idp: rotatingMock });
  await assertOidcSignedIn(second.answer, { flowName: second.flowName });
  assert.equal(jwksFetches(rotatingMock), 0, 'RS256\'s new kid was in the refetched set');
  // Within the minute after that fetch another unknown kid is refused without a fetch.
  rotatingMock.reset();
  rotatingMock.setOidcTokenMode('unknown-kid');
  const stray = await signInOidc(rotating, new Jar(), { idp: rotatingMock });
  assertSignInFailed(stray.answer, 'ID_TOKEN_INVALID', 502, 'unknown kid within the minute');
  assert.equal(jwksFetches(rotatingMock), 0, 'at most once a minute');
  // Tokens signed by the old keys no longer verify once the set has moved on: bad-signature
  // (signed over other claims) is still refused with the new keys.
  rotatingMock.reset();
  rotatingMock.setOidcTokenMode('bad-signature');
  assertSignInFailed((await signInOidc(rotating, new Jar(), { idp: rotatingMock })).answer, 'ID_TOKEN_INVALID', 502, 'bad signature');
});

// ---------------------------------------------------------------------------------------------
// The log sweep: last, over everything every Worker of this file printed.

test('no event line ever carries a claim of the user, an id_token, a nonce or any other secret', async () => {
  await sleep(200); // workerd's stdout reaches us a moment later
  const claims = [DEMO_USER.id, DEMO_USER.id.slice(0, 8), ...PROFILE_FIELDS.map((field) => DEMO_USER[field]).filter((value) => value.length >= 4)];
  const codes = new Set();
  let lines = 0;
  for (const worker of workers) {
    for (const line of worker.logs().split('\n').filter(Boolean)) {
      lines += 1;
      assert.ok(line.startsWith('{'), `only the Worker's JSON lines: ${line}`);
      const event = JSON.parse(line);
      for (const key of Object.keys(event)) assert.ok(LOG_KEYS.has(key), `the contract's keys only: ${line}`);
      if (event.code) codes.add(event.code);
      for (const claim of claims) assert.ok(!line.includes(claim), `no claim of the user (${claim}) in ${line}`);
      assert.ok(!line.includes('eyJ'), `no JWT (id_token) in ${line}`);
      for (const secret of secrets) assert.ok(!line.includes(secret), `no secret in ${line}`);
      assert.ok(!/\u0416{8}|AAAAAAAA|@example\.com/.test(line), `no user-info value in ${line}`);
    }
  }
  assert.ok(lines > 50, `the sweep read the flows' lines (${lines})`);
  for (const code of ['ID_TOKEN_INVALID', 'USERINFO_REJECTED', 'SIGN_IN_DECLINED', 'STATE_MISMATCH']) {
    assert.ok(codes.has(code), `the sweep saw ${code} lines`);
  }
  const completed = oidc.logs().split('\n').filter(Boolean).map((line) => JSON.parse(line)).filter((line) => line.event === 'sign_in_completed');
  assert.ok(completed.length > 0);
  for (const line of completed) assert.equal(line.token_id, undefined, 'an oidc session has no token pair id to name');
});
