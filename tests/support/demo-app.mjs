#!/usr/bin/env node
// The demo's "existing site" behind the Worker's sign-in gate: `make dev` runs it on
// 127.0.0.1:8789 (FREEDOM_ID_APP_ORIGIN) with FREEDOM_ID_PROTECT=/members, and the browser
// test starts one on a free port. It serves one page, /members (and below), showing what the
// gate told it about the visitor: the token pair's id and when the access token expires. It
// never shows the access token itself. node: built-ins only; loopback only.
//
//   import { startDemoApp } from './demo-app.mjs';
//   const app = await startDemoApp();   // { url, close() }
//   node tests/support/demo-app.mjs [--port 8789]

import http from 'node:http';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

/** Starts the demo site; resolves to `{ url, close() }`. */
export async function startDemoApp({ port = 0, host = '127.0.0.1' } = {}) {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/members' && !path.startsWith('/members/')) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not found\n');
      return;
    }
    const tokenId = String(req.headers['x-freedom-id-token-id'] ?? '');
    const expires = Number(req.headers['x-freedom-id-access-expires-at'] ?? 0);
    const signedIn = Boolean(req.headers['x-freedom-id-access-token']);
    res.writeHead(signedIn ? 200 : 401, {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'content-security-policy': "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'",
    });
    res.end(page(signedIn, tokenId, expires));
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const url = `http://${host}:${server.address().port}`;
  return { url, close: () => new Promise((resolve) => server.close(resolve)) };
}

function page(signedIn, tokenId, expires) {
  const when = expires ? new Date(expires * 1000).toISOString().replace('T', ' ').slice(0, 19) + ' UTC' : 'unknown';
  const body = signedIn
    ? `<h1>Members area</h1>
<p class="lead">This page belongs to the site behind the Worker. It was reached only because you are signed in with Freedom ID.</p>
<dl class="facts">
<dt>Token id (from <code>X-Freedom-ID-Token-Id</code>)</dt><dd id="token-id">${escapeHtml(tokenId || 'none')}</dd>
<dt>Access token expires (from <code>X-Freedom-ID-Access-Expires-At</code>)</dt><dd id="expires">${escapeHtml(when)}</dd>
</dl>`
    : '<h1>Not signed in</h1><p>The gate should not have let you here.</p>';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Members area</title>
<link rel="stylesheet" href="/style.css">
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
</head>
<body>
<main class="card">
<p class="eyebrow">Demo app behind the gate</p>
${body}
<p class="actions"><a href="/" class="button">Back to the start page</a></p>
</main>
</body>
</html>
`;
}

function escapeHtml(value) {
  return String(value).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { port: { type: 'string' } } });
  const app = await startDemoApp({ port: Number(values.port ?? process.env.DEMO_APP_PORT ?? 8789) });
  console.log(`demo app (behind the gate) listening on ${app.url}`);
  const stop = () => app.close();
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
