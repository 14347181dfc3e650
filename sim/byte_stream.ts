import type { Bytes } from '../src/bytes.js';
import type { SimRng } from './rng.js';

/** Period of a stream's byte pattern: prime, so chunk sizes never line up with it by accident. */
const PATTERN_BYTES = 65_521;
/** Chunks up to this long are filled and compared byte by byte; longer ones by native copies and compares. */
const SMALL_BYTES = 64;

/**
 * One logical stream of bytes from a writer to a reader, possibly across several queues (a
 * cluster's send queue, the network, the receive queue). Byte `o` of the stream has a value
 * fixed by the seed, so the reader can check every delivered byte against its offset in O(its
 * length): a lost, duplicated or reordered chunk shows up at the first byte that is out of place.
 */
export class ByteStream {
  readonly name: string;
  readonly #pattern: Uint8Array;
  /** The same bytes as a `Buffer`, whose `compare` takes ranges without making views. */
  readonly #patternBuffer: Buffer;
  /** Where in the run's pattern this stream starts, so two streams differ. */
  readonly #shiftBytes: number;

  constructor(name: string, pattern: Uint8Array, rng: SimRng) {
    if (pattern.length !== PATTERN_BYTES) throw new RangeError(`a stream pattern has ${PATTERN_BYTES} bytes, got ${pattern.length}`);
    this.name = name;
    this.#pattern = pattern;
    this.#patternBuffer = Buffer.from(pattern.buffer, pattern.byteOffset, pattern.byteLength);
    this.#shiftBytes = rng.int(0, PATTERN_BYTES - 1);
  }

  /** Write the stream's bytes `[offsetBytes, offsetBytes + into.length)` into `into`. */
  fill(into: Uint8Array, offsetBytes: number): void {
    const start = (offsetBytes + this.#shiftBytes) % PATTERN_BYTES;
    if (into.length <= SMALL_BYTES && start + into.length <= PATTERN_BYTES) {
      // Short chunks: a plain loop costs less than making a subarray view to copy from.
      const pattern = this.#pattern;
      for (let k = 0; k < into.length; k += 1) into[k] = pattern[start + k]!;
      return;
    }
    let done = 0;
    // Each pass copies up to the end of one pattern period, so it runs length / PATTERN_BYTES + 1 times.
    while (done < into.length) {
      const at = (offsetBytes + done + this.#shiftBytes) % PATTERN_BYTES;
      const n = Math.min(into.length - done, PATTERN_BYTES - at);
      into.set(this.#pattern.subarray(at, at + n), done);
      done += n;
    }
  }

  /** Write the stream's bytes `[offsetBytes, offsetBytes + lengthBytes)` into `into` from `at` (no view made for short runs). */
  fillAt(into: Uint8Array, at: number, lengthBytes: number, offsetBytes: number): void {
    const start = (offsetBytes + this.#shiftBytes) % PATTERN_BYTES;
    if (lengthBytes <= SMALL_BYTES && start + lengthBytes <= PATTERN_BYTES) {
      const pattern = this.#pattern;
      for (let k = 0; k < lengthBytes; k += 1) into[at + k] = pattern[start + k]!;
      return;
    }
    let done = 0;
    while (done < lengthBytes) {
      const from = (offsetBytes + done + this.#shiftBytes) % PATTERN_BYTES;
      const n = Math.min(lengthBytes - done, PATTERN_BYTES - from);
      // One view and a typed-array copy: `Buffer.copy` makes the same view, behind more checks.
      into.set(this.#pattern.subarray(from, from + n), at + done);
      done += n;
    }
  }

  /**
   * The index within `data` of the first byte that differs from the stream at `offsetBytes`,
   * or -1 when all match.
   */
  firstMismatch(data: Uint8Array, offsetBytes: number): number {
    return this.firstMismatchAt(data, 0, data.length, offsetBytes);
  }

  /** `firstMismatch` of `data[from, from + lengthBytes)`: the index within that range, or -1. */
  firstMismatchAt(data: Uint8Array, from: number, lengthBytes: number, offsetBytes: number): number {
    const start = (offsetBytes + this.#shiftBytes) % PATTERN_BYTES;
    if (lengthBytes <= SMALL_BYTES && start + lengthBytes <= PATTERN_BYTES) {
      const pattern = this.#pattern;
      for (let k = 0; k < lengthBytes; k += 1) if (data[from + k] !== pattern[start + k]) return k;
      return -1;
    }
    let done = 0;
    while (done < lengthBytes) {
      const at = (offsetBytes + done + this.#shiftBytes) % PATTERN_BYTES;
      const n = Math.min(lengthBytes - done, PATTERN_BYTES - at);
      // compare(target, targetStart, targetEnd, sourceStart, sourceEnd): no view made.
      if (this.#patternBuffer.compare(data, from + done, from + done + n, at, at + n) !== 0) {
        const pattern = this.#pattern;
        for (let k = 0; k < n; k += 1) if (data[from + done + k] !== pattern[at + k]) return done + k;
      }
      done += n;
    }
    return -1;
  }
}

/** Total length of a list of chunks. */
export function totalBytes(chunks: readonly Bytes[]): number {
  let total = 0;
  for (const chunk of chunks) total += chunk.length;
  return total;
}

/**
 * The byte pattern every stream reads from, each at its own seeded shift: xorshift32, a word at
 * a time. One constant for every run (the shift is what the seed picks), computed once per
 * process rather than once per seed: a short seed runs about 55 operations, and drawing 64 KiB
 * per seed cost more than they did.
 */
export const STREAM_PATTERN: Uint8Array = (() => {
  const words = new Uint32Array(Math.ceil(PATTERN_BYTES / 4));
  let x = 0x2545_f491;
  for (let i = 0; i < words.length; i += 1) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x;
  }
  return new Uint8Array(words.buffer, 0, PATTERN_BYTES);
})();
