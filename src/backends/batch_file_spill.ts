import { badArgument, checkOptions, describeValue } from '../arguments.js';
import { Bytes } from '../bytes.js';
import { SpillsimError } from '../errors.js';
import type { BytesFetch, FetchResult, InspectableSpill, StorageStats } from '../spill.js';
import { crc32Of, verifyChunkAt } from './chunk_integrity.js';
import { ReadFdCache } from './read_fd_cache.js';
import { checkSpillFs, closeQuietly, isFsError, type SpillFs } from './spill_fs.js';
import { alreadyFetchedError, storageClosedError } from './stored_handle.js';

/**
 * How a fetch reads its chunk back.
 * - `'chunk'` (default): read just this chunk, at its offset.
 * - `'batch'` (the reference): the first fetch of any chunk of a batch reads the whole file;
 *   later fetches of the same batch are served from that copy. It costs more resident memory
 *   than the prefetch budget asked for, which is why it is not the default.
 */
export type ReadMode = 'chunk' | 'batch';

/**
 * What a spill keeps when a write fails partway.
 * - `'partial'` (default): drain exactly the chunks fully written before the failure.
 * - `'all-or-nothing'` (the reference): drain nothing; every chunk stays resident.
 */
export type WriteMode = 'partial' | 'all-or-nothing';

export interface BatchFileSpillOptions {
  /** The file operations to use: `node:fs`, a memfs `Volume`, or a copy with faults injected. */
  fs: SpillFs;
  /** Where batch files go; created if missing. */
  dir: string;
  /** Default `'chunk'`. */
  readMode?: ReadMode;
  /** Default `'partial'`. */
  writeMode?: WriteMode;
  /**
   * Default 64. How many batch files chunk-mode fetches keep open for reading between fetches
   * (least recently used closed first); 0 opens and closes the file at every fetch.
   */
  openReadFilesMax?: number;
}

const OPEN_READ_FILES_MAX_DEFAULT = 64;

/** Linux's IOV_MAX: a longer batch is written in several `writevSync` calls. */
const IOVECS_PER_WRITE_MAX = 1024;

/** What a batch-file backend holds, plus the counters a benchmark compares read modes by. */
export interface BatchFileStats extends StorageStats {
  /** Batch files on storage (including any whose removal failed and awaits `close()`). */
  storedFiles: number;
  /** Bytes written to batch files. */
  writtenBytes: number;
  /** Bytes read back from storage; divided by `deliveredBytes`, the read amplification. */
  readBytes: number;
  /** Bytes handed back by successful fetches. */
  deliveredBytes: number;
  /** Bytes held right now by batch-mode whole-file copies (always 0 in chunk mode). */
  cacheResidentBytes: number;
  /** The most `cacheResidentBytes` has been. */
  cacheResidentBytesPeak: number;
  /** Spills that hit a storage error (they drained a prefix, or nothing). */
  spillFailures: number;
  /** Fetches that hit a storage error and returned their handle for a retry. */
  fetchFailures: number;
  /** Batch files held open for reading right now (at most `openReadFilesMax`). */
  openReadFiles: number;
}

/** One `spill` call's file and the chunks it kept. */
interface Batch {
  /** The backend's name, for the handles' labels. */
  readonly owner: string;
  /** How the backend fetches a handle of this batch (one function per backend, not a closure per chunk). */
  readonly fetchFrom: (handle: BatchChunkHandle) => FetchResult;
  readonly path: string;
  /** Chunk k lies at `[offsets[k], offsets[k + 1])` of the file; the last offset is the end of the last kept chunk (what a batch-mode read loads). */
  readonly offsets: number[];
  /** Chunk k's crc32, taken when it was spilled. */
  readonly crcs: number[];
  unfetchedChunks: number;
  cache: Uint8Array | undefined;
  /** The stored batches are a list in spill order (a `Set` made and shrank tables as they came and went). */
  previous: Batch | undefined;
  next: Batch | undefined;
}

