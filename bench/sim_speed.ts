import { runSuite } from '../properties/index.js';
import { SimRng } from '../sim/rng.js';
import { runSimulation, type SimRunStats } from '../sim/run.js';
import type { SimRunResult } from '../sim/trace.js';
import { chooseWorkloadShape, DEEP_OPS_MIN, type PolicyKnobs } from '../sim/workload.js';
import { Buzzer, Bytes, MergeQueue } from '../src/index.js';
import { Piscina } from 'piscina';
import { type CapturedScript, OpScriptReplay } from './op_script.js';
import type { CaptureTask } from './op_script_worker.js';
import { type AnyTimedCase, measureRates, type MeasureOptions, median, rateOf, type TimedCase } from './measure.js';
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

/** Deep seeds timed, each run once: the same work in every run of the benchmark, whatever its speed. */
const DEEP_SEEDS_TIMED = 32;
/** Bare queue operations timed after each deep seed, in milliseconds (interleaved, so load hits both alike). */
const BARE_MS_PER_DEEP_SEED = 150;
/** Short seeds run first, untimed, so the JIT has compiled the simulator before the deep seeds. */
const WARMUP_SHORT_SEEDS = 500;
/** Of those, the seeds whose scripts are also replayed untimed, so the JIT has compiled the replay too. */
const WARMUP_REPLAY_SEEDS = 100;
/** Memory the replays cut their chunks from (a deep run's longest run of merging chunks is at most 256 KiB). */
const REPLAY_MEMORY_BYTES = 4 << 20;

interface DeepRate {
  /** All operations of the timed seeds over all their time. */
  opsPerSecond: number;
  ops: number;
  seconds: number;
  /** Median of the bare rates measured between the seeds. */
  bareOpsPerSecond: number;
  /** The slowest seed, which weighs most in the figure. */
  slowest: { seed: number; opsPerSecond: number };
  /** The same seeds' queue operations replayed outside the simulator, timed between the simulated runs. */
  replay: SameOpsRate;
}

interface SameOpsRate {
  /** `extend` and `drainInto` calls of all the scripts over all their replay time (each script's time: the mean of its two replays). */
  opsPerSecond: number;
  ops: number;
  seconds: number;
  /** Time of the simulated runs over time of the replays of their scripts: what a simulated operation costs, in replayed ones. */
  simulatedPerReplayed: number;
  /** Bytes the writer policy spilled to storage, over all the timed seeds: in the simulated runs (faults on) and in one replay of each (none). */
  simulatedSpilledBytes: number;
  replayedSpilledBytes: number;
  /** The seeds of at least `DEEP_OPS_MIN / 2` operations with the lowest and the highest `simulatedPerReplayed` of their own. */
  cheapest: { seed: number; simulatedPerReplayed: number };
  dearest: { seed: number; simulatedPerReplayed: number };
}

/**
 * The swarm's deep runs: the first `DEEP_SEEDS_TIMED` deep seeds of the single workload, each run
 * once after a warm-up on short seeds, every operation over all the time (a fixed set: a sample chosen by
 * time would run other seeds as the simulator got faster). Seeds differ by 10x per operation (an
 * extend of up to 8 chunks, each spilled and fetched, against one of 1), so the figure is their
 * sum, not a median of rounds.
 *
 * Each seed's queue operations are also captured (a separate, untimed run whose trace hash must
 * equal the timed run's) and replayed on a plain queue with the same policies and storage engine
 * (`OpScriptReplay`), once before and once after the timed simulated run, in turn with it.
 */
