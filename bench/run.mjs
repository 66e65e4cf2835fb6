// The whole benchmark: sizes, the Rust Worker against a minimal JS Worker in workerd, the npm
// package against plain JS on Node 20, and the mock upstream's own time, side by side.
//
//   make build-worker build-npm
//   node_modules/.bin/node bench/run.mjs            # full run: prints the table, rewrites BENCHMARKS.md's results
//   BENCH_SMOKE=1 node_modules/.bin/node bench/run.mjs   # (or --smoke) tiny counts, prints only; for CI
//
// Runs on Node >= 22 (Miniflare); the Node-side figures run in /usr/bin/node child processes
// (bench/node-side.mjs; override with BENCH_NODE=/path/to/node). It fails only when something is
// broken (a non-302 answer, a rejected call, a missing build), never on a figure.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { median, summarize } from './stats.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const rel = (...parts) => path.join(root, ...parts);
const SMOKE = process.argv.includes('--smoke') || ['1', 'true', 'yes'].includes(String(process.env.BENCH_SMOKE ?? '').toLowerCase());
const NODE20 = process.env.BENCH_NODE || '/usr/bin/node';
// Where build/ and pkg/ are read from (default: this checkout); copied to a temp dir first, so a
// rebuild while the benchmark runs cannot mix two builds.
const ARTIFACTS_ROOT = path.resolve(process.env.BENCH_ARTIFACTS || root);
const COMMAND = [
  SMOKE && 'BENCH_SMOKE=1',
  process.env.BENCH_ARTIFACTS && `BENCH_ARTIFACTS=${process.env.BENCH_ARTIFACTS}`,
  process.env.BENCH_NODE && `BENCH_NODE=${process.env.BENCH_NODE}`,
  'node_modules/.bin/node bench/run.mjs',
].filter(Boolean).join(' ');

const COUNTS = SMOKE
  ? { workerSeq: 20, workerConc: 20, workerConcurrency: 16, blocks: 1, warmup: 5, coldStarts: 1, nodeCount: 20, nodeConcurrency: 64, nodeRounds: 1, nodeWarmup: 5, requireRuns: 1 }
  : { workerSeq: 2000, workerConc: 2000, workerConcurrency: 16, blocks: 4, warmup: 200, coldStarts: 5, nodeCount: 2000, nodeConcurrency: 64, nodeRounds: 3, nodeWarmup: 200, requireRuns: 10 };

const TARGETS = {
  workerWasmGzip: 100 * 1000, // bytes
  npmWasmGzip: 40 * 1000,
  workerLatencyRatio: 1.0, // Rust/JS median, lower is better
  nodeOpsRatio: 1.1, // plain-JS/ours ops/s
  coldRequireMs: 10,
};

const ARTIFACTS = {
  workerJs: 'build/index.js',
  workerWasm: 'build/index_bg.wasm',
  npmJs: 'pkg/freedom_id_edge.js',
  npmWasm: 'pkg/freedom_id_edge_bg.wasm',
  npmManifest: 'pkg/package.json',
};

const COMPATIBILITY_DATE = '2026-07-01'; // as wrangler.toml and tests/support/worker.mjs
const WORKER_PORT_IN_REDIRECT = 'http://127.0.0.1:8787/callback';

// ---------------------------------------------------------------------------------------------

async function main() {
  const began = performance.now();
  preflight();
  const log = (message) => process.stderr.write(`bench: ${message}\n`);
  log(`${SMOKE ? 'smoke run (tiny counts, nothing written)' : 'full run'}; Node ${process.version} here, ${NODE20} for the Node side`);

  const tmp = await mkdtemp(path.join(os.tmpdir(), 'freedom-id-edge-bench-'));
  let mock;
  try {
    art = await snapshotArtifacts(tmp);
    log(`measuring ${ARTIFACTS_ROOT}/{build,pkg} (copied to ${path.dirname(art.build)})`);
    log('sizes (wrangler deploy --dry-run, npm pack --dry-run)');
    const sizes = await measureSizes(tmp);
    const machine = await describeMachine();

    mock = await startMock();
    log(`mock Freedom ID at ${mock.origin} (own process, logging off)`);

    log('workers in workerd: warm latency and throughput');
    const workers = await measureWorkers(mock);
    log('workers in workerd: cold starts');
    const cold = await measureColdStarts(mock);
    log('Node side: createAuthorizationLink vs plain JS vs bare fetch');
    const nodeSide = await measureNodeSide(mock);
    log('Node side: cold require()/import()');
    const requireTimes = await measureColdRequire();

    const results = { machine, sizes, workers, cold, nodeSide, requireTimes, counts: COUNTS, seconds: (performance.now() - began) / 1000 };
    const markdown = render(results);
    process.stdout.write(`${markdown}\n`);
    if (!SMOKE && !process.argv.includes('--no-write')) {
      await writeResults(markdown);
      log('results written to BENCHMARKS.md');
    }
    log(`done in ${results.seconds.toFixed(1)} s`);
  } finally {
    await mock?.close();
    await rm(tmp, { recursive: true, force: true });
  }
}

