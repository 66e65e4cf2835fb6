// The Worker as users run it: the built wasm in workerd (Miniflare), called over HTTP on
// 127.0.0.1, talking to the embedded mock Freedom ID. Needs `make build-worker` first.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { startMockFreedomId } from './support/mock-freedom-id.mjs';
import { BASIC_CREDENTIALS, CLIENT_ID, CLIENT_SECRET, startWorker, workingBindings, workerdRssKiB } from './support/worker.mjs';
import { AUTHORIZE_FAULTS, faultsWhere } from './support/faults.mjs';
import { assertProblem } from './support/client.mjs';

const SECRET = CLIENT_SECRET;
const BASIC = `Basic ${BASIC_CREDENTIALS}`;

let mock;
let worker;
/** Every response text seen, headers included, to check for leaks at the end. */
const seen = [];

async function get(path, { method = 'GET', accept, target = worker, headers = {} } = {}) {
  const response = await fetch(new URL(path, target.url), {
    method,
    redirect: 'manual',
    headers: { ...headers, ...(accept ? { accept } : {}) },
  });
  const body = await response.text();
  seen.push(JSON.stringify([...response.headers]) + body);
  return { status: response.status, headers: response.headers, body };
}

before(async () => {
  mock = await startMockFreedomId({ clientId: CLIENT_ID, clientSecret: SECRET });
  worker = await startWorker(workingBindings(mock));
});

after(async () => {
  await worker?.close();
  await mock?.close();
});

beforeEach(() => mock.reset());

test('GET /login sends the documented request and answers 302 to the link', async () => {
  const answer = await get('/login');
  assert.equal(answer.status, 302);
  assert.equal(answer.headers.get('cache-control'), 'no-store');
  assert.equal(answer.headers.get('referrer-policy'), 'no-referrer');
  assert.equal(answer.headers.get('x-content-type-options'), 'nosniff');
  const location = new URL(answer.headers.get('location'));
  assert.equal(location.origin, mock.origin);
  assert.equal(location.pathname, '/login');
  assert.match(location.searchParams.get('track_id'), /^[0-9a-f-]{36}$/);

  assert.equal(mock.requests.length, 1);
  const [request] = mock.requests;
  assert.equal(request.method, 'POST');
  assert.equal(request.path, '/api/v1/oauth/authorize');
  assert.equal(request.headers.authorization, BASIC);
  assert.equal(request.headers['content-type'], 'application/json');
  const sent = JSON.parse(request.body);
  assert.deepEqual(sent.grants, ['openid', 'read.email', 'read.phone']);
  // The login-CSRF state rides on the redirect URI; a sealed flow cookie named after it
  // carries it to /callback.
  const redirectUri = new URL(sent.redirect_uri);
  assert.equal(`${redirectUri.origin}${redirectUri.pathname}`, `${worker.origin}/callback`);
  const state = redirectUri.searchParams.get('state');
  assert.match(state, /^[A-Za-z0-9_-]{43}$/);
  const cookie = answer.headers.get('set-cookie');
  const sealed = new RegExp(`^__Host-freedom_id_flow_${state.slice(0, 16)}=([A-Za-z0-9_-]+); Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age=900$`);
  assert.match(cookie, sealed);
  assert.ok(!cookie.includes(state), 'the state itself is sealed, not shown');
});

test('every sign-in gets its own state', async () => {
  await Promise.all([get('/login'), get('/login'), get('/login')]);
  const states = mock.requests.map((request) => stateOf(request));
  assert.equal(new Set(states).size, 3);
});

/** The state a recorded authorize request carried on its redirect URI. */
function stateOf(request) {
  return new URL(JSON.parse(request.body).redirect_uri).searchParams.get('state');
}

async function callback(query, cookie, target = worker) {
  const response = await fetch(new URL(`/callback?${query}`, target.url), {
    redirect: 'manual',
    headers: cookie ? { cookie } : {},
  });
  const body = await response.text();
  seen.push(JSON.stringify([...response.headers]) + body);
  return { status: response.status, headers: response.headers, body };
}

/** `/login`, returning the flow cookie to send back and the state it holds. */
async function startSignIn() {
  const answer = await get('/login');
  const flow = answer.headers.get('set-cookie').split(';')[0];
  return { flow, state: stateOf(mock.requests.at(-1)) };
}

