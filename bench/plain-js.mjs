// The benchmark's plain-JS twins of the npm package's createAuthorizationLink, completeSignIn
// (the OAuth2 flavour) and verifyGateAssertion: the same calls with the runtime's fetch and
// WebCrypto, the same options and results, the checks that are cheap in JS. No dependencies;
// runs in Node, Deno and Bun.
//
// createAuthorizationLink: options checked (strings present, grants syntax, http(s) URLs), a
// fresh 256-bit state appended to redirectUri, the authorize POST (Basic header, JSON body, no
// redirects, timeout over the whole answer, `Accept-Encoding: identity`), a 2xx with at most
// 64 KiB of JSON object without `error`, the link on the authorize URL's scheme, host and port
// (no userinfo, plain ASCII); answers {url, trackId, expireAt, state}.
// completeSignIn: the callback's state compared in constant time before anything is sent,
// `error_code` refused, the code exchanged, the token pair checked (token text, ISO-8601 UTC
// expiry times); with userInfoUrl the user-info call (bearer GET, 401/403 USERINFO_REJECTED, a
// JSON object) and the user from it (an id, each profile field a string of at most 256
// characters); answers {id, accessToken, refreshToken, accessExpiresAt, refreshExpiresAt, user,
// idToken: null, idTokenClaims: null}. The OIDC flavour is the Worker twin's (js-worker/worker.js).
// Errors carry the package's codes. Left out: the full option rules of the Rust core (whitespace,
// ranges, URL rules beyond the scheme) and the strict JSON reader's duplicate members.
const DEFAULT_AUTHORIZE_URL = 'https://passport.freedompay.kz/api/v1/oauth/authorize';
const DEFAULT_TOKEN_URL = 'https://passport.freedompay.kz/api/v1/oauth/token';
const MAX_BODY = 64 * 1024;
const GRANT = /^(openid|[a-z0-9_]+\.[a-z0-9_]+)$/;
const PLAIN_URL = /^[\x21-\x7e]+$/;
const TOKEN_TEXT = /^[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]{1,4096}$/;
const ID_TEXT = /^[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]{1,256}$/;
const isToken = (text) => typeof text === 'string' && TOKEN_TEXT.test(text);
const isId = (text) => typeof text === 'string' && ID_TEXT.test(text);
const UTC_INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|\+00:00)$/;
const decoder = new TextDecoder('utf-8', { fatal: true });

const fail = (code, message, extra = {}) => Object.assign(new Error(message), { code, ...extra });

function endpoint(text, name) {
  let url;
  try {
    url = new URL(text);
  } catch {
    throw fail('INVALID_OPTIONS', `${name} is not a URL`);
  }
  const loopback = url.hostname === '127.0.0.1' || url.hostname === 'localhost';
  if (!PLAIN_URL.test(text) || url.username || url.password || !(url.protocol === 'https:' || (url.protocol === 'http:' && loopback))) {
    throw fail('INVALID_OPTIONS', `${name} must be https`);
  }
  return url;
}

function credentials(clientId, clientSecret) {
  if (typeof clientId !== 'string' || !clientId || clientId.includes(':')) throw fail('INVALID_OPTIONS', 'clientId');
  if (typeof clientSecret !== 'string' || !clientSecret) throw fail('INVALID_OPTIONS', 'clientSecret');
  return `Basic ${btoa(`${clientId}:${clientSecret}`)}`;
}

const base64url = (bytes) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

