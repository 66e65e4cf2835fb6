// The packed npm package in every runtime it promises (issue 13), installed from the tarball
// into a fresh folder as users do:
//   - Node 20 (the machine's) and Node 22 (node_modules/.bin/node): require and import, the
//     whole flow against the mock Freedom ID; and a Node 18 stand-in without a global crypto;
//   - Cloudflare Workers: the README's Hono app bundled by `wrangler deploy --dry-run`, run
//     in workerd (Miniflare), /login -> mock -> /callback -> signed in, plus the same flow
//     script inside workerd;
//   - Deno 2 (npm:freedom-id-edge with the installed node_modules) and Bun (import and
//     require): the same flow script, and the README's Deno.serve and Bun.serve servers;
//   - tsc --strict over Node ESM, Node CommonJS and Workers callers, deno check over the
//     Deno example; one .wasm in the tarball; the README's examples are these fixtures.
// One file: the tarball is packed and installed once for every runtime, split by runtime below.
// Run with Node 22 (Miniflare and wrangler need it; `make package` does, with SYSTEM_NODE set to
// the machine's Node 20). Needs `make build-npm` first.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { DEMO_USER, startMockFreedomId } from '../support/mock-freedom-id.mjs';
import { BUN, DENO, NODE20, NODE22, QUIET, packAndInstall, root } from '../support/runtimes.mjs';
import { ASSERTION_REFUSALS, ASSERTION_USER } from './fixtures/flow/flow-core.mjs';
import { freePort } from '../support/worker.mjs';

const fixtures = path.join(root, 'tests/npm/fixtures');
const CLIENT_ID = 'runtime-client';
const SECRET = 'runtime-test-secret';
const COOKIE_SECRET = 'cookie-secret-for-the-hono-example-0123456789';
const EXPORTS = ['completeSignIn', 'createAuthorizationLink', 'exchangeAuthorizationCode', 'fetchUserInfo', 'refreshTokens', 'verifyGateAssertion'];
const STATE_SHAPE = /^[A-Za-z0-9_-]{43}$/;
const TOKEN_SHAPE = /^[A-Za-z0-9]{128}$/;
let app; // the temporary project the package is installed into
let packed; // npm pack's report on the tarball
let mock;
const children = new Set();

function run(command, args, { env = {}, cwd = app } = {}) {
  return execFileSync(command, args, { cwd, encoding: 'utf8', env: { ...process.env, ...QUIET, ...env }, stdio: 'pipe' });
}

/** A child that calls the mock: this process must keep serving it meanwhile. */
async function runAsync(command, args, { env = {} } = {}) {
  try {
    const { stdout } = await promisify(execFile)(command, args, {
      cwd: app,
      encoding: 'utf8',
      env: { ...process.env, ...QUIET, ...env },
      timeout: 60_000,
    });
    return stdout;
  } catch (error) {
    assert.fail(`${path.basename(command)} ${args.join(' ')} failed:\n${error.stdout}\n${error.stderr}`);
  }
}

function version(command, args = ['--version']) {
  return run(command, args).trim().split('\n')[0];
}

before(async () => {
  assert.ok(Number(process.versions.node.split('.')[0]) >= 22, 'run this file with Node 22 (node_modules/.bin/node)');
  for (const [name, file] of Object.entries({ NODE20, DENO, BUN })) assert.ok(file, `${name} is installed (npm ci)`);
  app = mkdtempSync(path.join(tmpdir(), 'freedom-id-edge-runtimes-'));
  const hono = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).devDependencies.hono;
  packed = packAndInstall(app, [`hono@${hono}`]);
  for (const file of readdirSync(path.join(fixtures, 'flow'))) cpSync(path.join(fixtures, 'flow', file), path.join(app, file));
  mock = await startMockFreedomId({ clientId: CLIENT_ID, clientSecret: SECRET });
});

after(async () => {
  for (const child of children) child.kill();
  await mock?.close();
  if (app) rmSync(app, { recursive: true, force: true });
});

