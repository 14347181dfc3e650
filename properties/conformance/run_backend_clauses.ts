import { SpillsimError } from '../../src/errors.js';
import { BackendLab } from './backend_lab.js';
import { type BackendModule, describeThrown, DISPOSE_NAME, WAITING_FOR_DISPOSE } from './backend_module.js';
import { hungSkipDetail } from './isolated_runner.js';
import { BACKEND_CLAUSES, type BackendClause } from './backend_clauses.js';
import { ClauseBroken, ClauseBrokenWithExample, ClauseNotApplicable, ClauseTimedOut, type ClauseVerdict } from './clause.js';

export interface RunClauseOptions {
  seed: number;
  /** Per clause; an async hang (a promise that never settles) is cut off after this long. */
  timeoutMs: number;
  /** A recorded counterexample to replay (stochastic clauses). */
  example?: unknown;
  /** Told when the clause starts and stops waiting on the backend's factory. */
  onFactory?: (waiting: boolean) => void;
  /** Told when the clause starts and stops waiting on the module's `dispose`. */
  onDispose?: (waiting: boolean) => void;
  /** Told about each directory made for the backend. */
  onDir?: (dir: string) => void;
  /** Told after each backend call returns (the number of calls so far in this clause). */
  onProgress?: (calls: number) => void;
  /** How long the clause may take in all, however steadily the backend answers; default: 2 × timeoutMs. */
  capMs?: number;
}

/** A clause may run this many times its no-progress limit in all (a slow backend still answering). */
export const CLAUSE_CAP_FACTOR = 2;

/**
 * Run one clause in this thread against a loaded module. Every outcome is a verdict: a throw,
 * a garbage answer or an async hang never escapes. (A synchronous infinite loop cannot be cut
 * off in-thread; the isolated runner runs this inside a worker for that.)
 */
export async function runBackendClause(module: BackendModule, clause: BackendClause, options: RunClauseOptions): Promise<ClauseVerdict> {
  const verdict = await judgeClause(module, clause, options);
  return module.endClause === undefined ? verdict : withClauseEnd(verdict, module.endClause());
}

/** A problem ending the clause breaks a clause that held; the backend's log goes under a verdict that did not hold. */
function withClauseEnd(verdict: ClauseVerdict, end: { log: string; problem?: string }): ClauseVerdict {
  if (end.problem !== undefined && (verdict.status === 'held' || verdict.status === 'not-applicable')) return { ...verdict, status: 'broken', detail: end.problem };
  const lines = end.log.split('\n').filter((line) => line.trim() !== '');
  if (verdict.status === 'held' || verdict.status === 'not-applicable' || lines.length === 0 || verdict.detail?.includes('child stderr')) return verdict;
  const shown = lines.slice(-LOG_LINES_SHOWN_MAX);
  return { ...verdict, detail: [verdict.detail ?? '', `        child stderr${lines.length > shown.length ? ` (last ${shown.length} lines)` : ''}:`, ...shown.map((l) => `          ${l}`)].join('\n') };
}

/** Lines of a backend's log shown under a verdict. */
const LOG_LINES_SHOWN_MAX = 12;

async function judgeClause(module: BackendModule, clause: BackendClause, options: RunClauseOptions): Promise<ClauseVerdict> {
  const base = { id: clause.id, level: clause.level, title: clause.title };
  const notApplicable = notApplicableReason(clause, module);
  if (notApplicable !== undefined) return { ...base, status: 'not-applicable', detail: notApplicable };
  const lab = new BackendLab(module);
  lab.onDir = options.onDir;
  lab.onProgress = options.onProgress;
  let waitingOnFactory = false;
  lab.onFactory = (waiting) => {
    waitingOnFactory = waiting;
    options.onFactory?.(waiting);
  };
  let waitingOnDispose = false;
  lab.onDispose = (waiting) => {
    waitingOnDispose = waiting;
    options.onDispose?.(waiting);
  };
  // Stuck is told from slow by progress: the limit restarts whenever a backend call returned.
  let timer: NodeJS.Timeout | undefined;
  const startedAt = Date.now();
  const capMs = options.capMs ?? options.timeoutMs * CLAUSE_CAP_FACTOR;
  let seenCalls = 0;
  let why = '';
  const timedOut = new Promise<'timeout'>((resolve) => {
    const check = (): void => {
      const elapsed = Date.now() - startedAt;
      // No call returned since the last look is stuck, even at the cap: "still answering" would be false.
      if (lab.calls === seenCalls) {
        why = waitingOnFactory ? 'waiting for the factory to resolve' : waitingOnDispose ? WAITING_FOR_DISPOSE : 'waiting for the backend';
        why = `no answer within ${options.timeoutMs} ms (${why})`;
        resolve('timeout');
      } else if (elapsed >= capMs) {
        const now = waitingOnDispose ? `, now ${WAITING_FOR_DISPOSE}` : '';
        why = `still answering after ${elapsed} ms (${lab.calls} backend calls made${now}), past the ${capMs} ms a clause may take: too slow for these limits, not hung`;
        resolve('timeout');
      } else {
        seenCalls = lab.calls;
        timer = setTimeout(check, Math.min(options.timeoutMs, capMs - elapsed));
      }
    };
    timer = setTimeout(check, Math.min(options.timeoutMs, capMs));
  });
  try {
    const checkOptions = { seed: options.seed, ...(options.example === undefined ? {} : { example: options.example }) };
    // The clause, then every instance disposed, under the same limit: a dispose that never
    // returns is cut off and named, as a hang in any other call is.
    const judged = clause.check(lab, checkOptions).then(
      async (): Promise<ClauseVerdict> => {
        await lab.close();
        return { ...base, status: 'held' };
      },
      async (error: unknown): Promise<ClauseVerdict> => {
        await lab.close().catch(() => undefined);
        return verdictOfError(base, error);
      },
    );
    const outcome = await Promise.race([judged, timedOut]);
    if (outcome === 'timeout') {
      lab.abandon();
      return { ...base, status: 'timeout', detail: why };
    }
    return outcome;
  } catch (error) {
    // Closing the lab after a clause that held failed: a dispose that threw or did not answer.
    return verdictOfError(base, error);
  } finally {
    clearTimeout(timer);
  }
}

