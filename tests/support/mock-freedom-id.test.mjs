// Tests of the embedded Freedom ID mock: node --test tests/support/mock-freedom-id.test.mjs
// One file for one module, its tests sharing one mock (reset before each); one describe per
// area below: the authorize endpoint, its modes, the HTTP controls, the sign-in page, the token
// endpoint's exchange, refresh, lifetimes and modes, compressed answers, the lifecycle, and the
// fault table (support/faults.mjs) checked against the mock; then the OpenID Connect flavour (its
// authorization page, token endpoint, id_tokens and key set, and their modes), the user-info
// endpoint and its modes, their controls, and their fault tables.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createPublicKey, verify } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';

import {
  DEMO_USER,
  MODES,
  OIDC_TOKEN_MODES,
  PROFILE_FIELDS,
  RANDOM_FAULTS,
  SIGNING_ALGS,
  TOKEN_MODES,
  USERINFO_MODES,
  startMockFreedomId,
} from './mock-freedom-id.mjs';
import { AUTHORIZE_FAULTS, OIDC_TOKEN_FAULTS, TOKEN_FAULTS, USERINFO_FAULTS, WORKER_STATUS, fault } from './faults.mjs';

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

// ---------------------------------------------------------------------------------------------
// The OpenID Connect flavour and the user-info endpoint (issue #21)

const REDIRECT = 'https://app.example/login';
const OIDC_SCOPE = 'openid read.firstname read.email';
const WEEK = 7 * 24 * 3600;
const CLIENT_ID = 'demo-client';
const HEX32 = /^[0-9a-f]{32}$/;
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** The authorization page's URL: the six parameters, `changes` replacing (a string) or leaving out (null) some. */
function openidUrl(changes = {}, target = mock) {
  const params = {
    scope: OIDC_SCOPE,
    state: 'state-1',
    response_type: 'code',
    client_id: CLIENT_ID,
    redirect_uri: REDIRECT,
    nonce: 'nonce-1',
    ...changes,
  };
  const url = new URL(target.oidcAuthorizeUrl);
  for (const [name, value] of Object.entries(params)) if (value !== null) url.searchParams.append(name, value);
  return url;
}

/** Opens the authorization page and reads its request_id off the form. */
async function openPage(changes, target = mock) {
  const res = await fetch(openidUrl(changes, target));
  assert.equal(res.status, 200);
  const html = await res.text();
  const [, requestId] = /name="request_id" value="([^"]+)"/.exec(html) ?? [];
  assert.ok(requestId, 'the page carries the request');
  return { html, requestId };
}

function oidcDecide(requestId, decision, target = mock) {
  return fetch(`${target.origin}/openid/decide`, {
    method: 'POST',
    redirect: 'manual',
    body: new URLSearchParams({ request_id: requestId, decision }),
  });
}

/** Drives the authorization page as a browser: open it, Allow, read the code off the 303. */
async function oidcSignIn({ scope = OIDC_SCOPE, nonce = 'nonce-1', state = 'state-1', redirectUri = REDIRECT, target = mock } = {}) {
  const { requestId } = await openPage({ scope, nonce, state, redirect_uri: redirectUri }, target);
  const res = await oidcDecide(requestId, 'allow', target);
  assert.equal(res.status, 303);
  const location = new URL(res.headers.get('location'));
  assert.equal(location.searchParams.get('state'), state);
  return location.searchParams.get('code');
}

/** POSTs the OIDC exchange for `code`; `body` overrides it (objects as JSON, strings as they are). */
function oidcExchange(
  code,
  {
    redirectUri = REDIRECT,
    body = { code, redirect_uri: redirectUri, grant_type: 'authorization_code' },
    headers = {},
    signal,
    path = '/api/v1/oidc/token',
    method = 'POST',
    target = mock,
  } = {},
) {
  return fetch(`${target.origin}${path}`, {
    method,
    redirect: 'manual',
    signal,
    headers: { authorization: BASIC, 'content-type': 'application/json', ...headers },
    body: method === 'GET' ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** Exchanges a fresh OIDC code (issued by the control) and returns the answer. */
async function oidcTokens({ scope = OIDC_SCOPE, nonce = 'nonce-1', target = mock } = {}) {
  const res = await oidcExchange(target.issueOidcCode({ nonce, redirectUri: REDIRECT, scope }), { target });
  assert.equal(res.status, 200);
  return res.json();
}

function decodeJwt(token) {
  const parts = token.split('.');
  const [header, claims] = parts.slice(0, 2).map((part) => JSON.parse(Buffer.from(part, 'base64url')));
  return { parts, header, claims };
}

/** Whether `token`'s signature verifies, with node:crypto, under the key of `jwks` its header's kid names. */
function verifies(token, jwks) {
  const [header, payload, signature] = token.split('.');
  const { alg, kid } = JSON.parse(Buffer.from(header, 'base64url'));
  const jwk = jwks.keys.find((key) => key.kid === kid);
  if (!jwk || jwk.alg !== alg || !['ES256', 'RS256'].includes(alg)) return false;
  const key = createPublicKey({ key: jwk, format: 'jwk' });
  const options = alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : key;
  return verify('sha256', Buffer.from(`${header}.${payload}`), options, Buffer.from(signature, 'base64url'));
}

/** Whether any key of `jwks` verifies `token`'s signature, whatever its kid says. */
function anyKeyVerifies(token, jwks) {
  const [header, payload, signature] = token.split('.');
  return jwks.keys.some((jwk) => {
    const key = createPublicKey({ key: jwk, format: 'jwk' });
    const options = jwk.alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : key;
    return verify('sha256', Buffer.from(`${header}.${payload}`), options, Buffer.from(signature, 'base64url'));
  });
}

async function servedJwks(target = mock) {
  const res = await fetch(target.jwksUrl);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^application\/json/);
  return res.json();
}

/**
 * The id_token checks of issue #21, written out on their own: null when they pass, else the first that
 * fails. `jwks` given: the signature is checked too (FREEDOM_ID_JWKS_URL set).
 */
function idTokenProblem(token, { issuer, nonce, jwks, now = Date.now() / 1000 }) {
  const parts = token.split('.');
  if (parts.length !== 3) return 'parts';
  if (!parts.every((part) => /^[A-Za-z0-9_-]*$/.test(part) && part.length % 4 !== 1)) return 'base64url';
  let header;
  let claims;
  try {
    [header, claims] = parts.slice(0, 2).map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()));
  } catch {
    return 'json';
  }
  if (header === null || typeof header !== 'object' || claims === null || typeof claims !== 'object') return 'json';
  if (typeof header.alg !== 'string' || header.alg.toLowerCase() === 'none') return 'alg';
  if (jwks && !verifies(token, jwks)) return 'signature';
  if (claims.iss !== issuer) return 'iss';
  if (!(Array.isArray(claims.aud) ? claims.aud : [claims.aud]).includes(CLIENT_ID)) return 'aud';
  if (!(typeof claims.exp === 'number' && claims.exp + 60 > now)) return 'exp';
  if (!(typeof claims.iat === 'number' && claims.iat <= now + 60)) return 'iat';
  if (claims.nonce !== nonce) return 'nonce';
  if (!(typeof claims.sub === 'string' && claims.sub !== '' && [...claims.sub].length <= 255)) return 'sub';
  return null;
}

/** GET the user-info endpoint with `token` as Bearer (undefined: no Authorization). */
function userInfo(token, { headers = {}, signal, method = 'GET', target = mock } = {}) {
  return fetch(target.userInfoUrl, {
    method,
    redirect: 'manual',
    signal,
    headers: token === undefined ? headers : { authorization: `Bearer ${token}`, ...headers },
  });
}

/** The user-info answer the demo user's token gets: `id` (and `sub` in oidc) first, then the rest. */
function demoInfo(flavour) {
  const { id, ...rest } = DEMO_USER;
  return JSON.parse(JSON.stringify(flavour === 'oidc' ? { id, sub: id, ...rest } : { id, ...rest }));
}

