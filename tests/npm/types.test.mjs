// One source for the package's TypeScript types: npm/types.d.ts. The build ships it as every
// entry's .d.mts/.d.cts (scripts/finish-npm-package.mjs, which also checks wasm-bindgen's
// signatures of the exports against it), and npm/README.md's API block shows it: every
// declaration there is in npm/types.d.ts verbatim, and every declaration of npm/types.d.ts is
// there. Only the top-level `/** ... */` comments (the editor's hover text) are left out of the
// README, which says the same in prose. Run by `make package` (after `make build-npm`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const read = (file) => readFileSync(path.join(root, file), 'utf8');
const TYPES = read('npm/types.d.ts');

/**
 * The top-level declarations of TypeScript `text`, by name: each from its `export` line to
 * the line before the next blank line, top-level comment or `export` (or the end).
 */
function declarations(text) {
  const found = new Map();
  let current = null;
  for (const line of text.split('\n')) {
    const ends = line.trim() === '' || line.startsWith('/*') || line.startsWith('//') || line.startsWith('export ');
    if (ends) current = null;
    if (line.startsWith('export ')) {
      const [, name] = /^export (?:declare )?(?:function|interface|type|const|class|enum) (\w+)/.exec(line) ?? [];
      assert.ok(name, `a declaration this test can read: ${line}`);
      assert.ok(!found.has(name), `${name} is declared once`);
      current = [];
      found.set(name, current);
    }
    if (current) current.push(line);
  }
  return new Map([...found].map(([name, lines]) => [name, lines.join('\n')]));
}

/** The README's TypeScript blocks that declare the API (those that begin with `export`). */
function apiBlocks(readme) {
  return [...readme.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((match) => match[1]).filter((block) => block.startsWith('export '));
}

/** What differs between the README's declarations and the .d.ts's, as readable lines. */
function drift(readme, types) {
  const shipped = declarations(types);
  const shown = new Map(apiBlocks(readme).flatMap((block) => [...declarations(block)]));
  const problems = [];
  for (const [name, text] of shown) {
    if (!shipped.has(name)) problems.push(`the README declares ${name}, which npm/types.d.ts does not`);
    else if (shipped.get(name) !== text) problems.push(`the README's ${name} is not npm/types.d.ts's:\n${text}\n--- npm/types.d.ts:\n${shipped.get(name)}`);
  }
  for (const name of shipped.keys()) {
    if (!shown.has(name)) problems.push(`the README does not show ${name}`);
  }
  return problems;
}

test('npm/types.d.ts declares the six functions and the types of their options and results', () => {
  assert.deepEqual(
    [...declarations(TYPES).keys()].sort(),
    [
      'AuthorizationLink',
      'AuthorizationLinkOptions',
      'CompleteSignInOptions',
      'ExchangeAuthorizationCodeOptions',
      'FetchUserInfoOptions',
      'GateAssertion',
      'IdTokenClaims',
      'RefreshTokensOptions',
      'SignIn',
      'Tokens',
      'User',
      'VerifyGateAssertionOptions',
      'completeSignIn',
      'createAuthorizationLink',
      'exchangeAuthorizationCode',
      'fetchUserInfo',
      'refreshTokens',
      'verifyGateAssertion',
    ],
  );
});

test('every entry of the built package ships npm/types.d.ts as its declarations, byte for byte', () => {
  assert.ok(existsSync(path.join(root, 'pkg/package.json')), 'make build-npm first');
  const manifest = JSON.parse(read('pkg/package.json'));
  const files = readdirSync(path.join(root, 'pkg')).filter((file) => /\.d\.[cm]ts$/.test(file));
  assert.deepEqual(files.sort(), ['deno.d.mts', 'node.d.cts', 'node.d.mts', 'workerd.d.mts']);
  assert.ok(files.includes(manifest.types.replace('./', '')), 'the top-level types are one of them');
  for (const file of files) assert.equal(read(`pkg/${file}`), TYPES, file);
});

test('npm/README.md shows every declaration of npm/types.d.ts verbatim, and no other', () => {
  const readme = read('npm/README.md');
  assert.equal(apiBlocks(readme).length, 1, 'the README has one API block');
  assert.deepEqual(drift(readme, TYPES), []);
});

test('the README check sees drift: a changed comment, a missing declaration, an extra one', () => {
  const readme = read('npm/README.md');
  const changed = readme.replace('// unix seconds', '// seconds');
  assert.match(drift(changed, TYPES).join('\n'), /the README's Tokens is not npm\/types\.d\.ts's/);
  const missing = readme.replace(/^export function refreshTokens\(.*\n/m, '');
  assert.deepEqual(drift(missing, TYPES), ['the README does not show refreshTokens']);
  const extra = readme.replace(/^export function refreshTokens\(/m, 'export function start(): void;\nexport function refreshTokens(');
  assert.deepEqual(drift(extra, TYPES), ['the README declares start, which npm/types.d.ts does not']);
});
