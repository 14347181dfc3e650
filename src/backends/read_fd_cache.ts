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
  // Map order is recency order: a hit is deleted and set again, so the first key is the eviction candidate.
  readonly #fds = new Map<string, number>();

  constructor(fs: SpillFs, openFilesMax: number) {
    this.#fs = fs;
    this.openFilesMax = openFilesMax;
  }

  /** Descriptors open right now. */
  get openFiles(): number {
    return this.#fds.size;
  }

  /**
   * Run `read` with a descriptor open for reading on `path` (cached, or opened now). With
   * `keepOpen` it stays cached afterwards; without, it is closed (a whole-file read needs it
   * only once). Throws what `openSync` or `read` throw.
   */
  read<T>(path: string, keepOpen: boolean, read: (fd: number) => T): T {
    let fd = this.#fds.get(path);
    if (fd === undefined) fd = this.#fs.openSync(path, 'r');
    else this.#fds.delete(path);
    let result: T;
    try {
      result = read(fd);
    } catch (error) {
      closeQuietly(this.#fs, fd);
      throw error;
    }
    if (keepOpen) {
      // With openFilesMax 0 this closes it again at once.
      this.#fds.set(path, fd);
      this.#closeBeyond(this.openFilesMax);
    } else {
      // A failed close after a read does not change the bytes read, which are verified anyway.
      closeQuietly(this.#fs, fd);
    }
    return result;
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
