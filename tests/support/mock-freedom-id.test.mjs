// Tests of the embedded Freedom ID mock: node --test tests/support/mock-freedom-id.test.mjs
// One file for one module, its tests sharing one mock (reset before each); one describe per
// area below: the authorize endpoint, its modes, the HTTP controls, the sign-in page, the token
// endpoint's exchange, refresh, lifetimes and modes, compressed answers, the lifecycle, and the
// fault table (support/faults.mjs) checked against the mock.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';

import { MODES, RANDOM_FAULTS, TOKEN_MODES, startMockFreedomId } from './mock-freedom-id.mjs';
import { AUTHORIZE_FAULTS, TOKEN_FAULTS, fault } from './faults.mjs';

const MOCK_PATH = fileURLToPath(new URL('./mock-freedom-id.mjs', import.meta.url));
const BASIC = `Basic ${Buffer.from('demo-client:demo-secret').toString('base64')}`;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const GOOD_BODY = { redirect_uri: 'https://app.example/callback', grants: ['read.email', 'read.phone'] };

let mock;

/** POSTs to the authorize endpoint; `body` objects are sent as JSON, strings as they are. */
function authorize({ body = GOOD_BODY, headers = {}, signal, path = '/api/v1/oauth/authorize', method = 'POST' } = {}) {
  return fetch(`${mock.origin}${path}`, {
    method,
    redirect: 'manual',
    signal,
    headers: { authorization: BASIC, 'content-type': 'application/json', ...headers },
    body: method === 'GET' ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** Asks for a link with `redirectUri` and returns its track_id. */
async function newTrack(redirectUri, grants = ['read.email']) {
  const res = await authorize({ body: { redirect_uri: redirectUri, grants } });
  assert.equal(res.status, 200);
  return new URL((await res.json()).redirect_uri).searchParams.get('track_id');
}

function decide(trackId, decision) {
  return fetch(`${mock.origin}/login/decide`, {
    method: 'POST',
    redirect: 'manual',
    body: new URLSearchParams({ track_id: trackId, decision }),
  });
}

function assertLink(link, origin) {
  const url = new URL(link);
  assert.equal(url.origin, origin);
  assert.equal(url.pathname, '/login');
  assert.match(url.searchParams.get('track_id'), UUID);
  const expireAt = Number(url.searchParams.get('expire_at'));
  assert.ok(Number.isInteger(expireAt));
  assert.ok(Math.abs(expireAt - (Date.now() / 1000 + 600)) < 5, `expire_at ${expireAt} is not ~600 s ahead`);
  return url;
}

const TOKEN = /^[A-Za-z0-9]{128}$/;
const ISO_MICROSECONDS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;
const PAIR_KEYS = ['id', 'access_token', 'refresh_token', 'access_expire_at', 'refresh_expire_at'];
const UNAUTHENTICATED = { error: { message: 'Unauthenticated.', code: 100100 } };
const INVALID_CODE = { error: { message: 'Invalid authorization_code.', code: 100101 } };
const INVALID_REFRESH = { error: { message: 'Invalid refresh token.', code: 100103 } };
const CODE_REQUIRED = {
  error: {
    message: 'Error validating transmitted data.',
    errors: { authorization_code: ['The Authorization code field is required.'] },
  },
};
const MiB = 1024 * 1024;

/** POSTs `{"authorization_code": code}` to the token endpoint; `body` overrides it (objects as JSON, strings as they are). */
function exchange(
  code,
  { body = { authorization_code: code }, headers = {}, signal, path = '/api/v1/oauth/token', target = mock } = {},
) {
  return fetch(`${target.origin}${path}`, {
    method: 'POST',
    redirect: 'manual',
    signal,
    headers: { authorization: BASIC, 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** PATCHes the token endpoint with the refresh token as Bearer and no body. */
function refresh(refreshToken, { headers = {}, signal, target = mock } = {}) {
  return fetch(`${target.origin}/api/v1/oauth/token`, {
    method: 'PATCH',
    redirect: 'manual',
    signal,
    headers: { authorization: `Bearer ${refreshToken}`, ...headers },
  });
}

/** Exchanges a fresh code and returns the pair. */
async function newPair(target = mock) {
  const res = await exchange(target.issueCode(), { target });
  assert.equal(res.status, 200);
  return res.json();
}

/** Drives the sign-in as a browser would: authorize, open the link, press Continue, read the code off the redirect. */
async function signInCode(redirectUri = 'https://app.example/callback') {
  const res = await authorize({ body: { redirect_uri: redirectUri, grants: ['read.email'] } });
  const link = (await res.json()).redirect_uri;
  const html = await (await fetch(link)).text();
  const [, trackId] = /name="track_id" value="([^"]+)"/.exec(html) ?? [];
  assert.ok(trackId, 'the sign-in page carries the track');
  const decided = await decide(trackId, 'continue');
  assert.equal(decided.status, 303);
  const location = new URL(decided.headers.get('location'));
  assert.equal(`${location.origin}${location.pathname}`, redirectUri);
  return location.searchParams.get('authorization_code');
}

/** Checks a pair's shape and that its expiry times are `since` + the lifetimes (seconds), give or take a second. */
function assertPair(pair, { accessTtl = 3600, refreshTtl = 86_400, since = Date.now(), keys = PAIR_KEYS } = {}) {
  assert.deepEqual(Object.keys(pair), keys);
  if (keys.includes('id')) assert.match(pair.id, UUID);
  assert.match(pair.access_token, TOKEN);
  assert.match(pair.refresh_token, TOKEN);
  assert.notEqual(pair.access_token, pair.refresh_token);
  for (const [name, ttl] of [['access_expire_at', accessTtl], ['refresh_expire_at', refreshTtl]]) {
    assert.match(pair[name], ISO_MICROSECONDS);
    const off = Date.parse(pair[name]) - (since + ttl * 1000);
    assert.ok(off > -1000 && off < 1500, `${name} ${pair[name]} is ${off} ms off ${ttl} s after the request`);
  }
}

/** A request through node:http, which (unlike fetch) leaves the body as it came on the wire. */
function raw(path, { method = 'POST', headers = {}, body = '' } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(`${mock.origin}${path}`, { method, headers }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Awaits a response and drops its body; network errors and timeouts are expected by the callers. */
async function settle(pending) {
  try {
    const res = await pending;
    await res.body?.cancel();
    return res.status;
  } catch {
    return 'failed';
  }
}

before(async () => {
  mock = await startMockFreedomId();
});
after(() => mock.close());
beforeEach(() => mock.reset());

describe('authorize endpoint, mode ok', () => {
  test('answers a link on the mock origin with a UUID track_id and expire_at ~600 s ahead', async () => {
    assert.match(mock.origin, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(mock.authorizeUrl, `${mock.origin}/api/v1/oauth/authorize`);

    const res = await authorize();
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^application\/json/);
    const body = await res.json();
    assert.deepEqual(Object.keys(body), ['redirect_uri']);
    assertLink(body.redirect_uri, mock.origin);

    assert.equal(mock.requests.length, 1);
    const [recorded] = mock.requests;
    assert.equal(recorded.endpoint, 'authorize');
    assert.equal(recorded.method, 'POST');
    assert.equal(recorded.path, '/api/v1/oauth/authorize');
    assert.equal(recorded.headers.authorization, BASIC);
    assert.equal(recorded.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(recorded.body), GOOD_BODY);
    assert.equal(recorded.mode, 'ok');
  });

  test('also answers on the alias /v1/oauth/authorize', async () => {
    const res = await authorize({ path: '/v1/oauth/authorize' });
    assert.equal(res.status, 200);
    assertLink((await res.json()).redirect_uri, mock.origin);
    assert.equal(mock.requests[0].path, '/v1/oauth/authorize');
  });

  test('401 on a wrong or missing Basic header', async () => {
    const wrong = `Basic ${Buffer.from('demo-client:wrong').toString('base64')}`;
    for (const authorization of [wrong, '', `Bearer x`, BASIC.toLowerCase()]) {
      const res = await authorize({ headers: { authorization } });
      assert.equal(res.status, 401, `authorization ${JSON.stringify(authorization)}`);
      assert.deepEqual(await res.json(), { error: { message: 'Unauthenticated.', code: 100100 } });
    }
  });

  test('checks auth before the content type and the body', async () => {
    const res = await authorize({ headers: { authorization: 'Basic Og==', 'content-type': 'text/plain' }, body: 'x' });
    assert.equal(res.status, 401);
  });

  test('415 when the body is not application/json', async () => {
    const res = await authorize({ headers: { 'content-type': 'text/plain' } });
    assert.equal(res.status, 415);
    const body = await res.json();
    assert.equal(typeof body.error.message, 'string');
    // A charset parameter is fine.
    assert.equal((await authorize({ headers: { 'content-type': 'application/json; charset=utf-8' } })).status, 200);
  });

  test('422 naming the failing field', async () => {
    let res = await authorize({ body: { redirect_uri: 'https://app.example/cb' } });
    assert.equal(res.status, 422);
    assert.deepEqual(await res.json(), {
      error: { message: 'Error validating transmitted data.', errors: { grants: ['The Grants field is required.'] } },
    });

    res = await authorize({ body: { redirect_uri: 'https://app.example/cb', grants: [] } });
    assert.deepEqual(Object.keys((await res.json()).error.errors), ['grants']);

    res = await authorize({ body: { redirect_uri: '', grants: ['read.email'] } });
    assert.equal(res.status, 422);
    assert.deepEqual(Object.keys((await res.json()).error.errors), ['redirect_uri']);

    res = await authorize({ body: { redirect_uri: 'https://app.example/cb', grants: ['read.email', 7] } });
    assert.deepEqual(Object.keys((await res.json()).error.errors), ['grants.1']);

    res = await authorize({ body: 'not json' });
    assert.equal(res.status, 422);
    assert.deepEqual(Object.keys((await res.json()).error.errors).sort(), ['grants', 'redirect_uri']);
  });

  test('405 on other methods', async () => {
    const res = await authorize({ method: 'GET' });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('allow'), 'POST');
  });
});

describe('misbehaviour modes', () => {
  test('MODES lists every mode and setMode accepts each', () => {
    assert.deepEqual(
      [...MODES].sort(),
      [
        'ok', 'status:<code>', 'error-200', 'redirect', 'not-json', 'no-redirect-uri', 'number-redirect-uri', 'huge',
        'huge-chunked', 'gzip-bomb', 'br-bomb', 'gzip-ok', 'evil-link', 'userinfo-link', 'hang', 'hang-body', 'reset',
        'slow:<ms>', 'random-faults:<percent>',
      ].sort(),
    );
    const example = { 'status:<code>': 'status:500', 'slow:<ms>': 'slow:10', 'random-faults:<percent>': 'random-faults:12.5' };
    for (const mode of MODES) mock.setMode(example[mode] ?? mode);
  });

  test('setMode throws on an unknown mode; reset() restores ok and clears requests', async () => {
    for (const bad of ['nope', 'status', 'status:abc', 'status:99', 'status:600', 'slow:-1', 'random-faults:101', '', 42]) {
      assert.throws(() => mock.setMode(bad), undefined, `mode ${JSON.stringify(bad)}`);
    }
    mock.setMode('status:500');
    await authorize();
    assert.equal(mock.requests.length, 1);
    mock.reset();
    assert.equal(mock.mode, 'ok');
    assert.equal(mock.requests.length, 0);
    assert.equal((await authorize()).status, 200);
  });

  test('status:<code> answers that status with an error body', async () => {
    for (const [mode, status] of [['status:500', 500], ['status:503', 503], ['status:401', 401]]) {
      mock.setMode(mode);
      const res = await authorize();
      assert.equal(res.status, status);
      const body = await res.json();
      assert.equal(typeof body.error.message, 'string');
      assert.equal(typeof body.error.code, 'number');
      if (status === 401) assert.deepEqual(body, { error: { message: 'Unauthenticated.', code: 100100 } });
      assert.equal(mock.requests.at(-1).mode, mode);
    }
  });

  test('the mode persists until changed', async () => {
    mock.setMode('status:503');
    assert.equal((await authorize()).status, 503);
    assert.equal((await authorize()).status, 503);
    mock.setMode('ok');
    assert.equal((await authorize()).status, 200);
  });

  test('error-200 answers 200 with an error body', async () => {
    mock.setMode('error-200');
    const res = await authorize();
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { error: { message: 'Something went wrong.', code: 100102 } });
  });

  test('redirect answers 302 to /elsewhere with an empty body', async () => {
    mock.setMode('redirect');
    const res = await authorize();
    assert.equal(res.status, 302);
    assert.equal(res.headers.get('location'), `${mock.origin}/elsewhere`);
    assert.equal(await res.text(), '');
  });

  test('not-json answers HTML', async () => {
    mock.setMode('not-json');
    const res = await authorize();
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/html');
    assert.equal(await res.text(), '<html><body>Bad gateway</body></html>');
  });

  test('no-redirect-uri and number-redirect-uri', async () => {
    mock.setMode('no-redirect-uri');
    assert.deepEqual(await (await authorize()).json(), { link: `${mock.origin}/login` });
    mock.setMode('number-redirect-uri');
    assert.deepEqual(await (await authorize()).json(), { redirect_uri: 42 });
  });

  test('huge answers 100 KiB of JSON with a Content-Length', async () => {
    mock.setMode('huge');
    const res = await authorize();
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-length'), String(100 * 1024));
    const text = await res.text();
    assert.equal(Buffer.byteLength(text), 100 * 1024);
    assertLink(JSON.parse(text).redirect_uri, mock.origin);
  });

  test('huge-chunked answers 100 KiB chunked, without a Content-Length', async () => {
    mock.setMode('huge-chunked');
    const res = await authorize();
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-length'), null);
    assert.equal(res.headers.get('transfer-encoding'), 'chunked');
    const text = await res.text();
    assert.ok(Buffer.byteLength(text) > 64 * 1024);
    assertLink(JSON.parse(text).redirect_uri, mock.origin);
  });

  test('evil-link answers a link on another origin', async () => {
    mock.setMode('evil-link');
    assertLink((await (await authorize()).json()).redirect_uri, 'https://evil.example');
  });

  test('userinfo-link answers a link with user:pass@', async () => {
    mock.setMode('userinfo-link');
    const url = assertLink((await (await authorize()).json()).redirect_uri, mock.origin);
    assert.equal(url.username, 'user');
    assert.equal(url.password, 'pass');
  });

  test('hang never answers (the client times out) but records the request', async () => {
    mock.setMode('hang');
    await assert.rejects(authorize({ signal: AbortSignal.timeout(300) }), { name: 'TimeoutError' });
    assert.equal(mock.requests.length, 1);
    assert.equal(mock.requests[0].mode, 'hang');
    assert.deepEqual(JSON.parse(mock.requests[0].body), GOOD_BODY);
  });

  test('hang-body sends headers and a partial body, then stalls', async () => {
    mock.setMode('hang-body');
    const started = Date.now();
    const res = await authorize({ signal: AbortSignal.timeout(300) });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^application\/json/);
    assert.equal(res.headers.get('content-length'), null);
    await assert.rejects(res.text(), { name: 'TimeoutError' });
    assert.ok(Date.now() - started >= 250);
  });

  test('reset destroys the connection without an answer', async () => {
    mock.setMode('reset');
    await assert.rejects(authorize(), TypeError);
    assert.equal(mock.requests.at(-1).mode, 'reset');
  });

  test('slow:<ms> answers as ok after the delay', async () => {
    mock.setMode('slow:200');
    const started = Date.now();
    const res = await authorize();
    assert.ok(Date.now() - started >= 190);
    assert.equal(res.status, 200);
    assertLink((await res.json()).redirect_uri, mock.origin);
    assert.equal(mock.requests[0].mode, 'slow:200');
    // slow still runs the checks of ok
    assert.equal((await authorize({ headers: { authorization: 'Basic Og==' } })).status, 401);
  });

  test('random-faults:<percent> records the picked fault', async () => {
    const faults = ['status:500', 'status:503', 'error-200', 'not-json', 'evil-link', 'reset', 'huge'];
    mock.setMode('random-faults:100');
    await Promise.all(Array.from({ length: 40 }, () => authorize().then((res) => res.arrayBuffer(), () => null)));
    assert.equal(mock.requests.length, 40);
    for (const { mode } of mock.requests) assert.ok(faults.includes(mode), `unexpected mode ${mode}`);
    assert.ok(new Set(mock.requests.map((r) => r.mode)).size > 1, 'faults are picked at random');

    mock.reset();
    mock.setMode('random-faults:0');
    for (let i = 0; i < 5; i += 1) assert.equal((await authorize()).status, 200);
    assert.deepEqual(new Set(mock.requests.map((r) => r.mode)), new Set(['ok']));
  });

  test('keeps at most 2000 recorded requests, newest last', async () => {
    mock.setMode('status:500');
    const total = 2010;
    for (let sent = 0; sent < total; sent += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, total - sent) }, (_, i) =>
          authorize({ body: { redirect_uri: `https://app.example/${sent + i}`, grants: ['read.email'] } }).then((r) => r.arrayBuffer()),
        ),
      );
    }
    assert.equal(mock.requests.length, 2000);
    const seen = mock.requests.map((r) => Number(JSON.parse(r.body).redirect_uri.split('/').pop()));
    assert.ok(!seen.includes(0) && seen.includes(total - 1));
  });
});

