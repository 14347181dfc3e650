import { Bytes } from '../src/bytes.js';
import type { BytesFetch, BytesSpill, FetchResult } from '../src/spill.js';
import { SpillsimError } from '../src/errors.js';

/**
 * Storage whose outcomes the commands control: the next spill can stop after `k` chunks, the
 * next `n` fetches can fail, or every fetch can fail until healed. It wraps an inner backend
 * (in-memory by default, or a user's), so the same faults apply to any storage.
 *
 * It remembers which chunk each live handle holds, so the model can account for paged bytes
 * without fetching them, and it checks on fetch that the chunk comes back intact (a boundary
 * check, paired with the record taken at spill time).
 */
export class ScriptedSpill implements BytesSpill {
  readonly #inner: BytesSpill;
  #stopAfterChunks: number | undefined;
  #fetchFailuresLeft = 0;
  #fetchFailsForever = false;
  /** Fail one fetch once this many more have succeeded (the exhaustive suite aims with it). */
  #okFetchesBeforeFailure: number | undefined;
  /** Chunks each live handle holds, keyed by the handle we gave the queue. */
  readonly live = new Map<BytesFetch, Bytes[]>();
  /** How a scheduled stop behaves: `'stop'` (the contract) or `'skip'` (a broken backend). */
  stopMode: 'stop' | 'skip' = 'stop';
  spillCalls = 0;
  /** Chunks offered by each spill call so far: the exhaustive suite enumerates stop points from it. */
  readonly offeredLog: number[] = [];
  fetchCalls = 0;
  /** Set when the inner backend drained less than it was shown (its storage is full); read and reset by `takeInnerStopped`. */
  #innerStopped = false;
  /** One line per storage event since the last `takeEvents()`, for the readable trace. */
  #events: string[] = [];

  constructor(inner: BytesSpill = new MemoryStore()) {
    this.#inner = inner;
  }

  stopNextSpillAfter(chunks: number): void {
    this.#stopAfterChunks = chunks;
  }

  failNextFetches(count: number): void {
    this.#fetchFailuresLeft += count;
  }

  failFetchAfter(okFetches: number): void {
    this.#okFetchesBeforeFailure = okFetches;
  }

  failFetchForever(): void {
    this.#fetchFailsForever = true;
  }

  heal(): void {
    this.#stopAfterChunks = undefined;
    this.#fetchFailuresLeft = 0;
    this.#fetchFailsForever = false;
    this.#okFetchesBeforeFailure = undefined;
  }

  get faultPending(): boolean {
    return this.#stopAfterChunks !== undefined || this.#fetchFailuresLeft > 0 || this.#fetchFailsForever || this.#okFetchesBeforeFailure !== undefined;
  }

  get spillFaultPending(): boolean {
    return this.#stopAfterChunks !== undefined;
  }

  /**
   * Whether the inner backend stopped a spill partway on its own since the last call (storage
   * full, as the contract allows); resets the flag. The memory bound is not judged after such a
   * step: the queue kept the chunks resident because storage refused them, not by its own choice.
   */
  takeInnerStopped(): boolean {
    const stopped = this.#innerStopped;
    this.#innerStopped = false;
    return stopped;
  }

  takeEvents(): string[] {
    const events = this.#events;
    this.#events = [];
    return events;
  }

