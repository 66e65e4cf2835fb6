// The Worker's session routes (issue 11) end to end: the built wasm in workerd (Miniflare),
// driven over HTTP like a browser (a cookie jar per test, the mock Freedom ID's sign-in page
// clicked through), against the embedded mock. /login sets a sealed flow cookie, /callback
// checks its state before spending the code and seals the token pair into a session cookie,
// /session refreshes it (one shared refresh per sealed cookie), /logout clears it all. The
// session seals its sign-in time, and FREEDOM_ID_SESSION_MAX_AGE bounds its whole life; a flow
// whose code had a definite answer is spent; /callback is rate-limited like /login.
// Needs `make build-worker` first. One file: seven Worker configurations and one mock, started
// once, serve all the session routes; split by route below (/login, /callback, /session,
// FREEDOM_ID_SESSION_MAX_AGE, key rotation, /logout, settings).
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { startMockFreedomId, TOKEN_MODES } from './support/mock-freedom-id.mjs';
import { BASIC_CREDENTIALS as BASIC, CLIENT_ID, CLIENT_SECRET, SESSION_SECRET, startWorker, workingBindings } from './support/worker.mjs';
import { Jar } from './support/jar.mjs';
import { TOKEN_FAULTS, faults } from './support/faults.mjs';
import {
  ATTRIBUTES, BROWSER_ACCEPT, DEAD, FLOW_PREFIX, SESSION, Secrets,
  assertCleared, assertHtmlProblem, assertProblem, send, setCookieFor, signInSteps,
} from './support/client.mjs';
import { seal, sealId, unseal } from './support/seal.mjs';

/** Key A seals in the main Worker; B is the key rotated in. */
const KEY_A = SESSION_SECRET;
const KEY_B = 'rotated-session-secret-B-fedcba9876543210';
const AFTER_SIGN_IN = '/welcome';

const FLOW_MAX_AGE = 15 * 60;
const THIRTY_DAYS = 30 * 24 * 60 * 60;
/** The shortLived Worker's FREEDOM_ID_SESSION_MAX_AGE (the least it accepts). */
const SHORT_MAX_AGE = 300;

let mock;
/** One Worker per configuration, all started once. */
let main; // key A, FREEDOM_ID_AFTER_SIGN_IN=/welcome
let rotated; // "B A": B seals, both open; no FREEDOM_ID_AFTER_SIGN_IN (lands on /)
let onlyB; // "B"
let stateOff; // FREEDOM_ID_STATE=off
let foreign; // a redirect URI on another origin, state on
let shortLived; // FREEDOM_ID_SESSION_MAX_AGE=300, key A
let limited; // a rate limit of 1 a minute per client address, key A
/** Every secret value seen during the file; none may reach a log line. */
const secrets = new Secrets([CLIENT_SECRET, BASIC, KEY_A, KEY_B]);
const remember = (...values) => secrets.remember(...values);

