// The npm package as a user gets it: `npm pack pkg`, installed from the tarball into a fresh
// folder, then required, imported and type-checked there, and called against the mock
// Freedom ID: the sign-in link, the browser's trip through the mock's sign-in page, the
// callback (completeSignIn), the code exchange and the refresh, with every fault the mock can
// play. Run with the machine's Node 20 (`make test` does). Needs `make build-npm` first.
// One file because every test uses the one tarball packed and installed in before() (seconds
// each time) and the secrets and errors collected across them; split by topic below (the
// package itself, createAuthorizationLink, options, compressed answers, completeSignIn, token
// faults, load and leaks).
import { test, before, after, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { mkdtempSync, writeFileSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startMockFreedomId } from '../support/mock-freedom-id.mjs';
import { AUTHORIZE_FAULTS, OIDC_TOKEN_FAULTS, TOKEN_FAULTS, USERINFO_FAULTS, fault, faults } from '../support/faults.mjs';
import { DEMO_USER } from '../support/mock-freedom-id.mjs';
import {
  ASSERTION_AUDIENCE, ASSERTION_ISSUER, ASSERTION_REFUSALS, ASSERTION_USER, assertionClaims, assertionKey, assertions, signAssertion,
} from './fixtures/flow/flow-core.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const CLIENT_ID = 'app-client';
const SECRET = 'npm-test-secret-value';
const BASIC = `Basic ${Buffer.from(`${CLIENT_ID}:${SECRET}`).toString('base64')}`;
const REDIRECT_URI = 'https://app.example.com/callback';
const EXPORTS = ['completeSignIn', 'createAuthorizationLink', 'exchangeAuthorizationCode', 'fetchUserInfo', 'refreshTokens', 'verifyGateAssertion'];
const TOKEN_KEYS = ['accessExpiresAt', 'accessToken', 'id', 'refreshExpiresAt', 'refreshToken'];
// completeSignIn's: the tokens and who signed in.
const SIGN_IN_KEYS = [...TOKEN_KEYS, 'idToken', 'idTokenClaims', 'user'].sort();
const LINK_KEYS = ['expireAt', 'nonce', 'state', 'trackId', 'url'];
const STATE_SHAPE = /^[A-Za-z0-9_-]{43}$/; // 256 bits, URL-safe base64 without padding

let app; // the temporary project the package is installed into
let mock;
let pkg; // the package as require() gives it
// The package's functions, each wrapped to collect the secrets it is given or hands back and
// the errors it rejects with (see `watched`).
let createAuthorizationLink;
let completeSignIn;
let exchangeAuthorizationCode;
let refreshTokens;

function run(command, args) {
  return execFileSync(command, args, { cwd: app, encoding: 'utf8' });
}

/** For children that call the mock: this process must keep serving it meanwhile. */
async function runAsync(command, args, env = process.env) {
  const { stdout } = await promisify(execFile)(command, args, { cwd: app, encoding: 'utf8', env });
  return stdout;
}

before(async () => {
  app = mkdtempSync(path.join(tmpdir(), 'freedom-id-edge-app-'));
  const packed = JSON.parse(run('npm', ['pack', path.join(root, 'pkg'), '--json', '--pack-destination', app]));
  writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', private: true }));
  run('npm', ['install', '--no-audit', '--no-fund', '--offline', path.join(app, packed[0].filename)]);
  pkg = createRequire(path.join(app, 'index.js'))('freedom-id-edge');
  createAuthorizationLink = watched(pkg.createAuthorizationLink);
  completeSignIn = watched(pkg.completeSignIn);
  exchangeAuthorizationCode = watched(pkg.exchangeAuthorizationCode);
  refreshTokens = watched(pkg.refreshTokens);
  mock = await startMockFreedomId({ clientId: CLIENT_ID, clientSecret: SECRET });
});

after(async () => {
  await mock?.close();
  if (app) rmSync(app, { recursive: true, force: true });
});

beforeEach(() => mock.reset());

// Every call the package made to Freedom ID in a test asked for an uncompressed answer.
afterEach(() => {
  // (The OIDC authorization page is the test's browser, not the package.)
  for (const request of mock.requests.filter((request) => request.endpoint !== 'openid')) {
    assert.equal(request.headers['accept-encoding'], 'identity', `${request.method} ${request.path}`);
  }
});

// ---------------------------------------------------------------------------------------------
// Secrets: everything secret a test handles (the client secret, codes, tokens, states) is
// collected here, and every error is checked against them, at once and again at the end.

const secrets = new Set([SECRET, BASIC.slice('Basic '.length)]);
// The user's profile is personal data: no error may carry any of it either (the mock's user;
// short values such as "KZ" would match by chance and are left out).
for (const [name, value] of Object.entries(DEMO_USER)) {
  if (typeof value === 'string' && value.length >= 4 && name !== 'gender') secrets.add(value);
}
const errors = [];
// Freedom ID's own error messages, as the mock sends them: no error may echo an answer body.
const UPSTREAM_TEXTS = ['Invalid authorization_code.', 'Invalid refresh token.', 'Unauthenticated.', 'Error validating'];

/** Short values (a test's `state: 'mine'`) could match ordinary words, so only long ones count. */
function remember(...values) {
  for (const value of values) if (typeof value === 'string' && value.length >= 8) secrets.add(value);
}

function rememberCallback(callbackUrl) {
  if (typeof callbackUrl !== 'string') return;
  const query = new URLSearchParams(callbackUrl.split('?')[1] ?? '');
  remember(query.get('authorization_code'), query.get('state'));
}

/** The options' secret values, read as plain data only: a getter or a Proxy trap is never run. */
function rememberOptions(options) {
  if (options === null || typeof options !== 'object') return;
  for (const name of ['clientSecret', 'code', 'refreshToken', 'expectedState', 'state', 'callbackUrl']) {
    let descriptor;
    try {
      descriptor = Object.getOwnPropertyDescriptor(options, name);
    } catch {
      return; // a Proxy that throws
    }
    if (!descriptor || !('value' in descriptor)) continue;
    if (name === 'callbackUrl') rememberCallback(descriptor.value);
    else remember(descriptor.value);
  }
}

function watched(call) {
  return async (options) => {
    rememberOptions(options);
    try {
      const result = await call(options);
      remember(result?.state, result?.accessToken, result?.refreshToken);
      return result;
    } catch (error) {
      errors.push(error);
      assertNothingSecretIn(error);
      throw error;
    }
  };
}

function everythingShown(error) {
  const own = Object.getOwnPropertyNames(error).map((name) => `${name}=${String(error[name])}`);
  return [error.message, error.stack, String(error), JSON.stringify(error), JSON.stringify(Object.entries(error)), ...own].join('\n');
}

function assertNothingSecretIn(error) {
  const shown = everythingShown(error);
  for (const secret of secrets) assert.ok(!shown.includes(secret), `an error holds a secret value: ${shown}`);
  for (const text of UPSTREAM_TEXTS) assert.ok(!shown.includes(text), `an error echoes Freedom ID's answer: ${shown}`);
}

function issueCode() {
  const code = mock.issueCode();
  remember(code);
  return code;
}

// ---------------------------------------------------------------------------------------------
// Helpers

function options(overrides = {}) {
  return {
    clientId: CLIENT_ID,
    clientSecret: SECRET,
    redirectUri: REDIRECT_URI,
    grants: ['openid', 'read.email'],
    authorizeUrl: mock.authorizeUrl,
    timeoutMs: 1000,
    ...overrides,
  };
}

function signInOptions(overrides = {}) {
  return { clientId: CLIENT_ID, clientSecret: SECRET, tokenUrl: mock?.tokenUrl, timeoutMs: 1000, ...overrides };
}

async function rejection(promise) {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail('expected a rejection');
}

async function rejectsWith(promise, code, details = {}) {
  const error = await rejection(promise);
  assert.ok(error instanceof Error, 'a real Error');
  assert.equal(error.code, code, error.message);
  assert.match(error.message, /^freedom-id-edge: /);
  for (const [key, value] of Object.entries(details)) {
    if (value === undefined) assert.ok(!(key in error), `no ${key} on ${code}`);
    else assert.equal(error[key], value, key);
  }
  return error;
}

const tokenRequests = () => mock.requests.filter((request) => request.endpoint === 'token');
const sentRedirectUri = (request = mock.requests.at(-1)) => JSON.parse(request.body).redirect_uri;
const nowSeconds = () => Date.now() / 1000;

/**
 * What a browser does with the link: opens the mock's sign-in page, submits its form with
 * Continue or Decline, and is sent back; answers the callback URL (the redirect's Location).
 */
async function signInInBrowser(link, decision = 'continue') {
  const page = await fetch(link.url);
  assert.equal(page.status, 200);
  const html = await page.text();
  const [, trackId] = /name="track_id" value="([^"]+)"/.exec(html) ?? [];
  assert.ok(trackId, 'the sign-in page has the track_id field');
  const answer = await fetch(new URL('/login/decide', link.url), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ track_id: trackId, decision }).toString(),
  });
  assert.equal(answer.status, 303);
  const location = answer.headers.get('location');
  rememberCallback(location);
  return location;
}

/** A signed-in user's tokens, the short way (an issued code, no browser). */
async function tokensForOneUser() {
  return exchangeAuthorizationCode(signInOptions({ code: issueCode() }));
}

function assertTokens(tokens) {
  const keys = Object.keys(tokens).sort();
  if (keys.includes('user')) {
    // completeSignIn's result in oauth2 without userInfoUrl: nobody known, no id_token.
    assert.deepEqual(keys, SIGN_IN_KEYS);
    assert.deepEqual([tokens.user, tokens.idToken, tokens.idTokenClaims], [null, null, null]);
  } else {
    assert.deepEqual(keys, TOKEN_KEYS);
  }
  assert.match(tokens.accessToken, /^[A-Za-z0-9]{128}$/);
  assert.match(tokens.refreshToken, /^[A-Za-z0-9]{128}$/);
  assert.ok(Number.isInteger(tokens.accessExpiresAt), 'accessExpiresAt is whole unix seconds');
  assert.ok(Number.isInteger(tokens.refreshExpiresAt), 'refreshExpiresAt is whole unix seconds');
}

// ---------------------------------------------------------------------------------------------
// The package itself

test('the tarball ships the wasm, glue, types, README and a complete package.json', () => {
  const manifest = JSON.parse(readFileSync(path.join(app, 'node_modules/freedom-id-edge/package.json'), 'utf8'));
  for (const field of ['name', 'version', 'description', 'license', 'repository', 'types', 'files', 'engines', 'keywords']) {
    assert.ok(manifest[field], `package.json has ${field}`);
  }
  assert.equal(manifest.name, 'freedom-id-edge');
  assert.match(manifest.description, /complet\w* (the )?sign-in/i);
  const installed = (file) => statSync(path.join(app, 'node_modules/freedom-id-edge', file)).size;
  for (const file of [manifest.main, manifest.types, 'freedom_id_edge_bg.wasm', 'README.md', 'LICENSE']) {
    assert.ok(installed(file) > 0, file);
  }
  const readme = readFileSync(path.join(app, 'node_modules/freedom-id-edge/README.md'), 'utf8');
  for (const word of [...EXPORTS, 'UPSTREAM_TIMEOUT', 'STATE_MISMATCH', 'SIGN_IN_DECLINED', 'CODE_REJECTED', 'REFRESH_REJECTED', 'ASSERTION_INVALID']) {
    assert.ok(readme.includes(word), `README mentions ${word}`);
  }
});

