import { describe, expect, it } from 'vitest';
import { Buzzer, Bytes, BytesMut } from '../src/index.js';
import { formatBytes } from '../src/format_bytes.js';

describe('Bytes', () => {
  it('views the memory of a Uint8Array without copying', () => {
    const u8 = new Uint8Array([1, 2, 3, 4]);
    const bytes = Bytes.from(u8.subarray(1, 3));
    expect(bytes.length).toBe(2);
    u8[1] = 9;
    expect([...bytes.data]).toEqual([9, 3]);
  });

  it('merges only a view of the same allocation that starts where it ends', () => {
    const slab = new Uint8Array(10);
    const a = Bytes.from(slab.subarray(0, 4));
    expect(a.tryMerge(Bytes.from(slab.subarray(5, 7)))).toBe(false); // gap
    expect(a.tryMerge(Bytes.from(new Uint8Array(3)))).toBe(false); // other allocation
    expect(a.length).toBe(4);
    expect(a.tryMerge(Bytes.from(slab.subarray(4, 7)))).toBe(true);
    expect(a.length).toBe(7);
    expect(a.data.byteOffset).toBe(0);
  });

  it('does not merge a view that ends where this one starts (order matters)', () => {
    const slab = new Uint8Array(8);
    const later = Bytes.from(slab.subarray(4, 8));
    expect(later.tryMerge(Bytes.from(slab.subarray(0, 4)))).toBe(false);
  });

  it('extractTo splits off the front and keeps the rest', () => {
    const bytes = Bytes.from(new Uint8Array([1, 2, 3, 4, 5]));
    const head = bytes.extractTo(2);
    expect([...head.data]).toEqual([1, 2]);
    expect([...bytes.data]).toEqual([3, 4, 5]);
    expect(head.tryMerge(bytes)).toBe(true);
    expect(() => bytes.extractTo(9)).toThrow(/extractTo\(9\)/);
  });
});