describe('HTTP controls', () => {
  test('GET /healthz', async () => {
    const res = await fetch(`${mock.origin}/healthz`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: 'ok' });
  });

  test('POST /__mock/mode, GET /__mock/requests, POST /__mock/reset', async () => {
    const setMode = (body) =>
      fetch(`${mock.origin}/__mock/mode`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

    let res = await setMode(JSON.stringify({ mode: 'status:503' }));
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { mode: 'status:503' });
    assert.equal(mock.mode, 'status:503');
    assert.equal((await authorize()).status, 503);

    res = await setMode(JSON.stringify({ mode: 'bogus' }));
    assert.equal(res.status, 400);
    assert.equal(typeof (await res.json()).error.message, 'string');
    assert.equal((await setMode('{')).status, 400);
    assert.equal(mock.mode, 'status:503');

    res = await fetch(`${mock.origin}/__mock/requests`);
    assert.equal(res.status, 200);
    const requests = await res.json();
    assert.equal(requests.length, 1);
    assert.equal(requests[0].mode, 'status:503');
    assert.equal(requests[0].path, '/api/v1/oauth/authorize');

    res = await fetch(`${mock.origin}/__mock/reset`, { method: 'POST' });
    assert.equal(res.status, 200);
    assert.equal(mock.mode, 'ok');
    assert.deepEqual(await (await fetch(`${mock.origin}/__mock/requests`)).json(), []);
  });

  test('POST /__mock/token-mode, /__mock/lifetimes, /__mock/issue-code, GET /__mock/code; /__mock/reset restores', async () => {
    const post = (path, body) =>
      fetch(`${mock.origin}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

    let res = await post('/__mock/token-mode', JSON.stringify({ mode: 'status:503' }));
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { mode: 'status:503' });
    assert.equal(mock.tokenMode, 'status:503');
    assert.equal(mock.mode, 'ok');
    for (const bad of [JSON.stringify({ mode: 'evil-link' }), JSON.stringify({ mode: 'random-faults:5' }), '{', 'null']) {
      res = await post('/__mock/token-mode', bad);
      assert.equal(res.status, 400, bad);
      assert.equal(typeof (await res.json()).error.message, 'string');
    }
    assert.equal(mock.tokenMode, 'status:503');

    res = await post('/__mock/lifetimes', JSON.stringify({ accessTtlSeconds: 2, refreshTtlSeconds: 3 }));
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { accessTtlSeconds: 2, refreshTtlSeconds: 3, codeTtlSeconds: 60 });
    for (const bad of [{ accessTtlSeconds: -1 }, { refreshTtlSeconds: 'soon' }, { nope: 1 }]) {
      res = await post('/__mock/lifetimes', JSON.stringify(bad));
      assert.equal(res.status, 400, JSON.stringify(bad));
      assert.match((await res.json()).error.message, /./);
    }
    assert.equal((await post('/__mock/lifetimes', 'x')).status, 400);

    res = await fetch(`${mock.origin}/__mock/issue-code`, { method: 'POST' });
    assert.equal(res.status, 200);
    const { code } = await res.json();
    assert.match(code, /^[0-9a-f]{32}$/);
    const status = async (query) => (await fetch(`${mock.origin}/__mock/code${query}`)).json();
    assert.deepEqual(await status(`?code=${code}`), { known: true, spent: false, expired: false });

    res = await fetch(`${mock.origin}/__mock/reset`, { method: 'POST' });
    assert.deepEqual(await res.json(), { status: 'ok', mode: 'ok', tokenMode: 'ok' });
    assert.equal(mock.tokenMode, 'ok');
    await post('/__mock/lifetimes', JSON.stringify({ accessTtlSeconds: 2, refreshTtlSeconds: 3 }));
    const since = Date.now();
    assertPair(await (await exchange(code)).json(), { accessTtl: 2, refreshTtl: 3, since });
    assert.deepEqual(await status(`?code=${code}`), { known: true, spent: true, expired: false });
    assert.deepEqual(await status(''), { known: false, spent: false, expired: false });
    assert.deepEqual(await status('?code=nope'), { known: false, spent: false, expired: false });

    await fetch(`${mock.origin}/__mock/reset`, { method: 'POST' });
    assertPair(await newPair(), { since: Date.now() });
  });

  test('anything else is a plain-text 404', async () => {
    const misses = [['GET', '/nope'], ['GET', '/__mock/mode'], ['POST', '/healthz'], ['GET', '/__mock/token-mode'],
      ['GET', '/__mock/issue-code'], ['POST', '/__mock/code'], ['GET', '/api/v1/oauth/token/x']];
    for (const [method, path] of misses) {
      const res = await fetch(`${mock.origin}${path}`, { method });
      assert.equal(res.status, 404, `${method} ${path}`);
      assert.match(res.headers.get('content-type'), /^text\/plain/);
      await res.arrayBuffer();
    }
  });
});

describe('sign-in page', () => {
  test('GET /login shows the redirect URI, the grants and the two buttons', async () => {
    const redirectUri = 'https://app.example/cb?next=<script>';
    const trackId = await newTrack(redirectUri, ['read.email', 'openid']);
    const res = await fetch(`${mock.origin}/login?track_id=${trackId}&expire_at=1`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
    const html = await res.text();
    assert.match(html, /<main>/);
    assert.match(html, /<h1>Mock Freedom ID<\/h1>/);
    assert.match(html, /local stand-in for Freedom ID sign-in/);
    assert.ok(html.includes('https://app.example/cb?next=&lt;script&gt;'), 'redirect URI shown, escaped');
    assert.ok(!html.includes('<script>'));
    assert.match(html, /read\.email/);
    assert.match(html, /openid/);
    assert.match(html, /<form method="post" action="\/login\/decide">/);
    assert.ok(html.includes(`<input type="hidden" name="track_id" value="${trackId}">`));
    assert.match(html, /<button name="decision" value="continue">Continue<\/button>/);
    assert.match(html, /<button name="decision" value="decline">Decline<\/button>/);
  });

  test('unknown or missing track_id: 404 HTML', async () => {
    for (const query of ['?track_id=00000000-0000-4000-8000-000000000000', '']) {
      const res = await fetch(`${mock.origin}/login${query}`);
      assert.equal(res.status, 404);
      assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
      assert.match(await res.text(), /unknown or expired/);
    }
  });

  test('continue: 303 with authorization_code appended with &, fragment kept last; the track is then forgotten', async () => {
    const trackId = await newTrack('https://app.example/cb?x=1#frag');
    const res = await decide(trackId, 'continue');
    assert.equal(res.status, 303);
    assert.match(res.headers.get('location'), /^https:\/\/app\.example\/cb\?x=1&authorization_code=[0-9a-f]{32}#frag$/);

    assert.equal((await decide(trackId, 'continue')).status, 404);
    assert.equal((await fetch(`${mock.origin}/login?track_id=${trackId}`)).status, 404);
  });

  test('decline: 303 with error_code appended with ?', async () => {
    const trackId = await newTrack('https://app.example/cb');
    const res = await decide(trackId, 'decline');
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), 'https://app.example/cb?error_code=100102');
  });

  test('continue on a URI without a query uses ?', async () => {
    const trackId = await newTrack('http://127.0.0.1:8787/auth/callback#top');
    const res = await decide(trackId, 'continue');
    assert.match(res.headers.get('location'), /^http:\/\/127\.0\.0\.1:8787\/auth\/callback\?authorization_code=[0-9a-f]{32}#top$/);
  });

  test('decide on an unknown track: 404', async () => {
    const res = await decide('00000000-0000-4000-8000-000000000000', 'continue');
    assert.equal(res.status, 404);
    assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
  });
});

describe('token endpoint: exchange', () => {
  test('a code from the sign-in page exchanges for a pair in the documented shape', async () => {
    assert.equal(mock.tokenUrl, `${mock.origin}/api/v1/oauth/token`);
    const code = await signInCode();
    assert.match(code, /^[0-9a-f]{32}$/);
    assert.deepEqual(mock.codeStatus(code), { known: true, spent: false, expired: false });

    const since = Date.now();
    const res = await exchange(code);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^application\/json/);
    assertPair(await res.json(), { since });
    assert.deepEqual(mock.codeStatus(code), { known: true, spent: true, expired: false });

    assert.deepEqual(mock.requests.map((r) => r.endpoint), ['authorize', 'token']);
    const recorded = mock.requests[1];
    assert.equal(recorded.method, 'POST');
    assert.equal(recorded.path, '/api/v1/oauth/token');
    assert.equal(recorded.headers.authorization, BASIC);
    assert.deepEqual(JSON.parse(recorded.body), { authorization_code: code });
    assert.equal(recorded.mode, 'ok');
  });

  test('also answers on the alias /v1/oauth/token', async () => {
    const res = await exchange(mock.issueCode(), { path: '/v1/oauth/token' });
    assert.equal(res.status, 200);
    assertPair(await res.json());
    assert.equal(mock.requests[0].path, '/v1/oauth/token');
  });

  test('a code works once; unknown codes are refused with 400 100101', async () => {
    const code = mock.issueCode();
    const first = await (await exchange(code)).json();
    const again = await exchange(code);
    assert.equal(again.status, 400);
    assert.deepEqual(await again.json(), INVALID_CODE);
    for (const other of ['0'.repeat(32), code.toUpperCase(), `${code} `, 'x']) {
      const res = await exchange(other);
      assert.equal(res.status, 400, other);
      assert.deepEqual(await res.json(), INVALID_CODE);
    }
    assert.equal((await refresh(first.refresh_token)).status, 200, 'the refused retry did not revoke the first pair');
  });

  test('an expired code is refused, and reported expired but not spent', async () => {
    const own = await startMockFreedomId({ codeTtlSeconds: 0.2 });
    try {
      const [early, late] = [own.issueCode(), own.issueCode()];
      assert.equal((await exchange(early, { target: own })).status, 200);
      await new Promise((resolve) => setTimeout(resolve, 250));
      assert.deepEqual(own.codeStatus(late), { known: true, spent: false, expired: true });
      const res = await exchange(late, { target: own });
      assert.equal(res.status, 400);
      assert.deepEqual(await res.json(), INVALID_CODE);
      assert.deepEqual(own.codeStatus(late), { known: true, spent: false, expired: true });
    } finally {
      await own.close();
    }
  });

  test('401 on a wrong or missing Basic, checked before anything else; the code stays unspent', async () => {
    const code = mock.issueCode();
    const wrong = `Basic ${Buffer.from('demo-client:wrong').toString('base64')}`;
    for (const authorization of [wrong, '', 'Bearer x', BASIC.toLowerCase()]) {
      const res = await exchange(code, { headers: { authorization } });
      assert.equal(res.status, 401, `authorization ${JSON.stringify(authorization)}`);
      assert.deepEqual(await res.json(), UNAUTHENTICATED);
    }
    const res = await exchange(code, { headers: { authorization: wrong, 'content-type': 'text/plain' }, body: 'x' });
    assert.equal(res.status, 401);
    assert.deepEqual(mock.codeStatus(code), { known: true, spent: false, expired: false });
    assert.equal((await exchange(code)).status, 200);
  });

  test('422 without a string authorization_code; 415 on another content type; the code stays unspent', async () => {
    const code = mock.issueCode();
    const bodies = [{}, { authorization_code: 42 }, { authorization_code: null }, { authorization_code: '' }, [code], 'not json', ''];
    for (const body of bodies) {
      const res = await exchange(code, { body });
      assert.equal(res.status, 422, JSON.stringify(body));
      assert.deepEqual(await res.json(), CODE_REQUIRED);
    }
    const res = await exchange(code, { headers: { 'content-type': 'text/plain' } });
    assert.equal(res.status, 415);
    assert.equal(typeof (await res.json()).error.message, 'string');
    assert.equal(mock.codeStatus(code).spent, false);
  });

  test('405 on other methods', async () => {
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const res = await fetch(mock.tokenUrl, { method, headers: { authorization: BASIC } });
      assert.equal(res.status, 405, method);
      assert.equal(res.headers.get('allow'), 'POST, PATCH');
      await res.arrayBuffer();
    }
  });
});

describe('token endpoint: refresh', () => {
  test('PATCH with the refresh token answers a new pair under the same id; the old refresh token is used up', async () => {
    const first = await newPair();
    const since = Date.now();
    const res = await refresh(first.refresh_token);
    assert.equal(res.status, 200);
    const second = await res.json();
    assertPair(second, { since });
    assert.equal(second.id, first.id);
    assert.notEqual(second.access_token, first.access_token);
    assert.notEqual(second.refresh_token, first.refresh_token);

    const replay = await refresh(first.refresh_token);
    assert.equal(replay.status, 401);
    assert.deepEqual(await replay.json(), INVALID_REFRESH);

    const third = await (await refresh(second.refresh_token)).json();
    assert.equal(third.id, first.id, 'the id names the grant across rotations');
    assert.notEqual((await newPair()).id, first.id, 'each exchange is a new grant');

    const recorded = mock.requests.find((r) => r.method === 'PATCH');
    assert.equal(recorded.endpoint, 'token');
    assert.equal(recorded.headers.authorization, `Bearer ${first.refresh_token}`);
    assert.equal(recorded.body, '');
  });

  test('401 100103 for an unknown token or an access token; 401 100100 without a Bearer', async () => {
    const pair = await newPair();
    for (const token of ['x'.repeat(128), pair.access_token]) {
      const res = await refresh(token);
      assert.equal(res.status, 401);
      assert.deepEqual(await res.json(), INVALID_REFRESH);
    }
    for (const authorization of [BASIC, 'Bearer', '']) {
      const res = await refresh('', { headers: { authorization } });
      assert.equal(res.status, 401, JSON.stringify(authorization));
      assert.deepEqual(await res.json(), UNAUTHENTICATED);
    }
    assert.equal((await refresh(pair.refresh_token, { headers: { authorization: `bearer ${pair.refresh_token}` } })).status, 200);
  });

  test('an expired refresh token is refused', async () => {
    mock.setTokenLifetimes({ refreshTtlSeconds: 0 });
    const pair = await newPair();
    const res = await refresh(pair.refresh_token);
    assert.equal(res.status, 401);
    assert.deepEqual(await res.json(), INVALID_REFRESH);
  });
});

describe('lifetimes and codes', () => {
  test('setTokenLifetimes shows in the ISO times of exchanges and refreshes; partial; reset() restores', async () => {
    assert.deepEqual(mock.setTokenLifetimes({ accessTtlSeconds: 5, refreshTtlSeconds: 7.5 }), {
      accessTtlSeconds: 5,
      refreshTtlSeconds: 7.5,
      codeTtlSeconds: 60,
    });
    let since = Date.now();
    const pair = await newPair();
    assertPair(pair, { accessTtl: 5, refreshTtl: 7.5, since });

    assert.deepEqual(mock.setTokenLifetimes({ accessTtlSeconds: 0 }), {
      accessTtlSeconds: 0,
      refreshTtlSeconds: 7.5,
      codeTtlSeconds: 60,
    });
    since = Date.now();
    assertPair(await (await refresh(pair.refresh_token)).json(), { accessTtl: 0, refreshTtl: 7.5, since });

    mock.setTokenLifetimes({ codeTtlSeconds: 0 });
    const code = mock.issueCode();
    assert.deepEqual(mock.codeStatus(code), { known: true, spent: false, expired: true });

    mock.reset();
    since = Date.now();
    assertPair(await newPair(), { since });
  });

  test('a bad lifetime throws and changes nothing', async () => {
    const bads = [{ accessTtlSeconds: -1 }, { refreshTtlSeconds: '60' }, { accessTtlSeconds: NaN }, { accessTtlSeconds: Infinity },
      { accessTtl: 60 }, { accessTtlSeconds: 5, codeTtlSeconds: -0.5 }, null, [], 60];
    for (const bad of bads) {
      assert.throws(() => mock.setTokenLifetimes(bad), undefined, JSON.stringify(bad));
    }
    assertPair(await newPair());
  });

  test('start options set the lifetimes that reset() goes back to; a negative one is refused', async () => {
    const own = await startMockFreedomId({ accessTtlSeconds: 10, refreshTtlSeconds: 20, codeTtlSeconds: 30 });
    try {
      own.setTokenLifetimes({ accessTtlSeconds: 1 });
      own.reset();
      const since = Date.now();
      assertPair(await newPair(own), { accessTtl: 10, refreshTtl: 20, since });
      assert.deepEqual(own.setTokenLifetimes({}), { accessTtlSeconds: 10, refreshTtlSeconds: 20, codeTtlSeconds: 30 });
    } finally {
      await own.close();
    }
    for (const option of ['accessTtlSeconds', 'refreshTtlSeconds', 'codeTtlSeconds']) {
      await assert.rejects(startMockFreedomId({ [option]: -1 }), RangeError, option);
    }
  });

  test('issueCode gives fresh 32-hex codes; codeStatus of anything else is unknown', () => {
    const codes = new Set(Array.from({ length: 50 }, () => mock.issueCode()));
    assert.equal(codes.size, 50);
    for (const code of codes) {
      assert.match(code, /^[0-9a-f]{32}$/);
      assert.deepEqual(mock.codeStatus(code), { known: true, spent: false, expired: false });
    }
    for (const other of ['0'.repeat(32), '', undefined, null, 42, '__proto__']) {
      assert.deepEqual(mock.codeStatus(other), { known: false, spent: false, expired: false });
    }
  });

  test('keeps at most 10 000 codes, forgetting the oldest first', () => {
    const own = [];
    for (let i = 0; i < 10_001; i += 1) own.push(mock.issueCode());
    assert.equal(mock.codeStatus(own[0]).known, false);
    assert.equal(mock.codeStatus(own[1]).known, true);
    assert.equal(mock.codeStatus(own.at(-1)).known, true);
  });
});

describe('token endpoint modes', () => {
  test('TOKEN_MODES lists every mode and setTokenMode accepts each; unknown ones throw', () => {
    assert.deepEqual(
      [...TOKEN_MODES].sort(),
      [
        'ok', 'status:<code>', 'error-200', 'error-200-string-code', 'validation-error', 'redirect', 'not-json',
        'no-access-token', 'bad-expiry', 'no-id', 'huge', 'huge-chunked', 'gzip-bomb', 'br-bomb', 'gzip-ok', 'hang',
        'hang-body', 'reset', 'slow:<ms>',
      ].sort(),
    );
    const example = { 'status:<code>': 'status:500', 'slow:<ms>': 'slow:10' };
    for (const mode of TOKEN_MODES) assert.equal(mock.setTokenMode(example[mode] ?? mode), example[mode] ?? mode);
    for (const bad of ['nope', 'random-faults:5', 'evil-link', 'status:99', 'slow:-1', 'status:', '', 42, undefined]) {
      assert.throws(() => mock.setTokenMode(bad), undefined, `mode ${JSON.stringify(bad)}`);
    }
    assert.equal(mock.tokenMode, 'slow:10');
    mock.reset();
    assert.equal(mock.tokenMode, 'ok');
  });

  test('the token mode and the authorize mode are independent', async () => {
    mock.setTokenMode('status:503');
    assert.equal(mock.mode, 'ok');
    assert.equal((await authorize()).status, 200);
    assert.equal((await exchange(mock.issueCode())).status, 503);
    mock.setTokenMode('ok');
    mock.setMode('status:503');
    assert.equal(mock.tokenMode, 'ok');
    assert.equal((await exchange(mock.issueCode())).status, 200);
    assert.deepEqual(mock.requests.map((r) => [r.endpoint, r.mode]), [
      ['authorize', 'ok'], ['token', 'status:503'], ['token', 'ok'],
    ]);
  });

  test('faults that need no code spend no code and rotate no refresh token', async () => {
    const pair = await newPair();
    const faults = ['status:500', 'status:401', 'error-200', 'error-200-string-code', 'validation-error', 'redirect', 'not-json',
      'no-access-token', 'bad-expiry', 'gzip-bomb', 'br-bomb', 'hang', 'hang-body', 'reset'];
    for (const mode of faults) {
      mock.setTokenMode(mode);
      const code = mock.issueCode();
      const signal = AbortSignal.timeout(150);
      await Promise.all([settle(exchange(code, { signal })), settle(refresh(pair.refresh_token, { signal }))]);
      assert.deepEqual(mock.codeStatus(code), { known: true, spent: false, expired: false }, mode);
    }
    const recorded = mock.requests.filter((r) => r.endpoint === 'token').map((r) => r.mode);
    assert.deepEqual(recorded.slice(1), faults.flatMap((m) => [m, m]));
    mock.setTokenMode('ok');
    assert.equal((await refresh(pair.refresh_token)).status, 200, 'the refresh token survived every fault');
  });

  test('status:<code> answers that status with an error body', async () => {
    for (const [mode, status] of [['status:500', 500], ['status:400', 400], ['status:401', 401]]) {
      mock.setTokenMode(mode);
      const res = await exchange(mock.issueCode());
      assert.equal(res.status, status);
      const body = await res.json();
      assert.equal(typeof body.error.message, 'string');
      if (status === 401) assert.deepEqual(body, UNAUTHENTICATED);
    }
  });

  test('error-200 and error-200-string-code answer 200 with an error body', async () => {
    mock.setTokenMode('error-200');
    let res = await exchange(mock.issueCode());
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), INVALID_CODE);
    mock.setTokenMode('error-200-string-code');
    res = await exchange(mock.issueCode());
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { error: { message: 'Invalid authorization_code.', code: '100101' } });
  });

  test('validation-error answers 422 naming authorization_code, without a code', async () => {
    mock.setTokenMode('validation-error');
    const res = await exchange(mock.issueCode());
    assert.equal(res.status, 422);
    assert.deepEqual(await res.json(), CODE_REQUIRED);
  });

  test('redirect and not-json', async () => {
    mock.setTokenMode('redirect');
    let res = await exchange(mock.issueCode());
    assert.equal(res.status, 302);
    assert.equal(res.headers.get('location'), `${mock.origin}/elsewhere`);
    assert.equal(await res.text(), '');
    mock.setTokenMode('not-json');
    res = await exchange(mock.issueCode());
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/html');
    assert.equal(await res.text(), '<html><body>Bad gateway</body></html>');
  });

  test('no-access-token and bad-expiry answer a pair that is wrong and unusable', async () => {
    mock.setTokenMode('no-access-token');
    let res = await exchange(mock.issueCode());
    assert.equal(res.status, 200);
    const missing = await res.json();
    assert.deepEqual(Object.keys(missing), ['id', 'refresh_token', 'access_expire_at', 'refresh_expire_at']);

    mock.setTokenMode('bad-expiry');
    res = await exchange(mock.issueCode());
    assert.equal(res.status, 200);
    const bad = await res.json();
    assert.deepEqual(Object.keys(bad), PAIR_KEYS);
    assert.equal(bad.access_expire_at, '2025-02-30T25:00:00Z');
    assert.match(bad.access_token, TOKEN);
    assert.match(bad.refresh_expire_at, ISO_MICROSECONDS);

    mock.setTokenMode('ok');
    for (const token of [missing.refresh_token, bad.refresh_token]) assert.equal((await refresh(token)).status, 401);
  });

  test('no-id exchanges and rotates for real, leaving the id out; the grant keeps its id', async () => {
    mock.setTokenMode('no-id');
    const code = mock.issueCode();
    const since = Date.now();
    const first = await (await exchange(code)).json();
    assertPair(first, { since, keys: PAIR_KEYS.slice(1) });
    assert.equal(mock.codeStatus(code).spent, true);
    const second = await (await refresh(first.refresh_token)).json();
    assertPair(second, { keys: PAIR_KEYS.slice(1) });

    mock.setTokenMode('ok');
    assert.equal((await refresh(first.refresh_token)).status, 401);
    const third = await (await refresh(second.refresh_token)).json();
    assert.match(third.id, UUID);
  });

  test('huge answers the real pair padded to 100 KiB with a Content-Length; errors are not padded', async () => {
    mock.setTokenMode('huge');
    const code = mock.issueCode();
    const res = await exchange(code);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-length'), String(100 * 1024));
    const text = await res.text();
    assert.equal(Buffer.byteLength(text), 100 * 1024);
    const { padding, ...pair } = JSON.parse(text);
    assert.match(padding, /^x+$/);
    assertPair(pair);
    assert.equal(mock.codeStatus(code).spent, true);

    const again = await exchange(code);
    assert.equal(again.status, 400);
    assert.deepEqual(await again.json(), INVALID_CODE);

    mock.setTokenMode('ok');
    assert.equal((await refresh(pair.refresh_token)).status, 200);
  });

  test('huge-chunked answers the real pair padded, chunked without a Content-Length', async () => {
    mock.setTokenMode('huge-chunked');
    const pair = await newPair(); // exchanged in huge-chunked mode too
    assert.match(pair.padding, /^x+$/);
    const res = await refresh(pair.refresh_token);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-length'), null);
    assert.equal(res.headers.get('transfer-encoding'), 'chunked');
    const text = await res.text();
    assert.ok(Buffer.byteLength(text) > 64 * 1024);
    const { padding: _padding, ...rotated } = JSON.parse(text);
    assertPair(rotated);
    assert.equal(rotated.id, pair.id);
  });

  test('gzip-ok answers the real pair gzip-compressed: fetch reads it, the wire is gzip with its length', async () => {
    mock.setTokenMode('gzip-ok');
    const code = mock.issueCode();
    const res = await exchange(code);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-encoding'), 'gzip');
    const pair = await res.json();
    assertPair(pair);
    assert.equal(mock.codeStatus(code).spent, true);

    const wire = await raw('/api/v1/oauth/token', { method: 'PATCH', headers: { authorization: `Bearer ${pair.refresh_token}` } });
    assert.equal(wire.status, 200);
    assert.equal(wire.headers['content-encoding'], 'gzip');
    assert.equal(wire.headers['content-length'], String(wire.body.length));
    const rotated = JSON.parse(gunzipSync(wire.body));
    assertPair(rotated);
    assert.equal(rotated.id, pair.id);
  });

  test('hang never answers; hang-body stalls after the start of the JSON; reset drops the connection', async () => {
    mock.setTokenMode('hang');
    await assert.rejects(exchange(mock.issueCode(), { signal: AbortSignal.timeout(200) }), { name: 'TimeoutError' });
    assert.equal(mock.requests.at(-1).mode, 'hang');

    mock.setTokenMode('hang-body');
    const res = await exchange(mock.issueCode(), { signal: AbortSignal.timeout(200) });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-length'), null);
    await assert.rejects(res.text(), { name: 'TimeoutError' });

    mock.setTokenMode('reset');
    await assert.rejects(exchange(mock.issueCode()), TypeError);
    assert.equal(mock.requests.at(-1).mode, 'reset');
  });

  test('slow:<ms> exchanges as ok after the delay', async () => {
    mock.setTokenMode('slow:150');
    const code = mock.issueCode();
    const started = Date.now();
    const res = await exchange(code);
    assert.ok(Date.now() - started >= 140);
    assert.equal(res.status, 200);
    assertPair(await res.json());
    assert.equal(mock.codeStatus(code).spent, true);
    assert.equal(mock.requests[0].mode, 'slow:150');
  });
});

describe('compressed answers', () => {
  const bombs = [
    ['authorize', 'gzip-bomb', 'gzip', gunzipSync, '{"redirect_uri":"', 64 * 1024],
    ['authorize', 'br-bomb', 'br', brotliDecompressSync, '{"redirect_uri":"', 4 * 1024],
    ['token', 'gzip-bomb', 'gzip', gunzipSync, '{"access_token":"', 64 * 1024],
    ['token', 'br-bomb', 'br', brotliDecompressSync, '{"access_token":"', 4 * 1024],
  ];
  const PATHS = { authorize: '/api/v1/oauth/authorize', token: '/api/v1/oauth/token' };
  const BODIES = { authorize: JSON.stringify(GOOD_BODY), token: JSON.stringify({ authorization_code: 'x' }) };

  function bombRequest(endpoint) {
    return raw(PATHS[endpoint], {
      headers: { authorization: BASIC, 'content-type': 'application/json', 'accept-encoding': 'identity' },
      body: BODIES[endpoint],
    });
  }

  for (const [endpoint, mode, encoding, decompress, start, wireCap] of bombs) {
    test(`${endpoint} ${mode}: small on the wire, ~50 MiB decompressed, whatever Accept-Encoding says`, async () => {
      if (endpoint === 'authorize') mock.setMode(mode);
      else mock.setTokenMode(mode);
      const res = await bombRequest(endpoint);
      assert.equal(res.status, 200);
      assert.equal(res.headers['content-encoding'], encoding);
      assert.equal(res.headers['content-length'], String(res.body.length));
      assert.ok(res.body.length < wireCap, `${res.body.length} bytes on the wire`);
      assert.throws(() => decompress(res.body, { maxOutputLength: MiB }), RangeError);
      const plain = decompress(res.body, { maxOutputLength: 64 * MiB });
      assert.ok(plain.length >= 50 * MiB, `${plain.length} bytes decompressed`);
      assert.equal(plain.subarray(0, start.length + 3).toString(), `${start}aaa`);
      assert.equal(mock.requests.at(-1).headers['accept-encoding'], 'identity');
      assert.equal(mock.requests.at(-1).endpoint, endpoint);
    });
  }

  test('bombs are compressed once: 20 more cost only the wire', async () => {
    mock.setMode('gzip-bomb');
    mock.setTokenMode('br-bomb');
    const first = [await bombRequest('authorize'), await bombRequest('token')];
    const started = Date.now();
    const again = await Promise.all(Array.from({ length: 20 }, (_, i) => bombRequest(i % 2 ? 'token' : 'authorize')));
    assert.ok(Date.now() - started < 1000, `20 bombs took ${Date.now() - started} ms`);
    again.forEach((res, i) => assert.ok(res.body.equals(first[i % 2].body)));
  });

  test('authorize gzip-ok: fetch reads the link; the wire is gzip with its length; refusals are gzipped too', async () => {
    mock.setMode('gzip-ok');
    const res = await authorize();
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-encoding'), 'gzip');
    assertLink((await res.json()).redirect_uri, mock.origin);

    const wire = await raw('/api/v1/oauth/authorize', {
      headers: { authorization: 'Basic Og==', 'content-type': 'application/json' },
      body: JSON.stringify(GOOD_BODY),
    });
    assert.equal(wire.status, 401);
    assert.equal(wire.headers['content-encoding'], 'gzip');
    assert.equal(wire.headers['content-length'], String(wire.body.length));
    assert.deepEqual(JSON.parse(gunzipSync(wire.body)), UNAUTHENTICATED);
  });

  test('random-faults never picks a compressed answer', async () => {
    mock.setMode('random-faults:100');
    await Promise.all(Array.from({ length: 40 }, () => settle(authorize())));
    for (const { mode } of mock.requests) assert.ok(!/gzip|br-/.test(mode), mode);
  });
});

describe('lifecycle', () => {
  test('close() resolves promptly while hang and hang-body requests are open', async () => {
    const own = await startMockFreedomId({ clientId: 'c', clientSecret: 's' });
    const post = () =>
      fetch(own.authorizeUrl, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from('c:s').toString('base64')}`, 'content-type': 'application/json' },
        body: JSON.stringify(GOOD_BODY),
      });
    // The mode answering a request is read when it arrives: switch only once the previous one is recorded.
    const arrived = async (count) => {
      while (own.requests.length < count) await new Promise((resolve) => setTimeout(resolve, 5));
    };
    own.setMode('hang');
    const hanging = post();
    hanging.catch(() => {}); // asserted below
    await arrived(1);
    own.setMode('hang-body');
    const partial = await post();
    own.setMode('slow:60000');
    const slow = post();
    slow.catch(() => {});
    await arrived(3);
    assert.deepEqual(own.requests.map((r) => r.mode), ['hang', 'hang-body', 'slow:60000']);

    const started = Date.now();
    await own.close();
    assert.ok(Date.now() - started < 1000, `close() took ${Date.now() - started} ms`);
    await assert.rejects(hanging);
    await assert.rejects(partial.text());
    await assert.rejects(slow);
    await own.close(); // idempotent
  });

  test('custom credentials; refuses a non-loopback host', async () => {
    const own = await startMockFreedomId({ clientId: 'id', clientSecret: 'secret' });
    try {
      const res = await fetch(own.authorizeUrl, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from('id:secret').toString('base64')}`, 'content-type': 'application/json' },
        body: JSON.stringify(GOOD_BODY),
      });
      assert.equal(res.status, 200);
      await res.arrayBuffer();
    } finally {
      await own.close();
    }
    await assert.rejects(startMockFreedomId({ host: '0.0.0.0' }));
  });

  test('CLI prints one line, logs without secrets, stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [MOCK_PATH, '--port', '0'], {
      env: { ...process.env, MOCK_CLIENT_ID: 'cli-id', MOCK_CLIENT_SECRET: 'cli-secret-value' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const secrets = []; // codes and tokens handed out: none may reach the log
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const exited = once(child, 'exit');
    try {
      while (!stdout.includes('\n')) {
        await Promise.race([once(child.stdout, 'data'), exited.then(() => assert.fail(`CLI exited: ${stderr}`))]);
      }
      const [, origin] = /^mock Freedom ID listening on (http:\/\/127\.0\.0\.1:\d+)\n$/.exec(stdout) ?? [];
      assert.ok(origin, `unexpected stdout ${JSON.stringify(stdout)}`);

      const basic = `Basic ${Buffer.from('cli-id:cli-secret-value').toString('base64')}`;
      const res = await fetch(`${origin}/api/v1/oauth/authorize`, {
        method: 'POST',
        headers: { authorization: basic, 'content-type': 'application/json' },
        body: JSON.stringify({ redirect_uri: 'https://app.example/body-marker', grants: ['read.email'] }),
      });
      assert.equal(res.status, 200);
      await res.arrayBuffer();

      const { code } = await (await fetch(`${origin}/__mock/issue-code`, { method: 'POST' })).json();
      const token = await fetch(`${origin}/api/v1/oauth/token`, {
        method: 'POST',
        headers: { authorization: basic, 'content-type': 'application/json' },
        body: JSON.stringify({ authorization_code: code }),
      });
      assert.equal(token.status, 200);
      const pair = await token.json();
      const rotated = await fetch(`${origin}/api/v1/oauth/token`, {
        method: 'PATCH',
        headers: { authorization: `Bearer ${pair.refresh_token}` },
      });
      assert.equal(rotated.status, 200);
      secrets.push(code, pair.access_token, pair.refresh_token, ...Object.values(await rotated.json()));
      while (stderr.split('\n').length < 4) await once(child.stderr, 'data');
    } finally {
      child.kill('SIGTERM');
    }
    const [code, signal] = await exited;
    assert.equal(signal, null, 'exited by itself, not killed by the signal');
    assert.equal(code, 0);
    assert.equal(stdout.split('\n').filter(Boolean).length, 1);
    assert.match(stderr, /POST \/api\/v1\/oauth\/authorize -> 200 \[ok\]/);
    assert.match(stderr, /POST \/api\/v1\/oauth\/token -> 200 \[ok\]\nPATCH \/api\/v1\/oauth\/token -> 200 \[ok\]/);
    for (const secret of secrets) assert.ok(!stdout.includes(secret) && !stderr.includes(secret), 'log leaked a code or token');
    for (const secret of ['cli-secret-value', Buffer.from('cli-id:cli-secret-value').toString('base64'), 'body-marker']) {
      assert.ok(!stdout.includes(secret) && !stderr.includes(secret), `log leaked ${secret}`);
    }
  });
});

// support/faults.mjs says what each mode yields; these keep it and the mock in step: every mode
// the mock has an outcome there, every mode there is one the mock takes, and what the table
// says the mock does (its status, whether it spends the code) is what it does.
describe('the fault table (support/faults.mjs)', () => {
  const family = (mode) => mode.split(':')[0];

  for (const [endpoint, modes, table, set] of [
    ['authorize', MODES, AUTHORIZE_FAULTS, (mode) => mock.setMode(mode)],
    ['token', TOKEN_MODES, TOKEN_FAULTS, (mode) => mock.setTokenMode(mode)],
  ]) {
    test(`every ${endpoint} mode has an outcome in the table, and every mode there is one the mock takes`, () => {
      const covered = new Set(table.map(({ mode }) => family(mode)));
      for (const mode of modes) {
        if (family(mode) === 'random-faults') {
          // Random: each fault it can pick has its outcome (the soak checks every answer against it).
          for (const picked of RANDOM_FAULTS) assert.doesNotThrow(() => fault(table, picked), `${picked}, picked by ${mode}`);
        } else {
          assert.ok(covered.has(family(mode)), `the mock's ${endpoint} mode ${mode} has no outcome in support/faults.mjs`);
        }
      }
      assert.equal(new Set(table.map(({ mode }) => mode)).size, table.length, 'each mode once');
      for (const { mode } of table) assert.equal(set(mode), mode, `support/faults.mjs lists ${mode}, which the mock takes`);
    });
  }

  /** The status the mock answers `send(signal)` with; null when it never answers (or resets). */
  async function answered(send) {
    try {
      const res = await send(AbortSignal.timeout(700));
      await res.body?.cancel();
      return res.status;
    } catch {
      return null;
    }
  }

  test('each authorize mode answers with the status the table gives it', async () => {
    for (const { mode, upstream } of AUTHORIZE_FAULTS) {
      mock.setMode(mode);
      assert.equal(await answered((signal) => authorize({ signal })), upstream, mode);
    }
  });

  test('each token mode answers with the status the table gives it, and spends the code (or rotates the refresh token) as it says', async () => {
    for (const { mode, upstream, spendsCode } of TOKEN_FAULTS) {
      mock.setTokenMode('ok');
      const pair = await newPair();
      const code = mock.issueCode();
      mock.setTokenMode(mode);
      assert.equal(await answered((signal) => exchange(code, { signal })), upstream, `${mode}: the exchange`);
      assert.equal(mock.codeStatus(code).spent, spendsCode, `${mode}: the code ${spendsCode ? 'is' : 'is not'} spent`);
      const refreshed = await answered((signal) => refresh(pair.refresh_token, { signal }));
      assert.equal(refreshed, upstream, `${mode}: the refresh`);
      mock.setTokenMode('ok');
      const again = await answered((signal) => refresh(pair.refresh_token, { signal }));
      assert.equal(again, spendsCode ? 401 : 200, `${mode}: the refresh token ${spendsCode ? 'was' : 'was not'} used up`);
    }
  });
});
