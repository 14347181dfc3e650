import type { BytesSpill } from '../../src/spill.js';
import { runSuite } from '../index.js';
import { SUITES } from '../suites/index.js';
import { plannedRuns, replaySeed, type SuiteResult } from '../run_suite.js';
import { countingSpill } from './counting_spill.js';
import { ArmedFaults } from './backend_lab.js';
import { FaultFs } from './fault_fs.js';
import { disposeEach, InstanceDirs } from './instances.js';
import { type BackendModule, describeThrown, type SpillCtxFs } from './backend_module.js';
import { type ClauseVerdict, wholeRunCommand } from './clause.js';

/** Suite verdicts carry this prefix, so they sit beside the clauses without clashing. */
export const SUITE_UNIT_PREFIX = 'suite.';
/** Runs per suite when validating: enough to exercise the failure paths, short enough to wait for. */
export const SUITE_RUNS_DEFAULT = 20;
const SHRUNK_LINES_SHOWN_MAX = 12;

/**
 * The suites that put the backend under their queues, as units. `determinism` and `end-to-end`
 * build their own storage: a "held" from them would say nothing about the backend, so they are
 * not part of a backend's verdict (`spillsim check` runs them).
 */
export const SUITE_UNITS: readonly string[] = SUITES.filter((suite) => suite.kind !== 'sampled' || suite.usesBackend).map((suite) => `${SUITE_UNIT_PREFIX}${suite.name}`);

/** What every verdict of a suite unit starts from: its id, level and title. */
export function suiteVerdictBase(unit: string): Pick<ClauseVerdict, 'id' | 'level' | 'title'> {
  return { id: unit, level: 'stochastic', title: `property suite ${unit.slice(SUITE_UNIT_PREFIX.length)} passes with the backend under the queue` };
}

/**
 * Why a suite run with the backend under its queues judged nothing of that backend, or undefined
 * when it judged something: no chunk the backend stored was ever fetched back (it drained nothing,
 * or every fetch failed, so the queue kept the data resident and the suite judged the queue), or
 * no run spilled at all. Such a suite is *not applicable*, never held. A suite that broke, or
 * finished no run (a timeout), is not this rule's business. The one rule `validate`,
 * `describeBackend` and `check --backend` share.
 */
export function suiteJudgedNothing(result: Pick<SuiteResult, 'ok' | 'runs' | 'interrupted'>, tally: { calls: number; fetched: number }): string | undefined {
  if (!result.ok || (result.interrupted && result.runs === 0) || tally.fetched > 0) return undefined;
  const why = tally.calls === 0 ? `: the ${result.runs} run(s) made never spilled (more --runs reach the backend)` : ` in ${tally.calls} backend call${tally.calls === 1 ? '' : 's'}: it drained nothing or every fetch failed`;
  return `no chunk the backend stored was ever fetched back${why}; this suite judged nothing of it`;
}

export interface SuiteUnitOptions {
  seed: number;
  runs: number;
  /** runSuite stops generating new runs after this long (reported as held, with fewer runs). */
  timeLimitMs: number;
  /** Told as the backend answers calls, so a slow backend is not taken for a stuck one. */
  onProgress?: (calls: number) => void;
  /** Replay this one case (`seed` is its seed) instead of searching: the check that a failure reproduces. */
  replayPath?: string;
  /** Told when the unit starts and stops waiting on the module's `dispose`, so a hang there is named. */
  onDispose?: (waiting: boolean) => void;
  /**
   * Told the one directory the unit's backend instances get their directories under, when it is
   * made: a worker stopped in the middle of the unit never reaches its own clean-up, so whoever
   * stopped it removes this.
   */
  onDir?: (dir: string) => void;
}

