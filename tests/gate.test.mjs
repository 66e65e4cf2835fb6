// The Worker as a sign-in gate in front of a site (issue 12), end to end: the built wasm in
// workerd (Miniflare), a small echoing site behind it (support/origin-server.mjs), the mock
// Freedom ID for sign-ins and refreshes, and Miniflare's KV as FREEDOM_ID_REVOCATIONS.
// FREEDOM_ID_PROTECT decides which paths are guarded; a guarded request without a live session
// is sent to sign in (browsers) or refused 401 (everything else); with one it goes to
// FREEDOM_ID_APP_ORIGIN with the identity headers, without the Worker's cookies, and the site's
// answer comes back as it is, except that an answer carrying a refreshed session is
// `Cache-Control: private, no-store`. A write (not GET, HEAD or OPTIONS) goes through only from
// this site; an expired access token whose refresh hits an outage goes nowhere. POST
// /revoke?key=<FREEDOM_ID_REVOKE_KEY> signs a token pair out; with KV, so does POST /logout for
// every copy of its cookie. Needs `make build-worker` first.
// One file: seven Worker configurations, one site and one mock, started once, serve the whole
// route family; split by topic below (without a session, what is guarded, forwarding, refresh,
// revocation, the site down, load and latency).
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import { startMockFreedomId } from './support/mock-freedom-id.mjs';
import { BASIC_CREDENTIALS as BASIC, CLIENT_ID, CLIENT_SECRET, REVOKE_KEY, SESSION_SECRET, freePort, startWorker, workingBindings } from './support/worker.mjs';
import { Jar } from './support/jar.mjs';
import { seal, unseal } from './support/seal.mjs';
import { TOKEN_FAULTS, faults } from './support/faults.mjs';
import {
  ATTRIBUTES, BROWSER_ACCEPT, DEAD, FLOW_PREFIX, SESSION, Secrets,
  assertCleared, assertProblem, send, setCookieFor, signInSteps,
} from './support/client.mjs';
import {
  BIG_BODY_BYTES,
  SITE_COOKIES,
  bigBodySha256,
  patternBytes,
  startOriginServer,
} from './support/origin-server.mjs';

const AFTER_SIGN_IN = '/welcome';
const IDENTITY = ['x-freedom-id-access-token', 'x-freedom-id-token-id', 'x-freedom-id-access-expires-at'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let mock;
let origin;
let closedPort;
/** One Worker per configuration, all started once. */
let gated; // PROTECT "/app /api/private /big", the site behind it, KV revocations bound with their key
let everything; // PROTECT "/", the site behind it, no KV
let plain; // no PROTECT, no APP_ORIGIN, no KV: the Worker as before
let down; // PROTECT "/app", APP_ORIGIN a closed port
let lenient; // PROTECT "/app", the site, FREEDOM_ID_GATE_CSRF=off, SESSION_MAX_AGE=300, a revoke key but no KV
let keyless; // PROTECT "/app", the site, KV revocations bound but no FREEDOM_ID_REVOKE_KEY
let badSettings; // FREEDOM_ID_SESSION_MAX_AGE, FREEDOM_ID_GATE_CSRF and FREEDOM_ID_REVOKE_KEY all invalid
/** Every secret value seen during the file; none may reach a log line. */
const secrets = new Secrets([CLIENT_SECRET, BASIC, SESSION_SECRET, REVOKE_KEY]);
const remember = (...values) => secrets.remember(...values);
const SHORT_MAX_AGE = 300;

before(async () => {
  mock = await startMockFreedomId({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
  origin = await startOriginServer();
  closedPort = await freePort();
  // The access token is forwarded only on request (issue 22); these tests follow it, so they ask.
  const site = { FREEDOM_ID_APP_ORIGIN: origin.url, FREEDOM_ID_AFTER_SIGN_IN: AFTER_SIGN_IN, FREEDOM_ID_FORWARD_ACCESS_TOKEN: 'on' };
  [gated, everything, plain, down, lenient, keyless, badSettings] = await Promise.all([
    startWorker(workingBindings(mock, { ...site, FREEDOM_ID_PROTECT: '/app /api/private /big', FREEDOM_ID_REVOKE_KEY: REVOKE_KEY }), {
      kv: { FREEDOM_ID_REVOCATIONS: 'revocations' },
    }),
    startWorker(workingBindings(mock, { ...site, FREEDOM_ID_PROTECT: '/' })),
    startWorker(workingBindings(mock, { FREEDOM_ID_AFTER_SIGN_IN: AFTER_SIGN_IN })),
    startWorker(workingBindings(mock, {
      FREEDOM_ID_AFTER_SIGN_IN: AFTER_SIGN_IN,
      FREEDOM_ID_PROTECT: '/app',
      FREEDOM_ID_APP_ORIGIN: `http://127.0.0.1:${closedPort}`,
    })),
    startWorker(workingBindings(mock, {
      ...site,
      FREEDOM_ID_PROTECT: '/app',
      FREEDOM_ID_GATE_CSRF: 'off',
      FREEDOM_ID_SESSION_MAX_AGE: String(SHORT_MAX_AGE),
      FREEDOM_ID_REVOKE_KEY: REVOKE_KEY,
    })),
    startWorker(workingBindings(mock, { ...site, FREEDOM_ID_PROTECT: '/app' }), {
      kv: { FREEDOM_ID_REVOCATIONS: 'keyless-revocations' },
    }),
    startWorker(workingBindings(mock, {
      FREEDOM_ID_SESSION_MAX_AGE: '299',
      FREEDOM_ID_GATE_CSRF: 'yes',
      FREEDOM_ID_REVOKE_KEY: 'short-key',
    })),
  ]);
});

after(async () => {
  await Promise.all([gated, everything, plain, down, lenient, keyless, badSettings].map((worker) => worker?.close()));
  await origin?.close();
  await mock?.close();
});

beforeEach(() => mock.reset());

// ---------------------------------------------------------------------------------------------
// A browser, in small (support/client.mjs): a cookie jar, requests, the mock's sign-in page.

/**
 * One request to `worker`, with `jar`'s cookies (or `cookie`); the answer's Set-Cookie lines go
 * into the jar unless `apply` is false. A ReadableStream `body` is sent chunked.
 */
const call = (worker, path, options) => send(worker, path, { secrets, ...options });
const { startSignIn, decide, finish } = signInSteps({ mock: () => mock, call, secrets });

/** One request through node:http (`options` as http.request takes them), answered as `call` answers but for `bytes`. */
function nodeRequest(worker, path, options, body) {
  return new Promise((resolve, reject) => {
    const sending = http.request(new URL(path, worker.url), options, (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('end', () => {
        const setCookies = response.headers['set-cookie'] ?? [];
        for (const line of setCookies) remember(/^[^=]+=([^;]*)/.exec(line)[1]);
        resolve({
          status: response.statusCode,
          headers: new Headers(Object.entries(response.headers).flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => [k, x]) : [[k, v]]))),
          body: Buffer.concat(chunks).toString('utf8'),
          setCookies,
        });
      });
      response.on('error', reject);
    });
    sending.on('error', reject);
    sending.end(body);
  });
}

/**
 * A GET through node:http, for headers fetch() will not send as given (fetch always sends
 * `Sec-Fetch-Mode: cors`).
 */
const rawGet = (worker, path, headers) => nodeRequest(worker, path, { method: 'GET', headers });

/**
 * A request on a connection of its own (node:http, no keep-alive), for answers the Worker gives
 * without reading the request body: workerd may then drop the connection, and fetch() reusing
 * it would fail now and then for a reason that is not the test's.
 */
function freshRequest(worker, path, { method = 'POST', jar, accept, headers = {}, body } = {}) {
  const sent = { ...headers, connection: 'close' };
  if (jar?.header()) sent.cookie = jar.header();
  if (accept) sent.accept = accept;
  if (body !== undefined) sent['content-length'] = Buffer.byteLength(body);
  return nodeRequest(worker, path, { method, headers: sent, agent: false }, body);
}

/** 401 SIGN_IN_REQUIRED with `WWW-Authenticate: FreedomID`. */
function assertSignInRequired(answer, why = '') {
  assertProblem(answer, 'SIGN_IN_REQUIRED', 401);
  assert.equal(answer.headers.get('www-authenticate'), 'FreedomID', `WWW-Authenticate ${why}`);
}