test('the package exports exactly its six functions (no wasm-bindgen start)', () => {
  assert.deepEqual(Object.keys(pkg).sort(), EXPORTS);
  for (const name of EXPORTS) assert.equal(typeof pkg[name], 'function', name);
  const manifest = JSON.parse(readFileSync(path.join(app, 'node_modules/freedom-id-edge/package.json'), 'utf8'));
  const types = readFileSync(path.join(app, 'node_modules/freedom-id-edge', manifest.types), 'utf8');
  assert.doesNotMatch(types, /export\s+(?:declare\s+)?(?:function|const|let|var)\s+start\b/);
  assert.doesNotMatch(types, /\bstart\s*\(/);
  for (const name of EXPORTS) assert.match(types, new RegExp(`export function ${name}\\(`), name);
});

test('import works from an ES module, and from CommonJS in a child process', async () => {
  writeFileSync(
    path.join(app, 'esm.mjs'),
    `import * as all from 'freedom-id-edge';
     import { createAuthorizationLink } from 'freedom-id-edge';
     const link = await createAuthorizationLink(JSON.parse(process.argv[2]));
     console.log(JSON.stringify({ link, names: Object.keys(all).filter((name) => name !== 'default').sort() }));`,
  );
  writeFileSync(
    path.join(app, 'cjs.cjs'),
    `const { createAuthorizationLink } = require('freedom-id-edge');
     createAuthorizationLink(JSON.parse(process.argv[2])).then((link) => console.log(JSON.stringify({ link })));`,
  );
  for (const file of ['esm.mjs', 'cjs.cjs']) {
    const { link, names } = JSON.parse(await runAsync(process.execPath, [file, JSON.stringify(options())]));
    remember(link.state);
    assert.ok(link.url.startsWith(`${mock.origin}/login?track_id=`), file);
    assert.match(link.state, STATE_SHAPE, file);
    if (names) assert.deepEqual(names, EXPORTS, 'the ES module namespace');
  }
});

test('the shipped .d.ts type-checks a caller of every export under tsc --strict', () => {
  writeFileSync(
    path.join(app, 'check.ts'),
    `import {
       createAuthorizationLink, completeSignIn, exchangeAuthorizationCode, refreshTokens, fetchUserInfo,
       type AuthorizationLink, type AuthorizationLinkOptions, type CompleteSignInOptions,
       type ExchangeAuthorizationCodeOptions, type RefreshTokensOptions, type Tokens,
       type SignIn, type User, type IdTokenClaims,
       verifyGateAssertion, type GateAssertion, type VerifyGateAssertionOptions,
     } from 'freedom-id-edge';
     import * as everything from 'freedom-id-edge';

     const options: AuthorizationLinkOptions = { clientId: 'a', clientSecret: 'b', redirectUri: 'https://x.kz/cb', grants: ['openid'] };
     const withAll: AuthorizationLinkOptions = { ...options, authorizeUrl: 'https://x.kz/a', timeoutMs: 100, state: 's' };
     const withoutState: AuthorizationLinkOptions = { ...options, state: false };
     const freshState: AuthorizationLinkOptions = { ...options, state: null };

     async function signIn(callbackUrl: string): Promise<Tokens> {
       const link: AuthorizationLink = await createAuthorizationLink(withAll);
       const track: string | null = link.trackId;
       const expiry: number | null = link.expireAt;
       const kept: string | null = link.state;
       // @ts-expect-error state is null for a link made with state: false
       const always: string = link.state;
       const client = { clientId: 'a', clientSecret: 'b', callbackUrl, tokenUrl: 'https://x.kz/t', timeoutMs: 100 };
       const complete: CompleteSignInOptions = kept === null ? { ...client, skipStateCheck: true } : { ...client, expectedState: kept };
       const tokens: Tokens = await completeSignIn(complete);
       const explicit: CompleteSignInOptions = { ...client, expectedState: 's', skipStateCheck: false };
       // @ts-expect-error false no longer skips the state check: skipStateCheck: true does
       const lenient: CompleteSignInOptions = { ...client, expectedState: kept ?? false };
       // @ts-expect-error skipStateCheck cannot be combined with expectedState
       void completeSignIn({ ...client, expectedState: 's', skipStateCheck: true });
       // @ts-expect-error skipStateCheck is a boolean
       void completeSignIn({ ...client, skipStateCheck: 'yes' });
       const exchange: ExchangeAuthorizationCodeOptions = { clientId: 'a', clientSecret: 'b', code: 'c', tokenUrl: 'https://x.kz/t', timeoutMs: 100 };
       const exchanged: Tokens = await exchangeAuthorizationCode(exchange);
       const refresh: RefreshTokensOptions = { refreshToken: tokens.refreshToken, tokenUrl: 'https://x.kz/t', timeoutMs: 100 };
       const next: Tokens = await refreshTokens(refresh);
       const id: string | null = next.id;
       const access: string = next.accessToken;
       const until: number = Math.min(next.accessExpiresAt, next.refreshExpiresAt);
       // @ts-expect-error accessExpiresAt is a number of unix seconds
       const text: string = next.accessExpiresAt;
       void [track, expiry, always, exchanged, id, access, until, text, link.url, explicit, lenient];
       return next;
     }
     void [signIn, withoutState, freshState];
     // @ts-expect-error expectedState is required
     const noExpectedState: CompleteSignInOptions = { clientId: 'a', clientSecret: 'b', callbackUrl: '/cb?x' };
     // @ts-expect-error expectedState is a string, never true
     void completeSignIn({ ...noExpectedState, expectedState: true });
     // @ts-expect-error state is a string, false or null
     const numericState: AuthorizationLinkOptions = { ...options, state: 42 };
     // @ts-expect-error grants is required
     const missing: AuthorizationLinkOptions = { clientId: 'a', clientSecret: 'b', redirectUri: 'https://x.kz/cb' };
     // @ts-expect-error grants are strings
     void createAuthorizationLink({ ...options, grants: [1] });
     // @ts-expect-error refreshTokens needs the refresh token
     void refreshTokens({ tokenUrl: 'https://x.kz/t' });
     // @ts-expect-error start is not exported
     void everything.start;
     void [missing, numericState];

     // The OpenID Connect flavour and the user (issue #21).
     async function oidc(callbackUrl: string): Promise<string> {
       const link: AuthorizationLink = await createAuthorizationLink({ protocol: 'oidc', clientId: 'a', redirectUri: 'https://x.kz/cb', grants: ['openid'], nonce: 'n' });
       const nonce: string | null = link.nonce;
       // @ts-expect-error the oauth2 link takes no nonce
       void createAuthorizationLink({ ...options, nonce: 'n' });
       // @ts-expect-error the oauth2 link needs the client secret
       void createAuthorizationLink({ clientId: 'a', redirectUri: 'https://x.kz/cb', grants: ['openid'] });
       // @ts-expect-error an oidc link always has a state
       void createAuthorizationLink({ protocol: 'oidc', clientId: 'a', redirectUri: 'https://x.kz/cb', grants: ['openid'], state: false });
       const signIn: SignIn = await completeSignIn({
         protocol: 'oidc', clientId: 'a', clientSecret: 'b', callbackUrl, redirectUri: 'https://x.kz/cb',
         expectedState: 's', expectedNonce: nonce ?? 'n', issuer: 'https://x.kz', jwksUrl: 'https://x.kz/jwks', userInfoUrl: 'https://x.kz/me',
       });
       // @ts-expect-error oidc needs the expected nonce
       void completeSignIn({ protocol: 'oidc', clientId: 'a', clientSecret: 'b', callbackUrl, redirectUri: 'https://x.kz/cb', expectedState: 's' });
       const tokens: Tokens = signIn; // still a Tokens
       const who: User | null = signIn.user;
       const first: string | undefined = who?.firstname;
       if (signIn.idToken !== null) {
         const claims: IdTokenClaims = signIn.idTokenClaims;
         const sub: string = signIn.user.id;
         void [claims.sub, claims.exp, sub];
       }
       const alone: User = await fetchUserInfo({ accessToken: tokens.accessToken, userInfoUrl: 'https://x.kz/me', timeoutMs: 100 });
       // @ts-expect-error fetchUserInfo needs the URL
       void fetchUserInfo({ accessToken: 'a' });
       return [first, alone.id].join(" ");
     }
     void oidc;

     // The gate's assertion (issue #22).
     async function gate(header: string | undefined): Promise<string | null> {
       const byUrl: VerifyGateAssertionOptions = { jwksUrl: 'https://x.kz/.well-known/jwks.json', issuer: 'https://x.kz', audience: 'https://o.kz' };
       const given: VerifyGateAssertionOptions = { jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y', kid: 'k' }] }, issuer: 'https://x.kz', audience: 'https://o.kz', clockToleranceSec: 10 };
       const who: GateAssertion = await verifyGateAssertion(header, byUrl);
       const again: GateAssertion = await verifyGateAssertion(null, given);
       const exp: number = who.exp;
       const name: string | undefined = who.user?.firstname;
       // @ts-expect-error jwksUrl and jwks cannot be combined
       void verifyGateAssertion(header, { ...byUrl, jwks: given.jwks });
       // @ts-expect-error the audience is required
       void verifyGateAssertion(header, { jwksUrl: 'https://x.kz/jwks', issuer: 'https://x.kz' });
       void [exp, name, again.sid];
       return who.sub;
     }
     void gate;`,
  );
  writeFileSync(
    path.join(app, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { strict: true, noEmit: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', types: [] },
      files: ['check.ts'],
    }),
  );
  const tsc = path.join(root, 'node_modules/typescript/bin/tsc');
  try {
    run(process.execPath, [tsc, '-p', 'tsconfig.json']);
  } catch (error) {
    assert.fail(`tsc --strict failed:\n${error.stdout}${error.stderr}`);
  }
});

// ---------------------------------------------------------------------------------------------
// createAuthorizationLink

test('require() gets a link from Freedom ID, sending the documented request', async () => {
  const link = await createAuthorizationLink(options());
  const url = new URL(link.url);
  assert.equal(url.origin, mock.origin);
  assert.equal(link.trackId, url.searchParams.get('track_id'));
  assert.equal(link.expireAt, Number(url.searchParams.get('expire_at')));
  assert.ok(Math.abs(link.expireAt - (nowSeconds() + 600)) < 30);
  assert.deepEqual(Object.keys(link).sort(), LINK_KEYS);
  const [request] = mock.requests;
  assert.equal(request.method, 'POST');
  assert.equal(request.headers.authorization, BASIC);
  assert.deepEqual(JSON.parse(request.body), {
    redirect_uri: `${REDIRECT_URI}?state=${link.state}`,
    grants: ['openid', 'read.email'],
  });
});

test('without a state option a fresh 256-bit state is made, sent and returned', async () => {
  const first = await createAuthorizationLink(options());
  const second = await createAuthorizationLink(options());
  for (const [index, link] of [first, second].entries()) {
    assert.match(link.state, STATE_SHAPE);
    const sent = new URL(sentRedirectUri(mock.requests[index]));
    assert.equal(`${sent.origin}${sent.pathname}`, REDIRECT_URI);
    assert.deepEqual([...sent.searchParams], [['state', link.state]]);
  }
  assert.notEqual(first.state, second.state);
  for (const state of [undefined, null]) {
    const link = await createAuthorizationLink(options({ state }));
    assert.match(link.state, STATE_SHAPE, `state: ${state}`);
    assert.ok(![first.state, second.state].includes(link.state));
    assert.equal(new URL(sentRedirectUri()).searchParams.get('state'), link.state);
  }
});

test('state: a string is used as given; false sends none; anything else is refused', async () => {
  const mine = await createAuthorizationLink(options({ state: 'mine' }));
  assert.equal(mine.state, 'mine');
  assert.equal(sentRedirectUri(), `${REDIRECT_URI}?state=mine`);

  const none = await createAuthorizationLink(options({ state: false }));
  assert.equal(none.state, null);
  assert.deepEqual(Object.keys(none).sort(), LINK_KEYS);
  assert.equal(sentRedirectUri(), REDIRECT_URI);

  mock.reset();
  for (const state of [42, true, {}, '']) {
    const error = await rejectsWith(createAuthorizationLink(options({ state })), 'INVALID_OPTIONS');
    assert.match(error.message, /\bstate (must be a string or false|must be a non-empty string)/, String(state));
  }
  assert.equal(mock.requests.length, 0);
});

test('the state is appended to redirectUri, keeping its query', async () => {
  await createAuthorizationLink(options({ redirectUri: `${REDIRECT_URI}?lang=kk`, state: 'a b/c' }));
  assert.equal(sentRedirectUri(), `${REDIRECT_URI}?lang=kk&state=a%20b%2Fc`);
  const link = await createAuthorizationLink(options({ redirectUri: `${REDIRECT_URI}?lang=kk` }));
  assert.equal(sentRedirectUri(), `${REDIRECT_URI}?lang=kk&state=${link.state}`);
  const error = await rejectsWith(createAuthorizationLink(options({ redirectUri: `${REDIRECT_URI}?state=x` })), 'INVALID_OPTIONS');
  assert.match(error.message, /redirectUri already has a `state` query parameter/);
  await createAuthorizationLink(options({ redirectUri: `${REDIRECT_URI}?state=x`, state: false }));
  assert.equal(sentRedirectUri(), `${REDIRECT_URI}?state=x`);
});

// The authorize modes walked here, with the code and details each rejects with (support/faults.mjs).
const linkFaults = faults(AUTHORIZE_FAULTS, [
  'status:500', 'status:401', 'error-200', 'redirect', 'not-json', 'no-redirect-uri', 'huge', 'huge-chunked',
  'evil-link', 'userinfo-link', 'reset', 'hang', 'hang-body',
]);

for (const { mode, npm: { code, details } } of linkFaults) {
  test(`authorize ${mode} rejects with code ${code}`, async () => {
    mock.setMode(mode);
    await rejectsWith(createAuthorizationLink(options({ timeoutMs: 500 })), code, details);
    assert.equal(mock.requests.length, 1);
  });
}

test('a refused connection rejects with UPSTREAM_NETWORK', async () => {
  const gone = await startMockFreedomId();
  await gone.close();
  await rejectsWith(createAuthorizationLink(options({ authorizeUrl: gone.authorizeUrl })), 'UPSTREAM_NETWORK');
  await rejectsWith(exchangeAuthorizationCode(signInOptions({ code: 'some-code-value', tokenUrl: gone.tokenUrl })), 'UPSTREAM_NETWORK');
});

// ---------------------------------------------------------------------------------------------
// Options

const badLinkOptions = [
  ['no options', undefined, /createAuthorizationLink expects an options object/],
  ['a string', 'clientId', /expects an options object/],
  ['an array', [], /expects an options object/],
  ['missing clientSecret', { clientSecret: undefined }, /clientSecret is missing/],
  ['numeric clientId', { clientId: 42 }, /clientId must be a string/],
  ['grants as one string', { grants: 'openid read.email' }, /grants must be an array of strings/],
  ['grants with a number', { grants: ['openid', 7] }, /grants must be an array of strings/],
  ['empty grants', { grants: [] }, /grants names no grant/],
  ['malformed grant', { grants: ['read.Email'] }, /grants has "read.Email", which is not a grant/],
  ['relative redirectUri', { redirectUri: '/callback' }, /redirectUri is not an absolute/],
  ['http redirectUri off localhost', { redirectUri: 'http://app.example.com/cb' }, /redirectUri uses http:\/\//],
  ['non-URL authorizeUrl', { authorizeUrl: 'passport' }, /authorizeUrl is not an absolute/],
  ['timeoutMs as a string', { timeoutMs: '500' }, /timeoutMs must be a number/],
  ['fractional timeoutMs', { timeoutMs: 1.5 }, /timeoutMs must be a whole number/],
  ['secret with whitespace', { clientSecret: ` ${SECRET}` }, /clientSecret starts or ends with whitespace/],
];

for (const [name, overrides, message] of badLinkOptions) {
  test(`createAuthorizationLink: bad options (${name}) reject with INVALID_OPTIONS and call nobody`, async () => {
    const given = overrides === undefined || typeof overrides !== 'object' || Array.isArray(overrides) ? overrides : options(overrides);
    const error = await rejectsWith(createAuthorizationLink(given), 'INVALID_OPTIONS');
    assert.match(error.message, message);
    assert.equal(mock.requests.length, 0);
  });
}

const callback = `${REDIRECT_URI}?state=s1-expected-state&authorization_code=c0de-never-sent`;
// Built when a test runs (the mock's URL is known by then).
const badTokenOptions = () => [
  ['completeSignIn', 'no options', null, /completeSignIn expects an options object/],
  ['completeSignIn', 'missing expectedState', signInOptions({ callbackUrl: callback }), /expectedState is missing/],
  ['completeSignIn', 'empty expectedState', signInOptions({ callbackUrl: callback, expectedState: '' }), /expectedState must be the state/],
  ['completeSignIn', 'expectedState true', signInOptions({ callbackUrl: callback, expectedState: true }), /expectedState must be the state/],
  // Only skipStateCheck: true skips the check: `expectedState: session.state ?? false` must not.
  ['completeSignIn', 'expectedState false', signInOptions({ callbackUrl: callback, expectedState: false }), /expectedState must be the state/],
  ['completeSignIn', 'expectedState null', signInOptions({ callbackUrl: callback, expectedState: null }), /expectedState is missing/],
  ['completeSignIn', 'expectedState 0', signInOptions({ callbackUrl: callback, expectedState: 0 }), /expectedState must be the state/],
  ['completeSignIn', 'expectedState {}', signInOptions({ callbackUrl: callback, expectedState: {} }), /expectedState must be the state/],
  ['completeSignIn', 'skipStateCheck "yes"', signInOptions({ callbackUrl: callback, skipStateCheck: 'yes' }), /skipStateCheck must be true or false/],
  ['completeSignIn', 'skipStateCheck 1', signInOptions({ callbackUrl: callback, skipStateCheck: 1 }), /skipStateCheck must be true or false/],
  ['completeSignIn', 'skipStateCheck false, no expectedState', signInOptions({ callbackUrl: callback, skipStateCheck: false }), /expectedState is missing/],
  ['completeSignIn', 'skipStateCheck with expectedState', signInOptions({ callbackUrl: callback, expectedState: 's1-expected-state', skipStateCheck: true }), /skipStateCheck cannot be combined with expectedState/],
  ['completeSignIn', 'missing callbackUrl', signInOptions({ expectedState: 's1-expected-state' }), /callbackUrl is missing/],
  ['completeSignIn', 'relative callbackUrl', signInOptions({ callbackUrl: 'callback?authorization_code=x', expectedState: 'x' }), /callbackUrl must be the absolute URL/],
  ['completeSignIn', 'protocol-relative callbackUrl', signInOptions({ callbackUrl: '//evil.example/cb?state=x', expectedState: 'x' }), /callbackUrl must be/],
  ['completeSignIn', 'http tokenUrl off localhost', signInOptions({ callbackUrl: callback, expectedState: 'x', tokenUrl: 'http://evil.example/token' }), /tokenUrl uses http:\/\//],
  ['completeSignIn', 'timeoutMs 0', signInOptions({ callbackUrl: callback, expectedState: 'x', timeoutMs: 0 }), /timeoutMs must be a whole number/],
  ['completeSignIn', 'secret with whitespace', signInOptions({ callbackUrl: callback, expectedState: 'x', clientSecret: `${SECRET}\n` }), /clientSecret (contains a control character|starts or ends with whitespace)/],
  ['exchangeAuthorizationCode', 'missing code', signInOptions(), /code is missing/],
  ['exchangeAuthorizationCode', 'numeric code', signInOptions({ code: 42 }), /code must be a string/],
  ['exchangeAuthorizationCode', 'timeoutMs as a string', signInOptions({ code: 'c0de-never-sent', timeoutMs: '5' }), /timeoutMs must be a number/],
  ['refreshTokens', 'an array', [], /refreshTokens expects an options object/],
  ['refreshTokens', 'missing refreshToken', { tokenUrl: 'https://x.example/token' }, /refreshToken is missing/],
  ['refreshTokens', 'numeric refreshToken', { refreshToken: 7 }, /refreshToken must be a string/],
  ['refreshTokens', 'non-URL tokenUrl', { refreshToken: 'r-never-sent-token', tokenUrl: 'passport' }, /tokenUrl is not an absolute/],
];

for (const [index, [fn, name]] of badTokenOptions().entries()) {
  test(`${fn}: bad options (${name}) reject with INVALID_OPTIONS and call nobody`, async () => {
    const [, , given, message] = badTokenOptions()[index];
    const functions = { completeSignIn, exchangeAuthorizationCode, refreshTokens };
    const error = await rejectsWith(functions[fn](given), 'INVALID_OPTIONS');
    assert.match(error.message, message);
    assert.equal(mock.requests.length, 0);
  });
}

/** Sets properties on Object.prototype for the length of `body`, always removing them after. */
async function withPollutedPrototype(values, body) {
  // Plain assignment, as a polluting library would do it: the properties are enumerable too.
  for (const [name, value] of Object.entries(values)) Object.prototype[name] = value;
  try {
    await body();
  } finally {
    for (const name of Object.keys(values)) delete Object.prototype[name];
  }
}

test('a polluted Object.prototype never redirects a call, nor sets its timeout or state', async () => {
  const decoy = await startMockFreedomId({ clientId: CLIENT_ID, clientSecret: SECRET });
  try {
    await withPollutedPrototype(
      { authorizeUrl: decoy.authorizeUrl, tokenUrl: decoy.tokenUrl, timeoutMs: 1, state: 'polluted-state-value' },
      async () => {
        mock.setMode('slow:200');
        mock.setTokenMode('slow:200');
        const { timeoutMs: _none, ...defaultTimeout } = options();
        const link = await createAuthorizationLink(defaultTimeout); // 5000 ms, not the inherited 1
        assert.match(link.state, STATE_SHAPE);
        assert.equal(new URL(sentRedirectUri()).searchParams.get('state'), link.state);
        const given = await createAuthorizationLink(options({ timeoutMs: 1000 }));
        assert.match(given.state, STATE_SHAPE);

        const callbackUrl = await signInInBrowser(link);
        const tokens = await completeSignIn({ clientId: CLIENT_ID, clientSecret: SECRET, callbackUrl, expectedState: link.state, tokenUrl: mock.tokenUrl });
        assertTokens(tokens);
        assertTokens(await refreshTokens({ refreshToken: tokens.refreshToken, tokenUrl: mock.tokenUrl }));
        assert.deepEqual(
          mock.requests.map((request) => `${request.endpoint} ${request.method}`),
          ['authorize POST', 'authorize POST', 'token POST', 'token PATCH'],
        );
      },
    );
    assert.equal(decoy.requests.length, 0, 'the polluted URLs got nothing');
  } finally {
    await decoy.close();
  }
});

test('inherited properties never stand in for missing options', async () => {
  await withPollutedPrototype(
    {
      clientSecret: SECRET,
      authorizeUrl: 'not a url',
      tokenUrl: 'not a url',
      timeoutMs: 'soon',
      state: 42,
      expectedState: 'inherited-state',
      skipStateCheck: true,
      code: 'inherited-code-value',
      refreshToken: 'inherited-refresh-token',
      callbackUrl: callback,
    },
    async () => {
      const cases = [
        [createAuthorizationLink({ clientId: CLIENT_ID, redirectUri: REDIRECT_URI, grants: ['openid'] }), /clientSecret is missing/],
        [completeSignIn({ clientId: CLIENT_ID, clientSecret: SECRET, callbackUrl: callback }), /expectedState is missing/],
        [completeSignIn({ clientId: CLIENT_ID, clientSecret: SECRET, expectedState: 'x' }), /callbackUrl is missing/],
        [exchangeAuthorizationCode({ clientId: CLIENT_ID, clientSecret: SECRET }), /code is missing/],
        [refreshTokens({}), /refreshToken is missing/],
      ];
      for (const [call, message] of cases) {
        const error = await rejectsWith(call, 'INVALID_OPTIONS');
        assert.match(error.message, message);
        assert.doesNotMatch(error.message, /authorizeUrl|tokenUrl|timeoutMs|\bstate must|skipStateCheck (must|cannot)/, 'an inherited value was read');
      }
    },
  );
  assert.equal(mock.requests.length, 0);
});

test('an option that cannot be read is INVALID_OPTIONS naming it, never echoing what it threw', async () => {
  const throwing = (target, name) =>
    Object.defineProperty(target, name, {
      get() {
        throw new Error(`boom ${SECRET}`);
      },
      enumerable: true,
    });
  const cases = [
    [createAuthorizationLink, throwing(options(), 'clientSecret'), 'clientSecret'],
    [completeSignIn, throwing(signInOptions({ callbackUrl: callback, expectedState: 'x' }), 'clientSecret'), 'clientSecret'],
    [completeSignIn, throwing(signInOptions({ callbackUrl: callback }), 'expectedState'), 'expectedState'],
    [completeSignIn, throwing(signInOptions({ callbackUrl: callback, expectedState: 'x' }), 'skipStateCheck'), 'skipStateCheck'],
    [exchangeAuthorizationCode, throwing(signInOptions({ code: 'c0de-never-sent' }), 'clientSecret'), 'clientSecret'],
    [refreshTokens, throwing({ tokenUrl: mock.tokenUrl }, 'refreshToken'), 'refreshToken'],
  ];
  for (const [call, given, name] of cases) {
    const error = await rejectsWith(call(given), 'INVALID_OPTIONS');
    assert.match(error.message, new RegExp(`\\b${name} could not be read`));
    assert.doesNotMatch(everythingShown(error), /boom/);
  }
  const trap = new Proxy(options(), {
    getOwnPropertyDescriptor() {
      throw new Error(`trap ${SECRET}`);
    },
  });
  const error = await rejectsWith(createAuthorizationLink(trap), 'INVALID_OPTIONS');
  assert.doesNotMatch(everythingShown(error), /trap/);
  assert.equal(mock.requests.length, 0);
});

// Object.prototype as a polluting library leaves it: the names of Freedom ID's answers and of
// the options, each with a value that must never be read. Not `error`: Node's own fetch and
// streams read `.error` of their objects and stop working (even console.log does); Deno, Bun and
// workerd take it, and tests/npm/runtimes.test.mjs pollutes it there.
const POLLUTION = {
  access_token: 'polluted-access-token-value',
  refresh_token: 'polluted-refresh-token-value',
  redirect_uri: 'https://evil.example/login?track_id=polluted',
  authorizeUrl: 'https://evil.example/api/v1/oauth/authorize',
  tokenUrl: 'https://evil.example/api/v1/oauth/token',
  clientSecret: 'polluted-client-secret',
  timeoutMs: 'soon',
};

/** Asserts no value of POLLUTION shows in `error` (or anything JSON can say of a result). */
function assertUnpolluted(value, where) {
  const shown = value instanceof Error ? everythingShown(value) : JSON.stringify(value);
  assert.doesNotMatch(shown, /polluted|evil\.example/, `${where}: an inherited value was read: ${shown}`);
}

test('with Object.prototype polluted, upstream answers are read as Freedom ID sent them', async () => {
  await withPollutedPrototype(POLLUTION, async () => {
    const link = await createAuthorizationLink(options());
    assert.ok(link.url.startsWith(`${mock.origin}/login?track_id=`), link.url);
    assertUnpolluted(link, 'the link');
    // An answer without `redirect_uri` (or `access_token`) is malformed, never the inherited one.
    mock.setMode('no-redirect-uri');
    assertUnpolluted(await rejectsWith(createAuthorizationLink(options()), 'UPSTREAM_MALFORMED'), 'no-redirect-uri');
    mock.setTokenMode('no-access-token');
    const malformed = await rejectsWith(exchangeAuthorizationCode(signInOptions({ code: issueCode() })), 'UPSTREAM_MALFORMED');
    assertUnpolluted(malformed, 'no-access-token');
    // A token pair: its own tokens.
    mock.reset();
    const tokens = await tokensForOneUser();
    assertTokens(tokens);
    assertUnpolluted(tokens, 'the tokens');
    const refreshed = await refreshTokens({ refreshToken: tokens.refreshToken, tokenUrl: mock.tokenUrl });
    assertTokens(refreshed);
    assertUnpolluted(refreshed, 'the refresh');
    // A refusal is still one, with Freedom ID's own code.
    mock.setTokenMode('status:401');
    await rejectsWith(refreshTokens({ refreshToken: refreshed.refreshToken, tokenUrl: mock.tokenUrl }), 'REFRESH_REJECTED', {
      status: 401,
      upstreamCode: '100100',
    });
  });
});

test('with Object.prototype polluted, the options rules hold and the results are plain objects', async () => {
  await withPollutedPrototype(POLLUTION, async () => {
    // An inherited option is ignored: the secret is missing, the URLs and timeout are the defaults.
    const { clientSecret: _secret, ...withoutSecret } = options();
    const missing = await rejectsWith(createAuthorizationLink(withoutSecret), 'INVALID_OPTIONS');
    assert.equal(missing.message, 'freedom-id-edge: invalid options: clientSecret is missing');
    // A throwing getter names its option; a wrong type names the option and the type it needs.
    const throwing = Object.defineProperty(options(), 'clientSecret', {
      get() {
        throw new Error(`boom ${SECRET}`);
      },
      enumerable: true,
    });
    const unreadable = await rejectsWith(createAuthorizationLink(throwing), 'INVALID_OPTIONS');
    assert.equal(unreadable.message, 'freedom-id-edge: invalid options: clientSecret could not be read');
    const wrong = await rejectsWith(
      completeSignIn(signInOptions({ clientId: 42, callbackUrl: callback, expectedState: 'x', timeoutMs: '5' })),
      'INVALID_OPTIONS',
    );
    assert.equal(wrong.message, 'freedom-id-edge: invalid options: clientId must be a string; timeoutMs must be a number');
    for (const error of [missing, unreadable, wrong]) {
      assertUnpolluted(error, error.message);
      assert.doesNotMatch(everythingShown(error), /boom/);
    }
    // The results: plain objects with exactly their own keys, null where there is no value.
    const link = await createAuthorizationLink(options({ state: false }));
    assert.equal(Object.getPrototypeOf(link), Object.prototype);
    assert.deepEqual(Object.keys(link).sort(), LINK_KEYS);
    assert.equal(link.state, null);
    assert.equal(mock.requests.length, 1);
  });
});

test('an array option is read from its own items only: a hole is not Array.prototype[0]', async () => {
  Array.prototype[0] = 'openid';
  try {
    // eslint-disable-next-line no-sparse-arrays
    const error = await rejectsWith(createAuthorizationLink(options({ grants: [, 'read.email'] })), 'INVALID_OPTIONS');
    assert.match(error.message, /grants must be an array of strings/);
  } finally {
    delete Array.prototype[0];
  }
  const items = ['openid'];
  Object.defineProperty(items, 1, {
    get() {
      throw new Error(`boom ${SECRET}`);
    },
    enumerable: true,
  });
  const error = await rejectsWith(createAuthorizationLink(options({ grants: items })), 'INVALID_OPTIONS');
  assert.match(error.message, /grants must be an array of strings/);
  assert.doesNotMatch(everythingShown(error), /boom/);
  assert.equal(mock.requests.length, 0);
});

test('each option is read once, own enumerable ones only; a null-prototype object is read like any other', async () => {
  let reads = 0;
  const counted = Object.defineProperty(options(), 'clientId', {
    get() {
      reads += 1;
      return CLIENT_ID;
    },
    enumerable: true,
  });
  assert.ok((await createAuthorizationLink(counted)).url.startsWith(mock.origin));
  assert.equal(reads, 1, 'the getter ran once');
  // A non-enumerable own property is not an option (what a spread or JSON would leave out too).
  const hidden = Object.defineProperty(options(), 'clientSecret', { value: SECRET, enumerable: false });
  assert.match((await rejectsWith(createAuthorizationLink(hidden), 'INVALID_OPTIONS')).message, /clientSecret is missing/);
  // Object.create(null) options (the package used to read them as empty).
  const bare = Object.assign(Object.create(null), options());
  assert.ok((await createAuthorizationLink(bare)).url.startsWith(mock.origin));
  // A function, a bigint or a symbol is of the wrong type, like any other value.
  const odd = await rejectsWith(createAuthorizationLink(options({ timeoutMs: 5000n, clientId: () => CLIENT_ID, state: Symbol('s') })), 'INVALID_OPTIONS');
  assert.equal(odd.message, 'freedom-id-edge: invalid options: clientId must be a string; timeoutMs must be a number; state must be a string or false');
});

// ---------------------------------------------------------------------------------------------
// Compressed answers

/**
 * Runs 20 + 3 x 20 bombs in a child Node, so its RSS is its own, then switches the mock back to
 * `ok` over HTTP and makes one normal call. Answers what the child saw. RSS is measured over
 * each of the three windows of 20 after the first 20, and the median growth counts. Node's
 * fetch decodes `br` whatever `Accept-Encoding` asked for; the package reads at most 64 KiB of
 * each answer and holds nothing; unbounded, each bomb would be a 50 MiB buffer copied into wasm
 * memory, which never shrinks.
 *
 * The flags take V8's own noise out of RSS, which otherwise moves by up to 15 MiB either way
 * over 20 plain calls: `--no-liftoff` compiles the wasm fully at load (no tier-up compiles in
 * the background mid-measurement), `--single-threaded-gc` makes `global.gc()` release memory
 * before it returns, and `--max-semi-space-size=1` stops the young generation growing. The C
 * allocator's mmap threshold is pinned (below) for the same reason.
 */
async function bombInChild(endpoint, mode) {
  if (endpoint === 'authorize') mock.setMode(mode);
  else mock.setTokenMode(mode);
  const codes = Array.from({ length: 81 }, issueCode);
  writeFileSync(
    path.join(app, 'bombs.cjs'),
    `const pkg = require('freedom-id-edge');
     const { origin, endpoint, codes, clientId, clientSecret } = JSON.parse(process.argv[2]);
     let next = 0;
     const call = () =>
       endpoint === 'authorize'
         ? pkg.createAuthorizationLink({ clientId, clientSecret, redirectUri: 'https://app.example.com/callback',
             grants: ['openid'], authorizeUrl: origin + '/api/v1/oauth/authorize', timeoutMs: 5000 })
         : pkg.exchangeAuthorizationCode({ clientId, clientSecret, code: codes[next++],
             tokenUrl: origin + '/api/v1/oauth/token', timeoutMs: 5000 });
     async function bomb() {
       const started = performance.now();
       let code = 'RESOLVED';
       try { await call(); } catch (error) { code = error.code; }
       return { code, ms: performance.now() - started };
     }
     async function settledRss() {
       for (let i = 0; i < 3; i++) { global.gc(); await new Promise((resolve) => setTimeout(resolve, 10)); }
       return process.memoryUsage().rss;
     }
     (async () => {
       // Warm Node's fetch (undici) up without a bomb: its first use costs about 15 MiB of RSS
       // whatever the answer.
       for (let i = 0; i < 5; i++) await (await fetch(origin + '/healthz')).text();
       const atStart = await settledRss();
       const warmUp = [];
       for (let i = 0; i < 20; i++) warmUp.push(await bomb());
       const bombs = [];
       const growths = [];
       for (let window = 0; window < 3; window++) {
         const before = await settledRss();
         for (let i = 0; i < 20; i++) bombs.push(await bomb());
         growths.push((await settledRss()) - before);
       }
       const rssBefore = 0;
       const rssAfter = growths.slice().sort((a, b) => a - b)[1];
       await fetch(origin + (endpoint === 'authorize' ? '/__mock/mode' : '/__mock/token-mode'), {
         method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ mode: 'ok' }) });
       const normal = await call();
       const total = (await settledRss()) - atStart;
       console.log(JSON.stringify({ warmUp, bombs, rssBefore, rssAfter, growths, total, normal }));
     })();`,
  );
  const config = { origin: mock.origin, endpoint, codes, clientId: CLIENT_ID, clientSecret: SECRET };
  const flags = ['--no-liftoff', '--single-threaded-gc', '--max-semi-space-size=1', '--expose-gc'];
  // glibc keeps freed large buffers (the brotli decoder's, inside Node's fetch) for reuse, so
  // RSS wanders by +-10 MiB from bomb to bomb. With its mmap threshold pinned, a freed big
  // buffer goes back to the OS and RSS shows what stays live, such as wasm memory, which never
  // shrinks: unbounded, each bomb would grow it by 50 MiB.
  const env = { ...process.env, MALLOC_MMAP_THRESHOLD_: '131072' };
  return JSON.parse(await runAsync(process.execPath, [...flags, 'bombs.cjs', JSON.stringify(config)], env));
}

const MiB = 1024 * 1024;

for (const endpoint of ['authorize', 'token']) {
  for (const mode of ['gzip-bomb', 'br-bomb']) {
    // What the bomb must be: the link's code, or the exchange's (the child exchanges codes).
    const bomb = fault(endpoint === 'authorize' ? AUTHORIZE_FAULTS : TOKEN_FAULTS, mode);
    const expected = endpoint === 'authorize' ? bomb.npm.code : bomb.exchange.npm.code;
    test(`${endpoint} ${mode}: 20 bombs are ${expected}, fast, in bounded memory; then a normal call works`, async (t) => {
      const { warmUp, bombs, rssBefore, rssAfter, growths, total, normal } = await bombInChild(endpoint, mode);
      remember(normal.state, normal.accessToken, normal.refreshToken);
      const growth = rssAfter - rssBefore;
      t.diagnostic(
        `${endpoint} ${mode}: RSS growth per 20 bombs ${growths.map((g) => (g / MiB).toFixed(1)).join(' / ')} MiB ` +
          `(median ${(growth / MiB).toFixed(1)}), ${(total / MiB).toFixed(1)} MiB over all 80; slowest ${Math.max(...bombs.map((b) => b.ms)).toFixed(0)} ms`,
      );
      for (const { code, ms } of [...warmUp, ...bombs]) {
        assert.equal(code, expected);
        assert.ok(ms < 2000, `a bomb took ${ms} ms`);
      }
      assert.ok(growth <= 8 * MiB, `RSS grew ${(growth / MiB).toFixed(1)} MiB across 20 bombs (median of 3 windows)`);
      // The first bombs too: one 50 MiB answer copied into wasm memory would stay there.
      assert.ok(total <= 16 * MiB, `RSS grew ${(total / MiB).toFixed(1)} MiB across all 80 bombs`);
      if (endpoint === 'authorize') {
        assert.ok(normal.url.startsWith(`${mock.origin}/login?track_id=`));
        assert.match(normal.state, STATE_SHAPE);
      } else {
        assertTokens(normal);
      }
      assert.equal(mock.requests.length, 81);
      for (const request of mock.requests) assert.equal(request.headers['accept-encoding'], 'identity');
    });
  }
}

test('a gzip-compressed correct answer still works on both endpoints', async () => {
  mock.setMode('gzip-ok');
  mock.setTokenMode('gzip-ok');
  const link = await createAuthorizationLink(options());
  assert.ok(link.url.startsWith(`${mock.origin}/login?track_id=`));
  const callbackUrl = await signInInBrowser(link);
  const tokens = await completeSignIn(signInOptions({ callbackUrl, expectedState: link.state }));
  assertTokens(tokens);
  assertTokens(await refreshTokens({ refreshToken: tokens.refreshToken, tokenUrl: mock.tokenUrl }));
  assert.deepEqual(
    mock.requests.map((request) => request.headers['accept-encoding']),
    ['identity', 'identity', 'identity'],
  );
});

// ---------------------------------------------------------------------------------------------
// completeSignIn: the callback

test('completeSignIn, driven as a browser would, returns the token pair', async () => {
  mock.setTokenLifetimes({ accessTtlSeconds: 900, refreshTtlSeconds: 7200 });
  const link = await createAuthorizationLink(options());
  const callbackUrl = await signInInBrowser(link);
  const back = new URL(callbackUrl);
  assert.equal(`${back.origin}${back.pathname}`, REDIRECT_URI);
  assert.equal(back.searchParams.get('state'), link.state);
  const code = back.searchParams.get('authorization_code');
  assert.match(code, /^[0-9a-f]{32}$/);

  const before = nowSeconds();
  const tokens = await completeSignIn({
    clientId: CLIENT_ID,
    clientSecret: SECRET,
    callbackUrl,
    expectedState: link.state,
    tokenUrl: mock.tokenUrl,
  });
  assertTokens(tokens);
  assert.match(tokens.id, /^[0-9a-f-]{36}$/);
  assert.ok(Math.abs(tokens.accessExpiresAt - (before + 900)) <= 3, `accessExpiresAt ${tokens.accessExpiresAt}`);
  assert.ok(Math.abs(tokens.refreshExpiresAt - (before + 7200)) <= 3, `refreshExpiresAt ${tokens.refreshExpiresAt}`);
  assert.equal(mock.codeStatus(code).spent, true);

  const exchange = tokenRequests();
  assert.equal(exchange.length, 1);
  assert.equal(exchange[0].method, 'POST');
  assert.equal(exchange[0].headers.authorization, BASIC);
  assert.deepEqual(JSON.parse(exchange[0].body), { authorization_code: code });
});

test('completeSignIn takes the callback as its path and query only (req.originalUrl)', async () => {
  const link = await createAuthorizationLink(options({ redirectUri: `${REDIRECT_URI}?lang=kk` }));
  const back = new URL(await signInInBrowser(link));
  const tokens = await completeSignIn(signInOptions({ callbackUrl: `${back.pathname}${back.search}`, expectedState: link.state }));
  assertTokens(tokens);
});

test('a forged state is STATE_MISMATCH, sends nothing and leaves the code unspent', async () => {
  const link = await createAuthorizationLink(options());
  const callbackUrl = await signInInBrowser(link);
  const code = new URL(callbackUrl).searchParams.get('authorization_code');
  const attackers = await createAuthorizationLink(options());
  const forged = new URL(callbackUrl);
  forged.searchParams.set('state', attackers.state);
  await rejectsWith(completeSignIn(signInOptions({ callbackUrl: forged.href, expectedState: link.state })), 'STATE_MISMATCH');
  await rejectsWith(completeSignIn(signInOptions({ callbackUrl, expectedState: attackers.state })), 'STATE_MISMATCH');
  assert.equal(mock.codeStatus(code).spent, false);
  assert.equal(tokenRequests().length, 0);

  const tokens = await completeSignIn(signInOptions({ callbackUrl, expectedState: link.state }));
  assertTokens(tokens);
  assert.equal(mock.codeStatus(code).spent, true);
});

test('a callback without its state is STATE_MISMATCH', async () => {
  const link = await createAuthorizationLink(options());
  const stripped = new URL(await signInInBrowser(link));
  stripped.searchParams.delete('state');
  await rejectsWith(completeSignIn(signInOptions({ callbackUrl: stripped.href, expectedState: link.state })), 'STATE_MISMATCH');
  const unbound = await createAuthorizationLink(options({ state: false }));
  const back = await signInInBrowser(unbound);
  await rejectsWith(completeSignIn(signInOptions({ callbackUrl: back, expectedState: link.state })), 'STATE_MISMATCH');
  assert.equal(tokenRequests().length, 0);
});

test('skipStateCheck: true completes a sign-in started with state: false', async () => {
  const link = await createAuthorizationLink(options({ state: false }));
  assert.equal(link.state, null);
  const callbackUrl = await signInInBrowser(link);
  assert.equal(new URL(callbackUrl).searchParams.has('state'), false);
  assertTokens(await completeSignIn(signInOptions({ callbackUrl, skipStateCheck: true })));
});

test('expectedState false (a lost session\'s `state ?? false`) is INVALID_OPTIONS, not a skipped check', async () => {
  const link = await createAuthorizationLink(options({ state: false }));
  const callbackUrl = await signInInBrowser(link);
  const code = new URL(callbackUrl).searchParams.get('authorization_code');
  for (const expectedState of [false, null, 0, {}]) {
    const error = await rejectsWith(completeSignIn(signInOptions({ callbackUrl, expectedState })), 'INVALID_OPTIONS');
    assert.match(error.message, /\bexpectedState (must be the state|is missing)/, String(expectedState));
    assert.ok(!everythingShown(error).includes(SECRET), 'the client secret is never in the error');
  }
  assert.equal(tokenRequests().length, 0);
  assert.equal(mock.codeStatus(code).spent, false);
  assertTokens(await completeSignIn(signInOptions({ callbackUrl, skipStateCheck: true })));
});

test('an inherited skipStateCheck never switches the state check off', async () => {
  const link = await createAuthorizationLink(options());
  const callbackUrl = await signInInBrowser(link);
  const forged = new URL(callbackUrl);
  forged.searchParams.set('state', 'forged-state-value');
  const code = forged.searchParams.get('authorization_code');
  await withPollutedPrototype({ skipStateCheck: true }, async () => {
    await rejectsWith(completeSignIn(signInOptions({ callbackUrl: forged.href, expectedState: link.state })), 'STATE_MISMATCH');
    const error = await rejectsWith(completeSignIn(signInOptions({ callbackUrl: forged.href })), 'INVALID_OPTIONS');
    assert.match(error.message, /expectedState is missing/);
    assert.doesNotMatch(error.message, /skipStateCheck (must|cannot)/);
  });
  assert.equal(tokenRequests().length, 0);
  assert.equal(mock.codeStatus(code).spent, false);
});

test('a replayed code is CODE_REJECTED with status 400 and upstreamCode 100101', async () => {
  const link = await createAuthorizationLink(options());
  const callbackUrl = await signInInBrowser(link);
  assertTokens(await completeSignIn(signInOptions({ callbackUrl, expectedState: link.state })));
  await rejectsWith(completeSignIn(signInOptions({ callbackUrl, expectedState: link.state })), 'CODE_REJECTED', {
    status: 400,
    upstreamCode: '100101',
  });
});

test('refusals in a 200 answer and validation errors are CODE_REJECTED', async () => {
  for (const { mode, exchange: { npm } } of faults(TOKEN_FAULTS, ['error-200', 'error-200-string-code', 'validation-error'])) {
    mock.setTokenMode(mode);
    assert.equal(npm.code, 'CODE_REJECTED', mode);
    await rejectsWith(exchangeAuthorizationCode(signInOptions({ code: issueCode() })), npm.code, npm.details);
  }
});

test('a declined sign-in is SIGN_IN_DECLINED with Freedom ID\'s error code; a bare callback is INVALID_OPTIONS', async () => {
  const link = await createAuthorizationLink(options());
  const callbackUrl = await signInInBrowser(link, 'decline');
  assert.equal(new URL(callbackUrl).searchParams.get('error_code'), '100102');
  await rejectsWith(completeSignIn(signInOptions({ callbackUrl, expectedState: 'another-browsers-state' })), 'STATE_MISMATCH');
  await rejectsWith(completeSignIn(signInOptions({ callbackUrl, expectedState: link.state })), 'SIGN_IN_DECLINED', {
    freedomIdErrorCode: '100102',
  });
  const bare = `${REDIRECT_URI}?state=${link.state}`;
  const error = await rejectsWith(completeSignIn(signInOptions({ callbackUrl: bare, expectedState: link.state })), 'INVALID_OPTIONS');
  assert.match(error.message, /callbackUrl has neither authorization_code nor error_code/);
  assert.equal(tokenRequests().length, 0);
});

// ---------------------------------------------------------------------------------------------
// Token endpoint faults, on the exchange and on the refresh

// The token modes walked on the exchange and on the refresh, with what each gives there
// (support/faults.mjs): a refusal is CODE_REJECTED on the exchange, REFRESH_REJECTED on the refresh.
const tokenFaults = faults(TOKEN_FAULTS, [
  'status:500', 'status:503', 'status:400', 'status:401', 'error-200', 'error-200-string-code', 'validation-error',
  'redirect', 'not-json', 'no-access-token', 'bad-expiry', 'huge', 'huge-chunked', 'hang', 'hang-body', 'reset',
  'no-id', 'slow:150', 'gzip-ok',
]);

for (const call of ['exchange', 'refresh']) {
  for (const { mode, [call]: { npm: { code, details } } } of tokenFaults) {
    test(`token ${mode} on the ${call}: ${code ?? 'ok'}`, async () => {
      const start = call === 'refresh' ? await tokensForOneUser() : undefined;
      mock.reset();
      mock.setTokenMode(mode);
      const promise =
        call === 'exchange'
          ? exchangeAuthorizationCode(signInOptions({ code: issueCode(), timeoutMs: 400 }))
          : refreshTokens({ refreshToken: start.refreshToken, tokenUrl: mock.tokenUrl, timeoutMs: 400 });
      if (code === null) {
        const tokens = await promise;
        assertTokens(tokens);
        if ('id' in details) assert.equal(tokens.id, details.id);
        else if (start) assert.equal(tokens.id, start.id);
      } else {
        await rejectsWith(promise, code, details);
      }
      assert.deepEqual(
        tokenRequests().map((request) => request.method),
        [call === 'exchange' ? 'POST' : 'PATCH'],
        'one call, never retried',
      );
    });
  }
}

test('refreshTokens rotates the pair; the old refresh token is then REFRESH_REJECTED', async () => {
  const first = await tokensForOneUser();
  const second = await refreshTokens({ refreshToken: first.refreshToken, tokenUrl: mock.tokenUrl });
  assertTokens(second);
  assert.equal(second.id, first.id);
  assert.notEqual(second.accessToken, first.accessToken);
  assert.notEqual(second.refreshToken, first.refreshToken);
  const [patch] = tokenRequests().filter((request) => request.method === 'PATCH');
  assert.equal(patch.headers.authorization, `Bearer ${first.refreshToken}`);
  assert.equal(patch.body, '');

  await rejectsWith(refreshTokens({ refreshToken: first.refreshToken, tokenUrl: mock.tokenUrl }), 'REFRESH_REJECTED', {
    status: 401,
    upstreamCode: '100103',
  });
  const third = await refreshTokens({ refreshToken: second.refreshToken, tokenUrl: mock.tokenUrl });
  assert.equal(third.id, first.id);
});

// ---------------------------------------------------------------------------------------------
// The OpenID Connect flavour and the user's profile (issue #21)

const PROFILE = Object.fromEntries(Object.entries(DEMO_USER).filter(([name]) => name !== 'cards'));

function oidcLinkOptions(overrides = {}) {
  return {
    protocol: 'oidc',
    clientId: CLIENT_ID,
    redirectUri: REDIRECT_URI,
    grants: ['openid', 'read.profile'],
    oidcAuthorizeUrl: mock.oidcAuthorizeUrl,
    ...overrides,
  };
}

function oidcSignInOptions(link, callbackUrl, overrides = {}) {
  return {
    protocol: 'oidc',
    clientId: CLIENT_ID,
    clientSecret: SECRET,
    redirectUri: REDIRECT_URI,
    callbackUrl,
    expectedState: link.state,
    expectedNonce: link.nonce,
    oidcTokenUrl: mock.oidcTokenUrl,
    issuer: mock.issuer,
    timeoutMs: 1000,
    ...overrides,
  };
}

/** The browser's trip through the mock's OIDC authorization page: Allow or Decline. */
async function oidcSignInInBrowser(link, decision = 'allow') {
  remember(link.state, link.nonce);
  const page = await fetch(link.url);
  assert.equal(page.status, 200, await page.clone().text());
  const [, requestId] = /name="request_id" value="([^"]+)"/.exec(await page.text()) ?? [];
  assert.ok(requestId, 'the authorization page has the request_id field');
  const answer = await fetch(new URL('/openid/decide', link.url), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ request_id: requestId, decision }).toString(),
  });
  assert.equal(answer.status, 303);
  const location = answer.headers.get('location');
  rememberCallback(location);
  return location;
}

