import { runSuite } from '../properties/index.js';
import { SimRng } from '../sim/rng.js';
import { runSimulation } from '../sim/run.js';
import { chooseWorkloadShape } from '../sim/workload.js';
import { Buzzer, Bytes, MergeQueue } from '../src/index.js';
import { type AnyTimedCase, measureRates, type MeasureOptions, rateOf, type TimedCase } from './measure.js';
import type { BenchOptions, BenchResult } from './report.js';

/**
 * Benchmark 5: how fast the harness explores, single-threaded. Simulated queue operations per
 * second (every step is one queue operation, every invariant checked after it) and fast-check
 * commands per second of a model suite, each also as a ratio to bare queue operations measured
 * in the same run (what the simulator and the model checks cost on top of the queue itself).
 */

/** First seed of the benchmark's stream; successive batches take the following seeds. */
const SEED_FIRST = 1;
/** Model suite whose command rate is measured; `ordering` mixes extends, drains, spills and fetch failures. */
const SUITE = 'ordering';
const SUITE_RUNS_PER_BATCH = 20;

/** Seeds whose run broke an invariant: their steps still count (they were simulated), and they are reported. */
type FailedSeeds = Array<{ seed: number; workload: string; message: string }>;

function simulationCase(name: string, workload: 'single' | 'any', failed: FailedSeeds): TimedCase<number> {
  let seed = SEED_FIRST;
  return {
    name,
    prepare: () => seed++,
    run: (s) => {
      const result = runSimulation({ seed: s, workload });
      if (!result.ok) failed.push({ seed: s, workload, message: result.violation?.message ?? 'no violation reported' });
      return result.steps;
    },
  };
}

/** The first `count` seeds from `from` that the default swarm makes deep runs of the single workload (100k-200k operations each). */
export function deepSeeds(from: number, count: number): number[] {
  const seeds: number[] = [];
  for (let seed = from; seeds.length < count; seed += 1) {
    // The draw runSimulation makes: the seed's root stream, its `workload` fork.
    if (chooseWorkloadShape(new SimRng(seed).fork('workload'), { kind: 'single' }).deep) seeds.push(seed);
  }
  return seeds;
}

/** The swarm's deep runs, one after another: the simulator's speed per operation once a run's set-up no longer counts. */
function deepCase(failed: FailedSeeds): TimedCase<number> {
  const seeds = deepSeeds(SEED_FIRST, 64);
  let next = 0;
  return {
    name: 'deep',
    prepare: () => seeds[next++ % seeds.length]!,
    run: (s) => {
      const result = runSimulation({ seed: s, workload: 'single' });
      if (!result.ok) failed.push({ seed: s, workload: 'single (deep)', message: result.violation?.message ?? 'no violation reported' });
      return result.steps;
    },
  };
}

/** The same kind of step without the simulator: one extend or one drain of a small queue. */
function bareQueueCase(): TimedCase<Bytes[]> {
  const [writer, reader] = MergeQueue.newPair(new Buzzer());
  const out: Bytes[] = [];
  return {
    name: 'bare',
    prepare: () => Array.from({ length: 256 }, () => Bytes.from(new Uint8Array(64))),
    run: (chunks) => {
      for (let k = 0; k < chunks.length; k += 2) {
        writer.extend([chunks[k]!, chunks[k + 1]!]);
        reader.drainInto(out);
        out.length = 0;
      }
      return chunks.length;
    },
  };
}

