import { describe, expect, it } from 'vitest';
import { SimRng } from '../sim/rng.js';
import { runSimulation } from '../sim/run.js';
import { chooseWorkloadShape, DEEP_OPS_MIN } from '../sim/workload.js';

/** Queue operations of a run (extends plus drains), from its stats. */
function ops(run: ReturnType<typeof runSimulation>): number {
  const stats = run.stats as { extendCalls: number; drainCalls: number };
  return stats.extendCalls + stats.drainCalls;
}

describe('deep runs', () => {
  it('--ops sets a seed\'s length: about that many queue operations', () => {
    const short = runSimulation({ seed: 4, ops: 2_000, faults: 'none' });
    const long = runSimulation({ seed: 4, ops: 20_000, faults: 'none' });
    expect(short.ok && long.ok).toBe(true);
    expect(ops(short)).toBeGreaterThan(1_500);
    expect(ops(long)).toBeGreaterThan(15_000);
    expect(ops(long)).toBeLessThan(40_000);
    expect(runSimulation({ seed: 4, ops: 20_000, faults: 'none' }).traceHash).toBe(long.traceHash);
  });

  it('the default swarm mixes in deep runs of at least 100,000 operations (seed 145 is the first)', () => {
    const deep: number[] = [];
    for (let seed = 1; seed <= 10_000; seed += 1) if (chooseWorkloadShape(new SimRng(seed).fork('workload'), { kind: 'single' }).deep) deep.push(seed);
    expect(deep[0]).toBe(145);
    // One in 1,024: about ten in ten thousand.
    expect(deep.length).toBeGreaterThan(3);
    expect(deep.length).toBeLessThan(25);
    // A deep run plans DEEP_OPS_MIN to DEEP_OPS_MAX operations, half of them extends; how many drains
    // the reader needs decides the rest (seed 2440 makes about 76,000, seed 2891 about 163,000).
    const run = runSimulation({ seed: 2891 });
    expect(run.ok).toBe(true);
    expect((run.workload as { deep: boolean }).deep).toBe(true);
    expect(ops(run)).toBeGreaterThanOrEqual(DEEP_OPS_MIN);
  });

  it('a run keeps no steps unless asked, and a tail trace is a ring of its last steps however long the run', () => {
    const none = runSimulation({ seed: 4, ops: 20_000, faults: 'none' });
    expect(none.trace).toBeUndefined();
    const tail = runSimulation({ seed: 4, ops: 20_000, faults: 'none', recordTrace: 'tail', tailSteps: 7 });
    expect(tail.traceHash).toBe(none.traceHash);
    expect(tail.trace!.map((s) => s.step)).toEqual(Array.from({ length: 7 }, (_, k) => tail.steps - 7 + k));
    expect(tail.trace!.at(-1)!.hash).toBe(tail.traceHash);
  });
});