/** An OIDC callback without the page: a code the mock issued for this link's nonce. */
function oidcCallback(link) {
  remember(link.state, link.nonce);
  const code = mock.issueOidcCode({ nonce: link.nonce, redirectUri: REDIRECT_URI, scope: 'openid read.profile' });
  remember(code);
  return `/callback?code=${code}&state=${encodeURIComponent(link.state)}`;
}

test('oidc: the link is built locally, with a fresh state and nonce, and no client secret', async () => {
  const link = await createAuthorizationLink(oidcLinkOptions());
  assert.equal(mock.requests.length, 0, 'no network call');
  assert.deepEqual(Object.keys(link).sort(), ['expireAt', 'nonce', 'state', 'trackId', 'url']);
  assert.equal(link.trackId, null);
  assert.equal(link.expireAt, null);
  assert.match(link.state, STATE_SHAPE);
  assert.match(link.nonce, STATE_SHAPE);
  assert.notEqual(link.state, link.nonce);
  const url = new URL(link.url);
  assert.equal(`${url.origin}${url.pathname}`, mock.oidcAuthorizeUrl);
  assert.deepEqual(Object.fromEntries(url.searchParams), {
    scope: 'openid read.profile',
    state: link.state,
    response_type: 'code',
    client_id: CLIENT_ID,
    redirect_uri: REDIRECT_URI,
    nonce: link.nonce,
  });
  const given = await createAuthorizationLink(oidcLinkOptions({ clientSecret: SECRET, state: 'my-state', nonce: 'my-nonce' }));
  assert.deepEqual([given.state, given.nonce], ['my-state', 'my-nonce']);
  // In oauth2 the link has no nonce.
  assert.equal((await createAuthorizationLink(options())).nonce, null);
  await rejectsWith(createAuthorizationLink(oidcLinkOptions({ grants: ['read.email'] })), 'INVALID_OPTIONS');
  await rejectsWith(createAuthorizationLink(oidcLinkOptions({ state: false })), 'INVALID_OPTIONS');
  await rejectsWith(createAuthorizationLink(options({ nonce: 'n' })), 'INVALID_OPTIONS');
});