/**
 * One property suite with the backend under the queue: every system gets a fresh instance from
 * the factory, under the suite's own scripted faults (partial spills, failing fetches), so the
 * backend's failure paths and the injected ones are both exercised. A failure comes back shrunk
 * with its replay command.
 *
 * Not wrapped in the simulator's `FaultySpill` as well: the suites' models heal only their own
 * faults, so faults underneath read as stalls and bound breaches that a correct backend never
 * causes (measured: MemorySpill then "broke" 7 of 9 suites at seed 42).
 */
export async function runSuiteUnit(module: BackendModule, moduleSpecifier: string, unit: string, options: SuiteUnitOptions): Promise<ClauseVerdict> {
  const name = unit.slice(SUITE_UNIT_PREFIX.length);
  const base = suiteVerdictBase(unit);
  const made: BytesSpill[] = [];
  const dirs = new InstanceDirs('spillsim-validate-suite-', options.onDir);
  const makeStrategy = async (): Promise<BytesSpill> => {
    const dir = dirs.next();
    // ctx.fs as in the clauses (node:fs, no faults planned): a backend written to use it must not be refused here.
    const spill = await module.factory({ dir, faults: new ArmedFaults(), fs: new FaultFs() as unknown as SpillCtxFs });
    made.push(spill);
    return countingSpill(spill, tally);
  };
  const tally = { calls: 0, onCall: options.onProgress, fetched: 0 };
  try {
    if (options.replayPath !== undefined) {
      const replayed = await replaySeed(name, { seed: options.seed, path: options.replayPath, makeStrategy });
      const violation = replayed.outcome.violation;
      if (violation === undefined) return { ...base, status: 'held' };
      return { ...base, status: 'broken', detail: `${violation.rule}: ${violation.message}`, suiteCase: { seed: options.seed, path: options.replayPath } };
    }
    const result = await runSuite(name, { runs: options.runs, seed: options.seed, makeStrategy, backendPath: moduleSpecifier, timeLimitMs: options.timeLimitMs });
    if (result.ok && result.interrupted && result.runs === 0) {
      // No run finished at all: nothing was judged, so it is not held (a factory that never
      // resolves, or a backend too slow for one run in the share).
      return { ...base, status: 'timeout', detail: `no run finished within the ${options.timeLimitMs / 1000} s a suite may generate runs for (${tally.calls} backend calls made): stuck, or too slow for these limits`, replay: wholeRunCommand(moduleSpecifier, options.seed) };
    }
    const judgedNothing = suiteJudgedNothing(result, tally);
    if (judgedNothing !== undefined) return { ...base, status: 'not-applicable', detail: judgedNothing };
    if (result.ok && result.interrupted) {
      // Held for the runs made, and said so: never a plain "held" for runs the time did not allow.
      const planned = plannedRuns(name, options.runs);
      return { ...base, status: 'held', detail: `in ${result.runs} of ${planned} runs: the ${options.timeLimitMs / 1000} s a suite may generate runs for was spent (a slow backend gets fewer runs)` };
    }
    if (result.ok) return { ...base, status: 'held' };
    const failure = result.failure;
    if (failure === undefined) return { ...base, status: 'broken', detail: 'the suite failed without a counterexample', replay: wholeRunCommand(moduleSpecifier, options.seed) };
    const shrunk = failure.shrunk.slice(0, SHRUNK_LINES_SHOWN_MAX).join('\n        ');
    const more = failure.shrunk.length > SHRUNK_LINES_SHOWN_MAX ? `\n        … ${failure.shrunk.length - SHRUNK_LINES_SHOWN_MAX} more lines: the replay command prints the whole trace` : '';
    return {
      ...base,
      status: 'broken',
      detail: `${failure.violation.rule}: ${failure.violation.message}\n        ${shrunk}${more}`,
      replay: failure.replay,
      suiteCase: { seed: failure.seed, path: failure.path },
    };
  } catch (error) {
    return { ...base, status: 'broken', detail: `the suite stopped: ${describeThrown(error)}`, replay: wholeRunCommand(moduleSpecifier, options.seed) };
  } finally {
    await disposeEach(module, made, options.onDispose);
    dirs.remove();
  }
}
