// Measures the npm package as users get it (npm pack pkg/, installed into a fresh folder): the
// tarball's size, and the cold load in each runtime, from the start of the import to the
// functions being ready, and on to a first answer (a call that rejects with INVALID_OPTIONS,
// no network), each in a fresh process. Prints a Markdown table for BENCHMARKS.md.
//
//   make build-npm && node_modules/.bin/node tests/npm/cold-load.mjs [runs, default 21]
//
// Node 22 runs this (wrangler and Miniflare need it); Node 20 is the machine's (SYSTEM_NODE,
// else the first `node` on PATH outside node_modules). workerd's clock stands still while a
// script loads (a Spectre mitigation), so there the figure is taken from outside: Miniflare's
// start to the first answer of a Worker that imports the package, minus the same for a Worker
// that does not.
import { BUN, DENO, NODE20, NODE22, QUIET, bin, packAndInstall, root, run as runIn } from '../support/runtimes.mjs';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const RUNS = Number(process.argv[2] ?? 21);

const app = mkdtempSync(path.join(tmpdir(), 'freedom-id-edge-cold-'));
const run = (command, args, env = {}) => runIn(app, command, args, env);

const packed = packAndInstall(app, [], ['--offline']);

// Each script prints {ready, answered}: ms from the start of the import.
const FIRST_CALL = `
  const ready = performance.now() - t0;
  m.createAuthorizationLink({}).catch((error) => {
    if (error.code !== 'INVALID_OPTIONS') throw error;
    console.log(JSON.stringify({ ready, answered: performance.now() - t0 }));
  });`;
writeFileSync(path.join(app, 'cold.cjs'), `const t0 = performance.now(); const m = require('freedom-id-edge');${FIRST_CALL}`);
writeFileSync(path.join(app, 'cold.mjs'), `const t0 = performance.now(); const m = await import('freedom-id-edge');${FIRST_CALL}`);
writeFileSync(path.join(app, 'cold.deno.mjs'), `const t0 = performance.now(); const m = await import('npm:freedom-id-edge');${FIRST_CALL}`);
// The loader's own share: an empty module loaded the same way.
const EMPTY = 'console.log(JSON.stringify({ ready: performance.now() - t0 }));';
writeFileSync(path.join(app, 'empty.cjs'), '');
writeFileSync(path.join(app, 'empty.mjs'), '');
writeFileSync(path.join(app, 'empty-require.cjs'), `const t0 = performance.now(); require('./empty.cjs'); ${EMPTY}`);
writeFileSync(path.join(app, 'empty-import.mjs'), `const t0 = performance.now(); await import('./empty.mjs'); ${EMPTY}`);

function stats(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)], min: sorted[0], max: sorted.at(-1) };
}

/** The package's script and the empty module's, in fresh processes, taking turns. */
function measure(command, args, emptyArgs, env) {
  run(command, args, env); // one warm-up: file system and code caches as on a running host
  run(command, emptyArgs, env);
  const samples = [];
  const empty = [];
  for (let i = 0; i < RUNS; i += 1) {
    samples.push(JSON.parse(run(command, args, env)));
    empty.push(JSON.parse(run(command, emptyArgs, env)).ready);
  }
  return { ready: stats(samples.map((s) => s.ready)), answered: stats(samples.map((s) => s.answered)), empty: stats(empty) };
}

const version = (command, args = ['--version']) => run(command, args).trim().split('\n')[0];
const rows = [];
for (const [label, node] of [[`Node ${version(NODE20)}`, NODE20], [`Node ${version(NODE22)}`, NODE22]]) {
  rows.push([`${label}, \`require()\``, 'node.cjs', measure(node, ['cold.cjs'], ['empty-require.cjs'])]);
  rows.push([`${label}, \`import()\``, 'node.mjs', measure(node, ['cold.mjs'], ['empty-import.mjs'])]);
}
const deno = ['run', '--node-modules-dir=manual', '--cached-only'];
rows.push([
  `Deno ${version(DENO).replace(/^deno | \(.*/g, '')}, \`import('npm:freedom-id-edge')\``,
  'deno.mjs',
  measure(DENO, [...deno, 'cold.deno.mjs'], [...deno, 'empty-import.mjs'], { DENO_DIR: path.join(app, '.deno') }),
]);
rows.push([`Bun ${version(BUN)}, \`require()\``, 'node.cjs', measure(BUN, ['--no-install', 'cold.cjs'], ['--no-install', 'empty-require.cjs'])]);
rows.push([`Bun ${version(BUN)}, \`import()\``, 'node.mjs', measure(BUN, ['--no-install', 'cold.mjs'], ['--no-install', 'empty-import.mjs'])]);

