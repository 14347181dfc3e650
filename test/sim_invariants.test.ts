import { describe, expect, it } from 'vitest';
import { Buzzer } from '../src/buzzer.js';
import type { Bytes } from '../src/bytes.js';
import type { EntryDeque } from '../src/entry_deque.js';
import { MergeQueue } from '../src/merge_queue.js';
import { PrefetchPolicy } from '../src/prefetch_policy.js';
import { bytesEntry, type BytesFetch, type BytesSpill, type FetchResult } from '../src/spill.js';
import type { SpillPolicy } from '../src/spill_policy.js';
import { Threshold } from '../src/threshold.js';
import { runSimulation } from '../sim/run.js';
import type { SimOptions } from '../sim/options.js';
import type { PolicyContext, QueueFactory, SimQueue } from '../sim/tracked_queue.js';

/**
 * Each invariant of the simulator, shown to fire on a queue, policy or backend broken on
 * purpose, and to stay quiet on the shipped ones with the same seeds.
 */

const BASE: Omit<SimOptions, 'seed'> = { workload: 'single', faults: 'none', pattern: 'push-all-then-drain', thresholdBytes: 256, headReserveBytes: 0, prefetchBudgetBytes: 1024 };

/** First seed in 1..40 whose run breaks `invariant`; fails the test with what happened instead. */
function firstSeedBreaking(invariant: string, options: Omit<SimOptions, 'seed'>): number {
  const seen: string[] = [];
  for (let seed = 1; seed <= 40; seed += 1) {
    const result = runSimulation({ ...BASE, ...options, seed });
    if (result.violation?.invariant === invariant) {
      expect(result.ok).toBe(false);
      expect(result.violation.step).toBeLessThan(result.steps);
      expect(result.trace?.length).toBeGreaterThan(0);
      expect(result.trace?.at(-1)?.step).toBe(result.violation.step);
      return seed;
    }
    seen.push(result.violation?.invariant ?? 'ok');
  }
  throw new Error(`no seed in 1..40 broke ${invariant}; outcomes: ${[...new Set(seen)].join(', ')}`);
}

/** The shipped pair, but the reader end is wrapped. */
function wrapReader(wrap: (reader: MergeQueue) => SimQueue): QueueFactory {
  return (buzzer, writer, reader, options) => {
    const [w, r] = MergeQueue.newPair(buzzer, writer, reader, options);
    return [w, wrap(r)];
  };
}

function shippedWriter(ctx: PolicyContext): SpillPolicy {
  return new Threshold(ctx.strategy, { thresholdBytes: ctx.thresholdBytes, headReserveBytes: ctx.headReserveBytes });
}

describe('the shipped queue and policies hold every invariant on these seeds', () => {
  it('passes with and without faults', () => {
    for (let seed = 1; seed <= 40; seed += 1) {
      expect(runSimulation({ ...BASE, seed }).violation).toBeUndefined();
      expect(runSimulation({ ...BASE, faults: 'swarm', seed }).violation).toBeUndefined();
    }
  });
});

describe('a cluster\'s network links have the seed\'s latency', () => {
  it('with every actor parked on bytes in flight the clock jumps, and the receive loop the arrival wakes runs next; a mesh never waits', () => {
    let jumps = 0;
    for (let seed = 1; seed <= 20; seed += 1) {
      const cluster = runSimulation({ seed, workload: 'cluster', faults: 'none', recordTrace: 'full' });
      expect(cluster.ok).toBe(true);
      const trace = cluster.trace!;
      for (let i = 1; i < trace.length; i += 1) {
        if (trace[i]!.timeTicks === trace[i - 1]!.timeTicks + 1) continue;
        jumps += 1;
        // Without faults the only timers are arrivals: the next step reads them off the link.
        expect({ seed, actor: trace[i]!.actor, moved: (trace[i]!.bytes ?? 0) > 0 }).toEqual({ seed, actor: expect.stringMatching(/^recv\[\d\]$/), moved: true });
      }
      const mesh = runSimulation({ seed, workload: 'mesh', faults: 'none', recordTrace: 'full' }).trace!;
      expect(mesh.every((step, i) => i === 0 || step.timeTicks === mesh[i - 1]!.timeTicks + 1)).toBe(true);
    }
    expect(jumps).toBeGreaterThan(3);
  });
});

