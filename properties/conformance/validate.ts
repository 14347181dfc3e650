import { type ClauseVerdict, NO_HIDDEN_STATE_ID, skippedByBudget, unjudged, wholeRunCommand } from './clause.js';
import { type DifferentialResult } from './differential.js';
import { runIsolated, RunCutOffs } from './isolated_runner.js';
import { type Lane, planLanes } from './lanes.js';
import type { WorkerJob } from './worker_protocol.js';
import { POLICY_CLAUSES } from './policy_clauses.js';
import { BACKEND_CLAUSE_IDS, type BackendClause } from './backend_clauses.js';
import { CLAUSE_CAP_FACTOR, selectClauses } from './run_backend_clauses.js';
import { SUITE_RUNS_DEFAULT, SUITE_UNIT_PREFIX, SUITE_UNITS, suiteVerdictBase } from './suite_units.js';

/** Seed used when none is given, so a plain `spillsim validate` repeats exactly. */
export const SEED_DEFAULT = 42;
/**
 * How long a clause may go without the backend answering a call before it counts as stuck;
 * generous because a real file backend on a busy disk is slow, not broken. A clause may take
 * `CLAUSE_CAP_FACTOR` times this in all while the backend keeps answering.
 */
export const CLAUSE_TIMEOUT_MS_DEFAULT = 10_000;
export { isTimerMs, TIMEOUT_MS_MAX } from './isolated_runner.js';
/** Clauses cut off (stuck, too slow, killed) before the rest are skipped: a hostile module costs at most this many limits. */
export const CLAUSE_CUT_OFFS_MAX = 2;

export interface ValidateOptions {
  seed?: number;
  timeoutMs?: number;
  /** Run only these clause ids (default: all). */
  clauseIds?: readonly string[];
  /** A recorded counterexample for a stochastic clause (`--example`). */
  example?: unknown;
  /** Told about each verdict as soon as it is known. */
  onVerdict?: (verdict: ClauseVerdict) => void;
  /** When the whole run must end (epoch ms); clauses not run by then are not applicable (skipped). */
  deadline?: number;
}

/**
 * Run the backend clauses against a module, isolated with a time limit per clause: the clauses
 * that count the process's descriptors in a child process of their own, the rest in worker
 * threads, several lanes side by side (`planLanes`). Verdicts come back in catalog order; the
 * module failing to load throws `E_BAD_INPUT`.
 */
export async function validateBackend(moduleSpecifier: string, options: ValidateOptions = {}): Promise<ClauseVerdict[]> {
  const clauses = selectClauses(options.clauseIds);
  const results = await runLanes(moduleSpecifier, clauses, [], options);
  return clauses.map((c) => results.get(c.id)!);
}

/** Per property suite in all (generating runs, then shrinking a failure), however steadily the backend answers. */
export const SUITE_TIMEOUT_MS_DEFAULT = 30_000;

interface LaneOptions extends ValidateOptions {
  runs?: number;
}

/**
 * Run clauses and suites in lanes side by side, each lane in its own isolated worker (or child
 * process), under one deadline. A unit cut off (stuck, too slow, killed) becomes a timeout
 * verdict; after `CLAUSE_CUT_OFFS_MAX` clauses were cut off, in any lane, every clause lane
 * stops, and after one suite was, every suite lane (the others would be cut off the same way,
 * each for its whole limit), so a hostile module costs about one time limit, not one per lane.
 */
