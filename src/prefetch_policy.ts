import { describeValue } from './arguments.js';
import { describeChunk, isBytes } from './bytes.js';
import type { EntryDeque } from './entry_deque.js';
import { BackendContractError, checkByteKnob } from './errors.js';
import { bytesEntry, type FetchResult, pagedEntry } from './spill.js';
import type { SpillPolicy } from './spill_policy.js';

/**
 * Reader policy (the reference's `PrefetchPolicy`): walk from the front and fetch paged
 * entries back in until `budget` resident bytes are at hand. A failed fetch puts its handle
 * back and stops the walk; the next `drainInto` retries it.
 *
 * Unlike the reference, the paged entry stays in the deque until its fetch has returned and
 * its answer has been checked, so a fetch that throws (a panic: the queue is poisoned) leaves
 * the deque still accounting for every byte. `ReferencePrefetchPolicy` removes it first, as
 * the reference does.
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
      const bytes = deque.bytesAt(i);
      if (bytes !== undefined) {
        seenBytes += bytes.length;
        i += 1;
        continue;
      }
      const result = checkFetchResult(deque.handleAt(i)!.fetch());
      if (!result.ok) {
        deque.set(i, pagedEntry(result.handle));
        return;
      }
      // Every chunk was checked above, so the entry is replaced only by what will be kept.
      // The reference removes the entry and inserts each chunk; one chunk is the common case.
      // Stryker disable next-line ConditionalExpression: equivalent, a speed-up only; the general branch gives the same deque for one chunk
      if (result.chunks.length === 1) {
        deque.setBytes(i, result.chunks[0]!);
      } else {
        deque.remove(i);
        for (let k = 0; k < result.chunks.length; k += 1) deque.insert(i + k, bytesEntry(result.chunks[k]!));
      }
      for (const chunk of result.chunks) seenBytes += chunk.length;
      i += result.chunks.length;
    }
  }
}

/**
 * The reference `PrefetchPolicy`, step for step: a paged entry is removed from the deque
 * before its handle is fetched, so a fetch that throws (a panic) loses the entry; the queue is
 * poisoned anyway. On success each chunk is inserted where the entry was; on failure the
 * returned handle is inserted back where it was and the walk stops. Kept so the reference's
 * panic path can be compared with `PrefetchPolicy`, which keeps the entry.
 */
export class ReferencePrefetchPolicy extends PrefetchPolicy {
  override apply(deque: EntryDeque): void {
    let seenBytes = 0;
    for (let i = 0; i < deque.length && seenBytes < this.budget; ) {
      const entry = deque.get(i);
      if (entry.kind === 'bytes') {
        seenBytes += entry.bytes.length;
        i += 1;
        continue;
      }
      deque.remove(i);
      const result = checkFetchResult(entry.handle.fetch());
      if (!result.ok) {
        deque.insert(i, pagedEntry(result.handle));
        return;
      }
      for (let k = 0; k < result.chunks.length; k += 1) deque.insert(i + k, bytesEntry(result.chunks[k]!));
      for (const chunk of result.chunks) seenBytes += chunk.length;
      i += result.chunks.length;
    }
  }
}

/**
 * A fetch result of the wrong shape is a backend bug, reported as `E_BACKEND_CONTRACT` before
 * the deque is touched, rather than a TypeError later or a non-`Bytes` chunk handed to the
 * consumer (the counterpart of `spillChecked` for spill results).
 */
export function checkFetchResult(result: unknown): FetchResult {
  if (result === null || typeof result !== 'object') {
    throw new BackendContractError(`fetch returned ${describeValue(result)}; expected { ok: true, chunks } or { ok: false, handle }`);
  }
  const r = result as Record<string, unknown>;
  if (r.ok === true) {
    if (!Array.isArray(r.chunks)) {
      throw new BackendContractError(`fetch returned ok with chunks ${describeValue(r.chunks)}; expected an array of Bytes`);
    }
    for (let k = 0; k < r.chunks.length; k += 1) {
      const chunk: unknown = r.chunks[k];
      if (!isBytes(chunk)) {
        throw new BackendContractError(
          `fetch returned chunk ${k} as ${describeChunk(chunk)}, not a Bytes; a backend must return Bytes (wrap a Uint8Array with Bytes.from(u8))`,
        );
      }
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