describe('BytesMut', () => {
  it('freezes adjacent pieces of one slab that merge back together', () => {
    const slab = new BytesMut(6);
    slab.data.set([1, 2, 3, 4, 5, 6]);
    const a = slab.extractTo(2);
    const b = slab.extractTo(4);
    expect(slab.length).toBe(0);
    expect(a.tryMerge(b)).toBe(true);
    expect([...a.data]).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('rejects a negative or fractional length', () => {
    expect(() => new BytesMut(-1)).toThrow(/non-negative whole/);
    expect(() => new BytesMut(1.5)).toThrow(/non-negative whole/);
  });
});

describe('Buzzer', () => {
  it('counts buzzes and calls the observer at each one', () => {
    const seen: number[] = [];
    const buzzer = new Buzzer(() => seen.push(buzzer.count));
    buzzer.buzz();
    buzzer.buzz();
    expect(buzzer.count).toBe(2);
    expect(seen).toEqual([1, 2]);
  });
});

describe('Bytes: range checks and copies', () => {
  it('accepts every view inside its allocation, the empty ones at either end included', () => {
    const buffer = new ArrayBuffer(8);
    for (const [offset, length] of [[0, 0], [0, 8], [8, 0], [3, 5], [7, 1]] as const) {
      const b = new Bytes(buffer, offset, length);
      expect([b.offset, b.length, b.data.byteOffset, b.data.byteLength]).toEqual([offset, length, offset, length]);
    }
  });

  it('rejects a view outside its allocation or not made of whole numbers, naming the range', () => {
    const buffer = new ArrayBuffer(8);
    const bad: [number, number, string][] = [
      [-1, 2, '[-1, 1)'],
      [0, -1, '[0, -1)'],
      [0, 9, '[0, 9)'],
      [8, 1, '[8, 9)'],
      [5, 4, '[5, 9)'],
      [0.5, 1, '[0.5, 1.5)'],
      [0, 1.5, '[0, 1.5)'],
      [Number.NaN, 1, '[NaN, NaN)'],
      [0, Number.POSITIVE_INFINITY, '[0, Infinity)'],
      [2 ** 53, 0, `[${2 ** 53}, ${2 ** 53})`],
    ];
    for (const [offset, length, range] of bad) {
      expect(() => new Bytes(buffer, offset, length), `${offset},${length}`).toThrow(
        expect.objectContaining({ code: 'E_BAD_ARGUMENT', message: `Bytes view ${range} lies outside its 8-byte allocation; offset and length must be whole numbers within it` }),
      );
    }
  });

  it('copyOf does not share the caller\'s memory, and does not merge with its source', () => {
    const u8 = new Uint8Array([1, 2, 3, 4]);
    const copy = Bytes.copyOf(u8.subarray(1, 3));
    u8[1] = 9;
    expect([...copy.data]).toEqual([2, 3]);
    expect(copy.offset).toBe(0);
    expect(copy.buffer).not.toBe(u8.buffer);
    expect(Bytes.from(u8.subarray(0, 1)).tryMerge(copy)).toBe(false);
  });

  it('clone is a second view of the same bytes that grows independently', () => {
    const slab = new Uint8Array([1, 2, 3, 4, 5, 6]);
    const a = Bytes.from(slab.subarray(0, 2));
    const b = a.clone();
    expect(a.tryMerge(Bytes.from(slab.subarray(2, 4)))).toBe(true);
    expect([a.length, b.length, b.offset]).toEqual([4, 2, 0]);
    expect(b.buffer).toBe(a.buffer);
    expect(String(a)).toBe('Bytes(4)');
  });

  it('tryMerge consumes the other view only on success, and adds its length', () => {
    const slab = new Uint8Array(10);
    const a = new Bytes(slab.buffer, 2, 3);
    const b = new Bytes(slab.buffer, 5, 4);
    expect(a.tryMerge(b)).toBe(true);
    expect([a.offset, a.length]).toEqual([2, 7]);
    expect(a.tryMerge(new Bytes(slab.buffer, 8, 2))).toBe(false); // overlaps
    expect(a.tryMerge(new Bytes(slab.buffer, 1, 1))).toBe(false); // ends where a starts
    expect(a.tryMerge(new Bytes(new ArrayBuffer(20), 9, 2))).toBe(false); // right offset, other allocation
    expect([a.offset, a.length]).toEqual([2, 7]);
  });

  it('extractTo takes 0 to length bytes and rejects anything else, leaving the view as it was', () => {
    const b = Bytes.from(new Uint8Array([1, 2, 3]));
    expect(b.extractTo(0).length).toBe(0);
    expect([b.offset, b.length]).toEqual([0, 3]);
    for (const i of [-1, 4, 1.5, Number.NaN]) {
      expect(() => b.extractTo(i)).toThrow(expect.objectContaining({ code: 'E_BAD_ARGUMENT', message: `Bytes.extractTo(${i}): i takes a whole number of bytes in 0..3 (the view's length), got number ${i}` }));
    }
    const all = b.extractTo(3);
    expect([all.offset, all.length, b.offset, b.length]).toEqual([0, 3, 3, 0]);
  });
});

describe('BytesMut: lengths', () => {
  it('a zero-length slab is valid and yields only empty pieces', () => {
    const slab = BytesMut.alloc(0);
    expect(slab.length).toBe(0);
    expect(slab.data.length).toBe(0);
    expect(slab.extractTo(0).length).toBe(0);
    expect(() => slab.extractTo(1)).toThrow(expect.objectContaining({ code: 'E_BAD_ARGUMENT', message: 'BytesMut.extractTo(1): i takes a whole number of bytes in 0..0 (the bytes left), got number 1' }));
  });

  it('data is the writable remainder; extractTo rejects more than what is left', () => {
    const slab = new BytesMut(5);
    expect(slab.buffer.byteLength).toBe(5);
    slab.data.set([1, 2, 3, 4, 5]);
    const head = slab.extractTo(2);
    expect([head.offset, head.length]).toEqual([0, 2]);
    expect([...slab.data]).toEqual([3, 4, 5]);
    expect(slab.length).toBe(3);
    for (const i of [4, -1, 0.5]) expect(() => slab.extractTo(i)).toThrow(`BytesMut.extractTo(${i}): i takes a whole number of bytes in 0..3 (the bytes left), got number ${i}`);
    expect(slab.extractTo(3).offset).toBe(2);
    expect(() => new BytesMut(Number.NaN)).toThrow(expect.objectContaining({ code: 'E_BAD_ARGUMENT', message: 'new BytesMut(byteLength) takes a non-negative whole number of bytes, got number NaN' }));
  });
});

describe('Buzzer: without an observer', () => {
  it('counts from zero', () => {
    const buzzer = new Buzzer();
    expect(buzzer.count).toBe(0);
    buzzer.buzz();
    expect(buzzer.count).toBe(1);
  });
});

describe('formatBytes', () => {
  it('prints bytes in binary units with at most one decimal, dropping a trailing .0', () => {
    const cases: [number, string][] = [
      [0, '0 B'],
      [1, '1 B'],
      [1023, '1023 B'],
      [1024, '1 KiB'],
      [1025, '1 KiB'],
      [1536, '1.5 KiB'],
      [1024 * 1024 - 1, '1024 KiB'],
      [64 * 1024, '64 KiB'],
      [1.5 * 1024 * 1024, '1.5 MiB'],
      [3 * 1024 ** 3, '3 GiB'],
      [2.25 * 1024 ** 4, '2.3 TiB'],
      [2048 * 1024 ** 4, '2048 TiB'],
      [-2048, '-2 KiB'],
      [-1023, '-1023 B'],
      [0.25, '0.25 B'],
    ];
    for (const [bytes, text] of cases) expect(formatBytes(bytes), String(bytes)).toBe(text);
  });
});
