import type { Bytes } from '../../src/bytes.js';
import type { BytesFetch, BytesSpill, FetchResult } from '../../src/spill.js';

/** Calls a backend answered so far, and who to tell. */
export interface CallTally {
  calls: number;
  onCall?: ((calls: number) => void) | undefined;
  /** Fetches that succeeded so far, when the caller wants to know whether anything stored was read back. */
  fetched?: number;
}

/**
 * The backend with every `spill` and `fetch` counted as it returns: the progress that tells a
 * slow backend (still answering) from a stuck one. Everything else passes through unchanged.
 */
export function countingSpill(spill: BytesSpill, tally: CallTally): BytesSpill {
  const counted = (): void => {
    tally.calls += 1;
    tally.onCall?.(tally.calls);
  };
  const wrapFetch = (handle: BytesFetch): BytesFetch => ({
    fetch(): FetchResult {
      const result = handle.fetch();
      counted();
      if (result.ok && tally.fetched !== undefined) tally.fetched += 1;
      return result.ok ? result : { ok: false, handle: wrapFetch(result.handle) };
    },
  });
  return new Proxy(spill, {
    get(target, key, receiver) {
      if (key !== 'spill') {
        const value = Reflect.get(target, key, receiver) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      }
      return (chunks: Bytes[], handles: BytesFetch[]): void => {
        const inner: BytesFetch[] = [];
        try {
          target.spill(chunks, inner);
        } finally {
          handles.push(...inner.map(wrapFetch));
          counted();
        }
      };
    },
  });
}
