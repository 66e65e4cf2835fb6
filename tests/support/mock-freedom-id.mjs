#!/usr/bin/env node
// Embedded mock of Freedom ID's OAuth API (authorization link, token exchange and refresh), for local
// runs and tests.
//
//   import { startMockFreedomId } from './mock-freedom-id.mjs';
//   const mock = await startMockFreedomId();          // port 0: a free port is picked
//   fetch(mock.authorizeUrl, ...);                      // POST /api/v1/oauth/authorize
//   fetch(mock.tokenUrl, ...);                          // POST (exchange) or PATCH (refresh) /api/v1/oauth/token
//   mock.setMode('status:503');                         // make the authorize endpoint misbehave
//   mock.setTokenMode('gzip-bomb');                     // make the token endpoint misbehave
//   await mock.close();
//
//   node tests/support/mock-freedom-id.mjs [--port 8788]   (env MOCK_PORT, MOCK_CLIENT_ID, MOCK_CLIENT_SECRET)
//
// No dependencies: node: built-ins only (Node >= 20). Listens on loopback only. One file on
// purpose: `make dev` and tests in other processes run it as a script, and its sections below
// (modes and lifetimes, routing, the answers of each endpoint, the sign-in page, the CLI) share
// one state; what each mode yields in the Worker and the package is support/faults.mjs.
//
// Endpoints, as Freedom ID's public docs describe them; each also answers without the /api prefix, as
// the Russian partner guide writes the paths:
//   POST  /api/v1/oauth/authorize  Basic client_id:client_secret, {"redirect_uri", "grants"} -> {"redirect_uri": link}
//   POST  /api/v1/oauth/token      Basic client_id:client_secret, {"authorization_code"} -> token pair
//   PATCH /api/v1/oauth/token      Bearer <refresh_token>, no body -> a new token pair (same "id"); the old
//                                  refresh token is used up
//   A token pair: {"id": uuid, "access_token": 128 [A-Za-z0-9], "refresh_token": same, "access_expire_at":
//   "2025-03-04T06:35:50.123000Z", "refresh_expire_at": ...}. A code works once, for codeTtlSeconds.
//
// A small sign-in page (GET /login, POST /login/decide) lets a browser demo complete the flow: Continue
// sends the browser back with a fresh authorization_code (32 hex characters) the token endpoint accepts.
//
// Controls, in process (see startMockFreedomId) and the same over HTTP, for a test in another process:
//   POST /__mock/mode {"mode": "..."}         authorize endpoint mode (MODES)
//   POST /__mock/token-mode {"mode": "..."}   token endpoint mode (TOKEN_MODES)
//   POST /__mock/lifetimes {"accessTtlSeconds", "refreshTtlSeconds", "codeTtlSeconds"}   any subset
//   POST /__mock/issue-code -> {"code"}       a valid code without driving the sign-in page
//   GET  /__mock/code?code=<c> -> {"known", "spent", "expired"}
//   POST /__mock/reset   GET /__mock/requests   GET /healthz
// reset() restores the modes and lifetimes and clears the recorded requests; links, codes and tokens already
// issued stay as they are (a test's beforeEach must not break a flow started in before()).

import http from 'node:http';
import { randomBytes, randomInt, randomUUID, timingSafeEqual } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { brotliCompressSync, constants as zlibConstants, gzipSync } from 'node:zlib';

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
  'gzip-bomb',
  'br-bomb',
  'gzip-ok',
  'evil-link',
  'userinfo-link',
  'hang',
  'hang-body',
  'reset',
  'slow:<ms>',
  'random-faults:<percent>',
]);

/**
 * Every mode of the token endpoint, set apart from the authorize one so a test can break one step of the
 * flow only. `ok`, `slow`, `no-id`, `gzip-ok` and `huge*` run the real exchange or refresh (a code is
 * consumed, a refresh token rotated) and then add their twist; the other faults leave codes and tokens alone.
 */
