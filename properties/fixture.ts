import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { COMMAND_SHAPES, type CommandData, parseCommand } from './command_data.js';
import { executeRun } from './execute_run.js';
import { formatCommandTrace } from './command_trace.js';
import type { RunOptions } from './queue_system.js';
import type { SuiteFailure } from './run_suite.js';
import type { BuildContext } from './suite.js';
import { findSuite } from './suites/index.js';
import type { Violation } from './violation.js';
import { parseJsonText, readTextFile } from './json_file.js';
import { basename } from 'node:path';

export const FIXTURE_FORMAT = 'spillsim-fixture/1';

/** Bumped when what a rule means changes, so old fixtures say they were saved under another model. */
const MODEL_VERSION = 1;

/** A saved failure: the shrunk commands as data, so it replays even after the generators change. */
export interface Fixture {
  format: typeof FIXTURE_FORMAT;
  property: string;
  variant: string;
  seed: number;
  path: string;
  options: RunOptions;
  commands: CommandData[];
  /** Sampled suites (determinism, end to end): the generated input, as plain JSON. */
  input?: unknown;
  /** The backend module it ran over (`--backend`), as typed; absent for the in-memory store. */
  backend?: string;
  libraryVersion: string;
  /** What broke when it was saved. */
  broke: Violation;
  /** Hash of the command set and the suite's model when it was saved. */
  modelHash: string;
  /** The trace as it read when saved, for people reading the file. */
  trace: string[];
  replay: string;
  /**
   * `false` when, before it was saved, the failure did not fail again alone in a fresh worker
   * with a fresh instance of the backend (state outside the replayed commands made it fail);
   * `note` then says so in words.
   */
  reproducedAlone?: false;
  note?: string;
}

/**
 * How a replay compares with what was saved. `not-reproduced`: it passes, but it was saved as a
 * failure that did not reproduce alone (`reproducedAlone: false`), so passing is no news, not a fix.
 */
export type FixtureVerdict = 'same-failure' | 'different-failure' | 'now-passes' | 'not-reproduced' | 'no-longer-valid';

export interface FixtureReplay {
  name: string;
  verdict: FixtureVerdict;
  /** One sentence: what happened, against what was saved. */
  summary: string;
  /** The trace of this replay (absent when the fixture no longer parses). */
  trace?: string[];
  violation?: Violation;
  /** The model or command set changed since the fixture was saved. */
  modelChanged: boolean;
}

const LIBRARY_VERSION = libraryVersion();

