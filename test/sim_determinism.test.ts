import { describe, expect, it } from 'vitest';
import type { EntryDeque } from '../src/entry_deque.js';
import { PrefetchPolicy } from '../src/prefetch_policy.js';
import type { SpillPolicy } from '../src/spill_policy.js';
import { Threshold } from '../src/threshold.js';
import { checkDeterminism } from '../sim/determinism.js';
import { runSimulation } from '../sim/run.js';
import { SimRng } from '../sim/rng.js';
import { propertySeeds } from './support/seeds.js';

describe('a run is a pure function of its seed', () => {
  it('the same seed gives the same trace and hash, byte for byte, for every workload and variant', () => {
    for (const seed of propertySeeds()) {
      for (const workload of ['single', 'mesh', 'cluster'] as const) {
        for (const variant of ['fast', 'reference'] as const) {
          const a = runSimulation({ seed, workload, variant, recordTrace: 'full' });
          const b = runSimulation({ seed, workload, variant, recordTrace: 'full' });
          expect(b.traceHash, `seed ${seed} ${workload} ${variant}`).toBe(a.traceHash);
          expect(JSON.stringify(b)).toBe(JSON.stringify(a));
        }
      }
    }
  });

  it('the hash chains every step: the last step carries the run hash, and each step hash differs', () => {
    const run = runSimulation({ seed: 42, workload: 'mesh', recordTrace: 'full' });
    const trace = run.trace!;
    expect(trace).toHaveLength(run.steps);
    expect(trace.at(-1)!.hash).toBe(run.traceHash);
    expect(new Set(trace.map((s) => s.hash)).size).toBe(trace.length);
    expect(trace.map((s) => s.step)).toEqual(trace.map((_, i) => i));
  });

  it('different seeds give different traces', () => {
    const hashes = new Set<string>();
    for (let seed = 1; seed <= 50; seed += 1) hashes.add(runSimulation({ seed, workload: 'any' }).traceHash);
    expect(hashes.size).toBe(50);
  });

  it('a tail trace ends with the same steps as the full trace', () => {
    const full = runSimulation({ seed: 7, recordTrace: 'full' });
    const tail = runSimulation({ seed: 7, recordTrace: 'tail', tailSteps: 5 });
    expect(tail.trace).toEqual(full.trace!.slice(-5));
    expect(runSimulation({ seed: 7, recordTrace: 'none' }).trace).toBeUndefined();
  });

  it('--check-determinism agrees on a pure run', () => {
    const report = checkDeterminism({ seed: 1337, workload: 'cluster' });
    expect(report.deterministic).toBe(true);
    expect(report.splitStep).toBeUndefined();
    expect(report.first.traceHash).toBe(report.second.traceHash);
  });

  it('--check-determinism names the first step where two runs split', () => {
    // A policy with state shared across runs: the second run spills at a different moment.
    let callsAcrossRuns = 0;
    const leaky = (strategy: Threshold['strategy']): SpillPolicy => {
      const threshold = new Threshold(strategy, { thresholdBytes: 1 << 30, headReserveBytes: 0 });
      return {
        apply(deque: EntryDeque) {
          callsAcrossRuns += 1;
          if (callsAcrossRuns === 12) threshold.thresholdBytes = 0;
          threshold.apply(deque);
        },
      };
    };
    const report = checkDeterminism({ seed: 3, faults: 'none', policyFactory: (ctx) => [leaky(ctx.strategy), new PrefetchPolicy(1 << 20)] });
    expect(report.deterministic).toBe(false);
    expect(report.splitStep).toBeGreaterThan(0);
    expect(report.splitFirst?.hash).not.toBe(report.splitSecond?.hash);
    const before = report.first.trace!.filter((s) => s.step < report.splitStep!);
    expect(before.map((s) => s.hash)).toEqual(report.second.trace!.filter((s) => s.step < report.splitStep!).map((s) => s.hash));
  });

  it('sub-streams depend on their name only, not on draws made elsewhere', () => {
    const a = new SimRng(9);
    const b = new SimRng(9);
    for (let i = 0; i < 100; i += 1) a.next();
    expect(a.fork('faults/q0').next()).toBe(b.fork('faults/q0').next());
    expect(new SimRng(9).fork('x').next()).not.toBe(new SimRng(9).fork('y').next());
  });
});