async function runLanes(moduleSpecifier: string, clauses: readonly BackendClause[], suites: readonly string[], options: LaneOptions): Promise<Map<string, ClauseVerdict>> {
  const seed = options.seed ?? SEED_DEFAULT;
  const timeoutMs = options.timeoutMs ?? CLAUSE_TIMEOUT_MS_DEFAULT;
  const clauseCutOffs = new RunCutOffs(CLAUSE_CUT_OFFS_MAX);
  const suiteCutOffs = new RunCutOffs(1);
  const shared = {
    ...(options.deadline === undefined ? {} : { deadline: options.deadline }),
    ...(options.onVerdict === undefined ? {} : { onResult: (_unit: string, verdict: ClauseVerdict) => options.onVerdict!(verdict) }),
  };
  const clauseBase = verdictBaseAmong(clauses);
  const runLane = (lane: Lane): Promise<Map<string, ClauseVerdict>> => {
    if (lane.kind === 'backend-clauses') {
      return runIsolated<ClauseVerdict>(
        { kind: 'backend-clauses', module: moduleSpecifier, units: lane.units, seed, timeoutMs, unitCapMs: timeoutMs * CLAUSE_CAP_FACTOR, ...(options.example === undefined ? {} : { example: options.example }) },
        {
          ...shared,
          runCutOffs: clauseCutOffs,
          host: lane.host,
          cutOffsMax: CLAUSE_CUT_OFFS_MAX,
          skippedResult: (unit, detail) => skippedByBudget(clauseBase(unit), detail),
          timeoutResult: (unit, detail) => ({ ...clauseBase(unit), status: 'timeout', detail }),
        },
      );
    }
    const replay = wholeRunCommand(moduleSpecifier, seed);
    return runIsolated<ClauseVerdict>(
      { kind: 'suites', module: moduleSpecifier, units: lane.units, seed, timeoutMs, unitCapMs: SUITE_TIMEOUT_MS_DEFAULT, runs: options.runs ?? SUITE_RUNS_DEFAULT },
      {
        ...shared,
        runCutOffs: suiteCutOffs,
        host: lane.host,
        cutOffsMax: 1,
        skippedResult: (unit, detail) => ({ ...suiteVerdictBase(unit), status: 'not-applicable', detail }),
        timeoutResult: (unit, detail) => ({ ...suiteVerdictBase(unit), status: 'timeout', detail, replay }),
      },
    );
  };
  // A module that fails to load fails in every lane: the first says so, the others are stopped.
  const settled = await Promise.allSettled(
    planLanes(clauses, suites).map((lane) =>
      runLane(lane).catch((error: unknown) => {
        clauseCutOffs.stop();
        suiteCutOffs.stop();
        throw error;
      }),
    ),
  );
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
  const results = new Map<string, ClauseVerdict>();
  for (const r of settled) if (r.status === 'fulfilled') for (const [unit, verdict] of r.value) results.set(unit, verdict);
  return results;
}

/** What a verdict on the unit `unit`, one of `clauses`, starts from: its id, level and title. */
function verdictBaseAmong(clauses: readonly Pick<ClauseVerdict, 'id' | 'level' | 'title'>[]): (unit: string) => Pick<ClauseVerdict, 'id' | 'level' | 'title'> {
  return (unit) => {
    const clause = clauses.find((c) => c.id === unit)!;
    return { id: clause.id, level: clause.level, title: clause.title };
  };
}

/** Run a job whose units are clauses (in one worker); a unit cut off by the time limit becomes a timeout verdict. */
async function runClauseJob(
  job: WorkerJob,
  clauses: readonly Pick<ClauseVerdict, 'id' | 'level' | 'title'>[],
  onVerdict: ((verdict: ClauseVerdict) => void) | undefined,
  deadline?: number,
): Promise<ClauseVerdict[]> {
  const base = verdictBaseAmong(clauses);
  const results = await runIsolated<ClauseVerdict>(job, {
    cutOffsMax: CLAUSE_CUT_OFFS_MAX,
    ...(deadline === undefined ? {} : { deadline, skippedResult: (unit: string, detail: string) => skippedByBudget(base(unit), detail) }),
    timeoutResult: (unit, detail) => ({ ...base(unit), status: 'timeout', detail }),
    ...(onVerdict === undefined ? {} : { onResult: (_unit: string, verdict: ClauseVerdict) => onVerdict(verdict) }),
  });
  return clauses.map((c) => results.get(c.id)!);
}

