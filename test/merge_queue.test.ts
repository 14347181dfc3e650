import { describe, expect, it } from 'vitest';
import { Buzzer, Bytes, type EntryDeque, MergeQueue, PrefetchPolicy, type SpillPolicy, Threshold } from '../src/index.js';
import { concat, pattern, shape, VecSpill } from './support/vec_spill.js';

const drainAll = (reader: MergeQueue, rounds = 1000): Bytes[] => {
  const out: Bytes[] = [];
  for (let i = 0; i < rounds && reader.deque.length > 0; i += 1) reader.drainInto(out);
  return out;
};

describe('MergeQueue: extend', () => {
  it('coalesces adjacent slices of one slab into a single entry, across extend calls', () => {
    const [writer, reader] = MergeQueue.newPair(new Buzzer());
    const slab = new Uint8Array(30).map((_, i) => i);
    writer.extend([Bytes.from(slab.subarray(0, 10)), Bytes.from(slab.subarray(10, 20))]);
    writer.extend([Bytes.from(slab.subarray(20, 30))]);
    expect(shape(reader.deque)).toBe('B30');
    const out: Bytes[] = [];
    reader.drainInto(out);
    expect([...concat(out)]).toEqual([...slab]);
  });

  it('starts a new entry when a slice does not continue the tail', () => {
    const [writer, reader] = MergeQueue.newPair(new Buzzer());
    const slab = new Uint8Array(30);
    writer.extend([Bytes.from(slab.subarray(0, 10)), Bytes.from(slab.subarray(15, 20)), pattern(4, 1)]);
    expect(shape(reader.deque)).toBe('B10 B5 B4');
  });

  it('never merges into a paged back entry', () => {
    const spill = new VecSpill();
    const [writer, reader] = MergeQueue.newPair(new Buzzer(), new Threshold(spill, { thresholdBytes: 0, headReserveBytes: 0 }));
    const slab = new Uint8Array(30);
    writer.extend([Bytes.from(slab.subarray(0, 10)), pattern(5, 2)]);
    expect(shape(reader.deque)).toBe('P B5');
    // Pretend the back was paged: a policy that pages the last entry too.
    const pageAll: SpillPolicy = { apply: (d: EntryDeque) => { for (let i = 0; i < d.length; i += 1) if (d.get(i).kind === 'bytes') d.set(i, { kind: 'paged', handle: { fetch: () => ({ ok: true, chunks: [] }) } }); } };
    const [w2, r2] = MergeQueue.newPair(new Buzzer(), pageAll);
    w2.extend([Bytes.from(slab.subarray(0, 10))]);
    w2.extend([Bytes.from(slab.subarray(10, 20))]);
    expect(shape(r2.deque)).toBe('P P');
  });

  it('rejects an item that is not Bytes, before it can corrupt the resident count', () => {
    const [writer, reader] = MergeQueue.newPair(new Buzzer());
    expect(() => writer.extend([new Uint8Array(4) as never])).toThrow(expect.objectContaining({ code: 'E_BAD_ARGUMENT', message: expect.stringMatching(/Bytes\.from/) }));
    expect(reader.deque.residentBytes).toBe(0);
  });

  it('takes any iterable, not only arrays', () => {
    const [writer, reader] = MergeQueue.newPair(new Buzzer());
    function* chunks(): Generator<Bytes> { yield pattern(3, 1); yield pattern(4, 2); }
    writer.extend(chunks());
    expect(shape(reader.deque)).toBe('B3 B4');
  });

  it("runs the writer's policy on every call, even when nothing was pushed", () => {
    let applied = 0;
    const counting: SpillPolicy = { apply: () => { applied += 1; } };
    const [writer] = MergeQueue.newPair(new Buzzer(), counting);
    writer.extend([]);
    writer.extend([pattern(3, 1)]);
    writer.extend([]);
    expect(applied).toBe(3);
  });

  it('buzzes only when the queue was empty before the call and something was pushed', () => {
    const buzzer = new Buzzer();
    const [writer, reader] = MergeQueue.newPair(buzzer);
    writer.extend([]);
    expect(buzzer.count).toBe(0);
    writer.extend([pattern(3, 1)]);
    expect(buzzer.count).toBe(1);
    writer.extend([pattern(3, 2)]);
    expect(buzzer.count).toBe(1);
    reader.drainInto([]);
    writer.extend([pattern(3, 3), pattern(3, 4)]);
    expect(buzzer.count).toBe(2);
  });
});

