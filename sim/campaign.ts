import { Piscina } from 'piscina';
import { UsageError } from '../src/errors.js';
import type { CampaignTask, SimOptionsWithoutSeed } from './campaign_worker.js';
import type { SimRunResult } from './trace.js';

/**
 * Seeds per task sent to a worker. One seed per message makes the pool's messaging the
 * bottleneck for short runs; a few dozen amortize it while keeping progress updates frequent
 * and both workers busy until the end.
 */
const SEEDS_PER_TASK_MAX = 32;
/** Tasks per worker aimed at, so a slow batch at the end does not leave the other worker idle. */
const TASKS_PER_WORKER_MIN = 8;
/** Batches in flight per worker: one running, one queued so the worker never waits on the main thread. */
const LANES_PER_WORKER = 2;
/** A campaign larger than this would hold too many results at once; shard it across processes. */
export const CAMPAIGN_SEEDS_MAX = 10_000_000;

export interface CampaignOptions {
  seeds: readonly number[];
  /** Worker threads (≥ 1). Each runs whole simulations; results come back in seed order. */
  workers: number;
  /** Options for `runSimulation`, minus `seed` (each seed of `seeds` is set per run). */
  simOptions: SimOptionsWithoutSeed;
  /** Called once per finished run, in completion order (for progress bars and streaming output). */
  onResult?: (result: SimRunResult) => void;
  /**
   * Default true. False: results go only to `onResult` and the returned list is empty, so a long
   * campaign (a shard of a million seeds) holds only the batches in flight, not every result.
   */
  keepResults?: boolean;
  /** The worker module; defaults to the built `campaign_worker.js` beside this file. */
  workerFile?: URL;
}

/**
 * Run `runSimulation` for every seed on a pool of worker threads (piscina). Returns the results
 * in the order of `seeds`, whatever order the workers finish in, so a campaign's output is the
 * same for any number of workers.
 */
export async function runCampaign(options: CampaignOptions): Promise<SimRunResult[]> {
  const seeds = [...options.seeds];
  checkWorkers(options.workers);
  if (seeds.length > CAMPAIGN_SEEDS_MAX) {
    throw new UsageError(`a campaign of ${seeds.length} seeds is above ${CAMPAIGN_SEEDS_MAX}; split it with --shard i/N`);
  }
  const keepResults = options.keepResults ?? true;
  const results = new Array<SimRunResult | undefined>(keepResults ? seeds.length : 0);
  if (seeds.length === 0) return [];
  const pool = new Piscina<CampaignTask, SimRunResult[]>({
    filename: (options.workerFile ?? new URL('./campaign_worker.js', import.meta.url)).href,
    minThreads: options.workers,
    maxThreads: options.workers,
    idleTimeout: 1_000,
  });
  const batches = batchRanges(seeds.length, options.workers);
  let nextBatch = 0;
  let failed = false;
  // Batches finish in any order; results are handed on in seed order, so a campaign prints the
  // same lines whatever the timing. At most the batches in flight wait here.
  const finished = new Map<number, SimRunResult[]>();
  let nextToEmit = 0;
  const emitInOrder = (): void => {
    for (let batch = finished.get(nextToEmit); batch !== undefined; batch = finished.get(nextToEmit)) {
      finished.delete(nextToEmit);
      const [start] = batches[nextToEmit]!;
      for (let k = 0; k < batch.length; k += 1) {
        if (keepResults) results[start + k] = batch[k]!;
        options.onResult?.(batch[k]!);
      }
      nextToEmit += 1;
    }
  };
  // A few lanes per worker pull batches in order: each worker always has the next batch waiting,
  // and only that many batches are ever in flight, however long the campaign.
  const lane = async (): Promise<void> => {
    while (!failed && nextBatch < batches.length) {
      const index = nextBatch;
      const [start, end] = batches[index]!;
      nextBatch += 1;
      const batch = await pool.run({ seeds: seeds.slice(start, end), simOptions: options.simOptions });
      if (!Array.isArray(batch) || batch.length !== end - start) {
        throw new Error(`campaign worker returned ${Array.isArray(batch) ? batch.length : 'no'} results for ${end - start} seeds`);
      }
      finished.set(index, batch);
      emitInOrder();
    }
  };
  try {
    await Promise.all(
      Array.from({ length: Math.min(batches.length, LANES_PER_WORKER * options.workers) }, () =>
        lane().catch((error: unknown) => {
          failed = true;
          throw error;
        }),
      ),
    );
  } finally {
    await pool.destroy();
  }
  return results as SimRunResult[];
}

/** `[start, end)` index ranges covering `count` seeds, in order, sized for `workers` threads. */
export function batchRanges(count: number, workers: number): Array<[number, number]> {
  const size = Math.max(1, Math.min(SEEDS_PER_TASK_MAX, Math.ceil(count / (workers * TASKS_PER_WORKER_MIN))));
  const ranges: Array<[number, number]> = [];
  for (let start = 0; start < count; start += size) ranges.push([start, Math.min(count, start + size)]);
  return ranges;
}

/**
 * Most worker threads a campaign starts: one range on every machine (the command line's
 * `--workers` says the same), far above the cores a machine has, so it only stops typos.
 */
export const WORKERS_MAX = 64;

function checkWorkers(workers: number): void {
  if (!Number.isSafeInteger(workers) || workers < 1 || workers > WORKERS_MAX) {
    throw new UsageError(`--workers must be a whole number from 1 to ${WORKERS_MAX}, got ${String(workers)}`);
  }
}

/** One slice of a campaign: the `index`-th (1-based) of `count`. */
export interface Shard {
  index: number;
  count: number;
}

/** Parse `i/N` (1 ≤ i ≤ N), as in `--shard 3/8`; anything else is a usage error. */
export function parseShard(text: string): Shard {
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (match === null) throw new UsageError(`--shard must look like i/N (for example 2/8), got '${text}'`);
  const index = Number(match[1]);
  const count = Number(match[2]);
  if (count < 1) throw new UsageError(`--shard ${text}: N must be at least 1`);
  if (!Number.isSafeInteger(count)) throw new UsageError(`--shard ${text}: N must be a whole number from 1 to ${Number.MAX_SAFE_INTEGER}`);
  if (!Number.isSafeInteger(index) || index < 1 || index > count) {
    throw new UsageError(`--shard ${text}: i must be from 1 to ${count} (shards are numbered from 1)`);
  }
  return { index, count };
}

/**
 * The `index`-th (1-based) of `count` contiguous slices of `seeds`. Slices differ in size by
 * at most one seed; together they hold every seed exactly once, in order, and depend on
 * nothing but the arguments, so machines that never talk to each other split a campaign.
 */
export function shardSeeds<T>(seeds: readonly T[], index: number, count: number): T[] {
  if (!Number.isSafeInteger(count) || count < 1 || !Number.isSafeInteger(index) || index < 1 || index > count) {
    throw new UsageError(`shard ${index}/${count} does not exist: need 1 ≤ i ≤ N`);
  }
  const start = Math.floor(((index - 1) * seeds.length) / count);
  const end = Math.floor((index * seeds.length) / count);
  return seeds.slice(start, end);
}