/** The package version, from source (vitest) or from dist/ alike: the nearest spillsim package.json. */
function libraryVersion(): string {
  const require = createRequire(import.meta.url);
  for (const candidate of ['../package.json', '../../package.json']) {
    try {
      const pkg = require(candidate) as { name?: string; version?: string };
      if (pkg.name === 'spillsim' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // Not at this depth: try the next.
    }
  }
  return 'unknown';
}

/** Hash of the command shapes and a suite's rules and variants: changes when the model does. */
export function modelHash(suiteName: string): string {
  const suite = findSuite(suiteName);
  const model = { MODEL_VERSION, COMMAND_SHAPES, suite: suite?.name, rules: suite?.rules, variants: Object.keys(suite?.variants ?? {}) };
  return createHash('sha256').update(JSON.stringify(model)).digest('hex').slice(0, 16);
}

export function makeFixture(suite: string, variant: string, failure: SuiteFailure, backendPath?: string): Fixture {
  return {
    format: FIXTURE_FORMAT,
    property: suite,
    variant,
    seed: failure.seed,
    path: failure.path,
    options: failure.options,
    commands: failure.commands,
    ...(failure.input === undefined ? {} : { input: failure.input }),
    ...(backendPath === undefined ? {} : { backend: backendPath }),
    libraryVersion: LIBRARY_VERSION,
    broke: failure.violation,
    modelHash: modelHash(suite),
    trace: failure.shrunk,
    replay: failure.replay,
  };
}

/** A stable file name: suite, variant and a hash of the counterexample itself. */
export function fixtureFileName(fixture: Fixture): string {
  const digest = createHash('sha256').update(JSON.stringify([fixture.options, fixture.commands, fixture.input ?? null, ...(fixture.backend === undefined ? [] : [fixture.backend])])).digest('hex').slice(0, 10);
  return `${fixture.property}--${fixture.variant}--${digest}.json`;
}

/**
 * Read a fixture file as unknown JSON (a byte-order mark is accepted); a file that cannot be
 * read or is not JSON throws a one-line `UsageError`.
 */
export function readFixtureJson(path: string): unknown {
  return parseJsonText(readTextFile(path), basename(path));
}

/** Most commands a fixture may hold: generated runs hold at most 40, and replay is linear in this. */
export const FIXTURE_COMMANDS_MAX = 10_000;
/** Most bytes all of a fixture's extends may write together. */
export const FIXTURE_BYTES_MAX = 64 * 1024 * 1024;
/** Most lines a fixture's saved trace may hold. */
export const FIXTURE_TRACE_LINES_MAX = 100_000;
/** Most queues a fixture's options may ask for (the generators draw up to 3). */
export const FIXTURE_QUEUES_MAX = 64;

/**
 * Check a parsed fixture file as data, field by field, before anything runs it: the one-line
 * reason for the first field that is wrong, or undefined when every field is well formed.
 * `loose` (the report's reading) lets fields be absent so an older or newer file still draws,
 * but a field that is present must still be right.
 */
export function fixtureProblem(value: unknown, { loose = false }: { loose?: boolean } = {}): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'the file does not hold a fixture object';
  const v = value as Record<string, unknown>;
  const absent = (key: string): boolean => loose && v[key] === undefined;
  const got = (key: string): string => `got ${JSON.stringify(v[key])?.slice(0, 40) ?? 'nothing'}`;
  if (!absent('format') && v.format !== FIXTURE_FORMAT) return `format is ${JSON.stringify(v.format)}, expected ${FIXTURE_FORMAT}`;
  if (!absent('property') && typeof v.property !== 'string') return `property must be a string, ${got('property')}`;
  // Replay does not need these (an absent variant is `default`), but one that is there must be right.
  for (const key of ['variant', 'path', 'backend', 'libraryVersion', 'modelHash', 'replay'] as const) {
    if (v[key] !== undefined && typeof v[key] !== 'string') return `${key} must be a string, ${got(key)}`;
  }
  if (v.seed !== undefined && !Number.isSafeInteger(v.seed)) return `seed must be a whole number, ${got('seed')}`;
  if (!absent('options')) {
    const options = parseOptions(v.options);
    if (typeof options === 'string') return options;
  }
  if (!absent('commands')) {
    if (!Array.isArray(v.commands)) return `commands must be a list, ${got('commands')}`;
    if (v.commands.length > FIXTURE_COMMANDS_MAX) return `${v.commands.length} commands, more than the ${FIXTURE_COMMANDS_MAX} a fixture may hold`;
  }
  // A file in today's format has its commands checked too (bounds included), even where it is only drawn.
  const options = parseOptions(v.options);
  if (v.format === FIXTURE_FORMAT && Array.isArray(v.commands) && typeof options !== 'string') {
    const commands = parseCommands(v.commands, options);
    if (typeof commands === 'string') return commands;
  }
  if (!absent('broke')) {
    const broke = v.broke as Partial<Violation> | null;
    if (broke === null || typeof broke !== 'object' || Array.isArray(broke) || typeof broke.rule !== 'string' || typeof broke.message !== 'string' || !Number.isSafeInteger(broke.step)) {
      return `broke must be { rule, message, step } (what broke when it was saved), ${got('broke')}`;
    }
  }
  if (v.trace !== undefined) {
    if (!Array.isArray(v.trace)) return `trace must be a list of lines, ${got('trace')}`;
    if (v.trace.length > FIXTURE_TRACE_LINES_MAX) return `trace has ${v.trace.length} lines, more than the ${FIXTURE_TRACE_LINES_MAX} a fixture may hold`;
    // A simulator trace (objects) is the report's to check; the suites write lines of text.
    if (!loose && !v.trace.every((line) => typeof line === 'string')) return 'trace must be a list of lines of text';
  }
  return undefined;
}

