// The Worker's log lines (issue 15), end to end: the built wasm in workerd (Miniflare), driven
// over HTTP like a browser against the mock Freedom ID, a small site behind the gate and
// Miniflare's KV and rate limiter. Every event is one JSON line through console.log:
// {event, code?, upstream_status, elapsed_ms, request_id, token_id?, problems?}, request_id the
// cf-ray header when one is sent (and plain), else 16 random hex characters; token_id the first
// 8 characters of the token pair's id; never a secret, token, code, state, cookie value, IP
// address or user data. FREEDOM_ID_LOG=off|errors|all (default errors: failures only).
// Every line a Worker printed is read here (worker.logs()): workerd prints nothing of its own
// on these runs, so every non-empty line must be one of the Worker's JSON lines.
// Needs `make build-worker` first. One file: the last sweeps read the whole output of the four
// Workers started once here, so the flows that print it stand beside them; split below (the
// whole flow at FREEDOM_ID_LOG=all and its failures; misconfigured, default and off; the sweeps).
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startMockFreedomId } from './support/mock-freedom-id.mjs';
import { BASIC_CREDENTIALS as BASIC, CLIENT_ID, CLIENT_SECRET, REVOKE_KEY, SESSION_SECRET, startWorker, workingBindings } from './support/worker.mjs';
import { Jar } from './support/jar.mjs';
import { unseal } from './support/seal.mjs';
import { startOriginServer } from './support/origin-server.mjs';
import { AUTHORIZE_FAULTS, TOKEN_FAULTS, faultsWhere } from './support/faults.mjs';
import { BROWSER_ACCEPT, FLOW_PREFIX, SESSION, Secrets, send, signInSteps } from './support/client.mjs';

/** A session secret too short to be accepted (the misconfigured Worker's). */
const SHORT_SECRET = 'short-session-secret-value';
const RAY = '8f7a1b2c3d4e5f60-DME';
const AFTER_SIGN_IN = '/welcome';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const RANDOM_ID = /^[0-9a-f]{16}$/;

/** The contract's events, and which of them carry an error code. */
const CODED = new Set(['sign_in_failed', 'refresh_failed', 'gate_denied', 'gate_failed', 'revoke_failed', 'rate_limited']);
const UNCODED = new Set(['sign_in_started', 'sign_in_completed', 'session_refreshed', 'signed_out', 'revoked']);
const BINDING = new Set(['rate_limiter_unavailable', 'revocations_unavailable']);
const EVENTS = new Set([...CODED, ...UNCODED, ...BINDING]);
const FAILURES = new Set([...CODED, ...BINDING]);
const KEYS = new Set(['event', 'code', 'upstream_status', 'elapsed_ms', 'request_id', 'token_id', 'problems']);
const CODES = new Set([
  'MISCONFIGURED', 'UPSTREAM_STATUS', 'UPSTREAM_MALFORMED', 'UNTRUSTED_LINK', 'UPSTREAM_NETWORK',
  'UPSTREAM_TIMEOUT', 'STATE_MISMATCH', 'RATE_LIMITED', 'CODE_REJECTED', 'REFRESH_REJECTED',
  'SIGN_IN_DECLINED', 'SIGN_IN_REQUIRED', 'APP_UNREACHABLE', 'REVOCATION_UNAVAILABLE',
  'CROSS_SITE_REQUEST', 'REVOCATION_FORBIDDEN',
]);
/** Any HTTP status (where a test does not pin the exact one). */
const ANY_STATUS = Symbol('any HTTP status');

let mock;
let site; // behind the `all` Worker; closed by the site-down test
let origin; // behind the default and `off` Workers
let all; // FREEDOM_ID_LOG=all, PROTECT /app, KV revocations with their key, rate limit 3/min per client address
let quiet; // no FREEDOM_ID_LOG (errors), PROTECT /app, rate limit 1/min
let off; // FREEDOM_ID_LOG=off, otherwise as `quiet`
let bogus; // FREEDOM_ID_LOG=bogus and a session secret too short: misconfigured

/** Every secret value seen during the file (tokens, codes, states, cookie values, ...). */
const secrets = new Secrets([CLIENT_SECRET, BASIC, SESSION_SECRET, SHORT_SECRET, REVOKE_KEY]);
const remember = (...values) => secrets.remember(...values);
/** Every client address sent (CF-Connecting-IP), and the one Miniflare adds by itself. */
const ips = new Set(['127.0.0.1']);
/** Per Worker: every line it printed during a request, with the request it came from. */
const attributed = new Map();

before(async () => {
  mock = await startMockFreedomId({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
  [site, origin] = await Promise.all([startOriginServer(), startOriginServer()]);
  const gate = (app) => ({ FREEDOM_ID_PROTECT: '/app', FREEDOM_ID_APP_ORIGIN: app.url, FREEDOM_ID_AFTER_SIGN_IN: AFTER_SIGN_IN, FREEDOM_ID_FORWARD_ACCESS_TOKEN: 'on' });
  // One after another: startWorker picks a free port before Miniflare binds it, and Workers
  // starting side by side can race for the same one.
  const configurations = [
    [workingBindings(mock, { ...gate(site), FREEDOM_ID_LOG: 'all', FREEDOM_ID_REVOKE_KEY: REVOKE_KEY }), {
      rateLimit: { limit: 3, period: 60 },
      kv: { FREEDOM_ID_REVOCATIONS: 'revocations' },
    }],
    [workingBindings(mock, gate(origin)), { rateLimit: { limit: 1, period: 60 } }],
    [workingBindings(mock, { ...gate(origin), FREEDOM_ID_LOG: 'off' }), { rateLimit: { limit: 1, period: 60 } }],
    [workingBindings(mock, { FREEDOM_ID_LOG: 'bogus', FREEDOM_ID_SESSION_SECRET: SHORT_SECRET })],
  ];
  const started = [];
  try {
    for (const [bindings, options] of configurations) started.push(await start(bindings, options));
  } finally {
    // Whatever started is closed by after(), even if another failed to start.
    [all, quiet, off, bogus] = started;
  }
  for (const worker of [all, quiet, off, bogus]) attributed.set(worker, []);
});

/** startWorker, tried again when the port it picked was taken meanwhile. */
async function start(bindings, options) {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await startWorker(bindings, options);
    } catch (error) {
      if (error?.code !== 'ERR_ADDRESS_IN_USE' || attempt >= 3) throw error;
    }
  }
}