/**
 * The handle of one chunk of a batch: which batch, which chunk, and whether it was fetched.
 * Its label is made only when asked for (a trace, an error), not per chunk spilled.
 */
class BatchChunkHandle implements BytesFetch {
  readonly batch: Batch;
  readonly index: number;
  fetched = false;

  constructor(batch: Batch, index: number) {
    this.batch = batch;
    this.index = index;
  }

  fetch(): FetchResult {
    return this.batch.fetchFrom(this);
  }

  /** What a person reads in a trace or a shrunk counterexample. */
  toString(): string {
    const { owner, path, offsets } = this.batch;
    return `${owner} ${path} chunk ${this.index} (${offsets[this.index + 1]! - offsets[this.index]!} bytes)`;
  }
}

/**
 * Chunk-mode reads of chunks up to this long go into a shared slab (each followed by a byte of
 * gap, so that no two are adjacent and the queue merges them with nothing, exactly as separate
 * allocations); longer ones get an allocation of their own. Like node's own `Buffer` pool, a
 * chunk kept by its consumer keeps its slab alive.
 */
const SLAB_CHUNK_BYTES_MAX = 2 * 1024;
const SLAB_BYTES_FIRST = 4 * 1024;
const SLAB_BYTES = 32 * 1024;

/** Batch files are created exclusively; this bounds the search for a free name in a shared dir. */
const BATCH_NAME_ATTEMPTS_MAX = 1024;

/**
 * The engine behind `FileSpill` and `MemfsSpill`: one file per `spill` call, chunks written
 * in order, one handle per chunk, the file removed once every handle of it has been fetched.
 *
 * Storage errors follow the `BytesSpill` contract instead of escaping: a failed write drains a
 * prefix (or nothing), a failed read hands the handle back for a retry. Bytes that come back
 * different from what was spilled are not a storage error but corruption, thrown as `E_STORAGE`.
 */
export class BatchFileSpill implements InspectableSpill, Disposable {
  readonly dir: string;
  readonly readMode: ReadMode;
  readonly writeMode: WriteMode;
  readonly #name: string;
  readonly #fs: SpillFs;
  readonly #readFds: ReadFdCache;
  /** The batches stored, oldest first, linked through their `previous` and `next`. */
  #firstBatch: Batch | undefined = undefined;
  #lastBatch: Batch | undefined = undefined;
  #batchCount = 0;
  // Files whose unlink failed: nothing refers to them any more, but close() must still remove them.
  readonly #orphanPaths = new Set<string>();
  #nextBatchSeq = 0;
  #closed = false;
  #lastError: unknown = undefined;
  #storedBytes = 0;
  #storedChunks = 0;
  #writtenBytes = 0;
  #readBytes = 0;
  #deliveredBytes = 0;
  #cacheResidentBytes = 0;
  #cacheResidentBytesPeak = 0;
  #spillFailures = 0;
  #fetchFailures = 0;
  /** The slab chunk-mode reads of short chunks go into, and its next free byte. */
  #slab: Uint8Array = EMPTY_SLAB;
  #slabAt = 0;
  /** The path `#createBatchFile` opened last. */
  #createdPath = '';
  /** What made the last `#writeBatch` stop short, or undefined when it wrote everything. */
  #writeError: unknown = undefined;
  /** Every handle of this backend fetches through this one function (no closure per chunk). */
  readonly #fetchFrom = (handle: BatchChunkHandle): FetchResult => this.#fetch(handle);

