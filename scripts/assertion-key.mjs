#!/usr/bin/env node
// A fresh signing key for the gate's identity assertion (FREEDOM_ID_ASSERTION_KEY): a P-256
// private key as a JWK with a random `kid`, made by WebCrypto. Node built-ins only.
//
//   node scripts/assertion-key.mjs | npx wrangler secret put FREEDOM_ID_ASSERTION_KEY
//   make assertion-key
//
// stdout gets exactly one line, the JWK as JSON; what to do with it goes to stderr, so the
// pipe above carries the key and nothing else.

import { webcrypto } from 'node:crypto';

const usage = `Usage: node scripts/assertion-key.mjs [--help]

Prints a fresh P-256 private key as one line of JSON (a JWK with a random "kid") on stdout.
Put it into the Worker as a secret:

  node scripts/assertion-key.mjs | npx wrangler secret put FREEDOM_ID_ASSERTION_KEY

To rotate, make a new key and put both, new first, as a JSON array: '[<new>, <old>]'. The new
key signs at once; both are published at /.well-known/jwks.json, so assertions signed by the
old one still verify, and a site that does not know the new kid yet fetches the key set again.
More than 5 minutes later (longer than an assertion lives, 60 s, and than a site keeps the key
set, 5 minutes), put '[<new>]' (or <new> alone).
The private half ("d") is a secret: never commit it, never put it in wrangler.toml. wrangler
never shows a secret again, so keep a copy with your other secrets: a rotation needs it.
`;

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  process.stdout.write(usage);
  process.exit(0);
}
if (args.length > 0) {
  process.stderr.write(`Unknown argument: ${args[0]}\n\n${usage}`);
  process.exit(2);
}

const pair = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
const { kty, crv, x, y, d } = await webcrypto.subtle.exportKey('jwk', pair.privateKey);
// `fid-` and 16 hex digits: within the 64 characters of [A-Za-z0-9._-] a kid may have.
const kid = `fid-${Buffer.from(webcrypto.getRandomValues(new Uint8Array(8))).toString('hex')}`;

process.stdout.write(`${JSON.stringify({ kty, crv, x, y, d, kid })}\n`);
process.stderr.write(
  'A new FREEDOM_ID_ASSERTION_KEY (its private half, a secret). Pipe it into\n' +
    '  npx wrangler secret put FREEDOM_ID_ASSERTION_KEY\n' +
    "To rotate, put '[<new>, <old>]', then '[<new>]' over 5 minutes later (--help).\n",
);