async function measureDeep(bare: TimedCase<Bytes[]>, failed: FailedSeeds, count: number, bareMs: number, capture: ScriptCapture): Promise<DeepRate> {
  const timed = deepSeeds(SEED_FIRST, count);
  const memory = new Uint8Array(REPLAY_MEMORY_BYTES).fill(0x5a);
  // Warm-up on short seeds, so no deep seed is left out of the figure.
  for (let seed = SEED_FIRST; seed < SEED_FIRST + WARMUP_SHORT_SEEDS; seed += 1) runSimulation({ seed, workload: 'single' });
  const warmups = await capture(Array.from({ length: WARMUP_REPLAY_SEEDS }, (_, k) => SEED_FIRST + k));
  for (const { result, script } of warmups) for (let k = 0; k < 3; k += 1) new OpScriptReplay(script, knobsOf(result), memory).run();
  let ops = 0;
  let ns = 0n;
  let replayOps = 0;
  let replayNs = 0n;
  let simulatedSpilledBytes = 0;
  let replayedSpilledBytes = 0;
  const bareRates: number[] = [];
  let slowest = { seed: 0, opsPerSecond: Number.POSITIVE_INFINITY };
  let cheapest = { seed: 0, simulatedPerReplayed: Number.POSITIVE_INFINITY };
  let dearest = { seed: 0, simulatedPerReplayed: 0 };
  for (const seed of timed) {
    const [captured] = await capture([seed]);
    if (captured === undefined) throw new Error(`sim-speed: no operation script came back for seed ${seed}`);
    const before = new OpScriptReplay(captured.script, knobsOf(captured.result), memory);
    const after = new OpScriptReplay(captured.script, knobsOf(captured.result), memory);
    let start = process.hrtime.bigint();
    const replayed = before.run();
    const beforeNs = process.hrtime.bigint() - start;
    start = process.hrtime.bigint();
    const result = runSimulation({ seed, workload: 'single' });
    const seedNs = process.hrtime.bigint() - start;
    start = process.hrtime.bigint();
    after.run();
    const afterNs = process.hrtime.bigint() - start;
    if (result.traceHash !== captured.result.traceHash) {
      throw new Error(`sim-speed: capturing seed ${seed}'s queue operations changed its run (trace ${captured.result.traceHash}, without capture ${result.traceHash})`);
    }
    if (!result.ok) failed.push({ seed, workload: 'single (deep)', message: result.violation?.message ?? 'no violation reported' });
    ops += result.steps;
    ns += seedNs;
    replayOps += replayed.calls;
    replayNs += (beforeNs + afterNs) / 2n;
    simulatedSpilledBytes += (result.stats as SimRunStats).spilledBytes;
    replayedSpilledBytes += replayed.spilledBytes;
    const seedRate = (result.steps * 1e9) / Math.max(1, Number(seedNs));
    if (result.steps >= DEEP_OPS_MIN / 2 && seedRate < slowest.opsPerSecond) slowest = { seed, opsPerSecond: seedRate };
    const seedPerReplayed = (2 * Number(seedNs)) / Math.max(1, Number(beforeNs + afterNs));
    if (result.steps >= DEEP_OPS_MIN / 2 && seedPerReplayed < cheapest.simulatedPerReplayed) cheapest = { seed, simulatedPerReplayed: seedPerReplayed };
    if (result.steps >= DEEP_OPS_MIN / 2 && seedPerReplayed > dearest.simulatedPerReplayed) dearest = { seed, simulatedPerReplayed: seedPerReplayed };
    bareRates.push(rateOf(measureRates([bare] as AnyTimedCase[], { warmupRounds: 0, rounds: 1, roundMs: bareMs }), bare.name));
  }
  const seconds = Number(ns) / 1e9;
  const replaySeconds = Number(replayNs) / 1e9;
  return {
    opsPerSecond: ops / seconds,
    ops,
    seconds,
    bareOpsPerSecond: median(bareRates),
    slowest,
    replay: {
      opsPerSecond: replayOps / replaySeconds,
      ops: replayOps,
      seconds: replaySeconds,
      simulatedPerReplayed: seconds / replaySeconds,
      simulatedSpilledBytes,
      replayedSpilledBytes,
      cheapest,
      dearest,
    },
  };
}

/** Captures the operation scripts of seeds of the single workload, in order. */
export type ScriptCapture = (seeds: number[]) => Promise<CapturedScript[]>;

/** Capture on one worker thread (`op_script_worker.ts`), so this thread never runs the recording queue ends. */
function workerCapture(): { capture: ScriptCapture; close: () => Promise<void> } {
  const pool = new Piscina<CaptureTask, CapturedScript[]>({ filename: new URL('./op_script_worker.js', import.meta.url).href, minThreads: 1, maxThreads: 1 });
  return { capture: (seeds) => pool.run({ seeds }), close: () => pool.destroy() };
}

