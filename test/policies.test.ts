import { describe, expect, it } from 'vitest';
import {
  Buzzer, Bytes, type BytesFetch, type BytesSpill, EntryDeque, MergeQueue, PrefetchPolicy, ReferencePrefetchPolicy, ReferenceThreshold, Threshold,
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

describe('Threshold: boundaries', () => {
  for (const Policy of [Threshold, ReferenceThreshold]) {
    it(`${Policy.name}: spills only once resident bytes exceed reserve + threshold, and an entry whose running sum equals the reserve is a target`, () => {
      const atLimit = residentDeque(10, 10, 10);
      const spillA = new VecSpill();
      new Policy(spillA, { thresholdBytes: 20, headReserveBytes: 10 }).apply(atLimit); // 30 ≤ 10 + 20
      expect(spillA.spillCalls).toBe(0);
      const overLimit = residentDeque(10, 10, 10, 1);
      const spillB = new VecSpill();
      new Policy(spillB, { thresholdBytes: 20, headReserveBytes: 10 }).apply(overLimit); // 31 > 30
      // Running sums before each entry: 0, 10, 20, 30; the last stays.
      expect(shape(overLimit)).toBe('B10 P P B1');
      expect(overLimit.residentBytes).toBe(11);
    });

    it(`${Policy.name}: a reserve inside an entry keeps that entry resident`, () => {
      const deque = residentDeque(10, 10, 10, 10);
      new Policy(new VecSpill(), { thresholdBytes: 0, headReserveBytes: 11 }).apply(deque);
      // Running sums before: 0, 10 (< 11), 20, 30(last).
      expect(shape(deque)).toBe('B10 B10 P B10');
    });

    it(`${Policy.name}: a single resident entry (the merge target) is never spilled`, () => {
      const spill = new VecSpill();
      const deque = residentDeque(100);
      new Policy(spill, { thresholdBytes: 0, headReserveBytes: 0 }).apply(deque);
      expect(shape(deque)).toBe('B100');
      expect(spill.spillCalls).toBe(0);
    });

    it(`${Policy.name}: a reserve that reaches into the last entry leaves no target`, () => {
      const spill = new VecSpill();
      const deque = residentDeque(1, 100);
      new Policy(spill, { thresholdBytes: 0, headReserveBytes: 50 }).apply(deque);
      expect(shape(deque)).toBe('B1 B100');
      expect(spill.spillCalls).toBe(0);
    });

    it(`${Policy.name}: hands the backend clones of the targets' bytes, in order`, () => {
      const seen: number[][] = [];
      const recording: BytesSpill = {
        spill(chunks, handles) {
          for (const c of chunks.splice(0)) {
            seen.push([...c.data]);
            const data = c.data.slice();
            handles.push({ fetch: () => ({ ok: true, chunks: [Bytes.from(data)] }) });
          }
        },
      };
      const deque = residentDeque(2, 3, 4, 5);
      const before = [...deque].map((e) => (e.kind === 'bytes' ? [...e.bytes.data] : []));
      new Policy(recording, { thresholdBytes: 0, headReserveBytes: 2 }).apply(deque);
      expect(seen).toEqual([before[1], before[2]]);
      expect(shape(deque)).toBe('B2 P P B5');
    });
  }

  it('the fast Threshold skips paged entries between targets and pairs each handle with its own entry', () => {
    const spill = new VecSpill();
    const policy = new Threshold(spill, { thresholdBytes: 0, headReserveBytes: 0 });
    const deque = residentDeque(1, 2, 3, 4, 5, 6);
    spill.stopAfter = [1];
    deque.set(2, { kind: 'paged', handle: { fetch: () => ({ ok: true, chunks: [pattern(3, 2)] }) } });
    policy.apply(deque); // drains only entry 0
    expect(shape(deque)).toBe('P B2 P B4 B5 B6');
    policy.apply(deque);
    expect(shape(deque)).toBe('P P P P P B6');
    // Fetch everything back: each handle returns its own entry's bytes, in order.
    new PrefetchPolicy(1000).apply(deque);
    expect(shape(deque)).toBe('B1 B2 B3 B4 B5 B6');
    const expected = residentDeque(1, 2, 3, 4, 5, 6);
    const got = [...deque].map((e) => (e.kind === 'bytes' ? [...e.bytes.data] : []));
    expect(got[3]).toEqual([...(expected.get(3) as { bytes: Bytes }).bytes.data]);
    expect(got[5]).toEqual([...(expected.get(5) as { bytes: Bytes }).bytes.data]);
  });
});

describe('Threshold: every malformed spill answer is a backend contract error, and nothing changes', () => {
  const handle = (n: number): BytesFetch => ({ fetch: () => ({ ok: true, chunks: [pattern(n, 9)] }) });
  const cases: { name: string; spill: BytesSpill['spill']; message: RegExp }[] = [
    { name: 'grew the chunk list', spill: (chunks) => { chunks.push(pattern(1, 1)); }, message: /spill grew the chunk list from 3 to 4 chunks; it may only drain it/ },
    {
      name: 'replaced an undrained chunk',
      spill: (chunks, handles) => { chunks.shift(); handles.push(handle(4)); chunks[1] = pattern(4, 7); },
      message: /spill did not drain from the front: chunk 2 of 3 is missing from the undrained tail/,
    },
    {
      name: 'drained from the back',
      spill: (chunks, handles) => { chunks.pop(); handles.push(handle(4)); },
      message: /chunk 1 of 3 is missing/,
    },
    { name: 'pushed a handle without draining', spill: (_chunks, handles) => { handles.push(handle(4)); }, message: /spill drained 0 of 3 chunks but pushed 1 handles; the contract is exactly one handle per drained chunk/ },
    { name: 'drained without a handle', spill: (chunks, handles) => { chunks.splice(0, 2); handles.push(handle(4)); }, message: /drained 2 of 3 chunks but pushed 1 handles/ },
    { name: 'pushed null', spill: (chunks, handles) => { chunks.shift(); handles.push(null as never); }, message: /spill pushed handle 0 that has no fetch\(\) method/ },
    { name: 'pushed a number', spill: (chunks, handles) => { chunks.shift(); handles.push(5 as never); }, message: /handle 0 that has no fetch/ },
    { name: 'pushed a function', spill: (chunks, handles) => { chunks.shift(); handles.push((() => {}) as never); }, message: /handle 0 that has no fetch/ },
    {
      name: 'pushed a handle without fetch',
      spill: (chunks, handles) => { chunks.splice(0, 2); handles.push(handle(4), { fetch: 'soon' } as never); },
      message: /spill pushed handle 1 that has no fetch\(\) method/,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const deque = residentDeque(4, 4, 4, 4);
      expect(() => new Threshold({ spill: c.spill }, { thresholdBytes: 0, headReserveBytes: 0 }).apply(deque)).toThrow(
        expect.objectContaining({ code: 'E_BACKEND_CONTRACT', message: expect.stringMatching(c.message) }),
      );
      expect(shape(deque)).toBe('B4 B4 B4 B4');
    });
  }

  it('a spill that drains nothing and pushes nothing leaves every target resident, without error', () => {
    const deque = residentDeque(4, 4, 4);
    new Threshold({ spill: () => {} }, { thresholdBytes: 0, headReserveBytes: 0 }).apply(deque);
    expect(shape(deque)).toBe('B4 B4 B4');
  });
});

