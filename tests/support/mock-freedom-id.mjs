#!/usr/bin/env node
// Embedded mock of Freedom ID's OAuth API (authorization link, token exchange and refresh), its OpenID
// Connect flavour (authorization page, token endpoint, signed id_tokens and their key set) and a
// user-info endpoint, for local runs and tests.
//
//   import { startMockFreedomId } from './mock-freedom-id.mjs';
//   const mock = await startMockFreedomId();          // port 0: a free port is picked
//   fetch(mock.authorizeUrl, ...);                      // POST /api/v1/oauth/authorize
//   fetch(mock.tokenUrl, ...);                          // POST (exchange) or PATCH (refresh) /api/v1/oauth/token
//   mock.setMode('status:503');                         // make the authorize endpoint misbehave
//   mock.setTokenMode('gzip-bomb');                     // make the token endpoint misbehave
//   mock.oidcAuthorizeUrl, mock.oidcTokenUrl, mock.issuer, mock.jwksUrl, mock.userInfoUrl
//   mock.setOidcTokenMode('wrong-nonce');               // make the OIDC token endpoint (its id_token) misbehave
//   mock.setUserInfoMode('status:401');                 // make the user-info endpoint misbehave
//   await mock.close();
//
//   node tests/support/mock-freedom-id.mjs [--port 8788]
//     (env MOCK_PORT, MOCK_CLIENT_ID, MOCK_CLIENT_SECRET, MOCK_ISSUER)
//
// No dependencies: node: built-ins only (Node >= 20). Listens on loopback only. One file on
// purpose: `make dev` and tests in other processes run it as a script, and its sections below
// (modes and lifetimes, routing, the answers of each endpoint, the sign-in pages, the CLI) share
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
// The OpenID Connect flavour (Freedom ID's page prints the token path as `/api/v1oidc//token`; the mock
// serves the likely `/api/v1/oidc/token`, and `/v1/oidc/token`):
//   GET  /openid?scope=openid+...&state=&response_type=code&client_id=&redirect_uri=&nonce=
//        all six required, each once and non-empty; response_type exactly `code`; scope (grants separated
//        by whitespace) holding `openid`; client_id the mock's; redirect_uri an absolute http(s) URL without
//        a #fragment. Else a 400 HTML page naming each problem. Else a page with Allow and Decline
//        (POST /openid/decide, request_id and decision=allow|decline): Allow is a 303 to redirect_uri with
//        `code=<32 hex>&state=<state>`, Decline with `error=access_denied&state=<state>`. The request is
//        used once; the code remembers the nonce, redirect_uri, scope and the user.
//   POST /api/v1/oidc/token  Basic client_id:client_secret, JSON {"code", "redirect_uri", "grant_type":
//        "authorization_code"}, all required (422 naming each missing or bad one) -> {"access_token": 128
//        [A-Za-z0-9], "expires_in": accessTtlSeconds rounded down, "refresh_token": same, "token_type":
//        "Bearer", "id_token": JWT}. A code works once and only with the redirect_uri it was issued for
//        (400 100101 else; a refused code stays unspent); an OAuth2 code is refused here and an OIDC code
//        at /api/v1/oauth/token. Freedom ID documents no refresh for this flavour: its refresh_token is
//        not accepted by the PATCH.
//   The id_token: header {"alg", "kid", "typ": "JWT"}, signed with node:crypto by the key of the current
//        signing alg (ES256 on P-256 by default, or RS256 on 2048 bits; both made at start); claims `iss`
//        (mock.issuer: the origin unless the `issuer` option says otherwise), `sub` (the user's id), `aud`
//        (the client id), `exp` (iat + 7 days), `iat`, `nonce`, then a profile claim per grant in the scope:
//        `read.<field>` gives `<field>` for the ten fields of PROFILE_FIELDS, `read.profile` gives all ten
//        (the mock's choice: Freedom ID documents no claim mapping).
//   GET  /oidc/jwks.json     {"keys": [the ES256 then the RS256 public JWK, each with kid (its RFC 7638
//        thumbprint), alg, use: "sig"]}. No discovery document: Freedom ID documents none.
//
// User info, at a path of the mock's own (Freedom ID's is not public):
//   GET  /api/v1/user/info   Bearer <access token> from either flavour's exchange (or an OAuth2 refresh) ->
//        {"id", "sub" (= id; OIDC tokens only), "firstname", "lastname", "patronymic", "email", "phone",
//        "date_of_birth", "gender", "country", "nationality", "identifier", "cards" (a field clients must
//        ignore)}: the user the code was issued to (DEMO_USER unless POST /__mock/user chose another),
//        whatever the grants. An unknown or expired token, or none: 401 100100 with WWW-Authenticate.
//
// A small sign-in page (GET /login, POST /login/decide) lets a browser demo complete the flow: Continue
// sends the browser back with a fresh authorization_code (32 hex characters) the token endpoint accepts.
//
// Controls, in process (see startMockFreedomId) and the same over HTTP, for a test in another process:
//   POST /__mock/mode {"mode": "..."}         authorize endpoint mode (MODES)
//   POST /__mock/token-mode {"mode": "..."}   token endpoint mode (TOKEN_MODES)
//   POST /__mock/oidc-token-mode {"mode"}     OIDC token endpoint mode (OIDC_TOKEN_MODES)
//   POST /__mock/userinfo-mode {"mode"}       user-info endpoint mode (USERINFO_MODES)
//   POST /__mock/signing-alg {"alg": "ES256" | "RS256"}   the key that signs id_tokens from now on
//   POST /__mock/rotate-keys -> the new key set   both signing keys replaced (new kids); the old ones leave
//                                             the key set, so tokens they signed no longer verify
//   POST /__mock/user {"id", ...} -> the user  the user codes are issued to from now on: exactly these
//                                             fields (`id` a string or a whole number, the rest any JSON)
//   GET  /__mock/user
//   POST /__mock/lifetimes {"accessTtlSeconds", "refreshTtlSeconds", "codeTtlSeconds"}   any subset
//   POST /__mock/issue-code -> {"code"}       a valid code without driving the sign-in page
//   POST /__mock/issue-oidc-code {"nonce", "redirect_uri", "scope"?} -> {"code"}   the same for OIDC
//   GET  /__mock/code?code=<c> -> {"known", "spent", "expired"}   (either flavour's code)
//   POST /__mock/reset   GET /__mock/requests   GET /healthz
// reset() restores the modes, the signing alg, the user and the lifetimes and clears the recorded requests;
// links, codes, tokens and keys already issued stay as they are (a test's beforeEach must not break a flow
// started in before()).
//
// Recorded requests (mock.requests, GET /__mock/requests): {endpoint, method, path, headers, body, mode},
// endpoint one of `authorize`, `token`, `oidc-token`, `userinfo` (mode: that endpoint's), `jwks` and
// `openid` (the browser's visit to the authorization page, with its `query` string too; mode null).