for (const alg of ['ES256', 'RS256']) {
  test(`oidc: a browser sign-in with jwksUrl (${alg}) resolves the user, the id_token and its claims`, async () => {
    mock.setSigningAlg(alg);
    const link = await createAuthorizationLink(oidcLinkOptions());
    const callbackUrl = await oidcSignInInBrowser(link);
    const back = new URL(callbackUrl);
    assert.equal(back.searchParams.get('state'), link.state);
    const before = nowSeconds();
    const signedIn = await completeSignIn(
      oidcSignInOptions(link, callbackUrl, { jwksUrl: mock.jwksUrl, userInfoUrl: mock.userInfoUrl }),
    );
    remember(signedIn.accessToken, signedIn.refreshToken, signedIn.idToken);
    assert.deepEqual(Object.keys(signedIn).sort(), SIGN_IN_KEYS);
    assert.equal(signedIn.id, null);
    assert.match(signedIn.accessToken, /^[A-Za-z0-9]{128}$/);
    assert.ok(Math.abs(signedIn.accessExpiresAt - before - 7 * 24 * 3600) <= 86400 * 7, 'an expiry in the future');
    assert.equal(signedIn.refreshExpiresAt, signedIn.accessExpiresAt, 'no refresh documented: the access token sets the end');
    assert.deepEqual(signedIn.user, PROFILE);
    assert.equal(Object.getPrototypeOf(signedIn.user), Object.prototype);
    assert.equal(signedIn.idToken.split('.').length, 3);
    assert.equal(JSON.parse(Buffer.from(signedIn.idToken.split('.')[0], 'base64url')).alg, alg);
    const claims = signedIn.idTokenClaims;
    assert.equal(claims.iss, mock.issuer);
    assert.equal(claims.sub, DEMO_USER.id);
    assert.equal(claims.aud, CLIENT_ID);
    assert.equal(claims.nonce, link.nonce);
    assert.ok(Number.isInteger(claims.exp) && Number.isInteger(claims.iat));
    assert.equal(claims.firstname, DEMO_USER.firstname, 'profile claims are there too');
    // The key set is kept per process: the first of these tests fetches it, the next reuses it.
    const called = mock.requests.map((request) => request.endpoint).filter((endpoint) => endpoint !== 'openid');
    assert.deepEqual(called, alg === 'ES256' ? ['oidc-token', 'jwks', 'userinfo'] : ['oidc-token', 'userinfo']);
    const exchange = mock.requests.find((request) => request.endpoint === 'oidc-token');
    assert.equal(exchange.headers.authorization, BASIC);
    assert.deepEqual(JSON.parse(exchange.body), {
      code: back.searchParams.get('code'),
      redirect_uri: REDIRECT_URI,
      grant_type: 'authorization_code',
    });
  });
}

