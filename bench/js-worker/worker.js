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
//                  cookie, 302, no upstream call.
//   GET /callback  the flow cookie the state names opened (unless this isolate saw its code
//                  answered: a spent flow), the states compared in constant time before the code
//                  is spent, the code exchanged, the token pair checked (token text, ISO-8601
//                  UTC expiry times); with FREEDOM_ID_USERINFO_URL the user-info call and the
//                  user from its answer; sealed into the session cookie (the user's largest
//                  fields dropped until it fits 4 KiB), 303. With FREEDOM_ID_PROTOCOL=oidc: the
//                  OIDC token call, its answer checked (tokens, expires_in, the id_token's
//                  text), the id_token read (three base64url parts, JSON header and claims, an
//                  `alg` not `none`), its signature checked with WebCrypto against
//                  FREEDOM_ID_JWKS_URL's key set (kept per isolate 10 minutes, refetched for an
//                  unknown kid at most once a minute; imported keys kept), then iss, aud, exp,
//                  iat, nonce (against the flow's, in constant time) and sub; the user from its
//                  claims (and the user-info answer when set); a session that ends with its
//                  access token, 303
//   GET /session   the session cookie opened (dead marker, expiry, the session's life),
//                  refreshed when due (one shared PATCH per sealed cookie in this isolate,
//                  remembered for a minute), resealed, {"signedIn", ..., "user"}
//   guarded paths  (FREEDOM_ID_PROTECT) a cross-site write refused first, the same lookup, the
//                  FREEDOM_ID_ALLOW rules, then the request forwarded to FREEDOM_ID_APP_ORIGIN:
//                  our cookies and every X-Freedom-ID-* header removed, the identity headers
//                  added (and the ES256 assertion with FREEDOM_ID_ASSERTION_KEY), the body
//                  streamed, the answer streamed back
//
// Sealed cookies exactly as the Rust Worker makes them (src/session/seal.rs, src/drivers/webcrypto.rs):
// HKDF-SHA256 (empty salt, info "freedom-id-edge cookie seal v1") -> AES-256-GCM, derived
// once per isolate; a fresh 96-bit IV per seal; the cookie's name as associated data;
// base64url(version 1 || IV || ciphertext and tag); the payloads of src/session/payload.rs. Each
// twin opens the other's cookies.
//
// What it leaves out (see bench/README.md): the settings' full validation (it checks what is
// cheap), the strict readers' rules (duplicate JSON members, non-canonical base64), the
// localized HTML error pages (a refused user gets the problem JSON), /healthz, /logout,
// /revoke, /.well-known/jwks.json, the start page and the event log lines.
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
const DEFAULT_OIDC_TOKEN_URL = 'https://passport.freedompay.kz/api/v1/oidc/token';
const DEFAULT_ISSUER = 'https://passport.freedompay.kz';
const MIN_SESSION_AGE = 300;
const MAX_COOKIE_BYTES = 4096;
const MAX_CLAIM_LEN = 256;
const MAX_SUB_LEN = 255;
const MAX_EXPIRES_IN = 366 * 24 * 3600;
const CLOCK_LEEWAY = 60;
const KEYS_FRESH_MS = 10 * 60_000;
const REFETCH_GAP_MS = 60_000;
const MAX_IMPORTED_KEYS = 16;
const MAX_SPENT_FLOWS = 4096;
const PROFILE_FIELDS = ['firstname', 'lastname', 'patronymic', 'email', 'phone', 'date_of_birth', 'gender', 'country', 'nationality', 'identifier'];
const GRANT = /^(openid|[a-z0-9_]+\.[a-z0-9_]+)$/;
const PLAIN_URL = /^[\x21-\x7e]+$/; // ASCII, no spaces or controls
const TOKEN_TEXT = /^[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]{1,4096}$/; // visible ASCII but " \ , ;
const ID_TEXT = /^[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]{1,256}$/;
const isToken = (text) => typeof text === 'string' && TOKEN_TEXT.test(text);
const isId = (text) => typeof text === 'string' && ID_TEXT.test(text);
const JWT_TEXT = /^[A-Za-z0-9_.-]{1,8192}$/;
const USER_ID = /^[\x21\x23-\x5b\x5d-\x7e]{1,255}$/; // header-safe: visible ASCII but " and \
const whole = (n) => Number.isSafeInteger(n) && n >= 0;
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
  const sessionMaxAge = Number(env.FREEDOM_ID_SESSION_MAX_AGE || MAX_SESSION_AGE);
  if (!Number.isInteger(sessionMaxAge) || sessionMaxAge < MIN_SESSION_AGE || sessionMaxAge > MAX_SESSION_AGE) problems.push('FREEDOM_ID_SESSION_MAX_AGE');
  const gateCsrf = env.FREEDOM_ID_GATE_CSRF || 'on';
  if (gateCsrf !== 'on' && gateCsrf !== 'off') problems.push('FREEDOM_ID_GATE_CSRF');
  const allow = allowRules(env.FREEDOM_ID_ALLOW ?? '');
  if (!allow) problems.push('FREEDOM_ID_ALLOW');
  // An empty setting is an unset one, as in the Rust Worker.
  const optionalUrl = (name) => (env[name] ? url(name) : null);
  settings = {
    protocol,
    oidcAuthorizeUrl: protocol === 'oidc' ? url('FREEDOM_ID_OIDC_AUTHORIZE_URL', DEFAULT_OIDC_AUTHORIZE_URL) : null,
    oidcTokenUrl: protocol === 'oidc' ? url('FREEDOM_ID_OIDC_TOKEN_URL', DEFAULT_OIDC_TOKEN_URL) : null,
    issuer: env.FREEDOM_ID_ISSUER || DEFAULT_ISSUER,
    jwksUrl: optionalUrl('FREEDOM_ID_JWKS_URL'),
    userInfoUrl: optionalUrl('FREEDOM_ID_USERINFO_URL'),
    allow: allow ?? [],
    sessionMaxAge,
    gateCsrf: gateCsrf === 'on',
    problems,
    clientId,
    basic: `Basic ${btoa(`${clientId}:${clientSecret}`)}`,
    redirectUri: url('FREEDOM_ID_REDIRECT_URI'),
    authorizeUrl: url('FREEDOM_ID_AUTHORIZE_URL', DEFAULT_AUTHORIZE_URL),
    tokenUrl: url('FREEDOM_ID_TOKEN_URL', DEFAULT_TOKEN_URL),
    appOrigin: optionalUrl('FREEDOM_ID_APP_ORIGIN'),
    afterSignIn: env.FREEDOM_ID_AFTER_SIGN_IN || '/',
    grants,
    timeoutMs,
    protect,
    keys: null,
    secrets,
  };
  return settings;
}

