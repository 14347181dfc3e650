import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  Buzzer,
  Bytes,
  type BytesSpill,
  MemorySpill,
  MergeQueue,
  PrefetchPolicy,
  ReferencePrefetchPolicy,
  ReferenceThreshold,
  Threshold,
} from '../src/index.js';
import { propertySeeds } from './support/seeds.js';

// Issue 12: a model-based property over the public API that mixes valid calls with wrong
// arguments at random. Every byte an accepted `extend` took is delivered exactly once, in
// order; every rejected call leaves the queue as it was (all that a user can observe of it).

/** The queue under test, its storage and policies, and the bytes that went in and came out. */
class Real {
  readonly buzzer = new Buzzer();
  readonly spill: MemorySpill;
  readonly threshold: Threshold | ReferenceThreshold;
  readonly prefetch: PrefetchPolicy;
  readonly writer: MergeQueue;
  readonly reader: MergeQueue;
  /** A slab that consecutive chunks are cut from, so the queue merges them. */
  #slab = new Uint8Array(0);
  #slabUsed = 0;
  #nextValue = 0;
  readonly #handleIds = new WeakMap<object, number>();
  #nextHandleId = 0;

  constructor(readonly config: QueueConfig) {
    this.spill = new MemorySpill(config.capacityBytes === undefined ? {} : { capacityBytes: config.capacityBytes });
    const knobs = { thresholdBytes: config.thresholdBytes, headReserveBytes: config.headReserveBytes };
    this.threshold = config.reference ? new ReferenceThreshold(this.spill, knobs) : new Threshold(this.spill, knobs);
    this.prefetch = config.reference ? new ReferencePrefetchPolicy(config.budgetBytes) : new PrefetchPolicy(config.budgetBytes);
    [this.writer, this.reader] = MergeQueue.newPair(this.buzzer, this.threshold, this.prefetch, { stallGuard: config.reference ? 'accumulator' : 'produced' });
  }

  /** Fresh chunks; `commit` false cuts them without using up the slab (a call that is rejected takes nothing). */
  chunks(lengths: readonly ChunkSpec[], commit: boolean): Bytes[] {
    const slabUsed = this.#slabUsed;
    const nextValue = this.#nextValue;
    const out = lengths.map((spec) => this.#cut(spec));
    if (!commit) {
      this.#slabUsed = slabUsed;
      this.#nextValue = nextValue;
    }
    return out;
  }

  #cut(spec: ChunkSpec): Bytes {
    let view: Uint8Array;
    if (spec.fromSlab) {
      if (this.#slabUsed + spec.length > this.#slab.length) {
        this.#slab = new Uint8Array(256);
        this.#slabUsed = 0;
      }
      view = this.#slab.subarray(this.#slabUsed, this.#slabUsed + spec.length);
      this.#slabUsed += spec.length;
    } else {
      view = new Uint8Array(spec.length);
    }
    for (let i = 0; i < view.length; i += 1) view[i] = (this.#nextValue++ * 13) & 0xff;
    return Bytes.from(view);
  }

  /** Everything a user can observe of the queue, its policies and its storage. */
  observe(): unknown {
    const deque = this.reader.deque;
    return {
      entries: [...deque].map((e) => (e.kind === 'bytes' ? `B:${[...e.bytes.data].join(',')}` : `P#${this.#handleId(e.handle)}`)),
      residentBytes: deque.residentBytes,
      residentCount: deque.residentCount,
      pagedCount: deque.pagedCount,
      poisoned: this.reader.isPoisoned,
      buzzes: this.buzzer.count,
      stored: this.spill.stats(),
      knobs: [this.threshold.thresholdBytes, this.threshold.headReserveBytes, this.prefetch.budget],
    };
  }

  #handleId(handle: object): number {
    let id = this.#handleIds.get(handle);
    if (id === undefined) {
      id = this.#nextHandleId++;
      this.#handleIds.set(handle, id);
    }
    return id;
  }
}

interface QueueConfig {
  thresholdBytes: number;
  headReserveBytes: number;
  budgetBytes: number;
  capacityBytes: number | undefined;
  reference: boolean;
}

interface ChunkSpec {
  length: number;
  fromSlab: boolean;
}

interface Model {
  /** Bytes every accepted extend took, in order. */
  written: number[];
  /** Bytes every drain delivered, in order. */
  delivered: number[];
}

type Cmd = fc.Command<Model, Real>;

const bytesOf = (chunks: readonly Bytes[]): number[] => chunks.flatMap((b) => [...b.data]);

/** Drain into a fresh array and check what came out continues what went in. */
function drainChecked(model: Model, real: Real): void {
  const out: Bytes[] = [];
  real.reader.drainInto(out);
  model.delivered.push(...bytesOf(out));
  expect(model.delivered).toEqual(model.written.slice(0, model.delivered.length));
}

class ExtendCommand implements Cmd {
  constructor(readonly specs: readonly ChunkSpec[]) {}
  check = (): boolean => true;
  run(model: Model, real: Real): void {
    const chunks = real.chunks(this.specs, true);
    model.written.push(...bytesOf(chunks));
    real.writer.extend(chunks);
  }
  toString = (): string => `extend(${this.specs.map((s) => `${s.length}${s.fromSlab ? 's' : ''}`).join(' ')})`;
}

