// The benchmark's JS twin of the Rust Worker: every route a user pays for, doing the same work
// with the same Web APIs, in plain JavaScript (an ES module Worker, no dependencies).
//
//   GET /login     fresh 256-bit state appended to the redirect URI, the authorize POST, the
//                  answer checked (2xx, 64 KiB cap, JSON object, no `error`, the link's scheme,
//                  host and port equal to the authorize URL's, no userinfo, plain ASCII), a
//                  sealed flow cookie named after the state (older ones beyond 3 expired), 302.
//                  With FREEDOM_ID_PROTOCOL=oidc: a fresh 256-bit state and nonce, the
//                  authorization URL built here (FREEDOM_ID_OIDC_AUTHORIZE_URL, the six
//                  parameters percent-encoded as src/base/url.rs does), both sealed in the flow
//                  cookie, 302, no upstream call. Its OIDC /callback is not here (issue #23).
//   GET /callback  the flow cookie the state names opened, the states compared in constant time
//                  before the code is spent, the code exchanged, the token pair checked (token
//                  text, ISO-8601 UTC expiry times), sealed into the session cookie, 303
//   GET /session   the session cookie opened (dead marker, expiry), refreshed when due (one
//                  shared PATCH per sealed cookie in this isolate, remembered for a minute),
//                  resealed, {"signedIn": ...}
//   guarded paths  (FREEDOM_ID_PROTECT) the same lookup, then the request forwarded to
//                  FREEDOM_ID_APP_ORIGIN: our cookies and every X-Freedom-ID-* header removed,
//                  the identity headers added, the body streamed, the answer streamed back
//
// Sealed cookies exactly as the Rust Worker makes them (src/session/seal.rs, src/drivers/webcrypto.rs):
// HKDF-SHA256 (empty salt, info "freedom-id-edge cookie seal v1") -> AES-256-GCM, derived
// once per isolate; a fresh 96-bit IV per seal; the cookie's name as associated data;
// base64url(version 1 || IV || ciphertext and tag). Each twin opens the other's cookies.
//
// What it leaves out (see bench/README.md): the settings' full validation (it checks what is
// cheap), the strict JSON reader's duplicate-member rules, the localized HTML error pages,
// /healthz, /logout, /revoke, the start page and the event log lines.
const SESSION = '__Host-freedom_id_session';
const FLOW_PREFIX = '__Host-freedom_id_flow_';
const DEAD = '__Host-freedom_id_dead';
const ATTRIBUTES = 'Path=/; HttpOnly; Secure; SameSite=Lax';
const FLOW_MAX_AGE = 15 * 60;
const MAX_SESSION_AGE = 30 * 24 * 60 * 60;
const REFRESH_LEEWAY = 60;
const MAX_BODY = 64 * 1024;
const SHARED_MS = 60_000;
const HKDF_INFO = new TextEncoder().encode('freedom-id-edge cookie seal v1');
const DEFAULT_AUTHORIZE_URL = 'https://passport.freedompay.kz/api/v1/oauth/authorize';
const DEFAULT_TOKEN_URL = 'https://passport.freedompay.kz/api/v1/oauth/token';
const DEFAULT_OIDC_AUTHORIZE_URL = 'https://passport.freedompay.kz/openid';
const GRANT = /^(openid|[a-z0-9_]+\.[a-z0-9_]+)$/;
const PLAIN_URL = /^[\x21-\x7e]+$/; // ASCII, no spaces or controls
const TOKEN_TEXT = /^[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]{1,4096}$/; // visible ASCII but " \ , ;
const ID_TEXT = /^[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]{1,256}$/;
const isToken = (text) => typeof text === 'string' && TOKEN_TEXT.test(text);
const isId = (text) => typeof text === 'string' && ID_TEXT.test(text);
const UTC_INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|\+00:00)$/;
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

// ---------------------------------------------------------------------------------------------
// Settings: read and checked once per isolate, as the Rust Worker does.

