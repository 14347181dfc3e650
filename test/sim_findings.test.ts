import { describe, expect, it } from 'vitest';
import type { Bytes } from '../src/bytes.js';
import type { EntryDeque } from '../src/entry_deque.js';
import { PrefetchPolicy } from '../src/prefetch_policy.js';
import { ReferenceThreshold } from '../src/reference_threshold.js';
import type { BytesFetch, BytesSpill } from '../src/spill.js';
import type { SpillPolicy } from '../src/spill_policy.js';
import { Threshold } from '../src/threshold.js';
import type { SimOptions } from '../sim/options.js';
import { runSimulation } from '../sim/run.js';
import type { SimRunResult } from '../sim/trace.js';

/**
 * The questions at the end of SPEC Part A, each answered by seeds of the simulator. The
 * README ("What the simulator showed") quotes these seeds with their commands.
 */

function outcomes(options: Omit<SimOptions, 'seed'>, seeds: number): Map<string, number[]> {
  const byInvariant = new Map<string, number[]>();
  for (let seed = 1; seed <= seeds; seed += 1) {
    const key = runSimulation({ ...options, seed, recordTrace: 'none' }).violation?.invariant ?? 'ok';
    byInvariant.set(key, [...(byInvariant.get(key) ?? []), seed]);
  }
  return byInvariant;
}

type Stats = { emptyExtendSpills: number; readCacheBytesPeak: number };
const stats = (r: SimRunResult): Stats => r.stats as Stats;

describe('finding 10: a source that completed while its reader still receives from others', () => {
  it('is not a livelock: the reader finishes once every source is complete (seed 25290, a deep cluster run of the million-seed campaign)', () => {
    // Worker 0's own queue 0->0 completes early; the worker then receives a long paged backlog
    // from the other process, one message a step, for more steps than the per-queue window.
    const result = runSimulation({ seed: 25290, workload: 'any' });
    expect(result.violation).toBeUndefined();
    expect(result.ok).toBe(true);
    expect(result.steps).toBeGreaterThan(245_799);
  });
});