/** Percent-encodes everything but RFC 3986 unreserved characters (as the Worker does). */
const percentEncode = (text) =>
  encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** 302 to /login?return_to=<path and query of `path`, percent-encoded>. */
function assertSentToSignIn(answer, path, why = path) {
  const target = new URL(path, 'http://x.invalid');
  assert.equal(answer.status, 302, `${why}: ${answer.body}`);
  assert.equal(
    answer.headers.get('location'),
    `/login?return_to=${percentEncode(`${target.pathname}${target.search}`)}`,
    `${why}: Location`,
  );
}

const tokenRequests = () => mock.requests.filter((r) => r.endpoint === 'token');
const refreshes = () => tokenRequests().filter((r) => r.method === 'PATCH');
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** The keys `worker`'s FREEDOM_ID_REVOCATIONS namespace holds, with their expiry (unix seconds). */
async function revocations(worker) {
  const store = await worker.mf.getKVNamespace('FREEDOM_ID_REVOCATIONS');
  const { keys } = await store.list();
  return new Map(keys.map(({ name, expiration }) => [name, expiration]));
}

/** A whole sign-in on `worker`; answers the callback's answer. */
async function signIn(worker, jar, returnTo) {
  const { link } = await startSignIn(worker, jar, { returnTo });
  return finish(worker, jar, await decide(link));
}

// The session cookie, opened with the Worker's HKDF + AES-256-GCM, to learn the tokens it holds.
async function unsealSession(value) {
  const session = await unseal(SESSION_SECRET, SESSION, value);
  if (session) remember(session.a, session.r);
  return session;
}

/**
 * A signed-in jar on `worker` (the mock's access token lifetime `accessTtlSeconds`): the
 * session cookie's value and what it holds ({i: the mock's id, a, r, ae, re, b: the sign-in time}).
 */
async function signedInJar(worker = gated, { accessTtlSeconds = 3600 } = {}) {
  mock.setTokenLifetimes({ accessTtlSeconds });
  const jar = new Jar();
  const answer = await signIn(worker, jar);
  mock.setTokenLifetimes({ accessTtlSeconds: 3600 });
  assert.equal(answer.status, 303, answer.body);
  const value = jar.get(SESSION);
  assert.ok(value, `signed in: ${JSON.stringify(answer.setCookies)}`);
  const session = await unsealSession(value);
  assert.ok(session, 'the session cookie opens');
  assert.match(session.i, UUID, "the mock's token pair id");
  return { jar, value, session };
}

/** GET /session as JSON. */
async function sessionStatus(worker, jar, options = {}) {
  const answer = await call(worker, '/session', { jar, ...options });
  assert.equal(answer.status, 200, answer.body);
  return { ...answer, json: JSON.parse(answer.body) };
}

/** A forwarded request's answer: 200 from the site, its echo parsed; the tokens it saw remembered. */
function siteEcho(answer, why = '') {
  assert.equal(answer.status, 200, `${why} forwarded: ${answer.body.slice(0, 300)}`);
  assert.equal(answer.headers.get('x-origin'), 'test-origin', `${why} answered by the site`);
  const echo = JSON.parse(answer.body);
  remember(echo.headers['x-freedom-id-access-token']);
  return echo;
}

/** The X-Freedom-ID-* headers the site received, as [lowercased name, value] pairs in order. */
const identityHeadersSeen = (echo) =>
  echo.rawHeaders.filter(([name]) => name.toLowerCase().startsWith('x-freedom-id')).map(([n, v]) => [n.toLowerCase(), v]);

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

// ---------------------------------------------------------------------------------------------
// Without a session

test('guarded API requests without a session are 401 SIGN_IN_REQUIRED with WWW-Authenticate: FreedomID, never forwarded', async () => {
  const before = origin.count;
  const cases = [
    ['GET', '/app', { accept: 'application/json' }],
    ['GET', '/app/x?y=1', {}], // fetch's Accept: */*
    ['GET', '/api/private', { accept: 'application/json, text/html;q=0.5' }],
    ['POST', '/api/private/items', { accept: 'application/json', body: '{"a":1}', headers: { 'content-type': 'application/json' } }],
    ['PUT', '/app/1', { body: 'x' }],
    ['DELETE', '/app/1', {}],
    ['PATCH', '/big/1', { body: 'x' }],
  ];
  for (const [method, path, options] of cases) {
    const answer = await call(gated, path, { method, ...options });
    assertSignInRequired(answer, `${method} ${path}`);
    assert.deepEqual(answer.setCookies, [], `${method} ${path}: nothing set`);
  }
  // POST with Sec-Fetch-Mode: navigate is not a GET navigation.
  const navPost = await call(gated, '/app/form', { method: 'POST', body: 'a=1', headers: { 'sec-fetch-mode': 'navigate' } });
  assertSignInRequired(navPost, 'POST navigate');
  // An unreadable session cookie: refused too, and cleared.
  const garbage = await call(gated, '/app', { cookie: `${SESSION}=AAAAgarbage`, accept: 'application/json' });
  assertSignInRequired(garbage, 'garbage cookie');
  assertCleared(garbage, SESSION);
  // Guarded everything: an unknown path is refused the same way.
  assertSignInRequired(await call(everything, '/anything/at/all?x=1'), 'PROTECT=/');
  assert.equal(origin.count, before, 'nothing reached the site');
  assert.deepEqual(mock.requests, [], 'no upstream call without a session');
});

test('guarded browser requests without a session are 302 to /login?return_to=<path and query, percent-encoded>', async () => {
  const before = origin.count;
  for (const path of ['/app', '/app/', '/app/x?y=1', '/app/dash%20board/x?tab=1&q=a+b&r=%2F&u=%C3%A9', '/api/private/report?year=2024#frag', '/big']) {
    const answer = await call(gated, path, { accept: BROWSER_ACCEPT });
    assertSentToSignIn(answer, path.split('#')[0]);
    assert.equal(answer.body, '', 'a redirect has no body');
    assert.equal(answer.headers.get('cache-control'), 'no-store');
    assert.deepEqual(answer.setCookies, []);
  }
  // Accept preferring HTML is a browser whatever the method.
  assertSentToSignIn(await call(gated, '/app/form?x=1', { method: 'POST', accept: BROWSER_ACCEPT, body: 'a=1' }), '/app/form?x=1', 'POST, HTML');
  // A GET navigation without an HTML Accept (node:http: fetch always sends Sec-Fetch-Mode: cors).
  const nav = await rawGet(gated, '/app/page?x=%2F1', { 'sec-fetch-mode': 'navigate', accept: '*/*' });
  assertSentToSignIn(nav, '/app/page?x=%2F1', 'GET, Sec-Fetch-Mode: navigate');
  const navNoAccept = await rawGet(gated, '/api/private', { 'sec-fetch-mode': 'navigate' });
  assertSentToSignIn(navNoAccept, '/api/private', 'GET, navigate, no Accept');
  assertSentToSignIn(await call(everything, '/some/page?q=1', { accept: BROWSER_ACCEPT }), '/some/page?q=1', 'PROTECT=/');
  assert.equal(origin.count, before, 'nothing reached the site');
});

test('a browser sent to sign in lands back on the guarded page, which the site then serves', async () => {
  const jar = new Jar();
  const first = await call(gated, '/app/x?y=1&z=%2F', { jar, accept: BROWSER_ACCEPT });
  assertSentToSignIn(first, '/app/x?y=1&z=%2F');
  const login = await call(gated, first.headers.get('location'), { jar, accept: BROWSER_ACCEPT });
  assert.equal(login.status, 302, login.body);
  const back = await decide(new URL(login.headers.get('location')));
  const callback = await call(gated, `${back.pathname}${back.search}`, { jar, accept: BROWSER_ACCEPT });
  assert.equal(callback.status, 303, callback.body);
  assert.equal(callback.headers.get('location'), '/app/x?y=1&z=%2F');
  const page = await call(gated, callback.headers.get('location'), { jar, accept: BROWSER_ACCEPT });
  const echo = siteEcho(page);
  assert.equal(echo.path, '/app/x');
  assert.equal(echo.query, '?y=1&z=%2F');
});

// ---------------------------------------------------------------------------------------------
// What is guarded

