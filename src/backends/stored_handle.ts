import { BackendContractError, SpillsimError } from '../errors.js';
import type { BytesFetch, FetchResult } from '../spill.js';

/**
 * The handle every shipped backend hands out: it names what it stands for and asks its
 * backend to fetch it, so the backend alone holds the storage state and the accounting.
 */
export class StoredHandle implements BytesFetch {
  readonly #label: string;
  readonly #fetchFrom: (handle: StoredHandle) => FetchResult;

  constructor(label: string, fetchFrom: (handle: StoredHandle) => FetchResult) {
    this.#label = label;
    this.#fetchFrom = fetchFrom;
  }

  fetch(): FetchResult {
    return this.#fetchFrom(this);
  }

  /** What a person reads in a trace or a shrunk counterexample. */
  toString(): string {
    return this.#label;
  }
}

/**
 * A second fetch of a handle. The queue replaces a paged entry with its bytes exactly once, so
 * a second successful fetch could only deliver the chunk twice; refusing it loudly turns a
 * caller's bug into a failure instead of duplicated data.
 */
export function alreadyFetchedError(handle: BytesFetch): BackendContractError {
  return new BackendContractError(`${handle.toString()} was already fetched; fetch() consumes a handle, so call it once (retry only a handle returned by a failed fetch)`);
}

/** A fetch or spill after `close()`: the stored bytes are gone, and retrying could never succeed. */
export function storageClosedError(backend: string, doing: string): SpillsimError {
  return new SpillsimError('E_STORAGE', `${backend} was closed, so it cannot ${doing}; keep the backend open until every handle has been fetched`);
}
