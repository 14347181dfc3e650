/**
 * A stand-in campaign worker that only allocates short-lived objects (as a simulation step
 * does: entries, views, trace records): the second control of the campaign-scaling benchmark.
 * Where the CPU-loop control scales and this one does not, two workers are held back by the
 * machine's memory system, not by the pool or the simulator.
 */
import type { CampaignTask } from '../sim/campaign_worker.js';
import type { SimRunResult } from '../sim/trace.js';

/** Objects per seed: a few milliseconds, about what one simulation seed costs. */
const OBJECTS_PER_SEED = 100_000;

export default function runAllocBoundTask(task: CampaignTask): SimRunResult[] {
  return task.seeds.map((seed) => {
    let x = seed >>> 0;
    for (let i = 0; i < OBJECTS_PER_SEED; i += 1) {
      const record = { step: i, sizes: [x & 0xff, i & 0xff], actor: i & 1 ? 'writer' : 'reader' };
      x = (x + record.sizes.length + record.actor.length) >>> 0;
    }
    return { seed, ok: true, traceHash: x.toString(16), steps: 0 };
  });
}