after(async () => {
  await Promise.all([all, quiet, off, bogus].map((worker) => worker?.close()));
  await Promise.all([site?.close(), origin?.close()]);
  await mock?.close();
});

beforeEach(() => mock.reset());

// ---------------------------------------------------------------------------------------------
// A browser, in small (support/client.mjs): a cookie jar, requests that also read the log lines
// they caused, the mock's sign-in page.

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `worker`'s output has stopped growing (workerd's stdout reaches us a moment later). */
async function settle(worker) {
  let length = worker.logs().length;
  for (let stable = 0; stable < 3;) {
    await sleep(5);
    const now = worker.logs().length;
    stable = now === length ? stable + 1 : 0;
    length = now;
  }
}

/** Whether the Worker takes `ray` as the request id (as `request_id_from_ray` decides). */
const plainRay = (ray) => typeof ray === 'string' && ray.length > 0 && ray.length <= 64 && /^[A-Za-z0-9-]+$/.test(ray);

let requests = 0;
/** A fresh client address: IPv4 and IPv6 by turns, each its own rate-limit bucket. */
function nextIp() {
  requests += 1;
  const n = requests;
  return n % 2 ? `100.64.${(n >> 8) & 255}.${n & 255}` : `2001:db8:${n.toString(16)}::7`;
}

/**
 * One request to `worker`, with `jar`'s cookies (or `cookie`); Set-Cookie lines go into the jar.
 * Every request carries a fresh client address (or `ip`) and, every other one, a fresh cf-ray
 * (or `ray`; `null` sends none). Answers the response and the log lines it caused, parsed and
 * checked against the contract's shape (`lines`, `raw`).
 */
async function call(worker, path, { method = 'GET', jar, cookie, accept, headers = {}, body, ray, ip, apply = true } = {}) {
  const sent = { ...headers };
  const address = ip ?? nextIp();
  ips.add(address);
  sent['cf-connecting-ip'] = address;
  if (ray === undefined) ray = requests % 2 ? `${randomBytes(8).toString('hex')}-DME` : null;
  if (ray !== null) sent['cf-ray'] = ray;
  await settle(worker);
  const mark = worker.logs().length;
  const started = Date.now();
  const answer = await send(worker, path, { method, jar, cookie, accept, headers: sent, body, apply, secrets });
  const wallMs = Date.now() - started;
  await settle(worker);
  const raw = worker.logs().slice(mark).split('\n').filter((line) => line !== '');
  const why = `${method} ${path}`;
  const lines = raw.map((line) => parseLine(line, why));
  for (const line of lines) {
    assertShape(line, why);
    if (plainRay(ray)) assert.equal(line.request_id, ray, `${why}: request_id is the cf-ray sent`);
    else assert.match(line.request_id, RANDOM_ID, `${why}: without a usable cf-ray, 16 random hex characters`);
    if ('elapsed_ms' in line) assert.ok(line.elapsed_ms <= wallMs + 2, `${why}: elapsed_ms ${line.elapsed_ms} within the ${wallMs} ms the request took`);
  }
  assert.equal(new Set(lines.map((line) => line.request_id)).size <= 1, true, `${why}: one request, one request_id: ${raw.join(' | ')}`);
  attributed.get(worker).push(...lines.map((line) => ({ line, ray, why })));
  return { ...answer, lines, raw };
}

function parseLine(line, why) {
  assert.ok(line.startsWith('{'), `${why}: the Worker printed something that is not a JSON line: ${JSON.stringify(line)}`);
  try {
    return JSON.parse(line);
  } catch (error) {
    assert.fail(`${why}: a line that does not parse as JSON (${error.message}): ${line}`);
  }
}

/** The contract's shape, for any line. */
function assertShape(line, why = '') {
  const text = JSON.stringify(line);
  assert.ok(line !== null && typeof line === 'object' && !Array.isArray(line), `${why}: a JSON object: ${text}`);
  for (const key of Object.keys(line)) assert.ok(KEYS.has(key), `${why}: unexpected key ${JSON.stringify(key)} in ${text}`);
  assert.ok(EVENTS.has(line.event), `${why}: a known event: ${text}`);
  if (CODED.has(line.event)) assert.ok(CODES.has(line.code), `${why}: ${line.event} carries a known code: ${text}`);
  if (UNCODED.has(line.event)) assert.ok(!('code' in line), `${why}: ${line.event} carries no code: ${text}`);
  if ('code' in line) assert.ok(CODES.has(line.code), `${why}: a known code: ${text}`);
  assert.ok('upstream_status' in line, `${why}: upstream_status is always there: ${text}`);
  const status = line.upstream_status;
  assert.ok(status === null || (Number.isInteger(status) && status >= 100 && status <= 599), `${why}: upstream_status a status or null: ${text}`);
  if ('elapsed_ms' in line) assert.ok(Number.isInteger(line.elapsed_ms) && line.elapsed_ms >= 0, `${why}: elapsed_ms a non-negative integer: ${text}`);
  assert.equal(typeof line.request_id, 'string', `${why}: request_id: ${text}`);
  assert.ok(plainRay(line.request_id), `${why}: request_id plain: ${text}`);
  if ('token_id' in line) {
    assert.equal(typeof line.token_id, 'string', `${why}: token_id a string: ${text}`);
    assert.ok(line.token_id.length >= 1 && line.token_id.length <= 8, `${why}: token_id at most 8 characters: ${text}`);
  }
  if (line.code === 'MISCONFIGURED') {
    assert.ok(Array.isArray(line.problems) && line.problems.length > 0, `${why}: MISCONFIGURED names its problems: ${text}`);
    for (const name of line.problems) assert.match(name, /^FREEDOM_ID_[A-Z_]+$/, `${why}: a setting name: ${text}`);
    assert.equal(new Set(line.problems).size, line.problems.length, `${why}: each setting once: ${text}`);
  } else {
    assert.ok(!('problems' in line), `${why}: problems only for MISCONFIGURED: ${text}`);
  }
}