describe('SPEC Part A: points worth probing', () => {
  it('the accumulator stall guard stalls a consumer that keeps its accumulator across rounds; the produced guard does not', () => {
    const hold = { consumerHoldBytes: 1 << 20 } as const;
    const stalled = runSimulation({ seed: 1, stallGuard: 'accumulator', ...hold });
    expect(stalled.violation?.invariant).toBe('no-stall');
    expect(stalled.violation?.message).toMatch(/^reader is parked with no buzz pending while q0 has a paged entry at its front that can be fetched now/);
    const accumulator = outcomes({ stallGuard: 'accumulator', ...hold }, 60);
    expect([...accumulator.keys()].sort()).toEqual(['no-stall', 'ok']);
    expect(accumulator.get('no-stall')).toHaveLength(13);
    expect(runSimulation({ seed: 1, stallGuard: 'produced', ...hold }).ok).toBe(true);
    expect([...outcomes({ stallGuard: 'produced', ...hold }, 60).keys()]).toEqual(['ok']);
    // With timely's own loops (the accumulator is flushed every round, as the library's Config
    // does for every mesh and cluster) the reference guard holds.
    expect([...outcomes({ workload: 'any', variant: 'reference' }, 60).keys()]).toEqual(['ok']);
    expect(() => runSimulation({ seed: 1, workload: 'mesh', ...hold })).toThrow(/consumerHoldBytes applies to the single workload only/);
  });

  it('the writer policy runs on an empty extend, which is what retries the targets a partial spill left behind', () => {
    const run = runSimulation({ seed: 36, recordTrace: 'full' });
    expect(stats(run).emptyExtendSpills).toBeGreaterThan(0);
    const step = run.trace!.find((s) => s.op === 'spill' && s.chunks === 0)!;
    expect(step.detail).toMatch(/^extend of nothing \(the writer policy still runs\); q0: spilled [1-9]/);
  });

  it('a backend that batches chunks into one handle: the reference duplicates data, the fast Threshold refuses it', () => {
    const backendFactory = (): BytesSpill => new BatchingSpill();
    const reference = outcomes({ variant: 'reference', faults: 'none', backendFactory }, 20);
    expect([...reference.keys()].every((k) => k === 'no-duplicate' || k === 'ok')).toBe(true);
    expect(reference.get('no-duplicate')?.length).toBeGreaterThan(10);
    expect([...outcomes({ faults: 'none', backendFactory }, 20).keys()].filter((k) => k !== 'ok')).toEqual(['backend-contract']);
  });

  it('a backend that drains from the back: the reference reorders or loses data, the fast Threshold refuses it', () => {
    const backendFactory = (): BytesSpill => new BackDrainingSpill();
    const reference = outcomes({ variant: 'reference', faults: 'none', backendFactory }, 30);
    const broken = [...reference.keys()].filter((k) => k !== 'ok');
    expect(broken.length).toBeGreaterThan(0);
    for (const k of broken) expect(['no-reorder', 'no-loss', 'no-duplicate']).toContain(k);
    expect([...outcomes({ faults: 'none', backendFactory }, 30).keys()].filter((k) => k !== 'ok')).toEqual(['backend-contract']);
  });

  it('targets a spill did not drain stay resident: resident goes far above reserve + threshold, within the derived bound', () => {
    const run = runSimulation({ seed: 80, faults: ['spill-stop'], pattern: 'push-all-then-drain', recordTrace: 'full' });
    expect(run.ok).toBe(true);
    const limit = run.knobs!.thresholdBytes! + run.knobs!.headReserveBytes!;
    const peak = Math.max(...run.trace!.map((s) => s.queues?.q0?.residentBytes ?? 0));
    expect(peak).toBeGreaterThan(3 * limit);
    const step = run.trace!.find((s) => s.queues?.q0?.residentBytes === peak)!;
    expect(step.op).toBe('partial-spill');
  });

  it('no reader policy, or a prefetch budget of 0, never pages data back in; a permanent fetch failure blocks what is behind it', () => {
    expect(runSimulation({ seed: 1, prefetchBudgetBytes: 0 }).violation?.invariant).toBe('no-livelock');
    expect(runSimulation({ seed: 1, readerPolicy: 'none' }).violation?.invariant).toBe('no-livelock');
    const blocked = outcomes({ faults: ['fetch-forever'] }, 20);
    expect(blocked.get('data-blocked')?.length).toBeGreaterThan(5);
    expect([...blocked.keys()].every((k) => k === 'data-blocked' || k === 'ok')).toBe(true);
  });

  it('batch reads (the reference file backend) make a whole batch resident, beyond the prefetch budget; per-chunk reads hold nothing', () => {
    const reference = runSimulation({ seed: 3, variant: 'reference', faults: 'none' });
    expect(reference.ok).toBe(true);
    expect(stats(reference).readCacheBytesPeak).toBeGreaterThan(10 * reference.knobs!.prefetchBudgetBytes!);
    for (let seed = 1; seed <= 30; seed += 1) expect(stats(runSimulation({ seed, faults: 'none' })).readCacheBytesPeak).toBe(0);
  });

  it('ReferenceThreshold walks the whole deque on every extend; Threshold touches only the entries it spills', () => {
    const touched = { reference: 0, fast: 0, extendCalls: 0, lengthSum: 0 };
    const counting = (kind: 'reference' | 'fast', inner: SpillPolicy): SpillPolicy => ({
      apply(deque: EntryDeque) {
        if (kind === 'reference') {
          touched.extendCalls += 1;
          touched.lengthSum += deque.length;
        }
        inner.apply(countingDeque(deque, () => (touched[kind] += 1)));
      },
    });
    const options = { seed: 9, faults: 'none', pattern: 'push-all-then-drain', thresholdBytes: 1 << 30 } as const;
    runSimulation({ ...options, policyFactory: (ctx) => [counting('reference', new ReferenceThreshold(ctx.strategy, { thresholdBytes: ctx.thresholdBytes, headReserveBytes: ctx.headReserveBytes })), new PrefetchPolicy(1024)] });
    runSimulation({ ...options, policyFactory: (ctx) => [counting('fast', new Threshold(ctx.strategy, { thresholdBytes: ctx.thresholdBytes, headReserveBytes: ctx.headReserveBytes })), new PrefetchPolicy(1024)] });
    expect(touched.reference).toBe(touched.lengthSum);
    expect(touched.reference).toBeGreaterThan(50 * touched.extendCalls);
    expect(touched.fast).toBe(0);
  });
});

/** The deque as the policy sees it, counting every entry it reads. */
function countingDeque(deque: EntryDeque, onRead: () => void): EntryDeque {
  return new Proxy(deque, {
    get(target, key) {
      if (key === Symbol.iterator) {
        return function* () {
          for (const entry of target) {
            onRead();
            yield entry;
          }
        };
      }
      if (key === 'get') {
        return (i: number) => {
          onRead();
          return target.get(i);
        };
      }
      const value = Reflect.get(target, key, target) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

function oneShot(chunks: Bytes[]): BytesFetch {
  return { fetch: () => ({ ok: true, chunks }) };
}

/** Drains every chunk, pushes one handle for all of them. */
class BatchingSpill implements BytesSpill {
  spill(chunks: Bytes[], handles: BytesFetch[]): void {
    if (chunks.length > 0) handles.push(oneShot(chunks.splice(0)));
  }
}

/** Drains one chunk per call, from the back. */
class BackDrainingSpill implements BytesSpill {
  spill(chunks: Bytes[], handles: BytesFetch[]): void {
    const last = chunks.pop();
    if (last !== undefined) handles.push(oneShot([last]));
  }
}