import http from 'node:http';
import { createHash, generateKeyPair, randomBytes, randomInt, randomUUID, sign, timingSafeEqual } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { parseArgs, promisify } from 'node:util';
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

/**
 * Every mode of the OIDC token endpoint. The id_token modes run the real exchange (the code is spent) and
 * hand out an id_token with one twist; `aud-array`, `expired-in-leeway` and `iat-future-in-leeway` are
 * twists a client must accept. The transport modes leave the code alone.
 */
export const OIDC_TOKEN_MODES = Object.freeze([
  'ok',
  'aud-array', // aud: [client id, "another-client"]
  'expired-in-leeway', // exp 30 s ago
  'iat-future-in-leeway', // iat 30 s ahead
  'wrong-iss', // iss: "https://evil.example"
  'wrong-aud', // aud: "another-client"
  'expired', // exp 120 s ago (beyond a 60 s leeway)
  'iat-future', // iat 300 s ahead
  'wrong-nonce', // a fresh random nonce
  'no-nonce',
  'no-sub',
  'long-sub', // sub of 256 characters
  'alg-none', // header {"alg": "none", "typ": "JWT"}, empty signature
  'bad-signature', // the claims as issued, the signature made over other claims (another sub)
  'unknown-kid', // signed by a key that is not in the key set, with its own kid
  'malformed', // two parts: no signature
  'malformed-base64', // three parts of the base64url alphabet, the claims' length 4n+1 (never base64)
  'malformed-json', // three base64url parts, the claims not JSON
  'no-id-token', // the answer without its id_token
  'status:<code>',
  'error-200',
  'redirect',
  'not-json',
  'hang',
  'reset',
  'slow:<ms>',
]);

/**
 * Every mode of the user-info endpoint. `huge`, `huge-chunked`, `mismatched-sub`, `oversized-claims` and
 * `claims-at-limit` check the token as `ok` does (an unknown one is still a plain 401) and then twist the
 * answer.
 */
export const USERINFO_MODES = Object.freeze([
  'ok',
  'status:<code>', // 401 and 403 are refusals, 500 a failure
  'not-json',
  'huge', // the answer padded to 100 KiB, with a Content-Length
  'huge-chunked', // the same, chunked
  'gzip-bomb', // ~50 MiB of JSON start gzip-compressed
  'mismatched-sub', // `sub` another UUID (`id` unchanged), in either flavour
  'oversized-claims', // firstname 10 KiB; lastname, patronymic, email, phone and identifier 1 KiB each
  'claims-at-limit', // each of the ten profile fields 256 - 10 * i Cyrillic characters: each keepable, too many together
  'redirect',
  'hang',
  'reset',
  'slow:<ms>',
]);

/** The algorithms the mock signs id_tokens with (`setSigningAlg`), the first the default. */
export const SIGNING_ALGS = Object.freeze(['ES256', 'RS256']);

/** The profile fields a client keeps, in Freedom ID's grant names (`read.<field>`). */
export const PROFILE_FIELDS = Object.freeze([
  'firstname',
  'lastname',
  'patronymic',
  'email',
  'phone',
  'date_of_birth',
  'gender',
  'country',
  'nationality',
  'identifier',
]);

