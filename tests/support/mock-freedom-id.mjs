#!/usr/bin/env node
// Embedded mock of Freedom ID's OAuth "authorization link" API, for local runs and tests.
//
//   import { startMockFreedomId } from './mock-freedom-id.mjs';
//   const mock = await startMockFreedomId();          // port 0: a free port is picked
//   fetch(mock.authorizeUrl, ...);                      // POST /api/v1/oauth/authorize
//   mock.setMode('status:503');                         // make the provider misbehave
//   await mock.close();
//
//   node tests/support/mock-freedom-id.mjs [--port 8788]   (env MOCK_PORT, MOCK_CLIENT_ID, MOCK_CLIENT_SECRET)
//
// No dependencies: node: built-ins only (Node >= 20). Listens on loopback only.
// The same controls over HTTP, for a test in another process:
//   POST /__mock/mode {"mode": "..."}   POST /__mock/reset   GET /__mock/requests   GET /healthz
// A small sign-in page (GET /login, POST /login/decide) lets a browser demo complete the flow.

import http from 'node:http';
import { randomBytes, randomInt, randomUUID, timingSafeEqual } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

/** Every mode of the authorize endpoint; parameterised ones are written with a `<placeholder>`. */
export const MODES = Object.freeze([
  'ok',
  'status:<code>',
  'error-200',
  'redirect',
  'not-json',
  'no-redirect-uri',
  'number-redirect-uri',
  'huge',
  'huge-chunked',
  'evil-link',
  'userinfo-link',
  'hang',
  'hang-body',
  'reset',
  'slow:<ms>',
  'random-faults:<percent>',
]);

const FIXED_MODES = new Set(MODES.filter((mode) => !mode.includes(':')));
// The faults `random-faults:<percent>` picks from, uniformly.
const RANDOM_FAULTS = Object.freeze(['status:500', 'status:503', 'error-200', 'not-json', 'evil-link', 'reset', 'huge']);

const AUTHORIZE_PATHS = new Set(['/api/v1/oauth/authorize', '/v1/oauth/authorize']);
const LINK_TTL_SECONDS = 600;
const MAX_RECORDED_REQUESTS = 2000;
const MAX_TRACKS = 10_000;
const MAX_BODY_BYTES = 1024 * 1024;
const HUGE_BODY_BYTES = 100 * 1024;
const HUGE_CHUNK_BYTES = 4 * 1024;
const MAX_TIMER_MS = 2 ** 31 - 1;

// Freedom ID answers with numeric codes; 100101 is "Unauthenticated.", 100102 serves as the mock's generic one.
const CODE_UNAUTHENTICATED = 100101;
const CODE_GENERIC = 100102;

/**
 * Starts the mock. Resolves to its controls:
 * `{ origin, authorizeUrl, mode, setMode(mode), reset(), requests, close() }`.
 */
export async function startMockFreedomId({
  port = 0,
  host = '127.0.0.1',
  clientId = 'demo-client',
  clientSecret = 'demo-secret',
  log = false,
} = {}) {
  if (!isLoopback(host)) throw new Error(`mock Freedom ID listens on loopback only, not on ${host}`);

  const state = {
    mode: 'ok',
    requests: [], // recorded authorize requests, newest last
    tracks: new Map(), // track_id -> { redirectUri, grants, expireAt }
    sockets: new Set(), // every open socket, so close() can end hanging ones too
    timers: new Set(), // pending `slow:<ms>` timers
    expectedAuthorization: Buffer.from(`Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`),
    log,
    origin: '', // set once listening
    hostPort: '',
  };

  const server = http.createServer((req, res) => {
    handleRequest(state, req, res).catch((err) => failRequest(res, err));
  });
  server.on('connection', (socket) => {
    state.sockets.add(socket);
    socket.once('close', () => state.sockets.delete(socket));
  });

  await listen(server, port, host);
  const address = server.address();
  state.hostPort = address.family === 'IPv6' ? `[${address.address}]:${address.port}` : `${address.address}:${address.port}`;
  state.origin = `http://${state.hostPort}`;

  let closing;
  const close = () => {
    closing ??= new Promise((resolve) => {
      server.close(() => resolve());
      for (const timer of state.timers) clearTimeout(timer);
      state.timers.clear();
      for (const socket of state.sockets) socket.destroy();
    });
    return closing;
  };

  return {
    origin: state.origin,
    authorizeUrl: `${state.origin}/api/v1/oauth/authorize`,
    get mode() {
      return state.mode;
    },
    setMode(mode) {
      state.mode = parseMode(mode);
      return state.mode;
    },
    reset() {
      resetState(state);
    },
    requests: state.requests,
    close,
  };
}

