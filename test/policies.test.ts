import { describe, expect, it } from 'vitest';
import {
  Buzzer, Bytes, type BytesFetch, type BytesSpill, EntryDeque, MergeQueue, PrefetchPolicy, ReferenceThreshold, Threshold,
} from '../src/index.js';
import { concat, pattern, shape, VecSpill } from './support/vec_spill.js';

const residentDeque = (...lengths: number[]): EntryDeque => new EntryDeque(lengths.map((n, i) => ({ kind: 'bytes' as const, bytes: pattern(n, i) })));

describe('Threshold (fast) and ReferenceThreshold', () => {
  for (const Policy of [Threshold, ReferenceThreshold]) {
    describe(Policy.name, () => {
      it('does nothing while resident bytes stay within reserve + threshold', () => {
        const spill = new VecSpill();
        const deque = residentDeque(10, 10, 10);
        new Policy(spill, { thresholdBytes: 20, headReserveBytes: 10 }).apply(deque);
        expect(spill.spillCalls).toBe(0);
        expect(shape(deque)).toBe('B10 B10 B10');
      });

      it('spills every entry past the head reserve except the last', () => {
        const spill = new VecSpill();
        const deque = residentDeque(10, 10, 10, 10, 10);
        new Policy(spill, { thresholdBytes: 5, headReserveBytes: 15 }).apply(deque);
        // Running sum before each: 0, 10, 20, 30 (the last is the merge target).
        expect(shape(deque)).toBe('B10 B10 P P B10');
      });

      it('a partial spill drains two of five targets; the rest stay resident and are retried later', () => {
        const spill = new VecSpill();
        spill.stopAfter = [2];
        const deque = residentDeque(4, 4, 4, 4, 4, 4);
        const policy = new Policy(spill, { thresholdBytes: 0, headReserveBytes: 0 });
        policy.apply(deque);
        expect(shape(deque)).toBe('P P B4 B4 B4 B4');
        expect(deque.residentBytes).toBe(16);
        policy.apply(deque);
        expect(shape(deque)).toBe('P P P P P B4');
        expect(spill.spillCalls).toBe(2);
      });

      it('skips paged entries and counts zero-length resident entries as targets', () => {
        const spill = new VecSpill();
        const deque = residentDeque(8, 0, 8, 8);
        deque.set(2, { kind: 'paged', handle: { fetch: () => ({ ok: true, chunks: [] }) } });
        new Policy(spill, { thresholdBytes: 0, headReserveBytes: 8 }).apply(deque);
        expect(shape(deque)).toBe('B8 P P B8');
      });

      it('keeps the knobs public and mutable, and rejects bad values', () => {
        const policy = new Policy(new VecSpill());
        expect(policy.thresholdBytes).toBe(256 * 1024 * 1024);
        expect(policy.headReserveBytes).toBe(64 * 1024 * 1024);
        policy.thresholdBytes = 7;
        expect(policy.thresholdBytes).toBe(7);
        expect(() => { policy.headReserveBytes = -1; }).toThrow(/headReserveBytes must be a non-negative whole number/);
        expect(() => new Policy(new VecSpill(), { thresholdBytes: 1.5 })).toThrow(expect.objectContaining({ code: 'E_BAD_KNOB' }));
        expect(() => new Policy(new VecSpill(), { thresholdBytes: Number.NaN })).toThrow(/thresholdBytes/);
      });
    });
  }

  /** A backend that batches all chunks into one handle: it breaks "one handle per drained chunk". */
  class BatchingSpill implements BytesSpill {
    spill(chunks: Bytes[], handles: BytesFetch[]): void {
      const data = chunks.splice(0).map((c) => c.data.slice());
      handles.push({ fetch: () => ({ ok: true, chunks: data.map((d) => Bytes.from(d)) }) });
    }
  }

  it('the fast Threshold detects a backend returning the wrong number of handles and loses nothing', () => {
    const [writer, reader] = MergeQueue.newPair(new Buzzer(), new Threshold(new BatchingSpill(), { thresholdBytes: 0, headReserveBytes: 0 }));
    writer.extend([pattern(4, 1)]);
    expect(() => writer.extend([pattern(4, 2), pattern(4, 3)])).toThrow(
      expect.objectContaining({ code: 'E_BACKEND_CONTRACT', message: expect.stringMatching(/drained 2 of 2 chunks but pushed 1 handles/) }),
    );
    // Nothing was replaced: every entry is still resident, and the queue is poisoned loudly.
    expect(shape(reader.deque)).toBe('B4 B4 B4');
    expect(reader.isPoisoned).toBe(true);
  });

  it('the fast Threshold detects a backend that drains from the back', () => {
    const backDrainer: BytesSpill = {
      spill(chunks, handles) {
        const last = chunks.pop()!;
        const data = last.data.slice();
        handles.push({ fetch: () => ({ ok: true, chunks: [Bytes.from(data)] }) });
      },
    };
    const deque = residentDeque(4, 4, 4, 4);
    expect(() => new Threshold(backDrainer, { thresholdBytes: 0, headReserveBytes: 0 }).apply(deque)).toThrow(/did not drain from the front/);
    expect(shape(deque)).toBe('B4 B4 B4 B4');
  });

  it('the reference pairs whatever handles come back: a batching backend duplicates data (kept as the reference behaviour)', () => {
    const [writer, reader] = MergeQueue.newPair(new Buzzer(), new ReferenceThreshold(new BatchingSpill(), { thresholdBytes: 0, headReserveBytes: 0 }), new PrefetchPolicy(1 << 20));
    const written = [pattern(4, 1), pattern(4, 2), pattern(4, 3)];
    const expected = concat(written.map((b) => b.clone()));
    writer.extend(written);
    writer.drop();
    const out: Bytes[] = [];
    for (let i = 0; i < 10 && reader.deque.length > 0; i += 1) reader.drainInto(out);
    // Entry 0 became the batch handle (bytes of chunks 0 and 1); entry 1 stayed resident: chunk 1 twice.
    expect(concat(out).length).toBe(expected.length + 4);
  });
});