class DrainCommand implements Cmd {
  check = (): boolean => true;
  run(model: Model, real: Real): void {
    drainChecked(model, real);
  }
  toString = (): string => 'drainInto([])';
}

class IsCompleteCommand implements Cmd {
  check = (): boolean => true;
  run(_model: Model, real: Real): void {
    expect(real.reader.isComplete()).toBe(false); // the writer is alive until the end
  }
  toString = (): string => 'isComplete()';
}

/** Wrong `extend` arguments, built around chunks the call must not take. */
const BAD_ITEMS: Record<string, (chunks: Bytes[], at: number) => unknown> = {
  'one Bytes': (chunks) => chunks[0] ?? Bytes.from(new Uint8Array(1)),
  undefined: () => undefined,
  null: () => null,
  number: () => 42,
  string: () => 'abc',
  object: () => ({ length: 2 }),
  Uint8Array: () => new Uint8Array(3),
  ArrayBuffer: () => new ArrayBuffer(3),
  'number among chunks': (chunks, at) => insertAt(chunks, at, 42),
  'null among chunks': (chunks, at) => insertAt(chunks, at, null),
  'Uint8Array among chunks': (chunks, at) => insertAt(chunks, at, new Uint8Array(2)),
  '{ data, length } among chunks': (chunks, at) => insertAt(chunks, at, { data: new Uint8Array(1), length: 1 }),
  'generator with a string': (chunks, at) => (function* () { yield* insertAt(chunks, at, 'x'); })(),
  'Set with undefined': (chunks, at) => new Set(insertAt(chunks, at, undefined)),
  // Passes `instanceof Bytes` but no Bytes constructor made it: its getters throw.
  'Object.create(Bytes.prototype) among chunks': (chunks, at) => insertAt(chunks, at, Object.create(Bytes.prototype)),
  'Bytes of a detached buffer among chunks': (chunks, at) => insertAt(chunks, at, detachedBytes()),
};

function detachedBytes(): Bytes {
  const u8 = new Uint8Array(3);
  const bytes = Bytes.from(u8);
  structuredClone(u8.buffer, { transfer: [u8.buffer] });
  return bytes;
}

/** `extend` arguments whose own reads throw: the caller's error comes back as it was thrown. */
const THROWING_ITEMS: Record<string, (chunks: Bytes[], at: number) => unknown> = {
  'array with a throwing getter': (chunks, at) => {
    const list = insertAt(chunks, at, undefined);
    Object.defineProperty(list, Math.min(at, chunks.length), { get: () => { throw new Error('caller broke'); } });
    return list;
  },
  'Proxy array whose item read throws': (chunks, at) => {
    const index = String(Math.min(at, chunks.length));
    return new Proxy(insertAt(chunks, at, undefined), {
      get: (target, key, receiver) => {
        if (key === index) throw new Error('caller broke');
        return Reflect.get(target, key, receiver);
      },
    });
  },
  'Proxy array whose length throws': (chunks) =>
    new Proxy([...chunks], { get: (target, key, receiver) => { if (key === 'length') throw new Error('caller broke'); return Reflect.get(target, key, receiver); } }),
  'generator that throws': (chunks, at) => (function* () { yield* chunks.slice(0, at); throw new Error('caller broke'); })(),
};

class ThrowingExtendCommand implements Cmd {
  constructor(readonly kind: string, readonly specs: readonly ChunkSpec[], readonly at: number) {}
  check = (): boolean => true;
  run(_model: Model, real: Real): void {
    const chunks = real.chunks(this.specs, false);
    const before = real.observe();
    const error = catchError(() => real.writer.extend(THROWING_ITEMS[this.kind]!(chunks, this.at) as never));
    expect(error).toMatchObject({ message: 'caller broke' });
    expect(real.observe()).toEqual(before);
    expect(chunks.map((c) => c.length)).toEqual(this.specs.map((s) => s.length));
  }
  toString = (): string => `extend(<${this.kind}> around ${this.specs.length} chunks)`;
}

function insertAt(chunks: readonly Bytes[], at: number, bad: unknown): unknown[] {
  const list: unknown[] = [...chunks];
  list.splice(Math.min(at, list.length), 0, bad);
  return list;
}

class BadExtendCommand implements Cmd {
  constructor(readonly kind: string, readonly specs: readonly ChunkSpec[], readonly at: number) {}
  check = (): boolean => true;
  run(_model: Model, real: Real): void {
    // Chunks cut where the next valid ones will be, so a wrongly taken one would merge into the tail.
    const chunks = real.chunks(this.specs, false);
    const before = real.observe();
    const error = catchError(() => real.writer.extend(BAD_ITEMS[this.kind]!(chunks, this.at) as never));
    expect(error).toMatchObject({ code: 'E_BAD_ARGUMENT', message: expect.stringMatching(/^extend\(items\) takes /) });
    expect(real.observe()).toEqual(before);
    expect(chunks.map((c) => c.length)).toEqual(this.specs.map((s) => s.length));
  }
  toString = (): string => `extend(<${this.kind}> around ${this.specs.length} chunks)`;
}

