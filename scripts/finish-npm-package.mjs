// Completes wasm-pack's pkg/package.json with what users and registries expect
// (a description of the npm package itself, engines, keywords, an exports map for require and
// import) and puts the npm README in place.
import { readFileSync, writeFileSync, copyFileSync } from 'node:fs';

const path = 'pkg/package.json';
const generated = JSON.parse(readFileSync(path, 'utf8'));
const main = generated.main;
const types = generated.types;
const finished = {
  name: generated.name,
  version: generated.version,
  // Cargo.toml's description covers the Worker too; this one says what the npm package does.
  description:
    'Freedom ID sign-in for Node backends: create the sign-in link, complete sign-in on the callback ' +
    '(state check and code exchange) and refresh tokens. Rust compiled to WebAssembly, no dependencies.',
  license: generated.license,
  repository: generated.repository,
  keywords: ['freedom-id', 'freedom-pay', 'oauth2', 'sign-in', 'authentication', 'wasm'],
  engines: { node: '>=18' },
  main,
  types,
  exports: {
    '.': { types: `./${types}`, default: `./${main}` },
    './package.json': './package.json',
  },
  files: generated.files,
  sideEffects: false,
};
writeFileSync(path, `${JSON.stringify(finished, null, 2)}\n`);
copyFileSync('npm/README.md', 'pkg/README.md');
