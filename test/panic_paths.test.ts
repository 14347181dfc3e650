import { describe, expect, it } from 'vitest';
import {
  Buzzer,
  Bytes,
  type BytesFetch,
  type BytesSpill,
  type FetchResult,
  MergeQueue,
  PrefetchPolicy,
  ReferencePrefetchPolicy,
  Threshold,
} from '../src/index.js';

// Issue 13 item 5: the panic paths of the compiled Rust reference (PR #789), script for script.
// Rust's `Drop for MergeQueue`: while unwinding it sets the poison flag; otherwise, if poisoned,
// it panics (before its buzz); then it releases the state and buzzes.

const oneByte = (value: number): Bytes => Bytes.from(new Uint8Array([value]));

/** Storage whose spill panics: the smallest script's backend. */
const panickingSpill: BytesSpill = {
  spill() {
    throw new Error('spill panicked');
  },
};

const poisoned = expect.objectContaining({ code: 'E_POISONED', message: expect.stringMatching(/MergeQueue poisoned/) });

describe('panic paths match the reference (writer Threshold 0/0, no reader policy)', () => {
  it('a spill that throws on an extend of two 1-byte chunks: the writer drops quietly and buzzes once', () => {
    const buzzer = new Buzzer();
    const [writer, reader] = MergeQueue.newPair(buzzer, new Threshold(panickingSpill, { thresholdBytes: 0, headReserveBytes: 0 }));
    expect(() => writer.extend([oneByte(1), oneByte(2)])).toThrow('spill panicked');
    // The panic left extend before its own buzz (the reference buzzes after releasing the lock).
    expect(buzzer.count).toBe(0);
    expect(() => writer.drop()).not.toThrow();
    expect(buzzer.count).toBe(1);
    expect(reader.isPoisoned).toBe(true);
  });

  it("then the reader's drainInto panics with E_POISONED, and its drop is quiet and buzzes", () => {
    const buzzer = new Buzzer();
    const [writer, reader] = MergeQueue.newPair(buzzer, new Threshold(panickingSpill, { thresholdBytes: 0, headReserveBytes: 0 }));
    expect(() => writer.extend([oneByte(1), oneByte(2)])).toThrow('spill panicked');
    writer.drop();
    expect(() => reader.drainInto([])).toThrow(poisoned);
    expect(buzzer.count).toBe(1);
    expect(() => reader.drop()).not.toThrow();
    expect(buzzer.count).toBe(2);
  });

  it('isComplete that finds the queue poisoned also unwinds: the drop is quiet and buzzes', () => {
    const buzzer = new Buzzer();
    const [writer, reader] = MergeQueue.newPair(buzzer, new Threshold(panickingSpill, { thresholdBytes: 0, headReserveBytes: 0 }));
    expect(() => writer.extend([oneByte(1), oneByte(2)])).toThrow('spill panicked');
    writer.drop();
    expect(() => reader.isComplete()).toThrow(poisoned);
    expect(() => reader.drop()).not.toThrow();
    expect(buzzer.count).toBe(2);
  });

  it('a handle that never saw the poison panics in its drop and does not buzz', () => {
    const buzzer = new Buzzer();
    const [writer, reader] = MergeQueue.newPair(buzzer, new Threshold(panickingSpill, { thresholdBytes: 0, headReserveBytes: 0 }));
    expect(() => writer.extend([oneByte(1), oneByte(2)])).toThrow('spill panicked');
    writer.drop();
    expect(() => reader.drop()).toThrow(poisoned);
    expect(buzzer.count).toBe(1);
    // Its reference to the shared state is released all the same: a second drop does nothing.
    expect(() => reader.drop()).not.toThrow();
    expect(buzzer.count).toBe(1);
  });

  it("a caller's argument error is not a panic: the handle does not unwind, so its drop still panics", () => {
    const buzzer = new Buzzer();
    const [writer, reader] = MergeQueue.newPair(buzzer, new Threshold(panickingSpill, { thresholdBytes: 0, headReserveBytes: 0 }));
    expect(() => writer.extend([oneByte(1), oneByte(2)])).toThrow('spill panicked');
    writer.drop();
    expect(() => reader.extend(42 as never)).toThrow(expect.objectContaining({ code: 'E_BAD_ARGUMENT' }));
    expect(() => reader.drainInto(Object.freeze([]) as never)).toThrow(expect.objectContaining({ code: 'E_BAD_ARGUMENT' }));
    expect(() => reader.drop()).toThrow(poisoned);
    expect(buzzer.count).toBe(1);
  });

  it("a reader policy that throws inside drainInto poisons the queue; the reader unwinds, the writer's drop panics", () => {
    const buzzer = new Buzzer();
    const exploding = { apply: () => { throw new Error('prefetch panicked'); } };
    const [writer, reader] = MergeQueue.newPair(buzzer, undefined, exploding);
    writer.extend([oneByte(1)]);
    expect(buzzer.count).toBe(1);
    expect(() => reader.drainInto([])).toThrow('prefetch panicked');
    expect(writer.isPoisoned).toBe(true);
    expect(() => reader.drop()).not.toThrow();
    expect(buzzer.count).toBe(2);
    expect(() => writer.drop()).toThrow(poisoned);
    expect(buzzer.count).toBe(2);
  });
});

