import fc from 'fast-check';
import type { BytesSpill } from '../src/spill.js';
import { SpillsimError } from '../src/errors.js';
import type { CommandData } from './command_data.js';
import { DataCommand } from './data_command.js';
import { executeRun } from './execute_run.js';
import type { RunOutcome, TraceEntry } from './run_outcome.js';
import { explainFailure } from './explain.js';
import type { RunOptions } from './queue_system.js';
import { findSuite, SUITES } from './suites/index.js';
import type { BuildContext, ModelSuite, SampledSuite, Suite } from './suite.js';
import { formatCommandTrace } from './command_trace.js';
import type { Violation } from './violation.js';
import { PropertyViolation } from './violation.js';
import { backendArgument, isExecSpecifier } from './process_backend/exec_specifier.js';

export const SUITE_NAMES: readonly string[] = SUITES.map((suite) => suite.name);

/** Runs per model suite when nobody says otherwise: measured to keep `spillsim check` well under a minute. */
export const RUNS_DEFAULT = 20_000;

export interface RunSuiteOptions {
  /** Generated runs (model suites); enumerated suites always run every case. Default `RUNS_DEFAULT`. */
  runs?: number;
  /** fast-check seed; default random (the result reports it). */
  seed?: number;
  /** `default`, or a `reference-*` / `broken-*` variant of the suite. */
  variant?: string;
  /** Storage to spill through, under the scripted faults (a user's backend). */
  makeStrategy?: () => BytesSpill | Promise<BytesSpill>;
  /** Module path of that backend, so the replay command can name it. */
  backendPath?: string;
  /** Stop generating new runs after this long (the result says `interrupted`). */
  timeLimitMs?: number;
  /** Called once per executed run, for progress. */
  onRun?: () => void;
}

export interface SuiteFailure {
  seed: number;
  path: string;
  /** The shrunk counterexample as a numbered, readable trace (one line each). */
  shrunk: string[];
  /** The one command that reproduces it. */
  replay: string;
  violation: Violation;
  options: RunOptions;
  commands: CommandData[];
  /** Sampled suites: the generated input (a simulation's options, a mesh and its messages). */
  input?: unknown;
  /** Which parts of the counterexample could vary and still fail. */
  explanation: string[];
}

export interface SuiteResult {
  suite: string;
  variant: string;
  ok: boolean;
  runs: number;
  commands: number;
  timeMs: number;
  /** The time limit stopped it before `runs`. */
  interrupted: boolean;
  failure?: SuiteFailure;
}

export function suiteOrThrow(name: string): Suite {
  const suite = findSuite(name);
  if (suite === undefined) throw new SpillsimError('E_BAD_INPUT', `unknown suite ${JSON.stringify(name)}; suites are: ${SUITE_NAMES.join(', ')}`);
  return suite;
}

export function checkVariant(suite: Suite, variant: string): void {
  if (suite.variants[variant] === undefined) {
    throw new SpillsimError('E_BAD_INPUT', `suite ${suite.name} has no variant ${JSON.stringify(variant)}; it has: ${Object.keys(suite.variants).join(', ')}`);
  }
}

/** Run one suite and report what held; a failure comes shrunk, explained, with its replay command. */
export async function runSuite(name: string, options: RunSuiteOptions = {}): Promise<SuiteResult> {
  const suite = suiteOrThrow(name);
  const variant = options.variant ?? 'default';
  checkVariant(suite, variant);
  const context: BuildContext = options.makeStrategy === undefined ? {} : { makeInner: options.makeStrategy };
  const started = performance.now();
  const counted =
    suite.kind === 'model'
      ? await runModelSuite(suite, variant, options, context)
      : suite.kind === 'sampled'
        ? await runSampledSuite(suite, variant, options, context)
        : await runEnumeratedSuite(suite, variant, options, context);
  const result: SuiteResult = { suite: suite.name, variant, ok: counted.ok, runs: counted.runs, commands: counted.commands, interrupted: counted.interrupted, timeMs: 0 };
  if (counted.failure !== undefined) {
    const { seed, path, options: runOptions, commands, violation, input } = counted.failure;
    const outcome = suite.kind === 'sampled' ? await suite.run(input, variant, context) : await executeRun(suite, variant, runOptions, commands, context);
    result.failure = {
      seed,
      path,
      shrunk: formatCommandTrace(outcome),
      replay: replayCommand(suite.name, variant, seed, path, options.backendPath),
      violation: outcome.violation ?? violation,
      options: runOptions,
      commands,
      ...(input === undefined ? {} : { input }),
      explanation: suite.kind === 'sampled' ? [] : await explainFailure(suite, variant, runOptions, commands, outcome.violation ?? violation, context),
    };
  }
  result.timeMs = performance.now() - started;
  return result;
}

