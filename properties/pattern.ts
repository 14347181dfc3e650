import { Bytes, BytesMut } from '../src/bytes.js';

/**
 * The byte written at `offsetBytes` of queue `queue`'s stream. Neighbouring chunks differ, so a
 * reordered, duplicated or lost chunk shows up as a content mismatch, not only a length one.
 */
export function patternByte(queue: number, offsetBytes: number): number {
  return ((offsetBytes * 7) ^ ((offsetBytes >>> 8) * 13) ^ (queue * 101)) & 0xff;
}

/** Index of the first byte of `data` that differs from the stream at `offsetBytes`, or -1. */
export function firstMismatch(data: Uint8Array, queue: number, offsetBytes: number): number {
  for (let i = 0; i < data.length; i += 1) if (data[i] !== patternByte(queue, offsetBytes + i)) return i;
  return -1;
}

const SLAB_BYTES = 4096;

/**
 * The writer side of one queue: cuts chunks from a slab, so consecutive chunks of one slab
 * merge in the queue (the coalescing path) and a fresh slab starts a new entry.
 */
export class StreamWriter {
  readonly queue: number;
  writtenBytes = 0;
  #slab: BytesMut | undefined;

  constructor(queue: number) {
    this.queue = queue;
  }

  /** The next chunks of the stream; `fresh` starts a new slab so nothing merges with the past. */
  next(sizes: readonly number[], fresh: boolean): Bytes[] {
    if (fresh) this.#slab = undefined;
    const chunks: Bytes[] = [];
    for (const sizeBytes of sizes) {
      if (this.#slab === undefined || this.#slab.length < sizeBytes) this.#slab = new BytesMut(Math.max(SLAB_BYTES, sizeBytes));
      const data = this.#slab.data;
      for (let i = 0; i < sizeBytes; i += 1) data[i] = patternByte(this.queue, this.writtenBytes + i);
      this.writtenBytes += sizeBytes;
      chunks.push(this.#slab.extractTo(sizeBytes));
    }
    return chunks;
  }
}