function flowConfig(redirectUri = 'https://app.example.com/callback') {
  const { oidcAuthorizeUrl, oidcTokenUrl, issuer, jwksUrl, userInfoUrl } = mock;
  return {
    clientId: CLIENT_ID,
    clientSecret: SECRET,
    redirectUri,
    authorizeUrl: mock.authorizeUrl,
    tokenUrl: mock.tokenUrl,
    oidc: { oidcAuthorizeUrl, oidcTokenUrl, issuer, jwksUrl, userInfoUrl },
  };
}

const TOKEN_KEYS = ['accessExpiresAt', 'accessToken', 'id', 'refreshExpiresAt', 'refreshToken'];
const SIGN_IN_KEYS = [...TOKEN_KEYS, 'idToken', 'idTokenClaims', 'user'].sort();
const PROFILE = Object.fromEntries(Object.entries(DEMO_USER).filter(([name]) => name !== 'cards'));

/** What flow-core.mjs's OIDC sign-in answers: the user known, the signature checked here. */
function assertOidc(oidc, where) {
  assert.deepEqual(oidc.link.keys, ['expireAt', 'nonce', 'state', 'trackId', 'url'], where);
  assert.match(oidc.link.state, STATE_SHAPE, `${where}: a fresh state`);
  assert.match(oidc.link.nonce, STATE_SHAPE, `${where}: a fresh nonce`);
  assert.equal(oidc.link.trackId, null, where);
  assert.equal(oidc.callbackState, oidc.link.state, `${where}: the state came back`);
  assert.deepEqual(oidc.keys, SIGN_IN_KEYS, where);
  assert.equal(oidc.alg, 'ES256', `${where}: a signed id_token`);
  assert.deepEqual(oidc.claims, { sub: DEMO_USER.id, aud: CLIENT_ID, nonce: oidc.link.nonce }, where);
  assert.deepEqual(oidc.user, PROFILE, `${where}: the user`);
  assert.deepEqual(oidc.fetched, PROFILE, `${where}: fetchUserInfo`);
  assert.equal(oidc.forgedNonce.code, 'ID_TOKEN_INVALID', `${where}: another nonce`);
  assert.equal(oidc.forgedNonce.isError, true, where);
}

/** What flow-core.mjs answers, in any runtime: the same names, shapes and error codes. */
function assertFlow(result, where) {
  assert.deepEqual(result.names, EXPORTS, `${where}: the exports`);
  assert.ok(result.link.url.startsWith(`${mock.origin}/login?track_id=`), `${where}: the link`);
  assert.match(result.link.state, STATE_SHAPE, `${where}: a fresh state`);
  assert.equal(result.decided, 303, `${where}: the sign-in page sent the browser back`);
  const back = new URL(result.callbackUrl);
  assert.equal(back.searchParams.get('state'), result.link.state, `${where}: the state came back`);
  assert.deepEqual(Object.keys(result.tokens).sort(), SIGN_IN_KEYS, `${where}: completeSignIn's keys`);
  assert.equal(result.tokens.user, null, `${where}: no userInfoUrl, no user in oauth2`);
  assert.deepEqual(Object.keys(result.refreshed).sort(), TOKEN_KEYS, `${where}: refreshTokens' keys`);
  for (const tokens of [result.tokens, result.refreshed]) {
    assert.match(tokens.accessToken, TOKEN_SHAPE, where);
    assert.match(tokens.refreshToken, TOKEN_SHAPE, where);
    assert.ok(Number.isInteger(tokens.accessExpiresAt) && tokens.accessExpiresAt > Date.now() / 1000, where);
  }
  assert.equal(result.refreshed.id, result.tokens.id, `${where}: the refresh keeps the pair's id`);
  assert.notEqual(result.refreshed.refreshToken, result.tokens.refreshToken, `${where}: the refresh rotates`);
  const { forged, reused, empty } = result.errors;
  for (const error of [forged, reused, empty]) {
    assert.equal(error.isError, true, `${where}: a real Error`);
    assert.match(error.message, /^freedom-id-edge: /, where);
  }
  assert.equal(forged.code, 'STATE_MISMATCH', where);
  assert.deepEqual([reused.code, reused.status, reused.upstreamCode], ['REFRESH_REJECTED', 401, '100103'], where);
  assert.equal(empty.code, 'INVALID_OPTIONS', where);
  assertPollution(result.pollution, where);
  assertOidc(result.oidc, where);
  assertAssertions(result.assertion, where);
}