/** ASCII letters in lower case, nothing else changed (as Rust's to_ascii_lowercase). */
const asciiLower = (text) => text.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));

/** A DNS name of at least two labels: letters, digits and `-`, no label empty, over 63 or edged with `-`. */
const isDomain = (text) => text.length <= 253 && /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))+$/.test(text);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** FREEDOM_ID_ALLOW's rules as src/config/allow.rs reads them ([{kind, value}]), or null for a rule of no kind. */
function allowRules(text) {
  const rules = [];
  for (const rule of text.split(/[\t\n\f\r ]+/).filter(Boolean)) {
    const at = rule.lastIndexOf('@');
    if (rule.startsWith('@')) {
      if (!isDomain(rule.slice(1))) return null;
      rules.push({ kind: 'domain', value: asciiLower(rule.slice(1)) });
    } else if (rule.startsWith('+')) {
      if (!/^\d{7,15}$/.test(rule.slice(1))) return null;
      rules.push({ kind: 'phone', value: rule.slice(1) });
    } else if (at !== -1) {
      if (!/^[\x21-\x3f\x41-\x7e]{1,64}$/.test(rule.slice(0, at)) || !isDomain(rule.slice(at + 1))) return null;
      rules.push({ kind: 'email', value: asciiLower(rule) });
    } else if (UUID.test(rule)) {
      rules.push({ kind: 'id', value: asciiLower(rule) });
    } else {
      return null;
    }
  }
  return rules;
}