// ---------------------------------------------------------------------------------------------
// Modes

/** Validates a mode and returns its normalised spelling; throws on an unknown mode. */
function parseMode(mode) {
  if (typeof mode !== 'string') throw new TypeError('mode must be a string');
  if (FIXED_MODES.has(mode)) return mode;

  const match = /^(status|slow|random-faults):(\d+(?:\.\d+)?)$/.exec(mode);
  const value = match ? Number(match[2]) : NaN;
  if (match?.[1] === 'status' && Number.isInteger(value) && value >= 200 && value <= 599) return `status:${value}`;
  if (match?.[1] === 'slow' && Number.isInteger(value) && value <= MAX_TIMER_MS) return `slow:${value}`;
  if (match?.[1] === 'random-faults' && value <= 100) return `random-faults:${value}`;
  throw new Error(`unknown mock Freedom ID mode ${JSON.stringify(mode)}; known modes: ${MODES.join(', ')}`);
}

/** The mode that answers one request: `random-faults:<percent>` is resolved to a fault or `ok` here. */
function pickMode(mode) {
  if (!mode.startsWith('random-faults:')) return mode;
  const percent = Number(mode.slice('random-faults:'.length));
  return Math.random() * 100 < percent ? RANDOM_FAULTS[randomInt(RANDOM_FAULTS.length)] : 'ok';
}

function resetState(state) {
  state.mode = 'ok';
  state.requests.length = 0; // in place: callers may hold the array
}

function recordRequest(state, entry) {
  state.requests.push(entry);
  if (state.requests.length > MAX_RECORDED_REQUESTS) {
    state.requests.splice(0, state.requests.length - MAX_RECORDED_REQUESTS);
  }
}

// ---------------------------------------------------------------------------------------------
// Routing

async function handleRequest(state, req, res) {
  const { path, query } = splitTarget(req.url);
  if (AUTHORIZE_PATHS.has(path)) return handleAuthorize(state, req, res, path);

  switch (`${req.method} ${path}`) {
    case 'GET /healthz':
      return sendJson(res, 200, { status: 'ok' });
    case 'POST /__mock/mode':
      return handleSetMode(state, req, res);
    case 'POST /__mock/reset':
      resetState(state);
      return sendJson(res, 200, { status: 'ok', mode: state.mode });
    case 'GET /__mock/requests':
      return sendJson(res, 200, state.requests);
    case 'GET /login':
      return handleLoginPage(state, res, query.get('track_id'));
    case 'POST /login/decide':
      return handleDecide(state, req, res);
    default:
      return sendText(res, 404, 'Not found\n');
  }
}

/** Splits a request target into its path and query without trusting it as a URL (`//host/x` stays a path). */
function splitTarget(target = '/') {
  const at = target.indexOf('?');
  return at === -1
    ? { path: target, query: new URLSearchParams() }
    : { path: target.slice(0, at), query: new URLSearchParams(target.slice(at + 1)) };
}

async function handleSetMode(state, req, res) {
  const body = await readBody(req);
  try {
    state.mode = parseMode(JSON.parse(body.text)?.mode);
  } catch (err) {
    return sendJson(res, 400, errorBody(err instanceof SyntaxError ? 'Body must be JSON: {"mode": "..."}' : err.message, CODE_GENERIC));
  }
  return sendJson(res, 200, { mode: state.mode });
}

function failRequest(res, err) {
  if (res.headersSent || res.socket?.destroyed) {
    res.socket?.destroy();
    return;
  }
  console.error(`mock Freedom ID: ${err?.stack ?? err}`);
  sendText(res, 500, 'Internal mock error\n');
}

// ---------------------------------------------------------------------------------------------
// Authorize endpoint

async function handleAuthorize(state, req, res, path) {
  const body = await readBody(req);
  const mode = pickMode(state.mode);
  recordRequest(state, { method: req.method, path, headers: { ...req.headers }, body: body.text, mode });

  const [name, arg] = splitMode(mode);
  await ANSWERS[name]({ state, req, res, body }, arg);

  if (state.log) {
    const status = res.headersSent ? res.statusCode : 'no response';
    // Method, path, status and mode only: never the Authorization header nor the body.
    console.error(`${req.method} ${path} -> ${status} [${mode}]`);
  }
}