export async function runSimSpeed(options: BenchOptions): Promise<BenchResult> {
  const measure: MeasureOptions = options.quick ? { warmupRounds: 1, rounds: 3, roundMs: 100 } : { warmupRounds: 1, rounds: 5, roundMs: 1_000 };
  options.log('sim-speed: simulated steps (single queue, and any workload) and bare queue operations');
  const failed: FailedSeeds = [];
  const rates = measureRates([deepCase(failed), simulationCase('single', 'single', failed), simulationCase('any', 'any', failed), bareQueueCase()] as AnyTimedCase[], measure);


  options.log(`sim-speed: fast-check commands of the ${SUITE} suite`);
  let suiteSeed = SEED_FIRST;
  // runSuite is async (fast-check's asyncProperty), so it is timed here rather than in measureRates.
  const suiteRates: number[] = [];
  let commandsTimed = 0;
  for (let round = 0; round < measure.warmupRounds + measure.rounds; round += 1) {
    let commands = 0;
    let elapsedNs = 0n;
    while (elapsedNs < BigInt(measure.roundMs * 1e6)) {
      const seed = suiteSeed++;
      const start = process.hrtime.bigint();
      const result = await runSuite(SUITE, { runs: SUITE_RUNS_PER_BATCH, seed });
      elapsedNs += process.hrtime.bigint() - start;
      if (!result.ok) failed.push({ seed, workload: `suite ${SUITE}`, message: result.failure?.violation.message ?? 'failed' });
      commands += result.commands;
    }
    if (round >= measure.warmupRounds) {
      suiteRates.push((commands * 1e9) / Number(elapsedNs));
      commandsTimed += commands;
    }
  }
  suiteRates.sort((a, b) => a - b);
  const commandsPerSecond = suiteRates[suiteRates.length >> 1]!;

  // The same seed can fail in several rounds; report each once.
  const failedOnce = [...new Map(failed.map((f) => [`${f.workload}/${f.seed}`, f])).values()];
  const bare = rateOf(rates, 'bare');
  const single = rateOf(rates, 'single');
  const any = rateOf(rates, 'any');
  const deep = rateOf(rates, 'deep');
  return {
    name: 'sim-speed',
    title: '5. simulation and property-test speed (single-threaded)',
    columns: ['what', 'per second', 'bare queue ops per one of these'],
    rows: [
      { what: 'simulated queue operations, single queue, deep runs, invariants on', 'per second': deep, 'bare queue ops per one of these': bare / deep },
      { what: 'simulated queue operations, single queue, every seed, invariants on', 'per second': single, 'bare queue ops per one of these': bare / single },
      { what: 'simulated queue operations, any workload, invariants on', 'per second': any, 'bare queue ops per one of these': bare / any },
      { what: `fast-check commands, ${SUITE} suite (model checked after each)`, 'per second': commandsPerSecond, 'bare queue ops per one of these': bare / commandsPerSecond },
      { what: 'bare queue operations (extend or drainInto, 64 B chunks)', 'per second': bare, 'bare queue ops per one of these': 1 },
    ],
    figures: [
      {
        name: 'sim-steps-per-second',
        description: 'simulated queue operations per second, single queue, the default swarm\'s deep runs (100k-200k operations each), all invariants on',
        value: deep,
        unit: 'count',
        target: { op: '>=', value: 1_000_000 },
      },
      { name: 'sim-steps-per-second-seeds', description: 'simulated queue operations per second, single queue, seeds 1, 2, 3, ... of the default swarm (mostly short runs: set-up included)', value: single, unit: 'count' },
      { name: 'sim-steps-per-second-any', description: 'simulated queue operations per second, workload picked by the seed (single, mesh, cluster)', value: any, unit: 'count' },
      { name: 'fc-commands-per-second', description: `fast-check commands per second, ${SUITE} suite`, value: commandsPerSecond, unit: 'count' },
      { name: 'sim-failed-runs', description: 'simulation seeds and suite runs that broke an invariant while being timed (listed in the notes)', value: failedOnce.length, unit: 'count', target: { op: '<=', value: 0 } },
      {
        name: 'sim-overhead',
        description: 'bare queue operations per simulated operation in the deep runs (cost of the workload, storage, faults, scheduler, hash and invariants)',
        value: bare / deep,
        unit: 'ratio',
        target: { op: '<=', value: 10 },
      },
      { name: 'sim-overhead-seeds', description: 'the same over seeds 1, 2, 3, ... (short runs: each run\'s set-up included)', value: bare / single, unit: 'ratio' },
    ],
    notes: [
      `simulation: runSimulation with default options on seeds from ${SEED_FIRST} up, and on the seeds the default swarm makes deep (${deepSeeds(SEED_FIRST, 3).join(', ')}, ...), steps counted from each result; median of ${measure.rounds} interleaved rounds of ${measure.roundMs} ms.`,
      `fast-check: runSuite('${SUITE}', { runs: ${SUITE_RUNS_PER_BATCH} }) on successive seeds, ${commandsTimed} commands timed; median of ${measure.rounds} rounds.`,
      ...failedOnce.slice(0, 5).map((f) => `FAILED: seed ${f.seed} (${f.workload}): ${f.message}`),
    ],
  };
}