/** Run the policy clauses against a policy module, isolated like the backend clauses. */
export async function validatePolicy(moduleSpecifier: string, options: Omit<ValidateOptions, 'clauseIds' | 'example'> & { budgetMs?: number } = {}): Promise<ClauseVerdict[]> {
  const job = {
    kind: 'policy-clauses' as const,
    module: moduleSpecifier,
    units: POLICY_CLAUSES.map((c) => c.id),
    seed: options.seed ?? SEED_DEFAULT,
    timeoutMs: options.timeoutMs ?? CLAUSE_TIMEOUT_MS_DEFAULT,
    unitCapMs: (options.timeoutMs ?? CLAUSE_TIMEOUT_MS_DEFAULT) * CLAUSE_CAP_FACTOR,
  };
  return runClauseJob(job, POLICY_CLAUSES, options.onVerdict, Date.now() + (options.budgetMs ?? RUN_BUDGET_MS_DEFAULT));
}

/** Run one backend through the differential trace against the in-memory reference. */
export async function validateDifferential(moduleSpecifier: string, options: Pick<ValidateOptions, 'seed' | 'timeoutMs'> & { deadline?: number } = {}): Promise<DifferentialResult> {
  const results = await runIsolated<DifferentialResult>(
    {
      kind: 'differential',
      module: moduleSpecifier,
      units: ['differential'],
      seed: options.seed ?? SEED_DEFAULT,
      timeoutMs: options.timeoutMs ?? CLAUSE_TIMEOUT_MS_DEFAULT,
    },
    {
      // A comparison the budget left unrun compared nothing: reported like a timeout (not the same bytes).
      ...(options.deadline === undefined ? {} : { deadline: options.deadline }),
      timeoutResult: (_unit, detail) => ({ status: 'timeout', steps: 0, detail, trace: [] }),
    },
  );
  return results.get('differential')!;
}

/** 0 when every clause held or does not apply, 1 when one is broken or timed out. */
export function exitCodeOf(verdicts: readonly ClauseVerdict[]): 0 | 1 {
  return verdicts.some((v) => v.status === 'broken' || v.status === 'timeout' || unjudged(v)) ? 1 : 0;
}

export { NO_HIDDEN_STATE_ID };

/**
 * Replay each broken verdict alone in a fresh worker, with a fresh instance of the module (a
 * clause with its recorded example, a suite with its shrunk case). One that does not fail
 * again failed because of state outside the replayed commands: it stays broken, says so in
 * plain words, and `determinism.no-hidden-state` is broken with it. Returns the verdicts,
 * amended.
 */