/** Storage that keeps chunks and whose fetch does what the test says. */
class ScriptedSpill implements BytesSpill {
  fetches = 0;
  constructor(readonly fetchDoes: (chunk: Uint8Array) => FetchResult) {}
  spill(chunks: Bytes[], handles: BytesFetch[]): void {
    for (const chunk of chunks.splice(0)) {
      const data = chunk.data.slice();
      handles.push({ fetch: () => { this.fetches += 1; return this.fetchDoes(data); } });
    }
  }
}

function pagedThenResident(reader: (budget: number) => PrefetchPolicy, fetchDoes: (chunk: Uint8Array) => FetchResult) {
  const buzzer = new Buzzer();
  const spill = new ScriptedSpill(fetchDoes);
  const [writer, r] = MergeQueue.newPair(buzzer, new Threshold(spill, { thresholdBytes: 0, headReserveBytes: 0 }), reader(1));
  writer.extend([oneByte(1), oneByte(2)]);
  expect([...r.deque].map((e) => e.kind)).toEqual(['paged', 'bytes']);
  return { buzzer, writer, reader: r, spill };
}

const fetchPanics = (): FetchResult => { throw new Error('fetch panicked'); };

describe('PrefetchPolicy: a fetch that panics', () => {
  it('ReferencePrefetchPolicy removes the paged entry before fetching, so the panic loses it', () => {
    const { buzzer, writer, reader, spill } = pagedThenResident((b) => new ReferencePrefetchPolicy(b), fetchPanics);
    expect(() => reader.drainInto([])).toThrow('fetch panicked');
    expect(spill.fetches).toBe(1);
    expect(reader.isPoisoned).toBe(true);
    expect(reader.deque.length).toBe(1);
    expect(reader.deque.pagedCount).toBe(0);
    expect(reader.deque.residentBytes).toBe(1);
    // The extend buzzed once (empty before); the reader unwinds and buzzes; the writer panics.
    expect(() => reader.drop()).not.toThrow();
    expect(buzzer.count).toBe(2);
    expect(() => writer.drop()).toThrow(poisoned);
    expect(buzzer.count).toBe(2);
  });

  it('PrefetchPolicy (the default) keeps the paged entry, so the poisoned deque still accounts for every byte', () => {
    const { reader } = pagedThenResident((b) => new PrefetchPolicy(b), fetchPanics);
    expect(() => reader.drainInto([])).toThrow('fetch panicked');
    expect(reader.isPoisoned).toBe(true);
    expect([...reader.deque].map((e) => e.kind)).toEqual(['paged', 'bytes']);
  });

  it('a fetched chunk that is not Bytes is E_BACKEND_CONTRACT in both; only the reference has lost the entry', () => {
    const plainU8 = (chunk: Uint8Array): FetchResult => ({ ok: true, chunks: [chunk as never] });
    const reference = pagedThenResident((b) => new ReferencePrefetchPolicy(b), plainU8);
    expect(() => reference.reader.drainInto([])).toThrow(expect.objectContaining({ code: 'E_BACKEND_CONTRACT' }));
    expect(reference.reader.deque.pagedCount).toBe(0);
    const fast = pagedThenResident((b) => new PrefetchPolicy(b), plainU8);
    expect(() => fast.reader.drainInto([])).toThrow(expect.objectContaining({ code: 'E_BACKEND_CONTRACT' }));
    expect(fast.reader.deque.pagedCount).toBe(1);
  });

  it('without a panic the two agree: fetched chunks in place, a failed fetch put back where it was', () => {
    for (const make of [(b: number) => new PrefetchPolicy(b), (b: number) => new ReferencePrefetchPolicy(b)]) {
      let failures = 1;
      const { reader } = pagedThenResident(make, (chunk) => (failures-- > 0 ? { ok: false, handle: { fetch: () => ({ ok: true, chunks: [Bytes.from(chunk), Bytes.from(new Uint8Array([7]))] }) } } : { ok: true, chunks: [Bytes.from(chunk)] }));
      const out: Bytes[] = [];
      reader.drainInto(out);
      expect(out).toEqual([]);
      expect([...reader.deque].map((e) => e.kind)).toEqual(['paged', 'bytes']);
      reader.drainInto(out);
      expect(out.flatMap((b) => [...b.data])).toEqual([1, 7, 2]);
    }
  });
});
