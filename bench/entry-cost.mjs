// What a request costs the Rust Worker before any route's work: its cheapest route
// (`GET /healthz`: the settings already read, a small JSON answer, no I/O, no await) against
// the null Worker (a JS `fetch` handler answering at once), in the same workerd setup as
// bench/run.mjs, in rotating blocks. The difference is the fixed price of entering the wasm
// per request (the `worker` crate's `#[event(fetch)]`, its panic-recovery shim, the future
// wasm-bindgen makes of the handler, reading the request, building the answer), which every
// Rust route pays and the JS twin does not (BENCHMARKS.md, "Round 3").
//
//   node_modules/.bin/node bench/entry-cost.mjs [--count 2000] [--blocks 4]
//
// Measures build/ (or BENCH_ARTIFACTS=DIR's build/). Prints one Markdown table.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { assetRouting, cpuMs, load, rel, startChild, startWorker } from './workerd.mjs';

const { values: args } = parseArgs({ options: { count: { type: 'string', default: '2000' }, blocks: { type: 'string', default: '4' } } });
const COUNT = Number(args.count);
const BLOCKS = Number(args.blocks);
const root = path.resolve(process.env.BENCH_ARTIFACTS || rel('.'));
const art = { build: path.join(root, 'build') };
const routing = assetRouting(path.join(root, 'wrangler.toml'));

const mock = await startChild('bench/mock-server.mjs');
const site = await startChild('bench/origin-server.mjs');
const context = { art, mock, site, routing };
const cases = [
  { name: 'null', label: 'the null Worker: `GET /login` -> 302 at once (JS)', path: '/login', status: 302 },
  { name: 'rust', label: 'the Rust Worker: `GET /healthz` -> 200 (no I/O)', path: '/healthz', status: 200 },
];
const workers = {};
try {
  for (const c of cases) workers[c.name] = await startWorker(c.name, context);
  const check = (c) => (worker, response) => (response.statusCode === c.status ? null : `answered ${response.statusCode}`);
  const inputs = (c, n) => Array.from({ length: n }, () => ({ path: c.path, headers: { accept: 'application/json' } }));
  for (const c of cases) await load(workers[c.name], inputs(c, 200), 4, check(c));
  const totals = Object.fromEntries(cases.map((c) => [c.name, { cpu: 0, n: 0, latencies: [] }]));
  for (let block = 0; block < BLOCKS; block += 1) {
    const order = block % 2 === 0 ? cases : [...cases].reverse();
    for (const c of order) {
      const worker = workers[c.name];
      const before = cpuMs(worker.pid);
      const { latencies } = await load(worker, inputs(c, COUNT / BLOCKS), 1, check(c));
      totals[c.name].cpu += cpuMs(worker.pid) - before;
      totals[c.name].n += latencies.length;
      totals[c.name].latencies.push(...latencies);
    }
  }
  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const perRequest = (name) => (1000 * totals[name].cpu) / totals[name].n;
  console.log(`${COUNT} requests each, sequential, ${BLOCKS} rotating blocks; ${root}/build; [assets] routing: ${routing.describe}\n`);
  console.log('| Worker | median | workerd CPU per request |');
  console.log('|---|---:|---:|');
  for (const c of cases) console.log(`| ${c.label} | ${median(totals[c.name].latencies).toFixed(2)} ms | ${Math.round(perRequest(c.name))} µs |`);
  console.log(`| the Rust Worker's fixed cost per request (the difference) | | ${Math.round(perRequest('rust') - perRequest('null'))} µs |`);
} finally {
  for (const worker of Object.values(workers)) await worker.close();
  await mock.close();
  await site.close();
}
