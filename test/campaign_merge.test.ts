import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mergeRuns, readRuns } from '../cli/commands/merge.js';
import { Command } from 'commander';
import { registerMerge } from '../cli/commands/merge.js';
import { UsageError } from '../cli/usage_error.js';
import type { SimRunResult } from '../sim/trace.js';

const dir = mkdtempSync(join(tmpdir(), 'spillsim-merge-'));

function run(seed: number, ok = true, traceHash = `h${seed}`): SimRunResult {
  return ok
    ? { seed, ok, traceHash, steps: 10 }
    : { seed, ok, traceHash, steps: 7, violation: { invariant: 'no-loss', message: 'byte 3 lost', step: 6 }, replay: `spillsim sim --seed ${seed}` };
}

function shardFile(name: string, runs: SimRunResult[]): string {
  const file = join(dir, name);
  writeFileSync(file, runs.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return file;
}

async function merge(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true));
  try {
    // The same mapping as src/cli/main.ts (which loads package.json from dist/, so runs only built).
    const result = { exitCode: 0 };
    const program = new Command('spillsim').exitOverride();
    registerMerge(program, result);
    try {
      await program.parseAsync(['node', 'spillsim', 'merge', ...args]);
      return { code: result.exitCode, out, err };
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      process.stderr.write(`spillsim: ${error.message}\n`);
      return { code: 2, out, err };
    }
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

afterEach(() => vi.restoreAllMocks());

describe('spillsim merge', () => {
  it('combines passing shards into one summary and exits 0', async () => {
    const a = shardFile('a.jsonl', [run(1), run(2), run(3)]);
    const b = shardFile('b.jsonl', [run(4), run(5)]);
    const outFile = join(dir, 'summary.json');
    const { code, out } = await merge(a, b, '-o', outFile);
    expect(code).toBe(0);
    expect(out).toContain('5 seeds run, 5 passed, 0 failed');
    const summary = JSON.parse(readFileSync(outFile, 'utf8'));
    expect(summary).toMatchObject({ seedsRun: 5, passed: 5, failed: 0, missingCount: 0, ok: true });
  });

  it('lists a failed run with its replay command and exits 1', async () => {
    const a = shardFile('fail-a.jsonl', [run(1), run(2, false)]);
    const b = shardFile('fail-b.jsonl', [run(3)]);
    const { code, out } = await merge(a, b);
    expect(code).toBe(1);
    expect(out).toContain('FAIL seed 2');
    expect(out).toContain('no-loss at step 6');
    expect(out).toContain('replay: spillsim sim --seed 2');
  });

  it('reports seeds no shard ran, against --expect or the gaps between seeds', async () => {
    const a = shardFile('gap-a.jsonl', [run(1), run(2)]);
    const b = shardFile('gap-b.jsonl', [run(5)]);
    const gaps = await merge(a, b, '--json');
    expect(gaps.code).toBe(1);
    expect(JSON.parse(gaps.out)).toMatchObject({ missing: [[3, 4]], missingCount: 2, ok: false });
    const expected = await merge(a, b, '--expect', '1..7');
    expect(expected.code).toBe(1);
    expect(expected.out).toContain('seeds 3..4, 6..7');
  });

  it('tells a harmless overlap from two shards that disagree about a seed', () => {
    const same = mergeRuns([
      { file: 'a', runs: [run(1), run(2)] },
      { file: 'b', runs: [run(2), run(3)] },
    ]);
    expect(same.duplicates).toEqual([{ seed: 2, count: 2, files: ['a', 'b'], conflicting: false }]);
    expect(same.seedsRun).toBe(3);
    expect(same.ok).toBe(true);
    const differ = mergeRuns([
      { file: 'a', runs: [run(1), run(2)] },
      { file: 'b', runs: [run(2, true, 'other-hash')] },
    ]);
    expect(differ.duplicates[0]!.conflicting).toBe(true);
    expect(differ.ok).toBe(false);
  });

  it('reads a JSON array as well as JSON lines', () => {
    const file = join(dir, 'array.json');
    writeFileSync(file, JSON.stringify([run(7), run(8)], null, 2));
    expect(readRuns(file).map((r) => r.seed)).toEqual([7, 8]);
  });

  it('exits 2 with one line for a missing file, bad JSON, a non-run line or a bad range', async () => {
    const missing = await merge(join(dir, 'nope.jsonl'));
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/^spillsim: cannot read .*nope\.jsonl: no such file or directory\n$/);

    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, `${JSON.stringify(run(1))}\n{not json\n`);
    const badJson = await merge(bad);
    expect(badJson.code).toBe(2);
    expect(badJson.err).toContain('bad.jsonl line 2 is not valid JSON');

    const notRun = join(dir, 'notrun.jsonl');
    writeFileSync(notRun, '{"hello": 1}\n');
    const notRunResult = await merge(notRun);
    expect(notRunResult.code).toBe(2);
    expect(notRunResult.err).toContain('is not a run result');

    const range = await merge(shardFile('r.jsonl', [run(1)]), '--expect', '9..3');
    expect(range.code).toBe(2);
    expect(range.err.trim().split('\n')).toHaveLength(1);
  });
});

describe('mergeRuns with overlapping shards', () => {
  it('counts a seed as failed when any of its runs failed, whichever file came first', () => {
    const summary = mergeRuns([
      { file: 'a', runs: [run(1), run(2)] },
      { file: 'b', runs: [run(2, false)] },
    ]);
    expect(summary.failed).toBe(1);
    expect(summary.failures[0]).toMatchObject({ seed: 2, file: 'b', invariant: 'no-loss' });
    expect(summary.duplicates[0]!.conflicting).toBe(true);
  });
});
