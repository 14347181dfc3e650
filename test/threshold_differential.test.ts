import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Buzzer, Bytes, MergeQueue, PrefetchPolicy, ReferenceThreshold, type SpillPolicy, Threshold } from '../src/index.js';
import { propertySeeds } from './support/seeds.js';
import { VecHandle, VecSpill } from './support/vec_spill.js';

type Op =
  | { op: 'extend'; chunks: { length: number; fresh: boolean }[] }
  | { op: 'drain' }
  | { op: 'stopNextSpillAfter'; chunks: number }
  | { op: 'failFetches'; times: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant('extend' as const), chunks: fc.array(fc.record({ length: fc.nat({ max: 48 }), fresh: fc.boolean() }), { maxLength: 5 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('drain' as const) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('stopNextSpillAfter' as const), chunks: fc.nat({ max: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('failFetches' as const), times: fc.nat({ max: 2 }) }) },
);

/** One side of the lockstep: a queue pair over its own backend, fed slices of its own slabs. */
class Side {
  readonly spill = new VecSpill();
  readonly writer: MergeQueue;
  readonly reader: MergeQueue;
  readonly delivered: number[] = [];
  #slab = new Uint8Array(0);
  #slabUsed = 0;
  #counter = 0;

  constructor(make: (spill: VecSpill) => SpillPolicy, prefetchBudget: number) {
    [this.writer, this.reader] = MergeQueue.newPair(new Buzzer(), make(this.spill), new PrefetchPolicy(prefetchBudget));
  }

  /** Same chunk specs give both sides the same bytes and the same adjacency, so the same merges. */
  chunk(length: number, fresh: boolean): Bytes {
    if (fresh || this.#slabUsed + length > this.#slab.length) {
      this.#slab = new Uint8Array(256);
      this.#slabUsed = 0;
    }
    const view = this.#slab.subarray(this.#slabUsed, this.#slabUsed + length);
    for (let i = 0; i < length; i += 1) view[i] = (this.#counter++ * 7) & 0xff;
    this.#slabUsed += length;
    return Bytes.from(view);
  }

  /** The deque, entry for entry: resident bytes, or the bytes a paged handle holds. */
  picture(): string[] {
    return [...this.reader.deque].map((e) => (e.kind === 'bytes' ? `B:${[...e.bytes.data].join(',')}` : `P:${[...(e.handle as VecHandle).data].join(',')}`));
  }
}

describe('differential: fast Threshold against ReferenceThreshold', () => {
  it('leaves identical deques after any sequence of extends, drains and backend outcomes', () => {
    for (const seed of propertySeeds()) {
      fc.assert(
        fc.property(
          fc.nat({ max: 96 }), fc.nat({ max: 64 }), fc.nat({ max: 96 }), fc.array(opArb, { maxLength: 60 }),
          (thresholdBytes, headReserveBytes, prefetchBudget, ops) => {
            const knobs = { thresholdBytes, headReserveBytes };
            const fast = new Side((s) => new Threshold(s, knobs), prefetchBudget);
            const reference = new Side((s) => new ReferenceThreshold(s, knobs), prefetchBudget);
            for (const step of ops) {
              for (const side of [fast, reference]) {
                switch (step.op) {
                  case 'extend': side.writer.extend(step.chunks.map((c) => side.chunk(c.length, c.fresh))); break;
                  case 'drain': { const out: Bytes[] = []; side.reader.drainInto(out); for (const b of out) side.delivered.push(...b.data); break; }
                  case 'stopNextSpillAfter': side.spill.stopAfter.push(step.chunks); break;
                  case 'failFetches': side.spill.fetchFailures = step.times; break;
                }
              }
              expect(fast.picture()).toEqual(reference.picture());
              expect(fast.reader.deque.residentBytes).toBe(reference.reader.deque.residentBytes);
              expect(fast.delivered).toEqual(reference.delivered);
            }
          },
        ),
        { seed, numRuns: 300 },
      );
    }
  });
});