/**
 * The lines `answer` caused are exactly `expected`, in order: each field given is equal
 * (`upstream_status: ANY_STATUS` any status), and a line has no key beyond event, code,
 * upstream_status, elapsed_ms, request_id and those given (token_id, problems).
 */
function assertEvents(answer, expected, why) {
  const shown = answer.raw.join('\n') || '(nothing)';
  assert.equal(answer.lines.length, expected.length, `${why}: ${expected.length} line(s) expected, the Worker printed:\n${shown}`);
  expected.forEach((want, i) => {
    const line = answer.lines[i];
    const text = answer.raw[i];
    assert.equal(line.event, want.event, `${why}: event of ${text}`);
    const keys = ['event', 'upstream_status', 'request_id'];
    for (const key of ['code', 'token_id', 'problems']) if (key in want) keys.push(key);
    assert.deepEqual(
      Object.keys(line).filter((key) => key !== 'elapsed_ms').sort(),
      keys.sort(),
      `${why}: the keys of ${text}`,
    );
    if ('code' in want) assert.equal(line.code, want.code, `${why}: code of ${text}`);
    if (want.upstream_status === ANY_STATUS) {
      assert.ok(Number.isInteger(line.upstream_status), `${why}: an upstream status in ${text}`);
    } else {
      assert.equal(line.upstream_status, want.upstream_status, `${why}: upstream_status of ${text}`);
    }
    if ('token_id' in want) assert.equal(line.token_id, want.token_id, `${why}: token_id of ${text}`);
    if ('problems' in want) assert.deepEqual(line.problems, want.problems, `${why}: problems of ${text}`);
    if (want.minElapsed !== undefined) {
      assert.ok(line.elapsed_ms >= want.minElapsed, `${why}: elapsed_ms at least ${want.minElapsed}: ${text}`);
    }
  });
}

/** The sign-in steps (support/client.mjs), each request made by `call`. */
const { startSignIn, decide, finish } = signInSteps({ mock: () => mock, call, secrets });

// The session cookie opened with the Worker's HKDF + AES-256-GCM, to learn its token pair.
async function unsealSession(value) {
  const session = await unseal(SESSION_SECRET, SESSION, value);
  assert.ok(session, 'the session cookie opens with the session secret');
  remember(session.a, session.r, session.i);
  if (typeof session.i === 'string') remember(session.i.slice(0, 9)); // more than the 8-character prefix
  return session;
}

/** A whole sign-in on `worker` (access tokens living `accessTtlSeconds`): the jar, the answers, the session. */
async function signIn(worker, { accessTtlSeconds = 3600, loginOptions = {}, callbackOptions = {} } = {}) {
  mock.setTokenLifetimes({ accessTtlSeconds });
  const jar = new Jar();
  const { link, flowName, answer: login } = await startSignIn(worker, jar, loginOptions);
  const back = await decide(link);
  const callback = await finish(worker, jar, back, callbackOptions);
  mock.setTokenLifetimes({ accessTtlSeconds: 3600 });
  assert.equal(callback.status, 303, callback.body);
  assert.deepEqual(jar.names(FLOW_PREFIX), [], `the flow cookie ${flowName} is cleared`);
  const value = jar.get(SESSION);
  assert.ok(value, `signed in: ${JSON.stringify(callback.setCookies)}`);
  const session = await unsealSession(value);
  return { jar, login, callback, value, session };
}

/** The site's echo of a forwarded request; the identity it received remembered. */
function siteEcho(answer, why) {
  assert.equal(answer.status, 200, `${why}: forwarded: ${answer.body.slice(0, 200)}`);
  assert.equal(answer.headers.get('x-origin'), 'test-origin', `${why}: answered by the site`);
  const echo = JSON.parse(answer.body);
  remember(echo.headers['x-freedom-id-access-token'], echo.headers['x-freedom-id-token-id']);
  return echo;
}

/** POST /revoke?key=<key> (FREEDOM_ID_REVOKE_KEY unless given). */
const revoke = (worker, id, { key = REVOKE_KEY, ...options } = {}) =>
  call(worker, `/revoke?key=${encodeURIComponent(key)}`, {
    method: 'POST',
    body: JSON.stringify({ id }),
    headers: { 'content-type': 'application/json' },
    ...options,
  });

// ---------------------------------------------------------------------------------------------
// FREEDOM_ID_LOG=all: the whole flow