export const TOKEN_MODES = Object.freeze([
  'ok',
  'status:<code>',
  'error-200',
  'error-200-string-code',
  'validation-error',
  'redirect',
  'not-json',
  'no-access-token',
  'bad-expiry',
  'no-id',
  'huge',
  'huge-chunked',
  'gzip-bomb',
  'br-bomb',
  'gzip-ok',
  'hang',
  'hang-body',
  'reset',
  'slow:<ms>',
]);

/** The faults `random-faults:<percent>` picks from, uniformly (each is also an authorize mode). */
export const RANDOM_FAULTS = Object.freeze(['status:500', 'status:503', 'error-200', 'not-json', 'evil-link', 'reset', 'huge']);
// What the number of each parameterised mode may be.
const MODE_ARGUMENTS = {
  status: (value) => Number.isInteger(value) && value >= 200 && value <= 599,
  slow: (value) => Number.isInteger(value) && value <= MAX_TIMER_MS,
  'random-faults': (value) => value <= 100,
};

const AUTHORIZE_PATHS = new Set(['/api/v1/oauth/authorize', '/v1/oauth/authorize']);
const TOKEN_PATHS = new Set(['/api/v1/oauth/token', '/v1/oauth/token']);
const LINK_TTL_SECONDS = 600;
const MAX_RECORDED_REQUESTS = 2000;
const MAX_TRACKS = 10_000;
const MAX_CODES = 10_000;
const MAX_REFRESH_TOKENS = 10_000;
const MAX_BODY_BYTES = 1024 * 1024;
const HUGE_BODY_BYTES = 100 * 1024;
const HUGE_CHUNK_BYTES = 4 * 1024;
const MAX_TIMER_MS = 2 ** 31 - 1;
const TOKEN_LENGTH = 128;
const TOKEN_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
// About 100 years: far enough for any test, near enough that every expiry stays a 4-digit-year ISO time.
const MAX_LIFETIME_SECONDS = 100 * 365 * 24 * 3600;
const DEFAULT_LIFETIMES = Object.freeze({ accessTtlSeconds: 3600, refreshTtlSeconds: 86_400, codeTtlSeconds: 60 });
// What a decompression bomb inflates to; a client must cap the decompressed body, not only the wire bytes.
const BOMB_PLAIN_BYTES = 50 * 1024 * 1024;

// Freedom ID answers with numeric codes. The docs show 100101 for "Invalid authorization_code." and 100102
// in an error_code example; their code table is not public, so 100100 ("Unauthenticated.") and 100103
// ("Invalid refresh token.") are the mock's own picks, and 100102 serves as its generic code.
const CODE_UNAUTHENTICATED = 100100;
const CODE_INVALID_AUTHORIZATION_CODE = 100101;
const CODE_GENERIC = 100102;
const CODE_INVALID_REFRESH_TOKEN = 100103;

/**
 * Starts the mock. Resolves to its controls:
 * `{ origin, authorizeUrl, tokenUrl, mode, setMode(mode), tokenMode, setTokenMode(mode),
 *    setTokenLifetimes({ accessTtlSeconds, refreshTtlSeconds, codeTtlSeconds }), issueCode(),
 *    codeStatus(code), reset(), requests, close() }`.
 * Lifetimes are seconds (0 and fractions allowed); a negative one throws.
 */
