// The npm package as a user gets it: `npm pack pkg`, installed from the tarball into a fresh
// folder, then required, imported and type-checked there, and called against the mock
// Freedom ID. Run with the machine's Node 20 (`make test` does). Needs `make build-npm` first.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, writeFileSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startMockFreedomId } from '../support/mock-freedom-id.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const SECRET = 'npm-test-secret-value';

let app; // the temporary project the package is installed into
let mock;
let createAuthorizationLink;

function run(command, args) {
  return execFileSync(command, args, { cwd: app, encoding: 'utf8' });
}

/** For children that call the mock: this process must keep serving it meanwhile. */
async function runAsync(command, args) {
  const { stdout } = await promisify(execFile)(command, args, { cwd: app, encoding: 'utf8' });
  return stdout;
}

before(async () => {
  app = mkdtempSync(path.join(tmpdir(), 'freedom-id-edge-app-'));
  const packed = JSON.parse(run('npm', ['pack', path.join(root, 'pkg'), '--json', '--pack-destination', app]));
  writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', private: true }));
  run('npm', ['install', '--no-audit', '--no-fund', '--offline', path.join(app, packed[0].filename)]);
  ({ createAuthorizationLink } = createRequire(path.join(app, 'index.js'))('freedom-id-edge'));
  mock = await startMockFreedomId({ clientId: 'app-client', clientSecret: SECRET });
});

after(async () => {
  await mock?.close();
  if (app) rmSync(app, { recursive: true, force: true });
});

beforeEach(() => mock.reset());

function options(overrides = {}) {
  return {
    clientId: 'app-client',
    clientSecret: SECRET,
    redirectUri: 'https://app.example.com/callback',
    grants: ['openid', 'read.email'],
    authorizeUrl: mock.authorizeUrl,
    timeoutMs: 1000,
    ...overrides,
  };
}

async function rejection(promise) {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail('expected a rejection');
}

test('the tarball ships the wasm, glue, types, README and a complete package.json', () => {
  const manifest = JSON.parse(readFileSync(path.join(app, 'node_modules/freedom-id-edge/package.json'), 'utf8'));
  for (const field of ['name', 'version', 'description', 'license', 'repository', 'types', 'files', 'engines', 'keywords']) {
    assert.ok(manifest[field], `package.json has ${field}`);
  }
  assert.equal(manifest.name, 'freedom-id-edge');
  const installed = (file) => statSync(path.join(app, 'node_modules/freedom-id-edge', file)).size;
  for (const file of [manifest.main, manifest.types, 'freedom_id_edge_bg.wasm', 'README.md', 'LICENSE']) {
    assert.ok(installed(file) > 0, file);
  }
  const readme = readFileSync(path.join(app, 'node_modules/freedom-id-edge/README.md'), 'utf8');
  assert.match(readme, /createAuthorizationLink/);
  assert.match(readme, /UPSTREAM_TIMEOUT/);
});

test('require() gets a link from Freedom ID, sending the documented request', async () => {
  const link = await createAuthorizationLink(options());
  const url = new URL(link.url);
  assert.equal(url.origin, mock.origin);
  assert.equal(link.trackId, url.searchParams.get('track_id'));
  assert.equal(link.expireAt, Number(url.searchParams.get('expire_at')));
  assert.ok(Math.abs(link.expireAt - (Date.now() / 1000 + 600)) < 30);
  assert.deepEqual(Object.keys(link).sort(), ['expireAt', 'trackId', 'url']);
  const [request] = mock.requests;
  assert.equal(request.headers.authorization, `Basic ${Buffer.from(`app-client:${SECRET}`).toString('base64')}`);
  assert.deepEqual(JSON.parse(request.body), {
    redirect_uri: 'https://app.example.com/callback',
    grants: ['openid', 'read.email'],
  });
});

test('the state option is appended to redirectUri, keeping its query', async () => {
  await createAuthorizationLink(options({ redirectUri: 'https://app.example.com/callback?lang=kk', state: 'a b/c' }));
  assert.equal(JSON.parse(mock.requests[0].body).redirect_uri, 'https://app.example.com/callback?lang=kk&state=a%20b%2Fc');
  const error = await rejection(createAuthorizationLink(options({ state: '' })));
  assert.equal(error.code, 'INVALID_OPTIONS');
  assert.match(error.message, /state must be a non-empty string/);
});

test('import works from an ES module, and from CommonJS in a child process', async () => {
  writeFileSync(
    path.join(app, 'esm.mjs'),
    `import { createAuthorizationLink } from 'freedom-id-edge';
     const link = await createAuthorizationLink(JSON.parse(process.argv[2]));
     console.log(JSON.stringify(link));`,
  );
  writeFileSync(
    path.join(app, 'cjs.cjs'),
    `const { createAuthorizationLink } = require('freedom-id-edge');
     createAuthorizationLink(JSON.parse(process.argv[2])).then((link) => console.log(JSON.stringify(link)));`,
  );
  for (const file of ['esm.mjs', 'cjs.cjs']) {
    const link = JSON.parse(await runAsync(process.execPath, [file, JSON.stringify(options())]));
    assert.ok(link.url.startsWith(`${mock.origin}/login?track_id=`), file);
  }
});

