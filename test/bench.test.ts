import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runCampaignScaling } from '../bench/campaign_scaling.js';
import { runExtendCost } from '../bench/extend_cost.js';
import { runSimSpeed } from '../bench/sim_speed.js';
import captureOpScripts from '../bench/op_script_worker.js';
import { runCampaign } from '../sim/campaign.js';
import { measureRates, median, speedRatio } from '../bench/measure.js';
import { formatResult, formatTable, holds, missFactor, type Figure } from '../bench/report.js';
import { runSpillPath } from '../bench/spill_path.js';
import { runProcessProtocol } from '../bench/process_protocol.js';
import { ensureBuilt } from './support/built_cli.js';
import { buildRustExample } from './support/rust_example.js';
import { runSpillStress } from '../bench/spill_stress.js';
import { runStressCase, type StressCase, type StressOutcome } from '../bench/spill_stress_case.js';

// The stress case forces full GCs for its baseline and its after-drain figures; expose gc here.
setFlagsFromString('--expose-gc');
(globalThis as { gc?: unknown }).gc ??= runInNewContext('gc');

const quiet = { quick: true, log: () => {} };
const KiB = 1024;

describe('ratio math', () => {
  it('takes the median of odd and even lists', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(Number.isNaN(median([]))).toBe(true);
  });

  it('says whether a figure holds and by how much it misses', () => {
    const atLeast: Figure = { name: 'a', description: '', value: 0.4, unit: 'ratio', target: { op: '>=', value: 0.8 } };
    const atMost: Figure = { name: 'b', description: '', value: 3, unit: 'ratio', target: { op: '<=', value: 1.5 } };
    expect(holds(atLeast)).toBe(false);
    expect(missFactor(atLeast)).toBeCloseTo(2);
    expect(holds(atMost)).toBe(false);
    expect(missFactor(atMost)).toBeCloseTo(2);
    expect(holds({ ...atMost, value: 1.5 })).toBe(true);
    expect(missFactor({ ...atMost, value: 1 })).toBe(1);
    expect(holds({ ...atMost, target: undefined })).toBeUndefined();
    expect(speedRatio(300, 200)).toBe(1.5);
  });

  it('prints a table with aligned columns and a verdict per figure', () => {
    const table = formatTable(['case', 'rate'], [{ case: 'queue', rate: 1234567 }, { case: 'array', rate: 0.5 }]);
    expect(table.split('\n')).toEqual(['case        rate', '-----  ---------', 'queue  1,234,567', 'array       0.50']);
    const text = formatResult({ name: 'x', title: 'X', columns: ['case'], rows: [], notes: [], figures: [{ name: 'f', description: 'd', value: 0.4, unit: 'ratio', target: { op: '>=', value: 0.8 } }] });
    expect(text).toContain('f: 0.40×  d  target >= 0.80×  MISSED (by 2.00×)');
  });
});

describe('measureRates', () => {
  it('interleaves the cases round by round, times only run, and counts the units done', () => {
    const order: string[] = [];
    const make = (name: string, units: number) => ({
      name,
      prepare: () => {
        order.push(`${name}:prepare`);
        return units;
      },
      run: (n: number) => n,
      finish: () => order.push(`${name}:finish`),
    });
    const rates = measureRates([make('a', 3), make('b', 5)], { warmupRounds: 1, rounds: 2, roundMs: 0.001 });
    expect(rates.map((r) => r.name)).toEqual(['a', 'b']);
    expect(rates[0]!.roundUnitsPerSecond).toHaveLength(2);
    expect(rates.every((r) => r.unitsPerSecond > 0 && r.typicalUnitsPerSecond > 0)).toBe(true);
    expect(rates[0]!.unitsTimed % 3).toBe(0);
    expect(rates[1]!.unitsTimed % 5).toBe(0);
    // a's batches of round 1 all come before b's, and b's before a's of round 2.
    const firstB = order.indexOf('b:prepare');
    expect(order.slice(0, firstB).every((s) => s === 'a:prepare')).toBe(true);
    expect(order.slice(-2)).toEqual(['a:finish', 'b:finish']);
  });
});

describe('benchmarks on small sizes', () => {
  it('extend-cost measures both policies, both modes, at three queue lengths', async () => {
    const result = await runExtendCost(quiet);
    expect(result.rows).toHaveLength(12);
    expect(result.figures.map((f) => f.name)).toEqual([
      'fast-spill-slowdown-5000-vs-100',
      'fast-spill-typical-slowdown-5000-vs-100',
      'fast-vs-reference-spill-5000',
      'fast-no-spill-slowdown-5000-vs-100',
      'fast-no-spill-typical-slowdown-5000-vs-100',
      'fast-vs-reference-no-spill-5000',
    ]);
    for (const f of result.figures) expect(Number.isFinite(f.value) && f.value > 0).toBe(true);
  });

  it('spill-path delivers every byte and counts reads and held memory per read mode', async () => {
    const result = await runSpillPath(quiet);
    const figure = (name: string) => result.figures.find((f) => f.name === name)!;
    // Counts, not timings: each chunk is read exactly once in both modes on this happy path…
    expect(figure('read-amplification-chunk').value).toBe(1);
    expect(figure('read-amplification-batch').value).toBe(1);
    // …but a batch-mode view pins its whole 16-chunk batch, so the queue holds more.
    expect(figure('peak-held-batch-vs-chunk').value).toBeGreaterThan(2);
    expect(figure('spill-vs-raw-256k').value).toBeGreaterThan(0);
  });
});