/** The artifacts measured: a private copy of build/ and pkg/, and the wrangler.toml beside them. */
let art;
async function snapshotArtifacts(tmp) {
  const dir = path.join(tmp, 'artifacts');
  await cp(path.join(ARTIFACTS_ROOT, 'build'), path.join(dir, 'build'), { recursive: true });
  await cp(path.join(ARTIFACTS_ROOT, 'pkg'), path.join(dir, 'pkg'), { recursive: true });
  const toml = path.join(ARTIFACTS_ROOT, 'wrangler.toml');
  return {
    build: path.join(dir, 'build'),
    pkg: path.join(dir, 'pkg'),
    file: (name) => path.join(dir, name),
    wranglerToml: existsSync(toml) ? toml : rel('wrangler.toml'),
  };
}

function preflight() {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 22) {
    fail(`bench/run.mjs needs Node >= 22 (Miniflare); this is ${process.version}. Run it as node_modules/.bin/node bench/run.mjs (make setup installs it).`);
  }
  const missing = Object.values(ARTIFACTS).filter((file) => !existsSync(path.join(ARTIFACTS_ROOT, file)));
  if (missing.length) {
    fail(`missing ${missing.map((file) => path.join(ARTIFACTS_ROOT, file)).join(', ')}: build first with \`make build-worker build-npm\`.`);
  }
  if (!existsSync(NODE20)) fail(`no Node at ${NODE20} for the Node-side figures; set BENCH_NODE=/path/to/node`);
  if (!existsSync(rel('node_modules/miniflare'))) fail('node_modules/ has no miniflare: run `make setup` first.');
}

function fail(message) {
  process.stderr.write(`bench: ${message}\n`);
  process.exit(1);
}

// ---------------------------------------------------------------------------------------------
// Child processes (always async: the mock and Miniflare's event loop must keep running)

/** Runs a command to completion; resolves {code, stdout, stderr}; rejects on spawn errors and on timeout. */
function run(command, args, { cwd = root, env = process.env, timeoutMs = 300_000, input } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: [input == null ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
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
    if (input != null) child.stdin.on('error', () => {}).end(input);
  });
}