test('oidc: without userInfoUrl the user is the id_token\'s; a declined sign-in is SIGN_IN_DECLINED', async () => {
  const link = await createAuthorizationLink(oidcLinkOptions());
  const signedIn = await completeSignIn(oidcSignInOptions(link, oidcCallback(link)));
  remember(signedIn.accessToken, signedIn.refreshToken, signedIn.idToken);
  assert.equal(signedIn.user.id, DEMO_USER.id);
  assert.equal(signedIn.user.firstname, DEMO_USER.firstname);
  assert.deepEqual(mock.requests.map((request) => request.endpoint), ['oidc-token'], 'only the exchange');
  const declined = await createAuthorizationLink(oidcLinkOptions());
  const callbackUrl = await oidcSignInInBrowser(declined, 'decline');
  await rejectsWith(completeSignIn(oidcSignInOptions(declined, callbackUrl)), 'SIGN_IN_DECLINED', { freedomIdErrorCode: 'access_denied' });
  // A forged state spends nothing.
  const forged = oidcCallback(link).replace(/state=[^&]+/, 'state=forged');
  await rejectsWith(completeSignIn(oidcSignInOptions(link, forged)), 'STATE_MISMATCH');
  // Another link's nonce is ID_TOKEN_INVALID.
  const other = await createAuthorizationLink(oidcLinkOptions());
  await rejectsWith(completeSignIn(oidcSignInOptions(link, oidcCallback(link), { expectedNonce: other.nonce })), 'ID_TOKEN_INVALID');
});