/** One upstream call: no redirects, the timeout over the whole answer, at most 64 KiB. */
async function send(url, init, timeoutMs) {
  let response;
  let bytes;
  try {
    response = await fetch(url, {
      ...init,
      headers: { ...init.headers, Accept: 'application/json', 'Accept-Encoding': 'identity' },
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (Number(response.headers.get('content-length') ?? 0) > MAX_BODY) {
      await response.body?.cancel();
      throw fail('UPSTREAM_MALFORMED', 'answer too large');
    }
    bytes = await readCapped(response);
  } catch (error) {
    if (error.code) throw error;
    throw error?.name === 'TimeoutError' ? fail('UPSTREAM_TIMEOUT', 'no answer in time') : fail('UPSTREAM_NETWORK', 'network error');
  }
  return { status: response.status, text: decoder.decode(bytes) };
}

/**
 * The body as a stream, counting decoded bytes, as the package reads it (a compressed answer
 * can never grow past the cap in memory; one `arrayBuffer()` would buffer it whole).
 */
async function readCapped(response) {
  if (response.body === null) return new Uint8Array(0);
  const reader = response.body.getReader();
  const chunks = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > MAX_BODY) {
      await reader.cancel();
      throw fail('UPSTREAM_MALFORMED', 'answer too large');
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0];
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return bytes;
}

function jsonObject(text) {
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    throw fail('UPSTREAM_MALFORMED', 'not JSON');
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw fail('UPSTREAM_MALFORMED', 'not a JSON object');
  return body;
}

export async function createAuthorizationLink({ clientId, clientSecret, redirectUri, grants, authorizeUrl = DEFAULT_AUTHORIZE_URL, timeoutMs = 5000, state } = {}) {
  const authorization = credentials(clientId, clientSecret);
  const redirect = endpoint(redirectUri, 'redirectUri');
  const authorize = endpoint(authorizeUrl, 'authorizeUrl');
  if (!Array.isArray(grants) || !grants.length || !grants.every((grant) => typeof grant === 'string' && GRANT.test(grant))) {
    throw fail('INVALID_OPTIONS', 'grants');
  }
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 60_000) throw fail('INVALID_OPTIONS', 'timeoutMs');
  const linkState = state === false ? null : typeof state === 'string' ? state : base64url(crypto.getRandomValues(new Uint8Array(32)));
  const sentRedirect = linkState === null ? redirect.href : `${redirect.href}${redirect.search ? '&' : '?'}state=${encodeURIComponent(linkState)}`;
  const reply = await send(
    authorize.href,
    { method: 'POST', headers: { Authorization: authorization, 'Content-Type': 'application/json' }, body: JSON.stringify({ redirect_uri: sentRedirect, grants: [...new Set(grants)] }) },
    timeoutMs,
  );
  if (reply.status < 200 || reply.status > 299) throw fail('UPSTREAM_STATUS', `Freedom ID answered ${reply.status}`, { status: reply.status });
  const body = jsonObject(reply.text);
  if ('error' in body) throw fail('UPSTREAM_STATUS', 'Freedom ID answered an error', { status: reply.status });
  const link = body.redirect_uri;
  if (typeof link !== 'string') throw fail('UPSTREAM_MALFORMED', 'no redirect_uri');
  let url;
  try {
    url = new URL(link);
  } catch {
    throw fail('UNTRUSTED_LINK', 'not a URL');
  }
  if (!PLAIN_URL.test(link) || url.username || url.password || url.origin !== authorize.origin) throw fail('UNTRUSTED_LINK', 'untrusted link');
  const expireAt = url.searchParams.get('expire_at');
  return { url: link, trackId: url.searchParams.get('track_id'), expireAt: expireAt !== null && /^\d+$/.test(expireAt) ? Number(expireAt) : null, state: linkState };
}

