import type { Bytes } from './bytes.js';

/** What `BytesFetch.fetch` returns: the chunks, or the handle back for a later retry. */
export type FetchResult = { ok: true; chunks: Bytes[] } | { ok: false; handle: BytesFetch };

/**
 * A handle to bytes written to storage. `fetch` consumes the handle: call it once. On failure
 * it returns a handle (usually itself) that a later call may retry.
 */
export interface BytesFetch {
  fetch(): FetchResult;
}

/**
 * Storage for spilled chunks.
 *
 * Contract: drain `chunks` **from the front**, pushing **one handle per drained chunk, in order**.
 * It may stop partway (storage full, I/O error); both lists must then be consistent, and the
 * undrained chunks are retried later. If it cannot leave them consistent it must throw.
 */
export interface BytesSpill {
  spill(chunks: Bytes[], handles: BytesFetch[]): void;
}

/** One entry of a queue: resident in memory, or written to storage. */
export type QueueEntry = { kind: 'bytes'; bytes: Bytes } | { kind: 'paged'; handle: BytesFetch };

export function bytesEntry(bytes: Bytes): QueueEntry {
  return { kind: 'bytes', bytes };
}

export function pagedEntry(handle: BytesFetch): QueueEntry {
  return { kind: 'paged', handle };
}

/** What a backend holds right now; the optional `stats()` hook lets checks see storage released. */
export interface StorageStats {
  /** Bytes written and not yet released. */
  storedBytes: number;
  /** Chunks written and not yet released. */
  storedChunks: number;
}

/** A backend that can say what it holds (optional; `spillsim validate` uses it when present). */
export interface InspectableSpill extends BytesSpill {
  stats(): StorageStats;
}