for (const Policy of [PrefetchPolicy, ReferencePrefetchPolicy]) describe(`${Policy.name}: the walk`, () => {
  const paged = (...chunks: Bytes[]): { kind: 'paged'; handle: BytesFetch } => ({ kind: 'paged', handle: { fetch: () => ({ ok: true, chunks }) } });

  it('counts resident bytes ahead of paged ones against the budget', () => {
    const spill = new VecSpill();
    const deque = residentDeque(10, 10, 10, 10, 1);
    new Threshold(spill, { thresholdBytes: 0, headReserveBytes: 10 }).apply(deque);
    expect(shape(deque)).toBe('B10 P P P B1');
    new Policy(15).apply(deque);
    expect(shape(deque)).toBe('B10 B10 P P B1');
    expect(spill.fetches).toBe(1);
  });

  it('stops once the budget is reached exactly, and fetches while it is one byte short', () => {
    const spill = new VecSpill();
    const deque = residentDeque(10, 10, 10, 1);
    new Threshold(spill, { thresholdBytes: 0, headReserveBytes: 10 }).apply(deque);
    new Policy(10).apply(deque);
    expect(shape(deque)).toBe('B10 P P B1');
    new Policy(11).apply(deque);
    expect(shape(deque)).toBe('B10 B10 P B1');
    expect(spill.fetches).toBe(1);
  });

  it('counts every chunk of a multi-chunk fetch against the budget', () => {
    const deque = new EntryDeque([paged(pattern(3, 1), pattern(5, 2)), paged(pattern(4, 3)), paged(pattern(4, 4))]);
    new Policy(8).apply(deque);
    expect(shape(deque)).toBe('B3 B5 P P');
    new Policy(9).apply(deque);
    expect(shape(deque)).toBe('B3 B5 B4 P');
  });

  it('walks past the chunks it inserted: a multi-chunk fetch in the middle keeps order', () => {
    const deque = new EntryDeque([paged(pattern(1, 1)), paged(pattern(2, 2), pattern(3, 3), pattern(4, 4)), paged(pattern(5, 5)), { kind: 'bytes', bytes: pattern(6, 6) }]);
    new Policy(100).apply(deque);
    expect(shape(deque)).toBe('B1 B2 B3 B4 B5 B6');
  });

  it('a fetch that returns no chunks removes its entry', () => {
    const deque = new EntryDeque([paged(), paged(pattern(2, 1))]);
    new Policy(1).apply(deque);
    expect(shape(deque)).toBe('B2');
  });

  it('puts back the handle the failed fetch returned, which the next walk fetches', () => {
    const retry: BytesFetch = { fetch: () => ({ ok: true, chunks: [pattern(7, 1)] }) };
    let first = 0;
    const failing: BytesFetch = { fetch: () => { first += 1; return { ok: false, handle: retry }; } };
    const deque = new EntryDeque([{ kind: 'paged', handle: failing }, paged(pattern(2, 2))]);
    const prefetch = new Policy(100);
    prefetch.apply(deque);
    expect(shape(deque)).toBe('P P');
    expect(deque.get(0)).toEqual({ kind: 'paged', handle: retry });
    prefetch.apply(deque);
    expect(shape(deque)).toBe('B7 B2');
    expect(first).toBe(1);
  });

  it('keeps its budget public and checked', () => {
    const prefetch = new Policy(5);
    expect(prefetch.budget).toBe(5);
    prefetch.budget = 9;
    expect(prefetch.budget).toBe(9);
    expect(() => { prefetch.budget = 1.5; }).toThrow(expect.objectContaining({ code: 'E_BAD_KNOB', message: expect.stringContaining('budget') }));
    expect(prefetch.budget).toBe(9);
  });
});