test('FREEDOM_ID_LOG=all: sign-in, refresh, the gate, revoke and sign-out each log their line with the contract\'s fields', async (t) => {
  const sample = [];
  // /login with a cf-ray: the ray is the request id.
  const { jar, login, callback, session, value } = await signIn(all, {
    accessTtlSeconds: 30,
    loginOptions: { ray: RAY },
    callbackOptions: { ray: null },
  });
  sample.push(...login.raw, ...callback.raw);
  assertEvents(login, [{ event: 'sign_in_started', upstream_status: 200 }], '/login');
  assert.equal(login.lines[0].request_id, RAY);
  assert.ok(Number.isInteger(login.lines[0].elapsed_ms), `sign_in_started times the call: ${login.raw[0]}`);

  // /callback without a cf-ray: a random id; the token pair's id cut to 8.
  assert.match(session.i, UUID, "the mock's token pair id");
  const prefix = session.i.slice(0, 8);
  assertEvents(callback, [{ event: 'sign_in_completed', upstream_status: 200, token_id: prefix }], '/callback');
  assert.match(callback.lines[0].request_id, RANDOM_ID);
  assert.notEqual(callback.lines[0].request_id, login.lines[0].request_id);
  assert.ok(Number.isInteger(callback.lines[0].elapsed_ms), `sign_in_completed times the exchange: ${callback.raw[0]}`);

  // /session with the access token due: refreshed.
  const refreshed = await call(all, '/session', { jar, ray: '8f7a1b2c3d4e5f61-DME' });
  sample.push(...refreshed.raw);
  assert.equal(JSON.parse(refreshed.body).signedIn, true);
  assert.notEqual(jar.get(SESSION), value, 'a renewed session cookie');
  const renewed = await unsealSession(jar.get(SESSION));
  assert.equal(renewed.i, session.i, 'the same token pair id');
  assertEvents(refreshed, [{ event: 'session_refreshed', upstream_status: 200, token_id: prefix }], '/session refresh');
  assert.equal(refreshed.lines[0].request_id, '8f7a1b2c3d4e5f61-DME');
  assert.ok(Number.isInteger(refreshed.lines[0].elapsed_ms), `session_refreshed times the refresh: ${refreshed.raw[0]}`);
  assertEvents(await call(all, '/session', { jar }), [], 'a fresh session: nothing to log');

  // Through the gate: forwarded with the identity; a passed gate logs nothing.
  const passed = await call(all, '/app/page?x=1', { jar });
  const echo = siteEcho(passed, 'guarded');
  assert.equal(echo.headers['x-freedom-id-token-id'], session.i);
  assert.equal(echo.headers['x-freedom-id-token-id'].slice(0, 8), prefix);
  assertEvents(passed, [], 'a forwarded request');

  // Denied: no session.
  const denied = await call(all, '/app/page', { accept: 'application/json' });
  assert.equal(denied.status, 401);
  sample.push(...denied.raw);
  assertEvents(denied, [{ event: 'gate_denied', code: 'SIGN_IN_REQUIRED', upstream_status: null }], 'gate, no session');
  const sentAway = await call(all, '/app/page', { accept: BROWSER_ACCEPT, headers: { 'sec-fetch-mode': 'navigate' } });
  assert.equal(sentAway.status, 302);
  assertEvents(sentAway, [{ event: 'gate_denied', code: 'SIGN_IN_REQUIRED', upstream_status: null }], 'gate, no session, browser');

  // Back-channel sign-out, then the revoked session at the gate.
  const revoked = await revoke(all, session.i);
  assert.equal(revoked.status, 204, revoked.body);
  sample.push(...revoked.raw);
  assertEvents(revoked, [{ event: 'revoked', upstream_status: null, token_id: prefix }], '/revoke');
  const afterRevoke = await call(all, '/app/page', { jar: jar.clone(), accept: 'application/json' });
  assert.equal(afterRevoke.status, 401);
  assertEvents(afterRevoke, [{ event: 'gate_denied', code: 'SIGN_IN_REQUIRED', upstream_status: null }], 'gate, revoked');

  // Sign-out.
  const out = await call(all, '/logout', { method: 'POST', jar, headers: { origin: all.origin } });
  assert.equal(out.status, 303, out.body);
  sample.push(...out.raw);
  assertEvents(out, [{ event: 'signed_out', upstream_status: null }], '/logout');
  // A refused (cross-site) sign-out signs nobody out: no signed_out line.
  const refused = await call(all, '/logout', { method: 'POST', jar, headers: { origin: 'https://evil.example' } });
  assert.equal(refused.status, 403);
  assert.ok(!refused.lines.some((line) => line.event === 'signed_out'), `no signed_out for a refused sign-out: ${refused.raw}`);

  t.diagnostic('the log lines of this sign-in, refresh, denial, revocation and sign-out:');
  for (const line of sample) t.diagnostic(line);
});