/** Whether the rules let `user` (or an unknown user) through: any rule matching, or no rules. */
function admitted(rules, user) {
  if (!rules.length) return true;
  const id = typeof user?.id === 'string' ? asciiLower(user.id) : null;
  const email = typeof user?.email === 'string' ? asciiLower(user.email) : null;
  const phone = typeof user?.phone === 'string' ? user.phone.replace(/\D/g, '') || null : null;
  const domain = email === null ? null : email.slice(email.lastIndexOf('@') + 1);
  return rules.some(({ kind, value }) => {
    switch (kind) {
      case 'id':
        return id === value;
      case 'email':
        return email === value;
      case 'domain':
        return email !== null && email.includes('@') && domain === value;
      default:
        return phone === value;
    }
  });
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

/** `plaintext` (text, or its UTF-8 bytes) sealed for the cookie `name`. */
async function seal(config, name, plaintext) {
  const [key] = await keys(config);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const bytes = typeof plaintext === 'string' ? encoder.encode(plaintext) : plaintext;
  const sealed = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: encoder.encode(name) }, key, bytes));
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

/** The JSON a sealed value holds (`packed`: its unpack()), opened with any key, or null. */
async function open(config, name, packed) {
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
  return { status: response.status, text: decoder.decode(await readCapped(response)) };
}

/**
 * The body as a stream, counting decoded bytes, as the Rust Worker reads it (a compressed
 * answer can never grow past the cap in memory; one `arrayBuffer()` would buffer it whole).
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
      throw Object.assign(new Error('too large'), { code: 'UPSTREAM_MALFORMED', status: response.status });
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

/** The JSON object `text` holds, or null (not JSON, an array, a scalar). */
function jsonObject(text) {
  let value;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  return value && typeof value === 'object' && !Array.isArray(value) ? value : null;
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
  const body = jsonObject(text);
  if (!body) return { code: 'UPSTREAM_MALFORMED' };
  if ('error' in body) return { code: refusal };
  const { id = null, access_token: access, refresh_token: refresh } = body;
  if (!isToken(access) || !isToken(refresh) || (id !== null && !isId(id))) return { code: 'UPSTREAM_MALFORMED' };
  const ae = instant(body.access_expire_at);
  const re = instant(body.refresh_expire_at);
  if (ae === null || re === null) return { code: 'UPSTREAM_MALFORMED' };
  return { tokens: { i: id, a: access, r: refresh, ae, re } };
}

/** The OIDC token answer's tokens (no pair id, the refresh expiry at the access token's) and id_token, or a `code` to fail with. */
function readOidcTokens(status, text, now) {
  if (status >= 400 && status < 500) return { code: 'CODE_REJECTED' };
  if (status < 200 || status > 299) return { code: 'UPSTREAM_STATUS' };
  const body = jsonObject(text);
  if (!body) return { code: 'UPSTREAM_MALFORMED' };
  if ('error' in body) return { code: 'CODE_REJECTED' };
  const { access_token: access, refresh_token: refresh, id_token: idToken, expires_in: expiresIn } = body;
  if (!isToken(access) || !isToken(refresh) || typeof idToken !== 'string' || !JWT_TEXT.test(idToken)) return { code: 'UPSTREAM_MALFORMED' };
  if (!Number.isInteger(expiresIn) || expiresIn < 1 || expiresIn > MAX_EXPIRES_IN) return { code: 'UPSTREAM_MALFORMED' };
  return { tokens: { i: null, a: access, r: refresh, ae: now + expiresIn, re: now + expiresIn }, idToken };
}

/** A sealed session payload (src/session/payload.rs) read back, or null. */
function readSession(opened) {
  if (!opened) return null;
  const { i, a, r, ae, re, b, u, o } = opened;
  if (!isToken(a) || !isToken(r) || !whole(ae) || !whole(re) || !whole(b) || !(i === null || typeof i === 'string')) return null;
  if (!(u === undefined || u === null || (typeof u === 'object' && typeof u.id === 'string')) || !(o === undefined || typeof o === 'boolean')) return null;
  return opened;
}

