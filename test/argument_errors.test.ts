import { mkdtempSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Volume } from 'memfs';
import { afterAll, describe, expect, it } from 'vitest';
import {
  BatchFileSpill,
  Buzzer,
  Bytes,
  BytesMut,
  Config,
  EntryDeque,
  FileSpill,
  Hooks,
  MemfsSpill,
  MemorySpill,
  MergeQueue,
  PrefetchPolicy,
  ReferencePrefetchPolicy,
  ReferenceThreshold,
  runUntilQuiet,
  type SpillPolicy,
  Threshold,
} from '../src/index.js';
import { VecSpill } from './support/vec_spill.js';

// Issue 12, "Library: an argument error never loses or corrupts data": each bullet's inputs,
// the code they throw, the words of the message, and that nothing changed.

function thrown(fn: () => unknown): { code?: string; message: string } {
  try {
    fn();
  } catch (error) {
    return error as { code?: string; message: string };
  }
  throw new Error('expected a throw');
}

function expectCode(fn: () => unknown, code: string, message: RegExp): void {
  const error = thrown(fn);
  expect(error.message).toMatch(message);
  expect(error.code).toBe(code);
}

const badArgument = (fn: () => unknown, message: RegExp): void => expectCode(fn, 'E_BAD_ARGUMENT', message);

const fresh = (...values: number[]): Bytes => Bytes.from(new Uint8Array(values));

/** A pair with a counting writer and reader policy, holding `B:1,2 B:3`. */
function setup() {
  const buzzer = new Buzzer();
  const applied = { writer: 0, reader: 0 };
  const writerPolicy: SpillPolicy = { apply: () => { applied.writer += 1; } };
  const readerPolicy: SpillPolicy = { apply: () => { applied.reader += 1; } };
  const [writer, reader] = MergeQueue.newPair(buzzer, writerPolicy, readerPolicy);
  writer.extend([fresh(1, 2), fresh(3)]);
  const observe = () => ({
    entries: [...reader.deque].map((e) => (e.kind === 'bytes' ? `B:${[...e.bytes.data].join(',')}` : 'P')),
    residentBytes: reader.deque.residentBytes,
    poisoned: reader.isPoisoned,
    buzzes: buzzer.count,
    applied: { ...applied },
  });
  return { buzzer, writer, reader, observe };
}

describe('drainInto with an out it cannot push onto takes nothing', () => {
  const outs: [string, unknown][] = [
    ['an object', {}],
    ['a string', 'out'],
    ['a number', 7],
    ['a Set', new Set()],
    ['a frozen array', Object.freeze([])],
    ['a sealed array', Object.seal([])],
    ['a non-extensible array', Object.preventExtensions([])],
    ['null', null],
    ['undefined', undefined],
  ];
  for (const [name, out] of outs) {
    it(`${name}: E_BAD_ARGUMENT naming drainInto(out), before the policy runs or a chunk moves`, () => {
      const { reader, observe } = setup();
      const before = observe();
      badArgument(() => reader.drainInto(out as never), /^drainInto\(out\) takes an array it can push Bytes onto, such as \[\], got /);
      expect(observe()).toEqual(before);
      const got: Bytes[] = [];
      reader.drainInto(got);
      expect(got.flatMap((b) => [...b.data])).toEqual([1, 2, 3]);
    });
  }

  it('without a reader policy too, on a queue with data and on an empty one (the checks take another path there)', () => {
    for (const [, out] of outs) {
      const buzzer = new Buzzer();
      const [writer, reader] = MergeQueue.newPair(buzzer);
      badArgument(() => reader.drainInto(out as never), /^drainInto\(out\) takes an array it can push Bytes onto/);
      writer.extend([fresh(5, 6)]);
      const before = { buzzes: buzzer.count, resident: reader.deque.residentBytes, length: reader.deque.length };
      badArgument(() => reader.drainInto(out as never), /^drainInto\(out\) takes an array it can push Bytes onto/);
      expect({ buzzes: buzzer.count, resident: reader.deque.residentBytes, length: reader.deque.length }).toEqual(before);
      const got: Bytes[] = [];
      reader.drainInto(got);
      expect(got.flatMap((b) => [...b.data])).toEqual([5, 6]);
    }
  });

  it('names what it got', () => {
    const { reader } = setup();
    badArgument(() => reader.drainInto(Object.freeze([]) as never), /got an empty array that cannot grow \(frozen, sealed or not extensible\)$/);
    badArgument(() => reader.drainInto(Object.seal([]) as never), /got an empty array that cannot grow/);
    badArgument(() => reader.drainInto(Object.freeze([fresh(1)]) as never), /got a frozen array$/);
    badArgument(() => reader.drainInto(Object.seal([fresh(1)]) as never), /got a sealed array$/);
    badArgument(() => reader.drainInto(Object.preventExtensions([fresh(1)]) as never), /got an array that is not extensible$/);
    badArgument(() => reader.drainInto(new Set() as never), /got a Set$/);
    badArgument(() => reader.drainInto('out' as never), /got the string "out"$/);
  });

  it('an array whose push fails partway keeps the refused chunk queued: no byte is lost', () => {
    const { reader, observe } = setup();
    const out: Bytes[] = [];
    Object.defineProperty(out, 'length', { writable: false });
    badArgument(() => reader.drainInto(out), /could not push onto out/);
    expect(observe().entries).toEqual(['B:1,2', 'B:3']);
    expect(observe().residentBytes).toBe(3);
    expect(observe().poisoned).toBe(false);
  });
});

