import { SpillsimError } from './errors.js';

/**
 * An immutable view `[offset, offset + length)` of one shared allocation (an `ArrayBuffer`).
 *
 * Two views of the same allocation that touch can be merged without a copy: that is what lets
 * the queue coalesce consecutive slices of one slab. Like the Rust `Bytes`, a view handed to
 * `MergeQueue.extend` is moved into the queue: it may grow by merging, so do not reuse it.
 */
export class Bytes {
  /** The allocation; identity decides whether two views may merge. */
  readonly buffer: ArrayBufferLike;
  #offset: number;
  #length: number;

  constructor(buffer: ArrayBufferLike, offset: number, length: number) {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > buffer.byteLength) {
      throw new SpillsimError('E_BAD_ARGUMENT', `Bytes view [${offset}, ${offset + length}) lies outside its ${buffer.byteLength}-byte allocation`);
    }
    this.buffer = buffer;
    this.#offset = offset;
    this.#length = length;
  }

  /** A view of the memory `u8` views (no copy): slices of one `ArrayBuffer` stay mergeable. */
  static from(u8: Uint8Array): Bytes {
    return new Bytes(u8.buffer, u8.byteOffset, u8.byteLength);
  }

  /** A view of a fresh allocation holding a copy of `u8` (mergeable with nothing before it). */
  static copyOf(u8: Uint8Array): Bytes {
    return Bytes.from(u8.slice());
  }

  get length(): number {
    return this.#length;
  }

  get offset(): number {
    return this.#offset;
  }

  /** The bytes, as a zero-copy view; callers must not write through it. */
  get data(): Uint8Array {
    return new Uint8Array(this.buffer, this.#offset, this.#length);
  }

  /** A second view of the same bytes (the reference's `clone`, an Arc bump: no copy). */
  clone(): Bytes {
    return new Bytes(this.buffer, this.#offset, this.#length);
  }

  /**
   * Grow this view by `other` when `other` views the same allocation and starts exactly where
   * this one ends; `other` is then consumed. On failure nothing changes and the caller keeps `other`.
   */
  tryMerge(other: Bytes): boolean {
    if (other.buffer !== this.buffer || other.#offset !== this.#offset + this.#length) return false;
    this.#length += other.#length;
    return true;
  }

  /** Split off and return the first `i` bytes; this view keeps the rest. */
  extractTo(i: number): Bytes {
    if (!Number.isSafeInteger(i) || i < 0 || i > this.#length) {
      throw new SpillsimError('E_BAD_ARGUMENT', `extractTo(${i}) on a view of ${this.#length} bytes`);
    }
    const head = new Bytes(this.buffer, this.#offset, i);
    this.#offset += i;
    this.#length -= i;
    return head;
  }

  toString(): string {
    return `Bytes(${this.#length})`;
  }
}

/**
 * The writable form: a slab you fill through `data`, then freeze piece by piece with
 * `extractTo`. Pieces extracted one after another are adjacent, so the queue merges them.
 */
export class BytesMut {
  readonly buffer: ArrayBuffer;
  #offset = 0;

  constructor(byteLength: number) {
    if (!Number.isSafeInteger(byteLength) || byteLength < 0) {
      throw new SpillsimError('E_BAD_ARGUMENT', `BytesMut needs a non-negative whole byte length, got ${byteLength}`);
    }
    this.buffer = new ArrayBuffer(byteLength);
  }

  static alloc(byteLength: number): BytesMut {
    return new BytesMut(byteLength);
  }

  get length(): number {
    return this.buffer.byteLength - this.#offset;
  }

  /** The not yet frozen remainder, writable. */
  get data(): Uint8Array {
    return new Uint8Array(this.buffer, this.#offset);
  }

  /** Freeze and return the first `i` bytes of the remainder. */
  extractTo(i: number): Bytes {
    if (!Number.isSafeInteger(i) || i < 0 || i > this.length) {
      throw new SpillsimError('E_BAD_ARGUMENT', `extractTo(${i}) on a BytesMut with ${this.length} bytes left`);
    }
    const head = new Bytes(this.buffer, this.#offset, i);
    this.#offset += i;
    return head;
  }
}
