import type { EntryDeque } from './entry_deque.js';
import { BackendContractError, checkByteKnob } from './errors.js';
import { bytesEntry, type FetchResult, pagedEntry } from './spill.js';
import type { SpillPolicy } from './spill_policy.js';

/**
 * Reader policy: walk from the front and fetch paged entries back in until `budget` resident
 * bytes are at hand. A failed fetch puts its handle back and stops the walk; the next
 * `drainInto` retries it.
 */
export class PrefetchPolicy implements SpillPolicy {
  #budget: number;

  constructor(budget: number) {
    this.#budget = checkByteKnob('budget', budget);
  }

  get budget(): number {
    return this.#budget;
  }

  set budget(value: number) {
    this.#budget = checkByteKnob('budget', value);
  }

  apply(deque: EntryDeque): void {
    let seenBytes = 0;
    // Each pass either advances `i` or shrinks the deque, so the walk is bounded by its length.
    for (let i = 0; i < deque.length && seenBytes < this.#budget; ) {
      const entry = deque.get(i);
      if (entry.kind === 'bytes') {
        seenBytes += entry.bytes.length;
        i += 1;
        continue;
      }
      const result = checkFetchResult(entry.handle.fetch());
      if (!result.ok) {
        deque.set(i, pagedEntry(result.handle));
        return;
      }
      // The reference removes the entry and inserts each chunk; one chunk is the common case.
      // Stryker disable next-line ConditionalExpression: equivalent, a speed-up only; the general branch gives the same deque for one chunk
      if (result.chunks.length === 1) {
        deque.set(i, bytesEntry(result.chunks[0]!));
      } else {
        deque.remove(i);
        for (let k = 0; k < result.chunks.length; k += 1) deque.insert(i + k, bytesEntry(result.chunks[k]!));
      }
      for (const chunk of result.chunks) seenBytes += chunk.length;
      i += result.chunks.length;
    }
  }
}

/** A fetch result of the wrong shape is a backend bug, reported as one rather than a TypeError later. */
export function checkFetchResult(result: unknown): FetchResult {
  if (result === null || typeof result !== 'object') {
    throw new BackendContractError(`fetch returned ${String(result)}; expected { ok: true, chunks } or { ok: false, handle }`);
  }
  const r = result as Record<string, unknown>;
  if (r.ok === true) {
    if (!Array.isArray(r.chunks) || !r.chunks.every((c) => c !== null && typeof c === 'object' && typeof (c as { length?: unknown }).length === 'number')) {
      throw new BackendContractError('fetch returned ok without a chunks array of Bytes');
    }
    return result as FetchResult;
  }
  if (r.ok === false) {
    const handle = r.handle as { fetch?: unknown } | null | undefined;
    if (handle === null || typeof handle !== 'object' || typeof handle.fetch !== 'function') {
      throw new BackendContractError('fetch failed without returning a handle to retry; the contract returns the handle back');
    }
    return result as FetchResult;
  }
  throw new BackendContractError('fetch returned an object without ok: true or ok: false');
}
