import { loadavg } from 'node:os';
import { runCampaign } from '../sim/campaign.js';
import { SimRng } from '../sim/rng.js';
import { chooseWorkloadShape } from '../sim/workload.js';
import { median } from './measure.js';
import type { BenchOptions, BenchResult } from './report.js';

/**
 * Benchmark 6: seeds per second of a campaign on 1 and on 2 worker threads, the same seeds in
 * the same run, alternating so load from elsewhere hits both alike. Pool start-up is included:
 * it is part of what a campaign costs.
 *
 * The campaign is long enough to be what a swarm runs (tens of thousands of seeds, seconds per
 * worker): each worker is a fresh V8 isolate that loads the modules and compiles the hot code
 * again (about 220 functions, a second of compiler work on a helper thread, while the first
 * ~10,000 seeds run slower than the rest), so a campaign of half a second measures warm-up, not
 * the pool. A short campaign is measured too and shown beside it.
 */

const SEED_FIRST = 1;
/** Seeds of the measured campaign: on one worker about 14 s here, so warm-up is a small part of it. */
const CAMPAIGN_SEEDS = 60_000;
/** Seeds of the short campaign shown beside it (about a quarter of a second: start-up and warm-up dominate). */
const SHORT_CAMPAIGN_SEEDS = 1_000;

type Campaign = typeof runCampaign;

/**
 * The first `count` seeds from `from` that the default swarm does not make deep runs of. A deep
 * run (1 seed in 1,024) is about 2,000 short seeds' worth of work in one piece, so one of them in
 * a sample of a thousand decides the wall time by itself and measures the sample's luck, not the
 * pool; a million-seed campaign holds a thousand of them and evens out.
 */
export function shortSeeds(from: number, count: number): number[] {
  const seeds: number[] = [];
  for (let seed = from; seeds.length < count; seed += 1) {
    if (!chooseWorkloadShape(new SimRng(seed).fork('workload'), { kind: 'single' }).deep) seeds.push(seed);
  }
  return seeds;
}

async function timeCampaign(campaign: Campaign, seeds: number[], workers: number, workerFile?: URL): Promise<{ seconds: number; coresBusy: number; hashes: string[]; failed: number }> {
  const cpuStart = process.cpuUsage();
  const start = process.hrtime.bigint();
  const results = await campaign({ seeds, workers, simOptions: {}, ...(workerFile === undefined ? {} : { workerFile }) });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  // CPU time of every thread of this process over wall time: how many cores the campaign got.
  const cpu = process.cpuUsage(cpuStart);
  const coresBusy = (cpu.user + cpu.system) / 1e6 / seconds;
  return { seconds, coresBusy, hashes: results.map((r) => r.traceHash), failed: results.filter((r) => !r.ok).length };
}