describe('PrefetchPolicy', () => {
  const pagedDeque = (spill: VecSpill, lengths: number[]): EntryDeque => {
    const deque = residentDeque(...lengths);
    new Threshold(spill, { thresholdBytes: 0, headReserveBytes: 0 }).apply(deque);
    return deque;
  };

  it('fetches paged entries from the front until the budget is at hand', () => {
    const spill = new VecSpill();
    const deque = pagedDeque(spill, [10, 10, 10, 10, 10]);
    expect(shape(deque)).toBe('P P P P B10');
    new PrefetchPolicy(15).apply(deque);
    expect(shape(deque)).toBe('B10 B10 P P B10');
  });

  it('stops at a failed fetch, puts the handle back, and succeeds on retry', () => {
    const spill = new VecSpill();
    spill.fetchFailures = 1;
    const deque = pagedDeque(spill, [10, 10, 10]);
    const prefetch = new PrefetchPolicy(100);
    prefetch.apply(deque);
    expect(shape(deque)).toBe('P P B10');
    expect(spill.fetches).toBe(1); // the walk stopped at the first failure
    prefetch.apply(deque);
    expect(shape(deque)).toBe('B10 P B10');
    prefetch.apply(deque);
    expect(shape(deque)).toBe('B10 B10 B10');
  });

  it('inserts every chunk of a multi-chunk fetch in order', () => {
    const parts = [pattern(3, 1), pattern(5, 2)];
    const deque = new EntryDeque([{ kind: 'paged', handle: { fetch: () => ({ ok: true, chunks: parts }) } }, { kind: 'bytes', bytes: pattern(2, 3) }]);
    new PrefetchPolicy(100).apply(deque);
    expect(shape(deque)).toBe('B3 B5 B2');
  });

  it('a budget of 0 never fetches', () => {
    const spill = new VecSpill();
    const deque = pagedDeque(spill, [10, 10]);
    new PrefetchPolicy(0).apply(deque);
    expect(spill.fetches).toBe(0);
    expect(() => new PrefetchPolicy(-3)).toThrow(/budget must be a non-negative whole number/);
  });

  it('reports a fetch result of the wrong shape as a backend contract error', () => {
    const deque = new EntryDeque([{ kind: 'paged', handle: { fetch: () => ({ ok: false }) as never } }]);
    expect(() => new PrefetchPolicy(10).apply(deque)).toThrow(expect.objectContaining({ code: 'E_BACKEND_CONTRACT' }));
  });
});
