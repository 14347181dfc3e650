import { extname, relative } from 'node:path';
import type { Command } from 'commander';
import { checkDeterminism } from '../../sim/determinism.js';
import { FAULT_KINDS, parseFaultMode } from '../../sim/faults.js';
import { runSimulation } from '../../sim/run.js';
import type { SimOptions } from '../../sim/options.js';
import type { SimRunResult } from '../../sim/trace.js';
import { TRAFFIC_PATTERNS, WORKLOAD_KINDS } from '../../sim/workload.js';
import { colors, formatBytes, formatDuration } from '../format.js';
import type { CommandResult } from '../command_result.js';
import { Progress } from '../progress.js';
import { writeReport } from '../report/index.js';
import { formatTrace, formatViolation } from '../trace_format.js';
import { EXIT_BROKEN, EXIT_OK, UsageError } from '../usage_error.js';
import { wholeInRange, workerCount } from '../flags.js';
import { WORKERS_MAX } from '../../sim/campaign.js';
import { checkOutputFile } from '../../properties/output_path.js';

/** Most seeds one `--seeds` range may hold; a larger campaign is split with `--shard`. */
const SEEDS_MAX = 10_000_000;
/** Steps of the trace shown under a failure. */
const FAILURE_TAIL_STEPS = 12;

interface SimFlags {
  seed?: string;
  seeds?: string;
  json?: boolean;
  threshold?: string;
  reserve?: string;
  prefetchBudget?: string;
  workload?: string;
  peers?: string;
  faults?: string;
  variant?: string;
  stallGuard?: string;
  readerPolicy?: string;
  pattern?: string;
  consumerHold?: string;
  checkDeterminism?: boolean;
  trace?: boolean;
  stepsMax?: string;
  ops?: string;
  workers?: string;
  shard?: string;
  quiet?: boolean;
  report?: string | boolean;
}

const REPORT_PATH_DEFAULT = 'spillsim-report.html';

export function registerSim(program: Command, result: CommandResult): void {
  program
    .command('sim')
    .description('Run the deterministic simulator: each seed is one run of writers, readers and faulty storage, checked after every step.')
    .option('--seed <n>', 'run one seed (default 1)')
    .option('--seeds <a..b>', 'run every seed from a to b inclusive')
    .option('--json', 'print one JSON object per run per line (seed, ok, traceHash, steps, violation, replay, ...)')
    .option('--threshold <bytes>', 'writer policy threshold (e.g. 4096 or 64KiB; default from the seed)')
    .option('--reserve <bytes>', 'writer policy head reserve (default from the seed)')
    .option('--prefetch-budget <bytes>', 'reader policy prefetch budget; 0 never fetches (default from the seed)')
    .option('--workload <kind>', `${WORKLOAD_KINDS.join(' | ')} | any (default single)`)
    .option('--peers <n>', 'workers in a mesh, or per process in a cluster (default from the seed)')
    .option('--faults <mode>', `none | swarm | comma list of ${FAULT_KINDS.join(',')} (default swarm)`)
    .option('--variant <v>', 'fast (default) | reference: ReferenceThreshold, ReferencePrefetchPolicy, accumulator stall guard, batch reads, all-or-nothing writes')
    .option('--stall-guard <g>', 'produced | accumulator (default: the variant\'s)')
    .option('--reader-policy <p>', 'prefetch (default) | none: no reader policy, nothing is paged back in')
    .option('--pattern <p>', `${TRAFFIC_PATTERNS.join(' | ')} (default from the seed)`)
    .option('--consumer-hold <bytes>', 'single workload: the reader keeps its accumulator across rounds until it holds this many bytes (default 0)')
    .option('--check-determinism', 'run each seed twice and name the first step where the runs split')
    .option('--trace', 'print the readable trace of each run')
    .option('--ops <n>', 'about n queue operations per seed (extends, and about as many drains) instead of the seed\'s own length; the default swarm mixes short runs with deep ones of 100000-200000')
    .option('--steps-max <n>', 'fail a run that has not finished after this many steps (default 200000, or 4 per planned operation when more)')
    .option('--workers <n>', `run the seeds on n worker threads (a campaign; 1 to ${WORKERS_MAX})`)
    .option('--shard <i/N>', 'run only the i-th of N slices of the seeds')
    .option('--quiet', 'no progress output')
    .option('--report [file]', `write an HTML report (plot + trace) of each failing run, or of the one seed run (default ${REPORT_PATH_DEFAULT}; named per seed when several fail)`)
    .action(async (flags: SimFlags) => {
      result.exitCode = await runSimCommand(flags);
    });
}

