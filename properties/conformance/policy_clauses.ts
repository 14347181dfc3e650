import { describeThrown, loadPolicyModule, type PolicyFactory } from './backend_module.js';
import { ClauseBroken, type ClauseSpec, type ClauseVerdict } from './clause.js';
import { type PolicyRun, runPolicyScenario } from './policy_scenario.js';
import { byteDiff } from './sample_chunks.js';
import type { WorkerJob, WorkerMessage } from './worker_protocol.js';

/** Seeded runs per clause: the first is `seed`, then `seed + 1`, … */
const POLICY_RUNS = 3;

type PolicyClause = Omit<ClauseSpec<never>, 'check'> & { judge(run: PolicyRun): string | undefined };

/** What a policy pair must never do to the queue it runs on. */
export const POLICY_CLAUSES: readonly PolicyClause[] = [
  {
    id: 'policy.no-loss',
    level: 'required',
    title: 'every byte the writer extended reaches the reader',
    judge: (run) =>
      run.deliveredBytes.length < run.writtenBytes.length
        ? `${run.writtenBytes.length - run.deliveredBytes.length} of ${run.writtenBytes.length} bytes never came out of the queue`
        : undefined,
  },
  {
    id: 'policy.no-duplication',
    level: 'required',
    title: 'no byte reaches the reader twice',
    judge: (run) =>
      run.deliveredBytes.length > run.writtenBytes.length
        ? `${run.deliveredBytes.length - run.writtenBytes.length} bytes more came out than the writer extended (${run.writtenBytes.length})`
        : undefined,
  },
  {
    id: 'policy.order-kept',
    level: 'required',
    title: 'the reader receives the bytes in the order they were written',
    judge: (run) => (run.deliveredBytes.length === run.writtenBytes.length ? byteDiff(run.writtenBytes, run.deliveredBytes) : undefined),
  },
  {
    id: 'policy.merge-target-resident',
    level: 'required',
    title: "the writer's merge target stays usable: after every extend the last entry is resident",
    judge: (run) => run.mergeTargetProblem,
  },
  {
    id: 'policy.reader-progress',
    level: 'required',
    title: 'the reader never stalls: once the writer is done, drains keep delivering until the queue is empty',
    judge: (run) => run.stall,
  },
];

export const POLICY_CLAUSE_IDS: readonly string[] = POLICY_CLAUSES.map((c) => c.id);

/** Judge one clause over the seeded runs; the first run that breaks it is the counterexample. */
export function checkPolicyClause(factory: PolicyFactory, clause: PolicyClause, seed: number): ClauseVerdict {
  const base = { id: clause.id, level: clause.level, title: clause.title };
  for (let k = 0; k < POLICY_RUNS; k += 1) {
    let problem: string | undefined;
    try {
      problem = clause.judge(runPolicyScenario(factory, seed + k));
    } catch (error) {
      problem = error instanceof ClauseBroken ? error.message : `the policy threw ${describeThrown(error)}`;
    }
    if (problem !== undefined) return { ...base, status: 'broken', detail: `run with seed ${seed + k}: ${problem}` };
  }
  return { ...base, status: 'held' };
}

/** The worker side of a `policy-clauses` job. */
export async function runPolicyClauses(job: Extract<WorkerJob, { kind: 'policy-clauses' }>, post: (m: WorkerMessage) => void): Promise<'ok' | 'load-error'> {
  let factory: PolicyFactory;
  try {
    factory = await loadPolicyModule(job.module);
    post({ type: 'loaded' });
  } catch (error) {
    post({ type: 'load-error', message: error instanceof Error ? error.message : String(error) });
    return 'load-error';
  }
  for (const id of job.units) {
    const clause = POLICY_CLAUSES.find((c) => c.id === id);
    if (clause === undefined) continue;
    post({ type: 'start', unit: id });
    post({ type: 'result', unit: id, result: checkPolicyClause(factory, clause, job.seed) });
  }
  return 'ok';
}