/** When the session's life (FREEDOM_ID_SESSION_MAX_AGE from its sign-in) ends. */
const lifeEnds = (config, session) => session.b + config.sessionMaxAge;

/** The user's longest optional field in UTF-8 bytes (the last of equals, as Rust's max_by_key), or null. */
function largestField(user) {
  let largest = null;
  let size = -1;
  for (const field of PROFILE_FIELDS) {
    if (user[field] === undefined) continue;
    const bytes = encoder.encode(user[field]).length;
    if (bytes >= size) [largest, size] = [field, bytes];
  }
  return largest;
}

/**
 * The session cookie for `session` ({i, a, r, ae, re, b, u?, o?}), the user's largest optional
 * field dropped until the sealed cookie fits 4 KiB; null when its life is over.
 */
async function sessionCookie(config, session) {
  const maxAge = Math.min(session.re, lifeEnds(config, session)) - nowSecs();
  if (maxAge <= 0) return null;
  for (;;) {
    const bytes = encoder.encode(JSON.stringify(session));
    const cookieLength = SESSION.length + 1 + Math.ceil(((1 + 12 + bytes.length + 16) * 4) / 3);
    const largest = cookieLength > MAX_COOKIE_BYTES && session.u ? largestField(session.u) : null;
    if (largest === null) return setCookie(SESSION, await seal(config, SESSION, bytes), maxAge);
    session = { ...session, u: { ...session.u, [largest]: undefined } };
  }
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
  const body = jsonObject(reply.text);
  if (!body) return problem(502, 'UPSTREAM_MALFORMED');
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

/** Flows whose code had a definite answer in this isolate, by sealed-cookie id: the time it came. */
const spentFlows = new Map();
const flowSpent = (id) => Date.now() - (spentFlows.get(id) ?? -Infinity) < FLOW_MAX_AGE * 1000;
function spendFlow(id) {
  const now = Date.now();
  for (const [known, at] of spentFlows) {
    if (now - at < FLOW_MAX_AGE * 1000) break; // kept in the order spent: the rest are younger
    spentFlows.delete(known);
  }
  if (spentFlows.size >= MAX_SPENT_FLOWS) spentFlows.delete(spentFlows.keys().next().value);
  spentFlows.set(id, now);
}

/** A profile value worth keeping: a string of at most 256 characters. */
const kept = (value) => (typeof value === 'string' && (value.length <= MAX_CLAIM_LEN || [...value].length <= MAX_CLAIM_LEN) ? value : undefined);

/**
 * The user (src/freedom_id/user.rs) from a user-info answer and/or an id_token's checked `sub`
 * and claims, or a `code` to fail with: with claims the id is `sub` (and a user-info `sub` must
 * equal it), without it is the user-info `id`; each field from the answer, else from the claims.
 */
function userFrom(info, sub, claims) {
  let id;
  if (claims) {
    if (typeof info?.sub === 'string' && info.sub !== sub) return { code: 'ID_TOKEN_INVALID' };
    id = sub;
  } else {
    id = typeof info.id === 'string' ? info.id : Number.isSafeInteger(info.id) && info.id >= 0 ? String(info.id) : null;
  }
  if (id === null || !USER_ID.test(id)) return { code: claims ? 'ID_TOKEN_INVALID' : 'UPSTREAM_MALFORMED' };
  const user = { id };
  for (const field of PROFILE_FIELDS) {
    const value = kept(info?.[field]) ?? kept(claims?.[field]);
    if (value !== undefined) user[field] = value;
  }
  return { user };
}

/** The user-info call with the access token: the answer, or a `code` to fail with. */
async function userInfo(config, accessToken) {
  const reply = await send(config, config.userInfoUrl.href, { method: 'GET', headers: { Authorization: `Bearer ${accessToken}` } });
  if (reply.status === 401 || reply.status === 403) return { code: 'USERINFO_REJECTED' };
  if (reply.status < 200 || reply.status > 299) return { code: 'UPSTREAM_STATUS' };
  const info = jsonObject(reply.text);
  return info ? { info } : { code: 'UPSTREAM_MALFORMED' };
}

/** The id_token key set this isolate keeps: {keys, fetchedMs}. */
const keySet = { keys: null, fetchedMs: 0 };
/** Public keys imported for verifying, by algorithm and public members (at most 16, the oldest forgotten). */
const importedKeys = new Map();

/** Whether `key` (a JWK) can verify `alg`, as src/freedom_id/jwks.rs's `fits`. */
function fits(key, alg) {
  if (!key || typeof key !== 'object') return false;
  const [kty, wanted] = alg === 'RS256' ? ['RSA', 'RS256'] : alg === 'ES256' ? ['EC', 'ES256'] : [];
  return kty !== undefined && key.kty === kty && (alg !== 'ES256' || key.crv === 'P-256') && (typeof key.alg !== 'string' || key.alg === wanted) && (typeof key.use !== 'string' || key.use === 'sig');
}

/** The key for `kid` (or, without one, the only fitting key) and `alg` in `keys`, or null. */
function keyFor(keys, kid, alg) {
  const fitting = keys.filter((key) => fits(key, alg));
  if (kid !== undefined) return fitting.find((key) => key.kid === kid) ?? null;
  return fitting.length === 1 ? fitting[0] : null;
}

/**
 * The key for `kid` and `alg` from FREEDOM_ID_JWKS_URL's set: the kept one while fresh, fetched
 * when stale or, at most once a minute, when it lacks the key; at most one fetch per call. Null:
 * no such key. A failed fetch throws its code.
 */
async function keyFromSet(config, kid, alg) {
  let fetched = false;
  for (;;) {
    const now = Date.now();
    const age = now - keySet.fetchedMs;
    const fresh = keySet.keys !== null && age >= 0 && age < KEYS_FRESH_MS;
    const key = fresh ? keyFor(keySet.keys, kid, alg) : null;
    if (key) return key;
    if ((fresh && age < REFETCH_GAP_MS) || fetched) return null;
    fetched = true;
    const reply = await send(config, config.jwksUrl.href, { method: 'GET', headers: {} });
    if (reply.status < 200 || reply.status > 299) throw Object.assign(new Error('key set'), { code: 'UPSTREAM_STATUS' });
    const body = jsonObject(reply.text);
    const keys = body && (body.keys ?? []);
    if (!Array.isArray(keys) || !keys.every((one) => one && typeof one === 'object' && !Array.isArray(one))) throw Object.assign(new Error('key set'), { code: 'UPSTREAM_MALFORMED' });
    keySet.keys = keys;
    keySet.fetchedMs = now;
  }
}

/** Whether `signature` over `input` verifies with the public JWK `key` for `alg`; the imported key kept. */
async function verifiedWith(key, alg, input, signature) {
  const id = alg === 'RS256' ? `RS256 ${key.n} ${key.e}` : `ES256 ${key.x} ${key.y}`;
  let imported = importedKeys.get(id);
  if (!imported) {
    const [jwk, algorithm] = alg === 'RS256'
      ? [{ kty: 'RSA', n: key.n, e: key.e }, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }]
      : [{ kty: 'EC', crv: 'P-256', x: key.x, y: key.y }, { name: 'ECDSA', namedCurve: 'P-256' }];
    try {
      imported = await crypto.subtle.importKey('jwk', jwk, algorithm, false, ['verify']);
    } catch {
      return false;
    }
    if (importedKeys.size >= MAX_IMPORTED_KEYS) importedKeys.delete(importedKeys.keys().next().value);
    importedKeys.set(id, imported);
  }
  const verify = alg === 'RS256' ? { name: 'RSASSA-PKCS1-v1_5' } : { name: 'ECDSA', hash: 'SHA-256' };
  try {
    return await crypto.subtle.verify(verify, imported, signature, encoder.encode(input));
  } catch {
    return false;
  }
}

