import { describe, expect, it } from 'vitest';
import { Buzzer, Bytes, BytesMut } from '../src/index.js';

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