/** What flow-core.mjs's `assertions` answers: real ES256 checked by this runtime, every refusal. */
function assertAssertions({ good, rotated, tolerated, refusals, options }, where) {
  assert.deepEqual(good, { sub: ASSERTION_USER.id, sid: 'pair-1', user: ASSERTION_USER, iat: good.iat, exp: good.iat + 60 }, where);
  assert.deepEqual([rotated.sub, rotated.sid, rotated.user], [null, null, null], `${where}: the second key`);
  assert.deepEqual(tolerated, [-3, 30], `${where}: the tolerance`);
  assert.deepEqual(Object.keys(refusals).sort(), Object.keys(ASSERTION_REFUSALS).sort(), where);
  for (const [name, problem] of Object.entries(ASSERTION_REFUSALS)) {
    assert.deepEqual(refusals[name], { code: 'ASSERTION_INVALID', problem, isError: true, leaks: false }, `${where}: ${name}`);
  }
  assert.equal(options.code, 'INVALID_OPTIONS', where);
}

/** What flow-core.mjs's `polluted` answers: nothing inherited was read, options or answers. */
function assertPollution({ names, link, errors }, where) {
  const expected = ['access_token', 'authorizeUrl', 'clientSecret', 'redirect_uri', 'refresh_token', 'timeoutMs', 'tokenUrl'];
  // Node alone cannot run with `error` polluted (flow-core.mjs says why).
  if (/^(deno|bun|workerd)\b/.test(where)) expected.push('error');
  assert.deepEqual(names, expected.sort(), `${where}: the polluted names`);
  assert.ok(link.url.startsWith(`${mock.origin}/login?track_id=`), `${where}: the polluted run's link`);
  assert.deepEqual(link.keys, ['expireAt', 'nonce', 'state', 'trackId', 'url'], where);
  const messages = {
    inherited: 'freedom-id-edge: invalid options: clientSecret is missing',
    throwing: 'freedom-id-edge: invalid options: clientSecret could not be read',
    wrongType: 'freedom-id-edge: invalid options: timeoutMs must be a number',
  };
  for (const [name, message] of Object.entries(messages)) {
    assert.deepEqual([errors[name].code, errors[name].message], ['INVALID_OPTIONS', message], `${where}: ${name}`);
  }
  assert.equal(errors.noRedirectUri.code, 'UPSTREAM_MALFORMED', `${where}: an answer without redirect_uri`);
  assert.equal(errors.noAccessToken.code, 'UPSTREAM_MALFORMED', `${where}: an answer without access_token`);
  for (const [name, error] of Object.entries(errors)) {
    assert.equal(error.isError, true, `${where}: ${name} is a real Error`);
    const shown = `${error.message}\n${error.stack}`;
    assert.doesNotMatch(shown, /polluted|evil\.example|boom/, `${where}: ${name}: ${shown}`);
    assert.ok(!shown.includes(SECRET), `${where}: ${name} holds the secret`);
  }
}

// ---------------------------------------------------------------------------------------------
// The tarball