describe('each invariant fires on something broken on purpose', () => {
  it('no-loss: a reader that drops a chunk it drained', () => {
    const lossy = wrapReader((r) => ({
      extend: (items) => r.extend(items),
      drainInto(out: Bytes[]) {
        const got: Bytes[] = [];
        r.drainInto(got);
        out.push(...got.slice(1));
        if (got.length === 1) out.push(got[0]!);
      },
      isComplete: () => r.isComplete(),
      drop: () => r.drop(),
      get deque() {
        return r.deque;
      },
    }));
    firstSeedBreaking('no-loss', { queueFactory: lossy });
  });

  it('no-duplicate: a reader policy that copies its front entry', () => {
    const copying: SpillPolicy = {
      apply(deque: EntryDeque) {
        const front = deque.front();
        if (front?.kind === 'bytes' && front.bytes.length > 0) deque.pushFront(bytesEntry(front.bytes.clone()));
      },
    };
    firstSeedBreaking('no-duplicate', { policyFactory: (ctx) => [shippedWriter(ctx), copying] });
  });

  it('no-reorder: a reader policy that swaps the first two resident entries', () => {
    const swapping: SpillPolicy = {
      apply(deque: EntryDeque) {
        if (deque.length < 2) return;
        const a = deque.get(0);
        const b = deque.get(1);
        if (a.kind === 'bytes' && b.kind === 'bytes') {
          deque.set(0, b);
          deque.set(1, a);
        }
      },
    };
    firstSeedBreaking('no-reorder', { policyFactory: (ctx) => [shippedWriter(ctx), swapping], thresholdBytes: 1 << 30 });
  });

  it('resident-count: a deque whose residentBytes is off by one', () => {
    const lying = wrapReader((r) => ({
      extend: (items) => r.extend(items),
      drainInto: (out) => r.drainInto(out),
      isComplete: () => r.isComplete(),
      drop: () => r.drop(),
      get deque() {
        return new Proxy(r.deque, {
          get(target, key) {
            if (key === 'residentBytes') return target.residentBytes + (target.length > 0 ? 1 : 0);
            const value = Reflect.get(target, key, target) as unknown;
            return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
          },
        });
      },
    }));
    firstSeedBreaking('resident-count', { queueFactory: lying });
  });

  it('resident-bound: a writer policy that never spills', () => {
    const never: SpillPolicy = { apply() {} };
    firstSeedBreaking('resident-bound', { policyFactory: (ctx) => [never, new PrefetchPolicy(ctx.prefetchBudgetBytes)] });
  });

  it('fetch-once: a reader policy that fetches a paged entry but leaves it in place', () => {
    const sticky: SpillPolicy = {
      apply(deque: EntryDeque) {
        const front = deque.front();
        if (front?.kind !== 'paged') return;
        const result = front.handle.fetch();
        if (result.ok) for (let k = result.chunks.length - 1; k >= 0; k -= 1) deque.pushFront(bytesEntry(result.chunks[k]!));
      },
    };
    firstSeedBreaking('fetch-once', { policyFactory: (ctx) => [shippedWriter(ctx), sticky] });
  });

  it('no-stall: a queue whose buzzer wakes nobody', () => {
    const deaf: QueueFactory = (_buzzer, writer, reader, options) => MergeQueue.newPair(new Buzzer(), writer, reader, options);
    firstSeedBreaking('no-stall', { queueFactory: deaf, pattern: 'interleaved' });
  });

  it('no-livelock: a prefetch budget of 0 never fetches what the writer spilled', () => {
    const seed = firstSeedBreaking('no-livelock', { prefetchBudgetBytes: 0 });
    const message = runSimulation({ ...BASE, prefetchBudgetBytes: 0, seed }).violation?.message;
    expect(message).toContain('prefetch budget is 0');
  });

  it('no-livelock: a writer policy with no reader policy never pages data back in', () => {
    firstSeedBreaking('no-livelock', { readerPolicy: 'none' });
  });

  it('data-blocked: a fetch that fails forever is a storage fault, not a queue bug', () => {
    firstSeedBreaking('data-blocked', { faults: ['fetch-forever'] });
  });

  it('storage-released: a backend that never frees what it stored', () => {
    firstSeedBreaking('storage-released', { backendFactory: () => new LeakySpill() });
  });

  it('backend-contract: a backend that returns one handle for a whole batch is refused by the fast Threshold', () => {
    firstSeedBreaking('backend-contract', { backendFactory: () => new BatchingSpill() });
  });

  it('in a mesh built by Config, the same broken policies are caught on its queues', () => {
    const never: SpillPolicy = { apply() {} };
    const copying: SpillPolicy = {
      apply(deque: EntryDeque) {
        const front = deque.front();
        if (front?.kind === 'bytes' && front.bytes.length > 0) deque.pushFront(bytesEntry(front.bytes.clone()));
      },
    };
    const mesh = { workload: 'mesh', pattern: 'interleaved' } as const;
    firstSeedBreaking('resident-bound', { ...mesh, policyFactory: (ctx) => [never, new PrefetchPolicy(ctx.prefetchBudgetBytes)] });
    firstSeedBreaking('no-duplicate', { ...mesh, policyFactory: (ctx) => [shippedWriter(ctx), copying] });
  });

  it('steps-max: a run that does not finish within its step bound fails loudly', () => {
    const result = runSimulation({ ...BASE, seed: 1, stepsMax: 5 });
    expect(result.violation?.invariant).toBe('steps-max');
    expect(result.violation?.message).toContain('--steps-max');
  });
});

/** Stores chunks in memory and hands them back, but its stats() never goes down. */
class LeakySpill implements BytesSpill {
  #storedBytes = 0;
  spill(chunks: Bytes[], handles: BytesFetch[]): void {
    for (const chunk of chunks.splice(0)) {
      this.#storedBytes += chunk.length;
      handles.push(oneShot([chunk]));
    }
  }
  stats(): { storedBytes: number; storedChunks: number } {
    return { storedBytes: this.#storedBytes, storedChunks: 0 };
  }
}

/** Drains every chunk but pushes one handle for all of them: the batching breach of SPEC Part A. */
class BatchingSpill implements BytesSpill {
  spill(chunks: Bytes[], handles: BytesFetch[]): void {
    if (chunks.length === 0) return;
    handles.push(oneShot(chunks.splice(0)));
  }
}

function oneShot(chunks: Bytes[]): BytesFetch {
  return {
    fetch(): FetchResult {
      return { ok: true, chunks };
    },
  };
}
