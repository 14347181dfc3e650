import { backendArgument } from '../process_backend/exec_specifier.js';
import type { ClauseVerdict } from './clause.js';
import { type DifferentialResult } from './differential.js';
import { runIsolated } from './isolated_runner.js';
import type { WorkerJob } from './worker_protocol.js';
import { POLICY_CLAUSES } from './policy_clauses.js';
import { selectClauses } from './run_backend_clauses.js';
import { SUITE_RUNS_DEFAULT, SUITE_UNIT_PREFIX, SUITE_UNITS } from './suite_units.js';

/** Seed used when none is given, so a plain `spillsim validate` repeats exactly. */
export const SEED_DEFAULT = 42;
/** Per clause; generous because a real file backend on a busy disk is slow, not broken. */
export const CLAUSE_TIMEOUT_MS_DEFAULT = 10_000;

export interface ValidateOptions {
  seed?: number;
  timeoutMs?: number;
  /** Run only these clause ids (default: all). */
  clauseIds?: readonly string[];
  /** A recorded counterexample for a stochastic clause (`--example`). */
  example?: unknown;
  /** Told about each verdict as soon as it is known. */
  onVerdict?: (verdict: ClauseVerdict) => void;
}

/**
 * Run the backend clauses against a module, isolated in a worker with a time limit per clause.
 * Verdicts come back in catalog order; the module failing to load throws `E_BAD_INPUT`.
 */
export async function validateBackend(moduleSpecifier: string, options: ValidateOptions = {}): Promise<ClauseVerdict[]> {
  const clauses = selectClauses(options.clauseIds);
  const job = {
    kind: 'backend-clauses' as const,
    module: moduleSpecifier,
    units: clauses.map((c) => c.id),
    seed: options.seed ?? SEED_DEFAULT,
    timeoutMs: options.timeoutMs ?? CLAUSE_TIMEOUT_MS_DEFAULT,
    ...(options.example === undefined ? {} : { example: options.example }),
  };
  return runClauseJob(job, clauses, options.onVerdict);
}

/** Run a job whose units are clauses; a unit cut off by the time limit becomes a timeout verdict. */
async function runClauseJob(
  job: WorkerJob,
  clauses: readonly Pick<ClauseVerdict, 'id' | 'level' | 'title'>[],
  onVerdict: ((verdict: ClauseVerdict) => void) | undefined,
): Promise<ClauseVerdict[]> {
  const results = await runIsolated<ClauseVerdict>(job, {
    timeoutResult: (unit, detail) => {
      const clause = clauses.find((c) => c.id === unit)!;
      return { id: clause.id, level: clause.level, title: clause.title, status: 'timeout', detail };
    },
    ...(onVerdict === undefined ? {} : { onResult: (_unit: string, verdict: ClauseVerdict) => onVerdict(verdict) }),
  });
  return clauses.map((c) => results.get(c.id)!);
}

/** Per property suite: generating runs gets half, shrinking a failure the rest. */
export const SUITE_TIMEOUT_MS_DEFAULT = 60_000;

/**
 * Run the property suites with the backend under the queue (wrapped by the fault injector),
 * isolated in a worker, one verdict per suite (`suite.<name>`).
 */
export async function validateSuites(
  moduleSpecifier: string,
  options: { seed?: number; runs?: number; timeoutMs?: number; after?: readonly ClauseVerdict[]; onVerdict?: (verdict: ClauseVerdict) => void } = {},
): Promise<ClauseVerdict[]> {
  // A backend that already hung on a clause would hang each suite the same way, for a suite's
  // whole time limit: report that instead of waiting it out nine times.
  const hung = options.after?.find((v) => v.status === 'timeout');
  if (hung !== undefined) {
    return SUITE_UNITS.map((unit) => {
      const verdict: ClauseVerdict = { ...suiteBase(unit), status: 'timeout', detail: `skipped: the backend already timed out in ${hung.id}`, replay: `spillsim validate ${backendArgument(moduleSpecifier)} --seed ${options.seed ?? SEED_DEFAULT}` };
      options.onVerdict?.(verdict);
      return verdict;
    });
  }
  const results = await runIsolated<ClauseVerdict>(
    {
      kind: 'suites',
      module: moduleSpecifier,
      units: SUITE_UNITS.slice(),
      seed: options.seed ?? SEED_DEFAULT,
      timeoutMs: options.timeoutMs ?? SUITE_TIMEOUT_MS_DEFAULT,
      runs: options.runs ?? SUITE_RUNS_DEFAULT,
    },
    {
      timeoutResult: (unit, detail) => ({ ...suiteBase(unit), status: 'timeout', detail, replay: `spillsim validate ${backendArgument(moduleSpecifier)} --seed ${options.seed ?? SEED_DEFAULT}` }),
      ...(options.onVerdict === undefined ? {} : { onResult: (_unit: string, verdict: ClauseVerdict) => options.onVerdict!(verdict) }),
    },
  );
  return SUITE_UNITS.map((u) => results.get(u)!);
}

function suiteBase(unit: string): Pick<ClauseVerdict, 'id' | 'level' | 'title'> {
  return { id: unit, level: 'stochastic', title: `property suite ${unit.slice(SUITE_UNIT_PREFIX.length)} passes with the backend under the queue` };
}

/** Run the policy clauses against a policy module, isolated like the backend clauses. */
export async function validatePolicy(moduleSpecifier: string, options: Omit<ValidateOptions, 'clauseIds' | 'example'> = {}): Promise<ClauseVerdict[]> {
  const job = {
    kind: 'policy-clauses' as const,
    module: moduleSpecifier,
    units: POLICY_CLAUSES.map((c) => c.id),
    seed: options.seed ?? SEED_DEFAULT,
    timeoutMs: options.timeoutMs ?? CLAUSE_TIMEOUT_MS_DEFAULT,
  };
  return runClauseJob(job, POLICY_CLAUSES, options.onVerdict);
}

/** Run one backend through the differential trace against the in-memory reference. */
export async function validateDifferential(moduleSpecifier: string, options: Pick<ValidateOptions, 'seed' | 'timeoutMs'> = {}): Promise<DifferentialResult> {
  const results = await runIsolated<DifferentialResult>(
    {
      kind: 'differential',
      module: moduleSpecifier,
      units: ['differential'],
      seed: options.seed ?? SEED_DEFAULT,
      timeoutMs: options.timeoutMs ?? CLAUSE_TIMEOUT_MS_DEFAULT,
    },
    { timeoutResult: (_unit, detail) => ({ status: 'timeout', steps: 0, detail, trace: [] }) },
  );
  return results.get('differential')!;
}

/** 0 when every clause held or does not apply, 1 when one is broken or timed out. */
export function exitCodeOf(verdicts: readonly ClauseVerdict[]): 0 | 1 {
  return verdicts.some((v) => v.status === 'broken' || v.status === 'timeout') ? 1 : 0;
}