test('FREEDOM_ID_LOG=all: refresh failures (refused, outage) and a refresh through the gate', async () => {
  // Refused: refresh_failed REFRESH_REJECTED with Freedom ID's status, the token id.
  const a = await signIn(all, { accessTtlSeconds: 30 });
  mock.setTokenMode('status:401');
  const refused = await call(all, '/session', { jar: a.jar });
  assert.deepEqual(JSON.parse(refused.body), { signedIn: false });
  assertEvents(refused, [{ event: 'refresh_failed', code: 'REFRESH_REJECTED', upstream_status: 401, token_id: a.session.i.slice(0, 8) }], 'refused refresh');
  assert.ok(Number.isInteger(refused.lines[0].elapsed_ms), refused.raw[0]);
  mock.setTokenMode('ok');

  // Outage: refresh_failed with the outage's code, the session kept.
  const b = await signIn(all, { accessTtlSeconds: 30 });
  mock.setTokenMode('status:503');
  const outage = await call(all, '/session', { jar: b.jar });
  assert.equal(JSON.parse(outage.body).signedIn, true);
  assertEvents(outage, [{ event: 'refresh_failed', code: 'UPSTREAM_STATUS', upstream_status: 503, token_id: b.session.i.slice(0, 8) }], 'refresh outage');
  mock.setTokenMode('reset');
  const network = await call(all, '/session', { jar: b.jar });
  assertEvents(network, [{ event: 'refresh_failed', code: 'UPSTREAM_NETWORK', upstream_status: null, token_id: b.session.i.slice(0, 8) }], 'refresh reset');

  // Due at the gate: refreshed there, then forwarded.
  mock.setTokenMode('ok');
  const gated = await call(all, '/app/due', { jar: b.jar });
  assert.equal(siteEcho(gated, 'due at the gate').headers['x-freedom-id-token-id'], b.session.i);
  assertEvents(gated, [{ event: 'session_refreshed', upstream_status: 200, token_id: b.session.i.slice(0, 8) }], 'refresh at the gate');

  // Refused at the gate: two lines for one request, one request id.
  mock.setTokenMode('ok');
  const c = await signIn(all, { accessTtlSeconds: 30 });
  mock.setTokenMode('status:400');
  const deniedAfterRefusal = await call(all, '/app/due', { jar: c.jar, accept: 'application/json' });
  assert.equal(deniedAfterRefusal.status, 401);
  assertEvents(deniedAfterRefusal, [
    { event: 'refresh_failed', code: 'REFRESH_REJECTED', upstream_status: 400, token_id: c.session.i.slice(0, 8) },
    { event: 'gate_denied', code: 'SIGN_IN_REQUIRED', upstream_status: null },
  ], 'refused refresh at the gate');
});

// Every fault of the authorize endpoint, with its code and the upstream status the Worker logs
// (support/faults.mjs).
const LOGIN_FAULTS = faultsWhere(AUTHORIZE_FAULTS, (f) => f.code !== null);

test('FREEDOM_ID_LOG=all: every upstream fault at /login is one sign_in_failed line with its code and status', async () => {
  for (const { mode, code, upstream: status } of LOGIN_FAULTS) {
    mock.setMode(mode);
    const answer = await call(all, '/login');
    assert.ok(answer.status >= 500, `${mode}: ${answer.status}`);
    assertEvents(answer, [{
      event: 'sign_in_failed',
      code,
      upstream_status: status,
      ...(code === 'UPSTREAM_TIMEOUT' ? { minElapsed: 900 } : {}),
    }], `/login, authorize endpoint ${mode}`);
    assert.ok(Number.isInteger(answer.lines[0].elapsed_ms), `${mode}: sign_in_failed times the step: ${answer.raw[0]}`);
  }
});

// Every fault of the token endpoint at the exchange, and no-id (a sign-in whose token pair has no
// id), with the code (null: signed in) and the upstream status the Worker logs (support/faults.mjs).
const CALLBACK_FAULTS = faultsWhere(TOKEN_FAULTS, (f) => f.exchange.code !== null || f.noId);

test('FREEDOM_ID_LOG=all: every upstream fault at /callback is one sign_in_failed line with its code and status', async () => {
  for (const { mode, exchange: { code }, upstream: status } of CALLBACK_FAULTS) {
    const jar = new Jar();
    const { link } = await startSignIn(all, jar);
    const back = await decide(link);
    mock.setTokenMode(mode);
    const answer = await finish(all, jar, back);
    mock.setTokenMode('ok');
    const why = `/callback, token endpoint ${mode}`;
    if (code === null) {
      // A token pair without an id: signed in, and no token_id (none exists).
      assert.equal(answer.status, 303, `${why}: ${answer.body}`);
      const session = await unsealSession(jar.get(SESSION));
      assert.equal(session.i, null);
      assertEvents(answer, [{ event: 'sign_in_completed', upstream_status: status }], why);
      continue;
    }
    assert.ok(answer.status >= 400, `${why}: ${answer.status}`);
    assertEvents(answer, [{
      event: 'sign_in_failed',
      code,
      upstream_status: status,
      ...(code === 'UPSTREAM_TIMEOUT' ? { minElapsed: 900 } : {}),
    }], why);
    assert.ok(Number.isInteger(answer.lines[0].elapsed_ms), `${why}: sign_in_failed times the step: ${answer.raw[0]}`);
  }
});

test('FREEDOM_ID_LOG=all: state mismatch, decline, a refused code and a callback without a code', async () => {
  // State mismatch: no flow cookie; another state; a forged flow cookie.
  const jar = new Jar();
  const { link, state, flowName } = await startSignIn(all, jar);
  const back = await decide(link);
  const code = back.searchParams.get('authorization_code');
  const mismatches = [
    ['no flow cookie', `/callback?state=${state}&authorization_code=${code}`, undefined],
    ['no state', `/callback?authorization_code=${code}`, jar.header()],
    ['another state', `/callback?state=${state}x&authorization_code=${code}`, jar.header()],
    ['a forged flow cookie', `/callback?state=${state}&authorization_code=${code}`, `${flowName}=${state}`],
  ];
  for (const [why, path, cookie] of mismatches) {
    const answer = await call(all, path, { cookie });
    assert.equal(answer.status, 403, `${why}: ${answer.body}`);
    assertEvents(answer, [{ event: 'sign_in_failed', code: 'STATE_MISMATCH', upstream_status: null }], `state mismatch, ${why}`);
  }
  assert.equal(mock.codeStatus(code).spent, false);

  // The real callback, then its replay with the flow cookie kept: the flow is spent.
  const withFlow = jar.clone();
  const good = await finish(all, jar, back);
  assert.equal(good.status, 303);
  const replay = await finish(all, withFlow, back);
  assert.equal(replay.status, 403, replay.body);
  assertEvents(replay, [{ event: 'sign_in_failed', code: 'STATE_MISMATCH', upstream_status: null }], 'replayed callback');

  // The spent code in a flow of its own: the token endpoint refuses it.
  const otherJar = new Jar();
  const other = await startSignIn(all, otherJar);
  const spent = await call(all, `/callback?state=${other.state}&authorization_code=${code}`, { jar: otherJar });
  assert.equal(spent.status, 400, spent.body);
  assertEvents(spent, [{ event: 'sign_in_failed', code: 'CODE_REJECTED', upstream_status: ANY_STATUS }], 'a spent code');

  // Decline at Freedom ID.
  const declineJar = new Jar();
  const declined = await finish(all, declineJar, await decide((await startSignIn(all, declineJar)).link, 'decline'));
  assert.equal(declined.status, 403, declined.body);
  assertEvents(declined, [{ event: 'sign_in_failed', code: 'SIGN_IN_DECLINED', upstream_status: null }], 'declined');

  // The right state and no code at all.
  const bareJar = new Jar();
  const bare = await startSignIn(all, bareJar);
  const noCode = await call(all, `/callback?state=${bare.state}`, { jar: bareJar });
  assert.equal(noCode.status, 400, noCode.body);
  assertEvents(noCode, [{ event: 'sign_in_failed', code: 'CODE_REJECTED', upstream_status: null }], 'no code');
});

