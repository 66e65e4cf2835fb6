// A CPU profile of the Worker in workerd, through its inspector (Miniflare's `inspectorPort`):
// our isolate (`core:user:`; Miniflare's entry worker and the asset router are isolates of their
// own) over a few thousand requests of one route at a time: where its JS and wasm time goes.
//
//   BENCH_ARTIFACTS=/tmp/v/names node_modules/.bin/node bench/profile.mjs [--kind rust|js]
//       [--routes login,callback,session,refresh,gate] [--count 3000] [--concurrency 1]
//       [--interval 50] [--top 25] [--out DIR]
//
// Build the variant with `bash bench/build-variant.sh /tmp/v/names --keep-names` so that wasm
// functions have their Rust names (the shipped build strips the name section). Writes one
// `.cpuprofile` per route to DIR (default bench/results/profile-<kind>/, git-ignored:
// open them in Chrome DevTools), prints Markdown tables.
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { assetRouting, cpuMs, freePort, load, rel, routes, startChild, startWorker } from './workerd.mjs';

const { values: args } = parseArgs({
  options: {
    kind: { type: 'string', default: 'rust' },
    routes: { type: 'string', default: 'login,callback,session,refresh,gate' },
    count: { type: 'string', default: '3000' },
    concurrency: { type: 'string', default: '1' },
    interval: { type: 'string', default: '50' },
    top: { type: 'string', default: '25' },
    out: { type: 'string' },
  },
});
const ARTIFACTS_ROOT = path.resolve(process.env.BENCH_ARTIFACTS || rel('.'));
const COUNT = Number(args.count);
const TOP = Number(args.top);
const OUT = path.resolve(args.out ?? rel(`bench/results/profile-${args.kind}`));

/** A minimal Chrome DevTools Protocol client over the global WebSocket (Node >= 22). */
async function connect(url) {
  const socket = new WebSocket(url);
  await new Promise((resolve, reject) => {
    socket.addEventListener('open', resolve, { once: true });
    socket.addEventListener('error', reject, { once: true });
  });
  let id = 0;
  const pending = new Map();
  socket.addEventListener('message', (event) => {
    const message = JSON.parse(event.data);
    const waiter = pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id);
    if (message.error) waiter.reject(new Error(`${waiter.method}: ${message.error.message}`));
    else waiter.resolve(message.result);
  });
  return {
    send: (method, params = {}) =>
      new Promise((resolve, reject) => {
        const message = { id: ++id, method, params };
        pending.set(message.id, { resolve, reject, method });
        socket.send(JSON.stringify(message));
      }),
    close: () => socket.close(),
  };
}

/** Self time (µs) per function of a V8 CPU profile, and the profile's busy time. */
function analyse(profile) {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  // workerd runs many isolates on one thread, and V8 samples each profiled isolate on a timer
  // whether or not it is the one running: time deltas then say little, and a sample whose top
  // frame is `(program)` or `(idle)` is mostly another isolate's time or waiting. So every sample
  // counts for the profile's mean period, and only samples with a JS or wasm frame (or the
  // garbage collector) count as our isolate's busy time.
  const period = (profile.endTime - profile.startTime) / Math.max(1, profile.samples.length);
  const self = new Map(); // node id -> µs
  for (const id of profile.samples) self.set(id, (self.get(id) ?? 0) + period);
  const key = (frame) => `${frame.functionName || '(anonymous)'}\t${frame.url ? frame.url.replace(/^.*\//, '') : ''}`;
  const byFunction = new Map();
  const inclusive = new Map();
  let busy = 0;
  let idle = 0;
  for (const [id, us] of self) {
    const frame = nodes.get(id).callFrame;
    if (frame.functionName === '(idle)' || frame.functionName === '(program)' || frame.functionName === '(root)') {
      idle += us;
      continue;
    }
    busy += us;
    byFunction.set(key(frame), (byFunction.get(key(frame)) ?? 0) + us);
    // Inclusive: every distinct function on the stack gets the sample once.
    const seen = new Set();
    for (let at = id; at !== undefined; at = parent.get(at)) {
      const k = key(nodes.get(at).callFrame);
      if (seen.has(k)) continue;
      seen.add(k);
      inclusive.set(k, (inclusive.get(k) ?? 0) + us);
    }
  }
  return { busy, idle, byFunction, inclusive };
}

/** What kind of code a profile entry is. */
function category(name, file) {
  if (/\.wasm(-[0-9a-f]+)?$/.test(file) || /^\$?func\d+|^wasm-function/.test(name)) return 'wasm (ours)';
  if (name.startsWith('(')) return name;
  if (!file) return 'V8/workerd built-in';
  return `JS ${file}`;
}