/** The user codes are issued to unless a test chooses another (`setUser`, POST /__mock/user). */
export const DEMO_USER = Object.freeze({
  id: '41790bb3-5d6e-4c1a-9f7e-2b8a3c0d9e41',
  firstname: 'Aida',
  lastname: 'Seitkali',
  patronymic: 'Nurlanovna',
  email: 'aida@example.com',
  phone: '+77011234567',
  date_of_birth: '1994-03-12',
  gender: 'female',
  country: 'KZ',
  nationality: 'kazakh',
  identifier: '940312450123',
  cards: Object.freeze([Object.freeze({ mask: '440043******1234', brand: 'visa' })]), // not a profile field
});

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
const OIDC_TOKEN_PATHS = new Set(['/api/v1/oidc/token', '/v1/oidc/token']);
const OIDC_AUTHORIZE_PATH = '/openid';
const USERINFO_PATH = '/api/v1/user/info';
const JWKS_PATH = '/oidc/jwks.json';
const OIDC_PARAMETERS = Object.freeze(['scope', 'state', 'response_type', 'client_id', 'redirect_uri', 'nonce']);
const ID_TOKEN_TTL_SECONDS = 7 * 24 * 3600; // exp - iat in Freedom ID's example
const OTHER_AUDIENCE = 'another-client';
const OTHER_ISSUER = 'https://evil.example';
const MAX_ACCESS_TOKENS = 10_000;
const MAX_OIDC_REQUESTS = 10_000;
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

const generateKeyPairAsync = promisify(generateKeyPair);

/**
 * Starts the mock. Resolves to its controls:
 * `{ origin, authorizeUrl, tokenUrl, mode, setMode(mode), tokenMode, setTokenMode(mode),
 *    setTokenLifetimes({ accessTtlSeconds, refreshTtlSeconds, codeTtlSeconds }), issueCode(),
 *    codeStatus(code), reset(), requests, close(),
 *    oidcAuthorizeUrl, oidcTokenUrl, issuer, jwksUrl, userInfoUrl, jwks, oidcTokenMode,
 *    setOidcTokenMode(mode), userInfoMode, setUserInfoMode(mode), signingAlg, setSigningAlg(alg),
 *    rotateSigningKeys(), user, setUser(user), issueOidcCode({ nonce, redirectUri, scope }) }`.
 * Lifetimes are seconds (0 and fractions allowed); a negative one throws. `issuer` is the `iss` of the
 * id_tokens (default: the origin, e.g. `http://127.0.0.1:<port>`).
 */