export function replayCommand(suite: string, variant: string, seed: number, path: string, backendPath?: string): string {
  const parts = ['spillsim replay', `--property ${suite}`];
  if (variant !== 'default') parts.push(`--variant ${variant}`);
  parts.push(`--seed ${seed}`, `--path '${path}'`);
  if (backendPath !== undefined) parts.push(isExecSpecifier(backendPath) ? backendArgument(backendPath) : `--backend ${backendArgument(backendPath)}`);
  return parts.join(' ');
}

/**
 * fast-check reports a property the time limit stopped before its first run as failed, with no
 * counterexample; nothing broke, so it counts as held with 0 runs (`interrupted` says why).
 */
function held(details: { failed: boolean; interrupted: boolean; counterexample: unknown }): boolean {
  return !details.failed || (details.interrupted && details.counterexample === null);
}

interface Counted {
  ok: boolean;
  runs: number;
  commands: number;
  interrupted: boolean;
  failure?: Pick<SuiteFailure, 'seed' | 'path' | 'options' | 'commands' | 'violation' | 'input'>;
}

/** Sampled suites keep `options` for the fixture shape; their real input is `input`. */
const NO_OPTIONS: RunOptions = { queues: 1, stallGuard: 'produced', thresholdBytes: 0, headReserveBytes: 0, budgetBytes: 1, policySeed: 0 };

function sampledProperty(suite: SampledSuite, variant: string, context: BuildContext, tally: { onRun?: () => void; last?: unknown }) {
  return fc.asyncProperty(suite.inputArb, async (input) => {
    tally.last = input;
    tally.onRun?.();
    const outcome = await suite.run(input, variant, context);
    if (outcome.violation !== undefined) throw new PropertyViolation(outcome.violation);
  });
}

async function runSampledSuite(suite: SampledSuite, variant: string, options: RunSuiteOptions, context: BuildContext): Promise<Counted> {
  const tally = { onRun: options.onRun };
  const details = await fc.check(sampledProperty(suite, variant, context, tally), {
    numRuns: options.runs ?? suite.runsDefault,
    ...(options.seed === undefined ? {} : { seed: options.seed }),
    ...(options.timeLimitMs === undefined ? {} : { interruptAfterTimeLimit: options.timeLimitMs }),
  });
  const counted: Counted = { ok: held(details), runs: details.numRuns, commands: 0, interrupted: details.interrupted };
  if (details.failed && details.counterexample !== null) {
    const error = details.errorInstance;
    const violation: Violation =
      error instanceof PropertyViolation ? error.violation : { rule: 'threw', message: error instanceof Error ? error.message : String(error), step: 0 };
    counted.failure = { seed: details.seed, path: details.counterexamplePath ?? '', options: NO_OPTIONS, commands: [], input: details.counterexample[0], violation };
  }
  return counted;
}