test('the tarball holds exactly one .wasm, which every entry loads', () => {
  const files = packed.files.map((file) => file.path).sort();
  const wasm = files.filter((file) => file.endsWith('.wasm'));
  assert.deepEqual(wasm, ['freedom_id_edge_bg.wasm']);
  const installed = (file) => readFileSync(path.join(app, 'node_modules/freedom-id-edge', file), 'utf8');
  for (const entry of ['node.mjs', 'workerd.mjs', 'deno.mjs']) {
    assert.match(installed(entry), /['"]\.\/freedom_id_edge_bg\.wasm['"]/, entry);
  }
  assert.match(installed('node.cjs'), /require\('\.\/freedom_id_edge\.js'\)/);
  assert.match(installed('freedom_id_edge.js'), /\$\{__dirname\}\/freedom_id_edge_bg\.wasm/);
  assert.doesNotMatch(files.join('\n'), /base64|\.wasm\.(js|mjs|cjs)$/, 'no base64 copy of the wasm');
});

test('exports map: workerd and worker before node, types first in each, ./package.json exported', () => {
  const manifest = JSON.parse(readFileSync(path.join(app, 'node_modules/freedom-id-edge/package.json'), 'utf8'));
  const conditions = Object.keys(manifest.exports['.']);
  assert.deepEqual(conditions, ['workerd', 'worker', 'deno', 'node', 'import', 'require', 'default']);
  assert.equal(manifest.exports['./package.json'], './package.json');
  const shipped = new Set(packed.files.map((file) => file.path));
  const walk = (value, where) => {
    if (typeof value === 'string') {
      assert.ok(shipped.has(value.replace(/^\.\//, '')), `${where} -> ${value} is in the tarball`);
      return;
    }
    const keys = Object.keys(value);
    if (keys.includes('types')) assert.equal(keys[0], 'types', `types first in ${where}`);
    for (const key of keys) walk(value[key], `${where}.${key}`);
  };
  walk(manifest.exports, 'exports');
  const types = manifest.exports['.'];
  assert.equal(types.workerd.types, './workerd.d.mts');
  assert.equal(types.node.import.types, './node.d.mts');
  assert.equal(types.node.require.types, './node.d.cts');
  assert.deepEqual(manifest.sideEffects.sort(), ['./deno.mjs', './node.cjs', './node.mjs', './workerd.mjs']);
});

// ---------------------------------------------------------------------------------------------
// Node

test('Node 20 and Node 22: require and import each run the whole flow against the mock', async (t) => {
  const nodes = new Map();
  for (const node of [NODE20, NODE22]) nodes.set(version(node), node);
  assert.deepEqual([...nodes.keys()].map((v) => v.split('.')[0]).sort(), ['v20', 'v22'], 'Node 20 and Node 22');
  for (const [nodeVersion, node] of nodes) {
    for (const [file, entry] of [['flow.cjs', 'node.cjs'], ['flow.mjs', 'node.mjs']]) {
      const result = JSON.parse(await runAsync(node, [file, JSON.stringify(flowConfig())]));
      assertFlow(result, `${nodeVersion} ${file}`);
      assert.equal(path.basename(result.resolved), entry, `${nodeVersion} ${file} loads ${entry}`);
      t.diagnostic(`node ${nodeVersion} ${file}: ${entry}, flow complete`);
    }
  }
});

test('Node 18 stand-in (no global crypto): both entries lend themselves node:crypto\'s webcrypto', async () => {
  const preload = path.join(app, 'no-global-crypto.cjs');
  for (const file of ['flow.cjs', 'flow.mjs']) {
    const result = JSON.parse(await runAsync(NODE20, ['--require', preload, file, JSON.stringify(flowConfig())]));
    assertFlow(result, `no global crypto, ${file}`);
    assert.equal(result.cryptoIsNodeWebcrypto, true, file);
  }
  // Where a global crypto exists, it is left alone.
  const kept = run(NODE20, [
    '-e',
    `const before = globalThis.crypto; require('freedom-id-edge');
     import('freedom-id-edge').then(() => console.log(globalThis.crypto === before));`,
  ]);
  assert.equal(kept.trim(), 'true');
});

// ---------------------------------------------------------------------------------------------
// Deno and Bun

test('Deno: npm:freedom-id-edge from the installed node_modules runs the flow with no read permission', async (t) => {
  const denoDir = path.join(app, '.deno');
  const result = JSON.parse(
    await runAsync(
      DENO,
      ['run', '--node-modules-dir=manual', '--cached-only', '--allow-net=127.0.0.1', 'flow.deno.mjs', JSON.stringify(flowConfig())],
      { env: { DENO_DIR: denoDir } },
    ),
  );
  assertFlow(result, 'deno');
  assert.equal(result.resolved, pathToFileURL(path.join(app, 'node_modules/freedom-id-edge/deno.mjs')).href);
  t.diagnostic(`${version(DENO)}: deno.mjs (source-phase wasm import), flow complete`);
});

test('Bun: import and require each run the flow', async (t) => {
  for (const [file, entry] of [['flow.mjs', 'node.mjs'], ['flow.cjs', 'node.cjs']]) {
    const result = JSON.parse(await runAsync(BUN, ['--no-install', file, JSON.stringify(flowConfig())]));
    assertFlow(result, `bun ${file}`);
    assert.equal(path.basename(result.resolved.replace(/^file:\/\//, '')), entry, `bun ${file} loads ${entry}`);
  }
  t.diagnostic(`bun ${version(BUN)}: node.mjs and node.cjs, flow complete`);
});

// ---------------------------------------------------------------------------------------------
// The README's servers, driven as a browser would

/** A browser with a cookie jar for `origin` (the mock gets none). */
function browser(origin) {
  const jar = new Map();
  return {
    jar,
    async get(url) {
      const cookie = [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
      const answer = await fetch(new URL(url, origin), { redirect: 'manual', headers: cookie ? { cookie } : {} });
      for (const line of answer.headers.getSetCookie()) {
        const [pair, ...attributes] = line.split(';');
        const at = pair.indexOf('=');
        const name = pair.slice(0, at).trim();
        if (attributes.some((a) => /^\s*max-age=0\s*$/i.test(a)) || pair.slice(at + 1) === '') jar.delete(name);
        else jar.set(name, pair.slice(at + 1));
      }
      return answer;
    },
  };
}

/** /login -> the mock's sign-in page -> /callback -> /, as a browser; answers the last page. */
async function signInThrough(origin, greeting = 'Signed in with Freedom ID.') {
  const me = browser(origin);
  const login = await me.get('/login');
  assert.equal(login.status, 302, await login.clone().text());
  assert.equal(login.headers.get('cache-control'), 'no-store');
  const link = login.headers.get('location');
  assert.ok(link.startsWith(`${mock.origin}/login?track_id=`), link);
  const html = await (await fetch(link)).text();
  const trackId = /name="track_id" value="([^"]+)"/.exec(html)[1];
  const decided = await fetch(new URL('/login/decide', link), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ track_id: trackId, decision: 'continue' }).toString(),
  });
  const callback = decided.headers.get('location');
  assert.ok(callback.startsWith(`${origin}/callback?state=`), callback);
  const back = await me.get(callback);
  assert.equal(back.status, 303, await back.clone().text());
  assert.equal(new URL(back.headers.get('location'), origin).pathname, '/');
  const home = await me.get('/');
  assert.equal(home.status, 200);
  assert.equal(await home.text(), greeting);
  // A callback this browser did not start is refused before anything is sent.
  const tokenCalls = () => mock.requests.filter((request) => request.endpoint === 'token').length;
  const sent = tokenCalls();
  const stranger = await browser(origin).get(callback);
  assert.equal(stranger.status, 403);
  assert.match(await stranger.text(), /not started here/);
  assert.equal(tokenCalls(), sent);
  return { me, callback };
}

/** Starts a README server (a child process we own), waits until it answers. */
async function startServer(command, args, env) {
  const child = spawn(command, args, { cwd: app, env: { ...process.env, ...QUIET, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let output = '';
  child.stdout.on('data', (chunk) => { output += chunk; });
  child.stderr.on('data', (chunk) => { output += chunk; });
  const origin = `http://127.0.0.1:${env.PORT}`;
  for (let tries = 0; ; tries += 1) {
    if (child.exitCode !== null) assert.fail(`${path.basename(command)} exited: ${output}`);
    try {
      await fetch(`${origin}/`);
      break;
    } catch {
      if (tries > 200) assert.fail(`${path.basename(command)} never listened: ${output}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  return {
    origin,
    output: () => output,
    stop: () => {
      child.kill();
      children.delete(child);
    },
  };
}

async function serverEnv() {
  const port = await freePort();
  return {
    PORT: String(port),
    FREEDOM_ID_CLIENT_ID: CLIENT_ID,
    FREEDOM_ID_CLIENT_SECRET: SECRET,
    FREEDOM_ID_AUTHORIZE_URL: mock.authorizeUrl,
    FREEDOM_ID_TOKEN_URL: mock.tokenUrl,
    FREEDOM_ID_REDIRECT_URI: `http://127.0.0.1:${port}/callback`,
  };
}

test('Node 20: the README\'s node:http example with session-tokens.js signs a browser in and refreshes', async () => {
  cpSync(path.join(fixtures, 'node'), path.join(app, 'node-http'), { recursive: true });
  const server = await startServer(NODE20, ['node-http/server.js'], await serverEnv());
  try {
    mock.setTokenLifetimes({ accessTtlSeconds: 30 }); // due for a refresh at once (a minute early)
    mock.requests.length = 0;
    const { me } = await signInThrough(server.origin);
    assert.equal(await (await me.get('/')).text(), 'Signed in with Freedom ID.');
    const calls = mock.requests.filter((request) => request.endpoint === 'token').map((request) => request.method);
    assert.deepEqual(calls, ['POST', 'PATCH', 'PATCH'], 'the code exchange, then a refresh on each visit of /');
  } finally {
    mock.reset();
    server.stop();
  }
});

test('Deno: the README\'s Deno.serve example signs a browser in (--allow-net --allow-env only)', async () => {
  cpSync(path.join(fixtures, 'deno'), path.join(app, 'deno'), { recursive: true });
  const env = await serverEnv();
  const server = await startServer(
    DENO,
    ['run', '--node-modules-dir=manual', '--cached-only', '--allow-net', '--allow-env', 'deno/server.ts'],
    { ...env, DENO_DIR: path.join(app, '.deno') },
  );
  try {
    await signInThrough(server.origin);
  } finally {
    server.stop();
  }
  assert.doesNotMatch(server.output(), new RegExp(SECRET));
});

test('Bun: the README\'s Bun.serve example signs a browser in', async () => {
  cpSync(path.join(fixtures, 'bun'), path.join(app, 'bun'), { recursive: true });
  const server = await startServer(BUN, ['--no-install', 'bun/server.js'], await serverEnv());
  try {
    await signInThrough(server.origin);
  } finally {
    server.stop();
  }
});

// ---------------------------------------------------------------------------------------------
// Cloudflare Workers: wrangler bundles the README's Hono app, workerd runs it

test('workerd: wrangler bundles the Hono example with the workerd entry; it signs a browser in', async (t) => {
  const { Miniflare } = await import('miniflare');
  const worker = path.join(app, 'worker');
  cpSync(path.join(fixtures, 'hono-worker/src'), path.join(worker, 'src'), { recursive: true });
  cpSync(path.join(fixtures, 'flow/flow-core.mjs'), path.join(worker, 'src/flow-core.mjs'));
  // The README's wrangler.toml, with the test's entry (index.js plus a flow route) and a KV id.
  const toml = readFileSync(path.join(fixtures, 'hono-worker/wrangler.toml'), 'utf8')
    .replace(/^main = .*$/m, 'main = "src/test-entry.js"')
    .replace(/^id = .*$/m, 'id = "00000000000000000000000000000000"');
  writeFileSync(path.join(worker, 'wrangler.toml'), toml);
  const dist = path.join(worker, 'dist');
  const wrangler = path.join(root, 'node_modules/wrangler/bin/wrangler.js');
  const report = run(NODE22, [wrangler, 'deploy', '--dry-run', '--outdir', dist], {
    cwd: worker,
    env: { WRANGLER_LOG_PATH: path.join(app, 'wrangler-logs') },
  });
  const upload = /Total Upload: (.*)/.exec(report)?.[1];
  t.diagnostic(`wrangler ${version(NODE22, [wrangler, '--version'])} bundle: total upload ${upload}`);

  // One wasm in the bundle, the package's own bytes; the workerd entry, not a Node one.
  const wasm = readdirSync(dist).filter((file) => file.endsWith('.wasm'));
  assert.equal(wasm.length, 1, wasm.join(' '));
  assert.ok(
    readFileSync(path.join(dist, wasm[0])).equals(readFileSync(path.join(app, 'node_modules/freedom-id-edge/freedom_id_edge_bg.wasm'))),
  );
  const bundle = readFileSync(path.join(dist, 'test-entry.js'), 'utf8');
  assert.match(bundle, new RegExp(`^import \\w+ from "\\./${wasm[0].replace('.', '\\.')}";$`, 'm'), 'a static wasm import');
  assert.match(bundle, /initSync\(\{ module \}\)/);
  assert.doesNotMatch(bundle, /readFileSync|node:fs|require\("fs"\)/, 'no Node entry in the bundle');

  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const mf = new Miniflare({
    modules: true,
    scriptPath: path.join(dist, 'test-entry.js'),
    modulesRoot: dist,
    modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'] }],
    compatibilityDate: /^compatibility_date = "(.*)"$/m.exec(toml)[1],
    bindings: {
      FREEDOM_ID_CLIENT_ID: CLIENT_ID,
      FREEDOM_ID_CLIENT_SECRET: SECRET,
      FREEDOM_ID_AUTHORIZE_URL: mock.authorizeUrl,
      FREEDOM_ID_TOKEN_URL: mock.tokenUrl,
      FREEDOM_ID_REDIRECT_URI: `${origin}/callback`,
      FREEDOM_ID_USERINFO_URL: mock.userInfoUrl,
      COOKIE_SECRET,
    },
    kvNamespaces: ['SESSIONS'],
    host: '127.0.0.1',
    port,
  });
  try {
    await mf.ready;
    // The same flow script as Node, Deno and Bun, inside workerd.
    const answer = await fetch(`${origin}/__test/flow`, { method: 'POST', body: JSON.stringify(flowConfig()) });
    assert.equal(answer.status, 200);
    assertFlow(await answer.json(), 'workerd');
    const workerd = JSON.parse(readFileSync(path.join(root, 'node_modules/workerd/package.json'), 'utf8')).version;
    t.diagnostic(`workerd ${workerd} (Miniflare): workerd.mjs, flow complete`);

    // The README example: the state in a signed cookie, the tokens and the user in KV; it
    // greets the user by name.
    const { me } = await signInThrough(origin, `Signed in as ${DEMO_USER.firstname} ${DEMO_USER.lastname}.`);
    const session = me.jar.get('__Host-session');
    assert.match(session, /^[0-9a-f-]{36}$/);
    assert.equal(me.jar.has('__Host-signin'), false, 'the sign-in cookie is deleted on the callback');
    const tokens = await (await mf.getKVNamespace('SESSIONS')).get(session, 'json');
    assert.match(tokens.accessToken, TOKEN_SHAPE);
    assert.match(tokens.refreshToken, TOKEN_SHAPE);
    assert.equal(tokens.user.id, DEMO_USER.id);
    // A tampered signed cookie is refused like a missing one.
    const tampered = await fetch(`${origin}/callback?state=x&authorization_code=y`, {
      redirect: 'manual',
      headers: { cookie: `__Host-signin=x.${'A'.repeat(43)}%3D` },
    });
    assert.equal(tampered.status, 403);
  } finally {
    await mf.dispose();
  }
});

// ---------------------------------------------------------------------------------------------
// Types

function tsc(tsconfig) {
  writeFileSync(path.join(app, 'tsconfig.json'), JSON.stringify(tsconfig));
  try {
    return run(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json', '--explainFiles']);
  } catch (error) {
    assert.fail(`tsc --strict failed:\n${error.stdout}${error.stderr}`);
  }
}

test('tsc --strict: Node ESM and CommonJS callers get the node types, a Workers caller the workerd ones', () => {
  mkdirSync(path.join(app, 'types'), { recursive: true });
  for (const file of readdirSync(path.join(fixtures, 'types'))) cpSync(path.join(fixtures, 'types', file), path.join(app, 'types', file));
  const strict = { strict: true, noEmit: true, target: 'es2022', types: [], skipLibCheck: false };

  const node = tsc({
    compilerOptions: { ...strict, module: 'nodenext', moduleResolution: 'nodenext', lib: ['es2022'] },
    files: ['types/node-esm.mts', 'types/node-cjs.cts'],
  });
  assert.match(node, /node_modules\/freedom-id-edge\/node\.d\.mts/);
  assert.match(node, /node_modules\/freedom-id-edge\/node\.d\.cts/);

  const worker = tsc({
    compilerOptions: {
      ...strict,
      module: 'esnext',
      moduleResolution: 'bundler',
      customConditions: ['workerd', 'worker'],
      lib: ['es2022', 'webworker'],
    },
    files: ['types/worker.ts'],
  });
  assert.match(worker, /node_modules\/freedom-id-edge\/workerd\.d\.mts/);
  assert.doesNotMatch(worker, /freedom-id-edge\/node\.d\./);

  // Without custom conditions (a bundler setup) and with the legacy node10 resolution (the
  // top-level `types`), the same declarations.
  const bundler = tsc({
    compilerOptions: { ...strict, module: 'esnext', moduleResolution: 'bundler', lib: ['es2022', 'webworker'] },
    files: ['types/worker.ts'],
  });
  assert.match(bundler, /node_modules\/freedom-id-edge\/node\.d\.mts/);
  const legacy = tsc({
    compilerOptions: { ...strict, module: 'commonjs', moduleResolution: 'node10', lib: ['es2022'] },
    files: ['types/node-cjs.cts'],
  });
  assert.match(legacy, /node_modules\/freedom-id-edge\/node\.d\.cts/);
});

test('deno check: the Deno example type-checks against deno.d.mts', () => {
  cpSync(path.join(fixtures, 'deno'), path.join(app, 'deno'), { recursive: true });
  try {
    run(DENO, ['check', '--node-modules-dir=manual', '--cached-only', 'deno/server.ts'], { env: { DENO_DIR: path.join(app, '.deno') } });
  } catch (error) {
    assert.fail(`deno check failed:\n${error.stdout}${error.stderr}`);
  }
});

// ---------------------------------------------------------------------------------------------
// The README shows what was tested

test('the README\'s node:http, Hono, wrangler.toml, Deno.serve and Bun.serve examples are these tested fixtures', () => {
  const readme = readFileSync(path.join(root, 'npm/README.md'), 'utf8');
  const blocks = [...readme.matchAll(/^```\w*\n([\s\S]*?)^```$/gm)].map((match) => match[1]);
  const examples = ['node/session-tokens.js', 'node/server.js', 'hono-worker/src/index.js', 'hono-worker/wrangler.toml', 'deno/server.ts', 'bun/server.js'];
  for (const fixture of examples) {
    const text = readFileSync(path.join(fixtures, fixture), 'utf8');
    assert.ok(blocks.includes(text), `npm/README.md shows tests/npm/fixtures/${fixture} as it is`);
  }
  const installed = readFileSync(path.join(app, 'node_modules/freedom-id-edge/README.md'), 'utf8');
  assert.equal(installed, readme);
});
