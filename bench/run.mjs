// The whole benchmark, one run, side by side: sizes; every Worker route a user pays for, the
// Rust Worker against its JS twin (bench/js-worker/worker.js) in the same workerd with the same
// bindings and [assets] routing, and the null Worker's floor in the same blocks; cold start; the
// npm package's createAuthorizationLink, completeSignIn and verifyGateAssertion against plain-JS
// twins (bench/plain-js.mjs) on Node 20; the cold load of the package in Node, Deno and Bun; and
// the upstream's own time.
//
//   make build-worker build-npm
//   node_modules/.bin/node bench/run.mjs            # full run: prints the tables, rewrites BENCHMARKS.md's results
//   BENCH_SMOKE=1 node_modules/.bin/node bench/run.mjs   # (or --smoke) tiny counts, prints only; for CI
//
// Environment: BENCH_ARTIFACTS=DIR measures DIR/build, DIR/pkg and DIR/wrangler.toml (a variant
// built by bench/build-variant.sh, or a clean build of a commit); BENCH_ARTIFACTS_NOTE says what
// that is; BENCH_ONLY=sizes,workers,cold,node,load runs only those parts (an experiment);
// BENCH_ROUTES=login,login-oidc,callback,callback-oidc,session,refresh,gate,gate-assertion only those routes; BENCH_NODE the Node for
// the Node side (default /usr/bin/node); BENCH_COLD_STARTS how many cold starts per Worker
// (default 7); BENCH_VARIANTS=name=rust:DIR,name2=js:DIR2 measures more
// Workers in the same run, side by side with the others (an experiment: the `rust` build in
// DIR/build, or the JS twin, each with DIR/wrangler.toml's [assets] routing). --no-write prints only.
//
// Runs on Node >= 22 (Miniflare). It fails only when something is broken (a wrong answer, a
// rejected call, a missing build), never on a figure.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { median, summarize } from './stats.mjs';
import { assetRouting, cpuMs, directWorker, extraWorkerSpecs, freePort, load, rel, request, routes, startChild, startWorker } from './workerd.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const SMOKE = process.argv.includes('--smoke') || ['1', 'true', 'yes'].includes(String(process.env.BENCH_SMOKE ?? '').toLowerCase());
const NODE20 = process.env.BENCH_NODE || '/usr/bin/node';
const ARTIFACTS_ROOT = path.resolve(process.env.BENCH_ARTIFACTS || root);
const PARTS = ['sizes', 'workers', 'cold', 'node', 'load'];
const ONLY = new Set((process.env.BENCH_ONLY || PARTS.join(',')).split(',').map((part) => part.trim()).filter(Boolean));
/** Extra Workers to measure alongside: [{name, impl, dir}]. */
const VARIANTS = (process.env.BENCH_VARIANTS ?? '').split(',').filter(Boolean).map((item) => {
  const [, name, impl, dir] = /^([\w-]+)=(rust|js):(.+)$/.exec(item.trim()) ?? [];
  if (!name) {
    process.stderr.write(`bench: BENCH_VARIANTS: cannot read ${JSON.stringify(item)} (name=rust:DIR or name=js:DIR)\n`);
    process.exit(1);
  }
  return { name, impl, dir: path.resolve(dir) };
});
const ROUTES = process.env.BENCH_ROUTES ? new Set(process.env.BENCH_ROUTES.split(',').map((name) => name.trim())) : null;
const COMMAND = [
  SMOKE && 'BENCH_SMOKE=1',
  ...['BENCH_ARTIFACTS', 'BENCH_ONLY', 'BENCH_ROUTES', 'BENCH_VARIANTS', 'BENCH_COLD_STARTS', 'BENCH_NODE'].filter((name) => process.env[name]).map((name) => `${name}=${process.env[name]}`),
  'node_modules/.bin/node bench/run.mjs',
].filter(Boolean).join(' ');

const COUNTS = SMOKE
  ? { workerSeq: 12, workerConc: 16, workerConcurrency: 16, blocks: 1, warmup: 4, coldStarts: 1, nodeCount: 16, nodeConcurrency: 64, nodeRounds: 1, nodeWarmup: 4, loadRuns: 1 }
  : { workerSeq: 2000, workerConc: 2000, workerConcurrency: 16, blocks: 4, warmup: 100, coldStarts: 7, nodeCount: 2000, nodeConcurrency: 64, nodeRounds: 3, nodeWarmup: 200, loadRuns: 11 };

if (process.env.BENCH_COLD_STARTS) COUNTS.coldStarts = Number(process.env.BENCH_COLD_STARTS);

const TARGETS = {
  workerWasmGzip: 100 * 1000, // bytes
  npmWasmGzip: 45 * 1000,
  workerRouteRatio: 1.0, // ours/JS, median latency and CPU per request, every route
  aboveFloorRatio: 1.0, // ours/JS, workerd CPU per request above the null Worker's, every route
  nodeOpsRatio: 1.05, // JS/ours ops/s, the three functions
  coldFirstLoginRatio: 1.5, // ours/JS, first /login after ready
};