/** The property fast-check checks: run the collected commands, throw on the first broken rule. */
function modelProperty(
  suite: ModelSuite,
  variant: string,
  context: BuildContext,
  tally: { commands: number; onRun?: () => void; last?: { options: RunOptions; commands: CommandData[] } },
  replayPath?: string,
) {
  const commandArbs = suite.commandArbs.map((arb) => arb.map((data) => new DataCommand(data)));
  const constraints = { maxCommands: suite.commandsMax, size: 'medium' as const, ...(replayPath === undefined ? {} : { replayPath }) };
  return fc.asyncProperty(suite.optionsArb, fc.commands(commandArbs, constraints), async (options, cmds) => {
    const commands = collectCommands(cmds, options);
    tally.commands += commands.length;
    tally.last = { options, commands };
    tally.onRun?.();
    const outcome = await executeRun(suite, variant, options, commands, context);
    if (outcome.violation !== undefined) throw new PropertyViolation(outcome.violation);
  });
}

/** The data of the commands fast-check generated, queue numbers folded into the run's queues. */
function collectCommands(cmds: Iterable<fc.Command<object, CommandData[]>>, options: RunOptions): CommandData[] {
  const collected: CommandData[] = [];
  fc.modelRun(() => ({ model: {}, real: collected }), cmds);
  return collected.map((c) => (c.op === 'extend' ? { ...c, queue: c.queue % options.queues } : c));
}

async function runModelSuite(suite: ModelSuite, variant: string, options: RunSuiteOptions, context: BuildContext): Promise<Counted> {
  const tally = { commands: 0, onRun: options.onRun };
  const parameters: fc.Parameters<[RunOptions, Iterable<fc.Command<object, CommandData[]>>]> = {
    numRuns: options.runs ?? RUNS_DEFAULT,
    ...(options.seed === undefined ? {} : { seed: options.seed }),
    ...(options.timeLimitMs === undefined ? {} : { interruptAfterTimeLimit: options.timeLimitMs }),
  };
  const details = await fc.check(modelProperty(suite, variant, context, tally), parameters);
  const counted: Counted = { ok: held(details), runs: details.numRuns, commands: tally.commands, interrupted: details.interrupted };
  if (details.failed && details.counterexample !== null) {
    const [runOptions, cmds] = details.counterexample;
    const error = details.errorInstance;
    const violation: Violation =
      error instanceof PropertyViolation ? error.violation : { rule: 'threw', message: error instanceof Error ? error.message : String(error), step: 0 };
    const path = joinPath(details.counterexamplePath ?? '', replayPathOf(cmds));
    counted.failure = { seed: details.seed, path, options: runOptions, commands: collectCommands(cmds, runOptions), violation };
  }
  return counted;
}

async function runEnumeratedSuite(suite: Extract<Suite, { kind: 'enumerated' }>, variant: string, options: RunSuiteOptions, context: BuildContext): Promise<Counted> {
  const cases = suite.cases(variant);
  const deadline = options.timeLimitMs === undefined ? Infinity : performance.now() + options.timeLimitMs;
  let commands = 0;
  for (let index = 0; index < cases.length; index += 1) {
    if (performance.now() > deadline) return { ok: true, runs: index, commands, interrupted: true };
    const item = cases[index]!;
    commands += item.commands.length;
    options.onRun?.();
    const outcome = await executeRun(suite, variant, item.options, item.commands, context);
    if (outcome.violation !== undefined) {
      return {
        ok: false,
        runs: index + 1,
        commands,
        interrupted: false,
        failure: { seed: 0, path: String(index), options: item.options, commands: item.commands, violation: outcome.violation },
      };
    }
  }
  return { ok: true, runs: cases.length, commands, interrupted: false };
}

/**
 * fast-check's command lists shrink according to which commands ran, which a path walk cannot
 * see; it records that in a `replayPath`. A replay needs both, so `--path` carries both,
 * joined by `~` (a character neither uses).
 */
function joinPath(path: string, replayPath: string | undefined): string {
  return replayPath === undefined ? path : `${path}~${replayPath}`;
}

function splitPath(joined: string): { path: string; replayPath?: string } {
  const at = joined.indexOf('~');
  return at < 0 ? { path: joined } : { path: joined.slice(0, at), replayPath: joined.slice(at + 1) };
}

