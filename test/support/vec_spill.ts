import { Bytes, type BytesFetch, type BytesSpill, type FetchResult } from '../../src/index.js';

/**
 * A tiny in-test backend with scriptable outcomes (the reference tests use one like it):
 * `stopAfter` chunks per spill call, and a number of failures before each fetch succeeds.
 */
export class VecSpill implements BytesSpill {
  /** Chunks accepted by the next spill call; undefined accepts all. Consumed per call. */
  stopAfter: number[] = [];
  /** Failures each new handle returns before it succeeds. */
  fetchFailures = 0;
  spillCalls = 0;
  fetches = 0;

  spill(chunks: Bytes[], handles: BytesFetch[]): void {
    this.spillCalls += 1;
    const limit = this.stopAfter.shift() ?? chunks.length;
    const taken = chunks.splice(0, Math.min(limit, chunks.length));
    for (const chunk of taken) handles.push(new VecHandle(this, chunk.data.slice(), this.fetchFailures));
  }
}

export class VecHandle implements BytesFetch {
  readonly #owner: VecSpill;
  readonly data: Uint8Array;
  #failuresLeft: number;

  constructor(owner: VecSpill, data: Uint8Array, failures: number) {
    this.#owner = owner;
    this.data = data;
    this.#failuresLeft = failures;
  }

  fetch(): FetchResult {
    this.#owner.fetches += 1;
    if (this.#failuresLeft > 0) {
      this.#failuresLeft -= 1;
      return { ok: false, handle: this };
    }
    return { ok: true, chunks: [Bytes.from(this.data)] };
  }
}

/** Concatenate drained chunks, to compare with what was written. */
export function concat(chunks: readonly Bytes[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk.data, offset);
    offset += chunk.length;
  }
  return out;
}

/** A fresh allocation of `length` bytes holding a recognisable pattern. */
export function pattern(length: number, seed: number): Bytes {
  const data = new Uint8Array(length);
  for (let i = 0; i < length; i += 1) data[i] = (seed * 31 + i) & 0xff;
  return Bytes.from(data);
}

/** Entry kinds of a deque, e.g. `B64 P B64`, for readable assertions. */
export function shape(entries: Iterable<{ kind: string; bytes?: Bytes }>): string {
  return [...entries].map((e) => (e.kind === 'bytes' ? `B${e.bytes!.length}` : 'P')).join(' ');
}