export async function confirmReproduces(
  moduleSpecifier: string,
  verdicts: readonly ClauseVerdict[],
  options: { seed?: number; timeoutMs?: number; deadline?: number } = {},
): Promise<ClauseVerdict[]> {
  const seed = options.seed ?? SEED_DEFAULT;
  const timeoutMs = options.timeoutMs ?? CLAUSE_TIMEOUT_MS_DEFAULT;
  const broken = verdicts.filter((v) => v.status === 'broken' && v.id !== NO_HIDDEN_STATE_ID);
  if (broken.length === 0) return verdicts.slice();
  // One fresh worker (a fresh module instance) for the clauses, one for the suites: each
  // replays only the broken units, so nothing that ran before them in this run is there.
  const clauses = broken.filter((v) => BACKEND_CLAUSE_IDS.includes(v.id));
  const suites = broken.filter((v) => v.id.startsWith(SUITE_UNIT_PREFIX) && v.suiteCase !== undefined);
  const again = new Map<string, ClauseVerdict>();
  if (clauses.length > 0) {
    const example = clauses.find((v) => v.example !== undefined)?.example;
    const replayed = await validateBackend(moduleSpecifier, {
      seed,
      timeoutMs,
      clauseIds: clauses.map((v) => v.id),
      ...(example === undefined ? {} : { example }),
      ...(options.deadline === undefined ? {} : { deadline: options.deadline }),
    });
    for (const v of replayed) again.set(v.id, v);
  }
  if (suites.length > 0) {
    const results = await runIsolated<ClauseVerdict>(
      {
        kind: 'suites',
        module: moduleSpecifier,
        units: suites.map((v) => v.id),
        seed,
        timeoutMs,
        unitCapMs: SUITE_TIMEOUT_MS_DEFAULT,
        runs: 1,
        replayCases: Object.fromEntries(suites.map((v) => [v.id, v.suiteCase!])),
      },
      {
        cutOffsMax: 1,
        ...(options.deadline === undefined ? {} : { deadline: options.deadline }),
        skippedResult: (unit, detail) => ({ ...suiteVerdictBase(unit), status: 'not-applicable', detail }),
        timeoutResult: (unit, detail) => ({ ...suiteVerdictBase(unit), status: 'timeout', detail }),
      },
    );
    for (const [id, v] of results) again.set(id, v);
  }
  const stray: string[] = [];
  const out = verdicts.map((verdict) => {
    const replayed = again.get(verdict.id);
    if (verdict.status !== 'broken' || replayed === undefined) return verdict;
    if (replayed.status === 'broken') return { ...verdict, reproduced: true };
    // Cut off or skipped (the budget): not known either way, so the verdict stands as found.
    if (replayed.status !== 'held') return verdict;
    stray.push(verdict.id);
    return {
      ...verdict,
      reproduced: false,
      detail: `${verdict.detail ?? ''}\n      NOT REPRODUCED: replayed alone in a fresh worker with a fresh instance of the module, it did not fail. What made it fail is state outside the replayed commands (a process-wide counter, a timer, files left behind); the whole run reproduces it: ${wholeRunCommand(moduleSpecifier, seed)}`,
      replay: wholeRunCommand(moduleSpecifier, seed),
    };
  });
  if (stray.length === 0) return out;
  const at = out.findIndex((v) => v.id === NO_HIDDEN_STATE_ID);
  const hidden: ClauseVerdict = {
    id: NO_HIDDEN_STATE_ID,
    level: 'required',
    title: out[at]?.title ?? 'two instances used in turn keep their data apart (no global state, no clock-based names)',
    status: 'broken',
    detail: `${stray.join(', ')} failed in this run but not when replayed alone in a fresh worker with a fresh module instance: the backend keeps state outside its instance (shared by every instance in the process), so its failures depend on what ran before`,
    replay: wholeRunCommand(moduleSpecifier, seed),
  };
  if (at >= 0) out[at] = hidden;
  else out.push(hidden);
  return out;
}

export interface ValidateAllOptions extends Omit<ValidateOptions, 'clauseIds'> {
  clauseIds?: readonly string[];
  /** Run the property suites after the clauses (default true; never with a clause subset). */
  suites?: boolean;
  runs?: number;
  /** The whole run (clauses, suites, fresh-worker replays) in ms; what is left when it is spent is skipped (not applicable). */
  budgetMs?: number;
}

/**
 * The whole run's default budget: a hostile module costs at most this; a correct one needs a few
 * seconds. Units not run when it is spent are reported not applicable (skipped), never held.
 */
export const RUN_BUDGET_MS_DEFAULT = 50_000;

/**
 * Everything `spillsim validate MODULE` runs, in order: the clauses, then (without a clause
 * subset) the property suites, then every failure replayed in a fresh worker. `describeBackend`
 * with a module path runs exactly this, so both give the same verdicts.
 */
export async function validateModule(moduleSpecifier: string, options: ValidateAllOptions = {}): Promise<ClauseVerdict[]> {
  const seed = options.seed ?? SEED_DEFAULT;
  const deadline = Date.now() + (options.budgetMs ?? RUN_BUDGET_MS_DEFAULT);
  const clauses = selectClauses(options.clauseIds);
  const withSuites = (options.suites ?? true) && (options.clauseIds === undefined || options.clauseIds.length === 0);
  const suites = withSuites ? SUITE_UNITS : [];
  const results = await runLanes(moduleSpecifier, clauses, suites, { ...options, deadline });
  const verdicts = [...clauses.map((c) => results.get(c.id)!), ...suites.map((u) => results.get(u)!)];
  return confirmReproduces(moduleSpecifier, verdicts, { seed, deadline, ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }) });
}