describe('MergeQueue: drainInto', () => {
  it('pops every leading resident entry and stops at the first paged one', () => {
    const spill = new VecSpill();
    const threshold = new Threshold(spill, { thresholdBytes: 0, headReserveBytes: 4 });
    const [writer, reader] = MergeQueue.newPair(new Buzzer(), threshold);
    writer.extend([pattern(4, 1), pattern(4, 2), pattern(4, 3), pattern(4, 4)]);
    expect(shape(reader.deque)).toBe('B4 P P B4');
    const out: Bytes[] = [];
    reader.drainInto(out);
    expect(out.map((b) => b.length)).toEqual([4]);
    expect(shape(reader.deque)).toBe('P P B4');
  });

  it("reference stall guard ('accumulator') looks at the caller's whole accumulator", () => {
    const buzzer = new Buzzer();
    const spill = new VecSpill();
    const [writer, reader] = MergeQueue.newPair(buzzer, new Threshold(spill, { thresholdBytes: 0, headReserveBytes: 0 }), undefined, { stallGuard: 'accumulator' });
    writer.extend([pattern(4, 1), pattern(4, 2)]); // P B4: nothing drainable at the front
    const before = buzzer.count;
    reader.drainInto([pattern(1, 9)]); // the accumulator already holds something
    expect(buzzer.count).toBe(before);
    reader.drainInto([]);
    expect(buzzer.count).toBe(before + 1);
  });

  it("spillsim's stall guard ('produced', the default) buzzes when this call produced nothing", () => {
    const buzzer = new Buzzer();
    const spill = new VecSpill();
    const [writer, reader] = MergeQueue.newPair(buzzer, new Threshold(spill, { thresholdBytes: 0, headReserveBytes: 0 }));
    expect(reader.stallGuard).toBe('produced');
    writer.extend([pattern(4, 1), pattern(4, 2)]);
    const before = buzzer.count;
    reader.drainInto([pattern(1, 9)]);
    expect(buzzer.count).toBe(before + 1);
  });

  it('does not buzz when the queue is empty after the drain', () => {
    const buzzer = new Buzzer();
    const [writer, reader] = MergeQueue.newPair(buzzer);
    writer.extend([pattern(2, 1)]);
    const before = buzzer.count;
    reader.drainInto([]);
    reader.drainInto([]);
    expect(buzzer.count).toBe(before);
  });

  it('rejects a bad stall guard name', () => {
    expect(() => MergeQueue.newPair(new Buzzer(), undefined, undefined, { stallGuard: 'sometimes' as never })).toThrow(/stallGuard/);
  });
});