function notApplicableReason(clause: BackendClause, module: BackendModule): string | undefined {
  if (clause.requires !== undefined && module.supports[clause.requires] !== true) return `needs supports.${clause.requires}, which the module does not declare`;
  return clause.notApplicable?.(module.supports);
}

function verdictOfError(base: Pick<ClauseVerdict, 'id' | 'level' | 'title'>, error: unknown): ClauseVerdict {
  if (error instanceof ClauseNotApplicable) return { ...base, status: 'not-applicable', detail: error.message };
  if (error instanceof ClauseTimedOut) return { ...base, status: 'timeout', detail: error.message };
  if (error instanceof ClauseBrokenWithExample) return { ...base, status: 'broken', detail: error.message, example: error.example };
  if (error instanceof ClauseBroken) return { ...base, status: 'broken', detail: error.message };
  // Anything else came out of the backend outside a guarded call (a getter, a callback).
  return { ...base, status: 'broken', detail: `the backend threw ${describeThrown(error)}` };
}

/** The clauses to run: all of them, or the named ones (an unknown name is bad input). */
export function selectClauses(ids: readonly string[] | undefined): BackendClause[] {
  if (ids === undefined || ids.length === 0) return BACKEND_CLAUSES.slice();
  return ids.map((id) => {
    const clause = BACKEND_CLAUSES.find((c) => c.id === id);
    if (clause === undefined) throw new SpillsimError('E_BAD_INPUT', `unknown clause ${id}; known clauses: ${BACKEND_CLAUSES.map((c) => c.id).join(', ')}`);
    return clause;
  });
}

/**
 * Run clauses one after another in this thread. When a clause timed out waiting for the
 * factory (or for `dispose`), every later clause would wait for it the same way, so they are
 * reported as timeouts at once instead of each burning its own time limit.
 */
export async function runBackendClauses(
  module: BackendModule,
  clauses: readonly BackendClause[],
  options: RunClauseOptions & { onStart?: (clause: BackendClause) => void; afterClause?: () => Promise<void>; onVerdict?: (verdict: ClauseVerdict) => void },
): Promise<ClauseVerdict[]> {
  const verdicts: ClauseVerdict[] = [];
  let hung: { what: string; unit: string } | undefined;
  for (const clause of clauses) {
    options.onStart?.(clause);
    let verdict: ClauseVerdict;
    if (hung !== undefined && notApplicableReason(clause, module) === undefined) {
      verdict = { id: clause.id, level: clause.level, title: clause.title, status: 'timeout', detail: hungSkipDetail(hung.what, hung.unit) };
    } else {
      let waiting: string | undefined;
      verdict = await runBackendClause(module, clause, {
        ...options,
        onFactory: (w) => {
          waiting = w ? 'the factory' : undefined;
          options.onFactory?.(w);
        },
        onDispose: (w) => {
          waiting = w ? DISPOSE_NAME : undefined;
          options.onDispose?.(w);
        },
      });
      if (verdict.status === 'timeout' && waiting !== undefined) hung = { what: waiting, unit: clause.id };
    }
    await options.afterClause?.();
    verdicts.push(verdict);
    options.onVerdict?.(verdict);
  }
  return verdicts;
}
