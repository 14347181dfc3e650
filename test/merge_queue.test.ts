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