export async function startMockFreedomId({
  port = 0,
  host = '127.0.0.1',
  clientId = 'demo-client',
  clientSecret = 'demo-secret',
  accessTtlSeconds = DEFAULT_LIFETIMES.accessTtlSeconds,
  refreshTtlSeconds = DEFAULT_LIFETIMES.refreshTtlSeconds,
  codeTtlSeconds = DEFAULT_LIFETIMES.codeTtlSeconds,
  log = false,
} = {}) {
  if (!isLoopback(host)) throw new Error(`mock Freedom ID listens on loopback only, not on ${host}`);
  const startLifetimes = Object.freeze(parseLifetimes({ accessTtlSeconds, refreshTtlSeconds, codeTtlSeconds }));

  const state = {
    mode: 'ok',
    tokenMode: 'ok',
    startLifetimes,
    lifetimes: { ...startLifetimes },
    requests: [], // recorded authorize and token requests, newest last
    tracks: new Map(), // track_id -> { redirectUri, grants, expireAt }
    codes: new Map(), // authorization code -> { expireAtMs, spent }
    refreshTokens: new Map(), // refresh token -> { id, expireAtMs }; a used one is deleted
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
    tokenUrl: `${state.origin}/api/v1/oauth/token`,
    get mode() {
      return state.mode;
    },
    setMode(mode) {
      state.mode = parseMode(mode);
      return state.mode;
    },
    get tokenMode() {
      return state.tokenMode;
    },
    setTokenMode(mode) {
      state.tokenMode = parseTokenMode(mode);
      return state.tokenMode;
    },
    /** Changes the given lifetimes only; answers all current ones. Applies to codes and tokens issued from now on. */
    setTokenLifetimes(lifetimes) {
      return setLifetimes(state, lifetimes);
    },
    issueCode() {
      return issueCode(state);
    },
    codeStatus(code) {
      return codeStatus(state, code);
    },
    reset() {
      resetState(state);
    },
    requests: state.requests,
    close,
  };
}

// ---------------------------------------------------------------------------------------------
// Modes and lifetimes

/** Validates a mode and returns its normalised spelling; throws on an unknown mode. */
function parseMode(mode, modes = MODES, what = 'mode') {
  if (typeof mode !== 'string') throw new TypeError(`${what} must be a string`);
  if (!mode.includes(':') && modes.includes(mode)) return mode;

  const [, name, digits] = /^([a-z-]+):(\d+(?:\.\d+)?)$/.exec(mode) ?? [];
  const value = Number(digits);
  if (name && modes.includes(`${name}:${MODE_PLACEHOLDERS[name]}`) && MODE_ARGUMENTS[name](value)) return `${name}:${value}`;
  throw new Error(`unknown mock Freedom ID ${what} ${JSON.stringify(mode)}; known: ${modes.join(', ')}`);
}

const MODE_PLACEHOLDERS = { status: '<code>', slow: '<ms>', 'random-faults': '<percent>' };

function parseTokenMode(mode) {
  return parseMode(mode, TOKEN_MODES, 'token mode');
}

/** The mode that answers one request: `random-faults:<percent>` is resolved to a fault or `ok` here. */
function pickMode(mode) {
  if (!mode.startsWith('random-faults:')) return mode;
  const percent = Number(mode.slice('random-faults:'.length));
  return Math.random() * 100 < percent ? RANDOM_FAULTS[randomInt(RANDOM_FAULTS.length)] : 'ok';
}

/** Validates a subset of the lifetimes; throws on an unknown key or a value that is not 0..MAX seconds. */
function parseLifetimes(input) {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new TypeError('lifetimes must be an object such as {"accessTtlSeconds": 60}');
  }
  const lifetimes = {};
  for (const [key, value] of Object.entries(input)) {
    if (!Object.hasOwn(DEFAULT_LIFETIMES, key)) {
      throw new Error(`unknown lifetime ${JSON.stringify(key)}; known: ${Object.keys(DEFAULT_LIFETIMES).join(', ')}`);
    }
    if (typeof value !== 'number' || !(value >= 0 && value <= MAX_LIFETIME_SECONDS)) {
      throw new RangeError(`${key} must be a number of seconds from 0 to ${MAX_LIFETIME_SECONDS}`);
    }
    lifetimes[key] = value;
  }
  return lifetimes;
}

function setLifetimes(state, input) {
  Object.assign(state.lifetimes, parseLifetimes(input)); // all checked first: a bad value changes nothing
  return { ...state.lifetimes };
}

