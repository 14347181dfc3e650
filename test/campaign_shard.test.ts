import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { batchRanges, parseShard, shardSeeds } from '../sim/campaign.js';
import { UsageError } from '../cli/usage_error.js';
import { propertySeeds } from './support/seeds.js';

describe('parseShard', () => {
  it('reads i/N with 1-based i', () => {
    expect(parseShard('1/1')).toEqual({ index: 1, count: 1 });
    expect(parseShard('3/8')).toEqual({ index: 3, count: 8 });
    expect(parseShard(' 8 / 8 ')).toEqual({ index: 8, count: 8 });
  });

  it.each(['0/4', '5/4', '1/0', '2', 'a/b', '-1/3', '1.5/3', '', '1/2/3'])('rejects %j as a usage error', (text) => {
    expect(() => parseShard(text)).toThrow(UsageError);
  });
});

describe('shardSeeds', () => {
  for (const seed of propertySeeds()) {
    it(`splits any seed list into disjoint, covering, ordered, balanced slices (seed ${seed})`, () => {
      fc.assert(
        fc.property(fc.array(fc.integer(), { maxLength: 300 }), fc.integer({ min: 1, max: 40 }), (seeds, count) => {
          const slices = Array.from({ length: count }, (_, k) => shardSeeds(seeds, k + 1, count));
          expect(slices.flat()).toEqual(seeds);
          const sizes = slices.map((s) => s.length);
          expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
          // Deterministic: the same call gives the same slice.
          expect(shardSeeds(seeds, 1, count)).toEqual(slices[0]);
        }),
        { seed, numRuns: 200 },
      );
    });
  }

  it('takes contiguous ranges of a seed range', () => {
    const seeds = Array.from({ length: 10 }, (_, k) => k + 1);
    expect(shardSeeds(seeds, 1, 3)).toEqual([1, 2, 3]);
    expect(shardSeeds(seeds, 2, 3)).toEqual([4, 5, 6]);
    expect(shardSeeds(seeds, 3, 3)).toEqual([7, 8, 9, 10]);
  });

  it('rejects a shard that does not exist', () => {
    expect(() => shardSeeds([1, 2], 0, 2)).toThrow(UsageError);
    expect(() => shardSeeds([1, 2], 3, 2)).toThrow(UsageError);
  });
});

describe('batchRanges', () => {
  it('covers every index once, in order, in batches of at most 32', () => {
    for (const [count, workers] of [[0, 1], [1, 2], [5, 2], [100, 1], [1000, 2], [1_000_000, 2]] as const) {
      const ranges = batchRanges(count, workers);
      let next = 0;
      for (const [start, end] of ranges) {
        expect(start).toBe(next);
        expect(end - start).toBeGreaterThan(0);
        expect(end - start).toBeLessThanOrEqual(32);
        next = end;
      }
      expect(next).toBe(count);
    }
  });

  it('gives each worker several batches so neither sits idle at the end', () => {
    expect(batchRanges(160, 2).length).toBeGreaterThanOrEqual(16);
  });
});