export async function startMockFreedomId({
  port = 0,
  host = '127.0.0.1',
  clientId = 'demo-client',
  clientSecret = 'demo-secret',
  accessTtlSeconds = DEFAULT_LIFETIMES.accessTtlSeconds,
  refreshTtlSeconds = DEFAULT_LIFETIMES.refreshTtlSeconds,
  codeTtlSeconds = DEFAULT_LIFETIMES.codeTtlSeconds,
  issuer,
  log = false,
} = {}) {
  if (issuer !== undefined && (typeof issuer !== 'string' || issuer === '')) {
    throw new TypeError('issuer must be a non-empty string');
  }
  if (!isLoopback(host)) throw new Error(`mock Freedom ID listens on loopback only, not on ${host}`);
  const startLifetimes = Object.freeze(parseLifetimes({ accessTtlSeconds, refreshTtlSeconds, codeTtlSeconds }));
  const [keys, strayKeys] = await Promise.all([makeSigningKeys(), strayKeysOfProcess()]);

  const state = {
    mode: 'ok',
    tokenMode: 'ok',
    oidcTokenMode: 'ok',
    userInfoMode: 'ok',
    signingAlg: SIGNING_ALGS[0],
    user: copyUser(DEMO_USER),
    startLifetimes,
    lifetimes: { ...startLifetimes },
    requests: [], // recorded authorize and token requests, newest last
    tracks: new Map(), // track_id -> { redirectUri, grants, expireAt }
    codes: new Map(), // code -> { expireAtMs, spent, flavour, user, and in oidc: nonce, redirectUri, scope }
    refreshTokens: new Map(), // refresh token -> { id, expireAtMs, user }; a used one is deleted
    accessTokens: new Map(), // access token -> { flavour, user, expireAtMs }, for the user-info endpoint
    oidcRequests: new Map(), // request_id -> an authorization page's validated request, until decided
    keys, // alg -> { alg, kid, privateKey, publicJwk }: the key set
    strayKeys, // alg -> a key that is not in the key set (`unknown-kid`)
    clientId,
    sockets: new Set(), // every open socket, so close() can end hanging ones too
    timers: new Set(), // pending `slow:<ms>` timers
    expectedAuthorization: Buffer.from(`Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`),
    log,
    origin: '', // set once listening
    hostPort: '',
    issuer: '', // set once listening
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
  state.issuer = issuer ?? state.origin;

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

    oidcAuthorizeUrl: `${state.origin}${OIDC_AUTHORIZE_PATH}`,
    oidcTokenUrl: `${state.origin}/api/v1/oidc/token`,
    issuer: state.issuer,
    jwksUrl: `${state.origin}${JWKS_PATH}`,
    userInfoUrl: `${state.origin}${USERINFO_PATH}`,
    /** The key set as GET /oidc/jwks.json serves it (a copy). */
    get jwks() {
      return jwks(state);
    },
    get oidcTokenMode() {
      return state.oidcTokenMode;
    },
    setOidcTokenMode(mode) {
      state.oidcTokenMode = parseOidcTokenMode(mode);
      return state.oidcTokenMode;
    },
    get userInfoMode() {
      return state.userInfoMode;
    },
    setUserInfoMode(mode) {
      state.userInfoMode = parseUserInfoMode(mode);
      return state.userInfoMode;
    },
    get signingAlg() {
      return state.signingAlg;
    },
    setSigningAlg(alg) {
      state.signingAlg = parseSigningAlg(alg);
      return state.signingAlg;
    },
    /** Replaces both signing keys (new kids); resolves to the new key set. */
    rotateSigningKeys() {
      return rotateSigningKeys(state);
    },
    /** The user codes are issued to from now on (a copy). */
    get user() {
      return copyUser(state.user);
    },
    setUser(user) {
      state.user = parseUser(user);
      return copyUser(state.user);
    },
    /** A valid OIDC code without driving the authorization page (scope defaults to `openid`). */
    issueOidcCode({ nonce, redirectUri, scope = 'openid' } = {}) {
      return issueOidcCode(state, { nonce, redirectUri, scope });
    },
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

function parseOidcTokenMode(mode) {
  return parseMode(mode, OIDC_TOKEN_MODES, 'OIDC token mode');
}

function parseUserInfoMode(mode) {
  return parseMode(mode, USERINFO_MODES, 'user-info mode');
}

function parseSigningAlg(alg) {
  if (!SIGNING_ALGS.includes(alg)) {
    throw new Error(`unknown signing alg ${JSON.stringify(alg)}; known: ${SIGNING_ALGS.join(', ')}`);
  }
  return alg;
}

/** A user: an object whose `id` is a string or a whole number; its other members any JSON, kept as given. */
function parseUser(input) {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new TypeError('the user must be an object such as {"id": "...", "firstname": "..."}');
  }
  const { id } = input;
  if (typeof id !== 'string' && !(Number.isInteger(id) && id >= 0)) {
    throw new TypeError('the user needs an "id": a string or a whole number');
  }
  return copyUser(input);
}

/** A deep copy through JSON: what is kept is what the endpoints send. */
function copyUser(user) {
  return JSON.parse(JSON.stringify(user));
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
  state.oidcTokenMode = 'ok';
  state.userInfoMode = 'ok';
  state.signingAlg = SIGNING_ALGS[0];
  state.user = copyUser(DEMO_USER);
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
  if (OIDC_TOKEN_PATHS.has(path)) return handleEndpoint(state, req, res, path, 'oidc-token');
  if (path === USERINFO_PATH) return handleEndpoint(state, req, res, path, 'userinfo');
  if (path === JWKS_PATH) return handleJwks(state, req, res, path);

  switch (`${req.method} ${path}`) {
    case 'GET /healthz':
      return sendJson(res, 200, { status: 'ok' });
    case 'POST /__mock/mode':
      return handleControl(req, res, '{"mode": "..."}', (input) => ({ mode: (state.mode = parseMode(input?.mode)) }));
    case 'POST /__mock/token-mode':
      return handleControl(req, res, '{"mode": "..."}', (input) => ({
        mode: (state.tokenMode = parseTokenMode(input?.mode)),
      }));
    case 'POST /__mock/oidc-token-mode':
      return handleControl(req, res, '{"mode": "..."}', (input) => ({
        mode: (state.oidcTokenMode = parseOidcTokenMode(input?.mode)),
      }));
    case 'POST /__mock/userinfo-mode':
      return handleControl(req, res, '{"mode": "..."}', (input) => ({
        mode: (state.userInfoMode = parseUserInfoMode(input?.mode)),
      }));
    case 'POST /__mock/signing-alg':
      return handleControl(req, res, '{"alg": "ES256"}', (input) => ({
        alg: (state.signingAlg = parseSigningAlg(input?.alg)),
      }));
    case 'POST /__mock/rotate-keys':
      return sendJson(res, 200, await rotateSigningKeys(state));
    case 'POST /__mock/user':
      return handleControl(req, res, '{"id": "...", "firstname": "..."}', (input) => copyUser((state.user = parseUser(input))));
    case 'GET /__mock/user':
      return sendJson(res, 200, state.user);
    case 'POST /__mock/issue-oidc-code':
      return handleControl(req, res, '{"nonce": "...", "redirect_uri": "..."}', (input) => ({
        code: issueOidcCode(state, { nonce: input?.nonce, redirectUri: input?.redirect_uri, scope: input?.scope ?? 'openid' }),
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
    case `GET ${OIDC_AUTHORIZE_PATH}`:
      return handleOidcPage(state, req, res, path, target(req.url));
    case `POST ${OIDC_AUTHORIZE_PATH}/decide`:
      return handleOidcDecide(state, req, res);
    default:
      return sendText(res, 404, 'Not found\n');
  }
}

/** The query string of a request target, without its `?` ('' when none). */
function target(url = '/') {
  const at = url.indexOf('?');
  return at === -1 ? '' : url.slice(at + 1);
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

/** The mode answering one request at each endpoint that has modes, and that endpoint's answers. */
const ENDPOINTS = {
  authorize: { mode: (state) => pickMode(state.mode), answers: () => AUTHORIZE_ANSWERS },
  token: { mode: (state) => state.tokenMode, answers: () => TOKEN_ANSWERS },
  'oidc-token': { mode: (state) => state.oidcTokenMode, answers: () => OIDC_TOKEN_ANSWERS },
  userinfo: { mode: (state) => state.userInfoMode, answers: () => USERINFO_ANSWERS },
};

/** Reads, records and answers one request to an endpoint with modes, in that endpoint's mode. */
async function handleEndpoint(state, req, res, path, endpoint) {
  const body = await readBody(req);
  const mode = ENDPOINTS[endpoint].mode(state);
  recordRequest(state, { endpoint, method: req.method, path, headers: { ...req.headers }, body: body.text, mode });

  const [name, arg] = splitMode(mode);
  await ENDPOINTS[endpoint].answers()[name]({ state, req, res, body }, arg);
  logRequest(state, req, res, path, mode);
}

function logRequest(state, req, res, path, mode) {
  if (state.log) {
    const status = res.headersSent ? res.statusCode : 'no response';
    // Method, path, status and mode only: never the Authorization header, the body, the query, a code nor a token.
    console.error(`${req.method} ${path} -> ${status}${mode === null ? '' : ` [${mode}]`}`);
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
  if (!entry || entry.flavour !== 'oauth2' || entry.spent || isPast(entry.expireAtMs)) {
    return { status: 400, value: errorBody('Invalid authorization_code.', CODE_INVALID_AUTHORIZATION_CODE) };
  }
  entry.spent = true; // a code works once
  return { status: 200, value: issueTokenPair(state, randomUUID(), entry.user) };
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
  return { status: 200, value: issueTokenPair(state, grant.id, grant.user) };
}

/** A new pair whose refresh token the mock remembers, and whose access token the user-info endpoint takes. */
function issueTokenPair(state, id, user) {
  const { value, refreshExpireAtMs, accessExpireAtMs } = tokenPair(state, id);
  rememberCapped(state.refreshTokens, value.refresh_token, { id, expireAtMs: refreshExpireAtMs, user }, MAX_REFRESH_TOKENS);
  rememberAccessToken(state, value.access_token, { flavour: 'oauth2', user, expireAtMs: accessExpireAtMs });
  return value;
}

function rememberAccessToken(state, token, grant) {
  rememberCapped(state.accessTokens, token, grant, MAX_ACCESS_TOKENS);
}

/** A pair in the provider's shape, its expiry times now + the current lifetimes. */
function tokenPair(state, id) {
  const now = Date.now();
  const accessExpireAtMs = Math.floor(now + state.lifetimes.accessTtlSeconds * 1000);
  const refreshExpireAtMs = Math.floor(now + state.lifetimes.refreshTtlSeconds * 1000);
  return {
    refreshExpireAtMs,
    accessExpireAtMs,
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

/**
 * A fresh code, as the sign-in page's Continue (or the OIDC page's Allow, with `oidc` holding its nonce,
 * redirectUri and scope) hands out: 32 hex characters, valid for codeTtlSeconds, issued to the current user.
 */
function issueCode(state, oidc) {
  const code = randomBytes(16).toString('hex');
  const expireAtMs = Date.now() + state.lifetimes.codeTtlSeconds * 1000;
  const entry = { expireAtMs, spent: false, flavour: oidc ? 'oidc' : 'oauth2', user: copyUser(state.user), ...oidc };
  rememberCapped(state.codes, code, entry, MAX_CODES);
  return code;
}

/** issueCode for the OIDC flavour, its input checked (a control's: it throws on a bad one). */
function issueOidcCode(state, { nonce, redirectUri, scope }) {
  for (const [name, value] of [['nonce', nonce], ['redirectUri', redirectUri], ['scope', scope]]) {
    if (typeof value !== 'string') throw new TypeError(`${name} must be a string`);
  }
  return issueCode(state, { nonce, redirectUri, scope });
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
// OIDC token endpoint and its id_tokens

/**
 * How each id_token mode changes the token: `claims(claims, now)` edits the claims before signing,
 * `stray` signs with a key outside the key set, `token({ key, header, claims })` builds the compact
 * token itself (default: signed as is).
 */
const ID_TOKEN_TWISTS = {
  ok: {},
  'aud-array': { claims: (claims) => void (claims.aud = [claims.aud, OTHER_AUDIENCE]) },
  'expired-in-leeway': { claims: (claims, now) => setTimes(claims, now - 30 - ID_TOKEN_TTL_SECONDS) },
  'iat-future-in-leeway': { claims: (claims, now) => setTimes(claims, now + 30) },
  'wrong-iss': { claims: (claims) => void (claims.iss = OTHER_ISSUER) },
  'wrong-aud': { claims: (claims) => void (claims.aud = OTHER_AUDIENCE) },
  expired: { claims: (claims, now) => setTimes(claims, now - 120 - ID_TOKEN_TTL_SECONDS) },
  'iat-future': { claims: (claims, now) => setTimes(claims, now + 300) },
  'wrong-nonce': { claims: (claims) => void (claims.nonce = randomBytes(32).toString('base64url')) },
  'no-nonce': { claims: (claims) => void delete claims.nonce },
  'no-sub': { claims: (claims) => void delete claims.sub },
  'long-sub': { claims: (claims) => void (claims.sub = 'f'.repeat(256)) },
  'alg-none': { token: ({ claims }) => `${jwtPart({ alg: 'none', typ: 'JWT' })}.${jwtPart(claims)}.` },
  'bad-signature': {
    token: ({ key, header, claims }) => {
      const signingInput = `${jwtPart(header)}.${jwtPart(claims)}`;
      const otherInput = `${jwtPart(header)}.${jwtPart({ ...claims, sub: randomUUID() })}`;
      return `${signingInput}.${jwtSignature(key, otherInput)}`;
    },
  },
  'unknown-kid': { stray: true },
  malformed: { token: ({ header, claims }) => `${jwtPart(header)}.${jwtPart(claims)}` },
  'malformed-base64': {
    token: ({ key, header, claims }) => {
      let payload = jwtPart(claims);
      do payload += 'A';
      while (payload.length % 4 !== 1); // 4n+1 characters: no base64 text is that long
      return signedInput(key, `${jwtPart(header)}.${payload}`);
    },
  },
  'malformed-json': {
    token: ({ key, header }) => signedInput(key, `${jwtPart(header)}.${Buffer.from('{"iss": not json').toString('base64url')}`),
  },
};

/** iat and exp from `iat`, 7 days apart. */
function setTimes(claims, iat) {
  claims.iat = iat;
  claims.exp = iat + ID_TOKEN_TTL_SECONDS;
}

const OIDC_TOKEN_ANSWERS = {
  ...COMMON_ANSWERS,

  ...Object.fromEntries(
    Object.keys(ID_TOKEN_TWISTS).map((mode) => [mode, (ctx) => sendAnswer(ctx.res, oidcTokenOk(ctx, mode))]),
  ),

  'error-200': ({ res }) => sendJson(res, 200, errorBody('Invalid authorization_code.', CODE_INVALID_AUTHORIZATION_CODE)),

  // The real exchange (the code is spent), the id_token left out of the answer.
  'no-id-token': (ctx) => {
    const answer = oidcTokenOk(ctx, 'ok');
    if (answer.status === 200) {
      const { id_token: _dropped, ...rest } = answer.value;
      answer.value = rest;
    }
    sendAnswer(ctx.res, answer);
  },

  slow: (ctx, ms) => answerSlow(ctx, ms, OIDC_TOKEN_ANSWERS.ok),
};

/** The OIDC exchange: Basic, then the body's three members, then the code; the id_token twisted by `mode`. */
function oidcTokenOk({ state, req, body }, mode) {
  if (req.method !== 'POST') {
    return { status: 405, value: errorBody('Method not allowed.', CODE_GENERIC), headers: { Allow: 'POST' } };
  }
  const refused = refuseClientRequest(state, req, body);
  if (refused) return refused;

  const input = parseJsonObject(body.text);
  const errors = {};
  for (const [name, label] of [['code', 'Code'], ['redirect_uri', 'Redirect uri'], ['grant_type', 'Grant type']]) {
    const value = input[name];
    if (value === undefined || value === null || value === '') errors[name] = [`The ${label} field is required.`];
    else if (typeof value !== 'string') errors[name] = [`The ${label} must be a string.`];
  }
  if (!errors.grant_type && input.grant_type !== 'authorization_code') errors.grant_type = ['The selected Grant type is invalid.'];
  if (Object.keys(errors).length) return validationError(errors);

  const entry = state.codes.get(input.code);
  if (!entry || entry.flavour !== 'oidc' || entry.spent || isPast(entry.expireAtMs)) {
    return { status: 400, value: errorBody('Invalid authorization_code.', CODE_INVALID_AUTHORIZATION_CODE) };
  }
  if (entry.redirectUri !== input.redirect_uri) {
    return { status: 400, value: errorBody('Invalid redirect_uri.', CODE_INVALID_AUTHORIZATION_CODE) };
  }
  entry.spent = true; // a code works once

  const expiresIn = Math.floor(state.lifetimes.accessTtlSeconds);
  const accessToken = randomToken();
  rememberAccessToken(state, accessToken, { flavour: 'oidc', user: entry.user, expireAtMs: Date.now() + expiresIn * 1000 });
  return {
    status: 200,
    value: {
      access_token: accessToken,
      expires_in: expiresIn,
      refresh_token: randomToken(), // not remembered: no refresh is documented for this flavour
      token_type: 'Bearer',
      id_token: idToken(state, entry, mode),
    },
  };
}

/** The id_token for a code's grant, as `mode` twists it. */
function idToken(state, grant, mode) {
  const twist = ID_TOKEN_TWISTS[mode];
  const now = nowSeconds();
  const claims = {
    iss: state.issuer,
    sub: grant.user.id,
    aud: state.clientId,
    exp: now + ID_TOKEN_TTL_SECONDS,
    iat: now,
    nonce: grant.nonce,
    ...profileClaims(grant.user, grant.scope),
  };
  twist.claims?.(claims, now);
  const key = (twist.stray ? state.strayKeys : state.keys)[state.signingAlg];
  const header = { alg: key.alg, kid: key.kid, typ: 'JWT' };
  return (twist.token ?? (() => signedInput(key, `${jwtPart(header)}.${jwtPart(claims)}`)))({ key, header, claims });
}

/** The user's profile fields the scope grants: `read.<field>` each, `read.profile` all (those the user has). */
function profileClaims(user, scope) {
  const grants = scope.split(/\s+/);
  const fields = grants.includes('read.profile') ? PROFILE_FIELDS : PROFILE_FIELDS.filter((field) => grants.includes(`read.${field}`));
  return Object.fromEntries(fields.filter((field) => Object.hasOwn(user, field)).map((field) => [field, user[field]]));
}

function jwtPart(value) {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function signedInput(key, signingInput) {
  return `${signingInput}.${jwtSignature(key, signingInput)}`;
}

/** ES256: the raw r || s (IEEE P1363), as JWS wants, not DER; RS256: PKCS #1 v1.5 with SHA-256. */
function jwtSignature(key, signingInput) {
  const options = key.alg === 'ES256' ? { key: key.privateKey, dsaEncoding: 'ieee-p1363' } : key.privateKey;
  return sign('sha256', Buffer.from(signingInput), options).toString('base64url');
}

// ---------------------------------------------------------------------------------------------
// Signing keys and the key set

/** One key per alg of SIGNING_ALGS, made in parallel. */
async function makeSigningKeys() {
  const keys = await Promise.all(SIGNING_ALGS.map((alg) => makeSigningKey(alg)));
  return Object.fromEntries(keys.map((key) => [key.alg, key]));
}

// The keys `unknown-kid` signs with are in no mock's key set: one pair per process is enough, and halves
// what a start costs (an RSA key takes ~0.1-0.5 s to make).
let strayKeys;
function strayKeysOfProcess() {
  strayKeys ??= makeSigningKeys();
  return strayKeys;
}

async function makeSigningKey(alg) {
  const { publicKey, privateKey } =
    alg === 'ES256'
      ? await generateKeyPairAsync('ec', { namedCurve: 'P-256' })
      : await generateKeyPairAsync('rsa', { modulusLength: 2048 });
  const jwk = publicKey.export({ format: 'jwk' }); // public members only: never `d`
  const kid = jwkThumbprint(jwk);
  return { alg, kid, privateKey, publicJwk: Object.freeze({ ...jwk, kid, alg, use: 'sig' }) };
}

/** The RFC 7638 thumbprint: SHA-256 of the required members in lexicographic order, base64url. */
function jwkThumbprint(jwk) {
  const members = jwk.kty === 'EC' ? ['crv', 'kty', 'x', 'y'] : ['e', 'kty', 'n'];
  const canonical = JSON.stringify(Object.fromEntries(members.map((name) => [name, jwk[name]])));
  return createHash('sha256').update(canonical).digest('base64url');
}

function jwks(state) {
  return { keys: SIGNING_ALGS.map((alg) => ({ ...state.keys[alg].publicJwk })) };
}

async function rotateSigningKeys(state) {
  state.keys = await makeSigningKeys();
  return jwks(state);
}

async function handleJwks(state, req, res, path) {
  const body = await readBody(req);
  recordRequest(state, { endpoint: 'jwks', method: req.method, path, headers: { ...req.headers }, body: body.text, mode: null });
  if (req.method === 'GET') sendJson(res, 200, jwks(state));
  else sendJson(res, 405, errorBody('Method not allowed.', CODE_GENERIC), { Allow: 'GET' });
  logRequest(state, req, res, path, null);
}

// ---------------------------------------------------------------------------------------------
// User-info endpoint

// Long values a client must not keep (it keeps strings of at most 256 characters).
const OVERSIZED_CLAIMS = Object.freeze({
  firstname: 'A'.repeat(10 * 1024),
  lastname: 'B'.repeat(1024),
  patronymic: 'C'.repeat(1024),
  email: `${'d'.repeat(1024 - '@example.com'.length)}@example.com`,
  phone: `+7${'0'.repeat(1022)}`,
  identifier: '1'.repeat(1024),
});

// Each field short enough to keep (256, 246, ..., 166 characters), two UTF-8 bytes each: together ~4.2 KB.
const CLAIMS_AT_LIMIT = Object.freeze(
  Object.fromEntries(PROFILE_FIELDS.map((field, i) => [field, '\u0416'.repeat(256 - 10 * i)])),
);

const USERINFO_ANSWERS = {
  ...COMMON_ANSWERS,

  ok: ({ state, req, res }) => sendAnswer(res, userInfoOk(state, req)),

  huge: ({ state, req, res }) => sendHuge(res, userInfoOk(state, req)),

  'huge-chunked': ({ state, req, res }) => sendHugeChunked(res, userInfoOk(state, req)),

  'gzip-bomb': ({ res }) => sendBomb(res, 'gzip', '{"id":"'),

  'mismatched-sub': ({ state, req, res }) => {
    sendAnswer(res, twistUserInfo(userInfoOk(state, req), ({ id, sub: _sub, ...rest }) => ({ id, sub: randomUUID(), ...rest })));
  },

  'oversized-claims': ({ state, req, res }) => {
    sendAnswer(res, twistUserInfo(userInfoOk(state, req), (value) => ({ ...value, ...OVERSIZED_CLAIMS })));
  },

  'claims-at-limit': ({ state, req, res }) => {
    sendAnswer(res, twistUserInfo(userInfoOk(state, req), (value) => ({ ...value, ...CLAIMS_AT_LIMIT })));
  },

  slow: (ctx, ms) => answerSlow(ctx, ms, USERINFO_ANSWERS.ok),
};

/** The user of the Bearer access token: `id` (and `sub` for OIDC tokens) then the user's other members. */
function userInfoOk(state, req) {
  if (req.method !== 'GET') {
    return { status: 405, value: errorBody('Method not allowed.', CODE_GENERIC), headers: { Allow: 'GET' } };
  }
  const [, token] = /^Bearer +(\S+) *$/i.exec(String(req.headers.authorization ?? '')) ?? [];
  if (!token) {
    return { status: 401, value: errorBody('Unauthenticated.', CODE_UNAUTHENTICATED), headers: { 'WWW-Authenticate': 'Bearer' } };
  }
  const grant = state.accessTokens.get(token);
  if (!grant || isPast(grant.expireAtMs)) {
    return {
      status: 401,
      value: errorBody('Unauthenticated.', CODE_UNAUTHENTICATED),
      headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' },
    };
  }
  const { id, ...rest } = grant.user;
  return { status: 200, value: grant.flavour === 'oidc' ? { id, sub: id, ...rest } : { id, ...rest } };
}

/** `change` applied to a 200 answer's value; any other answer (a 401, a 405) as it is. */
function twistUserInfo(answer, change) {
  return answer.status === 200 ? { ...answer, value: change(answer.value) } : answer;
}

// ---------------------------------------------------------------------------------------------
// OIDC authorization page

function handleOidcPage(state, req, res, path, query) {
  recordRequest(state, { endpoint: 'openid', method: req.method, path, query, headers: { ...req.headers }, body: '', mode: null });
  const { request, problems } = validateOidcRequest(state, new URLSearchParams(query));
  if (!request) {
    const items = problems.map((problem) => `<li>${escapeHtml(problem)}</li>`).join('');
    sendHtml(res, 400, page(`<p>This sign-in request cannot be served:</p><ul>${items}</ul>`));
  } else {
    const requestId = randomUUID();
    rememberCapped(state.oidcRequests, requestId, { ...request, expireAt: nowSeconds() + LINK_TTL_SECONDS }, MAX_OIDC_REQUESTS);
    const grants = request.scope.split(/\s+/).filter(Boolean).map((grant) => `<li><code>${escapeHtml(grant)}</code></li>`).join('');
    sendHtml(
      res,
      200,
      page(`
      <p>This is a local stand-in for Freedom ID's OpenID Connect sign-in, signed in as
        <strong>${escapeHtml(displayName(state.user))}</strong>. The app <code>${escapeHtml(request.clientId)}</code>
        asks for these grants, and will have you back at <code>${escapeHtml(request.redirectUri)}</code>:</p>
      <ul>${grants}</ul>
      <form method="post" action="${OIDC_AUTHORIZE_PATH}/decide">
        <input type="hidden" name="request_id" value="${escapeHtml(requestId)}">
        <button name="decision" value="allow">Allow</button>
        <button name="decision" value="decline">Decline</button>
      </form>`),
    );
  }
  logRequest(state, req, res, path, null);
}

/** The six parameters, each once and non-empty, and their rules; every problem named. */
function validateOidcRequest(state, params) {
  const problems = [];
  const values = {};
  for (const name of OIDC_PARAMETERS) {
    const all = params.getAll(name);
    if (all.length > 1) problems.push(`${name} is given ${all.length} times.`);
    else if (!all[0]) problems.push(`${name} is required.`);
    else values[name] = all[0];
  }
  const { scope, state: flowState, response_type: responseType, client_id: clientId, redirect_uri: redirectUri, nonce } = values;
  if (responseType !== undefined && responseType !== 'code') problems.push('response_type must be code.');
  if (scope !== undefined && !scope.split(/\s+/).includes('openid')) problems.push('scope must hold the openid grant.');
  if (clientId !== undefined && clientId !== state.clientId) problems.push('client_id is not a client of this Freedom ID.');
  if (redirectUri !== undefined && !isRedirectUri(redirectUri)) {
    problems.push('redirect_uri must be an absolute http or https URL without a fragment.');
  }
  return problems.length ? { problems } : { problems, request: { scope, state: flowState, clientId, redirectUri, nonce } };
}

function isRedirectUri(text) {
  let url;
  try {
    url = new URL(text);
  } catch {
    return false;
  }
  return (url.protocol === 'https:' || url.protocol === 'http:') && !text.includes('#');
}

/** "First Last" when the user has either as a string, else the id. */
function displayName(user) {
  const name = [user.firstname, user.lastname].filter((part) => typeof part === 'string' && part).join(' ');
  return name || String(user.id);
}

/** The remembered request, or undefined if unknown or expired. */
function findOidcRequest(state, requestId) {
  const request = requestId ? state.oidcRequests.get(requestId) : undefined;
  if (request && request.expireAt < nowSeconds()) {
    state.oidcRequests.delete(requestId);
    return undefined;
  }
  return request;
}

async function handleOidcDecide(state, req, res) {
  const body = await readBody(req);
  if (body.tooLarge) return sendText(res, 413, 'Payload too large\n');

  const form = new URLSearchParams(body.text);
  const requestId = form.get('request_id');
  const decision = form.get('decision');
  const request = findOidcRequest(state, requestId);
  if (!request) {
    return sendHtml(res, 404, page('<p>This sign-in request is unknown or expired. Start the sign-in again from the app.</p>'));
  }
  if (decision !== 'allow' && decision !== 'decline') {
    return sendHtml(res, 400, page('<p>Choose <strong>Allow</strong> or <strong>Decline</strong>.</p>'));
  }

  state.oidcRequests.delete(requestId); // a request is decided once
  const { redirectUri, nonce, scope } = request;
  const [name, value] = decision === 'allow' ? ['code', issueCode(state, { nonce, redirectUri, scope })] : ['error', 'access_denied'];
  const location = appendQueryParam(appendQueryParam(redirectUri, name, value), 'state', request.state);
  res.writeHead(303, { Location: headerSafe(location), 'Content-Length': 0 });
  res.end();
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
    button[value="continue"], button[value="allow"] { background: #1f6f43; color: #fff; }
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
    issuer: process.env.MOCK_ISSUER || undefined,
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