describe('extend with a wrong argument: E_BAD_ARGUMENT, no poison, no state change', () => {
  const cases: [string, () => unknown, RegExp][] = [
    ['one Bytes without brackets', () => fresh(9), /^extend\(items\) takes an iterable of Bytes, got a single Bytes; wrap it in brackets: extend\(\[bytes\]\)$/],
    ['undefined', () => undefined, /^extend\(items\) takes an array or iterable of Bytes, .* got undefined$/],
    ['null', () => null, /got null$/],
    ['a number', () => 42, /got number 42$/],
    ['a string', () => 'abc', /got the string "abc"$/],
    ['a plain object', () => ({ length: 1 }), /got an object with length$/],
    ['a Uint8Array', () => new Uint8Array(3), /got a Uint8Array; wrap it: extend\(\[Bytes\.from\(u8\)\]\)$/],
    ['an ArrayBuffer', () => new ArrayBuffer(3), /got an ArrayBuffer; wrap it/],
    ['a good chunk then a number', () => [fresh(9), 42], /^extend\(items\) takes Bytes, but item 1 is number 42; nothing was taken$/],
    ['a good chunk then a Uint8Array', () => [fresh(9), new Uint8Array(2)], /item 1 is a Uint8Array; wrap it with Bytes\.from\(u8\); nothing was taken$/],
    ['a hole', () => [fresh(9), , fresh(8)], /item 1 is undefined/], // eslint-disable-line no-sparse-arrays
    ['a generator of a good chunk then null', () => (function* () { yield fresh(9); yield null; })(), /item 1 is null/],
    ['a Set holding a string', () => new Set([fresh(9), 'x']), /item 1 is the string "x"/],
  ];
  for (const [name, items, message] of cases) {
    it(name, () => {
      const { writer, reader, observe } = setup();
      const before = observe();
      badArgument(() => writer.extend(items() as never), message);
      expect(observe()).toEqual(before);
      // The next correct call works: the queue was not poisoned.
      writer.extend([fresh(4)]);
      const out: Bytes[] = [];
      reader.drainInto(out);
      expect(out.flatMap((b) => [...b.data])).toEqual([1, 2, 3, 4]);
    });
  }

  it("a caller's iterator that throws: its own error, nothing taken, no poison", () => {
    const { writer, observe } = setup();
    const before = observe();
    const failing = (function* () { yield fresh(9); throw new Error('my generator broke'); })();
    expect(() => writer.extend(failing)).toThrow('my generator broke');
    expect(observe()).toEqual(before);
  });

  it('a merge halfway through the list is not started when a later item is wrong', () => {
    const slab = new Uint8Array([1, 2, 3, 4, 5, 6]);
    const [writer, reader] = MergeQueue.newPair(new Buzzer());
    writer.extend([Bytes.from(slab.subarray(0, 2))]);
    const next = Bytes.from(slab.subarray(2, 4));
    badArgument(() => writer.extend([next, Bytes.from(slab.subarray(4, 6)), 'x'] as never), /item 2/);
    expect(reader.deque.residentBytes).toBe(2);
    expect([...reader.deque].map((e) => (e.kind === 'bytes' ? e.bytes.length : -1))).toEqual([2]);
    expect(next.length).toBe(2);
  });

  /** After a refused call: nothing changed, not poisoned, and the next correct call delivers everything. */
  function expectUntouched(setupResult: ReturnType<typeof setup>, before: ReturnType<ReturnType<typeof setup>['observe']>): void {
    const { writer, reader, observe } = setupResult;
    expect(observe()).toEqual(before);
    writer.extend([fresh(4)]);
    const out: Bytes[] = [];
    reader.drainInto(out);
    expect(out.flatMap((b) => [...b.data])).toEqual([1, 2, 3, 4]);
  }

  /** Items that merge into the back, into each other and start new tails, so a refusal after them must undo each kind. */
  function mergingItems(q: ReturnType<typeof setup>) {
    const back = [...q.reader.deque].at(-1)!;
    const buffer = back.kind === 'bytes' ? back.bytes.buffer : new ArrayBuffer(0);
    const slab = new Uint8Array(8);
    return [
      new Bytes(buffer, (back as { bytes: Bytes }).bytes.offset + 1, 0), // merges into the back (zero bytes)
      Bytes.from(slab.subarray(0, 2)),
      Bytes.from(slab.subarray(2, 4)), // merges into the one before
      fresh(7), // a new tail
    ];
  }

  it('an object made from Bytes.prototype passes instanceof but is no Bytes: E_BAD_ARGUMENT wherever it stands', () => {
    for (const at of [0, 1, 4]) {
      const q = setup();
      const before = q.observe();
      const items: unknown[] = at === 0 ? [] : at === 1 ? [fresh(9)] : mergingItems(q);
      items.push(Object.create(Bytes.prototype));
      badArgument(() => q.writer.extend(items as never), new RegExp(`^extend\\(items\\) takes Bytes, but item ${at} is an object with the Bytes prototype that no Bytes constructor made`));
      expectUntouched(q, before);
    }
    // tryMerge checks it the same way (a backend's fetched chunk: below).
    badArgument(() => fresh(1).tryMerge(Object.create(Bytes.prototype)), /^tryMerge\(other\) takes a Bytes/);
  });

  it("an array whose item getter throws: the caller's own error, nothing taken, no poison (merges before it undone)", () => {
    for (const items of [(q: ReturnType<typeof setup>) => [fresh(9)], mergingItems]) {
      const q = setup();
      const before = q.observe();
      const list = items(q);
      Object.defineProperty(list, list.length, { get() { throw new Error('boom'); }, enumerable: true });
      expect(list.length).toBeGreaterThan(1);
      expect(() => q.writer.extend(list)).toThrow('boom');
      expectUntouched(q, before);
    }
  });

  it("a Proxy array whose item or length read throws, and a throwing generator: the caller's own error, nothing taken, no poison", () => {
    const throwing = (q: ReturnType<typeof setup>, what: 'item' | 'length') => {
      const target = mergingItems(q);
      return new Proxy(target, {
        get(t, key, receiver) {
          if ((what === 'item' && key === '3') || (what === 'length' && key === 'length')) throw new Error(`proxy ${what} broke`);
          return Reflect.get(t, key, receiver);
        },
      });
    };
    for (const what of ['item', 'length'] as const) {
      const q = setup();
      const before = q.observe();
      expect(() => q.writer.extend(throwing(q, what))).toThrow(`proxy ${what} broke`);
      expectUntouched(q, before);
    }
    const q = setup();
    const before = q.observe();
    const items = mergingItems(q);
    expect(() => q.writer.extend((function* () { yield* items; throw new Error('generator broke'); })())).toThrow('generator broke');
    expectUntouched(q, before);
  });

  it('an array read twice by the checked path cannot swap a checked item for a wrong one', () => {
    // A foreign first item takes the checked path; a getter that answers a Bytes once and a string after.
    const q = setup();
    const before = q.observe();
    const slab = new Uint8Array([5, 6]);
    const foreign = { buffer: slab.buffer, offset: 0, length: 2, tryMerge: () => false, extractTo: () => foreign };
    let reads = 0;
    const list: unknown[] = [foreign];
    Object.defineProperty(list, 1, { get: () => (reads++ === 0 ? fresh(8) : 'swapped'), enumerable: true });
    q.writer.extend(list as never);
    expect(q.reader.isPoisoned).toBe(false);
    expect(q.reader.deque.residentBytes).toBe(before.residentBytes + 3);
    expect(reads).toBe(1);
  });

  it('a Bytes whose ArrayBuffer was detached after Bytes.from: E_BAD_ARGUMENT, nothing taken', () => {
    const detached = () => {
      const u8 = new Uint8Array([7, 8]);
      const bytes = Bytes.from(u8);
      structuredClone(u8.buffer, { transfer: [u8.buffer] });
      expect(() => bytes.data).toThrow();
      return bytes;
    };
    for (const make of [(q: ReturnType<typeof setup>) => [detached()], () => [fresh(9), detached()], (q: ReturnType<typeof setup>) => [...mergingItems(q), detached()]]) {
      const q = setup();
      const before = q.observe();
      const items = make(q);
      badArgument(() => q.writer.extend(items), new RegExp(`item ${items.length - 1}'s ArrayBuffer was detached \\(transferred\\) or shrunk after Bytes\\.from; nothing was taken$`));
      expectUntouched(q, before);
    }
  });

  it('on a dropped handle it is E_DROPPED (the poisoned case: test/panic_paths.test.ts)', () => {
    const [writer] = MergeQueue.newPair(new Buzzer());
    writer.drop();
    expectCode(() => writer.extend(42 as never), 'E_DROPPED', /after drop\(\)/);
    expectCode(() => writer.drainInto({} as never), 'E_DROPPED', /after drop\(\)/);
  });
});

