import { describe, expect, it } from 'vitest';
import { Buzzer, Bytes, MergeQueue } from '../src/index.js';

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
