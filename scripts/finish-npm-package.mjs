// Assembles the npm package in pkg/ from what scripts/build-npm.sh made: the one shared
// .wasm (already checked identical across targets and run through wasm-opt), wasm-bindgen's
// `nodejs` glue (CommonJS, freedom_id_edge.js) and `web` glue (an ES module with initSync,
// freedom_id_edge.mjs), the per-runtime
// entries committed in npm/entries/, npm/types.d.ts as each entry's declarations, package.json
// with its exports map, the npm README and the LICENSE.
//
//   node scripts/finish-npm-package.mjs <glue dir> <optimised wasm> <cargo metadata json>
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const [glueDir, wasmPath, metadataPath] = process.argv.slice(2);
if (!metadataPath) throw new Error('usage: finish-npm-package.mjs <glue dir> <optimised wasm> <cargo metadata json>');
const NAME = 'freedom_id_edge';
const out = 'pkg';

const crate = JSON.parse(readFileSync(metadataPath, 'utf8')).packages.find((p) => p.name === 'freedom-id-edge');
if (!crate) throw new Error('cargo metadata has no freedom-id-edge package');

/** A generated file's text, checked for what the entries rely on: a new wasm-bindgen that
 *  changes it fails the build here instead of shipping a broken package. */
function glue(target, file, mustHave) {
  const text = readFileSync(path.join(glueDir, target, file), 'utf8');
  for (const needle of mustHave) {
    if (!text.includes(needle)) throw new Error(`${target}/${file} no longer contains ${JSON.stringify(needle)}`);
  }
  // The glue's own pointer to its .d.ts; each entry has its own types instead.
  const own = inlineSnippets(target, text.replace(/^\/\* @ts-self-types="[^"]*" \*\/\n/, ''));
  if (own.includes('snippets/')) throw new Error(`${target}/${file} still loads a snippet file`);
  return own;
}

/**
 * The glue with its snippets (the options copier of src/drivers/node/options.rs, the I/O
 * helpers of src/drivers/io.js) written into it: each `require`/`import` of a snippet becomes
 * the snippet's code in a function of its own, so the package stays one glue file per module format and nothing is
 * shared between the snippet's names and the glue's. A snippet that lacks a name the glue
 * takes fails the build.
 */
function inlineSnippets(target, text) {
  const snippet = /^(?:const \{ ([\w, ]+) \} = require\(String\.raw`\.\/(snippets\/[^`]+)`\);|import \{ ([\w, ]+) \} from '\.\/(snippets\/[^']+)';)$/gm;
  return text.replace(snippet, (_, cjsNames, cjsFile, esmNames, esmFile) => {
    const names = (cjsNames ?? esmNames).split(', ');
    const code = readFileSync(path.join(glueDir, target, cjsFile ?? esmFile), 'utf8');
    const exported = [...code.matchAll(/^export (?:async )?function (\w+)\(/gm)].map((match) => match[1]);
    // A snippet shared with the Worker (src/drivers/io.js) may export more than this build takes.
    if (names.some((name) => !exported.includes(name)) || /^export (?!(?:async )?function )/m.test(code)) {
      throw new Error(`${target}/${cjsFile ?? esmFile} exports ${exported}, the glue takes ${names}`);
    }
    const body = code.replace(/^export (async )?function /gm, '$1function ');
    return `const { ${names.join(', ')} } = (() => {\n${body}\nreturn { ${names.join(', ')} };\n})();`;
  });
}

const EXPORTS = ['completeSignIn', 'createAuthorizationLink', 'exchangeAuthorizationCode', 'fetchUserInfo', 'refreshTokens', 'verifyGateAssertion'];
const cjs = glue('nodejs', `${NAME}.js`, [
  `\${__dirname}/${NAME}_bg.wasm`,
  ...EXPORTS.map((name) => `exports.${name} = ${name};`),
]);
const esm = glue('web', `${NAME}.js`, [
  'export { initSync, __wbg_init as default };',
  ...EXPORTS.map((name) => `export function ${name}(`),
]);
// The declarations are npm/types.d.ts, the one source (npm/README.md shows them, and
// tests/npm/types.test.mjs checks it does). wasm-bindgen's own .d.ts only says what the wasm
// exports: each of its `export` lines (the six functions' signatures, from the Rust
// `unchecked_*_type` names) must be in npm/types.d.ts verbatim, so neither can change alone.
const types = readFileSync('npm/types.d.ts', 'utf8');
const generated = readFileSync(path.join(glueDir, 'nodejs', `${NAME}.d.ts`), 'utf8');
const exported = (text) => text.split('\n').filter((line) => line.startsWith('export '));
for (const line of exported(generated)) {
  if (!exported(types).includes(line)) throw new Error(`npm/types.d.ts lacks wasm-bindgen's ${JSON.stringify(line)}`);
}
const functions = (text) => [...text.matchAll(/^export function (\w+)\(/gm)].map((match) => match[1]).sort();
for (const [file, text] of [['wasm-bindgen\'s .d.ts', generated], ['npm/types.d.ts', types]]) {
  if (functions(text).join() !== EXPORTS.join()) throw new Error(`${file} declares ${functions(text)}, not ${EXPORTS}`);
}

rmSync(out, { recursive: true, force: true });
mkdirSync(out);
const write = (file, text) => writeFileSync(path.join(out, file), text);

copyFileSync(wasmPath, path.join(out, `${NAME}_bg.wasm`));
write(`${NAME}.js`, cjs); // CommonJS (no "type": "module" here); the name bench/run.mjs measures
write(`${NAME}.mjs`, esm);
// The entries, and one declaration file each (the same API in every runtime): `.d.cts` for
// the CommonJS one, `.d.mts` for the ES modules, so TypeScript's node16/nodenext and bundler
// resolutions each see the right module format.
const entries = readdirSync('npm/entries').sort();
for (const entry of entries) {
  copyFileSync(path.join('npm/entries', entry), path.join(out, entry));
  write(entry.replace(/\.(c|m)js$/, '.d.$1ts'), types);
}
const entry = (file) => ({ types: `./${file.replace(/\.(c|m)js$/, '.d.$1ts')}`, default: `./${file}` });
for (const needed of ['node.cjs', 'node.mjs', 'workerd.mjs', 'deno.mjs']) {
  if (!entries.includes(needed)) throw new Error(`npm/entries/${needed} is missing`);
}

const manifest = {
  name: crate.name,
  version: crate.version,
  // Cargo.toml's description covers the Worker too; this one says what the npm package does.
  description:
    'Freedom ID sign-in for Node, Deno, Bun and Cloudflare Workers: create the sign-in link, complete sign-in ' +
    'on the callback (state check and code exchange) and refresh tokens. Rust compiled to WebAssembly, no dependencies.',
  license: crate.license,
  repository: { type: 'git', url: crate.repository },
  keywords: ['freedom-id', 'freedom-pay', 'oauth2', 'sign-in', 'authentication', 'wasm', 'cloudflare-workers', 'deno', 'bun'],
  engines: { node: '>=18' },
  // For tools that predate `exports`.
  main: './node.cjs',
  types: './node.d.cts',
  exports: {
    '.': {
      // Cloudflare Workers: wrangler (and other workerd bundlers) pick these first.
      workerd: entry('workerd.mjs'),
      worker: entry('workerd.mjs'),
      // Deno 2 (npm:freedom-id-edge): the wasm as a source-phase import, no file read. (Deno's
      // require() passes `node` and `require`, not `deno`: it gets the CommonJS entry.)
      deno: entry('deno.mjs'),
      // Node 18+ and Bun (which matches `node`; the node entries suit it as they are).
      node: { import: entry('node.mjs'), require: entry('node.cjs') },
      import: entry('node.mjs'),
      require: entry('node.cjs'),
      default: entry('node.cjs'),
    },
    './package.json': './package.json',
  },
  files: [`${NAME}_bg.wasm`, `${NAME}.js`, `${NAME}.mjs`, ...entries.flatMap((e) => [e, e.replace(/\.(c|m)js$/, '.d.$1ts')])],
  // The entries instantiate the wasm when loaded: a bundler must keep them.
  sideEffects: entries.map((e) => `./${e}`),
};
write('package.json', `${JSON.stringify(manifest, null, 2)}\n`);
copyFileSync('npm/README.md', path.join(out, 'README.md'));
copyFileSync('LICENSE', path.join(out, 'LICENSE'));