test('FREEDOM_ID_LOG=all: past the rate limit /login logs rate_limited, per client address', async () => {
  for (const ip of ['203.0.113.7', '2001:db8:77:1::1']) {
    for (let i = 0; i < 3; i += 1) {
      const answer = await call(all, '/login', { ip });
      assert.equal(answer.status, 302, `${ip} #${i + 1}`);
      assertEvents(answer, [{ event: 'sign_in_started', upstream_status: 200 }], `${ip} #${i + 1}`);
    }
    const limited = await call(all, '/login', { ip: ip.replace(/::1$/, ':ffff::2') });
    assert.equal(limited.status, 429, `${ip}: ${limited.body}`);
    assertEvents(limited, [{ event: 'rate_limited', code: 'RATE_LIMITED', upstream_status: null }], `${ip}: the 4th /login`);
  }
});

test('FREEDOM_ID_LOG=all: past the rate limit /callback and /revoke log rate_limited too', async () => {
  const ip = '203.0.113.50';
  const jar = new Jar();
  const { link } = await startSignIn(all, jar, { ip });
  const back = await decide(link);
  const wrong = await revoke(all, 'abc', { key: 'w'.repeat(40), ip });
  assert.equal(wrong.status, 403, wrong.body);
  assertEvents(wrong, [{ event: 'revoke_failed', code: 'REVOCATION_FORBIDDEN', upstream_status: null }], '/revoke with a wrong key');
  const first = await finish(all, new Jar(), back, { ip }); // no flow cookie: a mismatch, but counted
  assert.equal(first.status, 403, first.body);
  const limited = await finish(all, jar, back, { ip });
  assert.equal(limited.status, 429, limited.body);
  assertEvents(limited, [{ event: 'rate_limited', code: 'RATE_LIMITED', upstream_status: null }], 'the 4th request: /callback');
  const revokeLimited = await revoke(all, 'abc', { ip });
  assert.equal(revokeLimited.status, 429, revokeLimited.body);
  assertEvents(revokeLimited, [{ event: 'rate_limited', code: 'RATE_LIMITED', upstream_status: null }], 'the 5th request: /revoke');
  assert.equal(mock.requests.filter((r) => r.endpoint === 'token').length, 0, 'no token call past the limit');
});

test('FREEDOM_ID_LOG=all: a cross-site write at the gate is gate_denied CROSS_SITE_REQUEST; an expired token during an outage is refresh_failed only', async () => {
  const { jar, session } = await signIn(all);
  // No body: refused without reading one, workerd may drop the connection (see gate.test.mjs).
  const crossSite = await call(all, '/app/transfer', { method: 'POST', jar, headers: { origin: 'https://evil.example' } });
  assert.equal(crossSite.status, 403, crossSite.body);
  assertEvents(crossSite, [{ event: 'gate_denied', code: 'CROSS_SITE_REQUEST', upstream_status: null }], 'cross-site write');
  const sameSite = await call(all, '/app/transfer', { method: 'DELETE', jar, headers: { 'sec-fetch-site': 'same-site' } });
  assert.equal(sameSite.status, 403, sameSite.body);
  assertEvents(sameSite, [{ event: 'gate_denied', code: 'CROSS_SITE_REQUEST', upstream_status: null }], 'same-site write');
  const fromHere = await call(all, '/app/transfer', { method: 'POST', jar, body: 'x', headers: { origin: all.origin } });
  siteEcho(fromHere, 'a write from this site');
  assertEvents(fromHere, [], 'a forwarded write');

  const expired = await signIn(all, { accessTtlSeconds: 0 });
  mock.setTokenMode('status:503');
  const outage = await call(all, '/app/data', { jar: expired.jar });
  assert.equal(outage.status, 502, outage.body);
  assert.equal(outage.headers.get('retry-after'), '5');
  assertEvents(outage, [{ event: 'refresh_failed', code: 'UPSTREAM_STATUS', upstream_status: 503, token_id: expired.session.i.slice(0, 8) }], 'expired token, refresh outage at the gate');
  mock.setTokenMode('ok');
  assert.equal(siteEcho(await call(all, '/app/data', { jar: expired.jar }), 'after the outage').headers['x-freedom-id-token-id'], expired.session.i);
  assert.notEqual(session.i, expired.session.i);
});