describe('MergeQueue: completion, drop and poisoning', () => {
  it('is complete only on the last handle with an empty queue', () => {
    const buzzer = new Buzzer();
    const [writer, reader] = MergeQueue.newPair(buzzer);
    writer.extend([pattern(2, 1)]);
    expect(reader.isComplete()).toBe(false);
    const before = buzzer.count;
    writer.drop();
    expect(buzzer.count).toBe(before + 1); // drop wakes the reader
    expect(reader.isComplete()).toBe(false); // data still queued
    reader.drainInto([]);
    expect(reader.isComplete()).toBe(true);
    expect(MergeQueue.new(new Buzzer()).isComplete()).toBe(true);
  });

  it('refuses to be used after drop, with a clear error; dropping twice is harmless', () => {
    const [writer] = MergeQueue.newPair(new Buzzer());
    writer.drop();
    writer.drop();
    expect(() => writer.extend([pattern(1, 1)])).toThrow(expect.objectContaining({ code: 'E_DROPPED' }));
    expect(() => writer.drainInto([])).toThrow(/after drop/);
  });

  it('supports `using` through Symbol.dispose', () => {
    const buzzer = new Buzzer();
    const [writer, reader] = MergeQueue.newPair(buzzer);
    {
      writer[Symbol.dispose]();
    }
    expect(reader.isComplete()).toBe(true);
  });

  it('a panicking policy poisons the queue for the other handle', () => {
    const exploding: SpillPolicy = { apply: (d) => { if (d.length > 1) throw new Error('disk on fire'); } };
    const [writer, reader] = MergeQueue.newPair(new Buzzer(), exploding);
    writer.extend([pattern(2, 1)]);
    expect(() => writer.extend([pattern(2, 2)])).toThrow('disk on fire');
    expect(reader.isPoisoned).toBe(true);
    expect(() => reader.drainInto([])).toThrow(expect.objectContaining({ code: 'E_POISONED' }));
    expect(() => reader.isComplete()).toThrow(/poisoned/);
    expect(() => writer.extend([])).toThrow(/poisoned/);
    // Both handles threw a panic (the policy's, then E_POISONED): both drop while unwinding,
    // quietly. A handle that never saw the poison panics in its drop (test/panic_paths.test.ts).
    expect(() => writer.drop()).not.toThrow();
    expect(() => reader.drop()).not.toThrow();
  });
});

describe('ports of the change’s own tests', () => {
  it('an eager policy moves every entry but the last', () => {
    const spill = new VecSpill();
    const eager = new Threshold(spill, { thresholdBytes: 0, headReserveBytes: 0 });
    const [writer, reader] = MergeQueue.newPair(new Buzzer(), eager);
    for (let i = 0; i < 10; i += 1) writer.extend([pattern(16, i)]);
    const kinds = [...reader.deque].map((e) => e.kind);
    expect(kinds.slice(0, -1).every((k) => k === 'paged')).toBe(true);
    expect(kinds.at(-1)).toBe('bytes');
    expect(kinds).toHaveLength(10);
  });

  it('100 pushes of 64 bytes through Threshold 512/128 and Prefetch 128 come back byte-identical', () => {
    const spill = new VecSpill();
    const buzzer = new Buzzer();
    const [writer, reader] = MergeQueue.newPair(buzzer, new Threshold(spill, { thresholdBytes: 512, headReserveBytes: 128 }), new PrefetchPolicy(128));
    const written: Bytes[] = [];
    for (let i = 0; i < 100; i += 1) {
      const chunk = pattern(64, i);
      written.push(chunk.clone());
      writer.extend([chunk]);
    }
    expect(spill.spillCalls).toBeGreaterThan(0);
    expect(reader.deque.residentBytes).toBeLessThanOrEqual(128 + 512 + 64);
    writer.drop();
    const out = drainAll(reader);
    expect(concat(out)).toEqual(concat(written));
    expect(reader.isComplete()).toBe(true);
  });
});