for (const row of OIDC_TOKEN_FAULTS) {
  for (const withJwks of [false, true]) {
    const step = withJwks ? row.exchangeWithJwks : row.exchange;
    test(`oidc token ${row.mode}${withJwks ? ' with jwksUrl' : ''}: ${step.npm.code ?? 'signed in'}`, async () => {
      mock.setOidcTokenMode(row.mode);
      const link = await createAuthorizationLink(oidcLinkOptions());
      const call = completeSignIn(
        oidcSignInOptions(link, oidcCallback(link), withJwks ? { jwksUrl: mock.jwksUrl } : {}),
      );
      if (step.npm.code === null) {
        const signedIn = await call;
        remember(signedIn.accessToken, signedIn.refreshToken, signedIn.idToken);
        assert.equal(signedIn.user.id, DEMO_USER.id);
      } else {
        assertNothingSecretIn(await rejectsWith(call, step.npm.code, step.npm.details));
      }
    });
  }
}

for (const row of USERINFO_FAULTS) {
  for (const flavour of ['oauth2', 'oidc']) {
    const step = row[flavour];
    test(`userinfo ${row.mode} (${flavour}): ${step.npm.code ?? 'the user'}`, async () => {
      mock.setUserInfoMode(row.mode);
      let call;
      if (flavour === 'oidc') {
        const link = await createAuthorizationLink(oidcLinkOptions());
        call = completeSignIn(oidcSignInOptions(link, oidcCallback(link), { userInfoUrl: mock.userInfoUrl, timeoutMs: 400 }));
      } else {
        const link = await createAuthorizationLink(options());
        const callbackUrl = await signInInBrowser(link);
        call = completeSignIn(signInOptions({ callbackUrl, expectedState: link.state, userInfoUrl: mock.userInfoUrl, timeoutMs: 400 }));
      }
      if (step.npm.code !== null) {
        assertNothingSecretIn(await rejectsWith(call, step.npm.code, step.npm.details));
        return;
      }
      const signedIn = await call;
      remember(signedIn.accessToken, signedIn.refreshToken);
      assert.equal(signedIn.user.id, DEMO_USER.id);
      for (const field of row.drops) {
        const fromToken = flavour === 'oidc' ? signedIn.idTokenClaims[field] : undefined;
        assert.equal(signedIn.user[field], typeof fromToken === 'string' && fromToken.length <= 256 ? fromToken : undefined, field);
      }
      if (row.drops.length === 0 && !row.mode.startsWith('claims')) assert.deepEqual(signedIn.user, PROFILE);
    });
  }
}