const COMMIT = await new Promise((resolve) => {
  const child = spawn('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  child.stdout.on('data', (chunk) => { out += chunk; });
  child.on('error', () => resolve('unknown'));
  child.on('close', (code) => resolve(code === 0 ? out.trim() : 'unknown'));
});

// ---------------------------------------------------------------------------------------------

async function main() {
  const began = performance.now();
  preflight();
  const log = (message) => process.stderr.write(`bench: ${message}\n`);
  log(`${SMOKE ? 'smoke run (tiny counts, nothing written)' : 'full run'}; Node ${process.version} here, ${NODE20} for the Node side; parts: ${[...ONLY].join(', ')}`);

  const tmp = await mkdtemp(path.join(os.tmpdir(), 'freedom-id-edge-bench-'));
  const helpers = [];
  try {
    const art = await snapshotArtifacts(tmp);
    const routing = assetRouting(art.wranglerToml);
    log(`measuring ${ARTIFACTS_ROOT}/{build,pkg} (copied to ${path.dirname(art.build)}); [assets] routing: ${routing.describe}`);
    const results = { machine: await describeMachine(), counts: COUNTS, routing, art };
    if (ONLY.has('sizes')) {
      log('sizes (wrangler deploy --dry-run, npm pack --dry-run)');
      results.sizes = await measureSizes(tmp, art);
    }
    const mock = await startChild('bench/mock-server.mjs');
    helpers.push(mock);
    const site = await startChild('bench/origin-server.mjs');
    helpers.push(site);
    log(`mock Freedom ID at ${mock.origin}, the site behind the gate at ${site.url} (own processes)`);
    const context = { art, mock, site, routing };
    context.variants = [];
    for (const variant of VARIANTS) {
      const vart = variant.impl === 'rust' ? await snapshotBuild(tmp, variant) : null;
      const toml = path.join(variant.dir, 'wrangler.toml');
      const vrouting = assetRouting(existsSync(toml) ? toml : art.wranglerToml);
      context.variants.push({ name: variant.name, impl: variant.impl, dir: variant.dir, ...(vart ? { art: vart } : {}), routing: vrouting });
      log(`variant ${variant.name}: ${variant.impl === 'rust' ? `Rust Worker from ${variant.dir}/build` : 'the JS twin'}; [assets] routing: ${vrouting.describe}`);
    }
    results.variants = context.variants.map(({ name, impl, dir, routing: vrouting }) => ({ name, impl, dir, routing: vrouting.describe }));

    if (ONLY.has('workers')) {
      log('workers in workerd: every route, warm');
      results.workers = await measureWorkers(context, log);
    }
    if (ONLY.has('cold')) {
      log('workers in workerd: cold starts');
      results.cold = await measureColdStarts(context);
    }
    if (ONLY.has('node')) {
      log('Node side: createAuthorizationLink, completeSignIn and verifyGateAssertion vs plain JS vs the bare calls');
      results.nodeSide = await measureNodeSide(art, mock, VARIANTS);
    }
    if (ONLY.has('load')) {
      log('cold load of the package: Node, Deno, Bun');
      results.loads = await measureColdLoads(art, tmp);
    }
    results.seconds = (performance.now() - began) / 1000;
    results.machine.loadavgEnd = os.loadavg().map((value) => value.toFixed(2)).join(' ');
    const markdown = render(results);
    process.stdout.write(`${markdown}\n`);
    const json = process.env.BENCH_JSON;
    if (json) await writeFile(json, JSON.stringify(results, null, 1));
    if (!SMOKE && !process.argv.includes('--no-write') && ONLY.size === PARTS.length && !ROUTES && !VARIANTS.length) {
      await writeResults(markdown);
      log('results written to BENCHMARKS.md');
    }
    log(`done in ${results.seconds.toFixed(1)} s`);
  } finally {
    for (const helper of helpers) await helper.close();
    await rm(tmp, { recursive: true, force: true });
  }
}

/** A private copy of a variant's build/. */
async function snapshotBuild(tmp, variant) {
  const build = path.join(tmp, `variant-${variant.name}`, 'build');
  if (!wasmIn(path.join(variant.dir, 'build'))) fail(`variant ${variant.name}: no build/ with a wasm in ${variant.dir}`);
  await cp(path.join(variant.dir, 'build'), build, { recursive: true });
  return { build, workerWasm: wasmIn(build) };
}

/** The wasm file a build/ holds (worker-build's layout, or the legacy shim's build/worker/). */
function wasmIn(dir) {
  for (const candidate of ['index_bg.wasm', 'worker/index.wasm']) if (existsSync(path.join(dir, candidate))) return path.join(dir, candidate);
  return null;
}

/** A private copy of build/ and pkg/, and the wrangler.toml beside them. */
async function snapshotArtifacts(tmp) {
  const dir = path.join(tmp, 'artifacts');
  await cp(path.join(ARTIFACTS_ROOT, 'build'), path.join(dir, 'build'), { recursive: true });
  await cp(path.join(ARTIFACTS_ROOT, 'pkg'), path.join(dir, 'pkg'), { recursive: true });
  const toml = path.join(ARTIFACTS_ROOT, 'wrangler.toml');
  const build = path.join(dir, 'build');
  const pkg = path.join(dir, 'pkg');
  return {
    build,
    pkg,
    workerWasm: wasmIn(build),
    npmWasm: path.join(pkg, 'freedom_id_edge_bg.wasm'),
    wranglerToml: existsSync(toml) ? toml : rel('wrangler.toml'),
  };
}

function preflight() {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 22) fail(`bench/run.mjs needs Node >= 22 (Miniflare); this is ${process.version}. Run it as node_modules/.bin/node bench/run.mjs (make setup installs it).`);
  const missing = ['build/index.js', 'pkg/package.json', 'pkg/freedom_id_edge_bg.wasm'].filter((file) => !existsSync(path.join(ARTIFACTS_ROOT, file)));
  if (!wasmIn(path.join(ARTIFACTS_ROOT, 'build'))) missing.push('build/index_bg.wasm');
  if (missing.length) fail(`missing ${missing.map((file) => path.join(ARTIFACTS_ROOT, file)).join(', ')}: build first with \`make build-worker build-npm\`.`);
  if (!existsSync(NODE20)) fail(`no Node at ${NODE20} for the Node-side figures; set BENCH_NODE=/path/to/node`);
  if (!existsSync(rel('node_modules/miniflare'))) fail('node_modules/ has no miniflare: run `make setup` first.');
  for (const part of ONLY) if (!PARTS.includes(part)) fail(`BENCH_ONLY: unknown part ${part} (known: ${PARTS.join(', ')})`);
}

function fail(message) {
  process.stderr.write(`bench: ${message}\n`);
  process.exit(1);
}

// ---------------------------------------------------------------------------------------------
// Child processes (always async: the helpers and Miniflare's event loop must keep running)