describe('MergeQueue: buzzes per call, exactly (SPEC Part A)', () => {
  // Each step is one call; the number is how many buzzes that call alone made.
  const buzzesOf = (buzzer: Buzzer, call: () => void): number => {
    const before = buzzer.count;
    call();
    return buzzer.count - before;
  };

  for (const stallGuard of ['produced', 'accumulator'] as const) {
    it(`stall guard '${stallGuard}': extend buzzes once from empty, drainInto only when nothing came out and entries remain, drop once`, () => {
      const buzzer = new Buzzer();
      const spill = new VecSpill();
      const threshold = new Threshold(spill, { thresholdBytes: 0, headReserveBytes: 4 });
      const [writer, reader] = MergeQueue.newPair(buzzer, threshold, undefined, { stallGuard });
      expect(buzzesOf(buzzer, () => reader.drainInto([]))).toBe(0); // empty queue
      expect(buzzesOf(buzzer, () => writer.extend([]))).toBe(0); // nothing pushed
      expect(buzzesOf(buzzer, () => writer.extend([pattern(4, 1)]))).toBe(1); // was empty
      expect(buzzesOf(buzzer, () => writer.extend([pattern(4, 2), pattern(4, 3), pattern(4, 4)]))).toBe(0); // was not empty
      expect(shape(reader.deque)).toBe('B4 P P B4');
      // Delivered the head while paged entries remain: no buzz under either rule.
      const out: Bytes[] = [];
      expect(buzzesOf(buzzer, () => reader.drainInto(out))).toBe(0);
      expect(out).toHaveLength(1);
      // Nothing comes out (a paged front) into a fresh accumulator: one buzz under either rule.
      expect(buzzesOf(buzzer, () => reader.drainInto([]))).toBe(1);
      expect(isComplete(reader)).toBe(false);
      expect(buzzesOf(buzzer, () => writer.drop())).toBe(1);
      expect(buzzesOf(buzzer, () => writer.drop())).toBe(0); // second drop does nothing
      expect(buzzer.count).toBe(3);
    });
  }

  it('drainInto that empties the queue does not buzz, under either rule', () => {
    for (const stallGuard of ['produced', 'accumulator'] as const) {
      const buzzer = new Buzzer();
      const [writer, reader] = MergeQueue.newPair(buzzer, undefined, undefined, { stallGuard });
      writer.extend([pattern(2, 1), pattern(2, 2)]);
      expect(buzzesOf(buzzer, () => reader.drainInto([]))).toBe(0);
      expect(buzzesOf(buzzer, () => reader.drainInto([pattern(1, 1)]))).toBe(0);
    }
  });

  it('MergeQueue.new honours the stall guard option', () => {
    expect(MergeQueue.new(new Buzzer(), { stallGuard: 'accumulator' }).stallGuard).toBe('accumulator');
    expect(MergeQueue.new(new Buzzer()).stallGuard).toBe('produced');
    expect(MergeQueue.newPair(new Buzzer(), undefined, undefined, { stallGuard: 'accumulator' }).map((q) => q.stallGuard)).toEqual(['accumulator', 'accumulator']);
    expect(() => MergeQueue.new(new Buzzer(), { stallGuard: 42 as never })).toThrow(expect.objectContaining({ code: 'E_BAD_ARGUMENT', message: expect.stringContaining('got number 42') }));
  });
});

function isComplete(q: MergeQueue): boolean {
  return q.isComplete();
}

describe('MergeQueue: merging across extend calls', () => {
  it('a slice after a gap in the same slab starts a new entry: nothing is lost', () => {
    const [writer, reader] = MergeQueue.newPair(new Buzzer());
    const slab = new Uint8Array(20).map((_, i) => i + 1);
    writer.extend([Bytes.from(slab.subarray(0, 10))]);
    writer.extend([Bytes.from(slab.subarray(15, 20))]);
    expect(shape(reader.deque)).toBe('B10 B5');
    const out: Bytes[] = [];
    reader.drainInto(out);
    expect([...concat(out)]).toEqual([...slab.subarray(0, 10), ...slab.subarray(15, 20)]);
  });

  it('a slice that ends where the tail starts, or continues an offset in another allocation, is not merged', () => {
    const [writer, reader] = MergeQueue.newPair(new Buzzer());
    const slab = new Uint8Array(20).map((_, i) => i + 1);
    writer.extend([Bytes.from(slab.subarray(10, 20))]);
    writer.extend([Bytes.from(slab.subarray(0, 10))]);
    const other = new Uint8Array(40).fill(7);
    writer.extend([Bytes.from(other.subarray(0, 20))]);
    writer.extend([Bytes.from(other.subarray(20, 30))]); // merges: same allocation, adjacent
    writer.extend([Bytes.from(slab.subarray(0, 10))]); // slab's offset 0 ≠ 30
    expect(shape(reader.deque)).toBe('B10 B10 B30 B10');
  });

  it('the first item of a call merges into the tail, later items merge into each other', () => {
    const [writer, reader] = MergeQueue.newPair(new Buzzer());
    const slab = new Uint8Array(40).map((_, i) => i);
    writer.extend([Bytes.from(slab.subarray(0, 10))]);
    writer.extend([Bytes.from(slab.subarray(10, 20)), Bytes.from(slab.subarray(20, 25)), Bytes.from(slab.subarray(30, 40))]);
    expect(shape(reader.deque)).toBe('B25 B10');
    expect(reader.deque.residentBytes).toBe(35);
  });
});