test('request_id: the cf-ray sent when it is plain, else 16 random hex characters, a new one per request', async () => {
  const plain64 = `${'a1'.repeat(30)}-DME`;
  assert.equal(plain64.length, 64);
  const cases = [
    [RAY, RAY],
    [plain64, plain64],
    [`${plain64}x`, null], // 65 characters
    ['8f7a1b2c 3d4e5f60', null],
    ['8f7a"},"x":"y', null],
    ['8f7a1b2c3d4e5f60-DME,other', null],
    ['', null],
    [null, null],
  ];
  const randoms = new Set();
  for (const [ray, expected] of cases) {
    mock.setMode('status:503'); // a failure, so that there is a line at any level
    const answer = await call(all, '/login', { ray });
    assertEvents(answer, [{ event: 'sign_in_failed', code: 'UPSTREAM_STATUS', upstream_status: 503 }], `cf-ray ${JSON.stringify(ray)}`);
    const id = answer.lines[0].request_id;
    if (expected) assert.equal(id, expected);
    else {
      assert.match(id, RANDOM_ID, `cf-ray ${JSON.stringify(ray)}`);
      randoms.add(id);
    }
  }
  assert.equal(randoms.size, 6, 'every random id is new');
});

test('FREEDOM_ID_LOG=all: the site down is gate_failed APP_UNREACHABLE with the token id', async () => {
  const { jar, session } = await signIn(all);
  siteEcho(await call(all, '/app/up', { jar }), 'while up');
  await site.close();
  const answer = await call(all, '/app/down?x=1', { jar });
  assert.equal(answer.status, 502, answer.body);
  assertEvents(answer, [{ event: 'gate_failed', code: 'APP_UNREACHABLE', upstream_status: null, token_id: session.i.slice(0, 8) }], 'site down');
});

// ---------------------------------------------------------------------------------------------
// Misconfigured, default and off

test('FREEDOM_ID_LOG=bogus: /healthz 503 names FREEDOM_ID_LOG; the session routes log MISCONFIGURED with the setting names only', async () => {
  const health = await call(bogus, '/healthz');
  assert.equal(health.status, 503, health.body);
  const { problems } = JSON.parse(health.body);
  assert.ok(problems.includes('FREEDOM_ID_LOG'), `names FREEDOM_ID_LOG: ${health.body}`);
  assert.deepEqual(problems, ['FREEDOM_ID_SESSION_SECRET', 'FREEDOM_ID_LOG']);
  assertEvents(health, [], '/healthz logs nothing');
  const routes = [
    ['GET', '/login'],
    ['GET', '/callback?state=abc&authorization_code=0123456789abcdef0123456789abcdef'],
    ['GET', '/session'],
    ['POST', '/logout'],
  ];
  for (const [method, path] of routes) {
    const answer = await call(bogus, path, { method, headers: { origin: bogus.origin } });
    assert.equal(answer.status, 500, `${method} ${path}: ${answer.body}`);
    assertEvents(answer, [{ event: 'sign_in_failed', code: 'MISCONFIGURED', upstream_status: null, problems }], `${method} ${path}`);
  }
  assert.deepEqual(mock.requests, [], 'nothing sent to Freedom ID');
  assert.ok(!bogus.logs().includes('bogus'), 'no setting value in the log');
});

/** The same actions on the default and the `off` Worker: successes, then failures. */
async function successes(worker) {
  const { jar } = await signIn(worker, { accessTtlSeconds: 30 });
  assert.equal(JSON.parse((await call(worker, '/session', { jar })).body).signedIn, true, 'refreshed');
  siteEcho(await call(worker, '/app/x', { jar }), 'forwarded');
  assert.equal((await call(worker, '/app/x', { accept: 'application/json' })).status, 401, 'gate denied');
  assert.equal((await call(worker, '/logout', { method: 'POST', jar, headers: { origin: worker.origin } })).status, 303);
}

/** The failures: `ip` is a client address no request has used yet (past its limit of 1 a minute). */
async function failures(worker, ip = '203.0.113.99') {
  const answers = [];
  // A forged callback: no flow cookie.
  const forged = await call(worker, `/callback?state=${'s'.repeat(43)}&authorization_code=${'c'.repeat(32)}`);
  assert.equal(forged.status, 403);
  answers.push(forged);
  // An upstream fault at /login.
  mock.setMode('status:503');
  answers.push(await call(worker, '/login'));
  mock.setMode('ok');
  // Past the rate limit (1 a minute).
  assert.equal((await call(worker, '/login', { ip })).status, 302);
  const limited = await call(worker, '/login', { ip });
  assert.equal(limited.status, 429);
  answers.push(limited);
  // A refused refresh.
  const { jar, session } = await signIn(worker, { accessTtlSeconds: 30 });
  mock.setTokenMode('status:401');
  answers.push(await call(worker, '/session', { jar }));
  mock.setTokenMode('ok');
  return { answers, session };
}

test('no FREEDOM_ID_LOG: successes log nothing, failures one line each', async () => {
  const before = quiet.logs();
  await successes(quiet);
  await settle(quiet);
  assert.equal(quiet.logs(), before, 'no sign_in_started, sign_in_completed, session_refreshed, gate_denied or signed_out line');
  const { answers: [forged, upstream, limited, refused], session } = await failures(quiet);
  assertEvents(forged, [{ event: 'sign_in_failed', code: 'STATE_MISMATCH', upstream_status: null }], 'forged callback');
  assertEvents(upstream, [{ event: 'sign_in_failed', code: 'UPSTREAM_STATUS', upstream_status: 503 }], '/login upstream 503');
  assertEvents(limited, [{ event: 'rate_limited', code: 'RATE_LIMITED', upstream_status: null }], 'rate limited');
  assertEvents(refused, [{ event: 'refresh_failed', code: 'REFRESH_REJECTED', upstream_status: 401, token_id: session.i.slice(0, 8) }], 'refused refresh');
  const events = attributed.get(quiet).map(({ line }) => line.event);
  assert.deepEqual(events, ['sign_in_failed', 'sign_in_failed', 'rate_limited', 'refresh_failed']);
  for (const event of events) assert.ok(FAILURES.has(event));
});