function run(command, args, { cwd = root, env = process.env, timeoutMs = 300_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => { stdout += chunk; });
    child.stderr.setEncoding('utf8').on('data', (chunk) => { stderr += chunk; });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function runOk(command, args, options) {
  const result = await run(command, args, options);
  if (result.code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.code}\n${result.stdout}\n${result.stderr}`);
  return result;
}

/** PATH with this Node 22 and node_modules/.bin first, as `make` has it. */
function toolEnv(extra = {}) {
  return {
    ...process.env,
    PATH: [path.dirname(process.execPath), rel('node_modules/.bin'), process.env.PATH].join(path.delimiter),
    WRANGLER_SEND_METRICS: 'false',
    CLOUDFLARE_CF_FETCH_ENABLED: 'false',
    ...extra,
  };
}

// ---------------------------------------------------------------------------------------------
// 1. Size

let GZIP_TOOL = '`gzip -9 -n`';
async function gzipSize(file) {
  const result = await new Promise((resolve) => {
    const child = spawn('gzip', ['-9', '-n', '-c', file], { stdio: ['ignore', 'pipe', 'ignore'] });
    let size = 0;
    child.stdout.on('data', (chunk) => { size += chunk.length; });
    child.on('error', () => resolve(null));
    child.on('close', (code) => resolve(code === 0 ? size : null));
  });
  if (result !== null) return result;
  GZIP_TOOL = 'zlib level 9 (no gzip on PATH)';
  return gzipSync(await readFile(file), { level: 9 }).length;
}

async function sizeOf(file) {
  if (!file || !existsSync(file)) return null;
  const bytes = await readFile(file);
  return { raw: bytes.length, gzip: await gzipSize(file), sha: createHash('sha256').update(bytes).digest('hex').slice(0, 12) };
}

async function measureSizes(tmp, art) {
  const rustBundle = await wranglerDryRun(tmp, art, 'rust', path.join(art.build, 'index.js'));
  const jsBundle = await wranglerDryRun(tmp, art, 'js', rel('bench/js-worker/worker.js'));
  const pack = await runOk('npm', ['pack', './pkg', '--dry-run', '--json'], { cwd: path.dirname(art.pkg), env: toolEnv() });
  const [packed] = JSON.parse(pack.stdout);
  return {
    workerWasm: rustBundle.wasm ?? (await sizeOf(art.workerWasm)),
    workerBundleJs: rustBundle.js,
    workerUpload: rustBundle.upload,
    jsWorker: await sizeOf(rel('bench/js-worker/worker.js')),
    jsWorkerUpload: jsBundle.upload,
    npmWasm: await sizeOf(art.npmWasm),
    plainJs: await sizeOf(rel('bench/plain-js.mjs')),
    npmPack: { size: packed.size, unpackedSize: packed.unpackedSize, files: packed.entryCount ?? packed.files?.length },
  };
}

/** `wrangler deploy --dry-run --outdir` on a copy of wrangler.toml (no [build]) whose `main` is `mainPath`. */
async function wranglerDryRun(tmp, art, name, mainPath) {
  const dir = path.join(tmp, `wrangler-${name}`);
  const outdir = path.join(dir, 'dist');
  const toml = (await readFile(art.wranglerToml, 'utf8'))
    .replace(/^\[build\][\s\S]*?(?=^\[|(?![\s\S]))/m, '')
    .replace(/^main\s*=.*$/m, `main = ${JSON.stringify(mainPath)}`)
    .replace(/^directory\s*=\s*"www"\s*$/m, `directory = ${JSON.stringify(rel('www'))}`);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const config = path.join(dir, 'wrangler.toml');
  await writeFile(config, toml);
  const result = await runOk('wrangler', ['deploy', '--dry-run', '--outdir', outdir, '--config', config], { cwd: dir, env: toolEnv({ WRANGLER_LOG_PATH: path.join(dir, 'logs') }) });
  const output = result.stdout + result.stderr;
  if (!/--dry-run: exiting now/.test(output)) throw new Error(`wrangler dry run did not finish:\n${output}`);
  const files = readdirSync(outdir, { recursive: true }).map(String);
  const upload = /Total Upload:\s*([\d.]+)\s*KiB\s*\/\s*gzip:\s*([\d.]+)\s*KiB/.exec(output);
  const pick = (suffix) => files.find((file) => file.endsWith(suffix));
  return {
    wasm: await sizeOf(pick('.wasm') && path.join(outdir, pick('.wasm'))),
    js: await sizeOf(pick('.js') && path.join(outdir, pick('.js'))),
    upload: upload ? { rawKiB: Number(upload[1]), gzipKiB: Number(upload[2]) } : null,
  };
}

// ---------------------------------------------------------------------------------------------
// 2. Workers in workerd: every route

async function measureWorkers(context, log) {
  const scenarios = routes(context.mock, context.site).filter((route) => !ROUTES || ROUTES.has(route.name));
  const workers = {};
  try {
    for (const kind of ['rust', 'js', 'null']) workers[kind] = await startWorker(kind, context, { maxSockets: COUNTS.workerConcurrency });
    // The same builds started once more with other settings (the OIDC flavour), when a chosen route names them.
    const extra = extraWorkerSpecs(context);
    for (const kind of new Set(scenarios.flatMap((route) => route.kinds))) if (extra[kind]) workers[kind] = await startWorker(extra[kind], context, { maxSockets: COUNTS.workerConcurrency });
    for (const variant of context.variants) workers[variant.name] = await startWorker(variant, context, { maxSockets: COUNTS.workerConcurrency });
    workers.direct = directWorker(context.site, COUNTS.workerConcurrency);
    const out = {};
    for (const route of scenarios) {
      log(`  ${route.name}`);
      const variants = route.variants === false ? [] : context.variants.filter((variant) => route.kinds.includes(variant.impl)).map((variant) => variant.name);
      const kinds = [...route.kinds, ...(route.reference ? [route.reference] : []), ...variants];
      for (const kind of kinds) {
        const worker = workers[kind];
        await load(worker, await route.prepare(worker, COUNTS.warmup), 4, route.check);
      }
      const phase = async (total, concurrency) => {
        const pooled = Object.fromEntries(kinds.map((kind) => [kind, { latencies: [], wallMs: 0, cpuMs: 0 }]));
        const perBlock = Math.ceil(total / COUNTS.blocks);
        for (let block = 0; block < COUNTS.blocks; block++) {
          // Rotate who goes first, so drift on a shared machine does not favour one.
          for (let k = 0; k < kinds.length; k++) {
            const worker = workers[kinds[(k + block) % kinds.length]];
            const inputs = await route.prepare(worker, perBlock);
            const cpu0 = cpuMs(worker.pid);
            const { latencies, wallMs } = await load(worker, inputs, concurrency, route.check);
            const into = pooled[worker.kind];
            into.cpuMs += cpuMs(worker.pid) - cpu0;
            into.latencies.push(...latencies);
            into.wallMs += wallMs;
          }
        }
        return Object.fromEntries(kinds.map((kind) => {
          const { latencies, wallMs, cpuMs: cpu } = pooled[kind];
          return [kind, { ...summarize(latencies, wallMs), cpuUsPerRequest: (cpu * 1000) / latencies.length }];
        }));
      };
      out[route.name] = {
        label: route.label,
        pair: route.pair ?? ['rust', 'js'],
        floor: 'null',
        ...(route.reference ? { reference: route.reference } : {}),
        ...(route.referenceLabel ? { referenceLabel: route.referenceLabel } : {}),
        sequential: await phase(COUNTS.workerSeq, 1),
        concurrent: await phase(COUNTS.workerConc, COUNTS.workerConcurrency),
      };
    }
    return out;
  } finally {
    for (const worker of Object.values(workers)) await worker.close();
  }
}

/** new Miniflare -> ready -> first /login 302 -> second, for each worker in turn, several times. */
async function measureColdStarts(context) {
  const specs = ['rust', 'js', 'null', ...context.variants];
  const kinds = specs.map((spec) => (typeof spec === 'string' ? spec : spec.name));
  const [login] = routes(context.mock, context.site);
  const samples = Object.fromEntries(kinds.map((kind) => [kind, { ready: [], firstResponse: [], firstAfterReady: [], second: [] }]));
  for (let i = 0; i < COUNTS.coldStarts; i++) {
    for (const spec of i % 2 ? [...specs].reverse() : specs) {
      const kind = typeof spec === 'string' ? spec : spec.name;
      const t0 = performance.now();
      const worker = await startWorker(spec, context, { maxSockets: 1 });
      try {
        const tReady = performance.now();
        const [input] = await login.prepare(worker, 1);
        const first = await request(worker, input, login.check);
        const tFirst = performance.now();
        const second = await request(worker, input, login.check);
        // startWorker picks a free port first (under a millisecond); that is in `ready` too.
        samples[kind].ready.push(tReady - t0);
        samples[kind].firstResponse.push(tFirst - t0);
        samples[kind].firstAfterReady.push(first);
        samples[kind].second.push(second);
      } finally {
        await worker.close();
      }
    }
  }
  return Object.fromEntries(kinds.map((kind) => [kind, Object.fromEntries(Object.entries(samples[kind]).map(([key, values]) => [key, { median: median(values), min: Math.min(...values), max: Math.max(...values) }]))]));
}

// ---------------------------------------------------------------------------------------------
// 3. Node side, in /usr/bin/node children

const NODE_IMPLS = ['ours-link', 'plain-link', 'ours-complete', 'plain-complete', 'floor-authorize', 'floor-token', 'ours-verify', 'plain-verify', 'floor-verify'];

async function measureNodeSide(art, mock, variants) {
  const npmVariants = variants.filter((v) => v.impl === 'rust' && existsSync(path.join(v.dir, 'pkg.built-here'))).map((v) => ({ name: v.name, pkgDir: path.join(v.dir, 'pkg') }));
  const all = [...NODE_IMPLS, ...npmVariants.flatMap((v) => [`${v.name}-link`, `${v.name}-complete`])];
  const rounds = [];
  for (let round = 0; round < COUNTS.nodeRounds; round++) {
    const impls = all.map((_, i) => all[(i + round) % all.length]);
    const config = { impls, variants: npmVariants, pkgDir: art.pkg, authorizeUrl: mock.authorizeUrl, tokenUrl: mock.tokenUrl, userInfoUrl: mock.userInfoUrl, control: mock.control, count: COUNTS.nodeCount, concurrency: COUNTS.nodeConcurrency, warmup: COUNTS.nodeWarmup, blocks: COUNTS.blocks };
    const result = await run(NODE20, [rel('bench/node-side.mjs'), JSON.stringify(config)]);
    if (result.code !== 0) throw new Error(`node-side failed (exit ${result.code}):\n${result.stderr}`);
    rounds.push(JSON.parse(result.stdout.trim().split('\n').pop()));
  }
  const summary = { node: rounds[0].node, rounds: rounds.length, perRound: rounds };
  summary.variants = npmVariants.map((v) => v.name);
  for (const impl of all) {
    summary[impl] = {};
    for (const phase of ['sequential', 'concurrent']) {
      const med = (key) => median(rounds.map((r) => r.impls[impl][phase][key]));
      summary[impl][phase] = { medianMs: med('medianMs'), p99Ms: med('p99Ms'), perSecond: med('perSecond'), cpuUsPerOp: med('cpuUsPerOp') };
    }
  }
  return summary;
}

// ---------------------------------------------------------------------------------------------
// 4. Cold load of the package in Node, Deno and Bun: a fresh process times `import()`/`require()`
// of the package's own entry for that runtime (as the exports map picks it), of the plain-JS
// twin, and of an empty module (the loader's own cost), with performance.now().

function runtimeBinaries() {
  const find = (...candidates) => candidates.map((file) => rel(file)).find((file) => existsSync(file));
  return {
    deno: find('node_modules/.bin/deno', 'node_modules/@deno/linux-x64-glibc/deno'),
    bun: find('node_modules/.bin/bun', 'node_modules/@oven/bun-linux-x64/bin/bun', 'node_modules/@oven/bun-linux-x64-baseline/bin/bun'),
  };
}

async function measureColdLoads(art, tmp) {
  const dir = path.join(tmp, 'cold-load');
  await mkdir(dir, { recursive: true });
  const timed = (load) => `const t0 = performance.now(); ${load}; console.log(String(performance.now() - t0));`;
  const files = {
    'ours.cjs': timed(`require(${JSON.stringify(path.join(art.pkg, 'node.cjs'))})`),
    'ours-node.mjs': timed(`await import(${JSON.stringify(pathToFileURL(path.join(art.pkg, 'node.mjs')).href)})`),
    'ours-deno.mjs': timed(`await import(${JSON.stringify(pathToFileURL(path.join(art.pkg, 'deno.mjs')).href)})`),
    'plain.mjs': timed(`await import(${JSON.stringify(pathToFileURL(rel('bench/plain-js.mjs')).href)})`),
    'empty.mjs': timed(`await import(${JSON.stringify(pathToFileURL(path.join(dir, 'nothing.mjs')).href)})`),
    'nothing.mjs': '',
  };
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), text);
  const { deno, bun } = runtimeBinaries();
  const quiet = { DENO_NO_UPDATE_CHECK: '1', DENO_DIR: path.join(dir, '.deno'), DO_NOT_TRACK: '1', NO_COLOR: '1', BUN_RUNTIME_TRANSPILER_CACHE_PATH: '0' };
  const runtimes = [
    { name: 'node', label: `Node ${(await runOk(NODE20, ['--version'])).stdout.trim()}`, command: NODE20, args: [], ours: [['ours.cjs', '`require()` `node.cjs`'], ['ours-node.mjs', '`import()` `node.mjs`']] },
    deno && { name: 'deno', label: `Deno ${/deno (\S+)/.exec((await runOk(deno, ['--version'])).stdout)?.[1]}`, command: deno, args: ['run', '--no-prompt', '--allow-read'], ours: [['ours-deno.mjs', '`import()` `deno.mjs`']] },
    bun && { name: 'bun', label: `Bun ${(await runOk(bun, ['--version'])).stdout.trim()}`, command: bun, args: ['run', '--no-install'], ours: [['ours.cjs', '`require()` `node.cjs`'], ['ours-node.mjs', '`import()` `node.mjs`']] },
  ].filter(Boolean);
  const out = {};
  for (const runtime of runtimes) {
    const cases = [...runtime.ours, ['plain.mjs', 'plain JS twin, `import()`'], ['empty.mjs', 'empty module, `import()`']];
    const times = Object.fromEntries(cases.map(([file]) => [file, []]));
    const once = async (file) => {
      const result = await runOk(runtime.command, [...runtime.args, path.join(dir, file)], { cwd: dir, env: { ...process.env, ...quiet }, timeoutMs: 60_000 });
      const ms = Number(result.stdout.trim().split('\n').pop());
      if (!Number.isFinite(ms)) throw new Error(`${runtime.name} ${file}: unexpected output ${JSON.stringify(result.stdout)} ${result.stderr}`);
      return ms;
    };
    for (const [file] of cases) await once(file); // warm-up: file system and code caches as on a running host
    for (let i = 0; i < COUNTS.loadRuns; i++) for (const [file] of cases) times[file].push(await once(file));
    out[runtime.name] = {
      label: runtime.label,
      cases: cases.map(([file, label]) => ({ file, label, medianMs: median(times[file]), minMs: Math.min(...times[file]), maxMs: Math.max(...times[file]), ours: file.startsWith('ours') })),
    };
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Machine

async function describeMachine() {
  const cpuinfo = await readFile('/proc/cpuinfo', 'utf8').catch(() => '');
  const version = async (name) => JSON.parse(await readFile(rel(`node_modules/${name}/package.json`), 'utf8')).version;
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    nproc: os.availableParallelism(),
    cpu: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? os.cpus()[0]?.model ?? 'unknown',
    memGiB: (os.totalmem() / 2 ** 30).toFixed(0),
    loadavgStart: os.loadavg().map((value) => value.toFixed(2)).join(' '),
    node22: process.version,
    node20: existsSync(NODE20) ? (await runOk(NODE20, ['--version'])).stdout.trim() : 'n/a',
    miniflare: await version('miniflare'),
    wrangler: await version('wrangler'),
    commit: COMMIT,
  };
}

// ---------------------------------------------------------------------------------------------
// Report

const fmtBytes = (n) => (n == null ? 'n/a' : `${n.toLocaleString('en-US')} B (${(n / 1000).toFixed(1)} kB)`);
const fmtMs = (n) => (Number.isFinite(n) ? `${n < 10 ? n.toFixed(2) : n.toFixed(1)} ms` : 'n/a');
const fmtUs = (n) => (Number.isFinite(n) ? `${Math.round(n).toLocaleString('en-US')} µs` : 'n/a');
const fmtRate = (n) => (Number.isFinite(n) ? `${Math.round(n).toLocaleString('en-US')}/s` : 'n/a');
const fmtRatio = (n) => (Number.isFinite(n) ? `**${n.toFixed(2)}**` : 'n/a');
const verdict = (met) => (met ? 'met' : '**missed**');
const pair = (a, b, fmt, ratio = a / b) => `${fmt(a)} / ${fmt(b)} (${fmtRatio(ratio)})`;
/** (a - floor) / (b - floor), or NaN when b is not above the floor (noise on a shared machine): no ratio then. */
const floorRatio = (a, b, floor) => (b > floor ? (a - floor) / (b - floor) : NaN);
/** CPU per request of two Workers with the floor's taken off each, their ratio, and the floor. */
const aboveFloor = (a, b, floor) => `${pair(a - floor, b - floor, fmtUs, floorRatio(a, b, floor))}; ${fmtUs(floor)}`;

function render(r) {
  const { machine: m, sizes: s, workers: w, cold: c, nodeSide: n, loads: l } = r;
  const lines = [];
  const table = (header, rows) => {
    lines.push(`| ${header.join(' | ')} |`, `|${header.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`);
    for (const row of rows) lines.push(`| ${row.join(' | ')} |`);
    lines.push('');
  };
  lines.push(`### Results ${SMOKE ? '(smoke: tiny counts, not meaningful)' : ''}`.trimEnd(), '');
  const measured = ARTIFACTS_ROOT === path.resolve(root) ? 'build/ and pkg/ of this checkout as they were on disk' : `the build/, pkg/ and wrangler.toml of ${process.env.BENCH_ARTIFACTS}`;
  lines.push(
    `- Date: ${m.date}; checkout at ${m.commit}; measured ${measured}${process.env.BENCH_ARTIFACTS_NOTE ? ` (${process.env.BENCH_ARTIFACTS_NOTE})` : ''}${s ? ` (sha256 worker wasm ${s.workerWasm?.sha ?? 'n/a'}, npm wasm ${s.npmWasm?.sha ?? 'n/a'})` : ''}`,
    `- Machine: ${m.nproc} CPUs, ${m.cpu}, ${m.memGiB} GiB, shared; load average at the start ${m.loadavgStart}, at the end ${m.loadavgEnd}`,
    `- Node ${m.node22} (runner, Miniflare ${m.miniflare} / workerd, wrangler ${m.wrangler}); Node side on ${m.node20} (\`${NODE20}\`)`,
    `- Command: \`${COMMAND}\`${process.env.BENCH_ARTIFACTS ? '' : ' (after `make build-worker build-npm`)'}, ${r.seconds.toFixed(0)} s`,
    `- Workers: ${r.counts.workerSeq} requests sequential + ${r.counts.workerConc} at concurrency ${r.counts.workerConcurrency} per route and Worker, in ${r.counts.blocks} blocks whose order rotates, ${r.counts.warmup} warm-up; [assets] routing for both: ${r.routing.describe}. Node: ${r.counts.nodeCount} calls sequential + ${r.counts.nodeCount} at ${r.counts.nodeConcurrency} in flight per implementation, all in one process in ${r.counts.blocks} rotating blocks, median of ${r.counts.nodeRounds} processes. Cold: ${r.counts.coldStarts} starts per Worker; cold load ${r.counts.loadRuns} fresh processes per case.`,
    '',
  );

  if (s) {
    lines.push('#### Size', '');
    table(['artifact', 'raw', `compressed: ${GZIP_TOOL}`], [
      ['Rust Worker wasm, as `wrangler deploy --dry-run` bundles it', fmtBytes(s.workerWasm?.raw), fmtBytes(s.workerWasm?.gzip)],
      ['Rust Worker JS as wrangler bundles it', fmtBytes(s.workerBundleJs?.raw), fmtBytes(s.workerBundleJs?.gzip)],
      ['Rust Worker, wrangler\'s "Total Upload"', s.workerUpload ? `${s.workerUpload.rawKiB} KiB` : 'n/a', s.workerUpload ? `${s.workerUpload.gzipKiB} KiB` : 'n/a'],
      ['JS twin `bench/js-worker/worker.js` (wrangler\'s "Total Upload")', `${fmtBytes(s.jsWorker.raw)} (${s.jsWorkerUpload?.rawKiB ?? 'n/a'} KiB)`, `${fmtBytes(s.jsWorker.gzip)} (${s.jsWorkerUpload?.gzipKiB ?? 'n/a'} KiB)`],
      ['npm package wasm `pkg/freedom_id_edge_bg.wasm`', fmtBytes(s.npmWasm?.raw), fmtBytes(s.npmWasm?.gzip)],
      [`\`npm pack ./pkg\`: unpacked / tarball (${s.npmPack.files} files)`, fmtBytes(s.npmPack.unpackedSize), `${fmtBytes(s.npmPack.size)} (tarball)`],
      ['plain-JS twins `bench/plain-js.mjs`', fmtBytes(s.plainJs.raw), fmtBytes(s.plainJs.gzip)],
    ]);
  }

  if (w) {
    lines.push('#### Worker routes in workerd (Miniflare): Rust Worker / JS twin (ours/JS)', '');
    lines.push("The last column takes the route's floor off both: the null Worker (a `302` at once: workerd, its entry worker, the asset router, the loopback HTTP), sent the same requests in the same rotating blocks; (ours - floor) / (twin - floor).", '');
    const rows = [];
    const phases = [['sequential', 'sequential'], ['concurrent', `concurrency ${r.counts.workerConcurrency}`]];
    for (const [name, route] of Object.entries(w)) {
      const [ours, twin] = route.pair;
      for (const [phase, label] of phases) {
        const R = route[phase][ours];
        const J = route[phase][twin];
        const F = route[phase][route.floor].cpuUsPerRequest;
        rows.push([`${route.label}`, label, pair(R.medianMs, J.medianMs, fmtMs), pair(R.p99Ms, J.p99Ms, fmtMs), pair(R.perSecond, J.perSecond, fmtRate), pair(R.cpuUsPerRequest, J.cpuUsPerRequest, fmtUs), aboveFloor(R.cpuUsPerRequest, J.cpuUsPerRequest, F)]);
      }
      if (route.reference) {
        for (const [phase, label] of phases) {
          const O = route[phase][ours];
          const B = route[phase][route.reference];
          const F = route[phase][route.floor].cpuUsPerRequest;
          rows.push([route.referenceLabel ?? `the Rust Worker's \`/login\` in \`oidc\` / in \`oauth2\` (its authorize call to the mock), measured in the same blocks`, label, pair(O.medianMs, B.medianMs, fmtMs), pair(O.p99Ms, B.p99Ms, fmtMs), pair(O.perSecond, B.perSecond, fmtRate), pair(O.cpuUsPerRequest, B.cpuUsPerRequest, fmtUs), aboveFloor(O.cpuUsPerRequest, B.cpuUsPerRequest, F)]);
        }
      }
      for (const variant of r.variants ?? []) {
        if (!route.sequential[variant.name]) continue;
        for (const [phase, label] of phases) {
          const V = route[phase][variant.name];
          const base = route[phase][variant.impl];
          const J = route[phase].js;
          const F = route[phase][route.floor].cpuUsPerRequest;
          const two = (a, b, c, fmt) => `${fmt(a)} (${fmtRatio(a / b)} of ${variant.impl === 'rust' ? 'ours' : 'JS'}, ${fmtRatio(a / c)} of JS)`;
          rows.push([`variant \`${variant.name}\` (${variant.impl === 'rust' ? 'Rust' : 'JS twin'}; ${variant.routing})`, label, two(V.medianMs, base.medianMs, J.medianMs, fmtMs), two(V.p99Ms, base.p99Ms, J.p99Ms, fmtMs), two(V.perSecond, base.perSecond, J.perSecond, fmtRate), two(V.cpuUsPerRequest, base.cpuUsPerRequest, J.cpuUsPerRequest, fmtUs), two(V.cpuUsPerRequest - F, base.cpuUsPerRequest - F, J.cpuUsPerRequest - F, fmtUs)]);
        }
      }
      if (name === 'login') {
        for (const [phase, label] of phases) {
          const N = route[phase][route.floor];
          rows.push(['floor: a null Worker answering 302 at once (workerd, its entry worker, the asset router)', label, fmtMs(N.medianMs), fmtMs(N.p99Ms), fmtRate(N.perSecond), fmtUs(N.cpuUsPerRequest), '']);
        }
      }
      if (name === 'gate') {
        for (const [phase, label] of phases) {
          const D = route[phase].direct;
          const R = route[phase].rust;
          const J = route[phase].js;
          rows.push([`the same request to the origin directly; the gate's overhead over it, Rust / JS`, label, `${fmtMs(D.medianMs)}; +${fmtMs(R.medianMs - D.medianMs)} / +${fmtMs(J.medianMs - D.medianMs)}`, `${fmtMs(D.p99Ms)}; +${fmtMs(R.p99Ms - D.p99Ms)} / +${fmtMs(J.p99Ms - D.p99Ms)}`, fmtRate(D.perSecond), '(origin: not workerd)', '']);
        }
      }
    }
    table(['route', 'phase', 'median', 'p99', 'requests/s', 'workerd CPU per request', 'workerd CPU per request above the floor, ours/JS (the floor)'], rows);
  }

  if (c) {
    lines.push(`#### Cold start (median of ${r.counts.coldStarts}; min-max): Rust Worker / JS twin (ours/JS)`, '');
    const range = (x) => `${fmtMs(x.median)} (${x.min.toFixed(1)}-${x.max.toFixed(1)})`;
    table(['figure', 'Rust Worker', 'JS twin', 'ours/JS', 'null Worker'], [
      ['`new Miniflare()` -> `ready` (workerd started, script loaded)', range(c.rust.ready), range(c.js.ready), fmtRatio(c.rust.ready.median / c.js.ready.median), range(c.null.ready)],
      ['first `/login` 302 after `ready`', range(c.rust.firstAfterReady), range(c.js.firstAfterReady), fmtRatio(c.rust.firstAfterReady.median / c.js.firstAfterReady.median), range(c.null.firstAfterReady)],
      ['`new Miniflare()` -> first `/login` 302', range(c.rust.firstResponse), range(c.js.firstResponse), fmtRatio(c.rust.firstResponse.median / c.js.firstResponse.median), range(c.null.firstResponse)],
      ['second `/login`', range(c.rust.second), range(c.js.second), fmtRatio(c.rust.second.median / c.js.second.median), range(c.null.second)],
    ]);
    for (const variant of r.variants ?? []) {
      const v = c[variant.name];
      lines.push(`- variant \`${variant.name}\`: ready ${range(v.ready)}, first \`/login\` after ready ${range(v.firstAfterReady)} (${fmtRatio(v.firstAfterReady.median / c.js.firstAfterReady.median)} of JS), start to first 302 ${range(v.firstResponse)}, second ${range(v.second)}`);
    }
    if (r.variants?.length) lines.push('');
  }

  if (n) {
    lines.push(`#### Node ${n.node}: the npm package (pkg/, wasm) / plain-JS twin (JS/ours), median of ${n.rounds} processes`, '');
    const rows = [];
    for (const [fn, ours, plain, floor] of [['`createAuthorizationLink`', 'ours-link', 'plain-link', 'floor-authorize'], ['`completeSignIn` (with `userInfoUrl`)', 'ours-complete', 'plain-complete', 'floor-token'], ['`verifyGateAssertion` (key set inline)', 'ours-verify', 'plain-verify', 'floor-verify']]) {
      for (const [phase, label] of [['sequential', 'sequential'], ['concurrent', `${r.counts.nodeConcurrency} in flight`]]) {
        const O = n[ours][phase];
        const P = n[plain][phase];
        const F = n[floor][phase];
        rows.push([fn, label, pair(O.perSecond, P.perSecond, fmtRate, P.perSecond / O.perSecond), pair(O.medianMs, P.medianMs, fmtMs, P.medianMs / O.medianMs), pair(O.cpuUsPerOp, P.cpuUsPerOp, fmtUs, P.cpuUsPerOp / O.cpuUsPerOp), `${fmtRate(F.perSecond)}, ${fmtMs(F.medianMs)}, ${fmtUs(F.cpuUsPerOp)}`]);
        for (const name of n.variants ?? []) {
          if (!n[`${name}-${ours.split('-')[1]}`]) continue;
          const V = n[`${name}-${ours.split('-')[1]}`][phase];
          rows.push([`${fn}, variant \`${name}\``, label, pair(V.perSecond, P.perSecond, fmtRate, P.perSecond / V.perSecond), pair(V.medianMs, P.medianMs, fmtMs, P.medianMs / V.medianMs), pair(V.cpuUsPerOp, P.cpuUsPerOp, fmtUs, P.cpuUsPerOp / V.cpuUsPerOp), '']);
        }
      }
    }
    table(['function', 'phase', 'ops/s', 'median latency', 'process CPU per call', 'floor: the bare calls, a `fetch` of each of the same upstream calls (the verifier: WebCrypto\'s check alone) (ops/s, median, CPU)'], rows);
  }

  if (l) {
    lines.push('#### Cold load of the package (a fresh process: `performance.now()` around the load; median, min-max)', '');
    const rows = [];
    for (const runtime of Object.values(l)) {
      const plain = runtime.cases.find((x) => x.file === 'plain.mjs');
      const empty = runtime.cases.find((x) => x.file === 'empty.mjs');
      for (const x of runtime.cases.filter((y) => y.ours)) {
        rows.push([runtime.label, x.label, `${fmtMs(x.medianMs)} (${x.minMs.toFixed(1)}-${x.maxMs.toFixed(1)})`, `${fmtMs(plain.medianMs)} (${plain.minMs.toFixed(1)}-${plain.maxMs.toFixed(1)})`, fmtMs(empty.medianMs)]);
      }
    }
    table(['runtime', 'the package, loaded as', 'load', 'plain-JS twin, `import()`', 'empty module, `import()`'], rows);
  }

  lines.push('#### Targets', '');
  const rows = [];
  if (s) {
    rows.push([`Worker wasm gzip <= ${TARGETS.workerWasmGzip / 1000} kB`, fmtBytes(s.workerWasm?.gzip), verdict(s.workerWasm?.gzip <= TARGETS.workerWasmGzip)]);
    rows.push([`npm wasm gzip <= ${TARGETS.npmWasmGzip / 1000} kB`, fmtBytes(s.npmWasm?.gzip), verdict(s.npmWasm?.gzip <= TARGETS.npmWasmGzip)]);
  }
  if (w) {
    const at = `at ${r.counts.workerConcurrency}`;
    for (const [name, route] of Object.entries(w)) {
      const [ours, twin] = route.pair;
      const cpu = (phase, kind) => route[phase][kind].cpuUsPerRequest;
      const above = ['sequential', 'concurrent'].map((phase) => floorRatio(cpu(phase, ours), cpu(phase, twin), cpu(phase, route.floor)));
      const judged = above.every(Number.isFinite) ? verdict(above.every((x) => x <= TARGETS.aboveFloorRatio)) : 'n/a (the twin not above the floor)';
      const [seq, conc] = above.map((x) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a'));
      rows.push([`Worker \`${name}\`: workerd CPU per request above the floor, ours/JS <= ${TARGETS.aboveFloorRatio.toFixed(2)}`, `${seq} sequential, ${conc} ${at}`, judged]);
      const ratios = ['sequential', 'concurrent'].flatMap((phase) => [route[phase][ours].medianMs / route[phase][twin].medianMs, cpu(phase, ours) / cpu(phase, twin)]);
      rows.push([`Worker \`${name}\`: median and CPU per request, ours/JS <= ${TARGETS.workerRouteRatio.toFixed(2)}`, `median ${ratios[0].toFixed(2)}, CPU ${ratios[1].toFixed(2)} sequential; median ${ratios[2].toFixed(2)}, CPU ${ratios[3].toFixed(2)} ${at}`, verdict(ratios.every((x) => x <= TARGETS.workerRouteRatio))]);
    }
    const oidc = w['login-oidc'];
    if (oidc) {
      const median = (phase) => (oidc[phase][oidc.pair[0]].medianMs / oidc[phase][oidc.reference].medianMs).toFixed(2);
      rows.push(['Worker `/login` in `oidc` / in `oauth2` (the Rust Worker, same blocks), median latency', `${median('sequential')} sequential, ${median('concurrent')} ${at}`, 'reported']);
    }
  }
  if (c) {
    const ratio = c.rust.firstAfterReady.median / c.js.firstAfterReady.median;
    rows.push([`cold: first \`/login\` after ready, ours/JS <= ${TARGETS.coldFirstLoginRatio}`, ratio.toFixed(2), verdict(ratio <= TARGETS.coldFirstLoginRatio)]);
  }
  if (n) {
    for (const [fn, ours, plain] of [['createAuthorizationLink', 'ours-link', 'plain-link'], ['completeSignIn', 'ours-complete', 'plain-complete'], ['verifyGateAssertion', 'ours-verify', 'plain-verify']]) {
      const seq = n[plain].sequential.perSecond / n[ours].sequential.perSecond;
      const conc = n[plain].concurrent.perSecond / n[ours].concurrent.perSecond;
      rows.push([`Node \`${fn}\` ops/s, JS/ours <= ${TARGETS.nodeOpsRatio.toFixed(2)}`, `${seq.toFixed(2)} sequential, ${conc.toFixed(2)} at ${r.counts.nodeConcurrency} in flight`, verdict(seq <= TARGETS.nodeOpsRatio && conc <= TARGETS.nodeOpsRatio)]);
    }
  }
  table(['target', 'measured', 'verdict'], rows);
  return lines.join('\n');
}

const START = '<!-- bench:results:start (written by bench/run.mjs; edit outside these markers) -->';
const END = '<!-- bench:results:end -->';

/** Replaces the results between the markers in BENCHMARKS.md (appends them if there are none). */
async function writeResults(markdown) {
  const file = rel('BENCHMARKS.md');
  const current = await readFile(file, 'utf8').catch(() => '# Benchmarks\n');
  const block = `${START}\n${markdown}\n${END}`;
  const at = current.indexOf(START.slice(0, 30));
  const end = current.indexOf(END);
  const next = at !== -1 && end > at ? `${current.slice(0, at)}${block}${current.slice(end + END.length)}` : `${current.trimEnd()}\n\n${block}\n`;
  await writeFile(file, next);
}

main().then(
  () => process.exit(0), // nothing left behind keeps the process alive
  (error) => {
    process.stderr.write(`bench: FAILED: ${error?.stack ?? error}\n`);
    process.exit(1);
  },
);
