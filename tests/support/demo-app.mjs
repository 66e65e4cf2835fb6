#!/usr/bin/env node
// The demo's "existing site" behind the Worker's sign-in gate: `make dev` runs it on
// 127.0.0.1:8789 (FREEDOM_ID_APP_ORIGIN) with FREEDOM_ID_PROTECT=/members, and the browser
// test starts one on a free port. It serves one page, /members (and below), and trusts
// nothing but the gate's signed assertion: it verifies X-Freedom-ID-Assertion with the packed
// npm package's verifyGateAssertion against the Worker's /.well-known/jwks.json (issuer: the
// Worker's origin; audience: this site's own origin, the Worker's default), greets the user
// by name from the assertion's `user` and shows its sub and sid. Without a valid assertion it
// answers 401. It never sees the access token. node: built-ins plus the package it is given;
// loopback only.
//
//   import { startDemoApp } from './demo-app.mjs';
//   const app = await startDemoApp({ verifyGateAssertion, worker: 'http://127.0.0.1:8787' });   // { url, close() }
//   node tests/support/demo-app.mjs --package DIR --worker http://127.0.0.1:8787 [--port 8789]
//     (DIR: a folder where the packed package is installed, DIR/node_modules/freedom-id-edge)

import { createRequire } from 'node:module';
import path from 'node:path';
import http from 'node:http';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

/**
 * Starts the demo site; resolves to `{ url, close() }`. `verifyGateAssertion` is the packed
 * package's; `worker` the gate's origin (the assertion's issuer, and where its key set is).
 */
export async function startDemoApp({ verifyGateAssertion, worker, port = 0, host = '127.0.0.1' } = {}) {
  if (typeof verifyGateAssertion !== 'function' || !worker) throw new TypeError('startDemoApp needs verifyGateAssertion and the Worker\'s origin');
  const issuer = new URL(worker).origin;
  let audience; // this site's origin, once it listens
  const server = http.createServer(async (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/members' && !path.startsWith('/members/')) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not found\n');
      return;
    }
    let passed = null;
    try {
      passed = await verifyGateAssertion(req.headers['x-freedom-id-assertion'], { jwksUrl: `${issuer}/.well-known/jwks.json`, issuer, audience });
    } catch {
      // ASSERTION_INVALID, or the key set could not be fetched: either way, no one has passed.
    }
    const expires = Number(req.headers['x-freedom-id-access-expires-at'] ?? 0);
    res.writeHead(passed ? 200 : 401, {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'content-security-policy': "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'",
    });
    res.end(page(passed, expires));
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const url = `http://${host}:${server.address().port}`;
  audience = url;
  return { url, close: () => new Promise((resolve) => server.close(resolve)) };
}

/** "First Last" from the assertion's user, else its sub. */
function displayName({ user, sub }) {
  const name = [user?.firstname, user?.lastname].filter((part) => typeof part === 'string' && part).join(' ');
  return name || sub || 'member';
}

function page(passed, expires) {
  const when = expires ? new Date(expires * 1000).toISOString().replace('T', ' ').slice(0, 19) + ' UTC' : 'unknown';
  const body = passed
    ? `<h1>Members area</h1>
<p class="lead" id="welcome">Welcome, ${escapeHtml(displayName(passed))}</p>
<p>This page belongs to the site behind the Worker. It let you in because the gate's signed assertion (<code>X-Freedom-ID-Assertion</code>) verified.</p>
<dl class="facts">
<dt>Subject (<code>sub</code>)</dt><dd id="sub">${escapeHtml(passed.sub ?? 'none')}</dd>
<dt>Token pair (<code>sid</code>)</dt><dd id="sid">${escapeHtml(passed.sid ?? 'none')}</dd>
<dt>Access token expires (from <code>X-Freedom-ID-Access-Expires-At</code>)</dt><dd id="expires">${escapeHtml(when)}</dd>
</dl>`
    : '<h1>Not signed in</h1><p>This request carries no valid assertion from the gate, so this site does not know who you are.</p>';
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
  const { values } = parseArgs({ options: { port: { type: 'string' }, package: { type: 'string' }, worker: { type: 'string' } } });
  if (!values.package || !values.worker) {
    console.error('usage: node tests/support/demo-app.mjs --package DIR --worker http://127.0.0.1:8787 [--port 8789]');
    process.exit(2);
  }
  // The package as a site requires it, from the folder it was installed in.
  const { verifyGateAssertion } = createRequire(path.resolve(values.package, 'package.json'))('freedom-id-edge');
  const app = await startDemoApp({ verifyGateAssertion, worker: values.worker, port: Number(values.port ?? process.env.DEMO_APP_PORT ?? 8789) });
  console.log(`demo app (behind the gate) listening on ${app.url}`);
  const stop = () => app.close();
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
