import { Bytes } from '../bytes.js';
import { SpillsimError } from '../errors.js';
import type { BytesFetch, FetchResult, InspectableSpill, StorageStats } from '../spill.js';
import { type ChunkRecord, recordChunk, verifyChunk } from './chunk_integrity.js';
import { checkSpillFs, fsErrorCode, type SpillFs } from './spill_fs.js';
import { alreadyFetchedError, StoredHandle, storageClosedError } from './stored_handle.js';

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
}

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
}

/** One `spill` call's file and the chunks it kept. */
interface Batch {
  readonly path: string;
  readonly records: readonly ChunkRecord[];
  /** End of the last kept chunk: what a batch-mode read loads. */
  readonly fileBytes: number;
  readonly fetched: boolean[];
  unfetchedChunks: number;
  cache: Uint8Array | undefined;
}

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
  readonly #batches = new Set<Batch>();
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

  /** `name` is the class a user constructed, so messages name what they wrote. */
  constructor(name: string, options: BatchFileSpillOptions) {
    this.#name = name;
    if (options === null || typeof options !== 'object') {
      throw new SpillsimError('E_BAD_ARGUMENT', `${name} options must be an object, got ${String(options)}`);
    }
    this.#fs = checkSpillFs(options.fs, name);
    if (typeof options.dir !== 'string' || options.dir.length === 0) {
      throw new SpillsimError('E_BAD_ARGUMENT', `${name} needs a directory: pass { dir: '/path/for/spill/files' }`);
    }
    this.dir = options.dir.endsWith('/') && options.dir.length > 1 ? options.dir.slice(0, -1) : options.dir;
    this.readMode = checkChoice(name, 'readMode', options.readMode, ['chunk', 'batch']);
    this.writeMode = checkChoice(name, 'writeMode', options.writeMode, ['partial', 'all-or-nothing']);
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
    const file = this.#createBatchFile();
    if (file === undefined) return;
    const written = this.#writeChunks(file.fd, chunks);
    const closeError = this.#closeQuietly(file.fd);
    const failure = written.error ?? closeError;
    if (failure !== undefined) this.#noteFailure('spill', failure);
    // A failed close may have lost buffered writes, so nothing in the file can be trusted.
    const keepCount = closeError !== undefined || (failure !== undefined && this.writeMode === 'all-or-nothing') ? 0 : written.records.length;
    if (keepCount === 0) {
      this.#removeFile(file.path);
      return;
    }
    const records = written.records.slice(0, keepCount);
    const last = records[keepCount - 1]!;
    const batch: Batch = {
      path: file.path,
      records,
      fileBytes: last.offsetBytes + last.lengthBytes,
      fetched: new Array<boolean>(keepCount).fill(false),
      unfetchedChunks: keepCount,
      cache: undefined,
    };
    this.#batches.add(batch);
    this.#storedChunks += keepCount;
    this.#storedBytes += batch.fileBytes;
    const spilled = records.map(
      (record, index) => new StoredHandle(`${this.#name} ${file.path} chunk ${index} (${record.lengthBytes} bytes)`, (h) => this.#fetch(h, batch, index)),
    );
    chunks.splice(0, keepCount);
    handles.push(...spilled);
  }

  stats(): BatchFileStats {
    return {
      storedBytes: this.#storedBytes,
      storedChunks: this.#storedChunks,
      storedFiles: this.#batches.size + this.#orphanPaths.size,
      writtenBytes: this.#writtenBytes,
      readBytes: this.#readBytes,
      deliveredBytes: this.#deliveredBytes,
      cacheResidentBytes: this.#cacheResidentBytes,
      cacheResidentBytesPeak: this.#cacheResidentBytesPeak,
      spillFailures: this.#spillFailures,
      fetchFailures: this.#fetchFailures,
    };
  }

  /**
   * Remove every batch file still stored; handles not yet fetched then throw `E_STORAGE`.
   * Idempotent. Tries every file, then throws `E_STORAGE` if some could not be removed.
   */
  close(): void {
    this.#closed = true;
    for (const batch of this.#batches) this.#release(batch);
    const failedPaths: string[] = [];
    for (const path of [...this.#orphanPaths]) {
      try {
        this.#fs.unlinkSync(path);
        this.#orphanPaths.delete(path);
      } catch (error) {
        if (fsErrorCode(error) === 'ENOENT') this.#orphanPaths.delete(path);
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

  #fetch(handle: StoredHandle, batch: Batch, index: number): FetchResult {
    if (this.#closed) throw storageClosedError(this.#name, `fetch ${handle.toString()}`);
    if (batch.fetched[index]) throw alreadyFetchedError(handle);
    const record = batch.records[index]!;
    let data: Uint8Array;
    try {
      data = this.readMode === 'chunk' ? this.#readRange(batch.path, record.offsetBytes, record.lengthBytes) : this.#readFromCache(batch, record);
    } catch (error) {
      this.#noteFailure('fetch', error);
      return { ok: false, handle };
    }
    verifyChunk(batch.path, record, data);
    batch.fetched[index] = true;
    batch.unfetchedChunks -= 1;
    this.#storedChunks -= 1;
    this.#storedBytes -= record.lengthBytes;
    this.#deliveredBytes += record.lengthBytes;
    if (batch.unfetchedChunks === 0) this.#release(batch);
    return { ok: true, chunks: [new Bytes(data.buffer, data.byteOffset, data.byteLength)] };
  }

  /** The reference read: load the whole batch once, then hand each chunk out as a view of it. */
  #readFromCache(batch: Batch, record: ChunkRecord): Uint8Array {
    if (batch.cache === undefined) {
      batch.cache = this.#readRange(batch.path, 0, batch.fileBytes);
      this.#cacheResidentBytes += batch.cache.length;
      this.#cacheResidentBytesPeak = Math.max(this.#cacheResidentBytesPeak, this.#cacheResidentBytes);
    }
    // A short file yields a short view here, which verifyChunk reports as truncation.
    return batch.cache.subarray(record.offsetBytes, record.offsetBytes + record.lengthBytes);
  }

  /** Reads up to `lengthBytes`; a shorter result means the file ended early. Throws what the fs throws. */
  #readRange(path: string, offsetBytes: number, lengthBytes: number): Uint8Array {
    const buffer = new Uint8Array(lengthBytes);
    const fd = this.#fs.openSync(path, 'r');
    let doneBytes = 0;
    try {
      // Every pass reads at least one byte or ends the loop, so it runs at most lengthBytes times.
      while (doneBytes < lengthBytes) {
        const readBytes = this.#fs.readSync(fd, buffer, doneBytes, lengthBytes - doneBytes, offsetBytes + doneBytes);
        if (!(readBytes > 0)) break;
        doneBytes += readBytes;
      }
    } finally {
      this.#readBytes += doneBytes;
      // A failed close after a read does not change the bytes read, which are verified anyway.
      this.#closeQuietly(fd);
    }
    return buffer.subarray(0, doneBytes);
  }

  #createBatchFile(): { path: string; fd: number } | undefined {
    for (let attempt = 0; attempt < BATCH_NAME_ATTEMPTS_MAX; attempt += 1) {
      const path = `${this.dir}/batch-${this.#nextBatchSeq}.spill`;
      this.#nextBatchSeq += 1;
      try {
        return { path, fd: this.#fs.openSync(path, 'wx') };
      } catch (error) {
        if (fsErrorCode(error) === 'EEXIST') continue;
        this.#noteFailure('spill', error);
        return undefined;
      }
    }
    throw new SpillsimError(
      'E_STORAGE',
      `${this.#name} found ${BATCH_NAME_ATTEMPTS_MAX} batch file names in a row already taken in ${this.dir}; give it a directory of its own`,
    );
  }

  /** Writes chunks in order until one fails; returns the records of those fully written. */
  #writeChunks(fd: number, chunks: readonly Bytes[]): { records: ChunkRecord[]; error: unknown } {
    const records: ChunkRecord[] = [];
    let offsetBytes = 0;
    for (const chunk of chunks) {
      const data = chunk.data;
      try {
        this.#writeFully(fd, data, offsetBytes);
      } catch (error) {
        return { records, error };
      }
      records.push(recordChunk(offsetBytes, data));
      offsetBytes += data.length;
    }
    return { records, error: undefined };
  }

  #writeFully(fd: number, data: Uint8Array, positionBytes: number): void {
    // Every pass writes at least one byte or throws, so it runs at most data.length times.
    for (let doneBytes = 0; doneBytes < data.length; ) {
      const writtenBytes = this.#fs.writeSync(fd, data, doneBytes, data.length - doneBytes, positionBytes + doneBytes);
      if (!(writtenBytes > 0)) {
        throw new SpillsimError('E_STORAGE', `write made no progress at byte ${positionBytes + doneBytes} (returned ${String(writtenBytes)})`);
      }
      doneBytes += writtenBytes;
      this.#writtenBytes += writtenBytes;
    }
  }

  #release(batch: Batch): void {
    if (batch.cache !== undefined) this.#cacheResidentBytes -= batch.cache.length;
    batch.cache = undefined;
    this.#batches.delete(batch);
    this.#removeFile(batch.path);
  }

  #removeFile(path: string): void {
    try {
      this.#fs.unlinkSync(path);
    } catch (error) {
      if (fsErrorCode(error) === 'ENOENT') return;
      this.#noteFailure('remove', error);
      this.#orphanPaths.add(path);
    }
  }

  #closeQuietly(fd: number): unknown {
    try {
      this.#fs.closeSync(fd);
      return undefined;
    } catch (error) {
      return error;
    }
  }

  #noteFailure(during: 'spill' | 'fetch' | 'remove', error: unknown): void {
    this.#lastError = error;
    if (during === 'spill') this.#spillFailures += 1;
    if (during === 'fetch') this.#fetchFailures += 1;
  }
}

function checkChoice<T extends string>(owner: string, name: string, value: unknown, choices: readonly [T, ...T[]]): T {
  if (value === undefined) return choices[0];
  if (typeof value === 'string' && (choices as readonly string[]).includes(value)) return value as T;
  throw new SpillsimError('E_BAD_KNOB', `${owner} option ${name} must be ${choices.map((c) => `'${c}'`).join(' or ')}, got ${JSON.stringify(value) ?? String(value)}`);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