const post = (path, body) =>
  fetch(`${mock.origin}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

describe('OIDC authorization page', () => {
  test('shows the app, the redirect URI, the grants and Allow and Decline; records the visit with its query', async () => {
    assert.equal(mock.oidcAuthorizeUrl, `${mock.origin}/openid`);
    const url = openidUrl({ redirect_uri: 'https://app.example/cb?next=<script>', scope: 'openid read.email' });
    const res = await fetch(url);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const html = await res.text();
    assert.match(html, /<h1>Mock Freedom ID<\/h1>/);
    assert.match(html, /OpenID Connect sign-in/);
    assert.match(html, /<strong>Aida Seitkali<\/strong>/);
    assert.ok(html.includes('https://app.example/cb?next=&lt;script&gt;'), 'redirect URI shown, escaped');
    assert.ok(!html.includes('<script>'));
    assert.ok(html.includes('<code>demo-client</code>'));
    assert.match(html, /<li><code>openid<\/code><\/li><li><code>read\.email<\/code><\/li>/);
    assert.match(html, /<form method="post" action="\/openid\/decide">/);
    assert.match(html, /<input type="hidden" name="request_id" value="[0-9a-f-]{36}">/);
    assert.match(html, /<button name="decision" value="allow">Allow<\/button>/);
    assert.match(html, /<button name="decision" value="decline">Decline<\/button>/);

    assert.equal(mock.requests.length, 1);
    const [recorded] = mock.requests;
    assert.equal(recorded.endpoint, 'openid');
    assert.equal(recorded.method, 'GET');
    assert.equal(recorded.path, '/openid');
    assert.equal(recorded.query, url.search.slice(1));
    assert.equal(recorded.mode, null);
    assert.equal(recorded.body, '');
  });

  test('each of the six parameters is required once and non-empty; their rules; every problem named in a 400 page', async () => {
    const cases = [
      ...['scope', 'state', 'response_type', 'client_id', 'redirect_uri', 'nonce'].flatMap((name) => [
        [{ [name]: null }, `${name} is required`],
        [{ [name]: '' }, `${name} is required`],
      ]),
      [{ response_type: 'token' }, 'response_type must be code'],
      [{ response_type: 'CODE' }, 'response_type must be code'],
      [{ scope: 'read.email read.phone' }, 'scope must hold the openid grant'],
      [{ scope: 'openidx read.email' }, 'scope must hold the openid grant'],
      [{ client_id: 'other-client' }, 'client_id is not a client of this Freedom ID'],
      [{ redirect_uri: '/login' }, 'redirect_uri must be an absolute http or https URL'],
      [{ redirect_uri: 'javascript:alert(1)' }, 'redirect_uri must be an absolute http or https URL'],
      [{ redirect_uri: 'https://app.example/cb#frag' }, 'redirect_uri must be an absolute http or https URL'],
    ];
    for (const [changes, problem] of cases) {
      const res = await fetch(openidUrl(changes));
      assert.equal(res.status, 400, JSON.stringify(changes));
      assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
      const html = await res.text();
      assert.ok(html.includes(problem), `${JSON.stringify(changes)}: ${problem}`);
      assert.ok(!html.includes('name="request_id"'), 'no form');
    }

    const twice = openidUrl();
    twice.searchParams.append('nonce', 'nonce-2');
    const res = await fetch(twice);
    assert.equal(res.status, 400);
    assert.match(await res.text(), /nonce is given 2 times/);

    const all = await fetch(`${mock.origin}/openid`);
    assert.equal(all.status, 400);
    assert.equal((await all.text()).match(/is required/g).length, 6, 'every problem named');
    assert.equal(mock.requests.filter((r) => r.endpoint === 'openid').length, cases.length + 2);
  });

  test('the scope takes any whitespace between grants (a + in the query is a space)', async () => {
    const url = `${mock.oidcAuthorizeUrl}?scope=read.email+openid&state=s&response_type=code&client_id=demo-client&redirect_uri=${encodeURIComponent(REDIRECT)}&nonce=n`;
    assert.equal((await fetch(url)).status, 200);
    assert.equal((await fetch(openidUrl({ scope: 'read.email\topenid  read.phone' }))).status, 200);
  });

  test('Allow: 303 to the redirect URI with code and state (its query kept); the request is then forgotten', async () => {
    const { requestId } = await openPage({ redirect_uri: 'https://app.example/cb?x=1', state: 'st ate/+&', nonce: 'n-1' });
    const res = await oidcDecide(requestId, 'allow');
    assert.equal(res.status, 303);
    const location = res.headers.get('location');
    assert.match(location, /^https:\/\/app\.example\/cb\?x=1&code=[0-9a-f]{32}&state=st%20ate%2F%2B%26$/);
    const url = new URL(location);
    assert.equal(url.searchParams.get('state'), 'st ate/+&');
    const code = url.searchParams.get('code');
    assert.deepEqual(mock.codeStatus(code), { known: true, spent: false, expired: false });

    assert.equal((await oidcDecide(requestId, 'allow')).status, 404);
    assert.equal((await oidcDecide(requestId, 'decline')).status, 404);
    // The code remembers its redirect URI: the exchange must name the same one.
    assert.equal((await oidcExchange(code, { redirectUri: 'https://app.example/cb?x=1' })).status, 200);
  });

  test('Decline: 303 with error=access_denied and the state, and no code', async () => {
    const { requestId } = await openPage({ state: 'state-9' });
    const res = await oidcDecide(requestId, 'decline');
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), `${REDIRECT}?error=access_denied&state=state-9`);
  });

  test('an unknown request or decision: 404 or 400 HTML', async () => {
    let res = await oidcDecide('00000000-0000-4000-8000-000000000000', 'allow');
    assert.equal(res.status, 404);
    assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.match(await res.text(), /unknown or expired/);
    const { requestId } = await openPage();
    res = await oidcDecide(requestId, 'continue');
    assert.equal(res.status, 400);
    assert.match(await res.text(), /Choose <strong>Allow<\/strong> or <strong>Decline<\/strong>/);
    assert.equal((await oidcDecide(requestId, 'allow')).status, 303, 'a bad decision leaves the request open');
    assert.equal((await fetch(`${mock.origin}/openid`, { method: 'POST' })).status, 404);
  });

  test('the page greets the user a test chose, by id when it has no name', async () => {
    mock.setUser({ id: 'user-7' });
    assert.match((await openPage()).html, /<strong>user-7<\/strong>/);
    mock.setUser({ id: 'user-8', firstname: 'Ерлан' });
    assert.match((await openPage()).html, /<strong>Ерлан<\/strong>/);
  });
});

describe('OIDC token endpoint', () => {
  test('a code from the page exchanges for the documented answer with an ES256 id_token that verifies against the key set', async () => {
    assert.equal(mock.oidcTokenUrl, `${mock.origin}/api/v1/oidc/token`);
    assert.equal(mock.issuer, mock.origin);
    assert.equal(mock.signingAlg, 'ES256');
    const code = await oidcSignIn({ nonce: 'nonce-abc' });
    assert.match(code, HEX32);

    const since = nowSeconds();
    const res = await oidcExchange(code);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^application\/json/);
    const answer = await res.json();
    assert.deepEqual(Object.keys(answer), ['access_token', 'expires_in', 'refresh_token', 'token_type', 'id_token']);
    assert.match(answer.access_token, TOKEN);
    assert.match(answer.refresh_token, TOKEN);
    assert.equal(answer.expires_in, 3600);
    assert.equal(answer.token_type, 'Bearer');
    assert.equal(mock.codeStatus(code).spent, true);

    const { parts, header, claims } = decodeJwt(answer.id_token);
    assert.equal(parts.length, 3);
    assert.deepEqual(header, { alg: 'ES256', kid: mock.jwks.keys[0].kid, typ: 'JWT' });
    assert.equal(Buffer.from(parts[2], 'base64url').length, 64, 'r || s, not DER');
    assert.deepEqual(Object.keys(claims), ['iss', 'sub', 'aud', 'exp', 'iat', 'nonce', 'firstname', 'email']);
    assert.equal(claims.iss, mock.origin);
    assert.equal(claims.sub, DEMO_USER.id);
    assert.match(claims.sub, UUID);
    assert.equal(claims.aud, CLIENT_ID);
    assert.ok(claims.iat >= since && claims.iat <= nowSeconds());
    assert.equal(claims.exp - claims.iat, WEEK);
    assert.equal(claims.nonce, 'nonce-abc');
    assert.equal(claims.firstname, 'Aida');
    assert.equal(claims.email, 'aida@example.com');

    const jwks = await servedJwks();
    assert.ok(verifies(answer.id_token, jwks));
    assert.equal(idTokenProblem(answer.id_token, { issuer: mock.issuer, nonce: 'nonce-abc', jwks }), null);

    assert.deepEqual(mock.requests.map((r) => r.endpoint), ['openid', 'oidc-token', 'jwks']);
    const recorded = mock.requests[1];
    assert.equal(recorded.method, 'POST');
    assert.equal(recorded.path, '/api/v1/oidc/token');
    assert.equal(recorded.headers.authorization, BASIC);
    assert.deepEqual(JSON.parse(recorded.body), { code, redirect_uri: REDIRECT, grant_type: 'authorization_code' });
    assert.equal(recorded.mode, 'ok');
  });

  test('setSigningAlg("RS256") signs with the RS256 key; each verifies only with its own key', async () => {
    const jwks = await servedJwks();
    const es = (await oidcTokens()).id_token;
    assert.equal(mock.setSigningAlg('RS256'), 'RS256');
    assert.equal(mock.signingAlg, 'RS256');
    const rs = (await oidcTokens()).id_token;
    const { header, parts } = decodeJwt(rs);
    assert.deepEqual(header, { alg: 'RS256', kid: jwks.keys[1].kid, typ: 'JWT' });
    assert.equal(Buffer.from(parts[2], 'base64url').length, 256);
    assert.ok(verifies(rs, jwks));
    assert.ok(verifies(es, jwks));
    const swapped = (token, key) => {
      const [h, p, sig] = token.split('.');
      const { kid: _kid, ...rest } = JSON.parse(Buffer.from(h, 'base64url'));
      return `${Buffer.from(JSON.stringify({ ...rest, kid: key.kid, alg: key.alg })).toString('base64url')}.${p}.${sig}`;
    };
    assert.ok(!verifies(swapped(rs, jwks.keys[0]), jwks), 'an RS256 signature is no ES256 one');
    assert.ok(!verifies(swapped(es, jwks.keys[1]), jwks), 'an ES256 signature is no RS256 one');
    for (const bad of ['HS256', 'es256', 'none', '', undefined]) assert.throws(() => mock.setSigningAlg(bad), undefined, String(bad));
    assert.equal(mock.signingAlg, 'RS256');
    mock.reset();
    assert.equal(mock.signingAlg, 'ES256');
    assert.deepEqual(SIGNING_ALGS, ['ES256', 'RS256']);
  });

  test('profile claims follow the scope: read.<field> each, read.profile all ten; never cards', async () => {
    const claimsFor = async (scope) => decodeJwt((await oidcTokens({ scope })).id_token).claims;
    const base = ['iss', 'sub', 'aud', 'exp', 'iat', 'nonce'];
    assert.deepEqual(Object.keys(await claimsFor('openid')), base);
    assert.deepEqual(Object.keys(await claimsFor('openid read.cards read.emails read.phones')), base);
    const some = await claimsFor('read.phone openid read.lastname read.date_of_birth');
    assert.deepEqual(Object.keys(some), [...base, 'lastname', 'phone', 'date_of_birth']);
    assert.equal(some.phone, '+77011234567');
    const all = await claimsFor('openid read.profile');
    assert.deepEqual(Object.keys(all), [...base, ...PROFILE_FIELDS]);
    for (const field of PROFILE_FIELDS) assert.equal(all[field], DEMO_USER[field], field);
  });

  test('also answers on /v1/oidc/token', async () => {
    const res = await oidcExchange(mock.issueOidcCode({ nonce: 'n', redirectUri: REDIRECT }), { path: '/v1/oidc/token' });
    assert.equal(res.status, 200);
    assert.match((await res.json()).id_token, /^[\w-]+\.[\w-]+\.[\w-]+$/);
    assert.equal(mock.requests[0].path, '/v1/oidc/token');
    assert.equal(mock.requests[0].endpoint, 'oidc-token');
  });

  test('a code works once, with its redirect_uri only; an OAuth2 code is refused here and an OIDC code at /oauth/token', async () => {
    const code = await oidcSignIn();
    const wrongUri = await oidcExchange(code, { redirectUri: 'https://app.example/other' });
    assert.equal(wrongUri.status, 400);
    assert.deepEqual(await wrongUri.json(), { error: { message: 'Invalid redirect_uri.', code: 100101 } });
    assert.equal(mock.codeStatus(code).spent, false, 'a refused code stays unspent');
    assert.equal((await oidcExchange(code, { redirectUri: `${REDIRECT}/` })).status, 400, 'compared exactly');

    assert.equal((await oidcExchange(code)).status, 200);
    const again = await oidcExchange(code);
    assert.equal(again.status, 400);
    assert.deepEqual(await again.json(), INVALID_CODE);

    const oauth2Code = mock.issueCode();
    assert.equal((await oidcExchange(oauth2Code)).status, 400);
    assert.equal(mock.codeStatus(oauth2Code).spent, false);
    const oidcCode = mock.issueOidcCode({ nonce: 'n', redirectUri: REDIRECT });
    const res = await exchange(oidcCode);
    assert.equal(res.status, 400);
    assert.deepEqual(await res.json(), INVALID_CODE);
    assert.equal(mock.codeStatus(oidcCode).spent, false);
    assert.equal((await exchange(oauth2Code)).status, 200);
    assert.equal((await oidcExchange(oidcCode)).status, 200);
  });

  test('an expired code is refused', async () => {
    mock.setTokenLifetimes({ codeTtlSeconds: 0 });
    const code = mock.issueOidcCode({ nonce: 'n', redirectUri: REDIRECT });
    assert.deepEqual(mock.codeStatus(code), { known: true, spent: false, expired: true });
    const res = await oidcExchange(code);
    assert.equal(res.status, 400);
    assert.deepEqual(await res.json(), INVALID_CODE);
  });

  test('401 on a wrong Basic first, 415 on another content type, 405 on another method; the code stays unspent', async () => {
    const code = mock.issueOidcCode({ nonce: 'n', redirectUri: REDIRECT });
    const wrong = `Basic ${Buffer.from('demo-client:wrong').toString('base64')}`;
    for (const authorization of [wrong, '', 'Bearer x', BASIC.toLowerCase()]) {
      const res = await oidcExchange(code, { headers: { authorization, 'content-type': 'text/plain' }, body: 'x' });
      assert.equal(res.status, 401, authorization);
      assert.deepEqual(await res.json(), UNAUTHENTICATED);
    }
    const res = await oidcExchange(code, { headers: { 'content-type': 'text/plain' } });
    assert.equal(res.status, 415);
    for (const method of ['GET', 'PATCH', 'PUT']) {
      const other = await oidcExchange(code, { method });
      assert.equal(other.status, 405, method);
      assert.equal(other.headers.get('allow'), 'POST');
      await other.arrayBuffer();
    }
    assert.equal(mock.codeStatus(code).spent, false);
  });

  test('422 naming each missing or bad member of code, redirect_uri and grant_type', async () => {
    const code = mock.issueOidcCode({ nonce: 'n', redirectUri: REDIRECT });
    const good = { code, redirect_uri: REDIRECT, grant_type: 'authorization_code' };
    const cases = [
      [{}, ['code', 'redirect_uri', 'grant_type']],
      ['not json', ['code', 'redirect_uri', 'grant_type']],
      [{ ...good, code: undefined }, ['code']],
      [{ ...good, code: '' }, ['code']],
      [{ ...good, code: 42 }, ['code']],
      [{ ...good, redirect_uri: null }, ['redirect_uri']],
      [{ ...good, grant_type: undefined }, ['grant_type']],
      [{ ...good, grant_type: 'refresh_token' }, ['grant_type']],
      [{ ...good, grant_type: 'string' }, ['grant_type']],
      [{ authorization_code: code }, ['code', 'redirect_uri', 'grant_type']],
    ];
    for (const [body, fields] of cases) {
      const res = await oidcExchange(code, { body });
      assert.equal(res.status, 422, JSON.stringify(body));
      const { error } = await res.json();
      assert.equal(error.message, 'Error validating transmitted data.');
      assert.equal(error.code, undefined);
      assert.deepEqual(Object.keys(error.errors), fields, JSON.stringify(body));
    }
    const { error } = await (await oidcExchange(code, { body: { ...good, grant_type: 'password' } })).json();
    assert.deepEqual(error.errors, { grant_type: ['The selected Grant type is invalid.'] });
    assert.equal(mock.codeStatus(code).spent, false);
  });

  test('expires_in is accessTtlSeconds rounded down; the refresh token is not accepted by the PATCH', async () => {
    mock.setTokenLifetimes({ accessTtlSeconds: 5.9 });
    const answer = await oidcTokens();
    assert.equal(answer.expires_in, 5);
    assert.ok(Number.isInteger(answer.expires_in));
    const res = await refresh(answer.refresh_token);
    assert.equal(res.status, 401);
    assert.deepEqual(await res.json(), INVALID_REFRESH);
  });

  test('the issuer option sets iss; a bad one is refused', async () => {
    const own = await startMockFreedomId({ issuer: 'https://passport.freedompay.kz' });
    try {
      assert.equal(own.issuer, 'https://passport.freedompay.kz');
      const { claims } = decodeJwt((await oidcTokens({ target: own })).id_token);
      assert.equal(claims.iss, 'https://passport.freedompay.kz');
      assert.notDeepEqual(own.jwks, mock.jwks, 'each mock makes its own keys');
    } finally {
      await own.close();
    }
    for (const issuer of ['', 42]) await assert.rejects(startMockFreedomId({ issuer }), TypeError);
  });

  test('setUser chooses the user of codes issued from now on; a code keeps the user it was issued to; reset() restores', async () => {
    assert.deepEqual(mock.user, JSON.parse(JSON.stringify(DEMO_USER)));
    const before = mock.issueOidcCode({ nonce: 'n', redirectUri: REDIRECT, scope: 'openid read.profile' });
    const other = { id: '0f1e2d3c-4b5a-4968-8776-655443322110', firstname: 'Ерлан', lastname: 'Абаев', email: 7, extra: { a: 1 } };
    assert.deepEqual(mock.setUser(other), other);
    other.firstname = 'changed after';
    assert.equal(mock.user.firstname, 'Ерлан', 'the mock keeps its own copy');

    const after = decodeJwt((await oidcTokens({ scope: 'openid read.profile' })).id_token).claims;
    assert.equal(after.sub, '0f1e2d3c-4b5a-4968-8776-655443322110');
    assert.equal(after.firstname, 'Ерлан');
    assert.equal(after.email, 7, 'kept as given');
    assert.equal(after.phone, undefined, 'only the fields the user has');
    assert.equal(after.extra, undefined);
    const earlier = decodeJwt((await (await oidcExchange(before)).json()).id_token).claims;
    assert.equal(earlier.sub, DEMO_USER.id);
    assert.equal(earlier.firstname, 'Aida');

    mock.setUser({ id: 12345 });
    assert.equal(decodeJwt((await oidcTokens()).id_token).claims.sub, 12345);
    for (const bad of [null, [], 'x', {}, { id: null }, { id: -1 }, { id: 1.5 }, { firstname: 'A' }]) {
      assert.throws(() => mock.setUser(bad), TypeError, JSON.stringify(bad));
    }
    assert.equal(mock.user.id, 12345);
    mock.reset();
    assert.deepEqual(mock.user, JSON.parse(JSON.stringify(DEMO_USER)));
  });

  test('issueOidcCode gives codes the exchange takes; its input is checked', async () => {
    const code = mock.issueOidcCode({ nonce: 'from-control', redirectUri: REDIRECT });
    assert.match(code, HEX32);
    assert.deepEqual(mock.codeStatus(code), { known: true, spent: false, expired: false });
    const { claims } = decodeJwt((await (await oidcExchange(code)).json()).id_token);
    assert.equal(claims.nonce, 'from-control');
    assert.deepEqual(Object.keys(claims), ['iss', 'sub', 'aud', 'exp', 'iat', 'nonce'], 'scope defaults to openid');
    for (const bad of [{}, { nonce: 'n' }, { redirectUri: REDIRECT }, { nonce: 1, redirectUri: REDIRECT }, { nonce: 'n', redirectUri: REDIRECT, scope: null }]) {
      assert.throws(() => mock.issueOidcCode(bad), TypeError, JSON.stringify(bad));
    }
  });
});

describe('OIDC key set', () => {
  test('GET /oidc/jwks.json: the ES256 and the RS256 public keys, each with kid, alg and use, never a private member', async () => {
    assert.equal(mock.jwksUrl, `${mock.origin}/oidc/jwks.json`);
    const jwks = await servedJwks();
    assert.deepEqual(Object.keys(jwks), ['keys']);
    const [es, rs] = jwks.keys;
    assert.equal(jwks.keys.length, 2);
    assert.deepEqual(
      { kty: es.kty, crv: es.crv, alg: es.alg, use: es.use },
      { kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' },
    );
    assert.deepEqual(Object.keys(es).sort(), ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
    assert.deepEqual({ kty: rs.kty, alg: rs.alg, use: rs.use, e: rs.e }, { kty: 'RSA', alg: 'RS256', use: 'sig', e: 'AQAB' });
    assert.deepEqual(Object.keys(rs).sort(), ['alg', 'e', 'kid', 'kty', 'n', 'use']);
    assert.equal(Buffer.from(rs.n, 'base64url').length, 256, '2048 bits');
    assert.notEqual(es.kid, rs.kid);
    for (const key of jwks.keys) {
      assert.match(key.kid, /^[\w-]{43}$/, 'an RFC 7638 thumbprint');
      for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi']) assert.equal(key[secret], undefined, secret);
      assert.equal(createPublicKey({ key, format: 'jwk' }).type, 'public');
    }
    assert.deepEqual(mock.jwks, jwks);
    assert.deepEqual(mock.requests.map((r) => [r.endpoint, r.method, r.path, r.mode]), [['jwks', 'GET', '/oidc/jwks.json', null]]);

    const res = await fetch(mock.jwksUrl, { method: 'POST' });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('allow'), 'GET');
    await res.arrayBuffer();
  });

  test('rotateSigningKeys: new kids; a token signed before no longer verifies, one signed after does; reset() keeps the keys', async () => {
    const before = await servedJwks();
    const oldToken = (await oidcTokens()).id_token;
    const rotated = await mock.rotateSigningKeys();
    assert.deepEqual(await servedJwks(), rotated);
    assert.equal(rotated.keys.length, 2);
    for (const [i, key] of rotated.keys.entries()) {
      assert.notEqual(key.kid, before.keys[i].kid);
      assert.equal(key.alg, before.keys[i].alg);
    }
    assert.ok(!verifies(oldToken, rotated));
    const newToken = (await oidcTokens()).id_token;
    assert.ok(verifies(newToken, rotated));
    assert.equal(decodeJwt(newToken).header.kid, rotated.keys[0].kid);
    mock.reset();
    assert.deepEqual(mock.jwks, rotated);
  });
});

describe('OIDC token endpoint modes', () => {
  test('OIDC_TOKEN_MODES lists every mode and setOidcTokenMode accepts each; unknown ones throw; reset() restores ok', () => {
    assert.deepEqual(
      [...OIDC_TOKEN_MODES].sort(),
      [
        'ok', 'aud-array', 'expired-in-leeway', 'iat-future-in-leeway', 'wrong-iss', 'wrong-aud', 'expired', 'iat-future',
        'wrong-nonce', 'no-nonce', 'no-sub', 'long-sub', 'alg-none', 'bad-signature', 'unknown-kid', 'malformed',
        'malformed-base64', 'malformed-json', 'no-id-token', 'status:<code>', 'error-200', 'redirect', 'not-json', 'hang',
        'reset', 'slow:<ms>',
      ].sort(),
    );
    const example = { 'status:<code>': 'status:500', 'slow:<ms>': 'slow:10' };
    for (const mode of OIDC_TOKEN_MODES) assert.equal(mock.setOidcTokenMode(example[mode] ?? mode), example[mode] ?? mode);
    for (const bad of ['nope', 'gzip-bomb', 'random-faults:5', 'no-id', 'status:99', '', 42, undefined]) {
      assert.throws(() => mock.setOidcTokenMode(bad), undefined, `mode ${JSON.stringify(bad)}`);
    }
    assert.equal(mock.oidcTokenMode, 'slow:10');
    assert.equal(mock.tokenMode, 'ok', 'independent of the OAuth2 token mode');
    mock.reset();
    assert.equal(mock.oidcTokenMode, 'ok');
  });

  const near = (actual, expected, what) => assert.ok(Math.abs(actual - expected) <= 2, `${what} ${actual} is not ~${expected}`);

  // What each id_token mode must hand out: `check(token, jwks, now)`, and whether the token verifies
  // against the served key set (under its kid).
  const ID_TOKEN_CHECKS = {
    ok: { verifies: true, check: (token) => assert.equal(decodeJwt(token).claims.aud, CLIENT_ID) },
    'aud-array': { verifies: true, check: (token) => assert.deepEqual(decodeJwt(token).claims.aud, [CLIENT_ID, 'another-client']) },
    'expired-in-leeway': {
      verifies: true,
      check: (token, _jwks, now) => {
        const { claims } = decodeJwt(token);
        near(claims.exp, now - 30, 'exp');
        assert.equal(claims.exp - claims.iat, WEEK);
      },
    },
    'iat-future-in-leeway': {
      verifies: true,
      check: (token, _jwks, now) => {
        const { claims } = decodeJwt(token);
        near(claims.iat, now + 30, 'iat');
        assert.equal(claims.exp - claims.iat, WEEK);
      },
    },
    'wrong-iss': { verifies: true, check: (token) => assert.equal(decodeJwt(token).claims.iss, 'https://evil.example') },
    'wrong-aud': { verifies: true, check: (token) => assert.equal(decodeJwt(token).claims.aud, 'another-client') },
    expired: {
      verifies: true,
      check: (token, _jwks, now) => {
        const { claims } = decodeJwt(token);
        near(claims.exp, now - 120, 'exp');
        assert.ok(claims.exp + 60 < now, 'beyond a 60 s leeway');
        assert.equal(claims.exp - claims.iat, WEEK);
      },
    },
    'iat-future': {
      verifies: true,
      check: (token, _jwks, now) => {
        const { claims } = decodeJwt(token);
        near(claims.iat, now + 300, 'iat');
        assert.ok(claims.iat > now + 60, 'beyond a 60 s leeway');
      },
    },
    'wrong-nonce': {
      verifies: true,
      check: (token) => {
        const { nonce } = decodeJwt(token).claims;
        assert.match(nonce, /^[\w-]{43}$/);
        assert.notEqual(nonce, 'nonce-1');
      },
    },
    'no-nonce': { verifies: true, check: (token) => assert.ok(!('nonce' in decodeJwt(token).claims)) },
    'no-sub': {
      verifies: true,
      check: (token) => {
        const { claims } = decodeJwt(token);
        assert.ok(!('sub' in claims));
        assert.equal(claims.nonce, 'nonce-1', 'everything else as usual');
      },
    },
    'long-sub': { verifies: true, check: (token) => assert.equal(decodeJwt(token).claims.sub.length, 256) },
    'alg-none': {
      verifies: false,
      check: (token) => {
        const { parts, header, claims } = decodeJwt(token);
        assert.deepEqual(header, { alg: 'none', typ: 'JWT' });
        assert.equal(parts.length, 3);
        assert.equal(parts[2], '', 'no signature');
        assert.equal(claims.sub, DEMO_USER.id);
      },
    },
    'bad-signature': {
      verifies: false,
      check: (token, jwks) => {
        const { header, claims } = decodeJwt(token);
        assert.ok(jwks.keys.some((key) => key.kid === header.kid), 'a kid of the set');
        assert.equal(claims.sub, DEMO_USER.id, 'the claims as issued');
        assert.ok(!anyKeyVerifies(token, jwks));
      },
    },
    'unknown-kid': {
      verifies: false,
      check: (token, jwks) => {
        const { header } = decodeJwt(token);
        assert.match(header.kid, /^[\w-]{43}$/);
        assert.ok(!jwks.keys.some((key) => key.kid === header.kid), 'a kid not in the set');
        assert.ok(!anyKeyVerifies(token, jwks), 'signed by a key not in the set');
      },
    },
    malformed: {
      verifies: false,
      check: (token) => {
        const parts = token.split('.');
        assert.equal(parts.length, 2);
        assert.equal(JSON.parse(Buffer.from(parts[1], 'base64url')).sub, DEMO_USER.id);
      },
    },
    'malformed-base64': {
      verifies: true, // signed as it is: only its claims are no base64
      check: (token) => {
        const parts = token.split('.');
        assert.equal(parts.length, 3);
        assert.match(token, /^[\w.-]+$/, 'only base64url characters and dots');
        assert.equal(parts[1].length % 4, 1, 'a length no base64 text has');
      },
    },
    'malformed-json': {
      verifies: true,
      check: (token) => {
        const parts = token.split('.');
        assert.equal(parts.length, 3);
        assert.throws(() => JSON.parse(Buffer.from(parts[1], 'base64url')), SyntaxError);
        assert.doesNotThrow(() => JSON.parse(Buffer.from(parts[0], 'base64url')));
      },
    },
  };

  test('every id_token mode has its check here', () => {
    const idTokenModes = OIDC_TOKEN_MODES.filter((mode) => !/^(status|slow):|^(error-200|redirect|not-json|hang|reset|no-id-token)$/.test(mode));
    assert.deepEqual(Object.keys(ID_TOKEN_CHECKS).sort(), idTokenModes.sort());
  });

  for (const alg of SIGNING_ALGS) {
    for (const [mode, { verifies: verified, check }] of Object.entries(ID_TOKEN_CHECKS)) {
      test(`${alg} ${mode}: exchanges for real (the code spent) and hands out what the mode says`, async () => {
        mock.setSigningAlg(alg);
        mock.setOidcTokenMode(mode);
        const code = mock.issueOidcCode({ nonce: 'nonce-1', redirectUri: REDIRECT, scope: 'openid read.firstname' });
        const now = Date.now() / 1000;
        const res = await oidcExchange(code);
        assert.equal(res.status, 200);
        const answer = await res.json();
        assert.deepEqual(Object.keys(answer), ['access_token', 'expires_in', 'refresh_token', 'token_type', 'id_token']);
        assert.equal(mock.codeStatus(code).spent, true);
        assert.equal(mock.requests.at(-1).mode, mode);
        const jwks = mock.jwks;
        check(answer.id_token, jwks, now);
        if (mode !== 'malformed') {
          const header = JSON.parse(Buffer.from(answer.id_token.split('.')[0], 'base64url'));
          if (mode !== 'alg-none') assert.equal(header.alg, alg);
          assert.equal(verifies(answer.id_token, jwks), verified, `${mode} ${verified ? 'verifies' : 'does not verify'}`);
        }
        assert.equal((await userInfo(answer.access_token)).status, 200, 'its access token is real');
      });
    }
  }

  test('no-id-token exchanges for real and leaves the id_token out', async () => {
    mock.setOidcTokenMode('no-id-token');
    const code = mock.issueOidcCode({ nonce: 'n', redirectUri: REDIRECT });
    const res = await oidcExchange(code);
    assert.equal(res.status, 200);
    assert.deepEqual(Object.keys(await res.json()), ['access_token', 'expires_in', 'refresh_token', 'token_type']);
    assert.equal(mock.codeStatus(code).spent, true);
  });

  test('the id_token modes still refuse what ok refuses', async () => {
    mock.setOidcTokenMode('wrong-aud');
    const code = mock.issueOidcCode({ nonce: 'n', redirectUri: REDIRECT });
    assert.equal((await oidcExchange(code, { headers: { authorization: 'Basic Og==' } })).status, 401);
    assert.equal((await oidcExchange(code, { redirectUri: 'https://app.example/x' })).status, 400);
    assert.equal(mock.codeStatus(code).spent, false);
  });

  test('transport modes: status, error-200, redirect, not-json, hang, reset and slow; none but slow spends the code', async () => {
    const spent = (code) => mock.codeStatus(code).spent;
    const fresh = () => mock.issueOidcCode({ nonce: 'n', redirectUri: REDIRECT });
    for (const [mode, status] of [['status:500', 500], ['status:400', 400], ['status:401', 401]]) {
      mock.setOidcTokenMode(mode);
      const code = fresh();
      const res = await oidcExchange(code);
      assert.equal(res.status, status);
      assert.equal(typeof (await res.json()).error.message, 'string');
      assert.equal(spent(code), false);
    }
    mock.setOidcTokenMode('error-200');
    let code = fresh();
    let res = await oidcExchange(code);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), INVALID_CODE);
    assert.equal(spent(code), false);

    mock.setOidcTokenMode('redirect');
    res = await oidcExchange(fresh());
    assert.equal(res.status, 302);
    assert.equal(res.headers.get('location'), `${mock.origin}/elsewhere`);

    mock.setOidcTokenMode('not-json');
    res = await oidcExchange(fresh());
    assert.equal(res.headers.get('content-type'), 'text/html');
    assert.equal(await res.text(), '<html><body>Bad gateway</body></html>');

    mock.setOidcTokenMode('hang');
    await assert.rejects(oidcExchange(fresh(), { signal: AbortSignal.timeout(200) }), { name: 'TimeoutError' });
    mock.setOidcTokenMode('reset');
    await assert.rejects(oidcExchange(fresh()), TypeError);

    mock.setOidcTokenMode('slow:150');
    code = fresh();
    const started = Date.now();
    res = await oidcExchange(code);
    assert.ok(Date.now() - started >= 140);
    assert.equal(res.status, 200);
    assert.ok(verifies((await res.json()).id_token, mock.jwks));
    assert.equal(spent(code), true);
    assert.deepEqual(
      mock.requests.map((r) => r.mode),
      ['status:500', 'status:400', 'status:401', 'error-200', 'redirect', 'not-json', 'hang', 'reset', 'slow:150'],
    );
  });
});

describe('user-info endpoint', () => {
  test('an OAuth2 access token: the user who signed in, id first, no sub, cards included', async () => {
    assert.equal(mock.userInfoUrl, `${mock.origin}/api/v1/user/info`);
    const pair = await newPair();
    const res = await userInfo(pair.access_token, { headers: { accept: 'application/json', 'accept-encoding': 'identity' } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^application\/json/);
    const info = await res.json();
    assert.deepEqual(info, demoInfo('oauth2'));
    assert.deepEqual(Object.keys(info), ['id', ...PROFILE_FIELDS, 'cards']);
    assert.match(info.id, UUID);
    assert.notEqual(info.id, pair.id, "the user's id is not the token pair's id");

    const recorded = mock.requests.at(-1);
    assert.deepEqual([recorded.endpoint, recorded.method, recorded.path, recorded.mode], ['userinfo', 'GET', '/api/v1/user/info', 'ok']);
    assert.equal(recorded.headers.authorization, `Bearer ${pair.access_token}`);
  });

  test('an OIDC access token: id and sub, equal to the id_token sub', async () => {
    const answer = await oidcTokens();
    const info = await (await userInfo(answer.access_token)).json();
    assert.deepEqual(info, demoInfo('oidc'));
    assert.deepEqual(Object.keys(info).slice(0, 2), ['id', 'sub']);
    assert.equal(info.sub, decodeJwt(answer.id_token).claims.sub);
  });

  test('a refreshed access token works too, and answers the same user', async () => {
    mock.setUser({ id: 'user-r', firstname: 'Refresh' });
    const pair = await newPair();
    mock.reset();
    const rotated = await (await refresh(pair.refresh_token)).json();
    assert.deepEqual(await (await userInfo(rotated.access_token)).json(), { id: 'user-r', firstname: 'Refresh' });
    assert.equal((await userInfo(pair.access_token)).status, 200, 'the earlier one lives until it expires');
  });

  test('401 with WWW-Authenticate for no token, an unknown, a refresh or an expired one; bearer in any case; 405 on POST', async () => {
    const pair = await newPair();
    const oidc = await oidcTokens();
    const refused = [
      [undefined, 'Bearer'],
      ['x'.repeat(128), 'Bearer error="invalid_token"'],
      [pair.refresh_token, 'Bearer error="invalid_token"'],
      [oidc.refresh_token, 'Bearer error="invalid_token"'],
      [oidc.id_token, 'Bearer error="invalid_token"'],
    ];
    for (const [token, challenge] of refused) {
      const res = await userInfo(token);
      assert.equal(res.status, 401, String(token).slice(0, 20));
      assert.equal(res.headers.get('www-authenticate'), challenge);
      assert.deepEqual(await res.json(), UNAUTHENTICATED);
    }
    assert.equal((await userInfo(undefined, { headers: { authorization: BASIC } })).status, 401);
    assert.equal((await userInfo(undefined, { headers: { authorization: `bearer ${pair.access_token}` } })).status, 200);

    mock.setTokenLifetimes({ accessTtlSeconds: 0 });
    assert.equal((await userInfo((await newPair()).access_token)).status, 401);
    assert.equal((await userInfo((await oidcTokens()).access_token)).status, 401);

    const res = await userInfo(pair.access_token, { method: 'POST' });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('allow'), 'GET');
    await res.arrayBuffer();
  });
});

describe('user-info endpoint modes', () => {
  test('USERINFO_MODES lists every mode and setUserInfoMode accepts each; unknown ones throw; reset() restores ok', () => {
    assert.deepEqual(
      [...USERINFO_MODES].sort(),
      [
        'ok', 'status:<code>', 'not-json', 'huge', 'huge-chunked', 'gzip-bomb', 'mismatched-sub', 'oversized-claims',
        'claims-at-limit', 'redirect', 'hang', 'reset', 'slow:<ms>',
      ].sort(),
    );
    const example = { 'status:<code>': 'status:403', 'slow:<ms>': 'slow:10' };
    for (const mode of USERINFO_MODES) assert.equal(mock.setUserInfoMode(example[mode] ?? mode), example[mode] ?? mode);
    for (const bad of ['nope', 'wrong-aud', 'random-faults:5', 'status:600', '', null]) {
      assert.throws(() => mock.setUserInfoMode(bad), undefined, `mode ${JSON.stringify(bad)}`);
    }
    assert.equal(mock.userInfoMode, 'slow:10');
    mock.reset();
    assert.equal(mock.userInfoMode, 'ok');
  });

  test('status:<code>, not-json, redirect, hang and reset', async () => {
    const { access_token: token } = await newPair();
    for (const status of [401, 403, 500]) {
      mock.setUserInfoMode(`status:${status}`);
      const res = await userInfo(token);
      assert.equal(res.status, status);
      assert.equal(typeof (await res.json()).error.message, 'string');
    }
    mock.setUserInfoMode('not-json');
    let res = await userInfo(token);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/html');
    assert.equal(await res.text(), '<html><body>Bad gateway</body></html>');
    mock.setUserInfoMode('redirect');
    res = await userInfo(token);
    assert.equal(res.status, 302);
    assert.equal(res.headers.get('location'), `${mock.origin}/elsewhere`);
    mock.setUserInfoMode('hang');
    await assert.rejects(userInfo(token, { signal: AbortSignal.timeout(200) }), { name: 'TimeoutError' });
    mock.setUserInfoMode('reset');
    await assert.rejects(userInfo(token), TypeError);
    assert.deepEqual(mock.requests.filter((r) => r.endpoint === 'userinfo').map((r) => r.mode), [
      'status:401', 'status:403', 'status:500', 'not-json', 'redirect', 'hang', 'reset',
    ]);
  });

  test('huge: the real answer padded to 100 KiB with a Content-Length; huge-chunked: the same, chunked', async () => {
    const { access_token: token } = await newPair();
    mock.setUserInfoMode('huge');
    let res = await userInfo(token);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-length'), String(100 * 1024));
    const { padding, ...info } = JSON.parse(await res.text());
    assert.match(padding, /^x+$/);
    assert.deepEqual(info, demoInfo('oauth2'));

    mock.setUserInfoMode('huge-chunked');
    res = await userInfo(token);
    assert.equal(res.headers.get('content-length'), null);
    assert.equal(res.headers.get('transfer-encoding'), 'chunked');
    assert.ok(Buffer.byteLength(await res.text()) > 64 * 1024);
  });

  test('gzip-bomb: small on the wire, ~50 MiB decompressed', async () => {
    mock.setUserInfoMode('gzip-bomb');
    const res = await raw('/api/v1/user/info', { method: 'GET', headers: { 'accept-encoding': 'identity' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-encoding'], 'gzip');
    assert.ok(res.body.length < 64 * 1024);
    const plain = gunzipSync(res.body, { maxOutputLength: 64 * MiB });
    assert.ok(plain.length >= 50 * MiB);
    assert.equal(plain.subarray(0, 10).toString(), '{"id":"aaa');
  });

  test('mismatched-sub: sub another UUID, id unchanged, in either flavour', async () => {
    mock.setUserInfoMode('mismatched-sub');
    const oidc = await oidcTokens();
    const info = await (await userInfo(oidc.access_token)).json();
    assert.deepEqual(Object.keys(info), Object.keys(demoInfo('oidc')));
    assert.equal(info.id, DEMO_USER.id);
    assert.match(info.sub, UUID);
    assert.notEqual(info.sub, decodeJwt(oidc.id_token).claims.sub);
    const oauth2 = await (await userInfo((await newPair()).access_token)).json();
    assert.equal(oauth2.id, DEMO_USER.id);
    assert.notEqual(oauth2.sub, DEMO_USER.id);
  });

  test('oversized-claims: a 10 KiB firstname and five 1 KiB fields, the rest as usual', async () => {
    mock.setUserInfoMode('oversized-claims');
    const info = await (await userInfo((await oidcTokens()).access_token)).json();
    assert.equal(info.firstname.length, 10 * 1024);
    for (const field of ['lastname', 'patronymic', 'email', 'phone', 'identifier']) assert.equal(info[field].length, 1024, field);
    assert.match(info.email, /@example\.com$/);
    for (const field of ['date_of_birth', 'gender', 'country', 'nationality']) assert.equal(info[field], DEMO_USER[field], field);
    assert.equal(info.sub, DEMO_USER.id);
  });

  test('claims-at-limit: each of the ten fields at most 256 characters, together over 4 KiB', async () => {
    mock.setUserInfoMode('claims-at-limit');
    const info = await (await userInfo((await newPair()).access_token)).json();
    const lengths = PROFILE_FIELDS.map((field) => [...info[field]].length);
    assert.deepEqual(lengths, [256, 246, 236, 226, 216, 206, 196, 186, 176, 166], 'all different: "largest first" is one order');
    const bytes = PROFILE_FIELDS.reduce((sum, field) => sum + Buffer.byteLength(info[field]), 0);
    assert.ok(bytes > 4096, `${bytes} bytes`);
    assert.equal(info.id, DEMO_USER.id);
  });

  test('the twisting modes still refuse an unknown token with a plain 401', async () => {
    for (const mode of ['huge', 'huge-chunked', 'mismatched-sub', 'oversized-claims', 'claims-at-limit', 'slow:10']) {
      mock.setUserInfoMode(mode);
      const res = await userInfo('x'.repeat(128));
      assert.equal(res.status, 401, mode);
      assert.deepEqual(await res.json(), UNAUTHENTICATED);
    }
  });

  test('slow:<ms> answers as ok after the delay', async () => {
    const { access_token: token } = await newPair();
    mock.setUserInfoMode('slow:150');
    const started = Date.now();
    const res = await userInfo(token);
    assert.ok(Date.now() - started >= 140);
    assert.deepEqual(await res.json(), demoInfo('oauth2'));
  });
});

describe('HTTP controls of the OIDC flavour and the user info', () => {
  test('POST /__mock/oidc-token-mode, /__mock/userinfo-mode, /__mock/signing-alg; bad values are a 400; /__mock/reset restores', async () => {
    for (const [path, key, value, read] of [
      ['/__mock/oidc-token-mode', 'mode', 'wrong-nonce', () => mock.oidcTokenMode],
      ['/__mock/userinfo-mode', 'mode', 'status:403', () => mock.userInfoMode],
      ['/__mock/signing-alg', 'alg', 'RS256', () => mock.signingAlg],
    ]) {
      const res = await post(path, { [key]: value });
      assert.equal(res.status, 200, path);
      assert.deepEqual(await res.json(), { [key]: value });
      assert.equal(read(), value);
      for (const bad of [JSON.stringify({ [key]: 'bogus' }), '{', 'null', '{}']) {
        const refused = await post(path, bad);
        assert.equal(refused.status, 400, `${path} ${bad}`);
        assert.equal(typeof (await refused.json()).error.message, 'string');
      }
      assert.equal(read(), value, 'a refused value changes nothing');
    }
    const res = await post('/__mock/reset', '');
    assert.deepEqual(await res.json(), { status: 'ok', mode: 'ok', tokenMode: 'ok' });
    assert.deepEqual([mock.oidcTokenMode, mock.userInfoMode, mock.signingAlg], ['ok', 'ok', 'ES256']);
  });

  test('POST and GET /__mock/user; POST /__mock/issue-oidc-code; POST /__mock/rotate-keys', async () => {
    let res = await fetch(`${mock.origin}/__mock/user`);
    assert.deepEqual(await res.json(), demoInfo('oauth2'));
    res = await post('/__mock/user', { id: 'u-1', firstname: 'Бота' });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { id: 'u-1', firstname: 'Бота' });
    assert.deepEqual(mock.user, { id: 'u-1', firstname: 'Бота' });
    for (const bad of ['{', '[]', '{"firstname": "x"}', '{"id": true}']) assert.equal((await post('/__mock/user', bad)).status, 400, bad);

    res = await post('/__mock/issue-oidc-code', { nonce: 'n-http', redirect_uri: REDIRECT, scope: 'openid read.firstname' });
    assert.equal(res.status, 200);
    const { code } = await res.json();
    assert.match(code, HEX32);
    const { claims } = decodeJwt((await (await oidcExchange(code)).json()).id_token);
    assert.deepEqual([claims.sub, claims.nonce, claims.firstname], ['u-1', 'n-http', 'Бота']);
    for (const bad of ['{', '{}', JSON.stringify({ nonce: 'n' }), JSON.stringify({ nonce: 'n', redirect_uri: REDIRECT, scope: 5 })]) {
      assert.equal((await post('/__mock/issue-oidc-code', bad)).status, 400, bad);
    }

    const before = mock.jwks;
    res = await post('/__mock/rotate-keys', '');
    assert.equal(res.status, 200);
    const rotated = await res.json();
    assert.deepEqual(rotated, mock.jwks);
    assert.notEqual(rotated.keys[0].kid, before.keys[0].kid);

    await post('/__mock/reset', '');
    assert.deepEqual(mock.user, demoInfo('oauth2'));
    assert.deepEqual(await (await fetch(`${mock.origin}/__mock/requests`)).json(), []);
  });

  test('GET /__mock/requests lists every new endpoint', async () => {
    const code = await oidcSignIn();
    const answer = await (await oidcExchange(code)).json();
    await (await userInfo(answer.access_token)).arrayBuffer();
    await servedJwks();
    const requests = await (await fetch(`${mock.origin}/__mock/requests`)).json();
    assert.deepEqual(requests.map((r) => [r.endpoint, r.path, r.mode]), [
      ['openid', '/openid', null],
      ['oidc-token', '/api/v1/oidc/token', 'ok'],
      ['userinfo', '/api/v1/user/info', 'ok'],
      ['jwks', '/oidc/jwks.json', null],
    ]);
  });

  test('the controls are no endpoints: plain-text 404 for other methods', async () => {
    for (const [method, path] of [['GET', '/__mock/oidc-token-mode'], ['GET', '/__mock/userinfo-mode'], ['GET', '/__mock/signing-alg'],
      ['GET', '/__mock/rotate-keys'], ['GET', '/__mock/issue-oidc-code'], ['PUT', '/__mock/user'], ['GET', '/openid/decide'],
      ['GET', '/api/v1/oidc/token/x'], ['GET', '/.well-known/openid-configuration']]) {
      const res = await fetch(`${mock.origin}${path}`, { method });
      assert.equal(res.status, 404, `${method} ${path}`);
      assert.match(res.headers.get('content-type'), /^text\/plain/);
      await res.arrayBuffer();
    }
  });

  test('CLI: the OIDC flavour and the user info log method, path, status and mode only', async () => {
    const child = spawn(process.execPath, [MOCK_PATH, '--port', '0'], {
      env: { ...process.env, MOCK_CLIENT_ID: 'cli-id', MOCK_CLIENT_SECRET: 'cli-secret-value', MOCK_ISSUER: 'https://issuer.example' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const exited = once(child, 'exit');
    const secrets = ['cli-secret-value', Buffer.from('cli-id:cli-secret-value').toString('base64'), 'state-marker', 'nonce-marker', 'redirect-marker'];
    try {
      while (!stdout.includes('\n')) {
        await Promise.race([once(child.stdout, 'data'), exited.then(() => assert.fail(`CLI exited: ${stderr}`))]);
      }
      const [, origin] = /^mock Freedom ID listening on (http:\/\/127\.0\.0\.1:\d+)\n$/.exec(stdout) ?? [];
      assert.ok(origin, `unexpected stdout ${JSON.stringify(stdout)}`);
      const redirectUri = 'https://app.example/redirect-marker';
      const page = await fetch(
        `${origin}/openid?${new URLSearchParams({ scope: 'openid read.email', state: 'state-marker', response_type: 'code', client_id: 'cli-id', redirect_uri: redirectUri, nonce: 'nonce-marker' })}`,
      );
      const [, requestId] = /name="request_id" value="([^"]+)"/.exec(await page.text()) ?? [];
      const decided = await fetch(`${origin}/openid/decide`, {
        method: 'POST',
        redirect: 'manual',
        body: new URLSearchParams({ request_id: requestId, decision: 'allow' }),
      });
      const code = new URL(decided.headers.get('location')).searchParams.get('code');
      const answer = await (
        await fetch(`${origin}/api/v1/oidc/token`, {
          method: 'POST',
          headers: { authorization: `Basic ${Buffer.from('cli-id:cli-secret-value').toString('base64')}`, 'content-type': 'application/json' },
          body: JSON.stringify({ code, redirect_uri: redirectUri, grant_type: 'authorization_code' }),
        })
      ).json();
      assert.equal(decodeJwt(answer.id_token).claims.iss, 'https://issuer.example');
      assert.equal(decodeJwt(answer.id_token).claims.aud, 'cli-id');
      const info = await fetch(`${origin}/api/v1/user/info`, { headers: { authorization: `Bearer ${answer.access_token}` } });
      assert.equal(info.status, 200);
      await info.arrayBuffer();
      await (await fetch(`${origin}/oidc/jwks.json`)).arrayBuffer();
      secrets.push(requestId, code, answer.access_token, answer.refresh_token, answer.id_token, ...answer.id_token.split('.'), DEMO_USER.id);
      while (stderr.split('\n').length < 5) await once(child.stderr, 'data');
    } finally {
      child.kill('SIGTERM');
    }
    const [exitCode] = await exited;
    assert.equal(exitCode, 0);
    assert.equal(
      stderr,
      'GET /openid -> 200\nPOST /api/v1/oidc/token -> 200 [ok]\nGET /api/v1/user/info -> 200 [ok]\nGET /oidc/jwks.json -> 200\n',
    );
    for (const secret of secrets) assert.ok(!stdout.includes(secret) && !stderr.includes(secret), `log leaked ${secret.slice(0, 12)}`);
  });
});

// support/faults.mjs's tables of the OIDC token and user-info modes, kept in step with the mock as the
// others are; and what each says a client makes of the answer checked against the issue's rules.
describe('the OIDC and user-info fault tables (support/faults.mjs)', () => {
  const family = (mode) => mode.split(':')[0];

  for (const [endpoint, modes, table, set] of [
    ['OIDC token', OIDC_TOKEN_MODES, OIDC_TOKEN_FAULTS, (mode) => mock.setOidcTokenMode(mode)],
    ['user-info', USERINFO_MODES, USERINFO_FAULTS, (mode) => mock.setUserInfoMode(mode)],
  ]) {
    test(`every ${endpoint} mode has an outcome in the table, and every mode there is one the mock takes`, () => {
      const covered = new Set(table.map(({ mode }) => family(mode)));
      for (const mode of modes) assert.ok(covered.has(family(mode)), `the mock's ${endpoint} mode ${mode} has no outcome in support/faults.mjs`);
      assert.equal(new Set(table.map(({ mode }) => mode)).size, table.length, 'each mode once');
      for (const { mode } of table) assert.equal(set(mode), mode, `support/faults.mjs lists ${mode}, which the mock takes`);
    });
  }

  test('the rows are shaped as the header says; every code has a Worker status', () => {
    for (const row of OIDC_TOKEN_FAULTS) {
      for (const step of [row.exchange, row.exchangeWithJwks]) {
        assert.equal(step.status, step.code === null ? 303 : WORKER_STATUS[step.code], row.mode);
        assert.equal(step.npm.code, step.code);
      }
      if (!row.signatureOnly) assert.deepEqual(row.exchange, row.exchangeWithJwks, row.mode);
    }
    assert.deepEqual(OIDC_TOKEN_FAULTS.filter((row) => row.signatureOnly).map((row) => row.mode), ['bad-signature', 'unknown-kid']);
    for (const row of USERINFO_FAULTS) {
      for (const step of [row.oauth2, row.oidc]) assert.equal(step.status, step.code === null ? 303 : WORKER_STATUS[step.code], row.mode);
    }
    assert.deepEqual(fault(USERINFO_FAULTS, 'status:401').oidc.npm, { code: 'USERINFO_REJECTED', details: { status: 401 } });
    assert.equal(fault(OIDC_TOKEN_FAULTS, 'slow:50').mode, 'slow:50');
  });

  /** The status the mock answers `send(signal)` with (null: never, or reset), and the body when `read`. */
  async function answered(send, read) {
    try {
      const res = await send(AbortSignal.timeout(700));
      if (!read) {
        await res.body?.cancel();
        return { status: res.status };
      }
      return { status: res.status, text: await res.text() };
    } catch {
      return { status: null };
    }
  }

  test('each OIDC token mode answers the status the table gives, spends the code as it says, and its id_token fails the checks the table says it fails', async () => {
    for (const row of OIDC_TOKEN_FAULTS) {
      mock.setOidcTokenMode(row.mode);
      const code = mock.issueOidcCode({ nonce: 'nonce-t', redirectUri: REDIRECT });
      const read = row.upstream === 200 && row.mode !== 'not-json';
      const { status, text } = await answered((signal) => oidcExchange(code, { signal }), read);
      assert.equal(status, row.upstream, `${row.mode}: the status`);
      assert.equal(mock.codeStatus(code).spent, row.spendsCode, `${row.mode}: the code ${row.spendsCode ? 'is' : 'is not'} spent`);
      if (row.exchange.code === null || row.exchange.code === 'ID_TOKEN_INVALID') {
        const { id_token: token } = JSON.parse(text);
        const jwks = mock.jwks;
        for (const [step, keys] of [[row.exchange, undefined], [row.exchangeWithJwks, jwks]]) {
          const problem = idTokenProblem(token, { issuer: mock.issuer, nonce: 'nonce-t', jwks: keys });
          assert.equal(problem === null ? null : 'ID_TOKEN_INVALID', step.code, `${row.mode} ${keys ? 'with' : 'without'} a key set: ${problem}`);
        }
      }
      if (row.mode === 'no-id-token') assert.equal(JSON.parse(text).id_token, undefined);
    }
  });

  test('each user-info mode answers the status the table gives; the fields it sends are what the table says of them', async () => {
    const oidc = await oidcTokens({ scope: 'openid' });
    const sub = decodeJwt(oidc.id_token).claims.sub;
    const { access_token: oauth2Token } = await newPair();
    for (const row of USERINFO_FAULTS) {
      mock.setUserInfoMode(row.mode);
      for (const [flavour, token] of [['oauth2', oauth2Token], ['oidc', oidc.access_token]]) {
        const read = !row.bomb && (row[flavour].code === null || row[flavour].code === 'ID_TOKEN_INVALID');
        const { status, text } = await answered((signal) => userInfo(token, { signal }), read);
        assert.equal(status, row.upstream, `${row.mode} ${flavour}: the status`);
        if (row[flavour].code === null || row[flavour].code === 'ID_TOKEN_INVALID') {
          const info = JSON.parse(text);
          const mismatch = flavour === 'oidc' && info.sub !== undefined && info.sub !== sub;
          assert.equal(mismatch ? 'ID_TOKEN_INVALID' : null, row[flavour].code, `${row.mode} ${flavour}`);
          const long = PROFILE_FIELDS.filter((field) => typeof info[field] === 'string' && [...info[field]].length > 256);
          assert.deepEqual(long, row.drops, `${row.mode}: the fields too long to keep`);
          const kept = PROFILE_FIELDS.filter((field) => !long.includes(field));
          const bytes = kept.reduce((sum, field) => sum + Buffer.byteLength(String(info[field] ?? '')), 0);
          assert.equal(bytes > 4096, row.overflowsCookie, `${row.mode}: ${bytes} bytes of keepable fields`);
        }
      }
    }
  });
});
