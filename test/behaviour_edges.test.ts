import { describe, expect, it } from 'vitest';
import { runInNewContext } from 'node:vm';
import { Buzzer, Bytes, BytesMut, MergeQueue } from '../src/index.js';

// Edges of the library's behaviour that mutation testing (`npm run mutate`) showed no test
// pinned down. Each case is something a caller can see.

const fresh = (...values: number[]): Bytes => Bytes.from(new Uint8Array(values));

describe('extend and a caller array that throws only once', () => {
  it('the error reaches the caller and nothing is taken: extend does not read the array again to get past it', () => {
    const buzzer = new Buzzer();
    const [writer, reader] = MergeQueue.newPair(buzzer);
    const items = [fresh(1), fresh(2), fresh(3)];
    let reads = 0;
    const list = [items[0]!];
    Object.defineProperty(list, 1, {
      get() {
        reads += 1;
        if (reads === 1) throw new Error('flaky read');
        return items[1];
      },
      enumerable: true,
    });
    list.push(items[2]!);
    expect(() => writer.extend(list)).toThrow('flaky read');
    expect([reader.deque.length, reader.isPoisoned, buzzer.count, reads]).toEqual([0, false, 0, 1]);
    // The caller's next call reads it whole, and takes all three.
    writer.extend(list);
    const out: Bytes[] = [];
    reader.drainInto(out);
    expect(out.map((b) => [...b.data])).toEqual([[1], [2], [3]]);
    expect(buzzer.count).toBe(1);
  });
});

describe('Bytes of another realm or another copy of the library', () => {
  const slab = () => new Uint8Array([1, 2, 3, 4]);
  /** A Bytes of a second copy of the library: the public shape, a class of its own. */
  const foreign = (buffer: ArrayBufferLike, offset: number, length: number, extra: object = {}) => ({
    buffer,
    offset,
    length,
    tryMerge: () => false,
    extractTo: () => undefined,
    ...extra,
  });
  const code = (fn: () => unknown): string | undefined => {
    try {
      fn();
    } catch (error) {
      return (error as { code?: string }).code;
    }
    return undefined;
  };

  it('a Uint8Array and an ArrayBuffer made in another realm (a vm context) are taken', () => {
    const u8 = runInNewContext('new Uint8Array([7, 8, 9])') as Uint8Array;
    expect(u8 instanceof Uint8Array).toBe(false);
    expect([...Bytes.from(u8).data]).toEqual([7, 8, 9]);
    const buffer = runInNewContext('new ArrayBuffer(4)') as ArrayBuffer;
    expect(new Bytes(buffer, 1, 2).length).toBe(2);
  });

  it('tryMerge takes a foreign Bytes only when it starts where this one ends in the same allocation', () => {
    const s = slab();
    const ours = Bytes.from(s.subarray(0, 2));
    expect(ours.tryMerge(foreign(s.buffer, 3, 1) as never)).toBe(false);
    expect(ours.tryMerge(foreign(new ArrayBuffer(4), 2, 2) as never)).toBe(false);
    expect(ours.length).toBe(2);
    expect(ours.tryMerge(foreign(s.buffer, 2, 2) as never)).toBe(true);
    expect([...ours.data]).toEqual([1, 2, 3, 4]);
  });

  it('an object missing any part of the shape is no Bytes: E_BAD_ARGUMENT from tryMerge and from extend', () => {
    const s = slab();
    const wrong = [
      ['no tryMerge', foreign(s.buffer, 2, 2, { tryMerge: undefined })],
      ['no extractTo', foreign(s.buffer, 2, 2, { extractTo: 1 })],
      ['a length that is no number', foreign(s.buffer, 2, 2, { length: '2' })],
      ['an offset that is no number', foreign(s.buffer, 2, 2, { offset: '2' })],
      ['a buffer that is a Uint8Array', foreign(s as never, 2, 2)],
      ['a function with the shape', Object.defineProperties(() => {}, Object.getOwnPropertyDescriptors(foreign(s.buffer, 2, 2)))],
      ['a Proxy whose reads throw', new Proxy({}, { get: () => { throw new Error('trap'); } })],
    ] as const;
    for (const [name, value] of wrong) {
      expect([name, code(() => Bytes.from(s.subarray(0, 2)).tryMerge(value as never))]).toEqual([name, 'E_BAD_ARGUMENT']);
      const [writer, reader] = MergeQueue.newPair(new Buzzer());
      expect([name, code(() => writer.extend([value as never]))]).toEqual([name, 'E_BAD_ARGUMENT']);
      expect(reader.deque.length).toBe(0);
    }
  });

  it('extend refuses a foreign Bytes that reaches past the end of its allocation', () => {
    const [writer, reader] = MergeQueue.newPair(new Buzzer());
    expect(code(() => writer.extend([foreign(new ArrayBuffer(4), 2, 4) as never]))).toBe('E_BAD_ARGUMENT');
    expect(reader.deque.length).toBe(0);
    writer.extend([foreign(new ArrayBuffer(4), 2, 2) as never]);
    expect(reader.deque.length).toBe(1);
  });

  it('BytesMut.extractTo names a wrong argument that is not a number as i', () => {
    expect(() => new BytesMut(4).extractTo('2' as never)).toThrow(/^BytesMut\.extractTo\(i\): i takes a whole number of bytes in 0\.\.4 \(the bytes left\), got the string "2"$/);
  });
});

describe('extend names a wrong item even when asking its prototype throws', () => {
  it('a Proxy whose getPrototypeOf trap throws is described by its keys, not as a fake Bytes', () => {
    const [writer, reader] = MergeQueue.newPair(new Buzzer());
    const hostile = new Proxy({}, { getPrototypeOf: () => { throw new Error('trap'); } });
    expect(() => writer.extend([hostile as never])).toThrow(/^extend\(items\) takes Bytes, but item 0 is an empty object; nothing was taken$/);
    expect(reader.deque.length).toBe(0);
  });
});
