// `wrangler deploy --dry-run` bundles the Worker exactly as a real deploy would, with no account.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, statSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

test('wrangler deploy --dry-run bundles the Worker and its wasm', () => {
  const outdir = mkdtempSync(path.join(tmpdir(), 'freedom-id-edge-dist-'));
  try {
    const run = spawnSync('wrangler', ['deploy', '--dry-run', '--outdir', outdir], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false' },
      timeout: 300_000,
    });
    const output = run.stdout + run.stderr;
    assert.equal(run.status, 0, output);
    assert.match(output, /--dry-run: exiting now/);
    const files = readdirSync(outdir);
    const wasm = files.filter((name) => name.endsWith('.wasm'));
    assert.equal(wasm.length, 1, `bundle: ${files.join(', ')}`);
    assert.ok(statSync(path.join(outdir, wasm[0])).size > 10_000);
    // The dry run reads the same vars a deploy would upload, and never a secret.
    assert.match(output, /FREEDOM_ID_GRANTS/);
    assert.doesNotMatch(output, /demo-secret/);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
});