/** The commands of a fixture, parsed and within bounds, or the reason they are not. */
function parseCommands(values: unknown[], options: RunOptions): CommandData[] | string {
  const commands: CommandData[] = [];
  let bytes = 0;
  for (let i = 0; i < values.length; i += 1) {
    const parsed = parseCommand(values[i], options.queues);
    if (!parsed.ok) return `command ${i + 1} no longer applies: ${parsed.reason}`;
    if (parsed.command.op === 'extend') bytes += parsed.command.sizes.reduce((a, b) => a + b, 0);
    if (bytes > FIXTURE_BYTES_MAX) return `command ${i + 1}: the extends write more than the ${FIXTURE_BYTES_MAX} B a fixture may hold`;
    commands.push(parsed.command);
  }
  return commands;
}

/**
 * Replay a stored fixture and sort it: the same rule still breaks, another rule breaks, it now
 * passes, or it no longer applies (with the reason). `variant` overrides the saved one, which
 * is how a user checks a fixed queue against a failure found on the broken one.
 */
export async function replayFixture(name: string, value: unknown, overrides: { variant?: string; context?: BuildContext } = {}): Promise<FixtureReplay> {
  const invalid = (reason: string, modelChanged = false): FixtureReplay => ({ name, verdict: 'no-longer-valid', summary: reason, modelChanged });
  const problem = fixtureProblem(value);
  if (problem !== undefined) return invalid(problem);
  const v = value as Fixture;
  const suite = findSuite(v.property);
  if (suite === undefined) return invalid(`property ${JSON.stringify(v.property)} is not a suite any more`);
  const modelChanged = v.modelHash !== modelHash(suite.name);
  const variant = overrides.variant ?? v.variant ?? 'default';
  if (suite.variants[variant] === undefined) return invalid(`suite ${suite.name} has no variant ${JSON.stringify(variant)} any more`, modelChanged);
  let outcome;
  if (suite.kind === 'sampled') {
    const parsed = suite.parseInput(v.input);
    if (!parsed.ok) return invalid(`input no longer applies: ${parsed.reason}`, modelChanged);
    outcome = await suite.run(parsed.input, variant, overrides.context ?? {});
  } else {
    const options = parseOptions(v.options) as RunOptions;
    const commands = parseCommands(v.commands, options);
    if (typeof commands === 'string') return invalid(commands, modelChanged);
    outcome = await executeRun(suite, variant, options, commands, overrides.context ?? {});
  }
  const trace = formatCommandTrace(outcome);
  const saved = v.broke;
  const now = outcome.violation;
  if (now === undefined && v.reproducedAlone === false) {
    return { name, verdict: 'not-reproduced', summary: `every rule held, as when it was saved: it does not fail alone in a fresh instance; what made it break ${saved.rule} was state outside the replayed commands, not a fix`, trace, modelChanged };
  }
  if (now === undefined) return { name, verdict: 'now-passes', summary: `every rule held (saved as breaking ${saved.rule})`, trace, modelChanged };
  if (saved.rule === now.rule) {
    return { name, verdict: 'same-failure', summary: `rule ${now.rule} breaks at step ${now.step}, as saved`, trace, violation: now, modelChanged };
  }
  return {
    name,
    verdict: 'different-failure',
    summary: `saved as breaking ${saved.rule}, now rule ${now.rule} breaks at step ${now.step}`,
    trace,
    violation: now,
    modelChanged,
  };
}

function parseOptions(value: unknown): RunOptions | string {
  if (value === null || typeof value !== 'object') return 'options is not an object';
  const o = value as Record<string, unknown>;
  const isCount = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
  for (const key of ['queues', 'thresholdBytes', 'headReserveBytes', 'budgetBytes', 'policySeed']) {
    if (!isCount(o[key])) return `options.${key} must be a whole number, got ${JSON.stringify(o[key])}`;
  }
  if (o.stallGuard !== 'produced' && o.stallGuard !== 'accumulator') return `options.stallGuard must be produced or accumulator, got ${JSON.stringify(o.stallGuard)}`;
  if ((o.queues as number) < 1 || (o.queues as number) > FIXTURE_QUEUES_MAX) return `options.queues must be from 1 to ${FIXTURE_QUEUES_MAX}, got ${o.queues as number}`;
  return {
    queues: o.queues as number,
    stallGuard: o.stallGuard,
    thresholdBytes: o.thresholdBytes as number,
    headReserveBytes: o.headReserveBytes as number,
    budgetBytes: o.budgetBytes as number,
    policySeed: o.policySeed as number,
  };
}