test('/callback with a missing or different state is 403 STATE_MISMATCH and spends nothing', async () => {
  const { flow, state } = await startSignIn();
  const code = mock.issueCode();
  const otherState = `${state.slice(0, -1)}${state.endsWith('A') ? 'B' : 'A'}`;
  const cases = [
    [`authorization_code=${code}&state=${state}`, undefined],
    [`authorization_code=${code}`, flow],
    // The last character changed (to one it is not: a fixed 'A' would match 1 time in 64).
    [`authorization_code=${code}&state=${otherState}`, flow],
    [`authorization_code=${code}&state=${state}x`, flow],
    [`authorization_code=${code}&state=`, flow],
    [`authorization_code=${code}&state=${state}`, `${flow.slice(0, -2)}AA`],
  ];
  for (const [query, cookie] of cases) {
    assertProblem(await callback(query, cookie), 'STATE_MISMATCH', 403);
  }
  assert.deepEqual(mock.codeStatus(code), { known: true, spent: false, expired: false });
  assert.equal(mock.requests.filter((r) => r.endpoint === 'token').length, 0);
});

test('with FREEDOM_ID_STATE=off there is no state, no cookie, and no /callback or /session', async () => {
  const open = await startWorker(workingBindings(mock, { FREEDOM_ID_STATE: 'off' }));
  try {
    const answer = await get('/login', { target: open });
    assert.equal(answer.status, 302);
    assert.equal(answer.headers.get('set-cookie'), null);
    assert.equal(JSON.parse(mock.requests[0].body).redirect_uri, `${open.origin}/callback`);
    for (const path of ['/callback?authorization_code=abc', '/session']) {
      assertProblem(await get(path, { target: open }), 'NOT_FOUND', 404);
    }
  } finally {
    await open.close();
  }
});