test('a prefix guards whole segments: /application, /apps, /api/privateer, /api/public are 404 NOT_FOUND, signed in or not', async () => {
  const { jar } = await signedInJar();
  const before = origin.count;
  for (const path of ['/application', '/apps/x', '/ap', '/api/privateer', '/api/public', '/api', '/bigger', '/app.json']) {
    for (const withJar of [undefined, jar]) {
      const answer = await call(gated, path, { jar: withJar?.clone() });
      assertProblem(answer, 'NOT_FOUND', 404);
    }
  }
  assert.equal(origin.count, before, 'unguarded paths never reach the site');
  for (const path of ['/app', '/app/', '/app/a/b', '/api/private', '/api/private/1']) {
    assert.equal(siteEcho(await call(gated, path, { jar }), path).path, path);
  }
  assert.equal(origin.count, before + 5);
});

test('without FREEDOM_ID_PROTECT nothing is guarded: unknown paths are 404 NOT_FOUND, with or without a session', async () => {
  const { jar } = await signedInJar();
  const before = origin.count;
  for (const path of ['/app', '/app/x?y=1', '/api/private', '/anything']) {
    assertProblem(await call(plain, path), 'NOT_FOUND', 404);
    assertProblem(await call(plain, path, { jar: jar.clone(), apply: false }), 'NOT_FOUND', 404);
    const html = await call(plain, path, { accept: BROWSER_ACCEPT });
    assert.equal(html.status, 404);
    assert.equal(html.headers.get('location'), null);
  }
  assert.equal(origin.count, before);
  // The same session is live there (same secret): the Worker's own routes still work.
  assert.equal((await sessionStatus(plain, jar.clone())).json.signedIn, true);
});

test("FREEDOM_ID_PROTECT=/ guards everything the Worker does not answer itself; its routes and static files behave as before", async () => {
  const before = origin.count;
  // The demo start page gives way: guarding `/` guards the site's own home page.
  const index = await call(everything, '/');
  assertProblem(index, 'SIGN_IN_REQUIRED', 401);
  for (const file of ['/favicon.svg', '/style.css']) {
    const answer = await call(everything, file);
    assert.equal(answer.status, 200, file);
    assert.equal(answer.headers.get('x-origin'), null, file);
  }
  const health = await call(everything, '/healthz');
  assert.equal(health.status, 200);
  assert.deepEqual(JSON.parse(health.body), { status: 'ok' });
  assert.deepEqual((await sessionStatus(everything, new Jar())).json, { signedIn: false });
  const login = await call(everything, '/login?return_to=%2Fx');
  assert.equal(login.status, 302);
  assert.equal(new URL(login.headers.get('location')).origin, mock.origin);
  for (const [method, path, allow] of [['GET', '/logout', 'POST'], ['GET', '/revoke', 'POST'], ['POST', '/session', 'GET, HEAD'], ['POST', '/healthz', 'GET, HEAD']]) {
    const answer = await call(everything, path, { method });
    assertProblem(answer, 'METHOD_NOT_ALLOWED', 405);
    assert.equal(answer.headers.get('allow'), allow, `${method} ${path}`);
  }
  assert.equal(origin.count, before, "the Worker's own answers never reach the site");

  // Signed in, an unknown path goes to the site.
  const { jar } = await signedInJar();
  const echo = siteEcho(await call(everything, '/anything/at/all?x=1', { jar }));
  assert.equal(echo.path, '/anything/at/all');
  assert.equal(echo.query, '?x=1');
  assert.equal((await call(everything, '/healthz', { jar })).headers.get('x-origin'), null);
  // And in the gated Worker too: its routes are its own.
  assert.equal((await call(gated, '/healthz', { jar })).status, 200);
  assert.equal((await sessionStatus(gated, jar)).json.signedIn, true);
});

// ---------------------------------------------------------------------------------------------
// Forwarding

test('a live session is forwarded with the identity headers; the client X-Freedom-ID-* are removed first', async () => {
  const { jar, session } = await signedInJar();
  const status = await sessionStatus(gated, jar);
  assert.equal(status.json.signedIn, true);
  const answer = await call(gated, '/app/profile?x=1&y=%C3%A9', {
    jar,
    headers: {
      'X-Freedom-ID-Access-Token': 'spoofed-access-token',
      'X-Freedom-ID-Token-Id': 'spoofed-id',
      'X-Freedom-ID-Access-Expires-At': '1',
      'x-freedom-id-admin': 'yes',
      'X-FREEDOM-ID-ROLE': 'root',
      'X-Request-Id': 'req-123',
      Authorization: 'Bearer site-own-token',
      'Content-Language': 'kk',
    },
  });
  const echo = siteEcho(answer);
  assert.equal(echo.method, 'GET');
  assert.equal(echo.path, '/app/profile');
  assert.equal(echo.query, '?x=1&y=%C3%A9');
  assert.equal(echo.headers['x-freedom-id-access-token'], session.a, 'the access token from the session');
  assert.equal(echo.headers['x-freedom-id-token-id'], session.i, "the mock's token pair id");
  assert.equal(echo.headers['x-freedom-id-access-expires-at'], String(status.json.accessExpiresAt), "/session's accessExpiresAt");
  assert.deepEqual(identityHeadersSeen(echo).map(([name]) => name).sort(), [...IDENTITY].sort(), 'exactly the three identity headers, once each');
  assert.equal(echo.headers['x-request-id'], 'req-123', 'other headers kept');
  assert.equal(echo.headers.authorization, 'Bearer site-own-token');
  assert.equal(echo.headers['content-language'], 'kk');
  assert.equal(echo.headers.cookie, undefined, 'only the session cookie was sent: no Cookie reaches the site');
  assert.equal(echo.bodyLength, 0);
  // The site's answer as it is: status, its headers, both of its cookies, no session cookie.
  assert.equal(answer.headers.get('content-type'), 'application/json');
  assert.deepEqual(answer.setCookies, SITE_COOKIES);
});

test('client identity headers spelled with `_` for `-`, in any case, are removed too (CGI, WSGI and Rack fold both into one name)', async () => {
  const { jar, session } = await signedInJar();
  const answer = await call(gated, '/app/profile', {
    jar,
    headers: {
      X_Freedom_ID_Access_Token: 'spoofed-underscore-token',
      'x-freedom-id_token-id': 'spoofed-mixed-id',
      X_FREEDOM_ID_ACCESS_EXPIRES_AT: '1',
      x_freedom_id_role: 'root',
      'X-Freedom_Id-User-Id': 'u-1',
      'x-freedom-idx': 'not ours',
      x_freedom: 'not ours either',
      x_request_id: 'req-1',
    },
  });
  const echo = siteEcho(answer);
  // What a CGI-style site reads: names folded (`_` as `-`, any case).
  const folded = (name) => name.toLowerCase().replaceAll('_', '-');
  const ours = echo.rawHeaders.filter(([name]) => folded(name).startsWith('x-freedom-id-'));
  assert.deepEqual(
    ours.map(([name, value]) => [folded(name), value]).sort(),
    [
      ['x-freedom-id-access-expires-at', String(session.ae)],
      ['x-freedom-id-access-token', session.a],
      ['x-freedom-id-token-id', session.i],
    ],
    `only the Worker's three identity headers reach the site: ${JSON.stringify(ours.map(([name]) => name))}`,
  );
  assert.ok(!JSON.stringify(echo.rawHeaders).includes('spoofed'), 'no spoofed value reaches the site');
  assert.equal(echo.headers['x-freedom-idx'], 'not ours', 'a longer name is not ours: kept');
  assert.equal(echo.headers.x_freedom, 'not ours either');
  assert.equal(echo.headers.x_request_id, 'req-1', 'other underscore headers kept');
});

test("the Worker's cookies never reach the site: session, flow and dead-marker cookies stripped, the site's kept", async () => {
  const { value, session } = await signedInJar();
  const cookie = [
    'site_pref=dark',
    `${SESSION}=${value}`,
    `${FLOW_PREFIX}abcdefabcdefabcd=flowvalue`,
    'theme=blue',
    `${DEAD}=AAAAAAAAAAAAAAAA`, // names another sealed cookie: this session stays live
    `${FLOW_PREFIX}0123456789abcdef=other`,
    'last=1',
  ].join('; ');
  const echo = siteEcho(await call(gated, '/api/private/me', { cookie }));
  assert.equal(echo.headers['x-freedom-id-token-id'], session.i);
  assert.equal(echo.headers.cookie, 'site_pref=dark; theme=blue; last=1');
  assert.ok(!JSON.stringify(echo.rawHeaders).includes('__Host-freedom_id'), 'no __Host-freedom_id_* anywhere');
  assert.ok(!JSON.stringify(echo.rawHeaders).includes(value), 'the sealed session never reaches the site');
});

