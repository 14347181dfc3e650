import { Bytes } from '../bytes.js';
import { checkOptions } from '../arguments.js';
import { checkByteKnob } from '../errors.js';
import type { BytesFetch, FetchResult, InspectableSpill, StorageStats } from '../spill.js';
import { alreadyFetchedError, StoredHandle, storageClosedError } from './stored_handle.js';

export interface MemorySpillOptions {
  /**
   * Stop spilling partway once this many bytes are stored (the rest stay resident and are
   * retried later). Default: unlimited.
   */
  capacityBytes?: number;
}

/**
 * In-memory storage that copies each chunk out, one handle per chunk.
 *
 * The copy is the point: the queue's target was a clone of a view into a slab that other
 * views may keep alive, so holding the view would pin the whole slab; a copy lets it be
 * collected. It is also the in-memory reference other backends are compared against.
 * Chunks are not checksummed: nobody but this backend can reach a copy before its fetch.
 */
export class MemorySpill implements InspectableSpill, Disposable {
  /** `Infinity` when unlimited. */
  readonly capacityBytes: number;
  readonly #stored = new Map<StoredHandle, Uint8Array>();
  #storedBytes = 0;
  #nextChunkSeq = 0;
  #closed = false;

  /** Throws `E_BAD_ARGUMENT` on options that are not an object or an unknown option name, `E_BAD_KNOB` on a bad `capacityBytes`. */
  constructor(options?: MemorySpillOptions) {
    options = checkOptions('MemorySpill', options, ['capacityBytes'], '{ capacityBytes: 1048576 }');
    this.capacityBytes = options.capacityBytes === undefined ? Infinity : checkByteKnob('capacityBytes', options.capacityBytes);
  }

  spill(chunks: Bytes[], handles: BytesFetch[]): void {
    if (this.#closed) throw storageClosedError('MemorySpill', 'spill');
    // Collected first and applied together, so both lists change in one step.
    const spilled: StoredHandle[] = [];
    for (const chunk of chunks) {
      if (this.#storedBytes + chunk.length > this.capacityBytes) break;
      const handle = new StoredHandle(`MemorySpill chunk ${this.#nextChunkSeq} (${chunk.length} bytes)`, (h) => this.#fetch(h));
      this.#nextChunkSeq += 1;
      this.#stored.set(handle, chunk.data.slice());
      this.#storedBytes += chunk.length;
      spilled.push(handle);
    }
    chunks.splice(0, spilled.length);
    handles.push(...spilled);
  }

  #fetch(handle: StoredHandle): FetchResult {
    const data = this.#stored.get(handle);
    if (data === undefined) throw this.#closed ? storageClosedError('MemorySpill', `fetch ${handle.toString()}`) : alreadyFetchedError(handle);
    // Dropping our reference hands the only copy to the caller: storage is released here.
    this.#stored.delete(handle);
    this.#storedBytes -= data.length;
    return { ok: true, chunks: [Bytes.from(data)] };
  }

  stats(): StorageStats {
    return { storedBytes: this.#storedBytes, storedChunks: this.#stored.size };
  }

  /** Forget every stored chunk; handles not yet fetched then throw `E_STORAGE`. Idempotent. */
  close(): void {
    this.#closed = true;
    this.#stored.clear();
    this.#storedBytes = 0;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