/** The JSON object a base64url text holds, or null. */
function jsonPart(part) {
  try {
    return jsonObject(decoder.decode(fromBase64Url(part)));
  } catch {
    return null;
  }
}

/**
 * The id_token checked (src/freedom_id/id_token.rs, src/flow/identity.rs): read, its signature
 * when a key set is set, then the claims in OpenID Connect Core 3.1.3.7's order. {sub, claims},
 * or a `code` to fail with; a failed key set fetch throws its code.
 */
async function checkedIdToken(config, raw, nonce, now) {
  const invalid = { code: 'ID_TOKEN_INVALID' };
  const parts = raw.split('.');
  if (parts.length !== 3) return invalid;
  const header = jsonPart(parts[0]);
  const claims = jsonPart(parts[1]);
  let signature;
  try {
    signature = fromBase64Url(parts[2]);
  } catch {
    return invalid;
  }
  if (!header || !claims || typeof header.alg !== 'string' || header.alg.toLowerCase() === 'none') return invalid;
  if (config.jwksUrl) {
    const key = await keyFromSet(config, typeof header.kid === 'string' ? header.kid : undefined, header.alg);
    if (!key || !(await verifiedWith(key, header.alg, `${parts[0]}.${parts[1]}`, signature))) return invalid;
  }
  const { iss, aud, exp, iat, sub } = claims;
  if (iss !== config.issuer) return invalid;
  if (!(aud === config.clientId || (Array.isArray(aud) && aud.includes(config.clientId)))) return invalid;
  if (!whole(exp) || exp + CLOCK_LEEWAY <= now) return invalid;
  if (!whole(iat) || iat > now + CLOCK_LEEWAY) return invalid;
  if (typeof claims.nonce !== 'string' || !constantTimeEqual(claims.nonce, nonce)) return invalid;
  if (typeof sub !== 'string' || !sub || (sub.length > MAX_SUB_LEN && [...sub].length > MAX_SUB_LEN)) return invalid;
  return { sub, claims };
}