function splitMode(mode) {
  const at = mode.indexOf(':');
  return at === -1 ? [mode, undefined] : [mode.slice(0, at), Number(mode.slice(at + 1))];
}

/** One function per mode name; `arg` is the number of a parameterised mode. */
const ANSWERS = {
  ok: answerOk,

  status: ({ res }, status) => answerStatus(res, status),

  'error-200': ({ res }) => sendJson(res, 200, errorBody('Something went wrong.', CODE_GENERIC)),

  redirect: ({ state, res }) => {
    res.writeHead(302, { Location: `${state.origin}/elsewhere`, 'Content-Length': 0 });
    res.end();
  },

  'not-json': ({ res }) => sendBody(res, 200, 'text/html', '<html><body>Bad gateway</body></html>'),

  'no-redirect-uri': ({ state, res }) => sendJson(res, 200, { link: `${state.origin}/login` }),

  'number-redirect-uri': ({ res }) => sendJson(res, 200, { redirect_uri: 42 }),

  huge: ({ state, res, body }) => {
    sendBody(res, 200, 'application/json', hugeBody(issueLink(state, validInputOrNull(body))));
  },

  'huge-chunked': ({ state, res, body }) => {
    const text = hugeBody(issueLink(state, validInputOrNull(body)));
    res.writeHead(200, { 'Content-Type': 'application/json' }); // no Content-Length: chunked
    for (let at = 0; at < text.length; at += HUGE_CHUNK_BYTES) res.write(text.slice(at, at + HUGE_CHUNK_BYTES));
    res.end();
  },

  'evil-link': ({ state, res }) => sendJson(res, 200, { redirect_uri: issueLink(state, null, 'https://evil.example') }),

  'userinfo-link': ({ state, res, body }) => {
    sendJson(res, 200, { redirect_uri: issueLink(state, validInputOrNull(body), `http://user:pass@${state.hostPort}`) });
  },

  // Request read, never answered: the socket stays open until the client gives up or close().
  hang: () => {},

  // Headers and the start of the JSON, then nothing: the body never completes.
  'hang-body': ({ res }) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.write('{"redirect_uri":');
  },

  reset: ({ req }) => {
    req.socket.destroy();
  },

  slow: async (ctx, ms) => {
    await delay(ctx.state, ms);
    if (!ctx.req.socket.destroyed) answerOk(ctx);
  },
};

/** The real provider's behaviour. */
function answerOk({ state, req, res, body }) {
  if (req.method !== 'POST') {
    return sendJson(res, 405, errorBody('Method not allowed.', CODE_GENERIC), { Allow: 'POST' });
  }
  if (!hasExpectedAuthorization(state, req.headers.authorization)) {
    return sendJson(res, 401, errorBody('Unauthenticated.', CODE_UNAUTHENTICATED));
  }
  if (!String(req.headers['content-type'] ?? '').toLowerCase().startsWith('application/json')) {
    return sendJson(res, 415, errorBody('Unsupported Media Type: the body must be application/json.', CODE_GENERIC));
  }
  if (body.tooLarge) {
    return sendJson(res, 413, errorBody('Payload Too Large.', CODE_GENERIC));
  }
  const { input, errors } = validateAuthorizeBody(body.text);
  if (errors) {
    return sendJson(res, 422, { error: { message: 'Error validating transmitted data.', errors } });
  }
  return sendJson(res, 200, { redirect_uri: issueLink(state, input) });
}

function answerStatus(res, status) {
  if (status === 204 || status === 205 || status === 304) {
    res.writeHead(status); // these statuses carry no body
    res.end();
    return;
  }
  const body =
    status === 401
      ? errorBody('Unauthenticated.', CODE_UNAUTHENTICATED)
      : errorBody(`${http.STATUS_CODES[status] ?? 'Error'}.`, CODE_GENERIC);
  sendJson(res, status, body);
}