let settings;
function settingsFor(env) {
  if (settings) return settings;
  const problems = [];
  const url = (name, fallback) => {
    const text = env[name] ?? fallback;
    try {
      const parsed = new URL(text);
      const loopback = parsed.hostname === '127.0.0.1' || parsed.hostname === 'localhost';
      if (!PLAIN_URL.test(text) || parsed.username || parsed.password || !(parsed.protocol === 'https:' || (parsed.protocol === 'http:' && loopback))) throw new Error();
      return parsed;
    } catch {
      problems.push(name);
      return null;
    }
  };
  const grants = [...new Set(String(env.FREEDOM_ID_GRANTS ?? '').split(/[\s,]+/).filter(Boolean))];
  if (!grants.length || !grants.every((grant) => GRANT.test(grant))) problems.push('FREEDOM_ID_GRANTS');
  const clientId = String(env.FREEDOM_ID_CLIENT_ID ?? '');
  const clientSecret = String(env.FREEDOM_ID_CLIENT_SECRET ?? '');
  if (!clientId || clientId.includes(':') || clientId.trim() !== clientId) problems.push('FREEDOM_ID_CLIENT_ID');
  if (!clientSecret || clientSecret.trim() !== clientSecret) problems.push('FREEDOM_ID_CLIENT_SECRET');
  const secrets = String(env.FREEDOM_ID_SESSION_SECRET ?? '').split(' ');
  if (!secrets.length || secrets.length > 2 || secrets.some((secret) => secret.length < 32)) problems.push('FREEDOM_ID_SESSION_SECRET');
  const timeoutMs = Number(env.FREEDOM_ID_TIMEOUT_MS ?? 5000);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 60_000) problems.push('FREEDOM_ID_TIMEOUT_MS');
  const protect = String(env.FREEDOM_ID_PROTECT ?? '').split(/\s+/).filter(Boolean).map((prefix) => prefix.replace(/\/+$/, '') || '/');
  if (protect.some((prefix) => !prefix.startsWith('/') || prefix.startsWith('//'))) problems.push('FREEDOM_ID_PROTECT');
  const protocol = env.FREEDOM_ID_PROTOCOL ?? 'oauth2';
  if (protocol !== 'oauth2' && protocol !== 'oidc') problems.push('FREEDOM_ID_PROTOCOL');
  if (protocol === 'oidc' && !grants.includes('openid')) problems.push('FREEDOM_ID_GRANTS');
  if (protocol === 'oidc' && (env.FREEDOM_ID_STATE ?? 'on') !== 'on') problems.push('FREEDOM_ID_STATE');
  settings = {
    protocol,
    oidcAuthorizeUrl: protocol === 'oidc' ? url('FREEDOM_ID_OIDC_AUTHORIZE_URL', DEFAULT_OIDC_AUTHORIZE_URL) : null,
    problems,
    clientId,
    basic: `Basic ${btoa(`${clientId}:${clientSecret}`)}`,
    redirectUri: url('FREEDOM_ID_REDIRECT_URI'),
    authorizeUrl: url('FREEDOM_ID_AUTHORIZE_URL', DEFAULT_AUTHORIZE_URL),
    tokenUrl: url('FREEDOM_ID_TOKEN_URL', DEFAULT_TOKEN_URL),
    appOrigin: env.FREEDOM_ID_APP_ORIGIN ? url('FREEDOM_ID_APP_ORIGIN') : null,
    afterSignIn: env.FREEDOM_ID_AFTER_SIGN_IN || '/',
    grants,
    timeoutMs,
    protect,
    keys: null,
    secrets,
  };
  return settings;
}

/** The AES-GCM keys (the first seals, every one opens), derived on first use. */
function keys(config) {
  config.keys ??= Promise.all(
    config.secrets.map(async (secret) => {
      const base = await crypto.subtle.importKey('raw', encoder.encode(secret), 'HKDF', false, ['deriveKey']);
      return crypto.subtle.deriveKey(
        { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: HKDF_INFO },
        base,
        { name: 'AES-GCM', length: 256 },
        false,
        ['encrypt', 'decrypt'],
      );
    }),
  );
  return config.keys;
}