describe('MergeQueue: drop and poisoning, exactly', () => {
  it('a second drop of one handle does not release the shared state twice', () => {
    const buzzer = new Buzzer();
    const [writer, reader] = MergeQueue.newPair(buzzer);
    writer.drop();
    writer.drop();
    writer[Symbol.dispose]();
    expect(buzzer.count).toBe(1);
    // One handle left: the reader is the last one and the queue is empty.
    expect(reader.isComplete()).toBe(true);
  });

  it("a reader policy that throws inside drainInto poisons the queue for the writer", () => {
    const buzzer = new Buzzer();
    const exploding: SpillPolicy = { apply: () => { throw new Error('fetch exploded'); } };
    const [writer, reader] = MergeQueue.newPair(buzzer, undefined, exploding);
    writer.extend([pattern(3, 1)]);
    const out: Bytes[] = [];
    expect(() => reader.drainInto(out)).toThrow('fetch exploded');
    expect(out).toHaveLength(0);
    expect(writer.isPoisoned).toBe(true);
    expect(reader.deque.residentBytes).toBe(3);
    const before = buzzer.count;
    // The reader panicked: its drop is the reference's drop while unwinding, quiet, and it buzzes.
    expect(() => reader.drop()).not.toThrow();
    expect(buzzer.count).toBe(before + 1);
    // The writer made no call since: its drop panics and does not buzz.
    expect(() => writer.drop()).toThrow(expect.objectContaining({ code: 'E_POISONED', message: expect.stringContaining('dropped a handle whose queue is poisoned') }));
    expect(buzzer.count).toBe(before + 1);
  });

  it('every call on a poisoned queue is refused by name, and the refused handle then drops quietly', () => {
    for (const call of ['extend', 'drainInto', 'isComplete'] as const) {
      const buzzer = new Buzzer();
      const exploding: SpillPolicy = { apply: () => { throw new Error('boom'); } };
      const [writer, reader] = MergeQueue.newPair(buzzer, undefined, exploding);
      expect(() => reader.drainInto([])).toThrow('boom');
      const refused = () => (call === 'extend' ? writer.extend([pattern(1, 1)]) : call === 'drainInto' ? writer.drainInto([]) : writer.isComplete());
      expect(refused).toThrow(expect.objectContaining({ code: 'E_POISONED', message: expect.stringContaining(`${call} refused`) }));
      const before = buzzer.count;
      expect(() => writer.drop()).not.toThrow();
      expect(buzzer.count).toBe(before + 1);
    }
  });

  it("a writer policy that throws poisons the queue for the reader; the writer's drop still buzzes", () => {
    const buzzer = new Buzzer();
    const exploding: SpillPolicy = { apply: (d) => { if (d.length > 1) throw new Error('disk on fire'); } };
    const [writer, reader] = MergeQueue.newPair(buzzer, exploding);
    writer.extend([pattern(2, 1)]);
    expect(buzzer.count).toBe(1);
    expect(() => writer.extend([pattern(2, 2)])).toThrow('disk on fire');
    expect(buzzer.count).toBe(1); // no buzz after a panic
    expect(() => reader.drainInto([])).toThrow(expect.objectContaining({ code: 'E_POISONED', message: expect.stringContaining('drainInto refused') }));
    expect(() => writer.drop()).not.toThrow();
    expect(buzzer.count).toBe(2);
  });

  it('a throwing policy on an empty-queue extend poisons too, and does not buzz', () => {
    const buzzer = new Buzzer();
    const exploding: SpillPolicy = { apply: () => { throw new Error('boom'); } };
    const [writer, reader] = MergeQueue.newPair(buzzer, exploding);
    expect(() => writer.extend([pattern(2, 1)])).toThrow('boom');
    expect(buzzer.count).toBe(0);
    expect(reader.isPoisoned).toBe(true);
  });

  it('names the call refused after drop', () => {
    const [writer] = MergeQueue.newPair(new Buzzer());
    writer.drop();
    expect(() => writer.extend([])).toThrow(/^extend on a MergeQueue handle after drop\(\)/);
    expect(() => writer.drainInto([])).toThrow(/^drainInto on a MergeQueue handle after drop\(\)/);
    expect(() => writer.isComplete()).toThrow(expect.objectContaining({ code: 'E_DROPPED', message: expect.stringMatching(/^isComplete on/) }));
  });
});

