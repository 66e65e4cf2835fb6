// The drivers' I/O, each effect as ONE call across the wasm boundary (BENCHMARKS.md, "Round
// 3"): the Rust side hands over everything the effect needs in one call and gets one result
// back, instead of building objects property by property and awaiting every body chunk as
// its own future. Only mechanics live here; what to send, which answers to read, the caps and
// every decision about a result are the Rust core's. Bound by src/drivers/io.rs; the Worker
// and the npm package share this file, the Worker alone uses worker_io.js. Strings cross as
// '\n'-separated lines: no header name or value, method or URL can hold a line feed.

// The globals (`fetch`, `crypto`, `AbortSignal`) are read at each call, never at load: the
// Node entries lend `crypto` to a Node 18 without it after this module has loaded, and reading
// Node's lazy `crypto` getter at load costs 2-3 ms.

// Why an upstream call failed (src/drivers/io.rs reads the same numbers).
const NETWORK = 1;
const TIMEOUT = 2;
const TOO_LARGE = 3;

// Name/value lines (`name\nvalue\n...`) handed to `each` pair by pair (worker_io.js too).
export function pairs(lines, each) {
  if (lines === '') return;
  const items = lines.split('\n');
  for (let index = 0; index + 1 < items.length; index += 2) each(items[index], items[index + 1]);
}

function failure(error) {
  const name = error === null || typeof error !== 'object' ? undefined : error.name;
  return name === 'TimeoutError' || name === 'AbortError' ? TIMEOUT : NETWORK;
}

// The bytes of `stream`, at most `cap`: past it the stream is cancelled, the rest unread
// (null). worker_io.js reads the Worker's own request body with it too.
export async function readCapped(stream, cap) {
  const reader = stream.getReader();
  const chunks = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (total + value.byteLength > cap) {
      await reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
    total += value.byteLength;
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

// One upstream call: `fetch` without following redirects, under one timeout for the whole
// answer; the body read (at most `cap` decoded bytes) only when the status's class is in
// `readClasses` (bit n: the n00-n99 answers). Never rejects: resolves { status (0 when no
// answer arrived), failure (0, or why it stopped), body (the bytes, or null) }.
export function upstream(url, method, headerLines, body, timeoutMs, readClasses, cap) {
  return (async () => {
    const headers = {};
    pairs(headerLines, (name, value) => {
      headers[name] = value;
    });
    let response;
    try {
      response = await fetch(url, { method, headers, body, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    } catch (error) {
      return { status: 0, failure: failure(error), body: null };
    }
    const status = response.status;
    const stream = response.body;
    const wanted = ((readClasses >> Math.floor(status / 100)) & 1) === 1;
    const declared = wanted ? response.headers.get('content-length') : null;
    // A declared length over the cap is refused before any byte is read.
    const tooLong = declared !== null && /^\s*\d+\s*$/.test(declared) && Number(declared) > cap;
    if (stream === null) return { status, failure: tooLong ? TOO_LARGE : 0, body: null };
    if (!wanted || tooLong) {
      await stream.cancel().catch(() => {});
      return { status, failure: tooLong ? TOO_LARGE : 0, body: null };
    }
    try {
      const bytes = await readCapped(stream, cap);
      return bytes === null ? { status, failure: TOO_LARGE, body: null } : { status, failure: 0, body: bytes };
    } catch (error) {
      return { status, failure: failure(error), body: null };
    }
  })();
}

// A public key for `verify` from its JWK members: `ES256` (x, y of P-256) or `RS256` (n, e).
// null if the runtime refuses it.
export function verifyKey(algorithm, a, b) {
  const [jwk, imported] =
    algorithm === 'ES256'
      ? [{ kty: 'EC', crv: 'P-256', x: a, y: b }, { name: 'ECDSA', namedCurve: 'P-256' }]
      : [{ kty: 'RSA', n: a, e: b }, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }];
  return (async () => crypto.subtle.importKey('jwk', jwk, imported, false, ['verify']))().catch(() => null);
}

// Whether `signature` over `data` verifies with `key` for `algorithm` (`ES256`: r || s).
export function verify(algorithm, key, signature, data) {
  const checked = algorithm === 'ES256' ? { name: 'ECDSA', hash: 'SHA-256' } : { name: 'RSASSA-PKCS1-v1_5' };
  return (async () => crypto.subtle.verify(checked, key, signature, data))().catch(() => false);
}

