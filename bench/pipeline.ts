import { crc32 } from 'node:zlib';
import type { Bytes, MergeQueue } from '../src/index.js';

/**
 * The producer and consumer the spill benchmarks share: chunks with content that depends on
 * their index (so a lost, doubled or reordered chunk changes the checksum), and a drain loop
 * with a bound.
 */

/** A fresh allocation of `chunkBytes` whose bytes are a function of `index`. */
export function patternChunk(index: number, chunkBytes: number): Uint8Array {
  const u8 = new Uint8Array(chunkBytes);
  const words = new Uint32Array(u8.buffer, 0, chunkBytes >> 2);
  // Cheap to make (a fill) yet distinct per chunk: the index itself leads every chunk.
  words.fill(Math.imul(index + 1, 0x9e3779b1) >>> 0);
  if (words.length > 0) words[0] = index;
  return u8;
}

/** A running checksum over a byte stream, chunk boundaries ignored. */
export class StreamChecksum {
  value = 0;
  bytes = 0;
  add(data: Uint8Array): void {
    this.value = crc32(data, this.value);
    this.bytes += data.length;
  }
}

/**
 * Drain `reader` until it is complete (the writer must have been dropped), handing each chunk
 * to `onChunk`. Gives up loudly after `drainsMax` calls that delivered nothing, which would
 * mean data is stuck behind a fetch that keeps failing.
 */
export function drainAll(reader: MergeQueue, onChunk: (chunk: Bytes) => void, drainsMax = 1_000_000): number {
  const out: Bytes[] = [];
  let drains = 0;
  let emptyDrains = 0;
  while (!reader.isComplete()) {
    drains += 1;
    if (drains > drainsMax) throw new Error(`drainAll: the queue did not empty within ${drainsMax} drains`);
    reader.drainInto(out);
    emptyDrains = out.length === 0 ? emptyDrains + 1 : 0;
    if (emptyDrains > 1_000) throw new Error('drainAll: 1,000 drains in a row delivered nothing; data is stuck behind a failing fetch');
    for (const chunk of out) onChunk(chunk);
    out.length = 0;
  }
  return drains;
}