  /** `name` is the class a user constructed, so messages name what they wrote. */
  constructor(name: string, options: BatchFileSpillOptions) {
    if (typeof name !== 'string' || name.length === 0) {
      throw badArgument(`new BatchFileSpill(name, options) takes a name for messages (such as 'MyFsSpill') first, got ${describeValue(name)}`);
    }
    this.#name = name;
    options = checkOptions(name, options, ['fs', 'dir', 'readMode', 'writeMode', 'openReadFilesMax'], "{ fs, dir: '/path/for/spill/files' }");
    this.#fs = checkSpillFs(options.fs, name);
    if (typeof options.dir !== 'string' || options.dir.length === 0) {
      throw new SpillsimError('E_BAD_ARGUMENT', `${name} needs a directory: pass { dir: '/path/for/spill/files' }`);
    }
    this.dir = options.dir.endsWith('/') && options.dir.length > 1 ? options.dir.slice(0, -1) : options.dir;
    this.readMode = checkChoice(name, 'readMode', options.readMode, ['chunk', 'batch']);
    this.writeMode = checkChoice(name, 'writeMode', options.writeMode, ['partial', 'all-or-nothing']);
    this.#readFds = new ReadFdCache(this.#fs, checkCountKnob(name, 'openReadFilesMax', options.openReadFilesMax, OPEN_READ_FILES_MAX_DEFAULT));
    try {
      this.#fs.mkdirSync(this.dir, { recursive: true });
    } catch (error) {
      throw new SpillsimError('E_STORAGE', `${name} cannot create its directory ${this.dir}: ${describe(error)}`, { cause: error });
    }
  }

  /** The last storage error a spill or fetch absorbed (the contract turns them into partial results). */
  get lastError(): unknown {
    return this.#lastError;
  }

