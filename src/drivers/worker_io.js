// The Worker's own I/O, each effect as ONE call across the wasm boundary, like io.js (whose
// header says why): the request read, the answer built, the request forwarded to the site,
// the session keys and sealing, the assertion's signature, the rate limiter and KV. Bound by
// src/drivers/io.rs (the `worker` feature); strings cross as '\n'-separated lines.

// The globals are read at each call, as in io.js.

import { pairs, readCapped } from './io.js';

// Text handed to the wasm as UTF-8 bytes: `TextEncoder` encodes natively, where the glue's
// own string passing walks the string one character at a time in JS (the cookie alone can be
// a few kB). The Rust side copies the bytes once.
const encoder = new TextEncoder();

// What the Worker's flow reads of a request, as lines: the method, the URL, then each of
// these headers as '+' and its value, or '-' when absent. The order is src/drivers/worker.rs's
// `RequestFacts`.
const REQUEST_HEADERS = ['cookie', 'accept', 'accept-language', 'origin', 'sec-fetch-site', 'sec-fetch-mode', 'cf-connecting-ip', 'cf-ray'];
export function requestFacts(request) {
  const { headers } = request;
  const lines = [request.method, request.url];
  for (const name of REQUEST_HEADERS) {
    const value = headers.get(name);
    lines.push(value === null ? '-' : `+${value}`);
  }
  return encoder.encode(lines.join('\n'));
}

// The request's header names, as lines (UTF-8 bytes), for the core to say which the site must
// not get.
export function headerNames(request) {
  return encoder.encode([...request.headers.keys()].join('\n'));
}

// A request body (the Worker's own incoming request), at most `cap` bytes; null when there is
// none, it is longer, or it fails.
export function readBody(stream, cap) {
  return readCapped(stream, cap).catch(() => null);
}

// An answer: the status, the headers as name/value lines (repeated names appended, in
// order), the body or none. The body crosses as a string: workerd builds a `Response` from a
// string faster than from bytes (about 40-65 µs less per request, BENCHMARKS.md, "Round 3").
export function answer(status, headerLines, body) {
  const headers = new Headers();
  pairs(headerLines, (name, value) => headers.append(name, value));
  return new Response(body === '' ? null : body, { status, headers });
}

// A guarded request sent on to the site: the client's method, headers (less `drop`, the
// names the core refused) and streamed body, plus the core's `setLines`; no redirect followed.
// The site's answer comes back as it is, its body streamed, with `setCookies` appended and
// `cacheControl` put in place of its own when there are cookies to add. null when the site
// cannot be reached.
export function forward(request, url, dropLines, setLines, setCookies, cacheControl) {
  return (async () => {
    const headers = new Headers(request.headers);
    if (dropLines !== '') for (const name of dropLines.split('\n')) headers.delete(name);
    pairs(setLines, (name, value) => headers.set(name, value));
    let response;
    try {
      response = await fetch(url, { method: request.method, headers, body: request.body, redirect: 'manual' });
    } catch {
      return null;
    }
    if (setCookies === '') return response;
    // A fetched answer's headers are immutable: copy it (the body stays a stream).
    const copy = new Response(response.body, { status: response.status, statusText: response.statusText, headers: response.headers });
    for (const cookie of setCookies.split('\n')) copy.headers.append('Set-Cookie', cookie);
    if (typeof cacheControl === 'string') copy.headers.set('Cache-Control', cacheControl);
    return copy;
  })();
}

// The AES-256-GCM key for a session secret: HKDF-SHA256, empty salt, `info`. null if refused.
export function sessionKey(secret, info) {
  return (async () => {
    // Copied first: a view of the wasm memory may not outlive this call's synchronous part.
    const hkdf = { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: info.slice() };
    const base = await crypto.subtle.importKey('raw', secret, 'HKDF', false, ['deriveKey']);
    return crypto.subtle.deriveKey(hkdf, base, { name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
  })().catch(() => null);
}

// AES-GCM sealing (`open` false) or opening: the ciphertext with its tag, or the plaintext;
// null when the tag does not verify. WebCrypto copies its inputs before this returns, so the
// views of the wasm memory are not kept.
export function aesGcm(open, key, iv, additionalData, data) {
  const gcm = { name: 'AES-GCM', iv, additionalData };
  const done = open ? crypto.subtle.decrypt(gcm, key, data) : crypto.subtle.encrypt(gcm, key, data);
  return done.then((buffer) => new Uint8Array(buffer), () => null);
}

// The assertion's signing key: a P-256 private JWK, not extractable. null if refused.
export function signingKey(x, y, d) {
  const jwk = { kty: 'EC', crv: 'P-256', x, y, d };
  return (async () => crypto.subtle.importKey('jwk', jwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']))().catch(() => null);
}

// ES256 over `data`: the 64-byte r || s, or null.
export function signEs256(key, data) {
  return (async () => new Uint8Array(await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key, data)))().catch(() => null);
}

// A `[[ratelimits]]` binding's verdict for `key`: true (allowed), false (limited), null (the
// binding failed).
export function rateLimit(limiter, key) {
  return (async () => Boolean((await limiter.limit({ key })).success))().catch(() => null);
}

// A KV lookup: true (found), false (absent), null (the binding failed).
export function kvHas(namespace, key) {
  return (async () => (await namespace.get(key)) != null)().catch(() => null);
}

// A KV write that expires after `ttlSecs`: true, or false when the binding failed.
export function kvPut(namespace, key, value, ttlSecs) {
  return (async () => {
    await namespace.put(key, value, { expirationTtl: ttlSecs });
    return true;
  })().catch(() => false);
}