async function runSimCommand(flags: SimFlags): Promise<number> {
  const simOptions = parseSimFlags(flags);
  let seeds = parseSeeds(flags);
  const reportPath = flags.report === undefined || flags.report === false ? undefined : flags.report === true ? REPORT_PATH_DEFAULT : flags.report;
  if (reportPath !== undefined) checkOutputFile('--report', reportPath);
  if (flags.shard !== undefined) {
    const { parseShard, shardSeeds } = await import('../../sim/campaign.js');
    const shard = parseShard(flags.shard);
    seeds = shardSeeds(seeds, shard.index, shard.count);
    // More shards than seeds: this one runs nothing, and its (empty) --json output still merges.
    if (seeds.length === 0) {
      if (flags.json !== true) process.stdout.write(`shard ${flags.shard} holds no seeds: nothing to run\n`);
      return EXIT_OK;
    }
  }
  if (flags.checkDeterminism === true) return runDeterminism(seeds, simOptions, flags);
  const out = process.stdout;
  const color = colors(out);
  const progress = seeds.length > 1 ? new Progress({ label: 'seeds', total: seeds.length, quiet: flags.quiet === true || flags.json === true }) : undefined;
  const failures: SimRunResult[] = [];
  let queueOps = 0;
  const startedMs = performance.now();
  const report = (run: SimRunResult): void => {
    if (!run.ok) failures.push(run);
    const stats = run.stats as { extendCalls?: number; drainCalls?: number } | undefined;
    queueOps += (stats?.extendCalls ?? 0) + (stats?.drainCalls ?? 0);
    progress?.tick(1, run.ok ? 0 : 1);
    if (flags.json === true) out.write(`${JSON.stringify(run)}\n`);
    else printRun(run, flags, seeds.length === 1, color.isColorSupported);
  };
  const recordTrace = flags.trace === true ? 'full' : 'none';
  if (flags.workers !== undefined) {
    const { runCampaign } = await import('../../sim/campaign.js');
    const workers = Number(flags.workers);
    // Results stream through `report` (which keeps only failures): the pool need not hold every run.
    await runCampaign({ seeds, workers, simOptions: { ...simOptions, recordTrace }, onResult: report, keepResults: false });
  } else {
    for (const seed of seeds) report(runSimulation({ ...simOptions, seed, recordTrace }));
  }
  progress?.stop();
  if (flags.json !== true) printSummary(seeds.length, failures, queueOps, performance.now() - startedMs);
  if (reportPath !== undefined) {
    const reported = seeds.length === 1 ? seeds : failures.map((run) => run.seed);
    const base = reportPath;
    for (const seed of reported) {
      // Runs are pure functions of their options: running the seed again gives the same run, now with its whole trace.
      const full = runSimulation({ ...simOptions, seed, recordTrace: 'full' });
      const path = writeReport(full, reported.length === 1 ? base : `${base.slice(0, base.length - extname(base).length)}-seed${seed}.html`);
      if (flags.json !== true) out.write(`report: ${relative(process.cwd(), path)}\n`);
    }
  }
  return failures.length === 0 ? EXIT_OK : EXIT_BROKEN;
}

function printRun(run: SimRunResult, flags: SimFlags, alone: boolean, color: boolean): void {
  const out = process.stdout;
  const c = colors(out);
  if (flags.trace === true && run.trace !== undefined) {
    out.write(`${formatTrace(run.trace, { color, highlightStep: run.violation?.step })}\n`);
  }
  if (run.ok) {
    if (alone || flags.trace === true) out.write(`${c.green('ok')} seed ${run.seed}: ${describeRun(run)}\n`);
    return;
  }
  out.write(`${c.red('FAILED')} seed ${run.seed}: ${formatViolation(run.violation!)}\n`);
  if (flags.trace !== true && run.trace !== undefined) {
    out.write(`${formatTrace(run.trace, { color, highlightStep: run.violation!.step, maxSteps: FAILURE_TAIL_STEPS })}\n`);
  }
  out.write(`  replay: ${run.replay} --trace\n`);
}