describe('PrefetchPolicy: every malformed fetch answer is a backend contract error', () => {
  const cases: { name: string; result: unknown; message: RegExp }[] = [
    { name: 'null', result: null, message: /^fetch returned null; expected \{ ok: true, chunks \} or \{ ok: false, handle \}$/ },
    { name: 'undefined', result: undefined, message: /^fetch returned undefined;/ },
    { name: 'a number', result: 3, message: /^fetch returned number 3;/ },
    { name: 'a string', result: 'ok', message: /^fetch returned the string "ok";/ },
    { name: 'ok: true without chunks', result: { ok: true }, message: /^fetch returned ok with chunks undefined; expected an array of Bytes$/ },
    { name: 'ok: true with chunks not an array', result: { ok: true, chunks: { length: 1, 0: pattern(1, 1) } }, message: /^fetch returned ok with chunks an object with 0, length; expected an array of Bytes$/ },
    { name: 'ok: true with a null chunk', result: { ok: true, chunks: [pattern(1, 1), null] }, message: /^fetch returned chunk 1 as null, not a Bytes; a backend must return Bytes \(wrap a Uint8Array with Bytes\.from\(u8\)\)$/ },
    { name: 'ok: true with a number chunk', result: { ok: true, chunks: [4] }, message: /^fetch returned chunk 0 as number 4, not a Bytes/ },
    { name: 'ok: true with a function chunk (its length is its arity)', result: { ok: true, chunks: [(a: number) => a] }, message: /^fetch returned chunk 0 as a function, not a Bytes/ },
    { name: 'ok: true with a chunk without length', result: { ok: true, chunks: [{ data: new Uint8Array(1) }] }, message: /^fetch returned chunk 0 as an object with data, not a Bytes/ },
    { name: 'ok: false without a handle', result: { ok: false }, message: /^fetch failed without returning a handle to retry; the contract returns the handle back$/ },
    { name: 'ok: false with a null handle', result: { ok: false, handle: null }, message: /failed without returning a handle/ },
    { name: 'ok: false with a primitive handle', result: { ok: false, handle: 'h' }, message: /failed without returning a handle/ },
    { name: 'ok: false with a handle without fetch', result: { ok: false, handle: { fetch: 1 } }, message: /failed without returning a handle/ },
    { name: 'neither ok: true nor ok: false', result: { ok: 'yes', chunks: [] }, message: /^fetch returned an object without ok: true or ok: false$/ },
    { name: 'ok: 1', result: { ok: 1, chunks: [] }, message: /without ok: true or ok: false/ },
    { name: 'ok: 0', result: { ok: 0, handle: { fetch: () => ({ ok: true, chunks: [] }) } }, message: /without ok: true or ok: false/ },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const deque = new EntryDeque([{ kind: 'paged', handle: { fetch: () => c.result as never } }, { kind: 'bytes', bytes: pattern(2, 1) }]);
      expect(() => new PrefetchPolicy(10).apply(deque)).toThrow(expect.objectContaining({ code: 'E_BACKEND_CONTRACT', message: expect.stringMatching(c.message) }));
      expect(shape(deque)).toBe('P B2');
    });
  }

  it('accepts a chunk with a numeric length from another copy of the library', () => {
    const real = pattern(3, 1);
    const foreign = { buffer: real.buffer, offset: 0, length: 3, data: real.data, tryMerge: () => false, extractTo: () => foreign, clone: () => foreign };
    const deque = new EntryDeque([{ kind: 'paged', handle: { fetch: () => ({ ok: true, chunks: [foreign as never] }) } }]);
    new PrefetchPolicy(10).apply(deque);
    expect(deque.residentBytes).toBe(3);
  });
});