function constantTimeEqual(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

function instant(text) {
  const match = typeof text === 'string' ? UTC_INSTANT.exec(text) : null;
  if (!match) return null;
  const ms = Date.UTC(+match[1], +match[2] - 1, +match[3], +match[4], +match[5], +match[6]);
  return Number.isFinite(ms) && new Date(ms).getUTCDate() === +match[3] ? Math.floor(ms / 1000) : null;
}

const PROFILE_FIELDS = ['firstname', 'lastname', 'patronymic', 'email', 'phone', 'date_of_birth', 'gender', 'country', 'nationality', 'identifier'];
const USER_ID = /^[\x21\x23-\x5b\x5d-\x7e]{1,255}$/; // header-safe: visible ASCII but " and \
const kept = (value) => (typeof value === 'string' && (value.length <= 256 || [...value].length <= 256) ? value : undefined);

/** The user-info call with the access token, and the user from its answer. */
async function fetchUser(userInfo, accessToken, timeoutMs) {
  const reply = await send(userInfo.href, { method: 'GET', headers: { Authorization: `Bearer ${accessToken}` } }, timeoutMs);
  if (reply.status === 401 || reply.status === 403) throw fail('USERINFO_REJECTED', 'Freedom ID refused the token', { status: reply.status });
  if (reply.status < 200 || reply.status > 299) throw fail('UPSTREAM_STATUS', `Freedom ID answered ${reply.status}`, { status: reply.status });
  const info = jsonObject(reply.text);
  const id = typeof info.id === 'string' ? info.id : Number.isSafeInteger(info.id) && info.id >= 0 ? String(info.id) : null;
  if (id === null || !USER_ID.test(id)) throw fail('UPSTREAM_MALFORMED', 'no user id');
  const user = { id };
  for (const field of PROFILE_FIELDS) {
    const value = kept(info[field]);
    if (value !== undefined) user[field] = value;
  }
  return user;
}

export async function completeSignIn({ clientId, clientSecret, callbackUrl, expectedState, tokenUrl = DEFAULT_TOKEN_URL, userInfoUrl, timeoutMs = 5000 } = {}) {
  const authorization = credentials(clientId, clientSecret);
  const token = endpoint(tokenUrl, 'tokenUrl');
  const userInfo = userInfoUrl === undefined ? null : endpoint(userInfoUrl, 'userInfoUrl');
  if (typeof callbackUrl !== 'string' || !PLAIN_URL.test(callbackUrl)) throw fail('INVALID_OPTIONS', 'callbackUrl');
  if (expectedState !== false && (typeof expectedState !== 'string' || !expectedState)) throw fail('INVALID_OPTIONS', 'expectedState');
  let params;
  try {
    params = new URL(callbackUrl, 'http://callback.invalid').searchParams;
  } catch {
    throw fail('INVALID_OPTIONS', 'callbackUrl');
  }
  if (expectedState !== false) {
    const state = params.get('state');
    if (state === null || !constantTimeEqual(state, expectedState)) throw fail('STATE_MISMATCH', 'the state differs');
  }
  if (params.has('error_code')) throw fail('SIGN_IN_DECLINED', 'declined', { freedomIdErrorCode: params.get('error_code') });
  const code = params.get('authorization_code');
  if (!code) throw fail('CODE_REJECTED', 'no code');
  const reply = await send(
    token.href,
    { method: 'POST', headers: { Authorization: authorization, 'Content-Type': 'application/json' }, body: JSON.stringify({ authorization_code: code }) },
    timeoutMs,
  );
  if (reply.status >= 400 && reply.status < 500) throw fail('CODE_REJECTED', 'code refused', { status: reply.status });
  if (reply.status < 200 || reply.status > 299) throw fail('UPSTREAM_STATUS', `Freedom ID answered ${reply.status}`, { status: reply.status });
  const body = jsonObject(reply.text);
  if ('error' in body) throw fail('CODE_REJECTED', 'code refused', { status: reply.status });
  const { id = null, access_token: accessToken, refresh_token: refreshToken } = body;
  if (!isToken(accessToken) || !isToken(refreshToken) || (id !== null && !isId(id))) throw fail('UPSTREAM_MALFORMED', 'bad tokens');
  const accessExpiresAt = instant(body.access_expire_at);
  const refreshExpiresAt = instant(body.refresh_expire_at);
  if (accessExpiresAt === null || refreshExpiresAt === null) throw fail('UPSTREAM_MALFORMED', 'bad expiry');
  const user = userInfo ? await fetchUser(userInfo, accessToken, timeoutMs) : null;
  return { id, accessToken, refreshToken, accessExpiresAt, refreshExpiresAt, user, idToken: null, idTokenClaims: null };
}

// verifyGateAssertion: the compact JWS split and read (3 base64url parts, JSON header and
// claims), `alg` exactly ES256, the `kid` found in the given key set (imported once per key and
// kept), the ECDSA P-256 signature checked by WebCrypto, then iss, aud, exp and iat with the
// tolerance; answers {sub, sid, user, iat, exp}. The twin of the package's call with `jwks`
// given inline (the key set fetch and its cache are left out: the benchmark measures the check).
const imported = new WeakMap();
const fromB64 = (text) => Buffer.from(text, 'base64url');
export async function verifyGateAssertion(assertion, { jwks, issuer, audience, clockToleranceSec = 5 } = {}) {
  const invalid = (problem) => fail('ASSERTION_INVALID', `the gate's assertion failed its ${problem} check`, { details: { problem } });
  if (typeof issuer !== 'string' || !issuer || typeof audience !== 'string' || !audience || !Array.isArray(jwks?.keys)) throw fail('INVALID_OPTIONS', 'options');
  if (typeof assertion !== 'string' || assertion.length > 16384) throw invalid('malformed');
  const parts = assertion.split('.');
  if (parts.length !== 3 || !parts.every((part) => /^[A-Za-z0-9_-]+$/.test(part))) throw invalid('malformed');
  let header, claims;
  try {
    header = JSON.parse(decoder.decode(fromB64(parts[0])));
    claims = JSON.parse(decoder.decode(fromB64(parts[1])));
  } catch {
    throw invalid('malformed');
  }
  if (header?.alg !== 'ES256') throw invalid('alg');
  const jwk = jwks.keys.find((key) => key.kid === header.kid && key.kty === 'EC' && key.crv === 'P-256');
  if (!jwk) throw invalid('kid');
  let key = imported.get(jwk);
  if (!key) {
    key = await crypto.subtle.importKey('jwk', { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y }, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
    imported.set(jwk, key);
  }
  const signed = new TextEncoder().encode(`${parts[0]}.${parts[1]}`);
  if (!(await crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, fromB64(parts[2]), signed))) throw invalid('signature');
  if (claims?.iss !== issuer) throw invalid('iss');
  if (!(claims.aud === audience || (Array.isArray(claims.aud) && claims.aud.includes(audience)))) throw invalid('aud');
  const now = Math.floor(Date.now() / 1000);
  if (!Number.isInteger(claims.exp) || claims.exp <= now - clockToleranceSec) throw invalid('exp');
  if (!Number.isInteger(claims.iat) || claims.iat > now + clockToleranceSec) throw invalid('iat');
  return { sub: claims.sub ?? null, sid: claims.sid ?? null, user: claims.user ?? null, iat: claims.iat, exp: claims.exp };
}