const BAD_OUTS: Record<string, () => unknown> = {
  object: () => ({}),
  string: () => 'out',
  number: () => 7,
  Set: () => new Set(),
  'frozen array': () => Object.freeze([]),
  'sealed array': () => Object.seal([Bytes.from(new Uint8Array(1))]),
  'non-extensible array': () => Object.preventExtensions([]),
  'non-extensible array with a chunk': () => Object.preventExtensions([Bytes.from(new Uint8Array(1))]),
  null: () => null,
  undefined: () => undefined,
};

class BadDrainCommand implements Cmd {
  constructor(readonly kind: string) {}
  check = (): boolean => true;
  run(_model: Model, real: Real): void {
    const out = BAD_OUTS[this.kind]!();
    const outBefore = Array.isArray(out) ? [...out] : undefined;
    const before = real.observe();
    const error = catchError(() => real.reader.drainInto(out as never));
    expect(error).toMatchObject({ code: 'E_BAD_ARGUMENT', message: expect.stringMatching(/^drainInto\(out\) takes an array/) });
    expect(real.observe()).toEqual(before);
    if (outBefore !== undefined) expect(out).toEqual(outBefore);
  }
  toString = (): string => `drainInto(<${this.kind}>)`;
}

const BAD_KNOBS = ['thresholdBytes', 'headReserveBytes', 'budget'] as const;

class BadKnobCommand implements Cmd {
  constructor(readonly knob: (typeof BAD_KNOBS)[number], readonly value: unknown) {}
  check = (): boolean => true;
  run(_model: Model, real: Real): void {
    const before = real.observe();
    const target: Record<string, unknown> = this.knob === 'budget' ? (real.prefetch as never) : (real.threshold as never);
    expect(catchError(() => { target[this.knob] = this.value; })).toMatchObject({ code: 'E_BAD_KNOB' });
    expect(real.observe()).toEqual(before);
  }
  toString = (): string => `${this.knob} = ${String(this.value)}`;
}

function catchError(fn: () => void): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

const chunkSpecArb = fc.record({ length: fc.integer({ min: 0, max: 24 }), fromSlab: fc.boolean() });
const specsArb = fc.array(chunkSpecArb, { maxLength: 4 });

const commandArbs: fc.Arbitrary<Cmd>[] = [
  specsArb.map((specs) => new ExtendCommand(specs)),
  fc.constant(new DrainCommand()),
  fc.constant(new IsCompleteCommand()),
  fc.tuple(fc.constantFrom(...Object.keys(BAD_ITEMS)), specsArb, fc.nat({ max: 4 })).map(([kind, specs, at]) => new BadExtendCommand(kind, specs, at)),
  fc.tuple(fc.constantFrom(...Object.keys(THROWING_ITEMS)), specsArb, fc.nat({ max: 4 })).map(([kind, specs, at]) => new ThrowingExtendCommand(kind, specs, at)),
  fc.constantFrom(...Object.keys(BAD_OUTS)).map((kind) => new BadDrainCommand(kind)),
  fc.tuple(fc.constantFrom(...BAD_KNOBS), fc.constantFrom<unknown>(-1, 1.5, Number.NaN, Infinity, '8', null)).map(([knob, value]) => new BadKnobCommand(knob, value)),
];

const configArb: fc.Arbitrary<QueueConfig> = fc.record({
  thresholdBytes: fc.nat({ max: 64 }),
  headReserveBytes: fc.nat({ max: 32 }),
  // At least 1: a budget of 0 never fetches (a known livelock), so nothing could finish.
  budgetBytes: fc.integer({ min: 1, max: 48 }),
  capacityBytes: fc.option(fc.nat({ max: 96 }), { nil: undefined }),
  reference: fc.boolean(),
});

describe('public API model: valid calls mixed with wrong arguments', () => {
  it('delivers every accepted byte exactly once, in order; a rejected call changes nothing', () => {
    for (const seed of propertySeeds()) {
      fc.assert(
        fc.property(configArb, fc.commands(commandArbs, { maxCommands: 60, size: 'max' }), (config, cmds) => {
          const real = new Real(config);
          const model: Model = { written: [], delivered: [] };
          fc.modelRun(() => ({ model, real }), cmds);
          expect(real.reader.isPoisoned).toBe(false);
          real.writer.drop();
          // Each round fetches at least one paged entry at the front or delivers what is resident.
          const roundsMax = 2 * (real.reader.deque.length + 2);
          for (let round = 0; round < roundsMax && !real.reader.isComplete(); round += 1) drainChecked(model, real);
          expect(real.reader.isComplete()).toBe(true);
          expect(model.delivered).toEqual(model.written);
          expect(real.spill.stats()).toEqual({ storedBytes: 0, storedChunks: 0 });
        }),
        { seed, numRuns: 150 },
      );
    }
  });
});