  spill(chunks: Bytes[], handles: BytesFetch[]): void {
    if (this.#closed) throw storageClosedError(this.#name, 'spill');
    if (chunks.length === 0) return;
    const fd = this.#createBatchFile();
    if (fd === undefined) return;
    const path = this.#createdPath;
    // One view per chunk, for the writes and the checksums both.
    const views = new Array<Uint8Array>(chunks.length);
    for (let k = 0; k < chunks.length; k += 1) views[k] = chunks[k]!.data;
    const writtenBytes = this.#writeBatch(fd, views);
    const closeError = closeQuietly(this.#fs, fd);
    const failure = this.#writeError ?? closeError;
    if (failure !== undefined) this.#noteFailure('spill', failure);
    // A failed close may have lost buffered writes, so nothing in the file can be trusted.
    const keepCount = closeError !== undefined || (failure !== undefined && this.writeMode === 'all-or-nothing') ? 0 : fullyWrittenCount(views, writtenBytes);
    if (keepCount === 0) {
      this.#removeFile(path);
      return;
    }
    // Checksums are taken once, here, and only of what is kept: the half of the pair a fetch completes.
    const offsets = new Array<number>(keepCount + 1);
    const crcs = new Array<number>(keepCount);
    let offsetBytes = 0;
    for (let k = 0; k < keepCount; k += 1) {
      const view = views[k]!;
      offsets[k] = offsetBytes;
      crcs[k] = crc32Of(view, 0, view.length);
      offsetBytes += view.length;
    }
    offsets[keepCount] = offsetBytes;
    const batch: Batch = { owner: this.#name, fetchFrom: this.#fetchFrom, path, offsets, crcs, unfetchedChunks: keepCount, cache: undefined, previous: this.#lastBatch, next: undefined };
    if (this.#lastBatch === undefined) this.#firstBatch = batch;
    else this.#lastBatch.next = batch;
    this.#lastBatch = batch;
    this.#batchCount += 1;
    this.#storedChunks += keepCount;
    this.#storedBytes += offsetBytes;
    drainFront(chunks, keepCount);
    for (let k = 0; k < keepCount; k += 1) handles.push(new BatchChunkHandle(batch, k));
  }

  stats(): BatchFileStats {
    return {
      storedBytes: this.#storedBytes,
      storedChunks: this.#storedChunks,
      storedFiles: this.#batchCount + this.#orphanPaths.size,
      writtenBytes: this.#writtenBytes,
      readBytes: this.#readBytes,
      deliveredBytes: this.#deliveredBytes,
      cacheResidentBytes: this.#cacheResidentBytes,
      cacheResidentBytesPeak: this.#cacheResidentBytesPeak,
      spillFailures: this.#spillFailures,
      fetchFailures: this.#fetchFailures,
      openReadFiles: this.#readFds.openFiles,
    };
  }

  /**
   * Remove every batch file still stored; handles not yet fetched then throw `E_STORAGE`.
   * Idempotent. Tries every file, then throws `E_STORAGE` if some could not be removed.
   */
  close(): void {
    this.#closed = true;
    // Every descriptor held open belongs to a batch still stored; releasing it closes that.
    for (let batch = this.#firstBatch; batch !== undefined; batch = this.#firstBatch) this.#release(batch);
    const failedPaths: string[] = [];
    for (const path of [...this.#orphanPaths]) {
      try {
        this.#fs.unlinkSync(path);
        this.#orphanPaths.delete(path);
      } catch (error) {
        if (isFsError(error, 'ENOENT')) this.#orphanPaths.delete(path);
        else failedPaths.push(path);
      }
    }
    this.#storedBytes = 0;
    this.#storedChunks = 0;
    if (failedPaths.length > 0) {
      throw new SpillsimError('E_STORAGE', `${this.#name} could not remove ${failedPaths.length} batch file(s), first ${failedPaths[0]}; remove them by hand`);
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #fetch(handle: BatchChunkHandle): FetchResult {
    if (this.#closed) throw storageClosedError(this.#name, `fetch ${handle.toString()}`);
    if (handle.fetched) throw alreadyFetchedError(handle);
    const batch = handle.batch;
    const index = handle.index;
    const offsetBytes = batch.offsets[index]!;
    const lengthBytes = batch.offsets[index + 1]! - offsetBytes;
    let buffer: Uint8Array;
    let at: number;
    let readBytes: number;
    try {
      if (this.readMode === 'chunk') {
        buffer = this.#readBuffer(lengthBytes);
        at = buffer === this.#slab ? this.#slabAt : 0;
        readBytes = this.#readRange(batch.path, buffer, at, offsetBytes, lengthBytes, true);
      } else {
        buffer = this.#loadCache(batch);
        at = offsetBytes;
        // A short file yields a short chunk here, which verifyChunkAt reports as truncation.
        readBytes = Math.max(0, Math.min(lengthBytes, buffer.length - offsetBytes));
      }
    } catch (error) {
      this.#noteFailure('fetch', error);
      return { ok: false, handle };
    }
    verifyChunkAt(batch.path, offsetBytes, lengthBytes, batch.crcs[index]!, buffer, at, readBytes);
    // Taken from the slab only once read and verified: a failed read leaves its room to the next.
    if (buffer === this.#slab) this.#slabAt = at + readBytes + 1;
    handle.fetched = true;
    batch.unfetchedChunks -= 1;
    this.#storedChunks -= 1;
    this.#storedBytes -= lengthBytes;
    this.#deliveredBytes += lengthBytes;
    if (batch.unfetchedChunks === 0) this.#release(batch);
    return { ok: true, chunks: [new Bytes(buffer.buffer, buffer.byteOffset + at, readBytes)] };
  }

  /**
   * Where a chunk-mode read of `lengthBytes` goes: the slab (a short chunk; a fresh slab when
   * this one lacks room for it and its byte of gap) or an allocation of its own, which becomes
   * the chunk itself (no copy). Not zero-filled: filling fresh memory cost more than the read
   * itself here. Only the bytes read are ever handed out (cut to them, and verified).
   */
  #readBuffer(lengthBytes: number): Uint8Array {
    if (lengthBytes > SLAB_CHUNK_BYTES_MAX) return Buffer.allocUnsafeSlow(lengthBytes);
    if (this.#slabAt + lengthBytes + 1 > this.#slab.length) {
      // The first slab is small (a backend may fetch little); each next one twice the last, up to SLAB_BYTES.
      this.#slab = Buffer.allocUnsafeSlow(Math.min(SLAB_BYTES, Math.max(SLAB_BYTES_FIRST, 2 * this.#slab.length)));
      this.#slabAt = 0;
    }
    return this.#slab;
  }

  /** The reference read: load the whole batch once (each chunk is then a view of it). Throws what the fs throws. */
  #loadCache(batch: Batch): Uint8Array {
    if (batch.cache !== undefined) return batch.cache;
    const fileBytes = batch.offsets[batch.offsets.length - 1]!;
    const buffer = Buffer.allocUnsafeSlow(fileBytes);
    const cache = buffer.subarray(0, this.#readRange(batch.path, buffer, 0, 0, fileBytes, false));
    batch.cache = cache;
    this.#cacheResidentBytes += cache.length;
    this.#cacheResidentBytesPeak = Math.max(this.#cacheResidentBytesPeak, this.#cacheResidentBytes);
    return cache;
  }

  /**
   * Read up to `lengthBytes` from `offsetBytes` of the file into `buffer` at `at`; returns how
   * many were read (fewer: the file ended early). Throws what the fs throws.
   */
  #readRange(path: string, buffer: Uint8Array, at: number, offsetBytes: number, lengthBytes: number, keepOpen: boolean): number {
    let doneBytes = 0;
    const fd = this.#readFds.take(path);
    try {
      // Every pass reads at least one byte or ends the loop, so it runs at most lengthBytes times.
      while (doneBytes < lengthBytes) {
        const readBytes = this.#fs.readSync(fd, buffer, at + doneBytes, lengthBytes - doneBytes, offsetBytes + doneBytes);
        if (!(readBytes > 0)) break;
        doneBytes += readBytes;
      }
    } catch (error) {
      this.#readFds.discard(path, fd);
      throw error;
    } finally {
      this.#readBytes += doneBytes;
    }
    this.#readFds.give(path, fd, keepOpen);
    return doneBytes;
  }

  /** A new batch file open for writing: its descriptor (its path in `#createdPath`), or undefined when the fs refused. */
  #createBatchFile(): number | undefined {
    for (let attempt = 0; attempt < BATCH_NAME_ATTEMPTS_MAX; attempt += 1) {
      const path = `${this.dir}/batch-${this.#nextBatchSeq}.spill`;
      this.#nextBatchSeq += 1;
      try {
        const fd = this.#fs.openSync(path, 'wx');
        this.#createdPath = path;
        return fd;
      } catch (error) {
        if (isFsError(error, 'EEXIST')) continue;
        this.#noteFailure('spill', error);
        return undefined;
      }
    }
    throw new SpillsimError(
      'E_STORAGE',
      `${this.#name} found ${BATCH_NAME_ATTEMPTS_MAX} batch file names in a row already taken in ${this.dir}; give it a directory of its own`,
    );
  }

  /**
   * Write the chunks back to back from offset 0, one `writevSync` per batch when the fs has it,
   * one `writeSync` per chunk otherwise. Returns how many bytes were written before the first
   * failure (which it leaves in `#writeError`): a failed call writes nothing (a partial write is
   * a short count), so every byte counted is in the file.
   */
  #writeBatch(fd: number, chunks: readonly Uint8Array[]): number {
    this.#writeError = undefined;
    let totalBytes = 0;
    for (const chunk of chunks) totalBytes += chunk.length;
    let writtenBytes = 0;
    let chunkIndex = 0;
    let chunkStartBytes = 0;
    // Every pass writes at least one byte or returns, so it runs at most totalBytes times.
    while (writtenBytes < totalBytes) {
      // Step past chunks fully written; one not fully written exists, since writtenBytes < totalBytes.
      while (chunkStartBytes + chunks[chunkIndex]!.length <= writtenBytes) {
        chunkStartBytes += chunks[chunkIndex]!.length;
        chunkIndex += 1;
      }
      const skipBytes = writtenBytes - chunkStartBytes;
      let passBytes: number;
      try {
        if (this.#fs.writevSync !== undefined) {
          passBytes = this.#fs.writevSync(fd, pendingViews(chunks, chunkIndex, skipBytes), writtenBytes);
        } else {
          const data = chunks[chunkIndex]!;
          passBytes = this.#fs.writeSync(fd, data, skipBytes, data.length - skipBytes, writtenBytes);
        }
      } catch (error) {
        this.#writeError = error;
        return writtenBytes;
      }
      if (!(passBytes > 0)) {
        this.#writeError = new SpillsimError('E_STORAGE', `write made no progress at byte ${writtenBytes} (returned ${String(passBytes)})`);
        return writtenBytes;
      }
      writtenBytes += passBytes;
      this.#writtenBytes += passBytes;
    }
    return writtenBytes;
  }

  #release(batch: Batch): void {
    if (batch.cache !== undefined) this.#cacheResidentBytes -= batch.cache.length;
    batch.cache = undefined;
    if (batch.previous === undefined) this.#firstBatch = batch.next;
    else batch.previous.next = batch.next;
    if (batch.next === undefined) this.#lastBatch = batch.previous;
    else batch.next.previous = batch.previous;
    this.#batchCount -= 1;
    // Closed before the unlink: some systems refuse to remove an open file.
    this.#readFds.forget(batch.path);
    this.#removeFile(batch.path);
  }

  #removeFile(path: string): void {
    try {
      this.#fs.unlinkSync(path);
    } catch (error) {
      if (isFsError(error, 'ENOENT')) return;
      this.#noteFailure('remove', error);
      this.#orphanPaths.add(path);
    }
  }

  #noteFailure(during: 'spill' | 'fetch' | 'remove', error: unknown): void {
    this.#lastError = error;
    if (during === 'spill') this.#spillFailures += 1;
    if (during === 'fetch') this.#fetchFailures += 1;
  }
}

/** Remove the first `count` of `chunks` in place (`splice` without the array of removed items it returns). */
function drainFront(chunks: Bytes[], count: number): void {
  for (let k = count; k < chunks.length; k += 1) chunks[k - count] = chunks[k]!;
  chunks.length -= count;
}

/** How many chunks, from the front, lie wholly within the first `writtenBytes` bytes of the batch. */
function fullyWrittenCount(chunks: readonly Uint8Array[], writtenBytes: number): number {
  let endBytes = 0;
  for (let k = 0; k < chunks.length; k += 1) {
    endBytes += chunks[k]!.length;
    if (endBytes > writtenBytes) return k;
  }
  return chunks.length;
}

/** The views a `writevSync` pass writes: from chunk `from` (less its first `skipBytes`), at most IOVECS_PER_WRITE_MAX of them. */
function pendingViews(views: readonly Uint8Array[], from: number, skipBytes: number): Uint8Array[] {
  const count = Math.min(views.length - from, IOVECS_PER_WRITE_MAX);
  // The usual first pass writes them all as they are.
  if (from === 0 && skipBytes === 0 && count === views.length) return views as Uint8Array[];
  const pending = views.slice(from, from + count);
  if (skipBytes > 0) pending[0] = pending[0]!.subarray(skipBytes);
  return pending;
}

const EMPTY_SLAB = new Uint8Array(0);

function checkCountKnob(owner: string, name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  throw new SpillsimError('E_BAD_KNOB', `${owner} option ${name} must be a non-negative whole number, got ${JSON.stringify(value) ?? String(value)}`);
}

function checkChoice<T extends string>(owner: string, name: string, value: unknown, choices: readonly [T, ...T[]]): T {
  if (value === undefined) return choices[0];
  if (typeof value === 'string' && (choices as readonly string[]).includes(value)) return value as T;
  throw new SpillsimError('E_BAD_KNOB', `${owner} option ${name} must be ${choices.map((c) => `'${c}'`).join(' or ')}, got ${JSON.stringify(value) ?? String(value)}`);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
