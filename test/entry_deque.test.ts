import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Bytes, EntryDeque, type QueueEntry } from '../src/index.js';
import { propertySeeds } from './support/seeds.js';

const paged = (id: number): QueueEntry => ({ kind: 'paged', handle: { fetch: () => ({ ok: true, chunks: [] }), id } as never });
const resident = (length: number): QueueEntry => ({ kind: 'bytes', bytes: Bytes.from(new Uint8Array(length)) });

type Op =
  | { op: 'pushBack' | 'pushFront'; entry: QueueEntry }
  | { op: 'popFront' | 'popBack' | 'popFrontBytes' }
  | { op: 'pushBackBytes'; length: number }
  | { op: 'setBytes'; at: number; length: number }
  | { op: 'insert' | 'set'; at: number; entry: QueueEntry }
  | { op: 'remove'; at: number }
  | { op: 'query'; at: number; bytes: number };

const entryArb = fc.oneof(
  fc.nat({ max: 40 }).map(resident),
  fc.nat({ max: 1000 }).map(paged),
);
// Growth is weighted above shrinkage so runs reach hundreds of entries: full sides, inserts into
// a full side, resizes, and entries in the last slots of the index trees.
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ op: fc.constantFrom('pushBack' as const, 'pushFront' as const), entry: entryArb }), weight: 4 },
  { arbitrary: fc.record({ op: fc.constantFrom('popFront' as const, 'popBack' as const, 'popFrontBytes' as const) }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('pushBackBytes' as const), length: fc.nat({ max: 40 }) }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('setBytes' as const), at: fc.nat(), length: fc.nat({ max: 40 }) }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constantFrom('insert' as const, 'set' as const), at: fc.nat(), entry: entryArb }), weight: 3 },
  { arbitrary: fc.record({ op: fc.constant('remove' as const), at: fc.nat() }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('query' as const), at: fc.nat(), bytes: fc.nat({ max: 4000 }) }), weight: 2 },
);
// fast-check's default size caps an array at ~10 items whatever maxLength says; 'max' lets
// maxLength count.
const OPS_MAX = 400;
const opsArb = fc.array(opArb, { maxLength: OPS_MAX, size: 'max' });

const residentLength = (e: QueueEntry): number => (e.kind === 'bytes' ? e.bytes.length : 0);

/** The entry the deque hands back holds the very `Bytes` or handle that was stored. */
const sameEntry = (a: QueueEntry | undefined, b: QueueEntry | undefined): boolean =>
  a === undefined || b === undefined ? a === b : a.kind === b.kind && (a.kind === 'bytes' ? a.bytes === (b as typeof a).bytes : a.handle === (b as typeof a).handle);

/** Cheap on success (the model runs hundreds of thousands of steps); a readable diff on failure. */
function expectSame(got: QueueEntry | undefined, want: QueueEntry | undefined): void {
  if (!sameEntry(got, want)) expect(got).toEqual(want);
}
function expectSameList(got: QueueEntry[], want: QueueEntry[]): void {
  if (got.length !== want.length || got.some((e, i) => !sameEntry(e, want[i]))) expect(got).toEqual(want);
}

/** Brute-force answers the deque's indexed queries must match. */
function checkQueries(deque: EntryDeque, model: QueueEntry[], at: number, bytes: number): void {
  const i = model.length === 0 ? 0 : at % (model.length + 1);
  const before = model.slice(0, i).reduce((n, e) => n + residentLength(e), 0);
  expect(deque.residentBytesBefore(i)).toBe(before);
  expect(deque.residentCountBefore(i)).toBe(model.slice(0, i).filter((e) => e.kind === 'bytes').length);
  let next = i;
  while (next < model.length && model[next]!.kind !== 'bytes') next += 1;
  expect(deque.nextResidentIndex(i)).toBe(next);
  let first = 0;
  let sum = 0;
  if (bytes > 0) {
    for (first = 0; first < model.length && sum < bytes; first += 1) sum += residentLength(model[first]!);
    if (sum < bytes) first = model.length;
  }
  expect(deque.indexOfResidentBytesBefore(bytes)).toBe(first);
}