function resetState(state) {
  state.mode = 'ok';
  state.tokenMode = 'ok';
  state.lifetimes = { ...state.startLifetimes };
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
  if (AUTHORIZE_PATHS.has(path)) return handleEndpoint(state, req, res, path, 'authorize');
  if (TOKEN_PATHS.has(path)) return handleEndpoint(state, req, res, path, 'token');

  switch (`${req.method} ${path}`) {
    case 'GET /healthz':
      return sendJson(res, 200, { status: 'ok' });
    case 'POST /__mock/mode':
      return handleControl(req, res, '{"mode": "..."}', (input) => ({ mode: (state.mode = parseMode(input?.mode)) }));
    case 'POST /__mock/token-mode':
      return handleControl(req, res, '{"mode": "..."}', (input) => ({
        mode: (state.tokenMode = parseTokenMode(input?.mode)),
      }));
    case 'POST /__mock/lifetimes':
      return handleControl(req, res, '{"accessTtlSeconds": 60}', (input) => setLifetimes(state, input));
    case 'POST /__mock/issue-code':
      return sendJson(res, 200, { code: issueCode(state) });
    case 'GET /__mock/code':
      return sendJson(res, 200, codeStatus(state, query.get('code')));
    case 'POST /__mock/reset':
      resetState(state);
      return sendJson(res, 200, { status: 'ok', mode: state.mode, tokenMode: state.tokenMode });
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

/** A `/__mock/*` control taking a JSON body: 200 with what `apply` answers, 400 if the body or a value is bad. */
async function handleControl(req, res, example, apply) {
  const body = await readBody(req);
  let answer;
  try {
    answer = apply(JSON.parse(body.text));
  } catch (err) {
    const message = err instanceof SyntaxError ? `Body must be JSON: ${example}` : err.message;
    return sendJson(res, 400, errorBody(message, CODE_GENERIC));
  }
  return sendJson(res, 200, answer);
}

function failRequest(res, err) {
  if (res.headersSent || res.socket?.destroyed) {
    res.socket?.destroy();
    return;
  }
  console.error(`mock Freedom ID: ${err?.stack ?? err}`);
  sendText(res, 500, 'Internal mock error\n');
}

/** Reads, records and answers one request to the authorize or the token endpoint, in that endpoint's mode. */
async function handleEndpoint(state, req, res, path, endpoint) {
  const body = await readBody(req);
  const mode = endpoint === 'authorize' ? pickMode(state.mode) : state.tokenMode;
  recordRequest(state, { endpoint, method: req.method, path, headers: { ...req.headers }, body: body.text, mode });

  const [name, arg] = splitMode(mode);
  const answers = endpoint === 'authorize' ? AUTHORIZE_ANSWERS : TOKEN_ANSWERS;
  await answers[name]({ state, req, res, body }, arg);

  if (state.log) {
    const status = res.headersSent ? res.statusCode : 'no response';
    // Method, path, status and mode only: never the Authorization header, the body, a code nor a token.
    console.error(`${req.method} ${path} -> ${status} [${mode}]`);
  }
}

function splitMode(mode) {
  const at = mode.indexOf(':');
  return at === -1 ? [mode, undefined] : [mode.slice(0, at), Number(mode.slice(at + 1))];
}

// ---------------------------------------------------------------------------------------------
// Answers shared by both endpoints. An "answer" is `{ status, value, headers }`, built before it is
// sent so the `huge`, `gzip-ok` and `no-id` twists can wrap the real behaviour.

/** One function per mode name; `arg` is the number of a parameterised mode. */
const COMMON_ANSWERS = {
  status: ({ res }, status) => answerStatus(res, status),

  redirect: ({ state, res }) => {
    res.writeHead(302, { Location: `${state.origin}/elsewhere`, 'Content-Length': 0 });
    res.end();
  },

  'not-json': ({ res }) => sendBody(res, 200, 'text/html', '<html><body>Bad gateway</body></html>'),

  // Request read, never answered: the socket stays open until the client gives up or close().
  hang: () => {},

  reset: ({ req }) => {
    req.socket.destroy();
  },
};

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

/** Headers and the start of the JSON, then nothing: the body never completes. */
function hangBody(res, start) {
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.write(start);
}

/** Runs `ok` after the delay, unless the client left meanwhile (then nothing is consumed). */
async function answerSlow(ctx, ms, ok) {
  await delay(ctx.state, ms);
  if (!ctx.req.socket.destroyed) ok(ctx);
}

function sendAnswer(res, { status, value, headers }) {
  sendJson(res, status, value, headers);
}

/** The answer gzip-compressed, with the compressed length: a client that decompresses reads it as usual. */
function sendGzipped(res, { status, value, headers }) {
  sendEncoded(res, status, 'gzip', gzipSync(JSON.stringify(value)), headers);
}

/** A 200 answer padded to exactly HUGE_BODY_BYTES, with a Content-Length; another status is sent as it is. */
function sendHuge(res, answer) {
  if (answer.status !== 200) return sendAnswer(res, answer);
  return sendBody(res, 200, 'application/json', hugeJson(answer.value), answer.headers);
}

/** Like sendHuge, without a Content-Length: chunked. */
function sendHugeChunked(res, answer) {
  if (answer.status !== 200) return sendAnswer(res, answer);
  return sendChunked(res, hugeJson(answer.value));
}

/** The JSON `value` plus a `padding` member, exactly HUGE_BODY_BYTES long. */
function hugeJson(value) {
  const skeleton = JSON.stringify({ ...value, padding: '' });
  return JSON.stringify({ ...value, padding: 'x'.repeat(HUGE_BODY_BYTES - Buffer.byteLength(skeleton)) });
}

function sendChunked(res, text) {
  res.writeHead(200, { 'Content-Type': 'application/json' }); // no Content-Length: chunked
  for (let at = 0; at < text.length; at += HUGE_CHUNK_BYTES) res.write(text.slice(at, at + HUGE_CHUNK_BYTES));
  res.end();
}

/**
 * A decompression bomb: a JSON start then BOMB_PLAIN_BYTES of `a`, sent with its Content-Encoding whatever
 * the request's Accept-Encoding says (a hostile server ignores it). gzip cannot beat ~1:1032, so its bomb is
 * ~50 KiB on the wire (still under a 64 KiB cap on the declared length); brotli's is a few hundred bytes.
 */
function sendBomb(res, encoding, start) {
  sendEncoded(res, 200, encoding, bomb(encoding, start));
}

// Compressed once per process and kept: every later bomb costs only the bytes on the wire.
const bombs = new Map(); // `${encoding} ${start}` -> Buffer

function bomb(encoding, start) {
  const key = `${encoding} ${start}`;
  let compressed = bombs.get(key);
  if (!compressed) {
    const plain = Buffer.alloc(Buffer.byteLength(start) + BOMB_PLAIN_BYTES, 'a');
    plain.write(start);
    compressed =
      encoding === 'gzip'
        ? // One repeated byte: run-length matches are all deflate needs, and Z_RLE finds them ~6x faster.
          gzipSync(plain, { level: 9, strategy: zlibConstants.Z_RLE })
        : // Quality 2 is fast (~50 ms for 50 MiB) and already squeezes the run to a few hundred bytes.
          brotliCompressSync(plain, {
            params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 2, [zlibConstants.BROTLI_PARAM_SIZE_HINT]: plain.length },
          });
    bombs.set(key, compressed);
  }
  return compressed;
}

function sendEncoded(res, status, encoding, buffer, headers = {}) {
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Encoding': encoding,
    'Content-Length': buffer.length,
    ...headers,
  });
  res.end(buffer);
}