// ---------------------------------------------------------------------------------------------
// Sealed cookies

const toBase64Url = Uint8Array.prototype.toBase64
  ? (bytes) => bytes.toBase64({ alphabet: 'base64url', omitPadding: true })
  : (bytes) => {
      let binary = '';
      for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
      return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    };
const fromBase64Url = Uint8Array.fromBase64
  ? (text) => Uint8Array.fromBase64(text, { alphabet: 'base64url', lastChunkHandling: 'loose' })
  : (text) => Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));

async function seal(config, name, plaintext) {
  const [key] = await keys(config);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: encoder.encode(name) }, key, encoder.encode(plaintext)));
  const out = new Uint8Array(13 + sealed.length);
  out[0] = 1;
  out.set(iv, 1);
  out.set(sealed, 13);
  return toBase64Url(out);
}

/** The IV and ciphertext of a version-1 sealed value, or null. */
function unpack(value) {
  if (!value || value.length > 4096 || !/^[A-Za-z0-9_-]+$/.test(value)) return null;
  let bytes;
  try {
    bytes = fromBase64Url(value);
  } catch {
    return null;
  }
  if (bytes[0] !== 1 || bytes.length < 1 + 12 + 16) return null;
  return { iv: bytes.subarray(1, 13), ciphertext: bytes.subarray(13) };
}

/** The JSON a sealed value holds, opened with any key, or null. */
async function open(config, name, value) {
  const packed = unpack(value);
  if (!packed) return null;
  for (const key of await keys(config)) {
    try {
      const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: packed.iv, additionalData: encoder.encode(name) }, key, packed.ciphertext);
      const parsed = JSON.parse(decoder.decode(plain));
      return parsed && typeof parsed === 'object' ? parsed : null;
    } catch {
      // another key may open it
    }
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Small helpers

function cookies(header) {
  const pairs = [];
  for (const part of (header ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at !== -1) pairs.push([part.slice(0, at).trim(), part.slice(at + 1).trim()]);
  }
  return pairs;
}
const cookieValue = (pairs, name) => pairs.find(([key]) => key === name)?.[1];
const setCookie = (name, value, maxAge) => `${name}=${value}; ${ATTRIBUTES}; Max-Age=${maxAge}`;
const clearCookie = (name) => setCookie(name, '', 0);
const nowSecs = () => Math.floor(Date.now() / 1000);