async function main() {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'freedom-id-edge-profile-'));
  const helpers = [];
  let worker;
  try {
    await cp(path.join(ARTIFACTS_ROOT, 'build'), path.join(tmp, 'build'), { recursive: true });
    const art = { build: path.join(tmp, 'build') };
    const toml = path.join(ARTIFACTS_ROOT, 'wrangler.toml');
    const routing = assetRouting(existsSync(toml) ? toml : rel('wrangler.toml'));
    const mock = await startChild('bench/mock-server.mjs');
    helpers.push(mock);
    const site = await startChild('bench/origin-server.mjs');
    helpers.push(site);
    const inspectorPort = await freePort();
    worker = await startWorker(args.kind, { art, mock, site, routing }, { inspectorPort, maxSockets: Number(args.concurrency) });
    const targets = await (await fetch(`http://127.0.0.1:${inspectorPort}/json/list`)).json();
    const sessions = [];
    // Only our isolate: every profiled isolate's sampler interrupts the one workerd thread.
    for (const target of targets.filter((t) => t.id === 'core:user:')) {
      const session = await connect(target.webSocketDebuggerUrl);
      await session.send('Profiler.enable');
      await session.send('Profiler.setSamplingInterval', { interval: Number(args.interval) });
      sessions.push({ id: target.id, session });
    }
    await mkdir(OUT, { recursive: true });
    const wanted = new Set(args.routes.split(','));
    process.stdout.write(`## CPU profile: ${args.kind === 'rust' ? `Rust Worker from ${ARTIFACTS_ROOT}/build` : 'JS twin'}, ${COUNT} requests per route at concurrency ${args.concurrency}, sampled every ${args.interval} µs; [assets] routing: ${routing.describe}\n\n`);
    for (const route of routes(mock, site).filter((r) => wanted.has(r.name) && r.kinds.includes(args.kind))) {
      await load(worker, await route.prepare(worker, 200), 4, route.check); // warm-up, unprofiled
      const inputs = await route.prepare(worker, COUNT);
      for (const { session } of sessions) await session.send('Profiler.start');
      const cpu0 = cpuMs(worker.pid);
      const { wallMs } = await load(worker, inputs, Number(args.concurrency), route.check);
      const processCpu = cpuMs(worker.pid) - cpu0;
      const profiles = [];
      for (const { id, session } of sessions) {
        const { profile } = await session.send('Profiler.stop');
        await writeFile(path.join(OUT, `${route.name}.${id.replace(/[^\w.-]+/g, '_')}.cpuprofile`), JSON.stringify(profile));
        profiles.push({ id, ...analyse(profile) });
      }
      const perRequest = (us) => `${(us / COUNT).toFixed(0)} µs`;
      const user = profiles.find((p) => p.id === 'core:user:');
      const lines = [`### ${route.label}`, '', `workerd process CPU (from /proc, profiler running): ${perRequest(processCpu * 1000)} per request; wall ${(wallMs / COUNT).toFixed(2)} ms. Sampled JS and wasm time in our isolate (core:user:): ${perRequest(user.busy)} per request.`, ''];
      const categories = new Map();
      for (const [k, us] of user.byFunction) {
        const [name, file] = k.split('\t');
        const c = category(name, file);
        categories.set(c, (categories.get(c) ?? 0) + us);
      }
      lines.push('', `Our isolate (core:user:), self time by kind of code: ${[...categories].sort((a, b) => b[1] - a[1]).map(([c, us]) => `${c} ${perRequest(us)} (${((100 * us) / user.busy).toFixed(0)} %)`).join('; ')}`, '');
      lines.push(`Top ${TOP} functions by self time in our isolate:`, '', '| function | file | self per request | % of busy | inclusive per request |', '|---|---|---:|---:|---:|');
      for (const [k, us] of [...user.byFunction].sort((a, b) => b[1] - a[1]).slice(0, TOP)) {
        const [name, file] = k.split('\t');
        lines.push(`| \`${name.slice(0, 110).replace(/\|/g, '\\|')}\` | ${file || ''} | ${perRequest(us)} | ${((100 * us) / user.busy).toFixed(1)} | ${perRequest(user.inclusive.get(k) ?? 0)} |`);
      }
      lines.push('', `Top ${TOP} by inclusive time in our isolate:`, '', '| function | file | inclusive per request | % of busy |', '|---|---|---:|---:|');
      for (const [k, us] of [...user.inclusive].sort((a, b) => b[1] - a[1]).slice(0, TOP)) {
        const [name, file] = k.split('\t');
        lines.push(`| \`${name.slice(0, 110).replace(/\|/g, '\\|')}\` | ${file || ''} | ${perRequest(us)} | ${((100 * us) / user.busy).toFixed(1)} |`);
      }
      process.stdout.write(`${lines.join('\n')}\n\n`);
    }
    for (const { session } of sessions) session.close();
  } finally {
    await worker?.close();
    for (const helper of helpers) await helper.close();
    await rm(tmp, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`profile: FAILED: ${error?.stack ?? error}\n`);
    process.exit(1);
  },
);