test('fetchUserInfo resolves the user alone; a bad token is USERINFO_REJECTED with status 401', async () => {
  const tokens = await tokensForOneUser();
  remember(tokens.accessToken, tokens.refreshToken);
  const user = await pkg.fetchUserInfo({ accessToken: tokens.accessToken, userInfoUrl: mock.userInfoUrl, timeoutMs: 1000 });
  assert.deepEqual(user, PROFILE);
  const request = mock.requests.at(-1);
  assert.equal(request.method, 'GET');
  assert.equal(request.headers.authorization, `Bearer ${tokens.accessToken}`);
  const error = await rejectsWith(pkg.fetchUserInfo({ accessToken: 'x'.repeat(128), userInfoUrl: mock.userInfoUrl }), 'USERINFO_REJECTED', { status: 401 });
  assertNothingSecretIn(error);
  await rejectsWith(pkg.fetchUserInfo({ accessToken: tokens.accessToken }), 'INVALID_OPTIONS');
  // In oauth2, userInfoUrl in completeSignIn gives the same user.
  const link = await createAuthorizationLink(options());
  const signedIn = await completeSignIn(signInOptions({ callbackUrl: await signInInBrowser(link), expectedState: link.state, userInfoUrl: mock.userInfoUrl }));
  remember(signedIn.accessToken, signedIn.refreshToken);
  assert.deepEqual(signedIn.user, PROFILE);
  assert.deepEqual([signedIn.idToken, signedIn.idTokenClaims], [null, null]);
});

test('a polluted Object.prototype never supplies the OIDC options nor redirects their calls', async () => {
  const link = await createAuthorizationLink(oidcLinkOptions());
  const names = ['protocol', 'nonce', 'expectedNonce', 'redirectUri', 'oidcTokenUrl', 'oidcAuthorizeUrl', 'issuer', 'jwksUrl', 'userInfoUrl'];
  const evil = 'https://evil.example/x';
  try {
    Object.prototype.protocol = 'oidc';
    Object.prototype.nonce = 'evil-nonce';
    Object.prototype.expectedNonce = link.nonce;
    Object.prototype.redirectUri = evil;
    for (const name of ['oidcTokenUrl', 'oidcAuthorizeUrl', 'issuer', 'jwksUrl', 'userInfoUrl']) Object.prototype[name] = evil;
    // An inherited protocol does not make an oauth2 link an OIDC one.
    const plain = await createAuthorizationLink(options());
    assert.equal(plain.nonce, null);
    assert.ok(plain.url.startsWith(mock.origin));
    // An OIDC sign-in with its own options only: no call leaves for evil.example, and an
    // inherited expectedNonce or redirectUri does not stand in for missing ones.
    const own = oidcSignInOptions(link, oidcCallback(link));
    const signedIn = await completeSignIn(own);
    remember(signedIn.accessToken, signedIn.refreshToken, signedIn.idToken);
    assert.equal(signedIn.user.id, DEMO_USER.id);
    assert.equal(signedIn.user.email, DEMO_USER.email, 'no inherited userInfoUrl was called: the claims are the id_token\'s');
    const { expectedNonce, redirectUri, ...lacking } = own;
    void [expectedNonce, redirectUri];
    const error = await rejectsWith(completeSignIn(lacking), 'INVALID_OPTIONS');
    assert.match(error.message, /redirectUri is missing; expectedNonce is missing/);
    await rejectsWith(pkg.fetchUserInfo({ accessToken: 'a'.repeat(128) }), 'INVALID_OPTIONS');
  } finally {
    for (const name of names) delete Object.prototype[name];
  }
  assert.ok(mock.requests.every((request) => !request.path.includes('evil')));
});

// ---------------------------------------------------------------------------------------------
// verifyGateAssertion: real ES256 assertions made here (tests/npm/fixtures/flow/flow-core.mjs
// makes and checks them in every runtime), and a key set served by a local server

test('verifyGateAssertion resolves who passed the gate, and refuses every forgery with its problem', async () => {
  const result = await assertions(pkg);
  assert.deepEqual(result.good, {
    sub: ASSERTION_USER.id, sid: 'pair-1', user: ASSERTION_USER, iat: result.good.iat, exp: result.good.iat + 60,
  });
  assert.ok(Math.abs(result.good.iat - nowSeconds()) < 5);
  assert.deepEqual([result.rotated.sub, result.rotated.sid, result.rotated.user], [null, null, null], 'the second key of the set');
  assert.deepEqual(result.tolerated, [-3, 30], 'within the default 5 s, and within clockToleranceSec: 60');
  for (const [name, problem] of Object.entries(ASSERTION_REFUSALS)) {
    const refusal = result.refusals[name];
    assert.deepEqual(refusal, { code: 'ASSERTION_INVALID', problem, isError: true, leaks: false }, name);
  }
  assert.deepEqual(Object.keys(result.refusals).sort(), Object.keys(ASSERTION_REFUSALS).sort());
  assert.deepEqual(result.options, { code: 'INVALID_OPTIONS', message: 'freedom-id-edge: invalid options: audience is missing' });
});

/** A key server on 127.0.0.1 counting its fetches; `serve(keys)` changes its set, `mode` its answer. */
async function startKeyServer() {
  const server = { fetches: 0, keys: [], mode: 'ok' };
  const http = createServer((request, response) => {
    server.fetches += 1;
    if (server.mode === 'hang') return;
    if (server.mode === 'status') return response.writeHead(500).end('down');
    if (server.mode === 'html') return response.writeHead(200, { 'content-type': 'text/html' }).end('<html>');
    response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'public, max-age=300' });
    response.end(JSON.stringify({ keys: server.keys }));
  });
  await new Promise((resolve) => http.listen(0, '127.0.0.1', resolve));
  server.url = `http://127.0.0.1:${http.address().port}/.well-known/jwks.json`;
  server.close = () => new Promise((resolve) => { http.closeAllConnections(); http.close(resolve); });
  return server;
}

/** Runs `body` with the package's clock (`Date.now`, read by the wasm at each call) moved by `ms`. */
async function later(ms, body) {
  const realNow = Date.now;
  Date.now = () => realNow() + ms;
  try {
    return await body();
  } finally {
    Date.now = realNow;
  }
}

const MINUTE = 60_000;