function constantTimeEqual(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** A path on this site (one leading /, not // or /\, no whitespace or controls), or null. */
function localPath(path) {
  if (typeof path !== 'string' || path.length > 1024 || !path.startsWith('/') || path.startsWith('//') || path.startsWith('/\\')) return null;
  if (/[\x00-\x20\x7f]|%(0|1)[0-9a-f]|%7f|%20/i.test(path)) return null;
  return path;
}

function answer(status, headers, body = null) {
  return new Response(body, { status, headers: { ...headers, 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' } });
}

function problem(status, code, extraCookies = []) {
  const headers = new Headers({ 'Content-Type': 'application/problem+json', 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
  for (const line of extraCookies) headers.append('Set-Cookie', line);
  return new Response(JSON.stringify({ type: `urn:freedom-id-edge:error:${code}`, status, code }), { status, headers });
}

function withCookies(response, lines) {
  for (const line of lines) response.headers.append('Set-Cookie', line);
  return response;
}

/** One upstream call: no redirects, the timeout over the whole answer, at most 64 KiB of body. */
async function send(config, url, init) {
  const response = await fetch(url, {
    ...init,
    headers: { ...init.headers, Accept: 'application/json', 'Accept-Encoding': 'identity' },
    redirect: 'manual',
    signal: AbortSignal.timeout(config.timeoutMs),
  });
  const declared = Number(response.headers.get('content-length') ?? 0);
  if (declared > MAX_BODY) {
    await response.body?.cancel();
    throw Object.assign(new Error('too large'), { code: 'UPSTREAM_MALFORMED', status: response.status });
  }
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (bytes.length > MAX_BODY) throw Object.assign(new Error('too large'), { code: 'UPSTREAM_MALFORMED', status: response.status });
  return { status: response.status, text: decoder.decode(bytes) };
}

function upstreamFailure(error) {
  if (error?.name === 'TimeoutError') return problem(504, 'UPSTREAM_TIMEOUT');
  return problem(502, error?.code ?? 'UPSTREAM_NETWORK');
}

const instant = (text) => {
  const match = typeof text === 'string' ? UTC_INSTANT.exec(text) : null;
  if (!match) return null;
  const ms = Date.UTC(+match[1], +match[2] - 1, +match[3], +match[4], +match[5], +match[6]);
  return Number.isFinite(ms) && new Date(ms).getUTCDate() === +match[3] ? Math.floor(ms / 1000) : null;
};

/** A token answer's pair, or a `code` to fail with. */
function readTokens(status, text, refusal) {
  if (status >= 400 && status < 500) return { code: refusal };
  if (status < 200 || status > 299) return { code: 'UPSTREAM_STATUS' };
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    return { code: 'UPSTREAM_MALFORMED' };
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) return { code: 'UPSTREAM_MALFORMED' };
  if ('error' in body) return { code: refusal };
  const { id = null, access_token: access, refresh_token: refresh } = body;
  if (!isToken(access) || !isToken(refresh) || (id !== null && !isId(id))) return { code: 'UPSTREAM_MALFORMED' };
  const ae = instant(body.access_expire_at);
  const re = instant(body.refresh_expire_at);
  if (ae === null || re === null) return { code: 'UPSTREAM_MALFORMED' };
  return { tokens: { i: id, a: access, r: refresh, ae, re } };
}

function readSession(opened) {
  if (!opened) return null;
  const { i, a, r, ae, re } = opened;
  const whole = (n) => Number.isSafeInteger(n) && n >= 0;
  if (!isToken(a) || !isToken(r) || !whole(ae) || !whole(re) || !(i === null || typeof i === 'string')) return null;
  return opened;
}

async function sessionCookie(config, tokens) {
  const maxAge = Math.min(tokens.re - nowSecs(), MAX_SESSION_AGE);
  if (maxAge <= 0) return null;
  return setCookie(SESSION, await seal(config, SESSION, JSON.stringify(tokens)), maxAge);
}

// ---------------------------------------------------------------------------------------------
// Routes

/** The flow cookie named after `state`, older ones beyond 3 expired, and 302 to `location`. */
async function bindFlow(config, url, jar, state, nonce, location) {
  const name = `${FLOW_PREFIX}${state.slice(0, 16)}`;
  const flow = JSON.stringify({ s: state, r: localPath(url.searchParams.get('return_to')), t: nowSecs(), ...(nonce ? { n: nonce } : {}) });
  const sealed = await seal(config, name, flow);
  const earlier = [...new Set(jar.filter(([key]) => key.startsWith(FLOW_PREFIX)).map(([key]) => key))];
  const headers = new Headers({ Location: location, 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer' });
  for (const old of earlier.slice(0, Math.max(0, earlier.length - 2))) headers.append('Set-Cookie', clearCookie(old));
  headers.append('Set-Cookie', setCookie(name, sealed, FLOW_MAX_AGE));
  return new Response(null, { status: 302, headers });
}

/** Percent-encodes all but RFC 3986's unreserved characters, as src/base/url.rs does. */
const encodeParam = (text) => encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** `/login` in the OIDC flavour: a fresh state and nonce in the flow cookie, the URL built here, no upstream call. */
async function loginOidc(config, url, jar) {
  const state = toBase64Url(crypto.getRandomValues(new Uint8Array(32)));
  const nonce = toBase64Url(crypto.getRandomValues(new Uint8Array(32)));
  const base = config.oidcAuthorizeUrl.href;
  const query = [['scope', config.grants.join(' ')], ['state', state], ['response_type', 'code'], ['client_id', config.clientId], ['redirect_uri', config.redirectUri.href], ['nonce', nonce]]
    .map(([name, value]) => `${name}=${encodeParam(value)}`)
    .join('&');
  return bindFlow(config, url, jar, state, nonce, `${base}${config.oidcAuthorizeUrl.search ? '&' : '?'}${query}`);
}

async function login(config, url, jar) {
  if (config.protocol === 'oidc') return loginOidc(config, url, jar);
  const state = toBase64Url(crypto.getRandomValues(new Uint8Array(32)));
  const redirectUri = `${config.redirectUri.href}${config.redirectUri.search ? '&' : '?'}state=${state}`;
  let reply;
  try {
    reply = await send(config, config.authorizeUrl.href, {
      method: 'POST',
      headers: { Authorization: config.basic, 'Content-Type': 'application/json' },
      body: JSON.stringify({ redirect_uri: redirectUri, grants: config.grants }),
    });
  } catch (error) {
    return upstreamFailure(error);
  }
  if (reply.status < 200 || reply.status > 299) return problem(502, 'UPSTREAM_STATUS');
  let body;
  try {
    body = JSON.parse(reply.text);
  } catch {
    return problem(502, 'UPSTREAM_MALFORMED');
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) return problem(502, 'UPSTREAM_MALFORMED');
  if ('error' in body) return problem(502, 'UPSTREAM_STATUS');
  const link = body.redirect_uri;
  if (typeof link !== 'string') return problem(502, 'UPSTREAM_MALFORMED');
  let target;
  try {
    target = new URL(link);
  } catch {
    return problem(502, 'UNTRUSTED_LINK');
  }
  if (!PLAIN_URL.test(link) || target.username || target.password || target.origin !== config.authorizeUrl.origin) return problem(502, 'UNTRUSTED_LINK');
  return bindFlow(config, url, jar, state, null, target.href);
}

async function callback(config, url, jar) {
  const params = url.searchParams;
  const state = params.get('state');
  const flowName = state === null ? null : `${FLOW_PREFIX}${state.slice(0, 16)}`;
  const flowValue = flowName && cookieValue(jar, flowName);
  const clearFlow = flowValue === undefined || flowValue === null ? [] : [clearCookie(flowName)];
  const flow = flowValue ? await open(config, flowName, flowValue) : null;
  const now = nowSecs();
  const live = flow && typeof flow.s === 'string' && Number.isSafeInteger(flow.t) && now < flow.t + FLOW_MAX_AGE && now + 60 >= flow.t;
  if (!live || !flow.s || state === null || !constantTimeEqual(state, flow.s)) return problem(403, 'STATE_MISMATCH', clearFlow);
  if (params.has('error_code')) return problem(403, 'SIGN_IN_DECLINED', clearFlow);
  const code = params.get('authorization_code');
  if (!code) return problem(400, 'CODE_REJECTED', clearFlow);
  let reply;
  try {
    reply = await send(config, config.tokenUrl.href, {
      method: 'POST',
      headers: { Authorization: config.basic, 'Content-Type': 'application/json' },
      body: JSON.stringify({ authorization_code: code }),
    });
  } catch (error) {
    return upstreamFailure(error);
  }
  const { tokens, code: failure } = readTokens(reply.status, reply.text, 'CODE_REJECTED');
  if (failure === 'CODE_REJECTED') return problem(400, failure, clearFlow);
  if (failure) return problem(502, failure);
  const session = await sessionCookie(config, tokens);
  if (!session) return problem(500, 'MISCONFIGURED');
  const lines = [...clearFlow, session];
  if (cookieValue(jar, DEAD) !== undefined) lines.push(clearCookie(DEAD));
  return withCookies(answer(303, { Location: localPath(flow.r) ?? config.afterSignIn }), lines);
}

/** Refreshes in flight or just done in this isolate, by sealed-cookie id. */
const shared = new Map();

function sharedRefresh(config, id, refreshToken) {
  const now = Date.now();
  const existing = shared.get(id);
  if (existing && now - existing.started < SHARED_MS) return existing.reply;
  for (const [key, entry] of shared) if (now - entry.started >= SHARED_MS) shared.delete(key);
  if (shared.size >= 1024) shared.clear();
  const reply = send(config, config.tokenUrl.href, { method: 'PATCH', headers: { Authorization: `Bearer ${refreshToken}` } }).then(
    (result) => {
      const definite = (result.status >= 200 && result.status < 300) || (result.status >= 400 && result.status < 500);
      if (!definite) shared.delete(id);
      return result;
    },
    (error) => {
      shared.delete(id);
      return { error };
    },
  );
  shared.set(id, { reply, started: now });
  return reply;
}

/** {live: tokens, setCookies} or {signedOut: true, setCookies}. */
async function lookupSession(config, jar, env) {
  const value = cookieValue(jar, SESSION);
  if (value === undefined) return { signedOut: true, setCookies: [] };
  const packed = unpack(value);
  if (!packed) return { signedOut: true, setCookies: [clearCookie(SESSION)] };
  const id = toBase64Url(packed.iv);
  const tokens = readSession(await open(config, SESSION, value));
  if (!tokens) return { signedOut: true, setCookies: [clearCookie(SESSION)] };
  if (cookieValue(jar, DEAD) === id) return { signedOut: true, setCookies: [] };
  const revocations = env.FREEDOM_ID_REVOCATIONS;
  if (tokens.i && revocations && (await revocations.get(`revoked:${tokens.i}`)) !== null) return { signedOut: true, setCookies: [clearCookie(SESSION)] };
  const now = nowSecs();
  if (tokens.re <= now) return { signedOut: true, setCookies: [clearCookie(SESSION)] };
  if (tokens.ae > now + REFRESH_LEEWAY) return { live: tokens, setCookies: [] };
  const reply = await sharedRefresh(config, id, tokens.r);
  if (reply.error) return { live: tokens, setCookies: [] }; // an outage never signs anyone out
  const { tokens: renewed, code } = readTokens(reply.status, reply.text, 'REFRESH_REJECTED');
  if (code === 'REFRESH_REJECTED') return { signedOut: true, setCookies: [setCookie(DEAD, id, MAX_SESSION_AGE)] };
  if (code) return { live: tokens, setCookies: [] };
  const cookie = await sessionCookie(config, renewed);
  return { live: renewed, setCookies: cookie ? [cookie] : [] };
}

async function session(config, jar, env) {
  const found = await lookupSession(config, jar, env);
  const body = found.live
    ? `{"signedIn":true,"accessExpiresAt":${found.live.ae},"refreshExpiresAt":${found.live.re}}`
    : '{"signedIn":false}';
  return withCookies(answer(200, { 'Content-Type': 'application/json' }, body), found.setCookies);
}

/** FREEDOM_ID_ASSERTION_KEY's first key, imported once per isolate (`null` without one). */
let signerOnce;
function assertionSigner(env) {
  signerOnce ??= (async () => {
    if (!env.FREEDOM_ID_ASSERTION_KEY) return null;
    const parsed = JSON.parse(env.FREEDOM_ID_ASSERTION_KEY);
    const { kid, x, y, d } = Array.isArray(parsed) ? parsed[0] : parsed;
    const key = await crypto.subtle.importKey('jwk', { kty: 'EC', crv: 'P-256', x, y, d }, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
    return { kid, key };
  })();
  return signerOnce;
}

async function gate(config, request, url, jar, env) {
  const found = await lookupSession(config, jar, env);
  if (!found.live) {
    const accept = request.headers.get('Accept') ?? '';
    const browser = /text\/html/i.test(accept) || (request.method === 'GET' && request.headers.get('Sec-Fetch-Mode') === 'navigate');
    if (browser) {
      const location = `/login?return_to=${encodeURIComponent(url.pathname + url.search)}`;
      return withCookies(answer(302, { Location: location }), found.setCookies);
    }
    return withCookies(problem(401, 'SIGN_IN_REQUIRED'), found.setCookies);
  }
  const headers = new Headers();
  for (const [name, value] of request.headers) {
    if (name === 'cookie' || name.startsWith('x-freedom-id-')) continue;
    headers.append(name, value);
  }
  const kept = jar.filter(([name]) => name !== SESSION && name !== DEAD && !name.startsWith(FLOW_PREFIX));
  if (kept.length) headers.set('Cookie', kept.map(([name, value]) => `${name}=${value}`).join('; '));
  headers.set('X-Freedom-ID-Access-Token', found.live.a);
  if (found.live.i) headers.set('X-Freedom-ID-Token-Id', found.live.i);
  headers.set('X-Freedom-ID-Access-Expires-At', String(found.live.ae));
  const target = config.appOrigin ? `${config.appOrigin.origin}${url.pathname}${url.search}` : url.href;
  const signer = await assertionSigner(env);
  if (signer) {
    // The same assertion as the Rust gate's (src/web/assertion.rs): ES256 over header.claims.
    const now = nowSecs();
    const user = found.live.u ?? null;
    const audience = env.FREEDOM_ID_ASSERTION_AUDIENCE || (config.appOrigin ?? url).origin;
    const part = (value) => toBase64Url(encoder.encode(JSON.stringify(value)));
    const input = `${part({ alg: 'ES256', typ: 'JWT', kid: signer.kid })}.${part({
      iss: url.origin, aud: audience, sub: user?.id ?? found.live.i ?? null, sid: found.live.i ?? null, iat: now, exp: now + 60, user,
    })}`;
    const signature = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, signer.key, encoder.encode(input));
    headers.set('X-Freedom-ID-Assertion', `${input}.${toBase64Url(new Uint8Array(signature))}`);
  }
  let upstream;
  try {
    upstream = await fetch(target, { method: request.method, headers, body: request.body, redirect: 'manual' });
  } catch {
    return withCookies(problem(502, 'APP_UNREACHABLE'), found.setCookies);
  }
  if (!found.setCookies.length) return upstream;
  const copy = new Response(upstream.body, upstream);
  return withCookies(copy, found.setCookies);
}

export default {
  async fetch(request, env) {
    const config = settingsFor(env);
    const url = new URL(request.url);
    const path = url.pathname;
    const method = request.method;
    if (config.problems.length) return problem(500, 'MISCONFIGURED');
    const guarded = config.protect.some((prefix) => prefix === '/' || path === prefix || path.startsWith(`${prefix}/`));
    const jar = cookies(request.headers.get('Cookie'));
    switch (path) {
      case '/login':
        if (method !== 'GET' && method !== 'HEAD') break;
        if (config.redirectUri.origin !== url.origin) return problem(500, 'MISCONFIGURED');
        {
          const ip = request.headers.get('CF-Connecting-IP');
          const limiter = env.FREEDOM_ID_RATE_LIMITER;
          if (ip && limiter && !(await limiter.limit({ key: ip })).success) return problem(429, 'RATE_LIMITED');
        }
        return login(config, url, jar);
      case '/callback':
        if (method !== 'GET') break;
        // The OIDC flavour's callback (token call, id_token checks) is not in the twin yet (issue #23).
        if (config.protocol === 'oidc') return problem(501, 'NOT_IN_THE_TWIN');
        return callback(config, url, jar);
      case '/session':
        if (method !== 'GET' && method !== 'HEAD') break;
        return session(config, jar, env);
      default:
        if (guarded) return gate(config, request, url, jar, env);
        return problem(404, 'NOT_FOUND');
    }
    return withCookies(problem(405, 'METHOD_NOT_ALLOWED'), []);
  },
};