test('method, path, query and body are preserved for GET, POST, PUT, PATCH, DELETE, HEAD and OPTIONS', async () => {
  const { jar, session } = await signedInJar();
  const path = '/api/private/items/42';
  const query = '?sort=desc&tag=a%2Fb&tag=c&empty=&plus=a+b';
  for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']) {
    const body = ['POST', 'PUT', 'PATCH'].includes(method) ? JSON.stringify({ method, n: 42, text: 'қазақша' }) : undefined;
    const answer = await call(gated, `${path}${query}`, {
      method,
      jar,
      body,
      headers: body ? { 'content-type': 'application/json; charset=utf-8' } : {},
    });
    if (method === 'HEAD') {
      assert.equal(answer.status, 200, 'HEAD forwarded');
      assert.equal(answer.headers.get('x-origin'), 'test-origin');
      assert.equal(origin.requests.at(-1).method, 'HEAD');
      continue;
    }
    const echo = siteEcho(answer, method);
    assert.equal(echo.method, method);
    assert.equal(echo.path, path, method);
    assert.equal(echo.query, query, method);
    assert.equal(echo.headers['x-freedom-id-token-id'], session.i, method);
    if (body) {
      assert.equal(echo.bodyLength, Buffer.byteLength(body), method);
      assert.equal(echo.bodySha256, sha256(Buffer.from(body)), method);
      assert.equal(echo.headers['content-type'], 'application/json; charset=utf-8', method);
    } else {
      assert.equal(echo.bodyLength, 0, method);
    }
    assert.deepEqual(answer.setCookies, SITE_COOKIES, method);
  }
});

/** Cross-site (and not-quite-same-origin) headers a guarded write must be refused with; `port` is the Worker's. */
function crossSiteHeaders(worker) {
  const port = Number(new URL(worker.origin).port);
  return [
    { origin: 'https://evil.example' },
    { origin: `http://localhost:${port}` },
    { origin: `https://127.0.0.1:${port}` },
    { origin: `http://127.0.0.1:${port + 1}` },
    { origin: 'null' },
    { origin: 'null', 'sec-fetch-site': 'same-site' },
    { origin: 'null', 'sec-fetch-site': 'cross-site' },
    { 'sec-fetch-site': 'cross-site' },
    { 'sec-fetch-site': 'same-site' },
    { origin: worker.origin, 'sec-fetch-site': 'cross-site' },
    { origin: worker.origin, 'sec-fetch-site': 'same-site' },
  ];
}

test('a guarded write from another site is 403 CROSS_SITE_REQUEST, before any session work, and never reaches the site', async () => {
  const { jar } = await signedInJar(gated, { accessTtlSeconds: 30 }); // due: a refresh would show
  mock.reset();
  const before = origin.count;
  for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
    for (const headers of crossSiteHeaders(gated)) {
      const body = method === 'DELETE' ? undefined : '{"amount":100}';
      const answer = await freshRequest(gated, '/api/private/transfer', {
        method,
        jar,
        body,
        headers: { ...headers, 'content-type': 'application/json' },
      });
      assertProblem(answer, 'CROSS_SITE_REQUEST', 403);
      assert.deepEqual(answer.setCookies, [], `${method} ${JSON.stringify(headers)}: nothing set`);
    }
  }
  // A browser gets the HTML page.
  const page = await freshRequest(gated, '/app/form', {
    method: 'POST',
    jar,
    accept: BROWSER_ACCEPT,
    body: 'a=1',
    headers: { origin: 'https://evil.example', 'content-type': 'application/x-www-form-urlencoded' },
  });
  assert.equal(page.status, 403, page.body);
  assert.match(page.headers.get('content-type'), /^text\/html/);
  assert.match(page.body, /<code>CROSS_SITE_REQUEST<\/code>/);
  assert.equal(page.headers.get('location'), null);
  // Signed out, a cross-site write is refused the same way (not sent to sign in).
  assertProblem(await freshRequest(gated, '/app/x', { method: 'POST', body: 'x', headers: { origin: 'https://evil.example' } }), 'CROSS_SITE_REQUEST', 403);
  assert.equal(origin.count, before, 'no cross-site write reached the site');
  assert.deepEqual(mock.requests, [], 'refused before the session was even refreshed');
});