describe('constructors and options are checked where they are made', () => {
  const spill = new VecSpill();

  it('Threshold and ReferenceThreshold: unknown option names are rejected with the closest name', () => {
    badArgument(() => new Threshold(spill, { threshold: 5 } as never), /^Threshold has no option "threshold"; did you mean thresholdBytes\? \(it takes thresholdBytes, headReserveBytes\)$/);
    badArgument(() => new ReferenceThreshold(spill, { head_reserve_bytes: 5 } as never), /^ReferenceThreshold has no option "head_reserve_bytes"; did you mean headReserveBytes\?/);
    badArgument(() => new Threshold(spill, { budget: 5 } as never), /^Threshold has no option "budget" \(it takes thresholdBytes, headReserveBytes\)$/);
    badArgument(() => new Threshold(spill, 5 as never), /^Threshold options must be an object such as \{ thresholdBytes: .*\}, got number 5$/);
  });

  it('Threshold without a strategy', () => {
    for (const strategy of [null, undefined, 'memory', {}]) {
      badArgument(() => new Threshold(strategy as never), /^new Threshold\(strategy, options\) takes a BytesSpill \(an object with a spill\(chunks, handles\) method, such as new MemorySpill\(\)\) as strategy, got /);
    }
    badArgument(() => new ReferenceThreshold(null as never), /^new ReferenceThreshold\(strategy/);
  });

  it('knobs: a bad value is E_BAD_KNOB and leaves the knob as it was', () => {
    const threshold = new Threshold(spill, { thresholdBytes: 10, headReserveBytes: 2 });
    expectCode(() => { threshold.thresholdBytes = Number.NaN; }, 'E_BAD_KNOB', /^thresholdBytes must be a non-negative whole number of bytes/);
    expectCode(() => { threshold.headReserveBytes = -1; }, 'E_BAD_KNOB', /^headReserveBytes must be/);
    expect([threshold.thresholdBytes, threshold.headReserveBytes]).toEqual([10, 2]);
    const prefetch = new ReferencePrefetchPolicy(8);
    expectCode(() => { prefetch.budget = 1.5; }, 'E_BAD_KNOB', /^budget must be/);
    expect(prefetch.budget).toBe(8);
    expectCode(() => new PrefetchPolicy('128' as never), 'E_BAD_KNOB', /^budget must be a non-negative whole number of bytes, got 128/);
  });

  it('MergeQueue.newPair and MergeQueue.new check the buzzer, the policies and the option names', () => {
    const buzzer = new Buzzer();
    badArgument(() => MergeQueue.newPair(buzzer, 'x' as never, 'y' as never), /^MergeQueue\.newPair: writerPolicy must be a SpillPolicy \(an object with an apply\(deque\) method\) or undefined, got the string "x"$/);
    badArgument(() => MergeQueue.newPair(buzzer, undefined, 'y' as never), /readerPolicy must be a SpillPolicy/);
    badArgument(() => MergeQueue.newPair(buzzer, (() => {}) as never), /writerPolicy .* got a function$/);
    badArgument(() => MergeQueue.newPair('b' as never), /^MergeQueue\.newPair\(buzzer, …\) takes a Buzzer as its first argument, such as new Buzzer\(\), got the string "b"$/);
    badArgument(() => MergeQueue.new(undefined as never), /^MergeQueue\.new\(buzzer, …\) takes a Buzzer/);
    badArgument(() => MergeQueue.newPair(buzzer, undefined, undefined, { stallguard: 'accumulator' } as never), /^MergeQueue\.newPair has no option "stallguard"; did you mean stallGuard\?/);
    badArgument(() => MergeQueue.new(buzzer, { stall: 'produced' } as never), /^MergeQueue\.new has no option "stall"; did you mean stallGuard\?/);
    badArgument(() => MergeQueue.newPair(buzzer, undefined, undefined, { stallGuard: 'sometimes' as never }), /^stallGuard must be 'produced' or 'accumulator', got the string "sometimes"$/);
    // null means no policy, as undefined does.
    const [writer, reader] = MergeQueue.newPair(buzzer, null, null);
    writer.extend([fresh(1)]);
    expect(reader.deque.residentBytes).toBe(1);
  });

  it('Buzzer takes an optional function', () => {
    badArgument(() => new Buzzer('notfn' as never), /^new Buzzer\(onBuzz\): onBuzz must be a function, got the string "notfn"$/);
    badArgument(() => new Buzzer(null as never), /onBuzz must be a function, got null$/);
    expect(new Buzzer(undefined).count).toBe(0);
  });

  it('Bytes.from and Bytes.copyOf take a Uint8Array and say how to make one', () => {
    badArgument(() => Bytes.from(new ArrayBuffer(4) as never), /^Bytes\.from\(u8\) takes a Uint8Array, got an ArrayBuffer; wrap it: Bytes\.from\(new Uint8Array\(buffer\)\)$/);
    badArgument(() => Bytes.from([1, 2] as never), /^Bytes\.from\(u8\) takes a Uint8Array, got an array; for numbers use Bytes\.from\(Uint8Array\.from\(list\)\)$/);
    badArgument(() => Bytes.from('abc' as never), /got the string "abc"; for text use Bytes\.from\(new TextEncoder\(\)\.encode\(text\)\)$/);
    badArgument(() => Bytes.from(null as never), /^Bytes\.from\(u8\) takes a Uint8Array, got null$/);
    badArgument(() => Bytes.copyOf(undefined as never), /^Bytes\.copyOf\(u8\) takes a Uint8Array, got undefined$/);
    badArgument(() => new Bytes(null as never, 0, 0), /^new Bytes\(buffer, offset, length\) takes an ArrayBuffer or SharedArrayBuffer as buffer, got null/);
    expect(Bytes.from(Buffer.from([1, 2])).length).toBe(2);
    expect(new Bytes(new SharedArrayBuffer(4), 1, 2).length).toBe(2);
  });

  it('tryMerge and extractTo check their argument and leave the view as it was', () => {
    const slab = new Uint8Array(8);
    const bytes = Bytes.from(slab.subarray(0, 4));
    badArgument(() => bytes.tryMerge(slab.subarray(4, 8) as never), /^tryMerge\(other\) takes a Bytes, got a Uint8Array$/);
    badArgument(() => bytes.extractTo('2' as never), /^Bytes\.extractTo\(i\): i takes a whole number of bytes in 0\.\.4 \(the view's length\), got the string "2"$/);
    badArgument(() => bytes.extractTo(5), /^Bytes\.extractTo\(5\): i takes a whole number of bytes in 0\.\.4/);
    expect([bytes.offset, bytes.length]).toEqual([0, 4]);
    const mut = new BytesMut(4);
    badArgument(() => mut.extractTo(-1), /^BytesMut\.extractTo\(-1\): i takes a whole number of bytes in 0\.\.4 \(the bytes left\), got number -1$/);
    expect(mut.length).toBe(4);
    badArgument(() => new BytesMut(-1), /^new BytesMut\(byteLength\) takes a non-negative whole number of bytes, got number -1$/);
    badArgument(() => BytesMut.alloc('8' as never), /got the string "8"$/);
  });

  it('a Bytes of a second copy of the library merges with ours through its public shape', () => {
    const slab = new Uint8Array([1, 2, 3, 4]);
    const ours = Bytes.from(slab.subarray(0, 2));
    const foreign = { buffer: slab.buffer, offset: 2, length: 2, tryMerge: () => false, extractTo: () => foreign };
    expect(ours.tryMerge(foreign as never)).toBe(true);
    expect([...ours.data]).toEqual([1, 2, 3, 4]);
  });

  it('extend takes Bytes of a second copy of the library, first, after ours, or as the back, and still rejects a wrong item after one', () => {
    /** A Bytes of another copy: the same public shape, a class of its own. */
    class ForeignBytes {
      constructor(readonly buffer: ArrayBuffer, public offset: number, public length: number) {}
      get data(): Uint8Array { return new Uint8Array(this.buffer, this.offset, this.length); }
      tryMerge(other: { buffer: ArrayBufferLike; offset: number; length: number }): boolean {
        if (other === null || typeof other !== 'object' || typeof other.length !== 'number') throw new Error('foreign copy: not a Bytes');
        if (other.buffer !== this.buffer || other.offset !== this.offset + this.length) return false;
        this.length += other.length;
        return true;
      }
      extractTo(): never { throw new Error('unused'); }
    }
    const slab = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
    const ours = (from: number, to: number) => Bytes.from(slab.subarray(from, to));
    const foreign = (from: number, to: number) => new ForeignBytes(slab.buffer, from, to - from) as unknown as Bytes;
    const lengths = (q: MergeQueue) => [...q.deque].map((e) => (e.kind === 'bytes' ? e.bytes.length : -1));

    const [w1, r1] = MergeQueue.newPair(new Buzzer());
    const rejected = [ours(0, 2), foreign(2, 4), 42];
    badArgument(() => w1.extend(rejected as never), /^extend\(items\) takes Bytes, but item 2 is number 42; nothing was taken$/);
    expect(r1.deque.length).toBe(0);
    expect((rejected[0] as Bytes).length).toBe(2);
    w1.extend([ours(0, 2), foreign(2, 4), ours(4, 6)]);
    expect(lengths(r1)).toEqual([6]);

    const [w2, r2] = MergeQueue.newPair(new Buzzer());
    w2.extend([foreign(0, 2), ours(2, 4)]); // a foreign first item, merged into by ours
    expect(lengths(r2)).toEqual([4]);
    badArgument(() => w2.extend([ours(4, 6), 'x'] as never), /item 1 is the string "x"/); // a foreign back
    expect(lengths(r2)).toEqual([4]);
    w2.extend([ours(4, 6), ours(6, 8)]);
    const out: Bytes[] = [];
    r2.drainInto(out);
    expect(out.flatMap((b) => [...b.data])).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('MemorySpill, FileSpill, MemfsSpill and BatchFileSpill reject unknown option names', () => {
    badArgument(() => new MemorySpill({ capacity: 10 } as never), /^MemorySpill has no option "capacity"; did you mean capacityBytes\? \(it takes capacityBytes\)$/);
    badArgument(() => new MemorySpill(5 as never), /^MemorySpill options must be an object such as \{ capacityBytes: 1048576 \}, got number 5$/);
    const parent = mkdtempSync(join(tmpdir(), 'spillsim-args-'));
    cleanups.push(() => rmSync(parent, { recursive: true, force: true }));
    badArgument(() => new FileSpill({ dir: join(parent, 'a'), read_mode: 'batch' } as never), /^FileSpill has no option "read_mode"; did you mean readMode\?/);
    expect(existsSync(join(parent, 'a'))).toBe(false);
    badArgument(() => new FileSpill(null as never), /^FileSpill options must be an object such as \{ dir: .*\}, got null$/);
    badArgument(() => new MemfsSpill({ readmode: 'batch' } as never), /^MemfsSpill has no option "readmode"; did you mean readMode\?/);
    badArgument(() => new MemfsSpill({ volume: 5 } as never), /^MemfsSpill option volume must be a memfs Volume, got number 5$/);
    badArgument(() => new MemfsSpill({ openReadFileMax: 1 } as never), /did you mean openReadFilesMax\?/);
    badArgument(() => new BatchFileSpill({ fs: new Volume(), dir: '/x' } as never, undefined as never), /^new BatchFileSpill\(name, options\) takes a name for messages/);
    badArgument(() => new BatchFileSpill('MySpill', { fs: new Volume(), dir: '/x', directory: '/y' } as never), /^MySpill has no option "directory"; did you mean dir\?/);
    expect(new MemfsSpill({ volume: new Volume(), dir: '/s' }).dir).toBe('/s');
  });

  it('MemfsSpill takes a memfs Volume as volume and an fs with every method it uses', () => {
    badArgument(() => new MemfsSpill(5 as never), /^MemfsSpill options must be an object such as \{ dir: '\/spill' \}, got number 5$/);
    badArgument(() => new MemfsSpill({ volume: null } as never), /^MemfsSpill option volume must be a memfs Volume, got null$/);
    badArgument(() => new MemfsSpill({ volume: '/spill' } as never), /^MemfsSpill option volume must be a memfs Volume, got the string "\/spill"$/);
    badArgument(() => new MemfsSpill({ volume: Object.assign(() => {}, { openSync: () => 3 }) } as never), /^MemfsSpill option volume must be a memfs Volume, got a function$/);
    badArgument(() => new MemfsSpill({ volume: {} } as never), /^MemfsSpill option volume must be a memfs Volume, got an empty object$/);
    badArgument(() => new MemfsSpill({ fs: { openSync: () => 3 } } as never), /^MemfsSpill option fs lacks writeSync, readSync, closeSync, unlinkSync, mkdirSync; pass node:fs, a memfs Volume, or a copy of one with methods replaced$/);
    expect(new MemfsSpill({}).dir).toBe('/spill');
  });

  it('Threshold checks both knobs where it is made, naming the one that is wrong', () => {
    expectCode(() => new Threshold(spill, { headReserveBytes: -1 }), 'E_BAD_KNOB', /^headReserveBytes must be a non-negative whole number of bytes, got -1$/);
    expectCode(() => new ReferenceThreshold(spill, { thresholdBytes: 0.5 }), 'E_BAD_KNOB', /^thresholdBytes must be a non-negative whole number of bytes, got 0\.5$/);
  });

  it('Hooks, Config and build options reject unknown option names', () => {
    const spillFn = () => [undefined, undefined] as never;
    badArgument(() => new Hooks({ log_fn: () => {} } as never), /^Hooks has no option "log_fn"; did you mean logFn\? \(it takes logFn, refill, spill\)$/);
    badArgument(() => new Hooks({ spill: 5 } as never), /^hooks\.spill must be a function, got number 5$/);
    badArgument(() => Config.thread().tryBuildWith({ spil: spillFn } as never), /^Hooks has no option "spil"; did you mean spill\?/);
    badArgument(() => Config.thread({ slab_bytes: 1 } as never), /^build has no option "slab_bytes"; did you mean slabBytes\?/);
    badArgument(() => Config.process(2, { stallguard: 'produced' } as never), /did you mean stallGuard\?/);
    badArgument(() => Config.cluster({ threads: 1, process: 0, addresses: ['a'], zeroCopy: true } as never), /^Cluster has no option "zeroCopy"; did you mean zerocopy\?/);
    badArgument(() => Config.thread({ buzzerFor: 'x' } as never), /^buzzerFor must be a function, got the string "x"$/);
    const communication = Config.thread().tryBuild();
    badArgument(() => runUntilQuiet(communication, { rounds: 5 } as never), /^runUntilQuiet has no option "rounds"; did you mean roundsMax\?/);
    badArgument(() => runUntilQuiet(communication, { onReceive: 5 } as never), /^runUntilQuiet option onReceive must be a function, got number 5$/);
  });
});

describe('what a backend or a policy hands back is checked like spill results are', () => {
  function pagedOnce(fetchResult: unknown) {
    const spill = {
      spill(chunks: Bytes[], handles: { fetch(): unknown }[]) {
        for (const _ of chunks.splice(0)) handles.push({ fetch: () => fetchResult });
      },
    };
    const [writer, reader] = MergeQueue.newPair(new Buzzer(), new Threshold(spill as never, { thresholdBytes: 0, headReserveBytes: 0 }), new PrefetchPolicy(64));
    writer.extend([fresh(1), fresh(2)]);
    return reader;
  }

  const chunks: [string, unknown, RegExp][] = [
    ['a plain Uint8Array', new Uint8Array([1]), /^fetch returned chunk 0 as a Uint8Array, not a Bytes; a backend must return Bytes \(wrap a Uint8Array with Bytes\.from\(u8\)\)$/],
    ['a { data, length } object', { data: new Uint8Array([1]), length: 1 }, /^fetch returned chunk 0 as an object with data, length, not a Bytes/],
    ['null', null, /^fetch returned chunk 0 as null, not a Bytes/],
    ['an object made from Bytes.prototype', Object.create(Bytes.prototype), /^fetch returned chunk 0 as an object with the Bytes prototype that no Bytes constructor made/],
  ];
  for (const [name, chunk, message] of chunks) {
    it(`a fetched chunk that is ${name}: E_BACKEND_CONTRACT, and the consumer gets nothing`, () => {
      const reader = pagedOnce({ ok: true, chunks: [chunk] });
      const out: Bytes[] = [];
      expectCode(() => reader.drainInto(out), 'E_BACKEND_CONTRACT', message);
      expect(out).toEqual([]);
      expect(reader.isPoisoned).toBe(true);
    });
  }

  it('a fetched chunk list that is not an array', () => {
    const reader = pagedOnce({ ok: true, chunks: 'abc' });
    expectCode(() => reader.drainInto([]), 'E_BACKEND_CONTRACT', /^fetch returned ok with chunks the string "abc"; expected an array of Bytes$/);
  });

  it('a policy that puts a non-Bytes entry into the deque is refused by the deque', () => {
    const deque = new EntryDeque();
    badArgument(() => deque.pushBack({ kind: 'bytes', bytes: new Uint8Array(3) } as never), /^not a QueueEntry: .* got \{ kind: 'bytes' \} whose bytes is a Uint8Array, not a Bytes$/);
    badArgument(() => deque.pushBack({ kind: 'paged', handle: {} } as never), /whose handle has no fetch\(\) method$/);
    badArgument(() => deque.pushBack(null as never), /got null$/);
    // The hot path without the wrapper refuses the same, before it changes the deque.
    badArgument(() => deque.pushBackBytes({ length: 3 } as never), /^pushBackBytes\(bytes\) takes a Bytes, got an object/);
    badArgument(() => deque.pushBackBytes(new Uint8Array(3) as never), /^pushBackBytes\(bytes\) takes a Bytes, got a Uint8Array$/);
    badArgument(() => deque.pushBackBytes(null as never), /^pushBackBytes\(bytes\) takes a Bytes, got null$/);
    badArgument(() => deque.indexOfResidentBytesBefore(Number.NaN), /^indexOfResidentBytesBefore\(bytes\) takes a number of bytes, got number NaN$/);
    expect(deque.residentBytes).toBe(0);
    expect(deque.length).toBe(0);
    const entry = { kind: 'bytes' as const, bytes: Bytes.from(new Uint8Array(2)) };
    deque.pushBack(entry);
    badArgument(() => deque.setBytes(0, new Uint8Array(3) as never), /^setBytes\(i, bytes\) takes a Bytes, got a Uint8Array$/);
    badArgument(() => deque.setBytes(0, null as never), /^setBytes\(i, bytes\) takes a Bytes, got null$/);
    badArgument(() => deque.setBytes(1, Bytes.from(new Uint8Array(3))), /^deque index out of range/);
    expect([deque.residentBytes, deque.length, deque.bytesAt(0)]).toEqual([2, 1, entry.bytes]);
  });
});

const cleanups: (() => void)[] = [];
afterAll(() => {
  for (const cleanup of cleanups) cleanup();
});