test('verifyGateAssertion with jwksUrl: the set is kept 5 minutes, an unknown kid refetches at most once a minute', async () => {
  const server = await startKeyServer();
  try {
    const [k1, k2] = await Promise.all([assertionKey('k1'), assertionKey('k2')]);
    server.keys = [k1.jwk];
    const opts = { jwksUrl: server.url, issuer: ASSERTION_ISSUER, audience: ASSERTION_AUDIENCE };
    // Claims at the package's clock: moved inside `later`.
    const token = (key) => signAssertion(key, assertionClaims({}, Math.floor(Date.now() / 1000)));
    assert.equal((await pkg.verifyGateAssertion(await token(k1), opts)).sub, ASSERTION_USER.id);
    assert.equal(server.fetches, 1);
    assert.equal((await pkg.verifyGateAssertion(await token(k1), opts)).sub, ASSERTION_USER.id);
    assert.equal(server.fetches, 1, 'kept');
    // The key rotates: k2 signs. Within a minute of the fetch, an unknown kid makes no fetch.
    server.keys = [k2.jwk, k1.jwk];
    const early = await rejection(pkg.verifyGateAssertion(await token(k2), opts));
    assert.deepEqual([early.code, early.details.problem], ['ASSERTION_INVALID', 'kid']);
    for (let index = 0; index < 20; index += 1) {
      const forged = await signAssertion(k1, assertionClaims(), { alg: 'ES256', typ: 'JWT', kid: `forged-${index}` });
      assert.equal((await rejection(pkg.verifyGateAssertion(forged, opts))).details.problem, 'kid');
    }
    assert.equal(server.fetches, 1, 'twenty made-up kids within a minute: no fetch');
    // A minute later: one refetch finds k2; the old key still verifies its assertions.
    await later(MINUTE + 1000, async () => {
      assert.equal((await pkg.verifyGateAssertion(await token(k2), opts)).sub, ASSERTION_USER.id);
      assert.equal((await pkg.verifyGateAssertion(await token(k1), opts)).sub, ASSERTION_USER.id);
      const forged = await signAssertion(k1, assertionClaims({}, Math.floor(Date.now() / 1000)), { alg: 'ES256', typ: 'JWT', kid: 'forged' });
      assert.equal((await rejection(pkg.verifyGateAssertion(forged, opts))).details.problem, 'kid');
    });
    assert.equal(server.fetches, 2, 'one refetch for k2, none for the forged kid just after');
    // Within 5 minutes of that fetch the set is kept; after, fetched again.
    await later(5 * MINUTE, async () => {
      await pkg.verifyGateAssertion(await token(k2), opts);
    });
    assert.equal(server.fetches, 2);
    await later(6 * MINUTE + 2000, async () => {
      await pkg.verifyGateAssertion(await token(k2), opts);
    });
    assert.equal(server.fetches, 3, 'stale after 5 minutes');
    // Another URL has its own set.
    const other = await startKeyServer();
    try {
      other.keys = [k1.jwk];
      await pkg.verifyGateAssertion(await token(k1), { ...opts, jwksUrl: other.url });
      await pkg.verifyGateAssertion(await token(k1), { ...opts, jwksUrl: other.url });
      assert.equal(other.fetches, 1);
    } finally {
      await other.close();
    }
  } finally {
    await server.close();
  }
});

test('verifyGateAssertion: fetching jwksUrl fails as the other calls do, and bad options are INVALID_OPTIONS', async () => {
  const server = await startKeyServer();
  const key = await assertionKey('k1');
  const opts = { issuer: ASSERTION_ISSUER, audience: ASSERTION_AUDIENCE, timeoutMs: 300 };
  const token = await signAssertion(key, assertionClaims());
  // Each mode on a fresh URL (a query), so no kept set answers first.
  let fresh = 0;
  const url = () => `${server.url}?n=${(fresh += 1)}`;
  try {
    for (const [mode, code] of [['status', 'UPSTREAM_STATUS'], ['html', 'UPSTREAM_MALFORMED'], ['hang', 'UPSTREAM_TIMEOUT']]) {
      server.mode = mode;
      const error = await rejectsWith(pkg.verifyGateAssertion(token, { ...opts, jwksUrl: url() }), code);
      assert.ok(!everythingShown(error).includes(token.split('.')[1]), mode);
    }
  } finally {
    await server.close();
  }
  await rejectsWith(pkg.verifyGateAssertion(token, { ...opts, jwksUrl: url() }), 'UPSTREAM_NETWORK');
  const invalid = async (options, message) => {
    const error = await rejectsWith(pkg.verifyGateAssertion(token, options), 'INVALID_OPTIONS');
    assert.equal(error.message, `freedom-id-edge: invalid options: ${message}`);
  };
  await invalid({ ...opts, jwksUrl: 'http://keys.example/jwks.json' }, 'jwksUrl uses http://, which is only allowed for localhost and 127.0.0.1');
  await invalid({ ...opts }, 'jwksUrl is missing (pass jwksUrl or jwks)');
  await invalid({ ...opts, jwksUrl: 'https://keys.example/jwks.json', jwks: { keys: [key.jwk] } }, 'jwksUrl cannot be combined with jwks (pass one of them)');
  for (const jwks of [[key.jwk], 'keys', { keys: {} }, { keys: [] }, { keys: [key.jwk, 5] }]) {
    await invalid({ ...opts, jwks }, 'jwks must be a key set with at least one key ({ keys: [...] })');
  }
  await invalid({ ...opts, jwks: { get keys() { throw new Error('boom'); } } }, 'jwks could not be read');
  for (const tolerance of [-1, 301, 2.5, '5']) {
    const message = typeof tolerance === 'string' ? 'must be a number' : 'must be a whole number of seconds from 0 to 300';
    await invalid({ ...opts, jwks: { keys: [key.jwk] }, clockToleranceSec: tolerance }, `clockToleranceSec ${message}`);
  }
  const error = await rejectsWith(pkg.verifyGateAssertion(token, undefined), 'INVALID_OPTIONS');
  assert.equal(error.message, 'freedom-id-edge: verifyGateAssertion expects an options object');
});

test('verifyGateAssertion never takes a key set, a URL or a claim rule from a polluted prototype', async () => {
  const [key, evil] = await Promise.all([assertionKey('k1'), assertionKey('evil')]);
  const forged = await signAssertion(evil, assertionClaims());
  const opts = { jwks: { keys: [key.jwk] }, issuer: ASSERTION_ISSUER, audience: ASSERTION_AUDIENCE };
  // Every assertion is made before the prototypes are polluted (signing uses JSON.stringify).
  const forgedWithOurKid = await signAssertion({ ...evil, kid: 'k1' }, assertionClaims());
  const old = await signAssertion(key, assertionClaims({}, Math.floor(Date.now() / 1000) - 120));
  const good = await signAssertion(key, assertionClaims());
  const polluted = { keys: [evil.jwk], toJSON: () => ({ keys: [evil.jwk] }) };
  const restore = [];
  for (const [target, name, value] of [
    [Object.prototype, 'keys', polluted.keys], [Object.prototype, 'toJSON', polluted.toJSON],
    [Object.prototype, 'clockToleranceSec', 300], [Object.prototype, 'jwksUrl', 'http://127.0.0.1:9/evil'],
    [Array.prototype, 1, evil.jwk],
  ]) {
    restore.push([target, name, Object.getOwnPropertyDescriptor(target, name)]);
    Object.defineProperty(target, name, { value, configurable: true, writable: true });
  }
  try {
    assert.equal((await rejection(pkg.verifyGateAssertion(forged, opts))).details.problem, 'kid');
    assert.equal((await rejection(pkg.verifyGateAssertion(forgedWithOurKid, opts))).details.problem, 'signature');
    assert.equal((await pkg.verifyGateAssertion(good, opts)).sub, ASSERTION_USER.id, 'no inherited jwksUrl');
    assert.equal((await rejection(pkg.verifyGateAssertion(old, opts))).details.problem, 'exp', 'no inherited tolerance');
    const noKeys = await rejection(pkg.verifyGateAssertion(forged, { ...opts, jwks: {} }));
    assert.equal(noKeys.code, 'INVALID_OPTIONS', 'no inherited keys');
  } finally {
    for (const [target, name, descriptor] of restore) {
      if (descriptor) Object.defineProperty(target, name, descriptor);
      else delete target[name];
    }
  }
  assert.equal((await pkg.verifyGateAssertion(good, opts)).sub, ASSERTION_USER.id);
});

// ---------------------------------------------------------------------------------------------
// Load and leaks

test('100 concurrent calls each get their own link and state', async () => {
  const links = await Promise.all(Array.from({ length: 100 }, () => createAuthorizationLink(options())));
  assert.equal(new Set(links.map((link) => link.trackId)).size, 100);
  assert.equal(new Set(links.map((link) => link.state)).size, 100);
  assert.equal(mock.requests.length, 100);
});

test('100 concurrent completeSignIn calls all succeed with their own tokens', async () => {
  const signIns = Array.from({ length: 100 }, () => {
    const state = randomBytes(32).toString('base64url');
    const code = issueCode();
    remember(state);
    return { state, code, callbackUrl: `${REDIRECT_URI}?state=${state}&authorization_code=${code}` };
  });
  const results = await Promise.all(
    signIns.map(({ state, callbackUrl }) => completeSignIn(signInOptions({ callbackUrl, expectedState: state, timeoutMs: 5000 }))),
  );
  results.forEach(assertTokens);
  assert.equal(new Set(results.map((tokens) => tokens.accessToken)).size, 100);
  assert.equal(new Set(results.map((tokens) => tokens.refreshToken)).size, 100);
  assert.equal(new Set(results.map((tokens) => tokens.id)).size, 100);
  assert.equal(tokenRequests().length, 100);
  for (const { code } of signIns) assert.equal(mock.codeStatus(code).spent, true);
});

test('calls keep working after faults', async () => {
  for (const mode of ['reset', 'huge', 'hang-body']) {
    mock.setMode(mode);
    mock.setTokenMode(mode);
    await rejection(createAuthorizationLink(options({ timeoutMs: 300 })));
    await rejection(exchangeAuthorizationCode(signInOptions({ code: issueCode(), timeoutMs: 300 })));
  }
  mock.reset();
  assert.ok((await createAuthorizationLink(options())).url.startsWith(mock.origin));
  assertTokens(await tokensForOneUser());
});

test('no error message, property or stack ever holds the secret, a code, a token or a state', async () => {
  // Its own errors first, so this test stands alone; then every error any test above collected.
  const own = [];
  const collect = async (promise) => own.push(await rejection(promise));
  await collect(createAuthorizationLink(options({ clientSecret: ` ${SECRET}` })));
  await collect(createAuthorizationLink(options({ clientSecret: `${SECRET}\n` })));
  await collect(exchangeAuthorizationCode(signInOptions({ clientSecret: `\t${SECRET}`, code: issueCode() })));
  mock.setMode('status:401');
  await collect(createAuthorizationLink(options()));
  mock.reset();
  const link = await createAuthorizationLink(options());
  const callbackUrl = await signInInBrowser(link);
  await collect(completeSignIn(signInOptions({ callbackUrl, expectedState: `${link.state}x` })));
  const tokens = await completeSignIn(signInOptions({ callbackUrl, expectedState: link.state }));
  await collect(completeSignIn(signInOptions({ callbackUrl, expectedState: link.state })));
  await refreshTokens({ refreshToken: tokens.refreshToken, tokenUrl: mock.tokenUrl });
  await collect(refreshTokens({ refreshToken: tokens.refreshToken, tokenUrl: mock.tokenUrl }));
  await collect(completeSignIn(signInOptions({ callbackUrl: `${callbackUrl}\u0000`, expectedState: link.state })));
  await collect(refreshTokens({ refreshToken: `${tokens.refreshToken} `, tokenUrl: 'http://evil.example/token' }));

  assert.ok(errors.length >= own.length, 'the errors were collected');
  assert.ok(secrets.size >= 10, 'the secrets were collected');
  for (const error of errors) assertNothingSecretIn(error);
});
