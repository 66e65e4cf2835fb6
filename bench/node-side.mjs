// Section 3 and 4 of the benchmark, in a child process of bench/run.mjs on the machine's own
// Node (20), as the npm package's users run it. Never imports miniflare.
//
//   /usr/bin/node bench/node-side.mjs '{"impls":["ours","plain"],"authorizeUrl":"http://127.0.0.1:PORT/api/v1/oauth/authorize",
//                                        "count":2000,"concurrency":64,"warmup":200,"blocks":4}'
//
// impl: `ours` (pkg/, loaded with require), `plain` (bench/plain-js.mjs), `plain-reader` (plain JS
// reading the body with getReader() as ours does: a diagnostic), `floor-fetch` (a bare
// fetch POST to the mock, body read, no checks), `floor-http` (node:http keep-alive, the rawest).
// Each impl makes `count` calls sequentially, then `count` with `concurrency` in flight, in
// `blocks` alternating blocks. Prints one JSON line: {node, impls: {IMPL: {sequential,
// concurrent}}}. Exits non-zero on any rejected call or wrong answer.
import { createRequire } from 'node:module';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { summarize } from './stats.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const config = JSON.parse(process.argv[2]);
const origin = new URL(config.authorizeUrl).origin;
const options = {
  clientId: 'demo-client',
  clientSecret: 'demo-secret',
  redirectUri: 'http://127.0.0.1:8787/callback',
  grants: ['openid', 'read.email', 'read.phone'],
  authorizeUrl: config.authorizeUrl,
  timeoutMs: 5000,
};
const body = JSON.stringify({ redirect_uri: options.redirectUri, grants: options.grants });
const basic = `Basic ${Buffer.from(`${options.clientId}:${options.clientSecret}`).toString('base64')}`;
const headers = { Authorization: basic, 'Content-Type': 'application/json', Accept: 'application/json' };

async function load(impl) {
  switch (impl) {
    case 'ours': {
      const { createAuthorizationLink } = createRequire(import.meta.url)(config.pkgDir ?? `${root}pkg`);
      return async () => check((await createAuthorizationLink(options)).url);
    }
    case 'plain': {
      const { createAuthorizationLink } = await import('./plain-js.mjs');
      return async () => check((await createAuthorizationLink(options)).url);
    }
    case 'plain-reader':
      // Diagnostic: plain JS, but the body read chunk by chunk through getReader() and
      // concatenated, as the wasm package does (it caps the size that way), then JSON.parse.
      return async () => {
        const response = await fetch(config.authorizeUrl, { method: 'POST', headers, body, redirect: 'manual', signal: AbortSignal.timeout(5000) });
        if (response.status !== 200) throw new Error(`mock answered ${response.status}`);
        const reader = response.body.getReader();
        const chunks = [];
        for (let step = await reader.read(); !step.done; step = await reader.read()) chunks.push(step.value);
        const link = JSON.parse(Buffer.concat(chunks).toString('utf8')).redirect_uri;
        if (new URL(link).origin !== origin) throw new Error('untrusted link');
        check(link);
      };
    case 'floor-fetch':
      return async () => {
        const response = await fetch(config.authorizeUrl, { method: 'POST', headers, body, redirect: 'manual' });
        const text = await response.text();
        if (response.status !== 200) throw new Error(`mock answered ${response.status}: ${text.slice(0, 200)}`);
      };
    case 'floor-http': {
      const agent = new http.Agent({ keepAlive: true, maxSockets: config.concurrency });
      const target = new URL(config.authorizeUrl);
      return () =>
        new Promise((resolve, reject) => {
          const request = http.request(
            target,
            { method: 'POST', agent, headers: { ...headers, 'Content-Length': Buffer.byteLength(body) } },
            (response) => {
              const chunks = [];
              response.on('data', (chunk) => chunks.push(chunk));
              response.on('end', () =>
                response.statusCode === 200 ? resolve() : reject(new Error(`mock answered ${response.statusCode}`)),
              );
              response.on('error', reject);
            },
          );
          request.on('error', reject);
          request.end(body);
        });
    }
    default:
      throw new Error(`unknown impl ${impl}`);
  }
}

function check(url) {
  if (typeof url !== 'string' || !url.startsWith(`${origin}/login?track_id=`)) throw new Error(`unexpected link ${url}`);
}

/** `count` calls, `concurrency` in flight: the latencies, wall time and process CPU time. */
async function run(call, count, concurrency) {
  const latencies = new Float64Array(count);
  let next = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  const lane = async () => {
    while (next < count) {
      const i = next++;
      const t0 = performance.now();
      await call();
      latencies[i] = performance.now() - t0;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
  const wallMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return { latencies, wallMs, cpuUs: used.user + used.system };
}

// Every implementation in this one process, in alternating blocks whose order rotates, so
// that other load on the machine falls on all of them alike.
const impls = config.impls ?? [config.impl];
const blocks = config.blocks ?? 1;
const calls = new Map();
for (const impl of impls) calls.set(impl, await load(impl));
for (const impl of impls) {
  const { latencies } = await run(calls.get(impl), config.warmup, Math.min(config.concurrency, 16));
  if (latencies.length !== config.warmup) throw new Error('warm-up incomplete');
}
const result = { node: process.version, impls: {} };
for (const [phase, concurrency] of [['sequential', 1], ['concurrent', config.concurrency]]) {
  const pooled = new Map(impls.map((impl) => [impl, { latencies: [], wallMs: 0, cpuUs: 0 }]));
  const perBlock = Math.ceil(config.count / blocks);
  for (let block = 0; block < blocks; block++) {
    for (let k = 0; k < impls.length; k++) {
      const impl = impls[(k + block) % impls.length];
      const { latencies, wallMs, cpuUs } = await run(calls.get(impl), perBlock, concurrency);
      const into = pooled.get(impl);
      into.latencies.push(...latencies);
      into.wallMs += wallMs;
      into.cpuUs += cpuUs;
    }
  }
  for (const [impl, { latencies, wallMs, cpuUs }] of pooled) {
    result.impls[impl] ??= {};
    result.impls[impl][phase] = { ...summarize(latencies, wallMs), cpuUsPerOp: cpuUs / latencies.length };
  }
}
process.stdout.write(`${JSON.stringify(result)}\n`);