describe('MergeQueue: what extend accepts', () => {
  it('accepts a Bytes from another copy of the library (same shape), and rejects look-alikes missing a part', () => {
    const real = pattern(4, 1);
    const foreign = { buffer: real.buffer, offset: 0, length: 4, tryMerge: () => false, extractTo: () => foreign, clone: () => foreign, data: real.data };
    const [writer, reader] = MergeQueue.newPair(new Buzzer());
    writer.extend([foreign as never]);
    expect(reader.deque.residentBytes).toBe(4);
    const broken = [
      null,
      undefined,
      7,
      'bytes',
      { buffer: real.buffer, offset: 0, length: 4 },
      { buffer: real.buffer, offset: 0, length: '4', tryMerge: () => false },
      { offset: 0, length: 4, tryMerge: () => false },
    ];
    for (const item of broken) {
      const [w, r] = MergeQueue.newPair(new Buzzer());
      expect(() => w.extend([item as never]), String(item)).toThrow(expect.objectContaining({ code: 'E_BAD_ARGUMENT' }));
      expect(r.deque.length).toBe(0);
    }
    expect(() => MergeQueue.new(new Buzzer()).extend([null as never])).toThrow(/item 0 is null/);
    expect(() => MergeQueue.new(new Buzzer()).extend([pattern(1, 1), 7 as never])).toThrow(/item 1 is number 7/);
  });
});

describe('MergeQueue: Bytes of a second copy of the library among our own', () => {
  /** A Bytes as another bundle of spillsim would make it: same shape, another class. */
  class ForeignBytes {
    constructor(readonly buffer: ArrayBufferLike, public offset: number, public length: number) {}
    get data(): Uint8Array { return new Uint8Array(this.buffer, this.offset, this.length); }
    tryMerge(other: { buffer: ArrayBufferLike; offset: number; length: number }): boolean {
      if (other.buffer !== this.buffer || other.offset !== this.offset + this.length) return false;
      this.length += other.length;
      return true;
    }
    extractTo(i: number): ForeignBytes { const head = new ForeignBytes(this.buffer, this.offset, i); this.offset += i; this.length -= i; return head; }
    clone(): ForeignBytes { return new ForeignBytes(this.buffer, this.offset, this.length); }
  }
  const own = (slab: Uint8Array, from: number, to: number) => Bytes.from(slab.subarray(from, to));
  const foreign = (slab: Uint8Array, from: number, to: number) => new ForeignBytes(slab.buffer, from, to - from) as unknown as Bytes;

  it('merges and pushes exactly as with our own, whatever came before the foreign item', () => {
    const cases: { name: string; before?: (slab: Uint8Array) => Bytes[]; items: (slab: Uint8Array) => Bytes[]; shape: string }[] = [
      { name: 'a foreign item alone', items: (s) => [foreign(s, 0, 4)], shape: 'B4' },
      { name: 'own items that merge, then a foreign one of another slab', items: (s) => [own(s, 0, 4), own(s, 4, 8), foreign(new Uint8Array(3), 0, 3)], shape: 'B8 B3' },
      { name: 'own items pushed apart, then a foreign one that continues the tail', items: (s) => [own(s, 0, 4), own(s, 8, 12), own(s, 12, 14), foreign(s, 14, 16)], shape: 'B4 B8' },
      { name: 'three own tails pushed, then a foreign one', items: (s) => [own(s, 0, 2), own(s, 4, 6), own(s, 8, 10), own(s, 12, 14), foreign(s, 20, 22)], shape: 'B2 B2 B2 B2 B2' },
      { name: 'a merge, then a pushed tail, then a foreign one', items: (s) => [own(s, 0, 2), own(s, 2, 4), own(s, 6, 8), foreign(s, 10, 12)], shape: 'B4 B2 B2' },
      { name: 'an own back that the first item continues', before: (s) => [own(s, 0, 4)], items: (s) => [own(s, 4, 6), own(s, 6, 9), foreign(s, 10, 12)], shape: 'B9 B2' },
      { name: 'a foreign first item after an own back it continues', before: (s) => [own(s, 0, 4)], items: (s) => [foreign(s, 4, 6), own(s, 6, 8)], shape: 'B8' },
    ];
    for (const c of cases) {
      const slab = new Uint8Array(32).map((_, i) => i);
      const buzzer = new Buzzer();
      const [writer, reader] = MergeQueue.newPair(buzzer);
      if (c.before) writer.extend(c.before(slab));
      const buzzesBefore = buzzer.count;
      const items = c.items(slab);
      const expected = items.reduce((n, b) => n + b.length, reader.deque.residentBytes);
      writer.extend(items);
      expect(shape(reader.deque), c.name).toBe(c.shape);
      expect(reader.deque.residentBytes, c.name).toBe(expected);
      expect(buzzer.count - buzzesBefore, c.name).toBe(c.before ? 0 : 1);
    }
  });

  it('a foreign item after a throwing writer policy still poisons; an empty extend runs the policy', () => {
    let applied = 0;
    const policy: SpillPolicy = { apply: () => { applied += 1; if (applied === 2) throw new Error('boom'); } };
    const [writer, reader] = MergeQueue.newPair(new Buzzer(), policy);
    writer.extend([]);
    expect(applied).toBe(1);
    expect(() => writer.extend([foreign(new Uint8Array(4), 0, 4)])).toThrow('boom');
    expect(reader.isPoisoned).toBe(true);
  });
});

