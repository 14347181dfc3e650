import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ensureBuilt, REPO_ROOT, runBuiltCli } from './support/built_cli.js';
import { runMain } from './support/run_main.js';
import { runSuiteUnit, SUITE_UNIT_PREFIX, SUITE_UNITS } from '../properties/conformance/suite_units.js';
import { SUITE_NAMES } from '../properties/index.js';
import { MemorySpill } from '../src/index.js';
import type { BackendModule } from '../properties/conformance/backend_module.js';

// A suite in a backend's verdict must put that backend under its queues: a "held" from a suite
// that builds its own storage would vouch for a backend it never called.
describe('the suites validate runs with a backend', () => {
  const module: BackendModule = { factory: () => new MemorySpill(), supports: {} };

  it.each(SUITE_UNITS.map((unit) => [unit]))('%s calls the backend', async (unit) => {
    let calls = 0;
    const verdict = await runSuiteUnit(module, 'memory', unit, { seed: 7, runs: 5, timeLimitMs: 30_000, onProgress: (n) => (calls = n) });
    expect(verdict.status).toBe('held');
    expect(calls).toBeGreaterThan(0);
  });

  it('check --backend leaves them out too: its table lists only suites that called the backend', async () => {
    const run = await runMain(['check', '--backend', 'fixtures/backends/memory.mjs', '--runs', '5', '--seed', '1', '--quiet', '--no-example-db']);
    expect(run.code).toBe(0);
    const rows = run.stdout.split('\n').filter((line) => /^[a-z-]+ +\d+ /.test(line)).map((line) => line.split(' ')[0]);
    expect(rows).toEqual(SUITE_UNITS.map((unit) => unit.slice(SUITE_UNIT_PREFIX.length)));
  });

  it('leaves out the suites that build their own storage, and keeps the others', () => {
    const left = SUITE_NAMES.filter((name) => !SUITE_UNITS.includes(`${SUITE_UNIT_PREFIX}${name}`));
    expect(left.sort()).toEqual(['determinism', 'end-to-end']);
  });
});

// A backend written the way the README says (file I/O through ctx.fs, no fallback) that corrupts
// what it reads back. The suites once gave it no ctx.fs: its open failed, it drained nothing, and
// every suite "held" without ever storing a byte.
const FS_CORRUPTER = `import { Bytes } from 'spillsim';
let n = 0;
export default (ctx) => ({
  spill(chunks, handles) {
    while (chunks.length > 0) {
      const path = ctx.dir + '/c' + n++;
      const data = chunks[0].data.slice();
      let fd;
      try { fd = ctx.fs.openSync(path, 'w'); } catch { return; } // storage refused: stop, as the contract allows
      ctx.fs.writeSync(fd, data, 0, data.length, 0);
      ctx.fs.closeSync(fd);
      chunks.shift();
      handles.push({ fetch: () => {
        const out = new Uint8Array(data.length);
        const rd = ctx.fs.openSync(path, 'r');
        ctx.fs.readSync(rd, out, 0, out.length, 0);
        ctx.fs.closeSync(rd);
        if (out.length > 0) out[0] ^= 1; // the bug
        return { ok: true, chunks: [Bytes.from(out)] };
      } });
    }
  },
});
`;

describe('the suites hand the backend ctx.fs, as the clauses do', () => {
  it('suite.ordering catches a ctx.fs backend that corrupts its reads', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spillsim-suite-fs-'));
    const path = join(dir, 'fs-corrupter.mjs');
    writeFileSync(path, FS_CORRUPTER.replace("from 'spillsim'", `from '${pathToFileURL(join(REPO_ROOT, 'src/index.ts')).href}'`));
    const module: BackendModule = { factory: (await import(pathToFileURL(path).href)).default, supports: {} };
    const verdict = await runSuiteUnit(module, path, `${SUITE_UNIT_PREFIX}ordering`, { seed: 7, runs: 50, timeLimitMs: 30_000 });
    expect(verdict.status).toBe('broken');
    expect(verdict.detail).toMatch(/^order: /);
  });

  it('check --backend catches it too', async () => {
    await ensureBuilt();
    const dir = mkdtempSync(join(tmpdir(), 'spillsim-suite-fs-'));
    const path = join(dir, 'fs-corrupter.mjs');
    writeFileSync(path, FS_CORRUPTER.replace("from 'spillsim'", `from '${pathToFileURL(join(REPO_ROOT, 'dist/src/index.js')).href}'`));
    const run = await runBuiltCli(['check', '--backend', path, '--suite', 'ordering', '--runs', '50', '--seed', '7', '--quiet', '--no-example-db'], { timeoutMs: 60_000 });
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain('FAILED ordering: rule order');
    expect(run.code).toBe(1);
  }, 180_000);
});

describe('a suite that never read back anything the backend stored says so', () => {
  const refuses: BackendModule = { factory: () => ({ spill() {} }), supports: {} };

  it.each(SUITE_UNITS.map((unit) => [unit]))('%s: not applicable, never held, for a backend that drains nothing', async (unit) => {
    const verdict = await runSuiteUnit(refuses, 'refuses', unit, { seed: 7, runs: 5, timeLimitMs: 30_000 });
    expect(verdict.status).toBe('not-applicable');
    expect(verdict.detail).toMatch(/^no chunk the backend stored was ever fetched back in \d+ backend calls?: it drained nothing or every fetch failed; this suite judged nothing of it$/);
  });

  it('check --backend gives the same verdict in the same words, and never sums it up as "all suites held"', async () => {
    // Its spill returns at once, like `refuses`.
    const path = 'fixtures/backends/stores-nothing.mjs';
    const args = ['check', '--backend', path, '--suite', 'ordering,no-stall', '--runs', '5', '--seed', '7', '--no-example-db'];
    const run = await runMain([...args, '--quiet']);
    const reasons = await Promise.all(['ordering', 'no-stall'].map(async (name) => (await runSuiteUnit(refuses, path, `${SUITE_UNIT_PREFIX}${name}`, { seed: 7, runs: 5, timeLimitMs: 30_000 })).detail!));
    const rows = run.stdout.split('\n').filter((line) => /^[a-z-]+ +\d+ /.test(line));
    expect(rows.map((row) => row.replace(/^.*? {2}(?=not applicable|held|FAILED)/, ''))).toEqual(reasons.map((reason) => `not applicable (${reason})`));
    expect(run.stdout).toMatch(/^no suite applied to the backend, 2 not applicable in .* \(seed 7\)$/m);
    expect(run.stdout).not.toContain('held');
    // As validate counts a suite that does not apply: not a failure.
    expect(run.code).toBe(0);
    const json = await runMain([...args, '--json']);
    const report = JSON.parse(json.stdout) as { ok: boolean; suites: { suite: string; ok: boolean; notApplicable?: string }[] };
    expect(report.suites.map((s) => s.notApplicable)).toEqual(reasons);
    expect(json.code).toBe(0);
  });

  it('a suite whose runs never spilled says so, and that more runs would', async () => {
    const memory: BackendModule = { factory: () => new MemorySpill(), supports: {} };
    const verdict = await runSuiteUnit(memory, 'memory', `${SUITE_UNIT_PREFIX}ordering`, { seed: 3, runs: 1, timeLimitMs: 30_000 });
    expect(verdict).toMatchObject({ status: 'not-applicable', detail: 'no chunk the backend stored was ever fetched back: the 1 run(s) made never spilled (more --runs reach the backend); this suite judged nothing of it' });
  });
});
