import { badArgument, describeValue } from './arguments.js';

// Set by the static block of `Bytes`, which alone may touch its fields; see `mergeForQueue`.
let mergeOwn: (a: Bytes, b: unknown) => MergeOutcome;
let shrinkBy: (bytes: Bytes, length: number) => void;
let ownBytes: (value: unknown) => boolean;
let ownHeld: (value: Bytes) => boolean;

export const MERGE_NONE = 0;
export const MERGE_DONE = 1;
export const MERGE_NOT_OWN = 2;
export type MergeOutcome = typeof MERGE_NONE | typeof MERGE_DONE | typeof MERGE_NOT_OWN;

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
    if (!isAllocation(buffer)) {
      throw badArgument(`new Bytes(buffer, offset, length) takes an ArrayBuffer or SharedArrayBuffer as buffer, got ${describeValue(buffer)}; for a Uint8Array use Bytes.from(u8)`);
    }
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > buffer.byteLength) {
      throw badArgument(`Bytes view [${String(offset)}, ${String(offset + length)}) lies outside its ${buffer.byteLength}-byte allocation; offset and length must be whole numbers within it`);
    }
    this.buffer = buffer;
    this.#offset = offset;
    this.#length = length;
  }

  /** A view of the memory `u8` views (no copy): slices of one `ArrayBuffer` stay mergeable. */
  static from(u8: Uint8Array): Bytes {
    checkUint8Array('Bytes.from', u8);
    return new Bytes(u8.buffer, u8.byteOffset, u8.byteLength);
  }

  /** A view of a fresh allocation holding a copy of `u8` (mergeable with nothing before it). */
  static copyOf(u8: Uint8Array): Bytes {
    checkUint8Array('Bytes.copyOf', u8);
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
    // A brand check, not `instanceof`: an object made from Bytes.prototype has no fields.
    if (!ownBytes(other)) return Bytes.#tryMergeForeign(this, other);
    if (other.buffer !== this.buffer || other.#offset !== this.#offset + this.#length) return false;
    this.#length += other.#length;
    return true;
  }

  /** `other` is not one of ours: a `Bytes` of a second copy of the library merges through its public getters. */
  static #tryMergeForeign(bytes: Bytes, other: unknown): boolean {
    if (!isBytes(other)) throw badArgument(`tryMerge(other) takes a Bytes, got ${describeValue(other)}`);
    if (other.buffer !== bytes.buffer || other.offset !== bytes.#offset + bytes.#length) return false;
    bytes.#length += other.length;
    return true;
  }

  static {
    mergeOwn = (a, item) => {
      const b = item as Bytes;
      let offset: number;
      try {
        // The read is the type check: it throws for anything but a Bytes this class constructed,
        // including an object made from Bytes.prototype (whose private fields do not exist).
        offset = b.#offset;
      } catch {
        return MERGE_NOT_OWN;
      }
      // A new allocation is checked to still hold the view (not detached or shrunk); a view of
      // the tail's own allocation needs no check, the tail was checked already.
      if (b.buffer !== a.buffer) return offset + b.#length <= b.buffer.byteLength ? MERGE_NONE : MERGE_NOT_OWN;
      if (offset !== a.#offset + a.#length) return MERGE_NONE;
      a.#length += b.#length;
      return MERGE_DONE;
    };
    shrinkBy = (bytes, length) => {
      bytes.#length -= length;
    };
    ownBytes = (value) => typeof value === 'object' && value !== null && #length in value;
    ownHeld = (bytes) => bytes.#offset + bytes.#length <= bytes.buffer.byteLength;
  }

  /** Split off and return the first `i` bytes; this view keeps the rest. */
  extractTo(i: number): Bytes {
    if (!Number.isSafeInteger(i) || i < 0 || i > this.#length) {
      throw badArgument(`Bytes.extractTo(${typeof i === 'number' ? i : 'i'}): i takes a whole number of bytes in 0..${this.#length} (the view's length), got ${describeValue(i)}`);
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
      throw badArgument(`new BytesMut(byteLength) takes a non-negative whole number of bytes, got ${describeValue(byteLength)}`);
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
      throw badArgument(`BytesMut.extractTo(${typeof i === 'number' ? i : 'i'}): i takes a whole number of bytes in 0..${this.length} (the bytes left), got ${describeValue(i)}`);
    }
    const head = new Bytes(this.buffer, this.#offset, i);
    this.#offset += i;
    return head;
  }
}

/**
 * Whether `value` is a `Bytes`: one of ours, or one of a second copy of the library (another
 * bundle), recognised by its shape. The queue and the policies accept nothing else as a chunk.
 */
export function isBytes(value: unknown): value is Bytes {
  if (ownBytes(value)) return true;
  try {
    // Bytes.prototype without a Bytes behind it (Object.create(Bytes.prototype)): its getters throw.
    if (value instanceof Bytes) return false;
    const like = value as Bytes | null | undefined;
    return (
      like !== null &&
      typeof like === 'object' &&
      typeof like.tryMerge === 'function' &&
      typeof like.extractTo === 'function' &&
      typeof like.length === 'number' &&
      typeof like.offset === 'number' &&
      isAllocation(like.buffer)
    );
    // Stryker disable next-line BlockStatement: equivalent, an emptied catch returns undefined, which every caller reads as false
  } catch {
    // A getter or a Proxy trap that throws: not a Bytes either.
    return false;
  }
}

/**
 * Whether `bytes` (already known to be a `Bytes`) still lies within its allocation: false when
 * its `ArrayBuffer` was detached (transferred, e.g. by `postMessage` or `structuredClone`) or
 * shrunk after the view was made, so that reading `data` would throw. A zero-length view at
 * offset 0 of a detached buffer cannot be told from one of an empty buffer, and passes.
 */
export function isHeld(bytes: Bytes): boolean {
  return ownBytes(bytes) ? ownHeld(bytes) : bytes.offset + bytes.length <= bytes.buffer.byteLength;
}

/**
 * `value` as an error message should show a chunk that is not a `Bytes`: like `describeValue`,
 * but an object made from Bytes.prototype (Object.create) is named for what it is, not "a Bytes".
 */
export function describeChunk(value: unknown): string {
  let fake = false;
  try {
    fake = value instanceof Bytes && !ownBytes(value);
  } catch {
    // A Proxy whose getPrototypeOf trap throws: describeValue copes.
  }
  return fake ? 'an object with the Bytes prototype that no Bytes constructor made (use Bytes.from(u8))' : describeValue(value);
}

/** Whether `value` is a `Bytes` this copy of the library constructed (a brand check). Not part of the public API. */
// Stryker disable next-line BlockStatement: equivalent, undefined sends every caller down its checked path, which gives the same result
export function isOwnBytes(value: unknown): value is Bytes {
  return ownBytes(value);
}

/** A `Bytes` this copy of the library constructed that still lies within its allocation. Not part of the public API. */
// Stryker disable next-line BlockStatement: equivalent, undefined sends extend down its checked path, which gives the same result
export function isOwnHeldBytes(value: unknown): value is Bytes {
  return ownBytes(value) && ownHeld(value as Bytes);
}

function isAllocation(buffer: unknown): buffer is ArrayBufferLike {
  if (buffer instanceof ArrayBuffer) return true;
  // A SharedArrayBuffer, or an ArrayBuffer of another realm (a vm context).
  const tag = Object.prototype.toString.call(buffer);
  return tag === '[object ArrayBuffer]' || tag === '[object SharedArrayBuffer]';
}

function checkUint8Array(what: string, u8: unknown): void {
  if (u8 instanceof Uint8Array || Object.prototype.toString.call(u8) === '[object Uint8Array]') return;
  const hint = u8 instanceof ArrayBuffer ? `; wrap it: ${what}(new Uint8Array(buffer))` : Array.isArray(u8) ? `; for numbers use ${what}(Uint8Array.from(list))` : typeof u8 === 'string' ? `; for text use ${what}(new TextEncoder().encode(text))` : '';
  throw badArgument(`${what}(u8) takes a Uint8Array, got ${describeValue(u8)}${hint}`);
}

/**
 * `a.tryMerge(b)` for `MergeQueue.extend`'s hot loop, where `a` is one of our own `Bytes`:
 * `MERGE_NOT_OWN` when `b` is not, or no longer lies within its allocation (nothing changed;
 * the queue then checks every item the slow way), else `MERGE_DONE` or `MERGE_NONE`. The type check is the read of a private field the merge needs anyway;
 * the allocation check runs only when `b` starts a new allocation. Not part of the public API.
 */
export function mergeForQueue(a: Bytes, b: unknown): MergeOutcome {
  return mergeOwn(a, b);
}

/** Undo a `MERGE_DONE` of `mergeForQueue(a, b)`: `a` gives back the bytes it grew by. Not part of the public API. */
export function undoMerge(a: Bytes, b: Bytes): void {
  shrinkBy(a, b.length);
}