/** The code exchanged in the settings' flavour: {tokens, idToken?}, or a `code` to fail with; network failures throw. */
async function exchange(config, code, now) {
  if (config.protocol === 'oidc') {
    const reply = await send(config, config.oidcTokenUrl.href, {
      method: 'POST',
      headers: { Authorization: config.basic, 'Content-Type': 'application/json' },
      body: JSON.stringify({ code, redirect_uri: config.redirectUri.href, grant_type: 'authorization_code' }),
    });
    return readOidcTokens(reply.status, reply.text, now);
  }
  const reply = await send(config, config.tokenUrl.href, {
    method: 'POST',
    headers: { Authorization: config.basic, 'Content-Type': 'application/json' },
    body: JSON.stringify({ authorization_code: code }),
  });
  return readTokens(reply.status, reply.text, 'CODE_REJECTED');
}

/** Who signed in, after the exchange: {user} (null when nothing tells), or a `code` to fail with; network failures throw. */
async function signedInUser(config, exchanged, nonce, now) {
  let checked = null;
  if (config.protocol === 'oidc') {
    // A flow without a nonce (sealed before the flavour was switched on) cannot match one.
    if (typeof nonce !== 'string') return { code: 'ID_TOKEN_INVALID' };
    checked = await checkedIdToken(config, exchanged.idToken, nonce, now);
    if (checked.code) return checked;
  }
  let info = null;
  if (config.userInfoUrl) {
    const fetched = await userInfo(config, exchanged.tokens.a);
    if (fetched.code) return fetched;
    info = fetched.info;
  }
  if (!info && !checked) return { user: null };
  return userFrom(info, checked?.sub, checked?.claims);
}

