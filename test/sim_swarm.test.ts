import { describe, expect, it } from 'vitest';
import { runSimulation } from '../sim/run.js';
import type { SimRunResult } from '../sim/trace.js';

/**
 * Done-when of issue 3: 1,000 seeds of swarm mode pass on the shipped queue and policies.
 * Seeds 1..1000 with the workload picked by each seed (single, mesh, cluster; meshes and
 * clusters built by the library's Config, a cluster's links with the seed's latency), and each
 * fault kind switched on or off per seed. A failure prints the replay command of every failing seed.
 */
describe('swarm mode', () => {
  it('1,000 seeds across single, mesh and cluster workloads hold every invariant', () => {
    const failures: SimRunResult[] = [];
    const kinds = new Map<string, number>();
    let faultFree = 0;
    let spilled = 0;
    let failedFetches = 0;
    for (let seed = 1; seed <= 1000; seed += 1) {
      const result = runSimulation({ seed, workload: 'any', faults: 'swarm', recordTrace: 'none' });
      if (!result.ok) failures.push(result);
      const shape = result.workload as { kind: string };
      kinds.set(shape.kind, (kinds.get(shape.kind) ?? 0) + 1);
      if ((result.faultKinds as string[]).length === 0) faultFree += 1;
      const stats = result.stats as { spilledBytes: number; failedFetches: number };
      if (stats.spilledBytes > 0) spilled += 1;
      if (stats.failedFetches > 0) failedFetches += 1;
    }
    expect(failures.map((f) => `${f.replay}: ${f.violation?.invariant} at step ${f.violation?.step}: ${f.violation?.message}`)).toEqual([]);
    // The campaign really covered what it claims: every workload, seeds with and without faults, spills and failed fetches.
    expect([...kinds.keys()].sort()).toEqual(['cluster', 'mesh', 'single']);
    expect(faultFree).toBeGreaterThan(50);
    expect(faultFree).toBeLessThan(400);
    expect(spilled).toBeGreaterThan(500);
    expect(failedFetches).toBeGreaterThan(200);
  }, 120_000);
});