function describeRun(run: SimRunResult): string {
  const stats = run.stats as { spilledBytes?: number; deliveredBytes?: number } | undefined;
  const faults = Array.isArray(run.faultKinds) && run.faultKinds.length > 0 ? run.faultKinds.join(', ') : 'none';
  return `${run.steps} steps, ${formatBytes(stats?.deliveredBytes ?? 0)} delivered, ${formatBytes(stats?.spilledBytes ?? 0)} spilled, faults: ${faults}, trace ${run.traceHash.slice(0, 16)}`;
}

function printSummary(total: number, failures: readonly SimRunResult[], queueOps: number, elapsedMs: number): void {
  const out = process.stdout;
  if (total > 1 || failures.length > 0) {
    out.write(`${total} seed${total === 1 ? '' : 's'}: ${total - failures.length} held, ${failures.length} failed\n`);
  }
  if (total > 1) {
    // Wall time is printed for people, never asserted: invariants are checked after every one of these operations.
    const perSecond = elapsedMs > 0 ? Math.round((queueOps * 1000) / elapsedMs) : 0;
    out.write(`${queueOps} queue operations (extend + drainInto) in ${formatDuration(elapsedMs)}: ${perSecond} per second with every invariant checked\n`);
  }
  if (failures.length > 1) {
    out.write('replay:\n');
    for (const run of failures) out.write(`  ${run.replay} --trace\n`);
  }
}

function runDeterminism(seeds: readonly number[], simOptions: Omit<SimOptions, 'seed'>, flags: SimFlags): number {
  let split = 0;
  for (const seed of seeds) {
    const report = checkDeterminism({ ...simOptions, seed });
    if (flags.json === true) {
      process.stdout.write(`${JSON.stringify({ seed, deterministic: report.deterministic, traceHash: report.first.traceHash, otherTraceHash: report.second.traceHash, splitStep: report.splitStep, steps: report.first.steps })}\n`);
    } else if (report.deterministic) {
      process.stdout.write(`seed ${seed}: deterministic (${report.first.steps} steps, trace ${report.first.traceHash.slice(0, 16)} both times)\n`);
    } else {
      process.stdout.write(`seed ${seed}: NOT deterministic: the runs split at step ${report.splitStep}\n  first:  ${JSON.stringify(report.splitFirst)}\n  second: ${JSON.stringify(report.splitSecond)}\n`);
    }
    if (!report.deterministic) split += 1;
  }
  return split === 0 ? EXIT_OK : EXIT_BROKEN;
}