async function runOk(command, args, options) {
  const result = await run(command, args, options);
  if (result.code !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited ${result.code}\n${result.stdout}\n${result.stderr}`);
  }
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

/** Bytes of `gzip -9 -c file` (GNU gzip; zlib level 9 if there is no gzip, a few % larger). */
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
let GZIP_TOOL = '`gzip -9 -n`';

async function sizeOf(file) {
  const bytes = await readFile(file);
  return { raw: bytes.length, gzip: await gzipSize(file), sha: createHash('sha256').update(bytes).digest('hex').slice(0, 12) };
}

async function measureSizes(tmp) {
  const gz = sizeOf;
  const rustBundle = await wranglerDryRun(tmp, 'rust', art.file(ARTIFACTS.workerJs));
  const jsBundle = await wranglerDryRun(tmp, 'js', rel('bench/js-worker/worker.js'));
  const pack = await runOk('npm', ['pack', './pkg', '--dry-run', '--json'], { cwd: path.dirname(art.pkg), env: toolEnv() });
  const [packed] = JSON.parse(pack.stdout);
  return {
    workerWasm: rustBundle.wasm,
    workerBundleJs: rustBundle.js,
    workerUpload: rustBundle.upload,
    workerGlue: await gz(art.file(ARTIFACTS.workerJs)),
    jsWorker: await gz(rel('bench/js-worker/worker.js')),
    jsWorkerBundleJs: jsBundle.js,
    jsWorkerUpload: jsBundle.upload,
    npmWasm: await gz(art.file(ARTIFACTS.npmWasm)),
    npmGlue: await gz(art.file(ARTIFACTS.npmJs)),
    plainJs: await gz(rel('bench/plain-js.mjs')),
    npmPack: { size: packed.size, unpackedSize: packed.unpackedSize, files: packed.entryCount ?? packed.files?.length },
  };
}

/**
 * `wrangler deploy --dry-run --outdir` on a copy of wrangler.toml whose `main` is `mainPath` and
 * whose [build] section is dropped, so that the already built build/ is measured, not rebuilt.
 */
async function wranglerDryRun(tmp, name, mainPath) {
  const dir = path.join(tmp, `wrangler-${name}`);
  const outdir = path.join(dir, 'dist');
  const toml = (await readFile(art.wranglerToml, 'utf8'))
    .replace(/^\[build\][\s\S]*?(?=^\[|(?![\s\S]))/m, '')
    .replace(/^main\s*=.*$/m, `main = ${JSON.stringify(mainPath)}`)
    .replace(/^directory\s*=\s*"www"\s*$/m, `directory = ${JSON.stringify(path.join(path.dirname(art.wranglerToml), 'www'))}`);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const config = path.join(dir, 'wrangler.toml');
  await writeFile(config, toml);
  const result = await runOk('wrangler', ['deploy', '--dry-run', '--outdir', outdir, '--config', config], {
    cwd: dir,
    env: toolEnv({ WRANGLER_LOG_PATH: path.join(dir, 'logs') }),
  });
  const output = result.stdout + result.stderr;
  if (!/--dry-run: exiting now/.test(output)) throw new Error(`wrangler dry run did not finish:\n${output}`);
  const files = await readdir(outdir);
  const wasmFile = files.find((file) => file.endsWith('.wasm'));
  const measure = async (file) => (file ? { file, ...(await sizeOf(path.join(outdir, file))) } : null);
  const upload = /Total Upload:\s*([\d.]+)\s*KiB\s*\/\s*gzip:\s*([\d.]+)\s*KiB/.exec(output);
  return {
    wasm: await measure(wasmFile),
    js: await measure(files.find((file) => file.endsWith('.js'))),
    upload: upload ? { rawKiB: Number(upload[1]), gzipKiB: Number(upload[2]) } : null,
  };
}

// ---------------------------------------------------------------------------------------------
// The mock upstream, in its own process

async function startMock() {
  const child = spawn(process.execPath, [rel('bench/mock-server.mjs')], { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] });
  const info = await new Promise((resolve, reject) => {
    let buffered = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      buffered += chunk;
      const newline = buffered.indexOf('\n');
      if (newline !== -1) resolve(JSON.parse(buffered.slice(0, newline)));
    });
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`mock exited early (${code})`)));
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return {
    ...info,
    close: async () => {
      child.stdin.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// 2. Workers in workerd

function bindings(mock) {
  return {
    FREEDOM_ID_CLIENT_ID: 'demo-client',
    FREEDOM_ID_CLIENT_SECRET: 'demo-secret',
    FREEDOM_ID_REDIRECT_URI: WORKER_PORT_IN_REDIRECT,
    FREEDOM_ID_GRANTS: 'openid read.email, read.phone',
    FREEDOM_ID_AUTHORIZE_URL: mock.authorizeUrl,
    FREEDOM_ID_TIMEOUT_MS: '5000',
    // No login-CSRF state cookie: the JS Worker has none, and the HEAD build ignores this.
    FREEDOM_ID_STATE: 'off',
  };
}

/** Miniflare options as tests/support/worker.mjs has them, for the Rust Worker, the JS one or the null one. */
function workerOptions(kind, mock) {
  const common = {
    modules: true,
    compatibilityDate: COMPATIBILITY_DATE,
    bindings: bindings(mock),
    host: '127.0.0.1',
    port: 0,
    assets: { directory: rel('www'), routerConfig: { has_user_worker: true } },
    handleRuntimeStdio(stdout, stderr) {
      stdout.resume();
      stderr.resume();
    },
  };
  switch (kind) {
    case 'rust':
      return { ...common, scriptPath: art.file(ARTIFACTS.workerJs), modulesRoot: art.build, modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'] }] };
    case 'js':
      return { ...common, scriptPath: rel('bench/js-worker/worker.js'), modulesRoot: rel('bench/js-worker') };
    case 'null':
      // workerd's own floor: a 302 with the same headers, no upstream call.
      return {
        ...common,
        script: `export default { fetch() { return new Response(null, { status: 302, headers: {
          Location: ${JSON.stringify(`${mock.origin}/login?track_id=00000000-0000-0000-0000-000000000000&expire_at=0`)},
          'Cache-Control': 'no-store' } }); } };`,
      };
    default:
      throw new Error(kind);
  }
}

// CPU time of each workerd process (Miniflare starts one per instance, as our child), from
// /proc: a figure the other load on a shared machine disturbs much less than wall time.
const CLOCK_TICKS_PER_SECOND = 100; // `getconf CLK_TCK` on Linux

/** PIDs of our workerd children. */
function workerdChildren() {
  const pids = new Set();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const match = /^\d+ \((.*)\) \S (\d+)/.exec(readFileSync(`/proc/${entry}/stat`, 'utf8'));
      if (match && match[1] === 'workerd' && Number(match[2]) === process.pid) pids.add(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** utime + stime of `pid` in ms, or NaN when unknown. */
function cpuMs(pid) {
  if (!pid) return NaN;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return NaN;
  }
}

let MiniflareClass;
async function newMiniflare(options) {
  MiniflareClass ??= (await import('miniflare')).Miniflare;
  return new MiniflareClass(options);
}

/** GET /login; resolves the latency in ms; rejects unless a 302 to the mock's sign-in page. */
function login(agent, base, origin) {
  return get(agent, base, '/login', (response) => {
    const location = response.headers.location ?? '';
    return response.statusCode === 302 && location.startsWith(`${origin}/login?track_id=`) && response.headers['cache-control'] === 'no-store'
      ? null
      : `GET /login answered ${response.statusCode} Location=${JSON.stringify(location)}`;
  });
}

/** GET /healthz of the Rust Worker (no upstream call); rejects unless 200. */
function healthz(agent, base) {
  return get(agent, base, '/healthz', (response) => (response.statusCode === 200 ? null : `GET /healthz answered ${response.statusCode}`));
}

function get(agent, base, path, problemWith) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const request = http.get(new URL(path, base), { agent, timeout: 15_000 }, (response) => {
      response.resume();
      response.on('end', () => {
        const problem = problemWith(response);
        if (problem) reject(new Error(problem));
        else resolve(performance.now() - t0);
      });
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error('GET /login timed out')));
    request.on('error', reject);
  });
}

async function load(worker, count, concurrency, origin, call = login) {
  const latencies = [];
  let next = 0;
  const started = performance.now();
  const lane = async () => {
    while (next < count) {
      next++;
      latencies.push(await call(worker.agent, worker.url, origin));
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
  return { latencies, wallMs: performance.now() - started };
}

async function measureWorkers(mock) {
  const kinds = ['rust', 'js', 'null'];
  const workers = [];
  try {
    for (const kind of kinds) {
      const before = workerdChildren();
      const worker = { kind, mf: await newMiniflare(workerOptions(kind, mock)), agent: new http.Agent({ keepAlive: true, maxSockets: COUNTS.workerConcurrency }) };
      workers.push(worker); // disposed in finally even if it never gets ready
      worker.url = await worker.mf.ready;
      const added = [...workerdChildren()].filter((pid) => !before.has(pid));
      worker.pid = added.length === 1 ? added[0] : undefined;
    }
    for (const worker of workers) await load(worker, COUNTS.warmup, 4, mock.origin);

    const phase = async (total, concurrency) => {
      const pooled = Object.fromEntries(kinds.map((kind) => [kind, { latencies: [], wallMs: 0, cpuMs: 0 }]));
      const perBlock = Math.ceil(total / COUNTS.blocks);
      for (let block = 0; block < COUNTS.blocks; block++) {
        // Rotate who goes first, so drift on a shared machine does not favour one.
        const order = workers.map((_, i) => workers[(i + block) % workers.length]);
        for (const worker of order) {
          const cpu0 = cpuMs(worker.pid);
          const { latencies, wallMs } = await load(worker, perBlock, concurrency, mock.origin);
          pooled[worker.kind].cpuMs += cpuMs(worker.pid) - cpu0;
          pooled[worker.kind].latencies.push(...latencies);
          pooled[worker.kind].wallMs += wallMs;
        }
      }
      return Object.fromEntries(kinds.map((kind) => {
        const { latencies, wallMs, cpuMs: cpu } = pooled[kind];
        return [kind, { ...summarize(latencies, wallMs), cpuUsPerRequest: (cpu * 1000) / latencies.length }];
      }));
    };
    const sequential = await phase(COUNTS.workerSeq, 1);
    const concurrent = await phase(COUNTS.workerConc, COUNTS.workerConcurrency);
    // Diagnostic: the Rust Worker's fixed cost per request without the upstream exchange
    // (entry, env and settings, routing, answer), next to the null Worker's /login.
    const rust = workers.find((worker) => worker.kind === 'rust');
    const cpu0 = cpuMs(rust.pid);
    const health = await load(rust, COUNTS.workerSeq, 1, mock.origin, healthz);
    const rustHealthz = { ...summarize(health.latencies, health.wallMs), cpuUsPerRequest: ((cpuMs(rust.pid) - cpu0) * 1000) / health.latencies.length };
    return { sequential, concurrent, rustHealthz };
  } finally {
    for (const worker of workers) {
      worker.agent.destroy();
      await worker.mf.dispose();
    }
  }
}

/** new Miniflare -> ready -> first /login 302, for each worker in turn, several times. */
async function measureColdStarts(mock) {
  const kinds = ['rust', 'js', 'null'];
  const samples = Object.fromEntries(kinds.map((kind) => [kind, { ready: [], firstResponse: [], firstAfterReady: [], second: [] }]));
  for (let i = 0; i < COUNTS.coldStarts; i++) {
    for (const kind of i % 2 ? [...kinds].reverse() : kinds) {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const options = workerOptions(kind, mock);
      const t0 = performance.now();
      const mf = await newMiniflare(options);
      try {
        const url = await mf.ready;
        const tReady = performance.now();
        const first = await login(agent, url, mock.origin);
        const tFirst = performance.now();
        const second = await login(agent, url, mock.origin);
        samples[kind].ready.push(tReady - t0);
        samples[kind].firstResponse.push(tFirst - t0);
        samples[kind].firstAfterReady.push(first);
        samples[kind].second.push(second);
      } finally {
        agent.destroy();
        await mf.dispose();
      }
    }
  }
  return Object.fromEntries(kinds.map((kind) => [kind, Object.fromEntries(Object.entries(samples[kind]).map(([key, values]) => [key, median(values)]))]));
}

// ---------------------------------------------------------------------------------------------
// 3./4. Node side, in /usr/bin/node children

async function nodeSide(impls, mock) {
  const config = { impls, pkgDir: art.pkg, authorizeUrl: mock.authorizeUrl, count: COUNTS.nodeCount, concurrency: COUNTS.nodeConcurrency, warmup: COUNTS.nodeWarmup, blocks: COUNTS.blocks };
  const result = await run(NODE20, [rel('bench/node-side.mjs'), JSON.stringify(config)]);
  if (result.code !== 0) throw new Error(`node-side failed (exit ${result.code}):\n${result.stderr}`);
  return JSON.parse(result.stdout.trim().split('\n').pop());
}

/** COUNTS.nodeRounds fresh Node processes, each running every implementation in alternating blocks; medians across them. */
async function measureNodeSide(mock) {
  const impls = ['ours', 'plain', 'plain-reader', 'floor-fetch', 'floor-http'];
  const rounds = [];
  for (let round = 0; round < COUNTS.nodeRounds; round++) {
    rounds.push(await nodeSide(impls.map((_, i) => impls[(i + round) % impls.length]), mock));
  }
  const summary = { node: rounds[0].node, rounds: COUNTS.nodeRounds };
  for (const impl of impls) {
    summary[impl] = {};
    for (const phase of ['sequential', 'concurrent']) {
      const med = (key) => median(rounds.map((r) => r.impls[impl][phase][key]));
      summary[impl][phase] = { medianMs: med('medianMs'), p99Ms: med('p99Ms'), perSecond: med('perSecond'), cpuUsPerOp: med('cpuUsPerOp') };
    }
  }
  return summary;
}

async function measureColdRequire() {
  const pkg = art.pkg;
  const plain = pathToFileURL(rel('bench/plain-js.mjs')).href;
  const scripts = {
    // What a CommonJS user pays: read + compile + instantiate the wasm, and the glue.
    ours: `const t=process.hrtime.bigint();require(${JSON.stringify(pkg)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`,
    // The plain module is ESM, so import(): this includes the ESM loader's own first-use cost...
    plain: `const t=process.hrtime.bigint();import(${JSON.stringify(plain)}).then(()=>process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6)))`,
    // ...which this shows alone: import() of an empty module.
    esmFloor: `const t=process.hrtime.bigint();import('data:text/javascript,').then(()=>process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6)))`,
  };
  const times = Object.fromEntries(Object.keys(scripts).map((key) => [key, []]));
  for (let i = 0; i < COUNTS.requireRuns; i++) {
    for (const [key, script] of Object.entries(scripts)) {
      const result = await runOk(NODE20, ['-e', script], { timeoutMs: 30_000 });
      const ms = Number(result.stdout);
      if (!Number.isFinite(ms)) throw new Error(`cold ${key}: unexpected output ${JSON.stringify(result.stdout)}`);
      times[key].push(ms);
    }
  }
  return Object.fromEntries(Object.entries(times).map(([key, values]) => [key, { medianMs: median(values), minMs: Math.min(...values), maxMs: Math.max(...values), runs: values.length }]));
}

// ---------------------------------------------------------------------------------------------
// Machine

async function describeMachine() {
  const cpuinfo = await readFile('/proc/cpuinfo', 'utf8').catch(() => '');
  const nproc = await run('nproc', []).then((r) => r.stdout.trim()).catch(() => String(os.availableParallelism()));
  const node20 = await runOk(NODE20, ['--version']).then((r) => r.stdout.trim());
  const version = async (name) => JSON.parse(await readFile(rel(`node_modules/${name}/package.json`), 'utf8')).version;
  const commit = await run('git', ['rev-parse', '--short', 'HEAD']).then((r) => (r.code === 0 ? r.stdout.trim() : 'unknown')).catch(() => 'unknown');
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    nproc,
    cpu: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? os.cpus()[0]?.model ?? 'unknown',
    memGiB: (os.totalmem() / 2 ** 30).toFixed(0),
    loadavg: os.loadavg().map((value) => value.toFixed(2)).join(' '),
    node22: process.version,
    node20,
    miniflare: await version('miniflare'),
    wrangler: await version('wrangler'),
    commit,
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

function render(r) {
  const { machine: m, sizes: s, workers: w, cold: c, nodeSide: n, requireTimes: q } = r;
  const lines = [];
  const table = (header, rows) => {
    lines.push(`| ${header.join(' | ')} |`, `|${header.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`);
    for (const row of rows) lines.push(`| ${row.join(' | ')} |`);
    lines.push('');
  };

  lines.push(`### Results ${SMOKE ? '(smoke: tiny counts, not meaningful)' : ''}`.trimEnd(), '');
  lines.push(
    `- Date: ${m.date}; checkout at ${m.commit}; measured ${ARTIFACTS_ROOT === path.resolve(root) ? 'build/ and pkg/ as they were on disk' : `the build/ and pkg/ of ${process.env.BENCH_ARTIFACTS}`}${process.env.BENCH_ARTIFACTS_NOTE ? ` (${process.env.BENCH_ARTIFACTS_NOTE})` : ''} (sha256 worker wasm ${s.workerWasm?.sha ?? 'n/a'}, npm wasm ${s.npmWasm.sha})`,
    `- Machine: \`nproc\` = ${m.nproc}, ${m.cpu}, ${m.memGiB} GiB; load average at the end ${m.loadavg}`,
    `- Node ${m.node22} (runner, Miniflare ${m.miniflare} / workerd, wrangler ${m.wrangler}); Node side on ${m.node20} (\`${NODE20}\`)`,
    `- Command: \`${COMMAND}\` (after \`make build-worker build-npm\`), ${r.seconds.toFixed(0)} s`,
    `- Counts: worker ${r.counts.workerSeq} sequential + ${r.counts.workerConc} at concurrency ${r.counts.workerConcurrency} per worker (in ${r.counts.blocks} alternating blocks, ${r.counts.warmup} warm-up), ${r.counts.coldStarts} cold starts each; Node ${r.counts.nodeCount} sequential + ${r.counts.nodeCount} at ${r.counts.nodeConcurrency} in flight per implementation (all in one process, ${r.counts.blocks} alternating blocks, ${r.counts.nodeWarmup} warm-up), median of ${r.counts.nodeRounds} processes; cold require median of ${r.counts.requireRuns} processes`,
    '',
  );

  lines.push('#### 1. Size', '');
  table(['artifact', 'raw', `compressed: ${GZIP_TOOL}`], [
    ['Rust Worker wasm, as `wrangler deploy --dry-run --outdir <tmp>` bundles it', fmtBytes(s.workerWasm?.raw), fmtBytes(s.workerWasm?.gzip)],
    ['Rust Worker JS glue `build/index.js`', fmtBytes(s.workerGlue.raw), fmtBytes(s.workerGlue.gzip)],
    ['Rust Worker JS as wrangler bundles it (not minified)', fmtBytes(s.workerBundleJs?.raw), fmtBytes(s.workerBundleJs?.gzip)],
    ['Rust Worker, wrangler\'s "Total Upload"', s.workerUpload ? `${s.workerUpload.rawKiB} KiB` : 'n/a', s.workerUpload ? `${s.workerUpload.gzipKiB} KiB` : 'n/a'],
    ['JS Worker `bench/js-worker/worker.js`', fmtBytes(s.jsWorker.raw), fmtBytes(s.jsWorker.gzip)],
    ['JS Worker, wrangler\'s "Total Upload"', s.jsWorkerUpload ? `${s.jsWorkerUpload.rawKiB} KiB` : 'n/a', s.jsWorkerUpload ? `${s.jsWorkerUpload.gzipKiB} KiB` : 'n/a'],
    ['npm package wasm `pkg/freedom_id_edge_bg.wasm`', fmtBytes(s.npmWasm.raw), fmtBytes(s.npmWasm.gzip)],
    ['npm package JS glue `pkg/freedom_id_edge.js`', fmtBytes(s.npmGlue.raw), fmtBytes(s.npmGlue.gzip)],
    [`\`npm pack ./pkg\`: tarball (${s.npmPack.files} files) / unpacked`, fmtBytes(s.npmPack.unpackedSize), `${fmtBytes(s.npmPack.size)} (tarball)`],
    ['plain JS `bench/plain-js.mjs`', fmtBytes(s.plainJs.raw), fmtBytes(s.plainJs.gzip)],
  ]);

  lines.push('#### 2. Worker in workerd (Miniflare), GET /login -> 302, same bindings, same mock', '');
  const ratio = (a, b) => a / b;
  const workerRows = [];
  for (const [label, phase] of [[`sequential (${r.counts.workerSeq})`, 'sequential'], [`concurrency ${r.counts.workerConcurrency} (${r.counts.workerConc})`, 'concurrent']]) {
    const R = w[phase].rust;
    const J = w[phase].js;
    const N = w[phase].null;
    workerRows.push([`${label}: median`, fmtMs(R.medianMs), fmtMs(J.medianMs), fmtRatio(ratio(R.medianMs, J.medianMs)), fmtMs(N.medianMs)]);
    workerRows.push([`${label}: p99`, fmtMs(R.p99Ms), fmtMs(J.p99Ms), fmtRatio(ratio(R.p99Ms, J.p99Ms)), fmtMs(N.p99Ms)]);
    workerRows.push([`${label}: throughput`, fmtRate(R.perSecond), fmtRate(J.perSecond), fmtRatio(ratio(R.perSecond, J.perSecond)), fmtRate(N.perSecond)]);
    workerRows.push([`${label}: workerd CPU per request`, fmtUs(R.cpuUsPerRequest), fmtUs(J.cpuUsPerRequest), fmtRatio(ratio(R.cpuUsPerRequest, J.cpuUsPerRequest)), fmtUs(N.cpuUsPerRequest)]);
  }
  const H = w.rustHealthz;
  workerRows.push([`diagnostic: Rust \`/healthz\` (settings read and checked, no upstream call), sequential (${r.counts.workerSeq}): median / CPU per request`, `${fmtMs(H.medianMs)} / ${fmtUs(H.cpuUsPerRequest)}`, '', '', `${fmtMs(w.sequential.null.medianMs)} / ${fmtUs(w.sequential.null.cpuUsPerRequest)} (its /login)`]);
  for (const [label, key] of [
    ['cold: `new Miniflare()` -> `ready`', 'ready'],
    ['cold: `new Miniflare()` -> first /login 302', 'firstResponse'],
    ['cold: first /login after `ready`', 'firstAfterReady'],
    ['cold: second /login', 'second'],
  ]) {
    workerRows.push([`${label} (median of ${r.counts.coldStarts})`, fmtMs(c.rust[key]), fmtMs(c.js[key]), fmtRatio(ratio(c.rust[key], c.js[key])), fmtMs(c.null[key])]);
  }
  table(['figure', 'Rust Worker', 'JS Worker', 'Rust/JS', 'null Worker (302, no upstream call)'], workerRows);

  lines.push(`#### 3. Node (${n.node}): \`createAuthorizationLink\` from pkg/ vs plain JS \`fetch\`, same mock (median of ${n.rounds} processes)`, '');
  table(['figure', 'ours (pkg/, wasm)', 'plain JS', 'plain/ours'], [
    [`ops/s sequential (${r.counts.nodeCount})`, fmtRate(n.ours.sequential.perSecond), fmtRate(n.plain.sequential.perSecond), fmtRatio(n.plain.sequential.perSecond / n.ours.sequential.perSecond)],
    [`ops/s at ${r.counts.nodeConcurrency} in flight (${r.counts.nodeCount})`, fmtRate(n.ours.concurrent.perSecond), fmtRate(n.plain.concurrent.perSecond), fmtRatio(n.plain.concurrent.perSecond / n.ours.concurrent.perSecond)],
    ['sequential median latency', fmtMs(n.ours.sequential.medianMs), fmtMs(n.plain.sequential.medianMs), fmtRatio(n.plain.sequential.medianMs / n.ours.sequential.medianMs)],
    ['sequential p99 latency', fmtMs(n.ours.sequential.p99Ms), fmtMs(n.plain.sequential.p99Ms), fmtRatio(n.plain.sequential.p99Ms / n.ours.sequential.p99Ms)],
    ['process CPU per call, sequential / at 64', `${fmtUs(n.ours.sequential.cpuUsPerOp)} / ${fmtUs(n.ours.concurrent.cpuUsPerOp)}`, `${fmtUs(n.plain.sequential.cpuUsPerOp)} / ${fmtUs(n.plain.concurrent.cpuUsPerOp)}`, `${fmtRatio(n.plain.sequential.cpuUsPerOp / n.ours.sequential.cpuUsPerOp)} / ${fmtRatio(n.plain.concurrent.cpuUsPerOp / n.ours.concurrent.cpuUsPerOp)}`],
    [`cold load in a fresh \`node -e\` (median of ${q.ours.runs}; min-max)`, `${fmtMs(q.ours.medianMs)} \`require()\` (${q.ours.minMs.toFixed(2)}-${q.ours.maxMs.toFixed(2)})`, `${fmtMs(q.plain.medianMs)} \`import()\` (${q.plain.minMs.toFixed(2)}-${q.plain.maxMs.toFixed(2)})`, fmtRatio(q.plain.medianMs / q.ours.medianMs)],
    ['ESM loader alone: `import()` of an empty module', '', fmtMs(q.esmFloor.medianMs), ''],
    ['diagnostic: plain JS reading the body with `getReader()` chunks as ours does, ops/s sequential / at 64', '', `${fmtRate(n['plain-reader'].sequential.perSecond)} / ${fmtRate(n['plain-reader'].concurrent.perSecond)}`, `${fmtRatio(n['plain-reader'].sequential.perSecond / n.ours.sequential.perSecond)} / ${fmtRatio(n['plain-reader'].concurrent.perSecond / n.ours.concurrent.perSecond)}`],
  ]);

  lines.push('#### 4. The upstream alone (the floor), same mock, same counts', '');
  table(['figure', 'sequential median', 'sequential p99', 'sequential ops/s', `ops/s at ${r.counts.nodeConcurrency} in flight`], [
    [`Node ${n.node} \`fetch\` POST, body read, no checks`, fmtMs(n['floor-fetch'].sequential.medianMs), fmtMs(n['floor-fetch'].sequential.p99Ms), fmtRate(n['floor-fetch'].sequential.perSecond), fmtRate(n['floor-fetch'].concurrent.perSecond)],
    [`Node ${n.node} \`node:http\` keep-alive POST`, fmtMs(n['floor-http'].sequential.medianMs), fmtMs(n['floor-http'].sequential.p99Ms), fmtRate(n['floor-http'].sequential.perSecond), fmtRate(n['floor-http'].concurrent.perSecond)],
    ['ours, for comparison', fmtMs(n.ours.sequential.medianMs), fmtMs(n.ours.sequential.p99Ms), fmtRate(n.ours.sequential.perSecond), fmtRate(n.ours.concurrent.perSecond)],
    ['plain JS, for comparison', fmtMs(n.plain.sequential.medianMs), fmtMs(n.plain.sequential.p99Ms), fmtRate(n.plain.sequential.perSecond), fmtRate(n.plain.concurrent.perSecond)],
  ]);
  const wseq = w.sequential;
  lines.push(
    `Added on top of the floor (sequential medians): Worker, Rust ${fmtMs(wseq.rust.medianMs - wseq.null.medianMs)} and JS ${fmtMs(wseq.js.medianMs - wseq.null.medianMs)} over the null Worker (which costs the client->workerd hop); Node, ours ${fmtMs(n.ours.sequential.medianMs - n['floor-fetch'].sequential.medianMs)} and plain JS ${fmtMs(n.plain.sequential.medianMs - n['floor-fetch'].sequential.medianMs)} over a bare \`fetch\`.`,
    '',
  );

  lines.push('#### Targets', '');
  const workerGzip = s.workerWasm?.gzip;
  const latencyRatio = wseq.rust.medianMs / wseq.js.medianMs;
  const latencyRatioConc = w.concurrent.rust.medianMs / w.concurrent.js.medianMs;
  const opsRatio = n.plain.sequential.perSecond / n.ours.sequential.perSecond;
  const opsRatioConc = n.plain.concurrent.perSecond / n.ours.concurrent.perSecond;
  table(['target', 'measured', 'verdict'], [
    [`Worker wasm gzip <= ${TARGETS.workerWasmGzip / 1000} kB`, fmtBytes(workerGzip), verdict(workerGzip <= TARGETS.workerWasmGzip)],
    [`npm wasm gzip <= ${TARGETS.npmWasmGzip / 1000} kB`, fmtBytes(s.npmWasm.gzip), verdict(s.npmWasm.gzip <= TARGETS.npmWasmGzip)],
    [`Worker median latency Rust/JS <= ${TARGETS.workerLatencyRatio.toFixed(2)}`, `${latencyRatio.toFixed(2)} sequential, ${latencyRatioConc.toFixed(2)} at concurrency ${r.counts.workerConcurrency}`, verdict(latencyRatio <= TARGETS.workerLatencyRatio && latencyRatioConc <= TARGETS.workerLatencyRatio)],
    [`Node ops/s plain-JS/ours <= ${TARGETS.nodeOpsRatio.toFixed(2)}`, `${opsRatio.toFixed(2)} sequential, ${opsRatioConc.toFixed(2)} at ${r.counts.nodeConcurrency} in flight`, verdict(opsRatio <= TARGETS.nodeOpsRatio && opsRatioConc <= TARGETS.nodeOpsRatio)],
    [`Node cold \`require()\` <= ${TARGETS.coldRequireMs} ms`, fmtMs(q.ours.medianMs), verdict(q.ours.medianMs <= TARGETS.coldRequireMs)],
  ]);
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