describe('EntryDeque', () => {
  it('behaves like an array under any mix of operations, with exact resident accounting and prefix queries', () => {
    let longest = 0;
    for (const seed of propertySeeds()) {
      fc.assert(
        fc.property(fc.boolean(), opsArb, (indexEarly, ops) => {
          const deque = new EntryDeque();
          const model: QueueEntry[] = [];
          // Build the index at the start or lazily later: both paths must agree.
          if (indexEarly) deque.residentBytesBefore(0);
          for (const step of ops) {
            switch (step.op) {
              case 'pushBack': deque.pushBack(step.entry); model.push(step.entry); break;
              case 'pushFront': deque.pushFront(step.entry); model.unshift(step.entry); break;
              case 'popFront': expectSame(deque.popFront(), model.shift()); break;
              case 'popBack': expectSame(deque.popBack(), model.pop()); break;
              case 'pushBackBytes': { const e = resident(step.length); deque.pushBackBytes((e as { bytes: Bytes }).bytes); model.push(e); break; }
              case 'popFrontBytes': {
                const front = model[0];
                const popped = deque.popFrontBytes();
                if (front?.kind === 'bytes') { expect(popped).toBe(front.bytes); model.shift(); } else expect(popped).toBeUndefined();
                break;
              }
              case 'insert': { const i = step.at % (model.length + 1); deque.insert(i, step.entry); model.splice(i, 0, step.entry); break; }
              case 'setBytes': if (model.length > 0) { const i = step.at % model.length; const e = resident(step.length); deque.setBytes(i, (e as { bytes: Bytes }).bytes); model[i] = e; } break;
              case 'set': if (model.length > 0) { const i = step.at % model.length; deque.set(i, step.entry); model[i] = step.entry; } break;
              case 'remove': if (model.length > 0) { const i = step.at % model.length; expectSame(deque.remove(i), model.splice(i, 1)[0]); } break;
              case 'query': checkQueries(deque, model, step.at, step.bytes); break;
            }
            const bytes = model.reduce((n, e) => n + residentLength(e), 0);
            const count = model.reduce((n, e) => n + (e.kind === 'bytes' ? 1 : 0), 0);
            if (deque.length !== model.length || deque.residentBytes !== bytes || deque.residentCount !== count || deque.pagedCount !== model.length - count) {
              expect({ length: deque.length, bytes: deque.residentBytes, count: deque.residentCount, paged: deque.pagedCount }).toEqual({ length: model.length, bytes, count, paged: model.length - count });
            }
          }
          expectSameList([...deque], model);
          expectSameList(deque.toArray(), model);
          expectSameList(model.map((_, i) => deque.get(i)), model);
          expectSame(deque.front(), model[0]);
          expectSame(deque.back(), model.at(-1));
          // Every prefix query at the end, the last slots of the index trees included.
          let before = 0;
          let countBefore = 0;
          let nextResident = model.length;
          const nextOf: number[] = [];
          for (let i = model.length; i >= 0; i -= 1) {
            if (i < model.length && model[i]!.kind === 'bytes') nextResident = i;
            nextOf[i] = nextResident;
          }
          for (let i = 0; i <= model.length; i += 1) {
            if (deque.residentBytesBefore(i) !== before) expect([i, deque.residentBytesBefore(i)]).toEqual([i, before]);
            if (deque.nextResidentIndex(i) !== nextOf[i]) expect([i, deque.nextResidentIndex(i)]).toEqual([i, nextOf[i]]);
            if (deque.residentCountBefore(i) !== countBefore) expect([i, deque.residentCountBefore(i)]).toEqual([i, countBefore]);
            if (i < model.length) before += residentLength(model[i]!);
            if (i < model.length && model[i]!.kind === 'bytes') countBefore += 1;
          }
          if (deque.indexOfResidentBytesBefore(before + 1) !== model.length) expect(deque.indexOfResidentBytesBefore(before + 1)).toBe(model.length);
          longest = Math.max(longest, model.length);
        }),
        { seed, numRuns: 50 },
      );
    }
    // The generator must actually reach large deques (it once stopped at 10 operations).
    expect(longest).toBeGreaterThan(100);
  });

  it('pushFront onto a fresh deque fills the front side and resizes, keeping order', () => {
    const deque = new EntryDeque();
    const entries = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20].map(resident);
    for (const e of entries) deque.pushFront(e);
    expectSameList(deque.toArray(), [...entries].reverse());
    expect(deque.residentBytes).toBe(210);
    expect(deque.residentBytesBefore(20)).toBe(210);
    expect(deque.residentBytesBefore(1)).toBe(20);
  });

  it('inserts into a full side and answers prefix queries for the last slots', () => {
    const deque = new EntryDeque();
    deque.residentBytesBefore(0); // index first, so every mutation maintains it
    const model: QueueEntry[] = [];
    for (let i = 0; i < 40; i += 1) {
      const e = resident(i + 1);
      // Alternate ends and middles so both sides fill up and get shifted into.
      if (i % 3 === 0) { deque.pushFront(e); model.unshift(e); }
      else if (i % 3 === 1) { deque.insert(1, e); model.splice(1, 0, e); }
      else { deque.insert(model.length - 1, e); model.splice(model.length - 1, 0, e); }
      expectSameList(deque.toArray(), model);
      let before = 0;
      for (let k = 0; k <= model.length; k += 1) {
        expect(deque.residentBytesBefore(k)).toBe(before);
        if (k < model.length) before += residentLength(model[k]!);
      }
      expect(deque.indexOfResidentBytesBefore(before)).toBe(model.length);
    }
  });

  it('keeps the prefix index right when pushes and inserts fill either end of the array exactly', () => {
    // Every fill level from 1 to 40 entries, so some step fills the last (or first) slot of the
    // array exactly, with the index built before the growth.
    const checkAll = (deque: EntryDeque, model: QueueEntry[]): void => {
      expectSameList(deque.toArray(), model);
      let before = 0;
      for (let k = 0; k <= model.length; k += 1) {
        expect(deque.residentBytesBefore(k)).toBe(before);
        if (k < model.length) before += residentLength(model[k]!);
      }
      expect(deque.indexOfResidentBytesBefore(before + 1)).toBe(model.length);
      for (const target of [1, 2, before >> 1, before - 1, before]) {
        let i = 0;
        let sum = 0;
        while (i < model.length && sum < target) sum += residentLength(model[i++]!);
        expect(deque.indexOfResidentBytesBefore(target)).toBe(sum >= target ? i : model.length);
      }
      expect(deque.indexOfResidentBytesBefore(0)).toBe(0);
      expect(deque.indexOfResidentBytesBefore(-3)).toBe(0);
      expect(deque.nextResidentIndex(model.length)).toBe(model.length);
    };
    for (let n = 1; n <= 40; n += 1) {
      for (const grow of ['pushBack', 'pushBackBytes', 'pushFront'] as const) {
        for (const insertAt of [undefined, 1, n - 1]) {
          const deque = new EntryDeque();
          deque.residentBytesBefore(0);
          const model: QueueEntry[] = [];
          for (let i = 0; i < n; i += 1) {
            const e = resident(i + 1);
            if (grow === 'pushFront') { deque.pushFront(e); model.unshift(e); }
            else if (grow === 'pushBack') { deque.pushBack(e); model.push(e); }
            else { deque.pushBackBytes((e as { bytes: Bytes }).bytes); model.push(e); }
          }
          if (insertAt !== undefined && insertAt > 0) {
            const e = resident(100);
            deque.insert(insertAt, e);
            model.splice(insertAt, 0, e);
          }
          checkAll(deque, model);
          const last = resident(7);
          deque.pushBackBytes((last as { bytes: Bytes }).bytes);
          model.push(last);
          checkAll(deque, model);
        }
      }
    }
  });

  it('rejects negative, fractional and past-the-end indexes on every indexed call', () => {
    const deque = new EntryDeque([resident(3), paged(1)]);
    for (const i of [-1, 0.5, 2, Number.NaN]) {
      expect(() => deque.get(i), String(i)).toThrow(expect.objectContaining({ code: 'E_BAD_ARGUMENT', message: `deque index out of range: it takes a whole number in [0, 2), got number ${i}` }));
      expect(() => deque.set(i, resident(1))).toThrow(/out of range: it takes a whole number in \[0, 2\)/);
      expect(() => deque.remove(i)).toThrow(/out of range: it takes a whole number in \[0, 2\)/);
    }
    for (const i of [-1, 3, 1.5]) {
      expect(() => deque.insert(i, resident(1))).toThrow(/out of range: it takes a whole number in \[0, 3\)/);
      expect(() => deque.residentBytesBefore(i)).toThrow(/out of range: it takes a whole number in \[0, 3\)/);
      expect(() => deque.residentCountBefore(i)).toThrow(/out of range: it takes a whole number in \[0, 3\)/);
      expect(() => deque.nextResidentIndex(i)).toThrow(/out of range: it takes a whole number in \[0, 3\)/);
    }
    expect(deque.length).toBe(2);
    expect(deque.residentBytes).toBe(3);
  });

  it('rejects every value that is not an entry, leaving the deque unchanged', () => {
    const deque = new EntryDeque([resident(3)]);
    const bad = [null, undefined, 5, { kind: 'bytes' }, { kind: 'bytes', bytes: null }, { kind: 'bytes', bytes: {} }, { kind: 'bytes', bytes: 7 }, { kind: 'paged' }, { kind: 'paged', handle: null }, { kind: 'paged', handle: 'h' }, { kind: 'other', bytes: Bytes.from(new Uint8Array(1)) }, { kind: 'other', handle: { fetch: () => ({ ok: true, chunks: [] }) } }];
    for (const entry of bad) {
      for (const call of [() => deque.pushBack(entry as never), () => deque.pushFront(entry as never), () => deque.set(0, entry as never), () => deque.insert(1, entry as never), () => deque.insert(0, entry as never)]) {
        expect(call, JSON.stringify(entry)).toThrow(expect.objectContaining({ code: 'E_BAD_ARGUMENT', message: expect.stringContaining('not a QueueEntry') }));
      }
    }
    expect(deque.length).toBe(1);
    expect(deque.residentBytes).toBe(3);
  });

  it('empty-deque answers: no front, back, pops or resident back', () => {
    const deque = new EntryDeque();
    expect(deque.front()).toBeUndefined();
    expect(deque.back()).toBeUndefined();
    expect(deque.backBytes()).toBeUndefined();
    expect(deque.popFront()).toBeUndefined();
    expect(deque.popBack()).toBeUndefined();
    expect(deque.popFrontBytes()).toBeUndefined();
    expect(deque.indexOfResidentBytesBefore(0)).toBe(0);
    expect(deque.indexOfResidentBytesBefore(5)).toBe(0);
    expect(deque.nextResidentIndex(0)).toBe(0);
    deque.pushBack(paged(1));
    expect(deque.backBytes()).toBeUndefined();
    expect(deque.pagedCount).toBe(1);
    deque.clear();
    expect(deque.length).toBe(0);
  });

  it('rejects an index out of range and a value that is not an entry', () => {
    const deque = new EntryDeque([resident(3)]);
    expect(() => deque.get(1)).toThrow(/out of range/);
    expect(() => deque.insert(3, resident(1))).toThrow(/out of range/);
    expect(() => deque.pushBack({ kind: 'bytes' } as never)).toThrow(/not a QueueEntry/);
    expect(deque.length).toBe(1);
  });

  it('keeps exact accounting over 200k pushes and pops at the ends', () => {
    const deque = new EntryDeque();
    for (let i = 0; i < 200_000; i += 1) {
      deque.pushBack(resident(1));
      if (i % 3 !== 0) deque.popFront();
    }
    expect(deque.length).toBe(Math.ceil(200_000 / 3));
    expect(deque.residentBytes).toBe(deque.length);
  });
});