// ---------------------------------------------------------------------------------------------
// Authorize endpoint

const AUTHORIZE_ANSWERS = {
  ...COMMON_ANSWERS,

  ok: ({ state, req, res, body }) => sendAnswer(res, authorizeOk(state, req, body)),

  'error-200': ({ res }) => sendJson(res, 200, errorBody('Something went wrong.', CODE_GENERIC)),

  'no-redirect-uri': ({ state, res }) => sendJson(res, 200, { link: `${state.origin}/login` }),

  'number-redirect-uri': ({ res }) => sendJson(res, 200, { redirect_uri: 42 }),

  // Always a padded link, even for a request `ok` would refuse: the client must refuse the size itself.
  huge: ({ state, res, body }) => {
    sendHuge(res, { status: 200, value: { redirect_uri: issueLink(state, validInputOrNull(body)) } });
  },

  'huge-chunked': ({ state, res, body }) => {
    sendHugeChunked(res, { status: 200, value: { redirect_uri: issueLink(state, validInputOrNull(body)) } });
  },

  'gzip-bomb': ({ res }) => sendBomb(res, 'gzip', '{"redirect_uri":"'),

  'br-bomb': ({ res }) => sendBomb(res, 'br', '{"redirect_uri":"'),

  'gzip-ok': ({ state, req, res, body }) => sendGzipped(res, authorizeOk(state, req, body)),

  'evil-link': ({ state, res }) => sendJson(res, 200, { redirect_uri: issueLink(state, null, 'https://evil.example') }),

  'userinfo-link': ({ state, res, body }) => {
    sendJson(res, 200, { redirect_uri: issueLink(state, validInputOrNull(body), `http://user:pass@${state.hostPort}`) });
  },

  'hang-body': ({ res }) => hangBody(res, '{"redirect_uri":'),

  slow: (ctx, ms) => answerSlow(ctx, ms, AUTHORIZE_ANSWERS.ok),
};