test('the shipped .d.ts type-checks a typical caller under tsc --strict', () => {
  writeFileSync(
    path.join(app, 'check.ts'),
    `import { createAuthorizationLink, type AuthorizationLink, type AuthorizationLinkOptions } from 'freedom-id-edge';
     const options: AuthorizationLinkOptions = { clientId: 'a', clientSecret: 'b', redirectUri: 'https://x.kz/cb', grants: ['openid'] };
     const withAll: AuthorizationLinkOptions = { ...options, authorizeUrl: 'https://x.kz/a', timeoutMs: 100, state: 's' };
     async function go(): Promise<string> {
       const link: AuthorizationLink = await createAuthorizationLink(withAll);
       const track: string | null = link.trackId;
       const expiry: number | null = link.expireAt;
       return link.url + String(track) + String(expiry);
     }
     void go;
     // @ts-expect-error grants is required
     const missing: AuthorizationLinkOptions = { clientId: 'a', clientSecret: 'b', redirectUri: 'https://x.kz/cb' };
     // @ts-expect-error grants are strings
     void createAuthorizationLink({ ...options, grants: [1] });
     void missing;`,
  );
  writeFileSync(
    path.join(app, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { strict: true, noEmit: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', types: [] },
      files: ['check.ts'],
    }),
  );
  const tsc = path.join(root, 'node_modules/typescript/bin/tsc');
  run(process.execPath, [tsc, '-p', 'tsconfig.json']);
});

const faults = [
  ['status:500', 'UPSTREAM_STATUS', 500],
  ['status:401', 'UPSTREAM_STATUS', 401],
  ['error-200', 'UPSTREAM_STATUS', 200],
  ['redirect', 'UPSTREAM_STATUS', 302],
  ['not-json', 'UPSTREAM_MALFORMED'],
  ['no-redirect-uri', 'UPSTREAM_MALFORMED'],
  ['huge-chunked', 'UPSTREAM_MALFORMED'],
  ['evil-link', 'UNTRUSTED_LINK'],
  ['userinfo-link', 'UNTRUSTED_LINK'],
  ['reset', 'UPSTREAM_NETWORK'],
  ['hang', 'UPSTREAM_TIMEOUT'],
  ['hang-body', 'UPSTREAM_TIMEOUT'],
];

for (const [mode, code, status] of faults) {
  test(`upstream ${mode} rejects with code ${code}`, async () => {
    mock.setMode(mode);
    const error = await rejection(createAuthorizationLink(options({ timeoutMs: 500 })));
    assert.ok(error instanceof Error);
    assert.equal(error.code, code);
    assert.equal(error.status, status);
    assert.match(error.message, /^freedom-id-edge: /);
    assert.equal(mock.requests.length, 1);
  });
}

test('a refused connection rejects with UPSTREAM_NETWORK', async () => {
  const gone = await startMockFreedomId();
  await gone.close();
  const error = await rejection(createAuthorizationLink(options({ authorizeUrl: gone.authorizeUrl })));
  assert.equal(error.code, 'UPSTREAM_NETWORK');
});

const badOptions = [
  ['no options', undefined, /expects an options object/],
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

for (const [name, overrides, message] of badOptions) {
  test(`bad options (${name}) reject with INVALID_OPTIONS and call nobody`, async () => {
    const given = overrides === undefined || typeof overrides !== 'object' || Array.isArray(overrides) ? overrides : options(overrides);
    const error = await rejection(createAuthorizationLink(given));
    assert.ok(error instanceof Error);
    assert.equal(error.code, 'INVALID_OPTIONS');
    assert.match(error.message, message);
    assert.equal(mock.requests.length, 0);
  });
}

test('no error message, property or stack ever holds the secret', async () => {
  const errors = [
    await rejection(createAuthorizationLink(options({ clientSecret: ` ${SECRET}` }))),
    await rejection(createAuthorizationLink(options({ clientSecret: `${SECRET}\n` }))),
  ];
  mock.setMode('status:401');
  errors.push(await rejection(createAuthorizationLink(options())));
  const basic = Buffer.from(`app-client:${SECRET}`).toString('base64');
  for (const error of errors) {
    const shown = `${error.message} ${error.stack} ${JSON.stringify(error)} ${JSON.stringify(Object.entries(error))}`;
    assert.ok(!shown.includes(SECRET) && !shown.includes(basic), shown);
  }
});

test('100 concurrent calls each get their own link', async () => {
  const links = await Promise.all(Array.from({ length: 100 }, () => createAuthorizationLink(options())));
  assert.equal(new Set(links.map((link) => link.trackId)).size, 100);
  assert.equal(mock.requests.length, 100);
});

test('calls keep working after faults', async () => {
  for (const mode of ['reset', 'huge', 'hang-body']) {
    mock.setMode(mode);
    await rejection(createAuthorizationLink(options({ timeoutMs: 300 })));
  }
  mock.setMode('ok');
  assert.ok((await createAuthorizationLink(options())).url.startsWith(mock.origin));
});
