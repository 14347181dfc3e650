import { writeFileSync } from 'node:fs';
import { SpillsimError } from '../src/errors.js';
import { describeFsError } from './json_file.js';
import { makeDirs } from './output_path.js';
import { join, relative } from 'node:path';
import { ExampleDb } from './example_db.js';
import { explainFailure } from './explain.js';
import { type Fixture, fixtureFileName, makeFixture, replayFixture } from './fixture.js';
import { plannedRuns, runSuite, type RunSuiteOptions, type SuiteResult, suiteOrThrow, checkVariant } from './run_suite.js';
import type { BuildContext } from './suite.js';

export const FAILURES_DIR_DEFAULT = 'fixtures/failures';

export interface CheckOptions {
  suites: string[];
  runs?: number;
  seed: number;
  variant?: string;
  /** Whole budget for all suites; each suite gets an even share of what is left. */
  timeLimitMs?: number;
  makeStrategy?: RunSuiteOptions['makeStrategy'];
  backendPath?: string;
  /** Replay and update the local example database (`.spillsim/`). Default true. */
  exampleDb?: boolean;
  /** Root of the example database (default: the working directory). */
  exampleDbRoot?: string;
  /** Write each failure as a fixture into this directory. */
  saveFailuresDir?: string;
  onRun?: () => void;
  /** Called as each suite finishes, so the caller can print as results arrive. */
  onResult?: (result: CheckedSuite) => void;
  /** Called after `onResult` when a failure was written to `saveFailuresDir`. */
  onSaved?: (result: CheckedSuite, path: string) => void;
}

export interface CheckedSuite extends SuiteResult {
  /** The failure came from the example database, replayed before any new run. */
  fromExampleDb?: string;
  /** Where `--save-failures` wrote it. */
  savedFixture?: string;
  /** Run isolated: the worker was stopped or the backend misbehaved outside any call; one line saying why. */
  cutOff?: string;
  /** Run isolated: the failure did not fail again in a fresh worker and module instance; says so plainly. */
  notReproduced?: string;
  /**
   * Run over a backend (`check --backend`): it held, but judged nothing of the backend (no chunk
   * the backend stored was ever fetched back); why, in the words `validate` uses for the same
   * suite. Not a failure: `ok` stays true, as `validate` counts a not-applicable unit.
   */
  notApplicable?: string;
}

/** Suites and runs `check` will do, for the progress bar's total. */
export function plannedCheckRuns(options: Pick<CheckOptions, 'suites' | 'runs' | 'variant'>): number {
  return options.suites.reduce((n, name) => n + plannedRuns(name, options.runs, options.variant ?? 'default'), 0);
}

/** Fail early, before any run, on a suite name or variant that does not exist. */
export function checkSelection(suites: string[], variant: string | undefined): void {
  for (const name of suites) {
    const suite = suiteOrThrow(name);
    if (variant !== undefined) checkVariant(suite, variant);
  }
}

/**
 * The main job: for each suite, replay the failures the example database remembers (first, like
 * Hypothesis), then generate new runs; record each new failure in the database and, when asked,
 * as a fixture.
 */
export async function checkSuites(options: CheckOptions): Promise<CheckedSuite[]> {
  checkSelection(options.suites, options.variant);
  const db = options.exampleDb === false ? undefined : new ExampleDb(options.exampleDbRoot);
  const deadline = options.timeLimitMs === undefined ? undefined : performance.now() + options.timeLimitMs;
  const context: BuildContext = options.makeStrategy === undefined ? {} : { makeInner: options.makeStrategy };
  const results: CheckedSuite[] = [];
  for (let i = 0; i < options.suites.length; i += 1) {
    const name = options.suites[i]!;
    const variant = options.variant ?? 'default';
    const timeLimitMs = deadline === undefined ? undefined : Math.max(0, (deadline - performance.now()) / (options.suites.length - i));
    let result: CheckedSuite | undefined = db === undefined ? undefined : await replayExamples(db, name, variant, context, options);
    if (result === undefined) {
      result = await runSuite(name, {
        variant,
        seed: options.seed,
        ...(options.runs === undefined ? {} : { runs: options.runs }),
        ...(timeLimitMs === undefined ? {} : { timeLimitMs }),
        ...(options.makeStrategy === undefined ? {} : { makeStrategy: options.makeStrategy }),
        ...(options.backendPath === undefined ? {} : { backendPath: options.backendPath }),
        ...(options.onRun === undefined ? {} : { onRun: options.onRun }),
      });
      if (result.failure !== undefined && db !== undefined) {
        try {
          db.save(makeFixture(name, variant, result.failure, options.backendPath));
        } catch {
          // The example database is a cache: where it cannot be written, the failure is only not remembered.
        }
      }
    }
    results.push(result);
    // The failure is reported before any write of it, so a write that fails cannot hide it.
    options.onResult?.(result);
    if (result.failure !== undefined && options.saveFailuresDir !== undefined) {
      result.savedFixture = saveFixture(options.saveFailuresDir, makeFixture(name, variant, result.failure, options.backendPath));
      options.onSaved?.(result, result.savedFixture);
    }
  }
  return results;
}

/** Write `fixture` into `dir` (created if missing); a failure is a one-line `E_BAD_INPUT` naming the file. */
export function saveFixture(dir: string, fixture: Fixture): string {
  makeDirs(dir);
  const path = join(dir, fixtureFileName(fixture));
  try {
    writeFileSync(path, `${JSON.stringify(fixture, null, 2)}\n`);
  } catch (error) {
    throw new SpillsimError('E_BAD_INPUT', `cannot save the failure to ${path}: ${describeFsError(error)}`);
  }
  return path;
}

/** Replay the database's failures for one suite; the first that still fails is the result. */
async function replayExamples(db: ExampleDb, name: string, variant: string, context: BuildContext, options: CheckOptions): Promise<CheckedSuite | undefined> {
  const suite = suiteOrThrow(name);
  for (const entry of db.entries(name, variant, options.backendPath)) {
    const started = performance.now();
    const replay = await replayFixture(entry.path, entry.value, { context });
    options.onRun?.();
    if (replay.verdict === 'now-passes' || replay.verdict === 'no-longer-valid' || replay.violation === undefined) {
      db.remove(entry.path);
      continue;
    }
    const fixture = entry.value as Fixture;
    return {
      suite: name,
      variant,
      ok: false,
      runs: 1,
      commands: fixture.commands.length,
      interrupted: false,
      timeMs: performance.now() - started,
      fromExampleDb: entry.path,
      failure: {
        seed: fixture.seed,
        path: fixture.path,
        shrunk: replay.trace ?? [],
        replay: typeof fixture.replay === 'string' ? fixture.replay : `spillsim replay ${relative(process.cwd(), entry.path)}`,
        violation: replay.violation,
        options: fixture.options,
        commands: fixture.commands,
        ...(fixture.input === undefined ? {} : { input: fixture.input }),
        explanation: suite.kind === 'sampled' ? [] : await explainFailure(suite, variant, fixture.options, fixture.commands, replay.violation, context),
      },
    };
  }
  return undefined;
}