// workerd: wrangler bundles two Workers; Miniflare starts each RUNS times, taking turns.
const { Miniflare } = await import('miniflare');
const wrangler = path.join(root, 'node_modules/wrangler/bin/wrangler.js');
function bundle(name, source) {
  const dir = path.join(app, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'index.js'), source);
  writeFileSync(path.join(dir, 'wrangler.toml'), `name = "${name}"\nmain = "index.js"\ncompatibility_date = "2026-07-01"\n`);
  const report = execFileSync(NODE22, [wrangler, 'deploy', '--dry-run', '--outdir', 'dist'], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, ...QUIET, WRANGLER_LOG_PATH: path.join(app, 'wrangler-logs') },
    stdio: 'pipe',
  });
  uploads[name] = /Total Upload: (.*)/.exec(report)?.[1];
  return path.join(dir, 'dist');
}
const uploads = {};
async function startToFirstAnswer(dist) {
  const t0 = performance.now();
  const mf = new Miniflare({
    modules: true,
    scriptPath: path.join(dist, 'index.js'),
    modulesRoot: dist,
    modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'] }],
    compatibilityDate: '2026-07-01',
  });
  try {
    const text = await (await mf.dispatchFetch('http://localhost/')).text();
    if (text !== 'INVALID_OPTIONS') throw new Error(`${dist} answered ${text}`);
    return performance.now() - t0;
  } finally {
    await mf.dispose();
  }
}
const bundles = {
  with: bundle(
    'with-package',
    `import { createAuthorizationLink } from 'freedom-id-edge';
     export default { fetch: () => createAuthorizationLink({}).catch((error) => new Response(error.code)) };`,
  ),
  without: bundle('without-package', `export default { fetch: async () => new Response('INVALID_OPTIONS') };`),
};
const starts = { with: [], without: [] };
for (let i = 0; i <= RUNS; i += 1) {
  for (const kind of ['with', 'without']) {
    const ms = await startToFirstAnswer(bundles[kind]);
    if (i > 0) starts[kind].push(ms); // the first round is a warm-up
  }
}
const withPackage = stats(starts.with);
const without = stats(starts.without);
const workerdVersion = version(bin('node_modules/miniflare/node_modules/.bin/workerd', 'node_modules/.bin/workerd'));

const ms = (value) => `${value.toFixed(1)} ms`;
const range = (s) => `${ms(s.median)} (${s.min.toFixed(1)}-${s.max.toFixed(1)})`;
const lines = [];
lines.push(`- \`npm pack ./pkg\`: ${packed.size.toLocaleString('en')} B tarball, ${packed.unpackedSize.toLocaleString('en')} B unpacked, ${packed.entryCount} files, one \`.wasm\` (${packed.files.find((f) => f.path.endsWith('.wasm')).size.toLocaleString('en')} B)`);
lines.push('');
lines.push(`| runtime, how loaded | entry | import -> ready, median (min-max) | import -> first answer, median (min-max) | an empty module loaded the same way, median |`);
lines.push('|---|---|---:|---:|---:|');
for (const [label, entry, s] of rows) lines.push(`| ${label} | \`${entry}\` | ${range(s.ready)} | ${range(s.answered)} | ${ms(s.empty.median)} |`);
lines.push(
  `| workerd ${workerdVersion.replace(/^workerd /, '')} (Miniflare), wrangler bundle | \`workerd.mjs\` | - | ${ms(withPackage.median - without.median)} more than without the package (Miniflare start to first answer ${range(withPackage)}) | ${range(without)} (a Worker without the package) |`,
);
lines.push('');
lines.push(`- wrangler's upload for a Worker that only imports the package: ${uploads['with-package']} (without it: ${uploads['without-package']})`);
console.log(lines.join('\n'));
rmSync(app, { recursive: true, force: true });
