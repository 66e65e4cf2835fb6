// Soak: many /login requests at concurrency 32 while the mock injects random faults at 5 %.
// Every answer must be the 302 or the documented error for the fault that request met, never
// a 500 or an opaque error, and workerd's memory must settle. Not a timed test: it prints its
// figures. SOAK_COUNT sets the count (5000 by default; `make test` in CI uses fewer).
//
// Memory: V8 grows its heap lazily, so workerd's RSS climbs for tens of thousands of requests
// whatever the Worker (bench/'s plain JS Worker too), and RSS never shrinks back. So workerd
// runs with a 64 MB V8 heap (production isolates are limited to 128 MB) and a long warm-up
// (SOAK_WARM_UP, 15000) brings it to its steady size; then the run must stay within 20 %.
// A real leak still shows: it grows past the bound, or the isolate runs out of heap.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { RANDOM_FAULTS, startMockFreedomId } from './support/mock-freedom-id.mjs';
import { AUTHORIZE_FAULTS, faults } from './support/faults.mjs';
import { startWorker, workingBindings, workerdRssKiB } from './support/worker.mjs';

const COUNT = Number(process.env.SOAK_COUNT || 5000);
const CONCURRENCY = 32;
const WARM_UP = Number(process.env.SOAK_WARM_UP || 15000);
process.env.MINIFLARE_WORKERD_V8_FLAGS ??= '--max-heap-size=64';

/** What each fault the mock can inject, and `ok`, must turn into (support/faults.mjs): its code, or the redirect. */
const EXPECTED = Object.fromEntries(
  faults(AUTHORIZE_FAULTS, ['ok', ...RANDOM_FAULTS]).map(({ mode, code }) => [mode, code ?? 'REDIRECT']),
);

let mock;
let worker;

before(async () => {
  mock = await startMockFreedomId();
  worker = await startWorker(workingBindings(mock, { FREEDOM_ID_TIMEOUT_MS: '5000' }));
});

after(async () => {
  await worker?.close();
  await mock?.close();
});

async function run(count) {
  const tally = new Map();
  let next = 0;
  async function client() {
    while (next < count) {
      next += 1;
      const response = await fetch(new URL('/login', worker.url), { redirect: 'manual' });
      const body = await response.text();
      let outcome;
      if (response.status === 302) outcome = 'REDIRECT';
      else {
        assert.equal(response.headers.get('content-type'), 'application/problem+json', body);
        const problem = JSON.parse(body);
        assert.equal(problem.status, response.status);
        outcome = problem.code;
      }
      tally.set(outcome, (tally.get(outcome) || 0) + 1);
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, client));
  return tally;
}

test(`soak: ${COUNT} /login at concurrency ${CONCURRENCY} with 5 % random upstream faults`, async () => {
  await run(WARM_UP);
  const warm = workerdRssKiB();
  const tally = new Map();
  const expected = new Map();
  const add = (map, key, n = 1) => map.set(key, (map.get(key) || 0) + n);
  const started = Date.now();
  // In batches, as the mock keeps a bounded record of the faults it injected.
  for (let done = 0; done < COUNT; done += 1000) {
    mock.reset();
    mock.setMode('random-faults:5');
    const batch = Math.min(1000, COUNT - done);
    for (const [outcome, n] of await run(batch)) add(tally, outcome, n);
    assert.equal(mock.requests.length, batch);
    // Each answer is what its fault calls for: the worker's tally equals the mock's record.
    for (const { mode } of mock.requests) {
      assert.ok(mode in EXPECTED, `unexpected fault ${mode}`);
      add(expected, EXPECTED[mode]);
    }
  }
  const seconds = (Date.now() - started) / 1000;
  const after = workerdRssKiB();
  assert.deepEqual(Object.fromEntries([...tally].sort()), Object.fromEntries([...expected].sort()));
  const faults = COUNT - (tally.get('REDIRECT') || 0);
  console.log(`soak: ${COUNT} requests in ${seconds.toFixed(1)} s (${(COUNT / seconds).toFixed(0)} req/s), `
    + `${faults} faults injected (${((100 * faults) / COUNT).toFixed(1)} %), outcomes ${JSON.stringify(Object.fromEntries(tally))}`);
  console.log(`soak: workerd RSS after warm-up ${(warm / 1024).toFixed(1)} MiB, after the run ${(after / 1024).toFixed(1)} MiB `
    + `(${(((after - warm) / warm) * 100).toFixed(1)} %)`);
  assert.ok(warm > 0, 'found the workerd process');
  assert.ok(after <= warm * 1.2, `workerd memory grew from ${warm} KiB after warm-up to ${after} KiB`);
  // After the faults, the next sign-in works.
  mock.setMode('ok');
  assert.equal((await run(CONCURRENCY)).get('REDIRECT'), CONCURRENCY);
});