before(async () => {
  mock = await startMockFreedomId({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
  [main, rotated, onlyB, stateOff, foreign, shortLived, limited] = await Promise.all([
    startWorker(workingBindings(mock, { FREEDOM_ID_AFTER_SIGN_IN: AFTER_SIGN_IN })),
    startWorker(workingBindings(mock, { FREEDOM_ID_SESSION_SECRET: `${KEY_B} ${KEY_A}` })),
    startWorker(workingBindings(mock, { FREEDOM_ID_SESSION_SECRET: KEY_B })),
    startWorker(workingBindings(mock, { FREEDOM_ID_STATE: 'off' })),
    startWorker(workingBindings(mock, { FREEDOM_ID_REDIRECT_URI: 'https://app.example.com/callback' })),
    startWorker(workingBindings(mock, { FREEDOM_ID_SESSION_MAX_AGE: String(SHORT_MAX_AGE) })),
    startWorker(workingBindings(mock, { FREEDOM_ID_AFTER_SIGN_IN: AFTER_SIGN_IN }), { rateLimit: { limit: 1, period: 60 } }),
  ]);
});

after(async () => {
  await Promise.all([main, rotated, onlyB, stateOff, foreign, shortLived, limited].map((worker) => worker?.close()));
  await mock?.close();
});

beforeEach(() => mock.reset());

// ---------------------------------------------------------------------------------------------
// A browser, in small (support/client.mjs): a cookie jar, requests, the mock's sign-in page.

/** One request to `worker`, with `jar`'s cookies; the answer's Set-Cookie lines go into the jar. */
const call = (worker, path, options) => send(worker, path, { secrets, ...options });
const { startSignIn, decide, finish } = signInSteps({ mock: () => mock, call, secrets });

const tokenRequests = () => mock.requests.filter((r) => r.endpoint === 'token');
const refreshes = () => tokenRequests().filter((r) => r.method === 'PATCH');

/** A whole sign-in; answers the callback's answer with the state and the code spent. */
async function signIn(worker, jar, { returnTo } = {}) {
  const { link, state, flowName } = await startSignIn(worker, jar, { returnTo });
  const back = await decide(link);
  const answer = await finish(worker, jar, back);
  return { answer, state, flowName, code: back.searchParams.get('authorization_code'), back };
}

// ---------------------------------------------------------------------------------------------
// The sealed cookies, opened here with the same HKDF + AES-256-GCM the Worker uses, to see what
// a cookie holds and which key sealed it.

/** Opens a session cookie with A or B, remembers its tokens, answers `{key, session}`. */
async function openSession(value) {
  for (const [key, secret] of [['A', KEY_A], ['B', KEY_B]]) {
    const session = await unseal(secret, SESSION, value);
    if (session) {
      remember(session.a, session.r);
      return { key, session };
    }
  }
  return { key: null, session: null };
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

/**
 * Checks a successful /callback and answers the opened session: it holds the sign-in time, and
 * its cookie lives until the refresh token expires or the session's `lifetime` ends.
 */
async function assertSignedIn(answer, { flowName, landing, lifetime = THIRTY_DAYS }) {
  assert.equal(answer.status, 303, answer.body);
  assert.equal(answer.headers.get('location'), landing);
  assert.equal(answer.headers.get('cache-control'), 'no-store');
  assertCleared(answer, flowName);
  const line = setCookieFor(answer, SESSION);
  assert.ok(line, `a session cookie: ${JSON.stringify(answer.setCookies)}`);
  const [, value, maxAge] = new RegExp(`^${SESSION}=([A-Za-z0-9_-]+); ${ATTRIBUTES}; Max-Age=(\\d+)$`).exec(line) ?? [];
  assert.ok(value, `session Set-Cookie shape: ${line}`);
  const opened = await openSession(value);
  assert.ok(opened.session, 'the session cookie opens with a configured key');
  assert.deepEqual(Object.keys(opened.session), ['i', 'a', 'r', 'ae', 're', 'b'], 'the sealed payload');
  assert.ok(Math.abs(opened.session.b - nowSeconds()) <= 2, `the sign-in time is sealed: b ${opened.session.b}`);
  const expected = Math.min(opened.session.re - nowSeconds(), lifetime);
  assert.ok(Math.abs(Number(maxAge) - expected) <= 2, `Max-Age ${maxAge}, expected about ${expected}`);
  return { value, maxAge: Number(maxAge), ...opened };
}

/** GET /session; checks the shape every answer has, and that no token is in it. */
async function sessionStatus(worker, jar, options = {}) {
  const answer = await call(worker, '/session', { jar, ...options });
  assert.equal(answer.status, 200, answer.body);
  assert.equal(answer.headers.get('content-type'), 'application/json');
  assert.equal(answer.headers.get('cache-control'), 'no-store');
  const body = JSON.parse(answer.body);
  if (body.signedIn) {
    assert.deepEqual(Object.keys(body), ['signedIn', 'accessExpiresAt', 'refreshExpiresAt', 'user']);
    assert.ok(Number.isInteger(body.accessExpiresAt) && Number.isInteger(body.refreshExpiresAt));
    assert.equal(body.user, null, 'oauth2 without FREEDOM_ID_USERINFO_URL: the user is unknown');
  } else {
    assert.deepEqual(body, { signedIn: false });
  }
  for (const secret of secrets) assert.ok(!answer.body.includes(secret), '/session never shows a token');
  return { ...answer, json: body };
}

/** A signed-in jar on `worker` (access token lifetime `accessTtlSeconds`), with its session. */
async function signedInJar(worker, { accessTtlSeconds = 3600, landing = AFTER_SIGN_IN, lifetime } = {}) {
  mock.setTokenLifetimes({ accessTtlSeconds });
  const jar = new Jar();
  const { answer, flowName } = await signIn(worker, jar);
  const opened = await assertSignedIn(answer, { flowName, landing, lifetime });
  mock.setTokenLifetimes({ accessTtlSeconds: 3600 });
  return { jar, ...opened };
}

// ---------------------------------------------------------------------------------------------
// /login

test('GET /login sets a sealed 15-minute flow cookie named by the state, and 302s to the link', async () => {
  const jar = new Jar();
  const { answer, state, flowName } = await startSignIn(main, jar, { returnTo: '/app' });
  assert.equal(answer.headers.get('cache-control'), 'no-store');
  assert.equal(answer.setCookies.length, 1, JSON.stringify(answer.setCookies));
  const [line] = answer.setCookies;
  const [, value] = new RegExp(`^${flowName}=([A-Za-z0-9_-]+); ${ATTRIBUTES}; Max-Age=${FLOW_MAX_AGE}$`).exec(line) ?? [];
  assert.ok(value, `flow Set-Cookie: ${line}`);
  assert.equal(FLOW_MAX_AGE, 900);
  assert.ok(!value.includes(state), 'the flow cookie is sealed, not the state in clear');
  const flow = await unseal(KEY_A, flowName, value);
  assert.equal(flow?.s, state);
  assert.equal(flow.r, '/app');
  assert.ok(Math.abs(flow.t - nowSeconds()) <= 2);
  assert.equal(await unseal(KEY_A, SESSION, value), null, "sealed for the flow cookie's name only");
});

test('two tabs signing in at once both succeed, each with its own flow cookie', async () => {
  const jar = new Jar();
  const tab1 = await startSignIn(main, jar, { returnTo: '/tab-one' });
  const tab2 = await startSignIn(main, jar, { returnTo: '/tab-two' });
  assert.notEqual(tab1.flowName, tab2.flowName);
  assert.deepEqual(jar.names(FLOW_PREFIX), [tab1.flowName, tab2.flowName]);
  const [back1, back2] = await Promise.all([decide(tab1.link), decide(tab2.link)]);
  const snapshot = jar.clone();
  const [answer2, answer1] = await Promise.all([
    finish(main, snapshot.clone(), back2),
    finish(main, snapshot.clone(), back1),
  ]);
  const one = await assertSignedIn(answer1, { flowName: tab1.flowName, landing: '/tab-one' });
  const two = await assertSignedIn(answer2, { flowName: tab2.flowName, landing: '/tab-two' });
  assert.equal(setCookieFor(answer1, tab2.flowName), undefined, "tab one leaves tab two's flow alone");
  assert.equal(setCookieFor(answer2, tab1.flowName), undefined, "tab two leaves tab one's flow alone");
  assert.notEqual(one.value, two.value);
  jar.apply(answer2.setCookies);
  jar.apply(answer1.setCookies);
  assert.deepEqual(jar.names(FLOW_PREFIX), []);
  assert.equal((await sessionStatus(main, jar)).json.signedIn, true);
});

test('at most 3 flow cookies: a 4th sign-in expires the oldest, whose callback then fails', async () => {
  const jar = new Jar();
  const flows = [];
  for (let i = 0; i < 3; i += 1) {
    const flow = await startSignIn(main, jar);
    assert.deepEqual(flow.answer.setCookies.filter((l) => l.includes('Max-Age=0')), [], `sign-in ${i + 1} expires nothing`);
    flows.push(flow);
  }
  assert.equal(jar.names(FLOW_PREFIX).length, 3);
  const fourth = await startSignIn(main, jar);
  assert.equal(fourth.answer.setCookies.length, 2, JSON.stringify(fourth.answer.setCookies));
  assertCleared(fourth.answer, flows[0].flowName);
  assert.match(setCookieFor(fourth.answer, fourth.flowName), /Max-Age=900$/);
  assert.deepEqual(jar.names(FLOW_PREFIX), [flows[1].flowName, flows[2].flowName, fourth.flowName]);

  // A 5th expires the next oldest.
  const fifth = await startSignIn(main, jar);
  assert.deepEqual(fifth.answer.setCookies.filter((l) => l.includes('Max-Age=0')), [`${flows[1].flowName}=; ${ATTRIBUTES}; Max-Age=0`]);

  // The expired flow can no longer complete, and its code is not spent.
  const back = await decide(flows[0].link);
  const refused = await finish(main, jar, back);
  assertProblem(refused, 'STATE_MISMATCH', 403);
  assert.equal(mock.codeStatus(back.searchParams.get('authorization_code')).spent, false);
  // The newest can.
  const ok = await finish(main, jar, await decide(fifth.link));
  await assertSignedIn(ok, { flowName: fifth.flowName, landing: AFTER_SIGN_IN });

  // Five flow cookies sent at once (an old browser): the three oldest expire.
  const crowded = new Jar(['a', 'b', 'c', 'd', 'e'].map((x) => [`${FLOW_PREFIX}${x.repeat(16)}`, 'x']));
  const answer = await call(main, '/login', { jar: crowded, apply: false });
  assert.deepEqual(
    answer.setCookies.filter((l) => l.includes('Max-Age=0')),
    ['a', 'b', 'c'].map((x) => `${FLOW_PREFIX}${x.repeat(16)}=; ${ATTRIBUTES}; Max-Age=0`),
  );
});

test('return_to: a local path is where the sign-in lands', async () => {
  for (const path of ['/', '/app/page?tab=2&x=%2F', `/${'a'.repeat(1023)}`]) {
    const jar = new Jar();
    const { answer, flowName } = await signIn(main, jar, { returnTo: path });
    await assertSignedIn(answer, { flowName, landing: path });
  }
});

test('return_to: anything but a local path is ignored (lands on FREEDOM_ID_AFTER_SIGN_IN)', async () => {
  const bad = [
    '//evil.com',
    '/\\evil.com',
    'https://evil.com',
    'https://evil.com/',
    'evil.com',
    '/a b',
    ' /app',
    '/app\t',
    '/a\nb',
    '/%09/evil.com',
    '/%20evil',
    `/${'a'.repeat(1024)}`,
    '',
  ];
  for (const path of bad) {
    const jar = new Jar();
    const { answer, flowName } = await signIn(main, jar, { returnTo: path });
    await assertSignedIn(answer, { flowName, landing: AFTER_SIGN_IN });
  }
});

// ---------------------------------------------------------------------------------------------
// /callback

test('GET /callback: the session cookie, the flow cookie cleared, 303 to FREEDOM_ID_AFTER_SIGN_IN', async () => {
  const jar = new Jar();
  const { answer, flowName, code } = await signIn(main, jar);
  const { session, key, maxAge } = await assertSignedIn(answer, { flowName, landing: AFTER_SIGN_IN });
  assert.equal(key, 'A');
  assert.equal(mock.codeStatus(code).spent, true);
  const exchanges = tokenRequests();
  assert.equal(exchanges.length, 1);
  assert.equal(exchanges[0].method, 'POST');
  assert.equal(exchanges[0].headers.authorization, `Basic ${BASIC}`);
  assert.deepEqual(JSON.parse(exchanges[0].body), { authorization_code: code });
  // The mock's default refresh lifetime is a day: Max-Age is what is left of it.
  assert.ok(maxAge > 86_400 - 5 && maxAge <= 86_400, String(maxAge));
  assert.match(session.a, /^[A-Za-z0-9]{128}$/);
  assert.match(session.r, /^[A-Za-z0-9]{128}$/);
  for (const secret of [session.a, session.r, code]) {
    assert.ok(!JSON.stringify([...answer.headers]).includes(secret), 'no token or code in the answer');
  }
  assert.deepEqual(jar.names(), [SESSION]);
  const status = await sessionStatus(main, jar);
  assert.deepEqual(status.json, { signedIn: true, accessExpiresAt: session.ae, refreshExpiresAt: session.re, user: null });
  assert.deepEqual(status.setCookies, [], 'a fresh session is not re-sent');
  assert.equal(tokenRequests().length, 1, 'a fresh session costs no upstream call');
});

test('the session cookie lives at most 30 days, even when the refresh token lives longer', async () => {
  mock.setTokenLifetimes({ refreshTtlSeconds: 40 * 24 * 3600 });
  const jar = new Jar();
  const { answer, flowName } = await signIn(main, jar);
  const { maxAge } = await assertSignedIn(answer, { flowName, landing: AFTER_SIGN_IN });
  assert.equal(maxAge, THIRTY_DAYS);
  assert.match(setCookieFor(answer, SESSION), /; Max-Age=2592000$/);
});

test('a missing or different state is 403 STATE_MISMATCH before the code is spent', async () => {
  const jar = new Jar();
  const { link, state, flowName } = await startSignIn(main, jar);
  const back = await decide(link);
  const code = back.searchParams.get('authorization_code');
  const sameHead = `${state.slice(0, -1)}${state.endsWith('A') ? 'B' : 'A'}`;
  const otherFlow = await startSignIn(main, new Jar());
  const cases = [
    ['no flow cookie', `/callback?state=${state}&authorization_code=${code}`, ''],
    ['no state', `/callback?authorization_code=${code}`, jar.header()],
    ['empty state', `/callback?state=&authorization_code=${code}`, jar.header()],
    ['another state, same cookie name', `/callback?state=${sameHead}&authorization_code=${code}`, jar.header()],
    ['a longer state', `/callback?state=${state}x&authorization_code=${code}`, jar.header()],
    ['another flow', `/callback?state=${otherFlow.state}&authorization_code=${code}`, jar.header()],
    [
      "another flow's cookie under this name",
      `/callback?state=${state}&authorization_code=${code}`,
      `${flowName}=${otherFlow.answer.setCookies[0].split(';')[0].split('=')[1]}`,
    ],
    ['a forged cookie', `/callback?state=${state}&authorization_code=${code}`, `${flowName}=${state}`],
  ];
  for (const [why, path, cookie] of cases) {
    const answer = await call(main, path, { cookie });
    assertProblem(answer, 'STATE_MISMATCH', 403);
    assert.equal(setCookieFor(answer, SESSION), undefined, why);
    assert.deepEqual(tokenRequests(), [], `${why}: nothing sent to the token endpoint`);
    assert.equal(mock.codeStatus(code).spent, false, `${why}: the code is not spent`);
  }
  const html = await call(main, `/callback?state=${sameHead}&authorization_code=${code}`, { cookie: jar.header(), accept: BROWSER_ACCEPT });
  assertHtmlProblem(html, 'STATE_MISMATCH', 403);
  assert.equal(mock.codeStatus(code).spent, false);

  // The real callback, still possible: the code was never spent.
  const answer = await finish(main, jar, back);
  await assertSignedIn(answer, { flowName, landing: AFTER_SIGN_IN });
});

test('Decline at Freedom ID is 403 SIGN_IN_DECLINED, as JSON or HTML', async () => {
  for (const accept of [undefined, BROWSER_ACCEPT]) {
    const jar = new Jar();
    const { link } = await startSignIn(main, jar);
    const back = await decide(link, 'decline');
    assert.ok(back.searchParams.has('error_code'));
    const answer = await finish(main, jar, back, { accept });
    if (accept) assertHtmlProblem(answer, 'SIGN_IN_DECLINED', 403);
    else assertProblem(answer, 'SIGN_IN_DECLINED', 403);
    assert.equal(setCookieFor(answer, SESSION), undefined);
    assert.deepEqual(tokenRequests(), []);
  }
});

test('a replayed callback (the flow cookie kept) is 403 STATE_MISMATCH with no token call; the spent code in a new flow is 400 CODE_REJECTED', async () => {
  const jar = new Jar();
  const { link, flowName } = await startSignIn(main, jar);
  const back = await decide(link);
  const code = back.searchParams.get('authorization_code');
  const withFlow = jar.clone();
  await assertSignedIn(await finish(main, jar, back), { flowName, landing: AFTER_SIGN_IN });
  assert.equal(tokenRequests().length, 1);
  // The same callback again, with the flow cookie kept (a replay): the flow was spent by its
  // sign-in, so nothing matches it and the token endpoint is not asked again.
  const replay = await finish(main, withFlow, back);
  assertProblem(replay, 'STATE_MISMATCH', 403);
  assert.equal(setCookieFor(replay, SESSION), undefined);
  assertCleared(replay, flowName);
  assert.equal(tokenRequests().length, 1, 'the replay costs no token call');
  // The spent code in a flow of its own reaches the token endpoint, which refuses it.
  const fresh = new Jar();
  const other = await startSignIn(main, fresh);
  const refused = await call(main, `/callback?state=${other.state}&authorization_code=${code}`, { jar: fresh });
  assertProblem(refused, 'CODE_REJECTED', 400);
  assert.equal(setCookieFor(refused, SESSION), undefined);
  assertCleared(refused, other.flowName);
  assert.equal(tokenRequests().length, 2);
});

test('after the token endpoint refused a code, the same flow cookie with any other code is 403 STATE_MISMATCH and the token endpoint is not called again', async () => {
  const jar = new Jar();
  const { link, state, flowName } = await startSignIn(main, jar);
  const code = (await decide(link)).searchParams.get('authorization_code');
  const kept = jar.clone(); // an attacker keeps the flow cookie (the clearing never reaches them)
  const guess = (c) => `/callback?state=${state}&authorization_code=${c.repeat(32)}`;
  const rejected = await call(main, guess('f'), { jar: kept.clone() });
  assertProblem(rejected, 'CODE_REJECTED', 400);
  assertCleared(rejected, flowName);
  assert.equal(tokenRequests().length, 1);
  for (const next of [guess('e'), guess('f'), `/callback?state=${state}&authorization_code=${code}`]) {
    const again = await call(main, next, { jar: kept.clone() });
    assertProblem(again, 'STATE_MISMATCH', 403);
    assert.equal(setCookieFor(again, SESSION), undefined);
    assertCleared(again, flowName);
  }
  const html = await call(main, guess('d'), { jar: kept.clone(), accept: BROWSER_ACCEPT });
  assertHtmlProblem(html, 'STATE_MISMATCH', 403);
  assert.equal(tokenRequests().length, 1, 'no further token-endpoint call for the spent flow');
  assert.equal(mock.codeStatus(code).spent, false, 'the real code never reached the token endpoint');
  // A new sign-in works as ever.
  const { answer, flowName: next } = await signIn(main, new Jar());
  await assertSignedIn(answer, { flowName: next, landing: AFTER_SIGN_IN });
});

test('/callback counts against the rate limiter: 429 RATE_LIMITED with Retry-After before any token call, the flow kept', async () => {
  // 1 a minute per client address: /login from A spends A's; its callback from A is refused.
  const [a, b] = ['198.51.100.23', '198.51.100.24'];
  const jar = new Jar();
  const login = await call(limited, '/login?return_to=%2Flimited', { jar, headers: { 'cf-connecting-ip': a } });
  assert.equal(login.status, 302, login.body);
  const link = new URL(login.headers.get('location'));
  const flowName = jar.names(FLOW_PREFIX)[0];
  const back = await decide(link);
  const code = back.searchParams.get('authorization_code');
  mock.reset();
  const answer = await finish(limited, jar, back, { headers: { 'cf-connecting-ip': a } });
  assertProblem(answer, 'RATE_LIMITED', 429);
  assert.equal(answer.headers.get('retry-after'), '60');
  assert.deepEqual(answer.setCookies, [], 'nothing set or cleared');
  assert.deepEqual(mock.requests, [], 'no token-endpoint call');
  assert.equal(mock.codeStatus(code).spent, false);
  assert.match(limited.logs(), /\{"event":"rate_limited","code":"RATE_LIMITED"/);
  // From another address (its own bucket) the same callback completes: the flow was kept.
  const done = await finish(limited, jar, back, { headers: { 'cf-connecting-ip': b } });
  await assertSignedIn(done, { flowName, landing: '/limited' });
  // /session is not limited.
  assert.equal((await sessionStatus(limited, jar, { headers: { 'cf-connecting-ip': a } })).json.signedIn, true);
});

test('HEAD /callback is 405 with Allow: GET and spends nothing', async () => {
  const code = mock.issueCode();
  remember(code);
  for (const method of ['HEAD', 'POST']) {
    const answer = await call(main, `/callback?state=x&authorization_code=${code}`, { method });
    assert.equal(answer.status, 405, method);
    assert.equal(answer.headers.get('allow'), 'GET', method);
  }
  assert.equal(mock.codeStatus(code).spent, false);
  assert.deepEqual(tokenRequests(), []);
});

// Every mode of the token endpoint at the exchange (support/faults.mjs): the Worker's status, and
// its code or null for a sign-in.
test('the fault matrix covers every token endpoint mode', () => {
  const covered = new Set(TOKEN_FAULTS.map(({ mode }) => mode.split(':')[0]));
  for (const mode of TOKEN_MODES) assert.ok(covered.has(mode.split(':')[0]), `${mode} is in the matrix`);
});

for (const { mode, exchange: { status, code }, noId, spendsCode } of TOKEN_FAULTS) {
  test(`/callback with the token endpoint in ${mode} -> ${status} ${code ?? 'signed in'}`, async () => {
    const jar = new Jar();
    const { link, flowName } = await startSignIn(main, jar, { returnTo: '/after' });
    const back = await decide(link);
    mock.setTokenMode(mode);
    const started = Date.now();
    const answer = await finish(main, jar, back);
    const elapsed = Date.now() - started;
    assert.equal(tokenRequests().length, 1, 'one exchange, no retry');
    if (code === null) {
      const { session } = await assertSignedIn(answer, { flowName, landing: '/after' });
      if (noId) assert.equal(session.i, null);
      else assert.match(session.i, /^[0-9a-f-]{36}$/);
      return;
    }
    const problem = assertProblem(answer, code, status);
    assert.ok(problem.detail.length > 0);
    assert.equal(setCookieFor(answer, SESSION), undefined, 'no session');
    if (code === 'UPSTREAM_TIMEOUT') assert.ok(elapsed >= 900 && elapsed < 4000, `timed out after ${elapsed} ms`);
    if (code === 'CODE_REJECTED') {
      assertCleared(answer, flowName);
      return;
    }
    // An upstream fault: the flow cookie stays, so a reload can try again.
    assert.deepEqual(answer.setCookies, [], 'an upstream fault clears nothing');
    assert.deepEqual(jar.names(FLOW_PREFIX), [flowName]);
    // Unless the mode ran the real exchange (the code is spent though the answer is unusable).
    if (!spendsCode) {
      mock.setTokenMode('ok');
      const reload = await finish(main, jar, back);
      await assertSignedIn(reload, { flowName, landing: '/after' });
    }
  });
}

// ---------------------------------------------------------------------------------------------
// /session

test('GET /session without a session is {"signedIn":false}, no-store, nothing set', async () => {
  const answer = await sessionStatus(main, new Jar());
  assert.equal(answer.json.signedIn, false);
  assert.deepEqual(answer.setCookies, []);
  assert.deepEqual(mock.requests, []);
});

test('a tampered, truncated or foreign session cookie reads as signed out and is cleared, never a 500', async () => {
  const { value } = await signedInJar(main);
  const flip = (text, at) => `${text.slice(0, at)}${text[at] === 'A' ? 'B' : 'A'}${text.slice(at + 1)}`;
  const flowValue = (await startSignIn(main, new Jar())).answer.setCookies[0].split(';')[0].split('=')[1];
  const payload = JSON.stringify({ i: null, a: 'a'.repeat(20), r: 'r'.repeat(20), ae: nowSeconds() + 3600, re: nowSeconds() + 7200, b: nowSeconds() });
  // As sealed before sessions held their sign-in time (issue 18): its life cannot be known.
  const withoutSignInTime = JSON.stringify({ i: null, a: 'a'.repeat(20), r: 'r'.repeat(20), ae: nowSeconds() + 3600, re: nowSeconds() + 7200 });
  const cases = {
    'one character changed in the middle': flip(value, Math.floor(value.length / 2)),
    'the last character changed': flip(value, value.length - 1),
    'the version changed': flip(value, 0),
    truncated: value.slice(0, -6),
    'cut to the IV': value.slice(0, 20),
    'sealed with another key': await seal('another-session-secret-0123456789abcdef', SESSION, payload),
    'sealed for the flow cookie': flowValue,
    'sealed with the right key, not a session': await seal(KEY_A, SESSION, '{"hello":"world"}'),
    'a future version': await seal(KEY_A, SESSION, payload, 2),
    'sealed before sessions had a sign-in time (no "b")': await seal(KEY_A, SESSION, withoutSignInTime),
    'a sign-in time that is not a whole number': await seal(KEY_A, SESSION, payload.replace(/"b":\d+/, '"b":"now"')),
    'not base64': 'not a seal!',
    garbage: 'AAAA',
    empty: '',
    'too long': 'A'.repeat(5000),
  };
  mock.reset();
  for (const [why, tampered] of Object.entries(cases)) {
    const answer = await sessionStatus(main, new Jar([[SESSION, tampered]]));
    assert.equal(answer.json.signedIn, false, why);
    assert.deepEqual(answer.setCookies, [`${SESSION}=; ${ATTRIBUTES}; Max-Age=0`], why);
  }
  assert.deepEqual(mock.requests, [], 'no upstream call for an unreadable cookie');
  // The control: the same payload, well sealed, is a session.
  const control = await sessionStatus(main, new Jar([[SESSION, await seal(KEY_A, SESSION, payload)]]));
  assert.equal(control.json.signedIn, true, 'a well-formed payload opens');
});

test('8 parallel /session at access expiry share ONE refresh, and all stay signed in', async () => {
  // An access token of 30 s is already within the 60 s refresh leeway.
  const { jar, session } = await signedInJar(main, { accessTtlSeconds: 30 });
  mock.reset();
  const answers = await Promise.all(Array.from({ length: 8 }, () => sessionStatus(main, jar.clone())));
  assert.equal(refreshes().length, 1, `one PATCH for 8 requests, got ${refreshes().length}`);
  assert.equal(tokenRequests().length, 1);
  const [patch] = refreshes();
  assert.equal(patch.headers.authorization, `Bearer ${session.r}`);
  assert.equal(patch.body, '');
  const expiries = new Set();
  for (const answer of answers) {
    assert.equal(answer.json.signedIn, true, JSON.stringify(answer.json));
    assert.ok(answer.json.accessExpiresAt > nowSeconds() + 60, 'the renewed access token');
    expiries.add(answer.json.accessExpiresAt);
    const line = setCookieFor(answer, SESSION);
    assert.match(line ?? '', new RegExp(`^${SESSION}=[A-Za-z0-9_-]+; ${ATTRIBUTES}; Max-Age=\\d+$`), 'the renewed session is set');
    const renewed = await openSession(line.split(';')[0].split('=')[1]);
    assert.equal(renewed.key, 'A');
    assert.notEqual(renewed.session.r, session.r, 'a new refresh token');
    assert.equal(renewed.session.i, session.i, 'the same grant');
    assert.equal(renewed.session.ae, answer.json.accessExpiresAt);
  }
  assert.equal(expiries.size, 1, 'every request got the same renewal');
  // The browser keeps one renewed cookie: it is fresh, so no further refresh.
  jar.apply(answers[0].setCookies);
  const after = await sessionStatus(main, jar);
  assert.equal(after.json.signedIn, true);
  assert.deepEqual(after.setCookies, []);
  assert.equal(refreshes().length, 1);
});

test('a refused refresh: signed out with a dead marker, the session cookie not cleared, then no upstream call', async () => {
  const { jar, value } = await signedInJar(main, { accessTtlSeconds: 30 });
  mock.reset();
  mock.setTokenMode('status:401');
  const answer = await sessionStatus(main, jar);
  assert.deepEqual(answer.json, { signedIn: false });
  assert.equal(refreshes().length, 1);
  assert.equal(setCookieFor(answer, SESSION), undefined, 'the session cookie is not cleared');
  assert.deepEqual(answer.setCookies, [`${DEAD}=${sealId(value)}; ${ATTRIBUTES}; Max-Age=${THIRTY_DAYS}`]);
  assert.equal(jar.get(SESSION), value);
  assert.equal(jar.get(DEAD), sealId(value));

  mock.reset(); // the token endpoint would answer again now: the marker alone must stop the call
  for (let i = 0; i < 3; i += 1) {
    const again = await sessionStatus(main, jar);
    assert.deepEqual(again.json, { signedIn: false });
    assert.deepEqual(again.setCookies, []);
  }
  // Another isolate (the rotated Worker also opens A-sealed cookies) shares no refresh with
  // this one: only the marker keeps it from spending the refresh token again.
  const elsewhere = await sessionStatus(rotated, jar);
  assert.deepEqual(elsewhere.json, { signedIn: false });
  assert.deepEqual(elsewhere.setCookies, []);
  assert.deepEqual(mock.requests, [], 'no further PATCH with the marker');
  assert.match(main.logs(), /\{"event":"refresh_failed","code":"REFRESH_REJECTED","upstream_status":401,"elapsed_ms":\d+,"request_id":"[0-9a-f]{16}"/);

  // Signing in again replaces the dead session; the marker no longer applies.
  const { answer: signedIn, flowName } = await signIn(main, jar);
  await assertSignedIn(signedIn, { flowName, landing: AFTER_SIGN_IN });
  assert.equal((await sessionStatus(main, jar)).json.signedIn, true);
});

for (const { mode } of faults(TOKEN_FAULTS, ['status:503', 'status:500', 'reset', 'hang', 'not-json'])) {
  test(`an outage at refresh (${mode}) keeps the session: signed in, nothing cleared`, async () => {
    const { jar, value, session } = await signedInJar(main, { accessTtlSeconds: 30 });
    mock.reset();
    mock.setTokenMode(mode);
    const answer = await sessionStatus(main, jar);
    assert.deepEqual(answer.json, { signedIn: true, accessExpiresAt: session.ae, refreshExpiresAt: session.re, user: null });
    assert.deepEqual(answer.setCookies, [], 'nothing set or cleared');
    assert.equal(refreshes().length, 1);
    assert.equal(jar.get(SESSION), value);
  });
}

// ---------------------------------------------------------------------------------------------
// FREEDOM_ID_SESSION_MAX_AGE: a session's whole life

/** `session` sealed again with key A, its fields changed as given (to move its clock). */
const resealed = (session, changes) => seal(KEY_A, SESSION, JSON.stringify({ ...session, ...changes }));

test(`FREEDOM_ID_SESSION_MAX_AGE=${SHORT_MAX_AGE}: the session cookie lives ${SHORT_MAX_AGE} s from the sign-in, however long the refresh token does`, async () => {
  const { maxAge, session } = await signedInJar(shortLived, { landing: '/', lifetime: SHORT_MAX_AGE });
  assert.ok(maxAge <= SHORT_MAX_AGE && maxAge >= SHORT_MAX_AGE - 2, `Max-Age ${maxAge}`);
  assert.ok(session.re - nowSeconds() > 86_000, "the mock's refresh token lives a day");
  // The default (and longest) is 30 days: the main Worker's cookies end with the refresh token.
  const { maxAge: long } = await signedInJar(main);
  assert.ok(long > 86_400 - 5, `Max-Age ${long}`);
});

test(`FREEDOM_ID_SESSION_MAX_AGE=${SHORT_MAX_AGE}: a refresh renews the tokens but keeps the sign-in time, and its cookie ends with the session`, async () => {
  const { session } = await signedInJar(shortLived, { landing: '/', lifetime: SHORT_MAX_AGE });
  const now = nowSeconds();
  // The same session as if signed in 250 s ago, its access token due.
  const jar = new Jar([[SESSION, await resealed(session, { ae: now + 30, b: now - 250 })]]);
  mock.reset();
  const status = await sessionStatus(shortLived, jar);
  assert.equal(status.json.signedIn, true);
  assert.equal(refreshes().length, 1, 'refreshed');
  const line = setCookieFor(status, SESSION);
  const [, value, maxAge] = new RegExp(`^${SESSION}=([A-Za-z0-9_-]+); ${ATTRIBUTES}; Max-Age=(\\d+)$`).exec(line ?? '') ?? [];
  assert.ok(value, `the renewed session is set: ${line}`);
  assert.ok(Number(maxAge) <= 50 && Number(maxAge) >= 47, `the renewed cookie ends with the session, not the tokens: Max-Age ${maxAge}`);
  const renewed = (await openSession(value)).session;
  assert.equal(renewed.b, now - 250, 'the refresh kept the sign-in time');
  assert.notEqual(renewed.a, session.a);
  assert.ok(renewed.ae > now + 600 && renewed.re > now + 86_000, 'fresh tokens, for all that');
});

test(`FREEDOM_ID_SESSION_MAX_AGE=${SHORT_MAX_AGE}: past it the session is signed out and cleared, with no upstream call, whatever its tokens say`, async () => {
  const { session } = await signedInJar(shortLived, { landing: '/', lifetime: SHORT_MAX_AGE });
  const now = nowSeconds();
  const cases = {
    'just past its life': { b: now - SHORT_MAX_AGE },
    'past its life, its access token due': { b: now - SHORT_MAX_AGE - 10, ae: now + 30 },
    'past its life, its access token expired': { b: now - 3600, ae: now - 60 },
    'a sign-in time in the future': { b: now + 3600 },
  };
  mock.reset();
  for (const [why, changes] of Object.entries(cases)) {
    const answer = await sessionStatus(shortLived, new Jar([[SESSION, await resealed(session, changes)]]));
    assert.deepEqual(answer.json, { signedIn: false }, why);
    assert.deepEqual(answer.setCookies, [`${SESSION}=; ${ATTRIBUTES}; Max-Age=0`], `${why}: cleared`);
  }
  assert.deepEqual(mock.requests, [], 'no refresh for a session past its life');
  // The main Worker (30 days) still takes a session that old.
  const elsewhere = await sessionStatus(main, new Jar([[SESSION, await resealed(session, { b: now - 3600 })]]));
  assert.equal(elsewhere.json.signedIn, true);
});

test(`FREEDOM_ID_SESSION_MAX_AGE=${SHORT_MAX_AGE}: a refused refresh's dead marker lives as long as a session may`, async () => {
  const { jar, value } = await signedInJar(shortLived, { accessTtlSeconds: 30, landing: '/', lifetime: SHORT_MAX_AGE });
  mock.reset();
  mock.setTokenMode('status:401');
  const answer = await sessionStatus(shortLived, jar);
  assert.deepEqual(answer.json, { signedIn: false });
  assert.deepEqual(answer.setCookies, [`${DEAD}=${sealId(value)}; ${ATTRIBUTES}; Max-Age=${SHORT_MAX_AGE}`]);
});

// ---------------------------------------------------------------------------------------------
// Key rotation

test('rotation: an A-sealed session opens in a "B A" Worker, and its renewal is sealed by B', async () => {
  // Fresh: opens with the second key.
  const fresh = await signedInJar(main);
  assert.equal(fresh.key, 'A');
  const status = await sessionStatus(rotated, fresh.jar);
  assert.deepEqual(status.json, { signedIn: true, accessExpiresAt: fresh.session.ae, refreshExpiresAt: fresh.session.re, user: null });
  assert.equal(setCookieFor(status, SESSION), undefined, 'opening with the second key clears nothing');

  // Due for a refresh: the renewed cookie is sealed by B, and a "B"-only Worker reads it.
  const due = await signedInJar(main, { accessTtlSeconds: 30 });
  mock.reset();
  const renewed = await sessionStatus(rotated, due.jar);
  assert.equal(renewed.json.signedIn, true);
  assert.equal(refreshes().length, 1);
  const value = setCookieFor(renewed, SESSION)?.split(';')[0].split('=')[1];
  assert.ok(value, 'the renewed session is set');
  assert.equal(await unseal(KEY_A, SESSION, value), null, 'not sealed by A');
  assert.ok(await unseal(KEY_B, SESSION, value), 'sealed by B');
  assert.equal(due.jar.get(SESSION), value);
  const inB = await sessionStatus(onlyB, due.jar);
  assert.deepEqual(inB.json, renewed.json);
  assert.deepEqual(inB.setCookies, []);
  assert.equal(refreshes().length, 1, 'no further refresh');
});

test('rotation: a flow begun under A completes in a "B A" Worker, whose session is sealed by B', async () => {
  const jar = new Jar();
  const { link, flowName } = await startSignIn(main, jar);
  const back = await decide(link);
  // The same callback, sent to the rotated Worker (its default FREEDOM_ID_AFTER_SIGN_IN is /).
  const answer = await finish(rotated, jar, back);
  const { key } = await assertSignedIn(answer, { flowName, landing: '/' });
  assert.equal(key, 'B');
  assert.equal((await sessionStatus(onlyB, jar)).json.signedIn, true);
  // A new flow in the rotated Worker is sealed by B too.
  const flow = await startSignIn(rotated, new Jar());
  const flowValue = flow.answer.setCookies[0].split(';')[0].split('=')[1];
  assert.equal((await unseal(KEY_B, flow.flowName, flowValue))?.s, flow.state);
  assert.equal(await unseal(KEY_A, flow.flowName, flowValue), null);
});

test('rotation: a "B"-only Worker reads an A-sealed session as signed out and clears it', async () => {
  const { jar } = await signedInJar(main);
  const answer = await sessionStatus(onlyB, jar);
  assert.deepEqual(answer.json, { signedIn: false });
  assert.deepEqual(answer.setCookies, [`${SESSION}=; ${ATTRIBUTES}; Max-Age=0`]);
  assert.deepEqual(jar.names(), []);
});

// ---------------------------------------------------------------------------------------------
// /logout

test('POST /logout from this origin clears the session, the dead marker and every flow; 303 to /', async () => {
  const { jar } = await signedInJar(main);
  const flowA = await startSignIn(main, jar);
  const flowB = await startSignIn(main, jar);
  jar.set(DEAD, 'AAAAAAAAAAAAAAAA');
  mock.reset();
  const answer = await call(main, '/logout', { method: 'POST', jar, headers: { origin: main.origin } });
  assert.equal(answer.status, 303, answer.body);
  assert.equal(answer.headers.get('location'), '/');
  assert.equal(answer.headers.get('cache-control'), 'no-store');
  for (const name of [SESSION, DEAD, flowA.flowName, flowB.flowName]) assertCleared(answer, name);
  assert.equal(answer.setCookies.length, 4, JSON.stringify(answer.setCookies));
  assert.deepEqual(jar.names(), []);
  assert.equal((await sessionStatus(main, jar)).json.signedIn, false);
  assert.deepEqual(mock.requests, [], 'signing out calls nobody');
});

test('without the revocations binding POST /logout signs out this browser only: a copy of its cookie is still signed in', async () => {
  const { jar, session } = await signedInJar(main);
  const copy = jar.clone();
  const answer = await call(main, '/logout', { method: 'POST', jar, headers: { origin: main.origin } });
  assert.equal(answer.status, 303, answer.body);
  assertCleared(answer, SESSION);
  assert.equal((await sessionStatus(main, jar)).json.signedIn, false);
  const status = await sessionStatus(main, copy);
  assert.deepEqual(status.json, { signedIn: true, accessExpiresAt: session.ae, refreshExpiresAt: session.re, user: null });
  assert.deepEqual(status.setCookies, []);
});

test('POST /logout without Origin but with Sec-Fetch-Site: same-origin signs out', async () => {
  const { jar } = await signedInJar(main);
  const answer = await call(main, '/logout', { method: 'POST', jar, headers: { 'sec-fetch-site': 'same-origin' } });
  assert.equal(answer.status, 303, answer.body);
  assert.equal(answer.headers.get('location'), '/');
  assertCleared(answer, SESSION);
  assertCleared(answer, DEAD);
  assert.equal((await sessionStatus(main, jar)).json.signedIn, false);
});

test('POST /logout from anywhere else is 403 CROSS_SITE_REQUEST and clears nothing', async () => {
  const { jar } = await signedInJar(main);
  const port = Number(new URL(main.origin).port);
  const cases = [
    { origin: 'https://evil.example' },
    { origin: 'null' },
    { origin: `http://127.0.0.1:${port + 1}` },
    { origin: `https://127.0.0.1:${port}` },
    { origin: `http://localhost:${port}` },
    { origin: 'https://evil.example', 'sec-fetch-site': 'same-origin' },
    {},
    { 'sec-fetch-site': 'cross-site' },
    { 'sec-fetch-site': 'same-site' },
    { 'sec-fetch-site': 'none' },
    // This origin, but the browser says the request came from elsewhere.
    { origin: main.origin, 'sec-fetch-site': 'cross-site' },
    { origin: main.origin, 'sec-fetch-site': 'same-site' },
    { origin: 'null', 'sec-fetch-site': 'same-site' },
  ];
  for (const headers of cases) {
    const answer = await call(main, '/logout', { method: 'POST', jar, headers });
    assertProblem(answer, 'CROSS_SITE_REQUEST', 403);
    assert.deepEqual(answer.setCookies, [], JSON.stringify(headers));
  }
  const html = await call(main, '/logout', { method: 'POST', jar, accept: BROWSER_ACCEPT, headers: { origin: 'https://evil.example' } });
  assertHtmlProblem(html, 'CROSS_SITE_REQUEST', 403);
  assert.equal((await sessionStatus(main, jar)).json.signedIn, true, 'still signed in');
});

test('GET /logout is 405 with Allow: POST', async () => {
  const { jar } = await signedInJar(main);
  for (const method of ['GET', 'HEAD', 'PUT']) {
    const answer = await call(main, '/logout', { method, jar, headers: { origin: main.origin } });
    assert.equal(answer.status, 405, method);
    assert.equal(answer.headers.get('allow'), 'POST', method);
    assert.deepEqual(answer.setCookies, [], method);
  }
  assertProblem(await call(main, '/logout', { jar }), 'METHOD_NOT_ALLOWED', 405);
  assert.equal((await sessionStatus(main, jar)).json.signedIn, true);
});

// ---------------------------------------------------------------------------------------------
// Settings

test('FREEDOM_ID_STATE=off: /callback, /session and /logout answer 404', async () => {
  const code = mock.issueCode();
  remember(code);
  const login = await call(stateOff, '/login');
  assert.equal(login.status, 302);
  assert.deepEqual(login.setCookies, [], 'no flow cookie without the state binding');
  const cookie = `${SESSION}=whatever`;
  assertProblem(await call(stateOff, `/callback?authorization_code=${code}`, { cookie }), 'NOT_FOUND', 404);
  assertProblem(await call(stateOff, `/callback?state=abc&authorization_code=${code}`), 'NOT_FOUND', 404);
  assertProblem(await call(stateOff, '/session', { cookie }), 'NOT_FOUND', 404);
  assertProblem(await call(stateOff, '/logout', { method: 'POST', cookie, headers: { origin: stateOff.origin } }), 'NOT_FOUND', 404);
  assert.equal(mock.codeStatus(code).spent, false);
  assert.deepEqual(tokenRequests(), []);
});

test('a redirect URI on another origin with the state on: /login 500 MISCONFIGURED, /healthz 503 names it', async () => {
  const problem = assertProblem(await call(foreign, '/login'), 'MISCONFIGURED', 500);
  assert.match(problem.detail, /FREEDOM_ID_REDIRECT_URI/);
  const health = await call(foreign, '/healthz');
  assert.equal(health.status, 503);
  assert.deepEqual(JSON.parse(health.body), { status: 'misconfigured', problems: ['FREEDOM_ID_REDIRECT_URI'] });
  assert.deepEqual(mock.requests, [], 'nothing sent to Freedom ID');
  assert.match(foreign.logs(), /\{"event":"sign_in_failed","code":"MISCONFIGURED","upstream_status":null,.*"problems":\["FREEDOM_ID_REDIRECT_URI"\]\}/);
  assert.equal((await call(main, '/healthz')).status, 200, 'the same-origin Worker is healthy');
});

// ---------------------------------------------------------------------------------------------
// Last: the logs

test('no token, code, client secret, session secret, state or sealed cookie value is in any log line', () => {
  const workers = { main, rotated, onlyB, stateOff, foreign, shortLived, limited };
  assert.ok(secrets.size > 100, `collected ${secrets.size} values`);
  assert.match(main.logs(), /"code":"STATE_MISMATCH"/, 'the logs were captured');
  for (const [name, worker] of Object.entries(workers)) {
    const logs = worker.logs();
    for (const secret of secrets) {
      assert.ok(!logs.includes(secret), `the ${name} Worker's log shows ${JSON.stringify(secret.slice(0, 24))}...`);
    }
  }
});
