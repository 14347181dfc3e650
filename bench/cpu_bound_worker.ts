/**
 * A stand-in campaign worker that only burns CPU (a fixed loop per seed): the control for the
 * campaign-scaling benchmark. If even this does not run twice as fast on two workers, the
 * machine did not have two free cores to give, whatever the simulator does.
 */
import type { CampaignTask } from '../sim/campaign_worker.js';
import type { SimRunResult } from '../sim/trace.js';

/** Iterations per seed: a few milliseconds, about what one simulation seed costs. */
const LOOP_ITERATIONS_PER_SEED = 2_000_000;

export default function runCpuBoundTask(task: CampaignTask): SimRunResult[] {
  return task.seeds.map((seed) => {
    let x = seed >>> 0;
    for (let i = 0; i < LOOP_ITERATIONS_PER_SEED; i += 1) x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return { seed, ok: true, traceHash: x.toString(16), steps: 0 };
  });
}