function replayPathOf(cmds: Iterable<unknown>): string | undefined {
  const match = /replayPath="([^"]*)"/.exec(String(cmds));
  return match?.[1];
}

/** How many runs a suite will do: for progress bars. */
export function plannedRuns(name: string, runs: number | undefined, variant = 'default'): number {
  const suite = suiteOrThrow(name);
  if (suite.kind === 'model') return runs ?? RUNS_DEFAULT;
  if (suite.kind === 'sampled') return runs ?? suite.runsDefault;
  return suite.cases(variant).length;
}

export interface ReplayResult {
  suite: string;
  variant: string;
  options: RunOptions;
  commands: CommandData[];
  input?: unknown;
  outcome: RunOutcome;
  shrunk: string[];
}

/** Reproduce a failure from its replay command: the same seed and path give the same counterexample. */
export async function replaySeed(
  name: string,
  args: { seed: number; path: string; variant?: string; makeStrategy?: () => BytesSpill | Promise<BytesSpill> },
): Promise<ReplayResult> {
  const suite = suiteOrThrow(name);
  const variant = args.variant ?? 'default';
  checkVariant(suite, variant);
  const context: BuildContext = args.makeStrategy === undefined ? {} : { makeInner: args.makeStrategy };
  let options: RunOptions;
  let commands: CommandData[];
  if (suite.kind === 'sampled') {
    if (!/^\d+(:\d+)*$/.test(args.path)) throw new SpillsimError('E_BAD_INPUT', `--path must look like 12:0:3 (as printed by a failure), got ${JSON.stringify(args.path)}`);
    const tally: { last?: unknown } = {};
    try {
      await fc.check(sampledProperty(suite, variant, context, tally), { seed: args.seed, path: args.path, numRuns: 1, endOnFailure: true });
    } catch (error) {
      throw new SpillsimError('E_BAD_INPUT', `seed ${args.seed} and path ${args.path} do not name a run of ${suite.name}: ${(error as Error).message}`);
    }
    const outcome = await suite.run(tally.last, variant, context);
    return { suite: suite.name, variant, options: NO_OPTIONS, commands: [], input: tally.last, outcome, shrunk: formatCommandTrace(outcome) };
  }
  if (suite.kind === 'enumerated') {
    const cases = suite.cases(variant);
    const index = Number(args.path);
    if (!Number.isSafeInteger(index) || index < 0 || index >= cases.length) {
      throw new SpillsimError('E_BAD_INPUT', `--path for ${suite.name} is a case number from 0 to ${cases.length - 1}, got ${JSON.stringify(args.path)}`);
    }
    ({ options, commands } = cases[index]!);
  } else {
    // With a path, fast-check runs exactly the case the path names (shrunk or not): capture it.
    const tally: { commands: number; last?: { options: RunOptions; commands: CommandData[] } } = { commands: 0 };
    const { path, replayPath } = splitPath(args.path);
    if (!/^\d+(:\d+)*$/.test(path)) throw new SpillsimError('E_BAD_INPUT', `--path must look like 12:0:3 (as printed by a failure), got ${JSON.stringify(args.path)}`);
    try {
      await fc.check(modelProperty(suite, variant, context, tally, replayPath), { seed: args.seed, path, numRuns: 1, endOnFailure: true });
    } catch (error) {
      throw new SpillsimError('E_BAD_INPUT', `seed ${args.seed} and path ${args.path} do not name a run of ${suite.name}: ${(error as Error).message}`);
    }
    if (tally.last === undefined) throw new SpillsimError('E_BAD_INPUT', `seed ${args.seed} and path ${args.path} do not name a run of ${suite.name}`);
    ({ options, commands } = tally.last);
  }
  const outcome = await executeRun(suite, variant, options, commands, context);
  return { suite: suite.name, variant, options, commands, outcome, shrunk: formatCommandTrace(outcome) };
}

export type { TraceEntry };
