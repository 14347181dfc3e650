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
  | { op: 'insert' | 'set'; at: number; entry: QueueEntry }
  | { op: 'remove'; at: number }
  | { op: 'query'; at: number; bytes: number };

const entryArb = fc.oneof(
  fc.nat({ max: 40 }).map(resident),
  fc.nat({ max: 1000 }).map(paged),
);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constantFrom('pushBack' as const, 'pushFront' as const), entry: entryArb }),
  fc.record({ op: fc.constantFrom('popFront' as const, 'popBack' as const, 'popFrontBytes' as const) }),
  fc.record({ op: fc.constant('pushBackBytes' as const), length: fc.nat({ max: 40 }) }),
  fc.record({ op: fc.constantFrom('insert' as const, 'set' as const), at: fc.nat(), entry: entryArb }),
  fc.record({ op: fc.constant('remove' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('query' as const), at: fc.nat(), bytes: fc.nat({ max: 400 }) }),
);

const residentLength = (e: QueueEntry): number => (e.kind === 'bytes' ? e.bytes.length : 0);

/** Brute-force answers the deque's indexed queries must match. */
function checkQueries(deque: EntryDeque, model: QueueEntry[], at: number, bytes: number): void {
  const i = model.length === 0 ? 0 : at % (model.length + 1);
  const before = model.slice(0, i).reduce((n, e) => n + residentLength(e), 0);
  expect(deque.residentBytesBefore(i)).toBe(before);
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
    for (const seed of propertySeeds()) {
      fc.assert(
        fc.property(fc.boolean(), fc.array(opArb, { maxLength: 300 }), (indexEarly, ops) => {
          const deque = new EntryDeque();
          const model: QueueEntry[] = [];
          // Build the index at the start or lazily later: both paths must agree.
          if (indexEarly) deque.residentBytesBefore(0);
          for (const step of ops) {
            switch (step.op) {
              case 'pushBack': deque.pushBack(step.entry); model.push(step.entry); break;
              case 'pushFront': deque.pushFront(step.entry); model.unshift(step.entry); break;
              case 'popFront': expect(deque.popFront()).toEqual(model.shift()); break;
              case 'popBack': expect(deque.popBack()).toEqual(model.pop()); break;
              case 'pushBackBytes': { const e = resident(step.length); deque.pushBackBytes((e as { bytes: Bytes }).bytes); model.push(e); break; }
              case 'popFrontBytes': {
                const front = model[0];
                const popped = deque.popFrontBytes();
                if (front?.kind === 'bytes') { expect(popped).toBe(front.bytes); model.shift(); } else expect(popped).toBeUndefined();
                break;
              }
              case 'insert': { const i = step.at % (model.length + 1); deque.insert(i, step.entry); model.splice(i, 0, step.entry); break; }
              case 'set': if (model.length > 0) { const i = step.at % model.length; deque.set(i, step.entry); model[i] = step.entry; } break;
              case 'remove': if (model.length > 0) { const i = step.at % model.length; expect(deque.remove(i)).toEqual(model.splice(i, 1)[0]); } break;
              case 'query': checkQueries(deque, model, step.at, step.bytes); break;
            }
            expect(deque.length).toBe(model.length);
            expect(deque.residentBytes).toBe(model.reduce((n, e) => n + residentLength(e), 0));
            expect(deque.residentCount).toBe(model.filter((e) => e.kind === 'bytes').length);
          }
          expect([...deque]).toEqual(model);
          expect(deque.toArray()).toEqual(model);
        }),
        { seed, numRuns: 150 },
      );
    }
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
