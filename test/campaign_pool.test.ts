import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCampaign } from '../sim/campaign.js';
import runCampaignTask from '../sim/campaign_worker.js';
import { runSimulation } from '../sim/run.js';
import type { SimRunResult } from '../sim/trace.js';
import { UsageError } from '../cli/usage_error.js';

// Worker threads load JavaScript, and under vitest the built worker may be stale or absent; so
// the pool is tested with a small stand-in worker (same task shape, scrambled finishing order),
// and the real worker's body is tested in this thread against runSimulation.
const dir = mkdtempSync(join(tmpdir(), 'spillsim-campaign-'));
const fakeWorker = join(dir, 'fake_worker.mjs');
writeFileSync(
  fakeWorker,
  `export default async function ({ seeds, simOptions }) {
  if (seeds.includes(666)) throw new Error('worker broke on seed 666');
  // Later batches finish first, so results arrive out of seed order.
  await new Promise((resolve) => setTimeout(resolve, 30 - (seeds[0] % 30)));
  return seeds.map((seed) => ({ seed, ok: seed % 7 !== 0, traceHash: 'h' + seed + (simOptions.variant ?? ''), steps: seed }));
}
`,
);
const workerFile = pathToFileURL(fakeWorker);

describe('runCampaign', () => {
  it.each([1, 2])('returns results in seed order with %i worker(s), and reports each one once', async (workers) => {
    const seeds = Array.from({ length: 150 }, (_, k) => 1000 - 3 * k);
    const seen: number[] = [];
    const results = await runCampaign({ seeds, workers, simOptions: { variant: 'reference' }, workerFile, onResult: (r) => seen.push(r.seed) });
    expect(results.map((r) => r.seed)).toEqual(seeds);
    expect(results[0]!.traceHash).toBe('h1000reference');
    expect(results.filter((r) => !r.ok).map((r) => r.seed)).toEqual(seeds.filter((s) => s % 7 === 0));
    // Handed on in seed order, whatever order the batches finish in, so output never depends on timing.
    expect(seen).toEqual(seeds);
  });

  it('streams results without keeping them when keepResults is false', async () => {
    const seeds = Array.from({ length: 40 }, (_, k) => k);
    const seen: number[] = [];
    const results = await runCampaign({ seeds, workers: 2, simOptions: {}, workerFile, keepResults: false, onResult: (r) => seen.push(r.seed) });
    expect(results).toEqual([]);
    expect(seen).toEqual(seeds);
  });

  it('returns nothing for no seeds', async () => {
    expect(await runCampaign({ seeds: [], workers: 2, simOptions: {}, workerFile })).toEqual([]);
  });

  it('rejects when a worker throws, naming the error', async () => {
    await expect(runCampaign({ seeds: [1, 2, 666, 3], workers: 2, simOptions: {}, workerFile })).rejects.toThrow(/seed 666/);
  });

  it.each([0, -1, 1.5, Number.NaN, 10_000])('rejects %s workers as a usage error', async (workers) => {
    await expect(runCampaign({ seeds: [1], workers, simOptions: {}, workerFile })).rejects.toBeInstanceOf(UsageError);
  });
});

describe('the campaign worker', () => {
  it('runs each seed of its batch through runSimulation with the shared options', () => {
    const simOptions = { faults: 'swarm' as const };
    const batch: SimRunResult[] = runCampaignTask({ seeds: [3, 1, 2], simOptions });
    expect(batch.map((r) => r.seed)).toEqual([3, 1, 2]);
    for (const result of batch) expect(result.traceHash).toBe(runSimulation({ ...simOptions, seed: result.seed }).traceHash);
    // The results cross a thread boundary: they must survive structured cloning unchanged.
    expect(structuredClone(batch)).toEqual(batch);
  });
});
