import { badArgument, checkOptions, describeValue } from '../arguments.js';
import { Bytes } from '../bytes.js';
import { SpillsimError } from '../errors.js';
import type { BytesFetch, FetchResult, InspectableSpill, StorageStats } from '../spill.js';
import { type ChunkRecord, recordChunk, verifyChunk } from './chunk_integrity.js';
import { ReadFdCache } from './read_fd_cache.js';
import { checkSpillFs, closeQuietly, isFsError, type SpillFs } from './spill_fs.js';
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
  readonly #readFds: ReadFdCache;
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
    const file = this.#createBatchFile();
    if (file === undefined) return;
    const written = this.#writeBatch(file.fd, chunks);
    const closeError = closeQuietly(this.#fs, file.fd);
    const failure = written.error ?? closeError;
    if (failure !== undefined) this.#noteFailure('spill', failure);
    // A failed close may have lost buffered writes, so nothing in the file can be trusted.
    const keepCount = closeError !== undefined || (failure !== undefined && this.writeMode === 'all-or-nothing') ? 0 : fullyWrittenCount(chunks, written.writtenBytes);
    if (keepCount === 0) {
      this.#removeFile(file.path);
      return;
    }
    // Checksums are taken once, here, and only of what is kept: the half of the pair a fetch completes.
    const records: ChunkRecord[] = new Array<ChunkRecord>(keepCount);
    let offsetBytes = 0;
    for (let k = 0; k < keepCount; k += 1) {
      const data = chunks[k]!.data;
      records[k] = recordChunk(offsetBytes, data);
      offsetBytes += data.length;
    }
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
    for (const batch of this.#batches) this.#release(batch);
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

  #fetch(handle: StoredHandle, batch: Batch, index: number): FetchResult {
    if (this.#closed) throw storageClosedError(this.#name, `fetch ${handle.toString()}`);
    if (batch.fetched[index]) throw alreadyFetchedError(handle);
    const record = batch.records[index]!;
    let data: Uint8Array;
    try {
      data = this.readMode === 'chunk' ? this.#readRange(batch.path, record.offsetBytes, record.lengthBytes, true) : this.#readFromCache(batch, record);
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
      batch.cache = this.#readRange(batch.path, 0, batch.fileBytes, false);
      this.#cacheResidentBytes += batch.cache.length;
      this.#cacheResidentBytesPeak = Math.max(this.#cacheResidentBytesPeak, this.#cacheResidentBytes);
    }
    // A short file yields a short view here, which verifyChunk reports as truncation.
    return batch.cache.subarray(record.offsetBytes, record.offsetBytes + record.lengthBytes);
  }

  /**
   * Reads up to `lengthBytes` into a fresh allocation that becomes the chunk itself (no copy);
   * a shorter result means the file ended early. Throws what the fs throws.
   */
  #readRange(path: string, offsetBytes: number, lengthBytes: number, keepOpen: boolean): Uint8Array {
    // Not zero-filled: filling fresh memory cost more than the read itself here. Only the bytes
    // read are ever handed out (the result is cut to them, and verified), never the rest.
    const buffer = Buffer.allocUnsafeSlow(lengthBytes);
    let doneBytes = 0;
    try {
      this.#readFds.read(path, keepOpen, (fd) => {
        // Every pass reads at least one byte or ends the loop, so it runs at most lengthBytes times.
        while (doneBytes < lengthBytes) {
          const readBytes = this.#fs.readSync(fd, buffer, doneBytes, lengthBytes - doneBytes, offsetBytes + doneBytes);
          if (!(readBytes > 0)) break;
          doneBytes += readBytes;
        }
      });
    } finally {
      this.#readBytes += doneBytes;
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
   * failure: a failed call writes nothing (a partial write is a short count), so every byte
   * counted is in the file.
   */
  #writeBatch(fd: number, chunks: readonly Bytes[]): { writtenBytes: number; error: unknown } {
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
          const data = chunks[chunkIndex]!.data;
          passBytes = this.#fs.writeSync(fd, data, skipBytes, data.length - skipBytes, writtenBytes);
        }
      } catch (error) {
        return { writtenBytes, error };
      }
      if (!(passBytes > 0)) {
        return { writtenBytes, error: new SpillsimError('E_STORAGE', `write made no progress at byte ${writtenBytes} (returned ${String(passBytes)})`) };
      }
      writtenBytes += passBytes;
      this.#writtenBytes += passBytes;
    }
    return { writtenBytes, error: undefined };
  }

  #release(batch: Batch): void {
    if (batch.cache !== undefined) this.#cacheResidentBytes -= batch.cache.length;
    batch.cache = undefined;
    this.#batches.delete(batch);
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

/** How many chunks, from the front, lie wholly within the first `writtenBytes` bytes of the batch. */
function fullyWrittenCount(chunks: readonly Bytes[], writtenBytes: number): number {
  let endBytes = 0;
  for (let k = 0; k < chunks.length; k += 1) {
    endBytes += chunks[k]!.length;
    if (endBytes > writtenBytes) return k;
  }
  return chunks.length;
}

/** The views a `writevSync` pass writes: from chunk `from` (less its first `skipBytes`), at most IOVECS_PER_WRITE_MAX of them. */
function pendingViews(chunks: readonly Bytes[], from: number, skipBytes: number): Uint8Array[] {
  const count = Math.min(chunks.length - from, IOVECS_PER_WRITE_MAX);
  const views = new Array<Uint8Array>(count);
  for (let k = 0; k < count; k += 1) views[k] = chunks[from + k]!.data;
  if (skipBytes > 0) views[0] = views[0]!.subarray(skipBytes);
  return views;
}

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
