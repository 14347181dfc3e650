import { describeThrown, loadPolicyModule, type PolicyModule } from './backend_module.js';
import { ClauseBroken, type ClauseSpec, type ClauseVerdict } from './clause.js';
import { FETCH_FAILS_EVERY, knobsOf, type PolicyRun, runPolicyScenario, SCENARIO_PIECE_BYTES_MAX, shippedPair } from './policy_scenario.js';
import { byteDiff } from './sample_chunks.js';
import type { WorkerJob, WorkerMessage } from './worker_protocol.js';

/** Seeded runs per clause: the first is `seed`, then `seed + 1`, … */
const POLICY_RUNS = 3;

type PolicyClause = Omit<ClauseSpec<never>, 'check'> & { judge(run: PolicyRun, module: PolicyModule, seed: number): string | undefined };

/** A judgement that cannot be made for this module (said in the verdict, never counted as held). */
class PolicyNotApplicable extends Error {}

/** What a policy pair must never do to the queue it runs on. */
export const POLICY_CLAUSES: readonly PolicyClause[] = [
  {
    id: 'policy.no-loss',
    level: 'required',
    title: 'every byte the writer extended reaches the reader',
    judge: (run) =>
      run.deliveredBytes.length < run.writtenBytes.length
        ? `${run.writtenBytes.length - run.deliveredBytes.length} of ${run.writtenBytes.length} bytes never came out of the queue${
            run.fetchFailures > 0 ? ` (every ${FETCH_FAILS_EVERY}th fetch failed, ${run.fetchFailures} in all, handing its handle back: a reader policy that drops that handle instead of putting it back loses the entry)` : ''
          }`
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
  {
    id: 'policy.memory-bound',
    level: 'required',
    title: 'while the reader is idle, resident bytes stay within the bound the module declares (residentBytesMax), or else within what the shipped Threshold + PrefetchPolicy pair with the same knobs keeps',
    judge: (run, module, seed) => {
      if (module.residentBytesMax !== undefined) {
        const bound = module.residentBytesMax;
        return run.residentMaxBytes > bound ? `the queue held ${run.residentMaxBytes} bytes resident after a writer step, above the ${bound} bytes the module declares (residentBytesMax)` : undefined;
      }
      const knobs = knobsOf(module.factory);
      if (knobs === undefined) throw new PolicyNotApplicable('the module declares no residentBytesMax, and its writer policy has no thresholdBytes / headReserveBytes to compare with the shipped pair');
      const shipped = runPolicyScenario(shippedPair(knobs), seed).residentMaxBytes;
      const bound = shipped + SCENARIO_PIECE_BYTES_MAX;
      return run.residentMaxBytes > bound
        ? `the queue held ${run.residentMaxBytes} bytes resident after a writer step; the shipped Threshold + PrefetchPolicy pair with the same knobs (threshold ${knobs.thresholdBytes} B, head reserve ${knobs.headReserveBytes} B) held at most ${shipped} bytes in the same run (allowed: ${bound}, one piece more)`
        : undefined;
    },
  },
];

export const POLICY_CLAUSE_IDS: readonly string[] = POLICY_CLAUSES.map((c) => c.id);

/** Judge one clause over the seeded runs; the first run that breaks it is the counterexample. */
export function checkPolicyClause(module: PolicyModule, clause: PolicyClause, seed: number): ClauseVerdict {
  const base = { id: clause.id, level: clause.level, title: clause.title };
  for (let k = 0; k < POLICY_RUNS; k += 1) {
    let problem: string | undefined;
    try {
      problem = clause.judge(runPolicyScenario(module.factory, seed + k), module, seed + k);
    } catch (error) {
      if (error instanceof PolicyNotApplicable) return { ...base, status: 'not-applicable', detail: error.message };
      problem = error instanceof ClauseBroken ? error.message : `the policy threw ${describeThrown(error)}`;
    }
    if (problem !== undefined) return { ...base, status: 'broken', detail: `run with seed ${seed + k}: ${problem}` };
  }
  return { ...base, status: 'held' };
}

/** The worker side of a `policy-clauses` job. */
export async function runPolicyClauses(job: Extract<WorkerJob, { kind: 'policy-clauses' }>, post: (m: WorkerMessage) => void): Promise<'ok' | 'load-error'> {
  let module: PolicyModule;
  try {
    module = await loadPolicyModule(job.module);
    post({ type: 'loaded' });
  } catch (error) {
    post({ type: 'load-error', message: error instanceof Error ? error.message : String(error) });
    return 'load-error';
  }
  for (const id of job.units) {
    const clause = POLICY_CLAUSES.find((c) => c.id === id);
    if (clause === undefined) continue;
    post({ type: 'start', unit: id });
    post({ type: 'result', unit: id, result: checkPolicyClause(module, clause, job.seed) });
  }
  return 'ok';
}
