// Tests of the embedded Freedom ID mock: node --test tests/support/mock-freedom-id.test.mjs
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

import { MODES, startMockFreedomId } from './mock-freedom-id.mjs';

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
      assert.deepEqual(await res.json(), { error: { message: 'Unauthenticated.', code: 100101 } });
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
        'huge-chunked', 'evil-link', 'userinfo-link', 'hang', 'hang-body', 'reset', 'slow:<ms>', 'random-faults:<percent>',
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

  test('anything else is a plain-text 404', async () => {
    for (const [method, path] of [['GET', '/nope'], ['GET', '/__mock/mode'], ['POST', '/healthz']]) {
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
      while (!stderr.includes('\n')) await once(child.stderr, 'data');
    } finally {
      child.kill('SIGTERM');
    }
    const [code, signal] = await exited;
    assert.equal(signal, null, 'exited by itself, not killed by the signal');
    assert.equal(code, 0);
    assert.equal(stdout.split('\n').filter(Boolean).length, 1);
    assert.match(stderr, /POST \/api\/v1\/oauth\/authorize -> 200 \[ok\]/);
    for (const secret of ['cli-secret-value', Buffer.from('cli-id:cli-secret-value').toString('base64'), 'body-marker']) {
      assert.ok(!stdout.includes(secret) && !stderr.includes(secret), `log leaked ${secret}`);
    }
  });
});
