import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename } from 'node:path';
import { COMMAND_SHAPES, type CommandData, parseCommand } from './command_data.js';
import { executeRun } from './execute_run.js';
import { formatCommandTrace } from './command_trace.js';
import type { RunOptions } from './queue_system.js';
import type { SuiteFailure } from './run_suite.js';
import type { BuildContext } from './suite.js';
import { findSuite } from './suites/index.js';
import type { Violation } from './violation.js';

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
}

export type FixtureVerdict = 'same-failure' | 'different-failure' | 'now-passes' | 'no-longer-valid';

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

/** Read a fixture file as unknown JSON; a file that is not JSON is bad input. */
export function readFixtureJson(path: string): unknown {
  const text = readFileSync(path, 'utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new SyntaxError(`${basename(path)} is not JSON: ${(error as Error).message}`);
  }
}

/**
 * Replay a stored fixture and sort it: the same rule still breaks, another rule breaks, it now
 * passes, or it no longer applies (with the reason). `variant` overrides the saved one, which
 * is how a user checks a fixed queue against a failure found on the broken one.
 */
export async function replayFixture(name: string, value: unknown, overrides: { variant?: string; context?: BuildContext } = {}): Promise<FixtureReplay> {
  const invalid = (reason: string, modelChanged = false): FixtureReplay => ({ name, verdict: 'no-longer-valid', summary: reason, modelChanged });
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return invalid('the file does not hold a fixture object');
  const v = value as Partial<Fixture>;
  if (v.format !== FIXTURE_FORMAT) return invalid(`format is ${JSON.stringify(v.format)}, expected ${FIXTURE_FORMAT}`);
  const suite = typeof v.property === 'string' ? findSuite(v.property) : undefined;
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
    const options = parseOptions(v.options);
    if (typeof options === 'string') return invalid(options, modelChanged);
    if (!Array.isArray(v.commands)) return invalid('commands is not a list', modelChanged);
    const commands: CommandData[] = [];
    for (let i = 0; i < v.commands.length; i += 1) {
      const parsed = parseCommand(v.commands[i], options.queues);
      if (!parsed.ok) return invalid(`command ${i + 1} no longer applies: ${parsed.reason}`, modelChanged);
      commands.push(parsed.command);
    }
    outcome = await executeRun(suite, variant, options, commands, overrides.context ?? {});
  }
  const trace = formatCommandTrace(outcome);
  const saved = v.broke;
  const now = outcome.violation;
  if (now === undefined) return { name, verdict: 'now-passes', summary: `every rule held (saved as breaking ${saved?.rule ?? 'a rule'})`, trace, modelChanged };
  if (saved !== undefined && saved.rule === now.rule) {
    return { name, verdict: 'same-failure', summary: `rule ${now.rule} breaks at step ${now.step}, as saved`, trace, violation: now, modelChanged };
  }
  return {
    name,
    verdict: 'different-failure',
    summary: `saved as breaking ${saved?.rule ?? 'unknown'}, now rule ${now.rule} breaks at step ${now.step}`,
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
  if ((o.queues as number) < 1) return 'options.queues must be at least 1';
  return {
    queues: o.queues as number,
    stallGuard: o.stallGuard,
    thresholdBytes: o.thresholdBytes as number,
    headReserveBytes: o.headReserveBytes as number,
    budgetBytes: o.budgetBytes as number,
    policySeed: o.policySeed as number,
  };
}