test('FREEDOM_ID_LOG=off: nothing at all is printed for the same actions', async () => {
  await successes(off);
  await failures(off);
  await settle(off);
  assert.equal(off.logs(), '', 'the off Worker printed something');
});

// ---------------------------------------------------------------------------------------------
// Last: the whole output of every Worker. Each sweep first runs flows of its own (printEveryKind)
// so that it stands alone (`--test-name-pattern`), then reads everything every Worker printed:
// after the tests above, their lines too.

const WORKERS = () => ({ all, quiet, off, bogus });

/**
 * A line of every kind the Workers print, from requests of this test: on `all` a sign-in, a
 * refresh, a denial at the gate, a revocation and a refused one, a sign-out, a fault at /login
 * and at /callback, a refused refresh and the rate limit; on the default and `off` Workers the
 * successes and failures above; on the misconfigured one, its session routes. Nothing goes
 * through `all`'s gate to the site: the site-down test has closed it. Answers how much the
 * sweep has to read from it: the lines printed, the secret values and client addresses seen.
 */
async function printEveryKind() {
  await Promise.all(Object.values(WORKERS()).map(settle));
  const before = { lines: printedLines().length, secrets: secrets.size, ips: ips.size };

  const { jar, session } = await signIn(all, { accessTtlSeconds: 30 });
  assert.equal(JSON.parse((await call(all, '/session', { jar })).body).signedIn, true, 'refreshed');
  assert.equal((await call(all, '/app/x', { accept: 'application/json' })).status, 401, 'gate denied');
  assert.equal((await revoke(all, session.i)).status, 204, 'revoked');
  assert.equal((await revoke(all, 'abc', { key: 'w'.repeat(40) })).status, 403, 'revocation refused');
  assert.equal((await call(all, '/logout', { method: 'POST', jar, headers: { origin: all.origin } })).status, 303, 'signed out');
  mock.setMode('status:503');
  assert.equal((await call(all, '/login')).status, 502, '/login upstream fault');
  mock.setMode('ok');
  const callbackJar = new Jar();
  const back = await decide((await startSignIn(all, callbackJar)).link);
  mock.setTokenMode('status:500');
  assert.equal((await finish(all, callbackJar, back)).status, 502, '/callback upstream fault');
  mock.setTokenMode('ok');
  const refused = await signIn(all, { accessTtlSeconds: 30 });
  mock.setTokenMode('status:401');
  assert.deepEqual(JSON.parse((await call(all, '/session', { jar: refused.jar })).body), { signedIn: false }, 'refused refresh');
  mock.setTokenMode('ok');
  const ip = nextIp();
  for (let i = 0; i < 3; i += 1) await call(all, '/login', { ip });
  assert.equal((await call(all, '/login', { ip })).status, 429, 'rate limited');

  for (const worker of [quiet, off]) {
    await successes(worker);
    await failures(worker, nextIp());
  }
  for (const [method, path] of [['GET', '/login'], ['GET', '/session'], ['POST', '/logout']]) {
    assert.equal((await call(bogus, path, { method, headers: { origin: bogus.origin } })).status, 500, `misconfigured ${method} ${path}`);
  }

  await Promise.all(Object.values(WORKERS()).map(settle));
  return { lines: printedLines().length - before.lines, secrets: secrets.size - before.secrets, ips: ips.size - before.ips };
}

/** Every line the Workers (`names`, all four by default) printed so far, as [Worker name, line]. */
function printedLines(names = Object.keys(WORKERS())) {
  return names.flatMap((name) => WORKERS()[name].logs().split('\n').filter((line) => line !== '').map((line) => [name, line]));
}

test('every line every Worker printed is a contract line from a request, and none shows a secret, token, code, state, cookie value or address', async () => {
  const own = await printEveryKind();
  for (const [name, worker] of Object.entries(WORKERS())) {
    const printed = printedLines([name]).map(([, line]) => line);
    for (const line of printed) assertShape(parseLine(line, name), name);
    assert.deepEqual(printed.map((line) => JSON.parse(line)), attributed.get(worker).map(({ line }) => line), `${name}: every line came from a request`);
  }
  assert.ok(own.lines > 20, `${own.lines} lines of this test's own read`);
  // Random request ids are never reused across requests.
  const randomIds = new Map();
  for (const entries of attributed.values()) {
    for (const { line, ray, why } of entries) {
      if (plainRay(ray)) continue;
      const seen = randomIds.get(line.request_id);
      assert.ok(!seen || seen === why, `random request id ${line.request_id} reused`);
      randomIds.set(line.request_id, why);
    }
  }
  assert.ok(own.secrets > 40, `collected ${own.secrets} values of this test's own`);
  assert.ok(own.ips > 30, `collected ${own.ips} addresses of this test's own`);
  for (const [name, worker] of Object.entries(WORKERS())) {
    const logs = worker.logs();
    for (const secret of secrets) assert.ok(!logs.includes(secret), `the ${name} Worker's log shows ${JSON.stringify(secret.slice(0, 24))}...`);
    for (const ip of ips) assert.ok(!logs.includes(ip), `the ${name} Worker's log shows the client address ${ip}`);
  }
});

test('every line carries elapsed_ms (the contract lists it without "where there is one")', async () => {
  const own = await printEveryKind();
  assert.ok(own.lines > 0, 'this test printed lines of its own');
  const missing = new Map();
  for (const [name, line] of printedLines(['all', 'quiet', 'bogus'])) {
    const parsed = JSON.parse(line);
    if (!('elapsed_ms' in parsed)) missing.set(parsed.event, `${name}: ${line}`);
  }
  assert.deepEqual([...missing.values()], [], `events without elapsed_ms: ${[...missing.keys()].join(', ')}`);
});