  spill(chunks: Bytes[], handles: BytesFetch[]): void {
    this.spillCalls += 1;
    const offered = chunks.length;
    this.offeredLog.push(offered);
    const limit = this.#stopAfterChunks;
    this.#stopAfterChunks = undefined;
    const stops = limit !== undefined && limit < offered;
    // A stop after k chunks is storage filling up: the inner backend only ever sees the first k.
    // The broken `skip` mode instead skips chunk k and writes the rest, which breaks the
    // front-draining contract the way a careless backend would.
    let visible: Bytes[];
    if (!stops) visible = chunks;
    else if (this.stopMode === 'skip') visible = [...chunks.slice(0, limit), ...chunks.slice(limit + 1)];
    else visible = chunks.slice(0, limit);
    const visibleOffered = visible.slice();
    // What the backend was lent, to tell a backend that writes into it from one that misplaces data.
    const lent = visibleOffered.map((c) => c.data.slice());
    const innerHandles: BytesFetch[] = [];
    this.#inner.spill(visible, innerHandles);
    const scribbled = visibleOffered.findIndex((c, k) => !sameBytes(c.data, lent[k]!));
    if (scribbled >= 0) {
      throw new SpillsimError('E_BACKEND_CONTRACT', `the backend wrote into the bytes of chunk ${scribbled} of ${visibleOffered.length} it was given to spill: that memory is the queue's, only lent for the call`);
    }
    const drained = visibleOffered.length - visible.length;
    if (visible.length > 0) this.#innerStopped = true;
    if (stops && this.stopMode === 'skip') chunks.splice(0, chunks.length, chunks[limit]!, ...visible);
    else if (stops) chunks.splice(0, drained);
    for (let k = 0; k < innerHandles.length; k += 1) {
      const inner = innerHandles[k]!;
      const held = (inner as Partial<HoldsChunks>).heldChunks ?? (visibleOffered[k] === undefined ? [] : [visibleOffered[k]!]);
      handles.push(new ScriptedFetch(this, inner, held));
    }
    const written = offered - chunks.length;
    const stopped = stops ? ` (storage stopped it after ${limit})` : '';
    this.#events.push(`spilled ${written} of ${offered} chunk${offered === 1 ? '' : 's'}${stopped}`);
  }

  /** Called by a handle: decide whether this fetch fails, else ask the inner handle. */
  fetchThrough(handle: ScriptedFetch, inner: BytesFetch): FetchResult {
    this.fetchCalls += 1;
    const aimed = this.#okFetchesBeforeFailure === 0;
    if (this.#okFetchesBeforeFailure !== undefined) this.#okFetchesBeforeFailure = aimed ? undefined : this.#okFetchesBeforeFailure - 1;
    if (this.#fetchFailsForever || this.#fetchFailuresLeft > 0 || aimed) {
      if (!this.#fetchFailsForever && !aimed) this.#fetchFailuresLeft -= 1;
      this.#events.push('fetch failed');
      return { ok: false, handle };
    }
    const held = this.live.get(handle) ?? [];
    const result = inner.fetch();
    if (!result.ok) {
      this.#events.push('fetch failed (backend)');
      this.live.delete(handle);
      return { ok: false, handle: new ScriptedFetch(this, result.handle, held) };
    }
    const bytes = result.chunks.reduce((sum, c) => sum + c.length, 0);
    this.#events.push(`fetched ${result.chunks.length} chunk${result.chunks.length === 1 ? '' : 's'} (${bytes} B)`);
    this.live.delete(handle);
    return result;
  }
}

/** An inner handle that says which chunks it really holds (our own sample backends do). */
export interface HoldsChunks {
  heldChunks: Bytes[];
}

/** A handle the queue holds; it forwards to the inner backend's handle unless a fault is due. */
export class ScriptedFetch implements BytesFetch {
  readonly #owner: ScriptedSpill;
  readonly #inner: BytesFetch;

  constructor(owner: ScriptedSpill, inner: BytesFetch, held: Bytes[]) {
    this.#owner = owner;
    this.#inner = inner;
    owner.live.set(this, held);
  }

  fetch(): FetchResult {
    return this.#owner.fetchThrough(this, this.#inner);
  }
}

/** The default inner backend: copies each chunk out of the queue's memory, one handle per chunk. */
export class MemoryStore implements BytesSpill {
  spill(chunks: Bytes[], handles: BytesFetch[]): void {
    for (const chunk of chunks.splice(0, chunks.length)) {
      const copy = chunk.data.slice();
      handles.push({ fetch: () => ({ ok: true, chunks: [Bytes.from(copy)] }) });
    }
  }
}

/** A broken inner backend: one handle for the whole batch (the reference cannot tell). */
export class BatchingStore implements BytesSpill {
  spill(chunks: Bytes[], handles: BytesFetch[]): void {
    if (chunks.length === 0) return;
    const copies = chunks.splice(0, chunks.length).map((chunk) => Bytes.copyOf(chunk.data));
    const handle: BytesFetch & HoldsChunks = {
      heldChunks: copies,
      fetch: () => ({ ok: true, chunks: copies.map((c) => c.clone()) }),
    };
    handles.push(handle);
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i += 1) if (a[i] !== b[i]) return false;
  return true;
}