/** The policy knobs a run drew (its result carries them). */
function knobsOf(result: SimRunResult): PolicyKnobs {
  const knobs = result.knobs;
  if (knobs?.thresholdBytes === undefined || knobs.headReserveBytes === undefined || knobs.prefetchBudgetBytes === undefined) {
    throw new Error(`sim-speed: seed ${result.seed}'s result carries no policy knobs`);
  }
  return { thresholdBytes: knobs.thresholdBytes, headReserveBytes: knobs.headReserveBytes, prefetchBudgetBytes: knobs.prefetchBudgetBytes };
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

function formatMiB(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

/** `capture` gets the deep seeds' operation scripts (default: on a worker thread; the smoke test passes one that runs in its own thread). */
export async function runSimSpeed(options: BenchOptions, capture?: ScriptCapture): Promise<BenchResult> {
  const measure: MeasureOptions = options.quick ? { warmupRounds: 1, rounds: 3, roundMs: 100 } : { warmupRounds: 1, rounds: 5, roundMs: 1_000 };
  options.log('sim-speed: simulated steps (single queue, and any workload) and bare queue operations');
  const failed: FailedSeeds = [];
  const rates = measureRates([simulationCase('single', 'single', failed), simulationCase('any', 'any', failed), bareQueueCase()] as AnyTimedCase[], measure);
  const deepCount = options.quick ? 1 : DEEP_SEEDS_TIMED;
  options.log(`sim-speed: the first ${deepCount} deep seeds, each once, bare queue operations between them`);
  const captureThread = capture === undefined ? workerCapture() : undefined;
  let deepRate: DeepRate;
  try {
    deepRate = await measureDeep(bareQueueCase(), failed, deepCount, options.quick ? 20 : BARE_MS_PER_DEEP_SEED, capture ?? captureThread!.capture);
  } finally {
    await captureThread?.close();
  }


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
  const bareRounds = rateOf(rates, 'bare');
  const single = rateOf(rates, 'single');
  const any = rateOf(rates, 'any');
  const deep = deepRate.opsPerSecond;
  const bareDeep = deepRate.bareOpsPerSecond;
  const replay = deepRate.replay;
  return {
    name: 'sim-speed',
    title: '5. simulation and property-test speed (single-threaded)',
    columns: ['what', 'per second', 'bare queue ops per one of these'],
    rows: [
      { what: 'simulated queue operations, single queue, deep runs, invariants on', 'per second': deep, 'bare queue ops per one of these': bareDeep / deep },
      { what: 'the same operations replayed on the queue, no simulator', 'per second': replay.opsPerSecond, 'bare queue ops per one of these': bareDeep / replay.opsPerSecond },
      { what: 'bare queue operations, timed between the deep runs', 'per second': bareDeep, 'bare queue ops per one of these': 1 },
      { what: 'simulated queue operations, single queue, every seed, invariants on', 'per second': single, 'bare queue ops per one of these': bareRounds / single },
      { what: 'simulated queue operations, any workload, invariants on', 'per second': any, 'bare queue ops per one of these': bareRounds / any },
      { what: `fast-check commands, ${SUITE} suite (model checked after each)`, 'per second': commandsPerSecond, 'bare queue ops per one of these': bareRounds / commandsPerSecond },
      { what: 'bare queue operations (extend or drainInto, 64 B chunks), timed with the three above', 'per second': bareRounds, 'bare queue ops per one of these': 1 },
    ],
    figures: [
      {
        name: 'sim-steps-per-second',
        description: `simulated queue operations per second, single queue, the default swarm's first ${deepCount} deep runs (100k-200k operations each), all invariants on`,
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
        value: bareDeep / deep,
        unit: 'ratio',
        target: { op: '<=', value: 10 },
      },
      {
        name: 'sim-overhead-same-ops',
        description: 'simulated op costs this many times the same op replayed: time of the deep runs over time of their own extend and drainInto calls replayed on a queue with the same policies, storage engine and simulated disk, no faults (what the simulator adds: workload, fault injection and the fault paths it takes, scheduler, hash, invariants)',
        value: replay.simulatedPerReplayed,
        unit: 'ratio',
      },
      { name: 'sim-overhead-seeds', description: 'the same over seeds 1, 2, 3, ... (short runs: each run\'s set-up included)', value: bareRounds / single, unit: 'ratio' },
    ],
    notes: [
      `simulation: runSimulation with default options on seeds from ${SEED_FIRST} up (median of ${measure.rounds} interleaved rounds of ${measure.roundMs} ms), steps counted from each result.`,
      `deep runs: seeds ${deepSeeds(SEED_FIRST, 3).join(', ')}, ... (the first ${deepCount} the default swarm makes deep, after ${WARMUP_SHORT_SEEDS} short seeds as warm-up), each run once: ${deepRate.ops} operations in ${deepRate.seconds.toFixed(2)} s; slowest seed ${deepRate.slowest.seed} at ${Math.round(deepRate.slowest.opsPerSecond)} operations/s; ${options.quick ? 20 : BARE_MS_PER_DEEP_SEED} ms of bare queue operations after each seed.`,
      `same operations replayed: each deep seed's extend (chunk lengths, and which chunks continue an allocation, so the queue merges alike) and drainInto calls, captured in an untimed run of the seed whose trace hash equals the timed run's, replayed on MergeQueue.newPair with the seed's Threshold and PrefetchPolicy knobs over BatchFileSpill on a SimFs, once before and once after the timed run (their mean counts); ${replay.ops} calls in ${replay.seconds.toFixed(2)} s; a simulated op costs ${replay.simulatedPerReplayed.toFixed(2)}x the same op replayed (by seed from ${replay.cheapest.simulatedPerReplayed.toFixed(2)}x, seed ${replay.cheapest.seed}, to ${replay.dearest.simulatedPerReplayed.toFixed(2)}x, seed ${replay.dearest.seed}). The replay has no faults, the deep runs do (spells of 64 steps): bytes spilled ${formatMiB(replay.simulatedSpilledBytes)} simulated, ${formatMiB(replay.replayedSpilledBytes)} replayed.`,
      `fast-check: runSuite('${SUITE}', { runs: ${SUITE_RUNS_PER_BATCH} }) on successive seeds, ${commandsTimed} commands timed; median of ${measure.rounds} rounds.`,
      ...failedOnce.slice(0, 5).map((f) => `FAILED: seed ${f.seed} (${f.workload}): ${f.message}`),
    ],
  };
}