async function callback(config, url, jar) {
  const params = url.searchParams;
  const state = params.get('state');
  const flowName = state === null ? null : `${FLOW_PREFIX}${state.slice(0, 16)}`;
  const flowValue = flowName && cookieValue(jar, flowName);
  const clearFlow = flowValue === undefined || flowValue === null ? [] : [clearCookie(flowName)];
  const packed = flowValue ? unpack(flowValue) : null;
  const flowId = packed && toBase64Url(packed.iv);
  const flow = packed && !flowSpent(flowId) ? await open(config, flowName, packed) : null;
  const now = nowSecs();
  const live = flow && typeof flow.s === 'string' && Number.isSafeInteger(flow.t) && now < flow.t + FLOW_MAX_AGE && now + 60 >= flow.t;
  if (!live || !flow.s || state === null || !constantTimeEqual(state, flow.s)) return problem(403, 'STATE_MISMATCH', clearFlow);
  if (params.has('error_code') || params.has('error')) return problem(403, 'SIGN_IN_DECLINED', clearFlow);
  const code = params.get('authorization_code') || params.get('code');
  if (!code) return problem(400, 'CODE_REJECTED', clearFlow);
  let exchanged;
  try {
    exchanged = await exchange(config, code, now);
  } catch (error) {
    return upstreamFailure(error);
  }
  // A definite answer spends the flow: its cookie replayed with another code costs no further token call.
  if (!exchanged.code || exchanged.code === 'CODE_REJECTED') spendFlow(flowId);
  if (exchanged.code === 'CODE_REJECTED') return problem(400, exchanged.code, clearFlow);
  if (exchanged.code) return problem(502, exchanged.code);
  let known;
  try {
    known = await signedInUser(config, exchanged, flow.n, now);
  } catch (error) {
    return withCookies(upstreamFailure(error), clearFlow);
  }
  if (known.code) return problem(502, known.code, clearFlow);
  const session = { ...exchanged.tokens, b: nowSecs(), ...(known.user ? { u: known.user } : {}), ...(config.protocol === 'oidc' ? { o: true } : {}) };
  const cookie = await sessionCookie(config, session);
  if (!cookie) return problem(500, 'MISCONFIGURED');
  const lines = [...clearFlow, cookie];
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

/**
 * {live: session, setCookies}, {reconnecting: session, code} (the refresh failed on an outage
 * and the access token is dead: the cookie stays, nothing may use the token) or {signedOut: true, setCookies}.
 */
async function lookupSession(config, jar, env) {
  const value = cookieValue(jar, SESSION);
  if (value === undefined) return { signedOut: true, setCookies: [] };
  const packed = unpack(value);
  if (!packed) return { signedOut: true, setCookies: [clearCookie(SESSION)] };
  const id = toBase64Url(packed.iv);
  const session = readSession(await open(config, SESSION, packed));
  if (!session) return { signedOut: true, setCookies: [clearCookie(SESSION)] };
  if (cookieValue(jar, DEAD) === id) return { signedOut: true, setCookies: [] };
  const revocations = env.FREEDOM_ID_REVOCATIONS;
  if (session.i && revocations && (await revocations.get(`revoked:${session.i}`)) !== null) return { signedOut: true, setCookies: [clearCookie(SESSION)] };
  const now = nowSecs();
  // Past the refresh token (or, without one, the access token), the session's life, or begun in the future: over.
  if ((session.o ? session.ae : session.re) <= now || lifeEnds(config, session) <= now || session.b > now + 60) return { signedOut: true, setCookies: [clearCookie(SESSION)] };
  if (session.o || session.ae > now + REFRESH_LEEWAY) return { live: session, setCookies: [] };
  const reply = await sharedRefresh(config, id, session.r);
  const { tokens: renewed, code } = reply.error ? { code: reply.error.name === 'TimeoutError' ? 'UPSTREAM_TIMEOUT' : reply.error.code ?? 'UPSTREAM_NETWORK' } : readTokens(reply.status, reply.text, 'REFRESH_REJECTED');
  if (code === 'REFRESH_REJECTED') return { signedOut: true, setCookies: [setCookie(DEAD, id, config.sessionMaxAge)] };
  // An outage never signs anyone out; an expired token waits for the next request's retry.
  if (code) return session.ae <= now ? { reconnecting: session, code } : { live: session, setCookies: [] };
  const refreshed = { ...renewed, b: session.b, ...(session.u ? { u: session.u } : {}) };
  const cookie = await sessionCookie(config, refreshed);
  return { live: refreshed, setCookies: cookie ? [cookie] : [] };
}

async function session(config, jar, env) {
  const found = await lookupSession(config, jar, env);
  const known = found.live ?? found.reconnecting;
  const body = known
    ? `{"signedIn":true,"accessExpiresAt":${known.ae},"refreshExpiresAt":${known.o ? null : known.re},"user":${JSON.stringify(known.u ?? null)}}`
    : '{"signedIn":false}';
  return withCookies(answer(200, { 'Content-Type': 'application/json' }, body), found.setCookies ?? []);
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

/** Whether a request comes from this site (src/flow/mod.rs's from_this_site, a caller without `Origin` allowed). */
function fromThisSite(request, url) {
  const site = request.headers.get('Sec-Fetch-Site');
  if (site === 'cross-site' || site === 'same-site') return false;
  const origin = request.headers.get('Origin');
  if (origin === null) return true;
  if (origin === 'null') return site === 'same-origin';
  return origin === url.origin;
}

async function gate(config, request, url, jar, env) {
  const write = !['GET', 'HEAD', 'OPTIONS'].includes(request.method);
  // A cookie alone does not make a write the user's own: refused before any session work.
  if (config.gateCsrf && write && !fromThisSite(request, url)) return problem(403, 'CROSS_SITE_REQUEST');
  const found = await lookupSession(config, jar, env);
  if (found.reconnecting) {
    const refused = problem(found.code === 'UPSTREAM_TIMEOUT' ? 504 : 502, found.code);
    refused.headers.set('Retry-After', '5');
    return refused;
  }
  if (!found.live) {
    const accept = request.headers.get('Accept') ?? '';
    const browser = /text\/html/i.test(accept) || (request.method === 'GET' && request.headers.get('Sec-Fetch-Mode') === 'navigate');
    if (browser) {
      const location = `/login?return_to=${encodeURIComponent(url.pathname + url.search)}`;
      return withCookies(answer(302, { Location: location }), found.setCookies);
    }
    return withCookies(problem(401, 'SIGN_IN_REQUIRED'), found.setCookies);
  }
  const user = found.live.u ?? null;
  if (!admitted(config.allow, user)) return problem(403, 'ACCESS_DENIED', found.setCookies);
  const headers = new Headers();
  for (const [name, value] of request.headers) {
    if (name === 'cookie' || name.startsWith('x-freedom-id-')) continue;
    headers.append(name, value);
  }
  const kept = jar.filter(([name]) => name !== SESSION && name !== DEAD && !name.startsWith(FLOW_PREFIX));
  if (kept.length) headers.set('Cookie', kept.map(([name, value]) => `${name}=${value}`).join('; '));
  headers.set('X-Freedom-ID-Access-Token', found.live.a);
  if (found.live.i) headers.set('X-Freedom-ID-Token-Id', found.live.i);
  if (user) headers.set('X-Freedom-ID-User-Id', user.id);
  headers.set('X-Freedom-ID-Access-Expires-At', String(found.live.ae));
  const target = config.appOrigin ? `${config.appOrigin.origin}${url.pathname}${url.search}` : url.href;
  const signer = await assertionSigner(env);
  if (signer) {
    // The same assertion as the Rust gate's (src/web/assertion.rs): ES256 over header.claims.
    const now = nowSecs();
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
  // A renewed session's cookie must not be cached with the site's answer.
  copy.headers.set('Cache-Control', 'private, no-store');
  return withCookies(copy, found.setCookies);
}

/** Whether FREEDOM_ID_RATE_LIMITER (when bound) refuses this client. */
async function rateLimited(request, env) {
  const ip = request.headers.get('CF-Connecting-IP');
  const limiter = env.FREEDOM_ID_RATE_LIMITER;
  return Boolean(ip && limiter && !(await limiter.limit({ key: ip })).success);
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
        if (await rateLimited(request, env)) return problem(429, 'RATE_LIMITED');
        return login(config, url, jar);
      case '/callback':
        if (method !== 'GET') break;
        // Each callback may cost a token-endpoint call on our credentials: limited like /login.
        if (await rateLimited(request, env)) return problem(429, 'RATE_LIMITED');
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