describe('MergeQueue: argument edges', () => {
  it('names the options it expects, takes any buzzer-shaped object, and reports a push that fails with its cause', () => {
    expect(() => MergeQueue.new(new Buzzer(), 5 as never)).toThrow("MergeQueue.new options must be an object such as { stallGuard: 'accumulator' }, got number 5");
    expect(() => MergeQueue.newPair(new Buzzer(), undefined, undefined, 'x' as never)).toThrow("MergeQueue.newPair options must be an object such as { stallGuard: 'accumulator' }");
    let buzzes = 0;
    const [writer, reader] = MergeQueue.newPair({ buzz: () => { buzzes += 1; } } as unknown as Buzzer, null, null);
    writer.extend([pattern(2, 1), pattern(2, 2), pattern(2, 3)]);
    expect(buzzes).toBe(1);
    const out: Bytes[] = [];
    let pushes = 0;
    const cause = new Error('no more room');
    Object.defineProperty(out, 'push', { value: (b: Bytes) => { pushes += 1; if (pushes > 1) throw cause; return Array.prototype.push.call(out, b); } });
    let thrown: unknown;
    try { reader.drainInto(out); } catch (error) { thrown = error; }
    expect(thrown).toMatchObject({ code: 'E_BAD_ARGUMENT', message: 'drainInto(out) could not push onto out (no more room); pass a plain array' });
    expect((thrown as Error).cause).toBe(cause);
    // The refused chunk went back to the front: nothing lost.
    expect(out).toHaveLength(1);
    expect(shape(reader.deque)).toBe('B2 B2');
  });
});

describe('MergeQueue: what merges across calls', () => {
  it('a first item at the right offset of another allocation does not merge into the back, and is not lost', () => {
    const [writer, reader] = MergeQueue.newPair(new Buzzer());
    writer.extend([new Bytes(new ArrayBuffer(8), 0, 4)]);
    writer.extend([new Bytes(new ArrayBuffer(8), 4, 2)]);
    expect(shape(reader.deque)).toBe('B4 B2');
    expect(reader.deque.residentBytes).toBe(6);
  });

  it('an extend of nothing whose writer policy throws poisons the queue', () => {
    const [writer, reader] = MergeQueue.newPair(new Buzzer(), { apply: () => { throw new Error('boom'); } });
    expect(() => writer.extend([])).toThrow('boom');
    expect(reader.isPoisoned).toBe(true);
  });
});
