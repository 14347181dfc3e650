import { type Bytes, type BytesFetch, type BytesSpill, type FetchResult } from '../src/index.js';

/**
 * A backend that keeps each spilled chunk by reference (no copy, no I/O): benchmarks of the
 * policies use it so the figure is the policy's own cost, not the storage's.
 */
export class KeepSpill implements BytesSpill {
  spilledChunks = 0;

  spill(chunks: Bytes[], handles: BytesFetch[]): void {
    for (const chunk of chunks.splice(0, chunks.length)) handles.push(new KeptHandle(chunk));
    this.spilledChunks += handles.length;
  }
}

class KeptHandle implements BytesFetch {
  readonly #chunk: Bytes;
  constructor(chunk: Bytes) {
    this.#chunk = chunk;
  }
  fetch(): FetchResult {
    return { ok: true, chunks: [this.#chunk] };
  }
}
