// A small site to put behind the Worker's sign-in gate (FREEDOM_ID_APP_ORIGIN), for tests.
//
//   import { startOriginServer, BIG_BODY_BYTES, bigBodySha256 } from './support/origin-server.mjs';
//   const origin = await startOriginServer();      // http://127.0.0.1:<free port>
//   fetch(`${origin.url}/anything?x=1`)            // -> 200 JSON: what the site received
//   fetch(`${origin.url}/big`)                     // -> 200, 5 MB of deterministic bytes, streamed in chunks
//   await origin.close();
//
// Every answer sets two cookies (SITE_COOKIES), as two separate Set-Cookie headers.
// The echo (any path not under /big), as JSON:
//   { method, path, query, headers (as node:http reads them, names lowercased),
//     rawHeaders ([name, value] pairs in order), bodyLength, bodySha256 (hex) }
// With `?cache_control=<value>` the echo carries `Cache-Control: <value>` (to see whether the
// Worker keeps the site's own caching); without it, no Cache-Control.
// Paths under /big read (and discard) any request body, then stream BIG_BODY_BYTES; with
// `?pause_ms=<n>` they pause n ms after the first chunk (to tell a streamed answer from a buffered one).
// No dependencies: node: built-ins only. Listens on loopback only.

import http from 'node:http';
import { createHash } from 'node:crypto';

/** The Set-Cookie lines every answer carries, in order. */
export const SITE_COOKIES = Object.freeze(['site_a=1; Path=/', 'site_b=2; Path=/; HttpOnly']);
/** The size of a /big answer. */
export const BIG_BODY_BYTES = 5 * 1024 * 1024;
/** The size of each chunk a /big answer is written in. */
const CHUNK_BYTES = 64 * 1024;

/** `length` deterministic bytes starting at `offset` of the /big stream (and of test uploads). */
export function patternBytes(offset, length) {
  const bytes = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i += 1) {
    const n = offset + i;
    bytes[i] = (n * 31 + (n >>> 8) * 7 + 13) & 0xff;
  }
  return bytes;
}

/** The whole /big body (5 MB). */
export function bigBody() {
  return patternBytes(0, BIG_BODY_BYTES);
}

let bigSha;
/** The sha256 (hex) of the /big body. */
export function bigBodySha256() {
  bigSha ??= createHash('sha256').update(bigBody()).digest('hex');
  return bigSha;
}

/**
 * Starts the site. Resolves to `{ url, port, requests, count, close() }`: `url` has no trailing
 * slash; `count` is how many requests it has answered; `requests` holds the last 1000 echoes.
 */
export async function startOriginServer({ host = '127.0.0.1', port = 0 } = {}) {
  const sockets = new Set();
  const state = { count: 0, requests: [] };

  const server = http.createServer((req, res) => {
    handle(state, req, res).catch((error) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String(error));
      } else {
        res.destroy(error);
      }
    });
  });
  server.keepAliveTimeout = 5_000;
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  let closing;
  return {
    url: `http://${address.address}:${address.port}`,
    port: address.port,
    get count() {
      return state.count;
    },
    requests: state.requests,
    close() {
      closing ??= new Promise((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      return closing;
    },
  };
}

async function handle(state, req, res) {
  const target = new URL(req.url, 'http://origin.invalid');
  const hash = createHash('sha256');
  let bodyLength = 0;
  for await (const chunk of req) {
    bodyLength += chunk.length;
    hash.update(chunk);
  }
  state.count += 1;
  res.setHeader('Set-Cookie', [...SITE_COOKIES]);
  res.setHeader('X-Origin', 'test-origin');

  if (target.pathname === '/big' || target.pathname.startsWith('/big/')) {
    res.writeHead(200, { 'content-type': 'application/octet-stream' }); // chunked: no Content-Length
    const pauseMs = Math.min(Number(target.searchParams.get('pause_ms')) || 0, 10_000);
    await streamBig(res, pauseMs);
    return;
  }

  const rawHeaders = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) rawHeaders.push([req.rawHeaders[i], req.rawHeaders[i + 1]]);
  const echo = {
    method: req.method,
    path: target.pathname,
    query: target.search,
    headers: req.headers,
    rawHeaders,
    bodyLength,
    bodySha256: hash.digest('hex'),
  };
  state.requests.push(echo);
  if (state.requests.length > 1000) state.requests.splice(0, state.requests.length - 1000);
  const body = JSON.stringify(echo);
  const cacheControl = target.searchParams.get('cache_control');
  if (cacheControl) res.setHeader('Cache-Control', cacheControl);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(req.method === 'HEAD' ? undefined : body);
}

async function streamBig(res, pauseMs) {
  for (let offset = 0; offset < BIG_BODY_BYTES; offset += CHUNK_BYTES) {
    if (offset === CHUNK_BYTES && pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
    const chunk = patternBytes(offset, Math.min(CHUNK_BYTES, BIG_BODY_BYTES - offset));
    if (!res.write(chunk)) {
      await new Promise((resolve, reject) => {
        const onDrain = () => {
          res.off('close', onClose);
          resolve();
        };
        const onClose = () => {
          res.off('drain', onDrain);
          reject(new Error('closed while streaming /big'));
        };
        res.once('drain', onDrain);
        res.once('close', onClose);
      });
    }
  }
  res.end();
}