/** `campaign` is `runCampaign` (the smoke test passes one with a stand-in worker). */
export async function runCampaignScaling(options: BenchOptions, campaign: Campaign = runCampaign): Promise<BenchResult> {
  const seedCount = options.quick ? 40 : CAMPAIGN_SEEDS;
  const rounds = options.quick ? 1 : 2;
  const seeds = shortSeeds(SEED_FIRST, seedCount);
  const shortCampaign = seeds.slice(0, options.quick ? 20 : SHORT_CAMPAIGN_SEEDS);
  const shortPerWorkers = new Map<number, number[]>([[1, []], [2, []]]);
  const loadBefore = loadavg()[0]!;
  const perWorkers = new Map<number, number[]>([[1, []], [2, []]]);
  const coresBusy = new Map<number, number[]>([[1, []], [2, []]]);
  const perCpuSecond = new Map<number, number[]>([[1, []], [2, []]]);
  let reference: string[] | undefined;
  let mismatches = 0;
  let failed = 0;
  for (let round = 0; round < rounds; round += 1) {
    for (const workers of [1, 2]) {
      options.log(`campaign-scaling: round ${round + 1}/${rounds}, ${seedCount} seeds on ${workers} worker(s)`);
      const run = await timeCampaign(campaign, seeds, workers);
      perWorkers.get(workers)!.push(seedCount / run.seconds);
      coresBusy.get(workers)!.push(run.coresBusy);
      perCpuSecond.get(workers)!.push(seedCount / (run.coresBusy * run.seconds));
      reference ??= run.hashes;
      mismatches += run.hashes.filter((h, k) => h !== reference![k]).length;
      failed += run.failed;
    }
    for (const workers of [1, 2]) {
      options.log(`campaign-scaling: round ${round + 1}/${rounds}, short campaign of ${shortCampaign.length} seeds on ${workers} worker(s)`);
      const run = await timeCampaign(campaign, shortCampaign, workers);
      shortPerWorkers.get(workers)!.push(shortCampaign.length / run.seconds);
      mismatches += run.hashes.filter((h, k) => h !== reference![k]).length;
    }
  }
  // Two controls on the same pool: a worker that only burns CPU, and one that only allocates
  // short-lived objects, to show what this machine lets two workers do, whatever the simulator costs.
  const controlSeeds = seeds.slice(0, Math.min(seedCount, options.quick ? 40 : 200));
  const controlRatio = async (label: string, file: URL): Promise<number> => {
    const rates = new Map<number, number[]>([[1, []], [2, []]]);
    for (let round = 0; round < rounds; round += 1) {
      for (const workers of [1, 2]) {
        options.log(`campaign-scaling: control (${label}), round ${round + 1}/${rounds}, ${workers} worker(s)`);
        const run = await timeCampaign(campaign, controlSeeds, workers, file);
        rates.get(workers)!.push(controlSeeds.length / run.seconds);
      }
    }
    return median(rates.get(2)!) / median(rates.get(1)!);
  };
  const cpuControlRatio = await controlRatio('CPU loop worker', new URL('./cpu_bound_worker.js', import.meta.url));
  const allocControlRatio = await controlRatio('allocating worker', new URL('./alloc_bound_worker.js', import.meta.url));
  const loadAfter = loadavg()[0]!;
  const one = median(perWorkers.get(1)!);
  const two = median(perWorkers.get(2)!);
  return {
    name: 'campaign-scaling',
    title: '6. campaign scaling: seeds per second on worker threads',
    columns: ['workers', 'seeds/s', 'vs 1 worker', 'cores busy', 'seeds per CPU second'],
    rows: [1, 2].map((workers) => ({
      workers,
      'seeds/s': median(perWorkers.get(workers)!),
      'vs 1 worker': median(perWorkers.get(workers)!) / one,
      'cores busy': median(coresBusy.get(workers)!),
      'seeds per CPU second': median(perCpuSecond.get(workers)!),
    })),
    figures: [
      { name: 'campaign-2-vs-1', description: `seeds/s with 2 worker threads / with 1, a campaign of ${seedCount} seeds`, value: two / one, unit: 'ratio', target: { op: '>=', value: 1.6 } },
      {
        name: 'campaign-short-2-vs-1',
        description: `the same for a campaign of ${shortCampaign.length} seeds (each worker's start-up and JIT warm-up dominate)`,
        value: median(shortPerWorkers.get(2)!) / median(shortPerWorkers.get(1)!),
        unit: 'ratio',
      },
      { name: 'campaign-cores-busy-2', description: 'CPU seconds per wall second with 2 workers (2.0 = both cores; less means the machine gave it less)', value: median(coresBusy.get(2)!), unit: 'ratio' },
      {
        name: 'campaign-control-2-vs-1',
        description: 'the control: a worker that only burns CPU, 2 workers / 1 (what the machine allowed during this run)',
        value: cpuControlRatio,
        unit: 'ratio',
      },
      {
        name: 'campaign-alloc-control-2-vs-1',
        description: 'the second control: a worker that only allocates short-lived objects, 2 workers / 1 (what the memory system allowed)',
        value: allocControlRatio,
        unit: 'ratio',
      },
      {
        name: 'campaign-cpu-efficiency-2-vs-1',
        description: 'seeds per CPU second, 2 workers / 1 (near 1: the pool adds no work, so two free cores would give about 2x)',
        value: median(perCpuSecond.get(2)!) / median(perCpuSecond.get(1)!),
        unit: 'ratio',
      },
      { name: 'campaign-hash-mismatches', description: 'seeds whose trace hash differed between runs or worker counts (must be 0)', value: mismatches, unit: 'count', target: { op: '<=', value: 0 } },
      { name: 'campaign-failed-runs', description: 'runs that broke an invariant (default options, must be 0)', value: failed, unit: 'count' },
    ],
    notes: [
      `the first ${seedCount} seeds from ${SEED_FIRST} that are not deep runs (${seeds[seeds.length - 1]} the last; deep runs are benchmark 5's), default simulation options, ${rounds} round(s) alternating 1 and 2 workers, median seeds/s; pool start-up included.`,
      `short campaign: the first ${shortCampaign.length} of them, ${median(shortPerWorkers.get(1)!).toFixed(0)} seeds/s on 1 worker and ${median(shortPerWorkers.get(2)!).toFixed(0)} on 2.`,
      `1-minute load average ${loadBefore.toFixed(1)} before and ${loadAfter.toFixed(1)} after; the machine's cores are shared: two workers can only scale if a second core is free.`,
    ],
  };
}