/** The real provider's behaviour. */
function authorizeOk(state, req, body) {
  if (req.method !== 'POST') {
    return { status: 405, value: errorBody('Method not allowed.', CODE_GENERIC), headers: { Allow: 'POST' } };
  }
  const refused = refuseClientRequest(state, req, body);
  if (refused) return refused;
  const { input, errors } = validateAuthorizeBody(body.text);
  if (errors) return validationError(errors);
  return { status: 200, value: { redirect_uri: issueLink(state, input) } };
}

/** The checks both client-authenticated POSTs share, in the provider's order; undefined when all pass. */
function refuseClientRequest(state, req, body) {
  if (!hasExpectedAuthorization(state, req.headers.authorization)) {
    return { status: 401, value: errorBody('Unauthenticated.', CODE_UNAUTHENTICATED) };
  }
  if (!String(req.headers['content-type'] ?? '').toLowerCase().startsWith('application/json')) {
    return { status: 415, value: errorBody('Unsupported Media Type: the body must be application/json.', CODE_GENERIC) };
  }
  if (body.tooLarge) {
    return { status: 413, value: errorBody('Payload Too Large.', CODE_GENERIC) };
  }
  return undefined;
}

function hasExpectedAuthorization(state, header) {
  const given = Buffer.from(String(header ?? ''));
  const expected = state.expectedAuthorization;
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The provider's validation answer: every failing field named, and no `code` member. */
function validationError(errors) {
  return { status: 422, value: { error: { message: 'Error validating transmitted data.', errors } } };
}

/** The body as a JSON object; anything else (not JSON, an array, null) reads as `{}`, so fields are "missing". */
function parseJsonObject(text) {
  let input;
  try {
    input = JSON.parse(text);
  } catch {
    input = undefined;
  }
  return input !== null && typeof input === 'object' && !Array.isArray(input) ? input : {};
}

/**
 * Validates `{"redirect_uri": string, "grants": [string, ...]}` like the provider's validator:
 * every failing field is named. A body that is not a JSON object fails both fields as missing.
 */
function validateAuthorizeBody(text) {
  const errors = {};
  const { redirect_uri: redirectUri, grants } = parseJsonObject(text);
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
  if (input) rememberCapped(state.tracks, trackId, { ...input, expireAt }, MAX_TRACKS);
  return `${base}/login?track_id=${trackId}&expire_at=${expireAt}`;
}

// ---------------------------------------------------------------------------------------------
// Token endpoint

const TOKEN_ANSWERS = {
  ...COMMON_ANSWERS,

  ok: ({ state, req, res, body }) => sendAnswer(res, tokenOk(state, req, body)),

  // Freedom ID lists some error answers under HTTP 200: a client must look for `error` whatever the status.
  'error-200': ({ res }) => sendJson(res, 200, errorBody('Invalid authorization_code.', CODE_INVALID_AUTHORIZATION_CODE)),

  // Its docs call `code` a string while showing a number: a client must accept both.
  'error-200-string-code': ({ res }) => {
    sendJson(res, 200, errorBody('Invalid authorization_code.', String(CODE_INVALID_AUTHORIZATION_CODE)));
  },

  'validation-error': ({ res }) => sendAnswer(res, validationError(AUTHORIZATION_CODE_REQUIRED)),

  // The pairs of these two are never remembered: the faulty answer hands out nothing usable.
  'no-access-token': ({ state, res }) => {
    const { access_token: _dropped, ...rest } = tokenPair(state, randomUUID()).value;
    sendJson(res, 200, rest);
  },

  'bad-expiry': ({ state, res }) => {
    sendJson(res, 200, { ...tokenPair(state, randomUUID()).value, access_expire_at: '2025-02-30T25:00:00Z' });
  },

  // Older answers had no `id`: the exchange or refresh really happens, the id is just left out.
  'no-id': ({ state, req, res, body }) => {
    const answer = tokenOk(state, req, body);
    if (answer.status === 200) {
      const { id: _dropped, ...rest } = answer.value;
      answer.value = rest;
    }
    sendAnswer(res, answer);
  },

  huge: ({ state, req, res, body }) => sendHuge(res, tokenOk(state, req, body)),

  'huge-chunked': ({ state, req, res, body }) => sendHugeChunked(res, tokenOk(state, req, body)),

  'gzip-bomb': ({ res }) => sendBomb(res, 'gzip', '{"access_token":"'),

  'br-bomb': ({ res }) => sendBomb(res, 'br', '{"access_token":"'),

  'gzip-ok': ({ state, req, res, body }) => sendGzipped(res, tokenOk(state, req, body)),

  'hang-body': ({ res }) => hangBody(res, '{"access_token":'),

  slow: (ctx, ms) => answerSlow(ctx, ms, TOKEN_ANSWERS.ok),
};

const AUTHORIZATION_CODE_REQUIRED = Object.freeze({ authorization_code: ['The Authorization code field is required.'] });

/** The real provider's behaviour: POST exchanges a code, PATCH rotates a refresh token. */
function tokenOk(state, req, body) {
  if (req.method === 'POST') return exchangeCode(state, req, body);
  if (req.method === 'PATCH') return refreshPair(state, req);
  return { status: 405, value: errorBody('Method not allowed.', CODE_GENERIC), headers: { Allow: 'POST, PATCH' } };
}

function exchangeCode(state, req, body) {
  const refused = refuseClientRequest(state, req, body);
  if (refused) return refused;
  const { authorization_code: code } = parseJsonObject(body.text);
  if (typeof code !== 'string' || code === '') return validationError(AUTHORIZATION_CODE_REQUIRED);

  const entry = state.codes.get(code);
  if (!entry || entry.spent || isPast(entry.expireAtMs)) {
    return { status: 400, value: errorBody('Invalid authorization_code.', CODE_INVALID_AUTHORIZATION_CODE) };
  }
  entry.spent = true; // a code works once
  return { status: 200, value: issueTokenPair(state, randomUUID()) };
}

/** Rotation: the presented refresh token is used up and a new pair is issued under the same grant id. */
function refreshPair(state, req) {
  const [, token] = /^Bearer +(\S+) *$/i.exec(String(req.headers.authorization ?? '')) ?? [];
  if (!token) return { status: 401, value: errorBody('Unauthenticated.', CODE_UNAUTHENTICATED) };

  const grant = state.refreshTokens.get(token);
  state.refreshTokens.delete(token);
  if (!grant || isPast(grant.expireAtMs)) {
    return { status: 401, value: errorBody('Invalid refresh token.', CODE_INVALID_REFRESH_TOKEN) };
  }
  return { status: 200, value: issueTokenPair(state, grant.id) };
}

/** A new pair whose refresh token the mock remembers. Access tokens are not tracked: nothing here reads them. */
function issueTokenPair(state, id) {
  const { value, refreshExpireAtMs } = tokenPair(state, id);
  rememberCapped(state.refreshTokens, value.refresh_token, { id, expireAtMs: refreshExpireAtMs }, MAX_REFRESH_TOKENS);
  return value;
}

/** A pair in the provider's shape, its expiry times now + the current lifetimes. */
function tokenPair(state, id) {
  const now = Date.now();
  const accessExpireAtMs = Math.floor(now + state.lifetimes.accessTtlSeconds * 1000);
  const refreshExpireAtMs = Math.floor(now + state.lifetimes.refreshTtlSeconds * 1000);
  return {
    refreshExpireAtMs,
    value: {
      id,
      access_token: randomToken(),
      refresh_token: randomToken(),
      access_expire_at: isoMicroseconds(accessExpireAtMs),
      refresh_expire_at: isoMicroseconds(refreshExpireAtMs),
    },
  };
}

/** `TOKEN_LENGTH` characters of [A-Za-z0-9], unbiased: bytes from 248 (= 4 * 62) up are skipped. */
function randomToken() {
  let token = '';
  while (token.length < TOKEN_LENGTH) {
    for (const byte of randomBytes(TOKEN_LENGTH)) {
      if (byte < 248 && token.length < TOKEN_LENGTH) token += TOKEN_ALPHABET[byte % TOKEN_ALPHABET.length];
    }
  }
  return token;
}

/** `2025-03-04T06:35:50.123000Z`: ISO-8601 UTC with microseconds, as the provider writes times. */
function isoMicroseconds(ms) {
  return new Date(ms).toISOString().replace(/Z$/, '000Z');
}

/** A fresh code, as the sign-in page's Continue hands out: 32 hex characters, valid for codeTtlSeconds. */
function issueCode(state) {
  const code = randomBytes(16).toString('hex');
  const expireAtMs = Date.now() + state.lifetimes.codeTtlSeconds * 1000;
  rememberCapped(state.codes, code, { expireAtMs, spent: false }, MAX_CODES);
  return code;
}

/** What the mock knows of a code; spent codes are kept (until the cap evicts them) so a test can ask. */
function codeStatus(state, code) {
  const entry = typeof code === 'string' ? state.codes.get(code) : undefined;
  return { known: Boolean(entry), spent: entry?.spent ?? false, expired: entry ? isPast(entry.expireAtMs) : false };
}

function isPast(ms) {
  return Date.now() >= ms;
}

// ---------------------------------------------------------------------------------------------
// Sign-in page

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
      ? appendQueryParam(track.redirectUri, 'authorization_code', issueCode(state))
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

/** Sets `key`, first dropping the oldest entry if the map is full: memory stays bounded under any load. */
function rememberCapped(map, key, value, cap) {
  if (map.size >= cap) map.delete(map.keys().next().value); // oldest first
  map.set(key, value);
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
