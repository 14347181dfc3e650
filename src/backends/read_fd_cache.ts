import { closeQuietly, type SpillFs } from './spill_fs.js';

/**
 * Read descriptors of batch files kept open between fetches, so a batch read one chunk at a
 * time is opened once rather than once per chunk. At most `openFilesMax` stay open; opening
 * one more closes the least recently used. A read that throws closes its descriptor, so a
 * retry starts from a fresh open instead of a descriptor in an unknown state.
 */
export class ReadFdCache {
  readonly openFilesMax: number;
  readonly #fs: SpillFs;
  // Map order is recency order: a hit moves to the end, so the first key is the eviction candidate.
  readonly #fds = new Map<string, number>();
  /** The last key set (the most recently used, while it is cached): a batch read chunk after chunk stays there, unmoved. */
  #lastPath: string | undefined;
  /** Whether the descriptor `take` handed out last came from the cache (it stays there during the read). */
  // Stryker disable next-line BooleanLiteral: equivalent, take sets it before give or discard reads it
  #takenCached = false;

  constructor(fs: SpillFs, openFilesMax: number) {
    this.#fs = fs;
    this.openFilesMax = openFilesMax;
  }

  /** Descriptors open right now. */
  get openFiles(): number {
    return this.#fds.size;
  }

  /**
   * A descriptor open for reading on `path`: the cached one (now the most recently used), or
   * one opened now. Hand it back with `give` or `discard`. Throws what `openSync` throws.
   */
  take(path: string): number {
    const fd = this.#fds.get(path);
    this.#takenCached = fd !== undefined;
    if (fd === undefined) return this.#fs.openSync(path, 'r');
    // Stryker disable next-line ConditionalExpression: equivalent where it survives (always moving the last path), a speed-up only; the last path set is already the last in the map
    if (path !== this.#lastPath) {
      this.#fds.delete(path);
      this.#fds.set(path, fd);
      this.#lastPath = path;
    }
    return fd;
  }

  /**
   * Hand back a descriptor from `take` after a read that did not throw. With `keepOpen` it is
   * cached (the most recently used); without, it is closed (a whole-file read needs it once).
   */
  give(path: string, fd: number, keepOpen: boolean): void {
    // Stryker disable next-line EqualityOperator,ConditionalExpression: equivalent, with openFilesMax 0 a descriptor cached here is closed at once by #closeBeyond(0) (a mark of the line also hides its killed ConditionalExpression mutants)
    if (keepOpen && this.openFilesMax > 0) {
      // Stryker disable next-line ConditionalExpression: equivalent, a speed-up only; setting a cached path again keeps its place, which take made the last
      if (this.#takenCached) return;
      this.#fds.set(path, fd);
      this.#lastPath = path;
      // Once per descriptor opened: #closeBeyond returns at once while the cache holds no more than openFilesMax.
      this.#closeBeyond(this.openFilesMax);
      return;
    }
    // Stryker disable next-line ConditionalExpression: equivalent, defensive; nothing is cached when this runs (openFilesMax 0 caches nothing, and batch-mode reads never keep a file open)
    if (this.#takenCached) this.#fds.delete(path);
    // A failed close after a read does not change the bytes read, which are verified anyway.
    closeQuietly(this.#fs, fd);
  }

  /** A read on a descriptor from `take` threw: close it (and forget it), so a retry starts from a fresh open. */
  discard(path: string, fd: number): void {
    // Stryker disable next-line ConditionalExpression: equivalent where it survives (always deleting), a descriptor take opened afresh is not in the cache
    if (this.#takenCached) this.#fds.delete(path);
    closeQuietly(this.#fs, fd);
  }

  /** Close the descriptor of `path`, if one is open: before the file is removed, and for good. */
  forget(path: string): void {
    const fd = this.#fds.get(path);
    if (fd === undefined) return;
    this.#fds.delete(path);
    closeQuietly(this.#fs, fd);
  }

  #closeBeyond(openFilesMax: number): void {
    // Each pass closes one descriptor, so it runs at most as many times as there are open ones.
    for (const [path, fd] of this.#fds) {
      if (this.#fds.size <= openFilesMax) return;
      this.#fds.delete(path);
      closeQuietly(this.#fs, fd);
    }
  }
}