test('a guarded write from this site (its Origin, no Origin, or Origin: null with Sec-Fetch-Site: same-origin) is forwarded; reads from anywhere are', async () => {
  const { jar, session } = await signedInJar();
  const fromHere = [
    { origin: gated.origin },
    { origin: gated.origin, 'sec-fetch-site': 'same-origin' },
    {},
    { 'sec-fetch-site': 'same-origin' },
    { 'sec-fetch-site': 'none' },
    { origin: 'null', 'sec-fetch-site': 'same-origin' },
  ];
  for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
    for (const headers of fromHere) {
      const body = method === 'DELETE' ? undefined : `{"method":"${method}"}`;
      const before = origin.count;
      const echo = siteEcho(await call(gated, '/api/private/items?x=1', { method, jar, body, headers }), `${method} ${JSON.stringify(headers)}`);
      assert.equal(origin.count, before + 1);
      assert.equal(echo.method, method);
      assert.equal(echo.bodyLength, body === undefined ? 0 : Buffer.byteLength(body));
      assert.equal(echo.headers['x-freedom-id-token-id'], session.i);
    }
  }
  // Reads go through from anywhere: a link from another site must work.
  for (const method of ['GET', 'HEAD', 'OPTIONS']) {
    const answer = await call(gated, '/app/page', { method, jar, headers: { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' } });
    assert.equal(answer.status, 200, `${method}: ${answer.body}`);
    assert.equal(answer.headers.get('x-origin'), 'test-origin', method);
  }
});

test('FREEDOM_ID_GATE_CSRF=off forwards cross-site writes: the site checks them itself', async () => {
  const { jar, session } = await signedInJar();
  for (const headers of crossSiteHeaders(lenient)) {
    const echo = siteEcho(await call(lenient, '/app/transfer', { method: 'POST', jar, body: 'x', headers }), JSON.stringify(headers));
    assert.equal(echo.method, 'POST');
    assert.equal(echo.headers['x-freedom-id-token-id'], session.i);
    if (headers.origin) assert.equal(echo.headers.origin, headers.origin, 'the Origin reaches the site, for its own check');
  }
});

test('a 5 MB request body reaches the site intact (with Content-Length, and chunked)', async () => {
  const { jar } = await signedInJar();
  const upload = patternBytes(12345, BIG_BODY_BYTES);
  const fixed = siteEcho(await call(gated, '/app/upload?kind=fixed', {
    method: 'POST',
    jar,
    body: upload,
    headers: { 'content-type': 'application/octet-stream' },
  }));
  assert.equal(fixed.bodyLength, BIG_BODY_BYTES);
  assert.equal(fixed.bodySha256, sha256(upload));

  // A streamed body without Content-Length, in 64 KiB chunks.
  let offset = 0;
  const stream = new ReadableStream({
    pull(controller) {
      if (offset >= BIG_BODY_BYTES) return controller.close();
      const length = Math.min(64 * 1024, BIG_BODY_BYTES - offset);
      controller.enqueue(new Uint8Array(upload.subarray(offset, offset + length)));
      offset += length;
    },
  });
  const chunked = siteEcho(await call(gated, '/app/upload?kind=stream', { method: 'PUT', jar, body: stream }));
  assert.equal(chunked.method, 'PUT');
  assert.equal(chunked.bodyLength, BIG_BODY_BYTES);
  assert.equal(chunked.bodySha256, sha256(upload));
});

test("a 5 MB answer from the site comes back intact, streamed, with both of the site's cookies", async () => {
  const { jar } = await signedInJar();
  const answer = await call(gated, '/big', { jar });
  assert.equal(answer.status, 200);
  assert.equal(answer.headers.get('content-type'), 'application/octet-stream');
  assert.equal(answer.bytes.length, BIG_BODY_BYTES);
  assert.equal(sha256(answer.bytes), bigBodySha256());
  assert.deepEqual(answer.setCookies, SITE_COOKIES);

  // Both ways at once: 5 MB up, 5 MB down.
  const upload = patternBytes(999, BIG_BODY_BYTES);
  const both = await call(gated, '/big/upload', { method: 'POST', jar, body: upload });
  assert.equal(both.status, 200);
  assert.equal(sha256(both.bytes), bigBodySha256());

  // Streamed, not buffered: the site pauses 1.5 s after its first 64 KiB, and those arrive before.
  const started = performance.now();
  const response = await fetch(new URL('/big?pause_ms=1500', gated.url), { headers: { cookie: jar.header() } });
  const reader = response.body.getReader();
  const first = await reader.read();
  const firstAt = performance.now() - started;
  let total = first.value.length;
  const hash = createHash('sha256').update(first.value);
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
    total += chunk.value.length;
    hash.update(chunk.value);
  }
  const doneAt = performance.now() - started;
  assert.ok(doneAt >= 1500, `the site paused (done after ${doneAt.toFixed(0)} ms)`);
  assert.ok(firstAt < 1000, `the first bytes came after ${firstAt.toFixed(0)} ms: the answer was buffered, not streamed`);
  assert.equal(total, BIG_BODY_BYTES);
  assert.equal(hash.digest('hex'), bigBodySha256());
});

// ---------------------------------------------------------------------------------------------
// Refresh

test('a guarded request refreshes the session first: one PATCH, the site sees the NEW access token, the renewed cookie comes back with the site cookies', async () => {
  const { jar, session, value } = await signedInJar(gated, { accessTtlSeconds: 30 });
  mock.reset();
  const answer = await call(gated, '/app/me?after=refresh', { jar });
  const echo = siteEcho(answer);
  assert.equal(refreshes().length, 1, `one PATCH, got ${refreshes().length}`);
  assert.equal(refreshes()[0].headers.authorization, `Bearer ${session.r}`);
  const line = setCookieFor(answer, SESSION);
  assert.match(line ?? '', new RegExp(`^${SESSION}=[A-Za-z0-9_-]+; ${ATTRIBUTES}; Max-Age=\\d+$`), `the renewed session is set: ${JSON.stringify(answer.setCookies)}`);
  for (const cookie of SITE_COOKIES) assert.ok(answer.setCookies.includes(cookie), `the site's ${cookie} kept: ${JSON.stringify(answer.setCookies)}`);
  assert.equal(answer.setCookies.length, 3, JSON.stringify(answer.setCookies));
  const renewedValue = jar.get(SESSION);
  assert.notEqual(renewedValue, value);
  const renewed = await unsealSession(renewedValue);
  assert.notEqual(renewed.a, session.a, 'a new access token');
  assert.equal(echo.headers['x-freedom-id-access-token'], renewed.a, 'the site saw the NEW access token');
  assert.notEqual(echo.headers['x-freedom-id-access-token'], session.a);
  assert.equal(echo.headers['x-freedom-id-token-id'], session.i, 'the same grant id');
  assert.equal(echo.headers['x-freedom-id-access-expires-at'], String(renewed.ae));
  assert.ok(renewed.ae > Math.floor(Date.now() / 1000) + 600, 'the renewed access token lasts');

  // The renewed cookie is fresh: no further refresh, only the site's cookies.
  const again = await call(gated, '/app/me', { jar });
  assert.equal(siteEcho(again).headers['x-freedom-id-access-token'], renewed.a);
  assert.deepEqual(again.setCookies, SITE_COOKIES);
  assert.equal(refreshes().length, 1);
});

test('a refused refresh on a guarded request signs out: 401 for an API caller, nothing forwarded', async () => {
  const { jar } = await signedInJar(gated, { accessTtlSeconds: 30 });
  mock.reset();
  mock.setTokenMode('status:401');
  const before = origin.count;
  const answer = await call(gated, '/app/me', { jar, accept: 'application/json' });
  assertSignInRequired(answer, 'after a refused refresh');
  assert.equal(refreshes().length, 1);
  assert.ok(setCookieFor(answer, DEAD), `a dead marker: ${JSON.stringify(answer.setCookies)}`);
  assertSentToSignIn(await call(gated, '/app/me', { jar, accept: BROWSER_ACCEPT }), '/app/me', 'browser, dead session');
  assert.equal(refreshes().length, 1, 'the marker stops a second PATCH');
  assert.equal(origin.count, before);
});

// Refresh outages with the access token EXPIRED (not merely due), with the code and status each
// gives at the refresh (support/faults.mjs). The malformed 200s have a test of their own below.
const EXPIRED_OUTAGES = faults(TOKEN_FAULTS, ['status:503', 'status:500', 'redirect', 'hang', 'reset']);

test('an EXPIRED access token whose refresh hits an outage is never forwarded: the outage\'s code with Retry-After: 5, the session kept; once Freedom ID answers, the next request is', async () => {
  // An access token of 0 s: expired as soon as it is issued (the Worker drops the fraction).
  const { jar, session, value } = await signedInJar(gated, { accessTtlSeconds: 0 });
  assert.ok(session.ae <= nowSeconds(), `the access token has expired (ae ${session.ae})`);
  mock.reset();
  const before = origin.count;
  for (const { mode, refresh: { code, status } } of EXPIRED_OUTAGES) {
    mock.setTokenMode(mode);
    for (const method of ['GET', 'POST']) {
      const answer = await call(gated, '/app/data?x=1', { method, jar, body: method === 'POST' ? 'x' : undefined });
      assertProblem(answer, code, status);
      assert.equal(answer.headers.get('retry-after'), '5', `${mode} ${method}: Retry-After`);
      assert.deepEqual(answer.setCookies, [], `${mode} ${method}: the session cookie stays, nothing set`);
      assert.ok(!answer.body.includes(session.a) && !answer.body.includes(session.r), `${mode}: no token in the answer`);
    }
  }
  assert.equal(refreshes().length, EXPIRED_OUTAGES.length * 2, 'every request tried the refresh again');
  // A browser gets the HTML page, with the same code, status and Retry-After.
  mock.setTokenMode('status:503');
  const page = await call(gated, '/app', { jar, accept: BROWSER_ACCEPT });
  assert.equal(page.status, 502, page.body);
  assert.match(page.headers.get('content-type'), /^text\/html/);
  assert.match(page.body, /<code>UPSTREAM_STATUS<\/code>/);
  assert.equal(page.headers.get('retry-after'), '5');
  assert.equal(page.headers.get('location'), null, 'not sent to sign in: the session is kept');
  // /session: still signed in, with the past expiry, never a token.
  const status = await sessionStatus(gated, jar);
  assert.deepEqual(status.json, { signedIn: true, accessExpiresAt: session.ae, refreshExpiresAt: session.re, user: null });
  assert.ok(status.json.accessExpiresAt <= nowSeconds());
  assert.deepEqual(status.setCookies, []);
  assert.ok(!status.body.includes(session.a) && !status.body.includes(session.r));
  assert.equal(jar.get(SESSION), value, 'the same session cookie throughout');
  assert.equal(origin.count, before, 'the expired token never reached the site');

  // Freedom ID answers again: the next request refreshes and is forwarded with the new token.
  mock.setTokenMode('ok');
  const refreshesBefore = refreshes().length;
  const back = await call(gated, '/app/data?x=2', { jar });
  const echo = siteEcho(back, 'after the outage');
  assert.equal(refreshes().length, refreshesBefore + 1);
  assert.ok(setCookieFor(back, SESSION), 'the renewed session is set');
  const renewed = await unsealSession(jar.get(SESSION));
  assert.notEqual(renewed.a, session.a);
  assert.equal(echo.headers['x-freedom-id-access-token'], renewed.a, 'the site sees only the NEW token');
  assert.ok(renewed.ae > nowSeconds() + 600);
  assert.equal(origin.count, before + 1);
});

test('an EXPIRED access token whose refresh is answered with a malformed 200 is never forwarded: 502 UPSTREAM_MALFORMED with Retry-After: 5', async () => {
  for (const { mode, refresh: { code, status } } of faults(TOKEN_FAULTS, ['not-json', 'no-access-token', 'bad-expiry'])) {
    mock.setTokenMode('ok');
    const { jar, session, value } = await signedInJar(gated, { accessTtlSeconds: 0 });
    mock.reset();
    mock.setTokenMode(mode);
    const before = origin.count;
    const answer = await call(gated, '/app/data', { jar });
    assertProblem(answer, code, status);
    assert.equal(answer.headers.get('retry-after'), '5', mode);
    assert.deepEqual(answer.setCookies, [], `${mode}: the session stays`);
    assert.equal(refreshes().length, 1, mode);
    assert.deepEqual((await sessionStatus(gated, jar)).json, { signedIn: true, accessExpiresAt: session.ae, refreshExpiresAt: session.re, user: null });
    assert.equal(jar.get(SESSION), value);
    assert.equal(origin.count, before, `${mode}: the expired token never reached the site`);
  }
});

test('after a malformed refresh answer the next request retries the refresh, and once Freedom ID answers it is forwarded', async () => {
  const { jar } = await signedInJar(gated, { accessTtlSeconds: 0 });
  mock.reset();
  for (const { mode, refresh: { code, status } } of faults(TOKEN_FAULTS, ['not-json', 'status:503'])) {
    mock.setTokenMode(mode);
    assertProblem(await call(gated, '/app/data', { jar }), code, status);
  }
  assert.equal(refreshes().length, 2, 'the second request tried the refresh again');
  mock.setTokenMode('ok');
  siteEcho(await call(gated, '/app/data', { jar }), 'after Freedom ID recovered');
  assert.equal(refreshes().length, 3);
});

test('an access token due but not yet expired is still forwarded when its refresh hits an outage', async () => {
  const { jar, session } = await signedInJar(gated, { accessTtlSeconds: 30 });
  mock.reset();
  for (const { mode } of faults(TOKEN_FAULTS, ['status:503', 'reset'])) {
    mock.setTokenMode(mode);
    const answer = await call(gated, '/app/due', { jar });
    const echo = siteEcho(answer, mode);
    assert.equal(echo.headers['x-freedom-id-access-token'], session.a, `${mode}: the still-valid token`);
    assert.equal(answer.headers.get('retry-after'), null);
    assert.deepEqual(answer.setCookies, SITE_COOKIES, `${mode}: only the site's cookies`);
  }
  assert.equal(refreshes().length, 2);
});

test("a forwarded answer carrying a refreshed session cookie is Cache-Control: private, no-store in place of the site's own", async () => {
  const cached = `/app/cached?cache_control=${encodeURIComponent('public, max-age=600')}`;
  const { jar } = await signedInJar(gated, { accessTtlSeconds: 30 });
  mock.reset();
  const renewed = await call(gated, cached, { jar });
  siteEcho(renewed, 'refreshed');
  assert.equal(refreshes().length, 1);
  assert.ok(setCookieFor(renewed, SESSION), `a renewed session: ${JSON.stringify(renewed.setCookies)}`);
  assert.equal(renewed.headers.get('cache-control'), 'private, no-store', 'a shared cache must never keep a session cookie');
  // Without a refresh the site's own caching stands.
  const fresh = await call(gated, cached, { jar });
  siteEcho(fresh, 'fresh');
  assert.deepEqual(fresh.setCookies, SITE_COOKIES);
  assert.equal(fresh.headers.get('cache-control'), 'public, max-age=600');
  // A site that says nothing of caching gets it too, only with a session cookie.
  const other = await signedInJar(gated, { accessTtlSeconds: 30 });
  const bare = await call(gated, '/app/bare', { jar: other.jar });
  assert.ok(setCookieFor(bare, SESSION));
  assert.equal(bare.headers.get('cache-control'), 'private, no-store');
  assert.equal((await call(gated, '/app/bare', { jar: other.jar })).headers.get('cache-control'), null);
  assert.equal(refreshes().length, 2);
});

test(`FREEDOM_ID_SESSION_MAX_AGE=${SHORT_MAX_AGE}: past it a guarded request is signed out, its cookie cleared, with no refresh and nothing forwarded`, async () => {
  const { session } = await signedInJar(lenient);
  const now = nowSeconds();
  assert.ok(Math.abs(session.b - now) <= 2, `the sign-in time is sealed (b ${session.b})`);
  // The same session, signed in SHORT_MAX_AGE + 1 seconds ago, its refresh token still good
  // for a day and its access token due: over all the same.
  const old = await seal(SESSION_SECRET, SESSION, JSON.stringify({ ...session, ae: now + 30, b: now - SHORT_MAX_AGE - 1 }));
  mock.reset();
  const before = origin.count;
  const api = await call(lenient, '/app/x', { cookie: `${SESSION}=${old}`, accept: 'application/json' });
  assertSignInRequired(api, 'past the session max age');
  assertCleared(api, SESSION);
  const browser = await call(lenient, '/app/x', { cookie: `${SESSION}=${old}`, accept: BROWSER_ACCEPT });
  assertSentToSignIn(browser, '/app/x', 'past the session max age, browser');
  assertCleared(browser, SESSION);
  assert.equal(origin.count, before, 'nothing forwarded');
  assert.deepEqual(mock.requests, [], 'no refresh for a session past its life');
  // The same session a little younger is forwarded (refreshed), its cookie ending where the session does.
  const younger = await seal(SESSION_SECRET, SESSION, JSON.stringify({ ...session, ae: now + 30, b: now - SHORT_MAX_AGE + 100 }));
  const answer = await call(lenient, '/app/x', { cookie: `${SESSION}=${younger}` });
  siteEcho(answer, 'within the session max age');
  assert.equal(refreshes().length, 1);
  const [, maxAge] = /; Max-Age=(\d+)$/.exec(setCookieFor(answer, SESSION) ?? '') ?? [];
  assert.ok(Number(maxAge) <= 100 && Number(maxAge) >= 95, `the renewed cookie ends with the session: Max-Age ${maxAge}`);
});

// ---------------------------------------------------------------------------------------------
// Revocation

/** POST /revoke?key=<key> (FREEDOM_ID_REVOKE_KEY unless given; `null`: no key parameter). */
async function revoke(worker, body, headers = { 'content-type': 'application/json' }, key = REVOKE_KEY) {
  const target = key === null ? '/revoke' : `/revoke?key=${encodeURIComponent(key)}`;
  return call(worker, target, { method: 'POST', body, headers });
}

test('POST /revoke signs the session out on its next guarded request and on /session, its cookie cleared', async () => {
  const { jar, value } = await signedInJar();
  const other = await signedInJar();
  const echo = siteEcho(await call(gated, '/app/who', { jar }));
  const id = echo.headers['x-freedom-id-token-id'];
  assert.match(id, UUID);
  assert.notEqual(other.session.i, id, 'two sign-ins, two grants');

  const answer = await revoke(gated, JSON.stringify({ id }));
  assert.equal(answer.status, 204, answer.body);
  assert.equal(answer.body, '');
  assert.deepEqual(answer.setCookies, []);

  const before = origin.count;
  const api = await call(gated, '/app/who', { jar: jar.clone(), accept: 'application/json' });
  assertSignInRequired(api, 'revoked, API');
  assertCleared(api, SESSION);
  const browser = await call(gated, '/app/who?x=1', { jar: jar.clone(), accept: BROWSER_ACCEPT });
  assertSentToSignIn(browser, '/app/who?x=1', 'revoked, browser');
  assertCleared(browser, SESSION);
  const nav = await rawGet(gated, '/api/private', { cookie: `${SESSION}=${value}`, 'sec-fetch-mode': 'navigate' });
  assertSentToSignIn(nav, '/api/private', 'revoked, navigate');
  const status = await sessionStatus(gated, jar);
  assert.deepEqual(status.json, { signedIn: false });
  assertCleared(status, SESSION);
  assert.equal(origin.count, before, 'a revoked session reaches nothing');
  assert.deepEqual(refreshes(), [], 'no refresh for a revoked session');

  // Revoking twice is the same answer; the other session is untouched.
  assert.equal((await revoke(gated, JSON.stringify({ id }))).status, 204);
  assert.equal(siteEcho(await call(gated, '/app/who', { jar: other.jar })).headers['x-freedom-id-token-id'], other.session.i);
  assert.equal((await sessionStatus(gated, other.jar)).json.signedIn, true);
});

test('a revoked session due for a refresh is signed out without spending its refresh token', async () => {
  const { jar, session } = await signedInJar(gated, { accessTtlSeconds: 30 });
  assert.equal((await revoke(gated, JSON.stringify({ id: session.i }))).status, 204);
  mock.reset();
  const api = await call(gated, '/app', { jar: jar.clone() });
  assertSignInRequired(api, 'revoked, due for refresh');
  assertCleared(api, SESSION);
  assert.deepEqual(refreshes(), []);
});

test('POST /revoke with an unknown id is 204 too, and signs nobody out', async () => {
  const { jar, session } = await signedInJar();
  for (const id of ['00000000-0000-4000-8000-000000000000', 'unknown-id', 'x', 'a'.repeat(200)]) {
    const answer = await revoke(gated, JSON.stringify({ id }));
    assert.equal(answer.status, 204, `${id}: ${answer.body}`);
    assert.equal(answer.body, '');
  }
  assert.equal(siteEcho(await call(gated, '/app', { jar })).headers['x-freedom-id-token-id'], session.i);
  assert.equal((await sessionStatus(gated, jar)).json.signedIn, true);
});

test('POST /revoke with a bad body is 400 INVALID_REQUEST', async () => {
  const bodies = {
    'not JSON': 'id=abc',
    'truncated JSON': '{"id":"abc"',
    empty: '',
    'a JSON string': '"abc"',
    'a JSON array': '["abc"]',
    'no id': '{}',
    'another member': '{"ids":"abc"}',
    'id a number': '{"id":42}',
    'id null': '{"id":null}',
    'id an array': '{"id":["abc"]}',
    'id an object': '{"id":{"v":"abc"}}',
    'id empty': '{"id":""}',
    'id with a space': '{"id":"abc def"}',
    'id with a leading space': '{"id":" abc"}',
    'over 1 KiB': JSON.stringify({ id: 'a'.repeat(1100) }),
    'over 1 KiB of padding': `{"id":"abc"${' '.repeat(1100)}}`,
  };
  for (const [why, body] of Object.entries(bodies)) {
    const answer = await revoke(gated, body);
    assert.equal(answer.status, 400, `${why}: ${answer.status} ${answer.body}`);
    assertProblem(answer, 'INVALID_REQUEST', 400);
  }
  // Without a Content-Type the body is still read the same way.
  assert.equal((await revoke(gated, JSON.stringify({ id: 'abc' }), {})).status, 204);
});

test('without the FREEDOM_ID_REVOCATIONS binding POST /revoke is 501 REVOCATION_UNAVAILABLE', async () => {
  // plain and everything have no revoke key either; lenient has the key but no binding.
  for (const worker of [plain, everything, lenient]) {
    const answer = await revoke(worker, JSON.stringify({ id: '00000000-0000-4000-8000-000000000000' }));
    assertProblem(answer, 'REVOCATION_UNAVAILABLE', 501);
  }
  // A key without the binding is no misconfiguration.
  assert.equal((await call(lenient, '/healthz')).status, 200);
  // Sessions there are unaffected by a missing binding.
  const { jar } = await signedInJar();
  siteEcho(await call(everything, '/x', { jar }));
});

test('POST /revoke without FREEDOM_ID_REVOKE_KEY in its key parameter is 403 REVOCATION_FORBIDDEN, and records nothing', async () => {
  const { jar, session } = await signedInJar();
  const body = JSON.stringify({ id: session.i });
  const stored = await revocations(gated);
  assert.ok(!stored.has(`revoked:${session.i}`));
  const targets = [
    '/revoke',
    '/revoke?key=',
    `/revoke?key=${'w'.repeat(REVOKE_KEY.length)}`,
    `/revoke?key=${REVOKE_KEY}x`,
    `/revoke?key=${REVOKE_KEY.slice(1)}`,
    `/revoke?key=${REVOKE_KEY.slice(0, -1)}`,
    `/revoke?key=${REVOKE_KEY.toUpperCase()}`,
    `/revoke?other=${REVOKE_KEY}`,
    `/revoke?KEY=${REVOKE_KEY}`,
  ];
  for (const target of targets) {
    const answer = await call(gated, target, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    assertProblem(answer, 'REVOCATION_FORBIDDEN', 403);
    assert.ok(!answer.body.includes(REVOKE_KEY), `${target}: the key is never shown`);
    assert.deepEqual(answer.setCookies, []);
  }
  // The key anywhere but the query does not count.
  for (const headers of [{ authorization: `Bearer ${REVOKE_KEY}` }, { 'x-revoke-key': REVOKE_KEY }]) {
    assertProblem(await call(gated, '/revoke', { method: 'POST', body, headers }), 'REVOCATION_FORBIDDEN', 403);
  }
  assertProblem(await call(gated, '/revoke', { method: 'POST', body: JSON.stringify({ id: session.i, key: REVOKE_KEY }) }), 'REVOCATION_FORBIDDEN', 403);
  assert.deepEqual(await revocations(gated), stored, 'no KV write without the key');
  // A bad body with a wrong key: the key is checked first.
  assertProblem(await revoke(gated, 'not json', undefined, 'wrong'), 'REVOCATION_FORBIDDEN', 403);
  siteEcho(await call(gated, '/app/still', { jar }), 'still signed in');

  // With the key: 204, and recorded for the session's longest life (30 days by default).
  const accepted = await revoke(gated, body);
  assert.equal(accepted.status, 204, accepted.body);
  const expiry = (await revocations(gated)).get(`revoked:${session.i}`);
  assert.ok(expiry, 'recorded in KV');
  assert.ok(Math.abs(expiry - (nowSeconds() + 30 * 24 * 3600)) <= 5, `kept 30 days: expires ${expiry}`);
  assertSignInRequired(await call(gated, '/app/still', { jar: jar.clone(), accept: 'application/json' }), 'revoked');
  assert.ok(!gated.logs().includes(REVOKE_KEY), 'the key is never logged');
});

test('FREEDOM_ID_REVOCATIONS bound without FREEDOM_ID_REVOKE_KEY: /revoke is 501 REVOCATION_UNAVAILABLE and /healthz 503 names the key', async () => {
  const health = await call(keyless, '/healthz');
  assert.equal(health.status, 503, health.body);
  assert.deepEqual(JSON.parse(health.body), { status: 'misconfigured', problems: ['FREEDOM_ID_REVOKE_KEY'] });
  for (const target of ['/revoke', `/revoke?key=${REVOKE_KEY}`]) {
    const answer = await call(keyless, target, { method: 'POST', body: JSON.stringify({ id: 'abc' }) });
    assertProblem(answer, 'REVOCATION_UNAVAILABLE', 501);
  }
  assert.deepEqual([...(await revocations(keyless)).keys()], [], 'nothing recorded');
  // Everything else works: sign-in, the gate.
  const { jar } = await signedInJar(keyless);
  siteEcho(await call(keyless, '/app', { jar }), 'keyless gate');
  // With the key set (gated), /healthz is ok.
  assert.deepEqual(JSON.parse((await call(gated, '/healthz')).body), { status: 'ok' });
});

test('invalid FREEDOM_ID_SESSION_MAX_AGE, FREEDOM_ID_GATE_CSRF and FREEDOM_ID_REVOKE_KEY: /healthz 503 names each, and no value', async () => {
  const health = await call(badSettings, '/healthz');
  assert.equal(health.status, 503, health.body);
  assert.deepEqual(JSON.parse(health.body), {
    status: 'misconfigured',
    problems: ['FREEDOM_ID_SESSION_MAX_AGE', 'FREEDOM_ID_GATE_CSRF', 'FREEDOM_ID_REVOKE_KEY'],
  });
  assert.ok(!health.body.includes('short-key'));
  const login = assertProblem(await call(badSettings, '/login'), 'MISCONFIGURED', 500);
  assert.ok(!JSON.stringify(login).includes('short-key'));
});

test('with the revocations binding POST /logout records the token id: a copy of the session cookie is signed out at the gate and on /session', async () => {
  const { jar, session } = await signedInJar();
  const copy = jar.clone(); // say, lifted from the machine before its owner signed out
  siteEcho(await call(gated, '/app/before', { jar: copy.clone() }), 'the copy, before sign-out');
  // A refused (cross-site) sign-out records nothing.
  const refused = await call(gated, '/logout', { method: 'POST', jar, headers: { origin: 'https://evil.example' } });
  assertProblem(refused, 'CROSS_SITE_REQUEST', 403);
  assert.ok(!(await revocations(gated)).has(`revoked:${session.i}`), 'a refused sign-out records nothing');

  const out = await call(gated, '/logout', { method: 'POST', jar, headers: { origin: gated.origin } });
  assert.equal(out.status, 303, out.body);
  assert.equal(out.headers.get('location'), '/');
  assertCleared(out, SESSION);
  const expiry = (await revocations(gated)).get(`revoked:${session.i}`);
  assert.ok(expiry, 'the token id is recorded');
  assert.ok(Math.abs(expiry - (nowSeconds() + 30 * 24 * 3600)) <= 5, `kept as long as a session lives: ${expiry}`);

  mock.reset();
  const before = origin.count;
  const api = await call(gated, '/app/after', { jar: copy.clone(), accept: 'application/json' });
  assertSignInRequired(api, 'a copy after sign-out');
  assertCleared(api, SESSION);
  assertSentToSignIn(await call(gated, '/app/after', { jar: copy.clone(), accept: BROWSER_ACCEPT }), '/app/after', 'a copy after sign-out, browser');
  const status = await sessionStatus(gated, copy.clone());
  assert.deepEqual(status.json, { signedIn: false });
  assertCleared(status, SESSION);
  assert.equal(origin.count, before, 'the copy reaches nothing');
  assert.deepEqual(mock.requests, []);
  // Signing in again is a new token pair: not signed out.
  const again = await signedInJar();
  siteEcho(await call(gated, '/app/again', { jar: again.jar }), 'a new sign-in');
});

test('without the revocations binding POST /logout signs that browser out only: a copy of its cookie still works', async () => {
  const { jar, session } = await signedInJar();
  const copy = jar.clone();
  const out = await call(everything, '/logout', { method: 'POST', jar, headers: { origin: everything.origin } });
  assert.equal(out.status, 303, out.body);
  assertCleared(out, SESSION);
  assert.deepEqual(jar.names(), []);
  assert.equal(siteEcho(await call(everything, '/x', { jar: copy.clone() }), 'the copy').headers['x-freedom-id-token-id'], session.i);
  assert.equal((await sessionStatus(everything, copy.clone())).json.signedIn, true);
});

test('GET /revoke is 405 with Allow: POST', async () => {
  for (const worker of [gated, plain]) {
    for (const method of ['GET', 'HEAD', 'PUT', 'DELETE']) {
      const answer = await call(worker, '/revoke', { method });
      assert.equal(answer.status, 405, `${method} /revoke`);
      assert.equal(answer.headers.get('allow'), 'POST', `${method} /revoke`);
    }
    assertProblem(await call(worker, '/revoke'), 'METHOD_NOT_ALLOWED', 405);
  }
});

// ---------------------------------------------------------------------------------------------
// The site down

test('the site down: 502 APP_UNREACHABLE, and no token in the log', async () => {
  const { jar, session, value } = await signedInJar();
  const answer = await call(down, '/app/x?y=1', { jar: jar.clone() });
  assertProblem(answer, 'APP_UNREACHABLE', 502);
  assert.deepEqual(answer.setCookies, [], 'nothing set when nothing was refreshed');
  const html = await call(down, '/app', { jar: jar.clone(), accept: BROWSER_ACCEPT });
  assert.equal(html.status, 502);
  assert.match(html.headers.get('content-type'), /^text\/html/);
  assert.match(html.body, /<code>APP_UNREACHABLE<\/code>/);
  // Without a session the gate still answers first.
  assertSignInRequired(await call(down, '/app'), 'site down, no session');
  // Unguarded paths are not affected.
  assertProblem(await call(down, '/elsewhere', { jar: jar.clone() }), 'NOT_FOUND', 404);
  const logs = down.logs();
  assert.match(logs, /APP_UNREACHABLE/, 'the failure is logged');
  for (const secret of [session.a, session.r, value, session.i]) {
    assert.ok(!logs.includes(secret), `the log shows ${JSON.stringify(secret.slice(0, 16))}...`);
  }
});

test('the site down during a refresh: 502, and the renewed session cookie is still set (the old refresh token is spent)', async () => {
  const { jar, session } = await signedInJar(gated, { accessTtlSeconds: 30 });
  mock.reset();
  const answer = await call(down, '/app', { jar });
  assertProblem(answer, 'APP_UNREACHABLE', 502);
  assert.equal(refreshes().length, 1);
  const line = setCookieFor(answer, SESSION);
  assert.ok(line, `the renewed session is kept: ${JSON.stringify(answer.setCookies)}`);
  const renewed = await unsealSession(jar.get(SESSION));
  assert.notEqual(renewed.r, session.r);
  assert.ok(!down.logs().includes(renewed.a) && !down.logs().includes(renewed.r));
});

test('a site that goes away: 502 APP_UNREACHABLE once its server is closed', async () => {
  const site = await startOriginServer();
  const worker = await startWorker(workingBindings(mock, { FREEDOM_ID_PROTECT: '/app', FREEDOM_ID_APP_ORIGIN: site.url, FREEDOM_ID_FORWARD_ACCESS_TOKEN: 'on' }));
  try {
    const { jar } = await signedInJar();
    siteEcho(await call(worker, '/app', { jar }), 'while up');
    await site.close();
    assertProblem(await call(worker, '/app', { jar }), 'APP_UNREACHABLE', 502);
    const logs = worker.logs();
    for (const secret of secrets) assert.ok(!logs.includes(secret), `the log shows ${JSON.stringify(secret.slice(0, 16))}...`);
  } finally {
    await worker.close();
    await site.close();
  }
});

// ---------------------------------------------------------------------------------------------
// Load and latency

test('400 guarded requests at concurrency 16 are all forwarded', async () => {
  const { jar, session } = await signedInJar();
  const before = origin.count;
  const statuses = new Map();
  let next = 0;
  const failures = [];
  async function lane() {
    while (next < 400) {
      const n = next;
      next += 1;
      const answer = await call(gated, `/app/load/${n}?n=${n}`, { jar, apply: false });
      statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
      if (answer.status !== 200 || answer.headers.get('x-origin') !== 'test-origin') {
        failures.push(`${n}: ${answer.status} ${answer.body.slice(0, 120)}`);
        continue;
      }
      const echo = JSON.parse(answer.body);
      if (echo.path !== `/app/load/${n}` || echo.query !== `?n=${n}` || echo.headers['x-freedom-id-token-id'] !== session.i) {
        failures.push(`${n}: echoed ${echo.path}${echo.query}`);
      }
    }
  }
  await Promise.all(Array.from({ length: 16 }, lane));
  assert.deepEqual(failures, [], `statuses ${JSON.stringify([...statuses])}`);
  assert.deepEqual([...statuses], [[200, 400]]);
  assert.equal(origin.count - before, 400, 'the site answered all 400');
});

test("the gateway's added latency (printed, not asserted)", async () => {
  const { jar } = await signedInJar();
  const cookie = jar.header();
  const time = async (url, headers) => {
    const started = performance.now();
    const response = await fetch(url, { headers });
    await response.arrayBuffer();
    assert.equal(response.status, 200);
    return performance.now() - started;
  };
  const through = new URL('/app/ping?x=1', gated.url);
  const direct = new URL('/app/ping?x=1', origin.url);
  for (let i = 0; i < 20; i += 1) {
    await time(through, { cookie });
    await time(direct, {});
  }
  const viaWorker = [];
  const straight = [];
  for (let i = 0; i < 200; i += 1) viaWorker.push(await time(through, { cookie }));
  for (let i = 0; i < 200; i += 1) straight.push(await time(direct, {}));
  const [w, d] = [median(viaWorker), median(straight)];
  console.log(
    `gateway latency: median of 200 sequential GETs through the Worker ${w.toFixed(2)} ms, direct to the site ${d.toFixed(2)} ms, added ${(w - d).toFixed(2)} ms`,
  );
});

// ---------------------------------------------------------------------------------------------
// Last: the logs

test('no token, code, client secret, session secret or sealed cookie value is in any log line', () => {
  assert.ok(secrets.size > 30, `collected ${secrets.size} values`);
  for (const [name, worker] of Object.entries({ gated, everything, plain, down, lenient, keyless, badSettings })) {
    const logs = worker.logs();
    for (const secret of secrets) {
      assert.ok(!logs.includes(secret), `the ${name} Worker's log shows ${JSON.stringify(secret.slice(0, 24))}...`);
    }
  }
});