describe('process protocol', () => {
  it('process-protocol moves the bytes through each child and compares them with the same pipe figures', async () => {
    await ensureBuilt(); // the Node adapter imports spillsim from dist/
    buildRustExample();
    const result = await runProcessProtocol(quiet);
    expect(result.rows.map((r) => r.child)).toEqual(['(pipe)', 'rust-memory', 'rust-memory-batch-by-batch', 'rust-file', 'node-memory']);
    expect(result.figures.filter((f) => f.target !== undefined).map((f) => f.name)).toEqual(['protocol-vs-pipe-rust-memory']);
    for (const figure of result.figures) expect(figure.value).toBeGreaterThan(0);
  }, 120_000);
});

describe('spill stress', () => {
  const tiny = (spill: boolean, pattern: StressCase['pattern']): StressCase => ({
    spill,
    pattern,
    totalBytes: 4 * 1024 * KiB,
    chunkBytes: 64 * KiB,
    thresholdBytes: 512 * KiB,
    headReserveBytes: 256 * KiB,
    prefetchBudgetBytes: 128 * KiB,
    chunksPerRound: 24,
  });

  it.each(['push-all-then-drain', 'interleaved'] as const)('spills, bounds the resident bytes and gives every byte back (%s)', (pattern) => {
    const c = tiny(true, pattern);
    const outcome = runStressCase(c);
    expect(outcome.checksumMatches).toBe(true);
    expect(outcome.deliveredBytes).toBe(c.totalBytes);
    expect(outcome.spilledBytes).toBeGreaterThan(0);
    expect(outcome.storedBytesAfter).toBe(0);
    expect(outcome.peakQueueResidentBytes).toBeLessThanOrEqual(c.thresholdBytes + c.headReserveBytes + c.prefetchBudgetBytes + c.chunkBytes);
  });

  it('holds everything without spilling', () => {
    const c = tiny(false, 'push-all-then-drain');
    const outcome = runStressCase(c);
    expect(outcome.checksumMatches).toBe(true);
    expect(outcome.spilledBytes).toBe(0);
    expect(outcome.peakQueueResidentBytes).toBe(c.totalBytes);
  });

  it('refuses to report figures when a case lost bytes', async () => {
    const lossy = (c: StressCase): StressOutcome => ({ ...runStressCase({ ...c, totalBytes: 1024 * KiB, chunkBytes: 64 * KiB }), checksumMatches: false });
    await expect(runSpillStress(quiet, lossy)).rejects.toThrow(/every byte must come back/);
  });
});

describe('harness speed and campaign scaling', () => {
  it('sim-speed counts simulated steps and fast-check commands and relates them to bare queue operations', async () => {
    // Worker threads load the built JavaScript, which may be stale here: capture in this thread.
    const result = await runSimSpeed(quiet, async (seeds) => captureOpScripts({ seeds }));
    const figure = (name: string) => result.figures.find((f) => f.name === name)!.value;
    for (const name of ['sim-steps-per-second', 'sim-steps-per-second-any', 'fc-commands-per-second']) expect(figure(name)).toBeGreaterThan(0);
    // The simulator does far more per operation than the bare queue does, and more than the same operations replayed.
    expect(figure('sim-overhead')).toBeGreaterThan(1);
    expect(figure('sim-overhead-same-ops')).toBeGreaterThan(1);
  });

  it('campaign-scaling runs the same seeds on 1 and 2 workers and checks their hashes agree', async () => {
    // A stand-in worker (worker threads load JavaScript; the real one is built into dist/).
    const dir = mkdtempSync(join(tmpdir(), 'spillsim-bench-campaign-'));
    const file = join(dir, 'worker.mjs');
    writeFileSync(file, `export default ({ seeds }) => seeds.map((seed) => ({ seed, ok: true, traceHash: 'h' + seed, steps: 1 }));\n`);
    const withStandIn: typeof runCampaign = (o) => runCampaign({ ...o, workerFile: pathToFileURL(file) });
    const result = await runCampaignScaling(quiet, withStandIn);
    expect(result.figures.find((f) => f.name === 'campaign-hash-mismatches')!.value).toBe(0);
    expect(result.figures.find((f) => f.name === 'campaign-2-vs-1')!.value).toBeGreaterThan(0);
    expect(result.rows).toHaveLength(2);
  });
});
