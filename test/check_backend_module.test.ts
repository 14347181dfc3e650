import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, REPO_ROOT, runBuiltCli } from './support/built_cli.js';

beforeAll(async () => {
  await ensureBuilt();
}, 200_000);

// Removed after the tests, failing or not.
const made: string[] = [];
const tempDir = (prefix: string): string => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

// A correct backend that holds a resource from a pool of 16 per instance (a descriptor, a
// connection) and gives it back in dispose: the factory fails once the pool is empty, as
// openSync does with EMFILE. `check --backend` makes one instance per system, thousands per
// suite, so it must dispose each one when its run is over, as `validate` does.
const POOLED_BACKEND = `
let free = 16;
export default function createPooled() {
  if (free === 0) throw new Error('pool exhausted: 16 instances alive, none disposed');
  free -= 1;
  return {
    spill(chunks, handles) {
      while (chunks.length > 0) {
        const chunk = chunks.shift();
        let taken = false;
        handles.push({
          fetch() {
            if (taken) throw new Error('fetched twice');
            taken = true;
            return { ok: true, chunks: [chunk] };
          },
        });
      }
    },
  };
}
export function dispose() {
  free += 1;
}
`;

describe('spillsim check --backend disposes what it makes', () => {
  it('hands every instance to the module dispose once its run is over, so a pooled backend holds', async () => {
    const dir = tempDir('spillsim-check-dispose-');
    const module = join(dir, 'pooled.mjs');
    writeFileSync(module, POOLED_BACKEND);
    // transparency builds several systems per run, so the pool must be refilled run by run.
    const run = await runBuiltCli(['check', '--backend', module, '--suite', 'ordering,transparency', '--runs', '60', '--seed', '7', '--no-example-db', '--quiet']);
    expect(run.stdout).not.toContain('pool exhausted');
    expect(run.stdout).toMatch(/ordering\s+60\s+\d+\s+\S+ m?s\s+held/);
    expect(run.stdout).toMatch(/transparency\s+60\s+\d+\s+\S+ m?s\s+held/);
    expect(run.code).toBe(0);
  }, 60_000);
});

describe('spillsim check --backend with a module it cannot use', () => {
  it('prints one line on stderr, nothing on stdout, exit 2', async () => {
    const dir = tempDir('spillsim-check-badmodule-');
    writeFileSync(join(dir, 'no-default.mjs'), 'export const spill = 1;\n');
    writeFileSync(join(dir, 'syntax.mjs'), 'export default function ( {\n');
    for (const [name, reason] of [
      ['no-default.mjs', 'its default export is undefined, not a factory function'],
      ['syntax.mjs', 'importing it failed: SyntaxError'],
    ]) {
      const run = await runBuiltCli(['check', '--backend', join(dir, name!), '--suite', 'ordering', '--runs', '5', '--seed', '1', '--no-example-db']);
      expect(run.code).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr.trim().split('\n')).toEqual([expect.stringContaining(reason!)]);
    }
  }, 60_000);
});

describe('spillsim check --backend and replay --backend with a factory that gives no backend', () => {
  it('names the factory at once (returned null; threw), never "a loop or a hang" after the time limit', async () => {
    const dir = tempDir('spillsim-check-factory-');
    writeFileSync(join(dir, 'returns-null.mjs'), 'export default () => null;\n');
    writeFileSync(join(dir, 'throws.mjs'), "export default () => { throw new Error('no disk'); };\n");
    const nulled = await runBuiltCli(['check', '--backend', join(dir, 'returns-null.mjs'), '--suite', 'ordering', '--runs', '20', '--seed', '7', '--no-example-db', '--quiet']);
    expect(nulled.code).toBe(1);
    expect(nulled.stdout).toContain('FAILED ordering: the factory of');
    expect(nulled.stdout).toContain('returned null, not a BytesSpill');
    expect(nulled.stdout).not.toContain('no answer within');
    const fixture = join(REPO_ROOT, 'fixtures/failures/ordering--broken-prefetch-out-of-order--2306aed1ec.json');
    const replayed = await runBuiltCli(['replay', fixture, '--variant', 'default', '--backend', join(dir, 'throws.mjs')]);
    expect(replayed.code).toBe(1);
    expect(replayed.stderr.trim().split('\n')).toEqual([expect.stringContaining('threw Error: no disk')]);
  }, 60_000);
});

describe('check --backend --time-limit', () => {
  it('splits the limit between the suites, as without a backend (each suite was given all of it)', async () => {
    const run = await runBuiltCli(['check', '--backend', 'fixtures/backends/memory.mjs', '--suite', 'ordering,no-stall,transparency', '--runs', '1000000', '--time-limit', '3', '--seed', '1', '--no-example-db', '--json']);
    const report = JSON.parse(run.stdout) as { suites: Array<{ suite: string; timeMs: number; interrupted: boolean }> };
    // A million runs each cannot finish: every suite runs until its share (about 1 s) is spent.
    for (const suite of report.suites) expect(suite.interrupted).toBe(true);
    const spentMs = report.suites.reduce((sum, s) => sum + s.timeMs, 0);
    expect(spentMs).toBeLessThan(3 * 1000 * 1.5);
    expect(run.code).toBe(0);
  }, 60_000);
});
