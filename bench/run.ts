/**
 * `npm run bench`: runs the benchmarks and prints a table per benchmark (or, with `--json`, one
 * JSON document). Every figure is a ratio of two things measured in the same run, or a count.
 */
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { spawnSync } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Progress } from '../cli/progress.js';
import { runExtendCost } from './extend_cost.js';
import { runQueueVsArray } from './queue_vs_array.js';
import { runSpillPath } from './spill_path.js';
import { runSpillStress } from './spill_stress.js';
import { runSimSpeed } from './sim_speed.js';
import { runCampaignScaling } from './campaign_scaling.js';
import { runProcessProtocol } from './process_protocol.js';
import { type BenchOptions, type BenchResult, formatResult, holds } from './report.js';

const BENCHMARKS: ReadonlyArray<{ name: string; run: (options: BenchOptions) => Promise<BenchResult> }> = [
  { name: 'extend-cost', run: runExtendCost },
  { name: 'queue-vs-array', run: runQueueVsArray },
  { name: 'spill-path', run: runSpillPath },
  { name: 'spill-stress', run: (options) => runSpillStress(options) },
  { name: 'sim-speed', run: runSimSpeed },
  { name: 'campaign-scaling', run: runCampaignScaling },
  { name: 'process-protocol', run: runProcessProtocol },
];

export interface Machine {
  node: string;
  cpuModel: string;
  cores: number;
  memoryBytes: number;
  platform: string;
  /** 1-minute load average when the run started: on shared machines, the figures' context. */
  loadAverage: number;
}

export function describeMachine(): Machine {
  const cpuList = cpus();
  return { node: process.version, cpuModel: cpuList[0]?.model ?? 'unknown', cores: cpuList.length, memoryBytes: totalmem(), platform: `${process.platform}-${process.arch}`, loadAverage: loadavg()[0]! };
}

function parseOnly(value: string, previous: string[] = []): string[] {
  const names = value.split(',').map((s) => s.trim());
  for (const name of names) {
    if (!BENCHMARKS.some((b) => b.name === name)) {
      throw new InvalidArgumentError(`no benchmark named '${name}'; choose from ${BENCHMARKS.map((b) => b.name).join(', ')}`);
    }
  }
  return [...previous, ...names];
}

export async function runBenchmarks(argv: string[]): Promise<number> {
  const program = new Command('bench')
    .description('spillsim benchmarks: ratios measured in one run, never absolute speeds')
    .option('--only <names>', `run only these (comma-separated or repeated): ${BENCHMARKS.map((b) => b.name).join(', ')}`, parseOnly)
    .option('--json', 'print one JSON document instead of tables')
    .option('--quick', 'small sizes and few rounds (a quick look; figures are noisier)')
    .option('--in-process', 'run the benchmarks in this process (by default each runs in a fresh node process)')
    .exitOverride();
  try {
    program.parse(argv);
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    throw error;
  }
  const flags = program.opts<{ only?: string[]; json?: boolean; quick?: boolean; inProcess?: boolean }>();
  const chosen = BENCHMARKS.filter((b) => flags.only === undefined || flags.only.includes(b.name));
  const machine = describeMachine();
  const log = (line: string) => {
    if (!flags.json || flags.inProcess) process.stderr.write(`${line}\n`);
  };
  const runOne = flags.inProcess ? (bench: (typeof BENCHMARKS)[number]) => bench.run({ quick: Boolean(flags.quick), log }) : (bench: (typeof BENCHMARKS)[number]) => runInChild(bench.name, Boolean(flags.quick));
  const progress = new Progress({ label: 'benchmarks', total: chosen.length, quiet: Boolean(flags.json) || !process.stderr.isTTY });
  if (!flags.json) {
    process.stdout.write(`# spillsim benchmarks${flags.quick ? ' (--quick)' : ''}\nmachine: ${machine.cpuModel}, ${machine.cores} cores, ${(machine.memoryBytes / 2 ** 30).toFixed(0)} GiB, node ${machine.node}, ${machine.platform}, load average ${machine.loadAverage.toFixed(1)}\n\n`);
  }
  const results: BenchResult[] = [];
  const errors: Array<{ name: string; message: string }> = [];
  for (const bench of chosen) {
    let result: BenchResult;
    try {
      result = await runOne(bench);
    } catch (error) {
      // One broken benchmark must not hide the figures of the others; it fails the run at the end.
      const message = error instanceof Error ? error.message : String(error);
      errors.push({ name: bench.name, message });
      if (!flags.json) process.stderr.write(`bench ${bench.name} failed: ${message}\n`);
      progress.tick(1, 1);
      continue;
    }
    results.push(result);
    progress.tick(1, result.figures.some((f) => holds(f) === false) ? 1 : 0);
    if (!flags.json) process.stdout.write(`${formatResult(result)}\n`);
  }
  progress.stop();
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ machine, quick: Boolean(flags.quick), results, errors }, null, 2)}\n`);
  } else {
    const figures = results.flatMap((r) => r.figures).filter((f) => f.target !== undefined);
    const missed = figures.filter((f) => holds(f) === false);
    process.stdout.write(`targets: ${figures.length - missed.length} of ${figures.length} hold${missed.length > 0 ? `; missed: ${missed.map((f) => f.name).join(', ')}` : ''}\n`);
    for (const e of errors) process.stdout.write(`FAILED to run: ${e.name}: ${e.message}\n`);
  }
  // Missed targets are findings, reported above; a benchmark that could not run is an error.
  return errors.length === 0 ? 0 : 1;
}

/**
 * Run one benchmark in a fresh node process: the JIT feedback and heap one benchmark leaves
 * behind (a megamorphic \`extend\`, a big old generation) would otherwise slow the next one.
 */
function runInChild(name: string, quick: boolean): Promise<BenchResult> {
  const self = fileURLToPath(import.meta.url);
  const child = spawnSync(process.execPath, [self, '--only', name, '--json', '--in-process', ...(quick ? ['--quick'] : [])], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
  });
  const parsed = (() => {
    try {
      return JSON.parse(child.stdout) as { results: BenchResult[]; errors: Array<{ message: string }> };
    } catch {
      return undefined;
    }
  })();
  if (parsed === undefined || parsed.results.length !== 1) {
    const why = parsed?.errors[0]?.message ?? child.error?.message ?? `exit status ${child.status}`;
    return Promise.reject(new Error(why));
  }
  return Promise.resolve(parsed.results[0]!);
}

// Run when executed (`node dist/bench/run.js`), not when imported by the smoke test.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await runBenchmarks(process.argv);
}