function hasExpectedAuthorization(state, header) {
  const given = Buffer.from(String(header ?? ''));
  const expected = state.expectedAuthorization;
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * Validates `{"redirect_uri": string, "grants": [string, ...]}` like the provider's validator:
 * every failing field is named. A body that is not a JSON object fails both fields as missing.
 */
function validateAuthorizeBody(text) {
  let input;
  try {
    input = JSON.parse(text);
  } catch {
    input = undefined;
  }
  if (input === null || typeof input !== 'object' || Array.isArray(input)) input = {};

  const errors = {};
  const { redirect_uri: redirectUri, grants } = input;
  if (redirectUri === undefined || redirectUri === null || redirectUri === '') {
    errors.redirect_uri = ['The Redirect uri field is required.'];
  } else if (typeof redirectUri !== 'string') {
    errors.redirect_uri = ['The Redirect uri must be a string.'];
  }
  if (grants === undefined || grants === null || (Array.isArray(grants) && grants.length === 0)) {
    errors.grants = ['The Grants field is required.'];
  } else if (!Array.isArray(grants)) {
    errors.grants = ['The Grants must be an array.'];
  } else {
    grants.forEach((grant, i) => {
      if (typeof grant !== 'string' || grant === '') errors[`grants.${i}`] = [`The grants.${i} must be a non-empty string.`];
    });
  }
  return Object.keys(errors).length ? { errors } : { input: { redirectUri, grants } };
}

function validInputOrNull(body) {
  return body.tooLarge ? null : (validateAuthorizeBody(body.text).input ?? null);
}

/**
 * Makes a sign-in link `<base>/login?track_id=<uuid>&expire_at=<unix seconds>`. With an `input`
 * the track is remembered so the mock's sign-in page can complete it.
 */
function issueLink(state, input, base = state.origin) {
  const trackId = randomUUID();
  const expireAt = nowSeconds() + LINK_TTL_SECONDS;
  if (input) rememberTrack(state, trackId, { ...input, expireAt });
  return `${base}/login?track_id=${trackId}&expire_at=${expireAt}`;
}

/** A JSON body of exactly HUGE_BODY_BYTES: a valid link plus padding. */
function hugeBody(link) {
  const skeleton = JSON.stringify({ redirect_uri: link, padding: '' });
  return JSON.stringify({ redirect_uri: link, padding: 'x'.repeat(HUGE_BODY_BYTES - Buffer.byteLength(skeleton)) });
}

// ---------------------------------------------------------------------------------------------
// Sign-in page

function rememberTrack(state, trackId, track) {
  if (state.tracks.size >= MAX_TRACKS) state.tracks.delete(state.tracks.keys().next().value); // oldest first
  state.tracks.set(trackId, track);
}

/** The remembered track, or undefined if unknown or expired. */
function findTrack(state, trackId) {
  const track = trackId ? state.tracks.get(trackId) : undefined;
  if (track && track.expireAt < nowSeconds()) {
    state.tracks.delete(trackId);
    return undefined;
  }
  return track;
}

function handleLoginPage(state, res, trackId) {
  const track = findTrack(state, trackId);
  if (!track) return sendUnknownLink(res);

  const grants = track.grants.map((grant) => `<li><code>${escapeHtml(grant)}</code></li>`).join('');
  return sendHtml(
    res,
    200,
    page(`
      <p>This is a local stand-in for Freedom ID sign-in. It will return you to
        <code>${escapeHtml(track.redirectUri)}</code>, the app's redirect URI, which requested these grants:</p>
      <ul>${grants}</ul>
      <form method="post" action="/login/decide">
        <input type="hidden" name="track_id" value="${escapeHtml(trackId)}">
        <button name="decision" value="continue">Continue</button>
        <button name="decision" value="decline">Decline</button>
      </form>`),
  );
}

async function handleDecide(state, req, res) {
  const body = await readBody(req);
  if (body.tooLarge) return sendText(res, 413, 'Payload too large\n');

  const form = new URLSearchParams(body.text);
  const trackId = form.get('track_id');
  const decision = form.get('decision');
  const track = findTrack(state, trackId);
  if (!track) return sendUnknownLink(res);
  if (decision !== 'continue' && decision !== 'decline') {
    return sendHtml(res, 400, page('<p>Choose <strong>Continue</strong> or <strong>Decline</strong>.</p>'));
  }

  state.tracks.delete(trackId); // a link is used once
  const location =
    decision === 'continue'
      ? appendQueryParam(track.redirectUri, 'authorization_code', randomBytes(16).toString('hex'))
      : appendQueryParam(track.redirectUri, 'error_code', String(CODE_GENERIC));
  res.writeHead(303, { Location: headerSafe(location), 'Content-Length': 0 });
  res.end();
}

function sendUnknownLink(res) {
  return sendHtml(res, 404, page('<p>This sign-in link is unknown or expired. Start the sign-in again from the app.</p>'));
}

/** Appends `name=value` with `?` or `&` as the URI needs, keeping any `#fragment` last. */
function appendQueryParam(uri, name, value) {
  const hashAt = uri.indexOf('#');
  const base = hashAt === -1 ? uri : uri.slice(0, hashAt);
  const fragment = hashAt === -1 ? '' : uri.slice(hashAt);
  const separator = !base.includes('?') ? '?' : base.endsWith('?') || base.endsWith('&') ? '' : '&';
  return `${base}${separator}${encodeURIComponent(name)}=${encodeURIComponent(value)}${fragment}`;
}

/** Percent-encodes what a header value cannot carry (spaces, controls, non-ASCII), as UTF-8. */
function headerSafe(value) {
  return value.replace(/[^\x21-\x7e]/gu, (char) =>
    [...Buffer.from(char)].map((byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`).join(''),
  );
}

function page(content) {
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Mock Freedom ID</title>
  <style>
    body { font: 16px/1.5 system-ui, sans-serif; margin: 0; background: #f4f6f8; color: #1b1f24; }
    main { max-width: 32rem; margin: 4rem auto; padding: 2rem; background: #fff; border-radius: 12px;
           box-shadow: 0 1px 4px rgb(0 0 0 / 0.12); }
    h1 { margin-top: 0; font-size: 1.5rem; }
    code { word-break: break-all; background: #eef1f4; padding: 0 0.25em; border-radius: 4px; }
    form { display: flex; gap: 0.75rem; margin-top: 1.5rem; }
    button { font: inherit; padding: 0.5rem 1.25rem; border-radius: 8px; border: 1px solid #1f6f43; cursor: pointer; }
    button[value="continue"] { background: #1f6f43; color: #fff; }
    button[value="decline"] { background: #fff; color: #1f6f43; }
    button:focus-visible { outline: 3px solid #f0a000; outline-offset: 2px; }
  </style>
</head>
<body>
  <main>
    <h1>Mock Freedom ID</h1>${content}
  </main>
</body>
</html>
`;
}

function escapeHtml(value) {
  return String(value).replace(
    /[&<>"']/g,
    (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char],
  );
}

// ---------------------------------------------------------------------------------------------
// Small helpers

/** Reads the whole request body as text, keeping at most MAX_BODY_BYTES (the rest is drained). */
async function readBody(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size <= MAX_BODY_BYTES) chunks.push(chunk);
  }
  return { text: Buffer.concat(chunks).toString('utf8'), tooLarge: size > MAX_BODY_BYTES };
}

function errorBody(message, code) {
  return { error: { message, code } };
}

function sendJson(res, status, value, headers = {}) {
  sendBody(res, status, 'application/json', JSON.stringify(value), headers);
}

function sendHtml(res, status, html) {
  sendBody(res, status, 'text/html; charset=utf-8', html, {
    'Cache-Control': 'no-store',
    'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'",
  });
}

function sendText(res, status, text) {
  sendBody(res, status, 'text/plain; charset=utf-8', text);
}

function sendBody(res, status, contentType, text, headers = {}) {
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function delay(state, ms) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      state.timers.delete(timer);
      resolve();
    }, ms);
    state.timers.add(timer); // close() clears it; the promise then simply never settles
  });
}

function nowSeconds() {
  return Math.floor(Date.now() / 1000);
}

function isLoopback(host) {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

function listen(server, port, host) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

// ---------------------------------------------------------------------------------------------
// CLI

function parsePort(value) {
  const port = Number(value);
  if (!/^\d+$/.test(String(value)) || port > 65535) throw new Error(`invalid port ${JSON.stringify(value)}`);
  return port;
}

async function main() {
  const { values } = parseArgs({ options: { port: { type: 'string' } } });
  const mock = await startMockFreedomId({
    port: parsePort(values.port ?? process.env.MOCK_PORT ?? 8788),
    clientId: process.env.MOCK_CLIENT_ID || undefined,
    clientSecret: process.env.MOCK_CLIENT_SECRET || undefined,
    log: true,
  });
  console.log(`mock Freedom ID listening on ${mock.origin}`);

  const stop = () => {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    mock.close();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    console.error(`mock Freedom ID: ${err.message}`);
    process.exitCode = 1;
  });
}