/** Flags to run options; every bad value is a one-line UsageError (exit 2). */
export function parseSimFlags(flags: SimFlags): Omit<SimOptions, 'seed'> {
  const options: Omit<SimOptions, 'seed'> = {};
  if (flags.threshold !== undefined) options.thresholdBytes = parseByteSize('--threshold', flags.threshold);
  if (flags.reserve !== undefined) options.headReserveBytes = parseByteSize('--reserve', flags.reserve);
  if (flags.prefetchBudget !== undefined) options.prefetchBudgetBytes = parseByteSize('--prefetch-budget', flags.prefetchBudget);
  if (flags.consumerHold !== undefined) options.consumerHoldBytes = parseByteSize('--consumer-hold', flags.consumerHold);
  if (flags.workload !== undefined) options.workload = choice('--workload', flags.workload, [...WORKLOAD_KINDS, 'any'] as const);
  if (flags.peers !== undefined) {
    options.workers = wholeInRange('--peers', flags.peers, 1, 16);
    if (options.workload === 'mesh' && options.workers < 2) throw new UsageError('--peers must be at least 2 for a mesh');
  }
  if (flags.faults !== undefined) {
    try {
      options.faults = parseFaultMode(flags.faults);
    } catch (error) {
      throw new UsageError(`--faults: ${(error as Error).message}`);
    }
  }
  if (flags.variant !== undefined) options.variant = choice('--variant', flags.variant, ['fast', 'reference'] as const);
  if (flags.stallGuard !== undefined) options.stallGuard = choice('--stall-guard', flags.stallGuard, ['produced', 'accumulator'] as const);
  if (flags.readerPolicy !== undefined) options.readerPolicy = choice('--reader-policy', flags.readerPolicy, ['prefetch', 'none'] as const);
  if (flags.pattern !== undefined) options.pattern = choice('--pattern', flags.pattern, TRAFFIC_PATTERNS);
  if ((options.consumerHoldBytes ?? 0) > 0 && (options.workload ?? 'single') !== 'single') {
    throw new UsageError("--consumer-hold applies to --workload single only: meshes and clusters are built by the library's Config, whose loops flush their accumulator every round");
  }
  if (flags.stepsMax !== undefined) options.stepsMax = wholeInRange('--steps-max', flags.stepsMax, 1, Number.MAX_SAFE_INTEGER);
  if (flags.ops !== undefined) options.ops = wholeInRange('--ops', flags.ops, 1, 1_000_000_000);
  if (flags.workers !== undefined) workerCount(flags.workers);
  return options;
}

function parseSeeds(flags: SimFlags): number[] {
  if (flags.seed !== undefined && flags.seeds !== undefined) throw new UsageError('give either --seed or --seeds, not both');
  if (flags.seeds === undefined) return [wholeInRange('--seed', flags.seed ?? '1', 0, Number.MAX_SAFE_INTEGER)];
  // A minus sign is read only to say the range: a negative seed is out of it, not malformed.
  const match = /^\s*(-?\d+)\s*\.\.\s*(-?\d+)\s*$/.exec(flags.seeds);
  const first = Number(match?.[1]);
  const last = Number(match?.[2]);
  if (match !== null && (`${match[1]}${match[2]}`.includes('-') || !Number.isSafeInteger(first) || !Number.isSafeInteger(last))) {
    throw new UsageError(`--seeds must be a range A..B of whole numbers from 0 to ${Number.MAX_SAFE_INTEGER}, got '${flags.seeds}'`);
  }
  if (match === null) throw new UsageError(`--seeds must be a range A..B of whole numbers such as 1..1000, got '${flags.seeds}'`);
  if (first > last) throw new UsageError(`--seeds must be a range A..B with A ≤ B, got '${flags.seeds}'`);
  if (last - first + 1 > SEEDS_MAX) throw new UsageError(`--seeds ${flags.seeds} holds more than ${SEEDS_MAX} seeds; split it with --shard i/N`);
  const seeds: number[] = [];
  for (let seed = first; seed <= last; seed += 1) seeds.push(seed);
  return seeds;
}

const BYTE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1024, kib: 1024, m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3, gib: 1024 ** 3 };

/** `4096`, `64KiB`, `1.5MiB`, `2 GiB` (binary units: a K is 1024 bytes) to a whole number of bytes. */
export function parseByteSize(flag: string, text: string): number {
  const match = /^\s*(-?\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = BYTE_UNITS[(match?.[2] ?? '').toLowerCase()];
  const bytes = match === null || unit === undefined ? NaN : Number(match[1]) * unit;
  // A size that reads well but is negative or past what a number holds exactly: say the range.
  if (match?.[1]?.startsWith('-') === true || bytes > Number.MAX_SAFE_INTEGER) throw new UsageError(`${flag} must be a whole number of bytes from 0 to ${Number.MAX_SAFE_INTEGER}, got '${text}'`);
  if (!Number.isSafeInteger(bytes)) throw new UsageError(`${flag} must be a whole number of bytes such as 4096, 64KiB or 1MiB, got '${text}'`);
  return bytes;
}

function choice<T extends string>(flag: string, text: string, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(text)) throw new UsageError(`${flag} must be one of ${choices.join(', ')}, got '${text}'`);
  return text as T;
}