test('past the rate limit /login is 429 RATE_LIMITED with Retry-After, and calls nobody', async () => {
  const limited = await startWorker(workingBindings(mock), { rateLimit: { limit: 3, period: 60 } });
  const from = (ip) => get('/login', { target: limited, headers: { 'cf-connecting-ip': ip } });
  try {
    for (let i = 0; i < 3; i += 1) assert.equal((await from('203.0.113.7')).status, 302);
    const answer = await from('203.0.113.7');
    assertProblem(answer, 'RATE_LIMITED', 429);
    assert.equal(answer.headers.get('retry-after'), '60');
    assert.equal(mock.requests.length, 3);
    assert.equal((await from('203.0.113.8')).status, 302, 'another address has its own bucket');
    assert.equal((await get('/healthz', { target: limited })).status, 200, '/healthz is not limited (only the sign-in routes and /revoke are)');
    assert.match(limited.logs(), /\{"event":"rate_limited","code":"RATE_LIMITED"/);
  } finally {
    await limited.close();
  }
});

test('rate limiting keys IPv6 clients by their /64, and never limits requests without a client address', async () => {
  const limited = await startWorker(workingBindings(mock), { rateLimit: { limit: 2, period: 60 } });
  const from = (ip) => get('/login', { target: limited, headers: ip ? { 'cf-connecting-ip': ip } : {} });
  try {
    assert.equal((await from('2001:db8:1:2::1')).status, 302);
    assert.equal((await from('2001:db8:1:2:aaaa::2')).status, 302);
    assertProblem(await from('2001:db8:1:2:ffff:ffff:ffff:ffff'), 'RATE_LIMITED', 429);
    assert.equal((await from('2001:db8:1:3::1')).status, 302, 'the next /64 is someone else');
    // (A request without CF-Connecting-IP cannot be made here: Miniflare adds one. The core's
    // test `rate_limit::tests::keys_table` pins that such a request is not limited.)
  } finally {
    await limited.close();
  }
});

const CSP = "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'";

test('static pages carry the security headers from www/_headers', async () => {
  for (const path of ['/', '/style.css']) {
    const answer = await get(path);
    assert.equal(answer.status, 200, path);
    assert.equal(answer.headers.get('x-content-type-options'), 'nosniff', path);
    assert.equal(answer.headers.get('content-security-policy'), CSP, path);
  }
});

test('the callback page is never served around the state check', async () => {
  for (const path of ['/callback-page', '/callback-page.html', '/callback-page?authorization_code=attacker']) {
    const answer = await get(path, { accept: 'text/html' });
    assert.equal(answer.status, 404, path);
    assert.doesNotMatch(answer.body, /id="result"/, path);
  }
});

test('compressed bombs are cut at 64 KiB of decoded body, and cost workerd no memory', async () => {
  for (const { mode, code, status } of faultsWhere(AUTHORIZE_FAULTS, (f) => f.bomb)) {
    // Warm-up: V8 and workerd grow lazily over the first requests of any kind (V8 tiering up
    // the wasm it runs: sign-ins 21-40 grew RSS by about 18 MiB, the next 20 by 1.3 MiB), so
    // measure the 20 bombs after 40 plain sign-ins and 20 bombs.
    mock.setMode('ok');
    for (let i = 0; i < 40; i += 1) await get('/login');
    mock.setMode(mode);
    for (let i = 0; i < 20; i += 1) await get('/login');
    const before = workerdRssKiB();
    for (let i = 0; i < 20; i += 1) {
      const started = Date.now();
      assertProblem(await get('/login'), code, status);
      assert.ok(Date.now() - started < 2000, `${mode} took ${Date.now() - started} ms`);
    }
    const grown = workerdRssKiB() - before;
    console.log(`${mode}: workerd RSS ${(before / 1024).toFixed(1)} MiB before 20 bombs, grew ${(grown / 1024).toFixed(1)} MiB`);
    assert.ok(before > 0, 'found the workerd process');
    // Unbounded, each bomb would be a 50 MiB buffer copied into wasm memory.
    assert.ok(grown < 10 * 1024, `${mode}: workerd grew ${grown} KiB across 20 bombs`);
    mock.setMode('ok');
    assert.equal((await get('/login')).status, 302, `${mode}: the next sign-in works`);
  }
  mock.setMode('gzip-ok');
  assert.equal((await get('/login')).status, 302, 'a correctly compressed answer still works');
  for (const request of mock.requests) assert.equal(request.headers['accept-encoding'], 'identity');
});

test('HEAD /login redirects too', async () => {
  const answer = await get('/login', { method: 'HEAD' });
  assert.equal(answer.status, 302);
  assert.ok(answer.headers.get('location').startsWith(`${mock.origin}/login?track_id=`));
});

// Every failing mode of the authorize endpoint but the bombs (measured in a test of their own above).
const faults = faultsWhere(AUTHORIZE_FAULTS, (f) => f.code !== null && !f.bomb);

for (const { mode, code, status } of faults) {
  test(`upstream ${mode} -> ${status} ${code}, and the next /login works`, async () => {
    mock.setMode(mode);
    const started = Date.now();
    const problem = assertProblem(await get('/login'), code, status);
    assert.ok(problem.detail.length > 0);
    if (code === 'UPSTREAM_TIMEOUT') {
      const elapsed = Date.now() - started;
      assert.ok(elapsed >= 900 && elapsed < 4000, `timed out after ${elapsed} ms, configured 1000`);
    }
    if (code === 'UPSTREAM_STATUS' && mode.startsWith('status:')) {
      assert.match(problem.detail, new RegExp(`HTTP ${mode.slice(7)}`));
    }
    assert.equal(mock.requests.length, 1, 'one upstream call, no retry and no redirect followed');
    mock.setMode('ok');
    assert.equal((await get('/login')).status, 302);
  });
}

test('browsers get a readable HTML error page with a way to try again', async () => {
  mock.setMode('status:500');
  const accept = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
  const answer = await get('/login', { accept });
  assert.equal(answer.status, 502);
  assert.equal(answer.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.equal(answer.headers.get('location'), null);
  assert.match(answer.body, /<a class="button" href="\/login">Try again<\/a>/);
  assert.match(answer.body, /UPSTREAM_STATUS/);
  assertProblem(await get('/login', { accept: 'application/json' }), 'UPSTREAM_STATUS', 502);
});

test('the upstream call gives up at FREEDOM_ID_TIMEOUT_MS, not before', async () => {
  mock.setMode('slow:300');
  assert.equal((await get('/login')).status, 302, 'a 300 ms answer is within the 1000 ms timeout');
});

test('GET /healthz is 200 when configured, and calls nobody', async () => {
  const answer = await get('/healthz');
  assert.equal(answer.status, 200);
  assert.deepEqual(JSON.parse(answer.body), { status: 'ok' });
  assert.equal(mock.requests.length, 0);
});

test('other methods on /login are 405 with Allow; unknown paths are 404', async () => {
  for (const method of ['POST', 'PUT', 'DELETE']) {
    const answer = await get('/login', { method });
    assertProblem(answer, 'METHOD_NOT_ALLOWED', 405);
    assert.equal(answer.headers.get('allow'), 'GET, HEAD');
  }
  for (const [method, path, allow] of [['HEAD', '/callback', 'GET'], ['GET', '/logout', 'POST'], ['POST', '/session', 'GET, HEAD']]) {
    const answer = await get(path, { method });
    assert.equal(answer.status, 405, `${method} ${path}`);
    assert.equal(answer.headers.get('allow'), allow);
  }
  assertProblem(await get('/nothing-here'), 'NOT_FOUND', 404);
  assert.equal((await get('/nothing-here')).headers.get('x-content-type-options'), 'nosniff');
  assert.equal(mock.requests.length, 0);
});

test('400 concurrent /login requests all redirect', async () => {
  // A Worker of its own with a timeout no loaded 2-core machine reaches: this test is about
  // concurrency, and the shared Worker's 1 s timeout (for the timeout tests) turned a busy
  // machine into 504s.
  const patient = await startWorker(workingBindings(mock, { FREEDOM_ID_TIMEOUT_MS: '20000' }));
  try {
    const answers = await Promise.all(Array.from({ length: 400 }, () => get('/login', { target: patient })));
    const statuses = answers.map((answer) => answer.status);
    assert.deepEqual([...new Set(statuses)], [302]);
    const links = new Set(answers.map((answer) => answer.headers.get('location')));
    assert.equal(links.size, 400, 'each request got its own link');
    assert.equal(mock.requests.length, 400);
    // Its answers join the final leak sweep (`seen`); its log lines are checked here.
    assert.ok(!patient.logs().includes(SECRET) && !patient.logs().includes(BASIC.slice(6)));
  } finally {
    await patient.close();
  }
});

test('a misconfigured Worker answers 500 MISCONFIGURED before any upstream call', async () => {
  const broken = await startWorker(
    workingBindings(mock, {
      FREEDOM_ID_CLIENT_SECRET: undefined,
      FREEDOM_ID_GRANTS: 'openid Read.Email',
      FREEDOM_ID_REDIRECT_URI: 'http://app.example.com/callback',
    }),
  );
  try {
    const problem = assertProblem(await get('/login', { target: broken }), 'MISCONFIGURED', 500);
    assert.match(problem.detail, /FREEDOM_ID_CLIENT_SECRET, FREEDOM_ID_REDIRECT_URI, FREEDOM_ID_GRANTS/);
    const health = await get('/healthz', { target: broken });
    assert.equal(health.status, 503);
    assert.deepEqual(JSON.parse(health.body), {
      status: 'misconfigured',
      problems: ['FREEDOM_ID_CLIENT_SECRET', 'FREEDOM_ID_REDIRECT_URI', 'FREEDOM_ID_GRANTS'],
    });
    assert.equal(mock.requests.length, 0);
    assert.match(broken.logs(), /"code":"MISCONFIGURED","upstream_status":null/);
  } finally {
    await broken.close();
  }
});

test('a refused connection is UPSTREAM_NETWORK', async () => {
  // A port that was just listening and is now closed.
  const gone = await startMockFreedomId();
  const authorizeUrl = gone.authorizeUrl;
  await gone.close();
  const lonely = await startWorker(workingBindings(mock, { FREEDOM_ID_AUTHORIZE_URL: authorizeUrl }));
  try {
    assertProblem(await get('/login', { target: lonely }), 'UPSTREAM_NETWORK', 502);
    assert.match(lonely.logs(), /"code":"UPSTREAM_NETWORK","upstream_status":null,"elapsed_ms":\d+/);
  } finally {
    await lonely.close();
  }
});

test('a TOML number for FREEDOM_ID_TIMEOUT_MS is read as a number', async () => {
  const numeric = await startWorker(workingBindings(mock, { FREEDOM_ID_TIMEOUT_MS: 2500 }));
  try {
    assert.equal((await get('/healthz', { target: numeric })).status, 200);
  } finally {
    await numeric.close();
  }
});

test('each failure logs one line with its code, upstream status and elapsed time', async () => {
  const logs = worker.logs();
  assert.match(logs, /\{"event":"sign_in_failed","code":"UPSTREAM_STATUS","upstream_status":500,"elapsed_ms":\d+,"request_id":"[^"]+"\}/);
  assert.match(logs, /"code":"UNTRUSTED_LINK","upstream_status":200,"elapsed_ms":\d+/);
  assert.match(logs, /"code":"UPSTREAM_TIMEOUT","upstream_status":null,"elapsed_ms":\d+/);
  assert.match(logs, /"code":"UPSTREAM_NETWORK","upstream_status":null/);
});

test('no response and no log line ever shows the secret or the Basic header', () => {
  const everything = seen.join('\n') + worker.logs();
  assert.ok(seen.length > 400);
  for (const leak of [SECRET, BASIC, BASIC.slice(6), 'Something went wrong.', 'Bad gateway']) {
    assert.ok(!everything.includes(leak), `found ${JSON.stringify(leak)}`);
  }
});

test('log hygiene: after the whole fault matrix and callbacks, the log holds no state and no code', async () => {
  // A full round of faults and callbacks, each with a state and an authorization code.
  const states = [];
  const codes = [];
  for (const { mode } of faults.filter(({ code }) => code !== 'UPSTREAM_TIMEOUT')) {
    mock.setMode('ok');
    const { flow, state } = await startSignIn();
    states.push(state);
    const forged = mock.issueCode();
    codes.push(forged);
    await callback(`authorization_code=${forged}&state=${state}x`, flow);
    mock.setMode(mode);
    await get('/login');
  }
  const logs = worker.logs();
  assert.match(logs, /"code":"STATE_MISMATCH"/);
  for (const leak of [SECRET, BASIC.slice(6), ...codes, ...states]) {
    assert.ok(!logs.includes(leak), `the log shows ${JSON.stringify(leak)}`);
  }
});
