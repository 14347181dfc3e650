import * as nodeFs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import fc from 'fast-check';
import { Volume } from 'memfs';
import { afterEach, describe, expect, it } from 'vitest';
import { BatchFileSpill, type BatchFileStats, type ReadMode, type WriteMode } from '../src/backends/batch_file_spill.js';
import { crc32Of } from '../src/backends/chunk_integrity.js';
import { FileSpill } from '../src/backends/file_spill.js';
import { MemfsSpill } from '../src/backends/memfs_spill.js';
import { MemorySpill } from '../src/backends/memory_spill.js';
import type { SpillFs } from '../src/backends/spill_fs.js';
import { Buzzer } from '../src/buzzer.js';
import { Bytes } from '../src/bytes.js';
import { SpillsimError } from '../src/errors.js';
import { MergeQueue } from '../src/merge_queue.js';
import { PrefetchPolicy } from '../src/prefetch_policy.js';
import type { BytesFetch, FetchResult, InspectableSpill, StorageStats } from '../src/spill.js';
import { Threshold } from '../src/threshold.js';
import { propertySeeds } from './support/seeds.js';

// ---------------------------------------------------------------------------------------------
// Fault injection: a copy of an fs whose chosen calls (by 0-based index per method) throw EIO.

type FsMethod = 'openSync' | 'writeSync' | 'writevSync' | 'readSync' | 'closeSync' | 'unlinkSync';
type FailPlan = Partial<Record<FsMethod, (callIndex: number) => boolean>>;

/**
 * `writev` (when given) adds a `writevSync` that writes at most `bytesMaxPerCall` bytes per
 * call, so short writes happen where the test wants them; without it the copy has no
 * `writevSync` and the backend writes chunk by chunk with `writeSync`.
 */
interface WritevPlan {
  bytesMaxPerCall?: number;
}

function faultyFs(base: SpillFs, plan: FailPlan, writev?: WritevPlan): { fs: SpillFs; calls: Record<FsMethod, number>; log: string[] } {
  const calls: Record<FsMethod, number> = { openSync: 0, writeSync: 0, writevSync: 0, readSync: 0, closeSync: 0, unlinkSync: 0 };
  // Every call in order, with the fd or path it was made on, for tests of what is closed when.
  const log: string[] = [];
  function gate(method: FsMethod, on: number | string): void {
    const index = calls[method];
    calls[method] += 1;
    log.push(`${method} ${on}`);
    if (plan[method]?.(index) === true) throw Object.assign(new Error(`injected EIO in ${method} call ${index}`), { code: 'EIO' });
  }
  const fs: SpillFs = {
    openSync: (path, flags) => {
      gate('openSync', path);
      const fd = base.openSync(path, flags);
      log.push(`opened ${path} as ${fd} ${flags}`);
      return fd;
    },
    writeSync: (fd, buffer, offset, length, position) => (gate('writeSync', fd), base.writeSync(fd, buffer, offset, length, position)),
    readSync: (fd, buffer, offset, length, position) => (gate('readSync', fd), base.readSync(fd, buffer, offset, length, position)),
    closeSync: (fd) => (gate('closeSync', fd), base.closeSync(fd)),
    unlinkSync: (path) => (gate('unlinkSync', path), base.unlinkSync(path)),
    mkdirSync: (path, options) => base.mkdirSync(path, options),
  };
  if (writev !== undefined) {
    fs.writevSync = (fd, buffers, position) => {
      gate('writevSync', fd);
      return base.writevSync!(fd, firstBytes(buffers, writev.bytesMaxPerCall ?? Infinity), position);
    };
  }
  return { fs, calls, log };
}

/** The views covering the first `bytesMax` bytes of `buffers`. */
function firstBytes(buffers: Uint8Array[], bytesMax: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let leftBytes = bytesMax;
  for (const buffer of buffers) {
    if (leftBytes <= 0) break;
    out.push(buffer.length <= leftBytes ? buffer : buffer.subarray(0, leftBytes));
    leftBytes -= buffer.length;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The shared table: every case below runs for each backend it applies to.

interface BuildOptions {
  readMode?: ReadMode;
  writeMode?: WriteMode;
  openReadFilesMax?: number;
  /** Wrap the fs (so `calls` and `log` count its calls), failing the calls this plan names. */
  faults?: FailPlan;
  /** With `faults`: give the wrapped fs a `writevSync` too (see `faultyFs`). */
  writev?: WritevPlan;
}

interface Harness {
  spill: Omit<InspectableSpill, 'stats'> & { close(): void; stats(): StorageStats & Partial<BatchFileStats> };
  /** Batch files on storage; always [] for the memory backend. */
  files(): string[];
  /** Flip one byte of a batch file (file-based backends only). */
  flipByte(path: string, offsetBytes: number): void;
  /** Cut a batch file short (file-based backends only). */
  truncate(path: string, lengthBytes: number): void;
  /** Calls made so far through the wrapped fs (all 0 unless built with `faults`). */
  calls: Record<FsMethod, number>;
  /** Those calls in order (empty unless built with `faults`). */
  log: string[];
}

interface BackendCase {
  name: string;
  fileBased: boolean;
  build(options?: BuildOptions): Harness;
}

const tempDirs: string[] = [];
afterEach(() => {
  for (const dir of tempDirs.splice(0)) nodeFs.rmSync(dir, { recursive: true, force: true });
});

/** The file operations the tests use to look at and damage batch files behind a backend's back. */
interface InspectFs {
  readdirSync(path: string): unknown[];
  readFileSync(path: string): Uint8Array;
  writeFileSync(path: string, data: Uint8Array): void;
  truncateSync(path: string, lengthBytes: number): void;
}

/** A file-based case: `host` supplies a fresh fs and directory, and constructs the backend over them. */
function batchFileCase(
  name: string,
  host: () => {
    fs: SpillFs & InspectFs;
    dir: string;
    construct(options: { dir: string; readMode?: ReadMode; writeMode?: WriteMode; openReadFilesMax?: number; fs?: SpillFs }): BatchFileSpill;
  },
): BackendCase {
  return {
    name,
    fileBased: true,
    build({ readMode, writeMode, openReadFilesMax, faults, writev } = {}) {
      const { fs, dir, construct } = host();
      const wrapped = faults === undefined ? undefined : faultyFs(fs, faults, writev);
      const spill = construct({ dir, readMode, writeMode, openReadFilesMax, fs: wrapped?.fs });
      return {
        spill,
        calls: wrapped?.calls ?? faultyFs(fs, {}).calls,
        log: wrapped?.log ?? [],
        files: () => fs.readdirSync(dir).map((entry) => `${dir}/${String(entry)}`),
        flipByte: (path, offsetBytes) => {
          const data = fs.readFileSync(path);
          data[offsetBytes] = data[offsetBytes]! ^ 0xff;
          fs.writeFileSync(path, data);
        },
        truncate: (path, lengthBytes) => fs.truncateSync(path, lengthBytes),
      };
    },
  };
}

function fileCase(): BackendCase {
  return batchFileCase('FileSpill', () => {
    const dir = nodeFs.mkdtempSync(join(tmpdir(), 'spillsim-backends-'));
    tempDirs.push(dir);
    return { fs: nodeFs as SpillFs & InspectFs, dir, construct: (options) => new FileSpill(options) };
  });
}

function memfsCase(): BackendCase {
  return batchFileCase('MemfsSpill', () => {
    const volume = new Volume();
    return { fs: volume as unknown as SpillFs & InspectFs, dir: '/spill', construct: (options) => new MemfsSpill({ ...options, volume }) };
  });
}

function memoryCase(): BackendCase {
  return {
    name: 'MemorySpill',
    fileBased: false,
    build() {
      return {
        spill: new MemorySpill(),
        calls: faultyFs(nodeFs, {}).calls,
        log: [],
        files: () => [],
        flipByte: noFiles,
        truncate: noFiles,
      };
    },
  };
}

function noFiles(): never {
  throw new Error('MemorySpill has no files');
}

const ALL_CASES: BackendCase[] = [memoryCase(), fileCase(), memfsCase()];
const FILE_CASES = ALL_CASES.filter((c) => c.fileBased);
const READ_MODES: ReadMode[] = ['chunk', 'batch'];

// ---------------------------------------------------------------------------------------------
// Helpers.

/** A chunk in its own allocation whose bytes depend on (seq, position), so mix-ups show. */
function chunkOf(seq: number, lengthBytes: number): Bytes {
  const data = new Uint8Array(lengthBytes);
  for (let i = 0; i < lengthBytes; i += 1) data[i] = (seq * 31 + i * 7 + 1) & 0xff;
  return Bytes.from(data);
}

function chunksOf(lengthsBytes: readonly number[]): Bytes[] {
  return lengthsBytes.map((lengthBytes, seq) => chunkOf(seq, lengthBytes));
}

/** Copies of the chunks' contents, taken before spilling, to compare fetched bytes against. */
function contents(chunks: readonly Bytes[]): number[][] {
  return chunks.map((c) => Array.from(c.data));
}

function fetchOk(handle: BytesFetch): number[] {
  const result = handle.fetch();
  if (!result.ok) throw new Error(`fetch of ${String(handle)} failed: ${String((result as FetchResult & { ok: false }).handle)}`);
  expect(result.chunks).toHaveLength(1);
  return Array.from(result.chunks[0]!.data);
}

function storageError(run: () => unknown): SpillsimError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(SpillsimError);
    return error as SpillsimError;
  }
  throw new Error('expected a SpillsimError, nothing was thrown');
}

const LENGTHS = [64, 1, 300, 0, 128, 4096, 17, 0, 256];
const TOTAL_BYTES = LENGTHS.reduce((a, b) => a + b, 0);

// ---------------------------------------------------------------------------------------------

describe.each(ALL_CASES)('$name', (backend) => {
  it('round-trips many chunks: one handle per chunk, each fetch returns exactly that chunk', () => {
    const { spill } = backend.build();
    const lengths = Array.from({ length: 200 }, (_, i) => (i * 37) % 513);
    const chunks = chunksOf(lengths);
    const expected = contents(chunks);
    const handles: BytesFetch[] = [];
    spill.spill(chunks, handles);
    expect(chunks).toHaveLength(0);
    expect(handles).toHaveLength(200);
    expect(spill.stats()).toMatchObject({ storedChunks: 200, storedBytes: lengths.reduce((a, b) => a + b, 0) });
    // Out of order on purpose: a handle must not depend on its neighbours being fetched first.
    const order = handles.map((_, i) => (i * 7) % 200);
    for (const i of order) expect(fetchOk(handles[i]!)).toEqual(expected[i]);
  });

  it('keeps zero-length chunks as chunks of their own', () => {
    const { spill } = backend.build();
    const chunks = chunksOf([0, 5, 0, 0, 3, 0]);
    const expected = contents(chunks);
    const handles: BytesFetch[] = [];
    spill.spill(chunks, handles);
    expect(handles).toHaveLength(6);
    expect(handles.map(fetchOk)).toEqual(expected);
  });

  it('does nothing for an empty chunk list', () => {
    const harness = backend.build();
    const handles: BytesFetch[] = [];
    harness.spill.spill([], handles);
    expect(handles).toHaveLength(0);
    expect(harness.files()).toEqual([]);
    expect(harness.spill.stats()).toMatchObject({ storedBytes: 0, storedChunks: 0 });
  });

  it('releases storage once every handle has been fetched', () => {
    const harness = backend.build();
    const handles: BytesFetch[] = [];
    harness.spill.spill(chunksOf(LENGTHS), handles);
    harness.spill.spill(chunksOf([5, 6]), handles);
    expect(harness.spill.stats()).toMatchObject({ storedChunks: LENGTHS.length + 2, storedBytes: TOTAL_BYTES + 11 });
    if (backend.fileBased) expect(harness.files()).toHaveLength(2);
    fetchOk(handles.at(-1)!);
    fetchOk(handles.at(-2)!);
    // The second batch is fully fetched, the first not at all: exactly one file left.
    if (backend.fileBased) expect(harness.files()).toHaveLength(1);
    for (const handle of handles.slice(0, -2)) fetchOk(handle);
    expect(harness.spill.stats()).toMatchObject({ storedBytes: 0, storedChunks: 0 });
    expect(harness.files()).toEqual([]);
  });

  it('refuses a second fetch of the same handle', () => {
    const { spill } = backend.build();
    const handles: BytesFetch[] = [];
    spill.spill(chunksOf([8, 8]), handles);
    fetchOk(handles[0]!);
    const error = storageError(() => handles[0]!.fetch());
    expect(error.code).toBe('E_BACKEND_CONTRACT');
    expect(error.message).toMatch(/already fetched/);
    expect(fetchOk(handles[1]!)).toEqual(Array.from(chunkOf(1, 8).data));
  });

  it('close() removes what is still stored; later fetches and spills fail loudly', () => {
    const harness = backend.build();
    const handles: BytesFetch[] = [];
    harness.spill.spill(chunksOf([10, 20, 30]), handles);
    fetchOk(handles[0]!);
    harness.spill.close();
    expect(harness.files()).toEqual([]);
    expect(harness.spill.stats()).toMatchObject({ storedBytes: 0, storedChunks: 0 });
    expect(storageError(() => handles[1]!.fetch()).code).toBe('E_STORAGE');
    expect(storageError(() => harness.spill.spill(chunksOf([1]), [])).code).toBe('E_STORAGE');
    harness.spill.close();
  });

  it('every byte comes back in order through a MergeQueue with Threshold 512/128 and Prefetch 128', () => {
    const { spill } = backend.build();
    const sent = deliverThroughQueue(spill, Array.from({ length: 100 }, () => 64));
    expect(sent.spilledChunks).toBeGreaterThan(0);
    expect(spill.stats()).toMatchObject({ storedBytes: 0, storedChunks: 0 });
  });
});

// ---------------------------------------------------------------------------------------------

describe('MemorySpill', () => {
  it('copies each chunk: changing the source after the spill does not change what is fetched', () => {
    const spill = new MemorySpill();
    const source = new Uint8Array([1, 2, 3, 4]);
    const handles: BytesFetch[] = [];
    spill.spill([Bytes.from(source)], handles);
    source.fill(9);
    expect(fetchOk(handles[0]!)).toEqual([1, 2, 3, 4]);
  });

  it('stops partway when full, at every possible point, leaving both lists consistent', () => {
    for (let fitCount = 0; fitCount <= LENGTHS.length; fitCount += 1) {
      const capacityBytes = LENGTHS.slice(0, fitCount).reduce((a, b) => a + b, 0);
      const spill = new MemorySpill({ capacityBytes });
      checkPartialSpill(spill, LENGTHS, (drained) => {
        // Zero-length chunks right after the cut still fit.
        let expected = fitCount;
        while (expected < LENGTHS.length && LENGTHS[expected] === 0) expected += 1;
        expect(drained).toBe(expected);
      });
    }
  });

  it('rejects bad options with E_BAD_KNOB', () => {
    expect(storageError(() => new MemorySpill({ capacityBytes: -1 })).code).toBe('E_BAD_KNOB');
    expect(storageError(() => new MemorySpill({ capacityBytes: 1.5 })).code).toBe('E_BAD_KNOB');
    expect(new MemorySpill().capacityBytes).toBe(Infinity);
  });
});

// ---------------------------------------------------------------------------------------------

describe.each(FILE_CASES)('$name (file-based)', (backend) => {
  const writeCount = LENGTHS.filter((l) => l > 0).length;

  it('drains exactly the chunks written before a write failure, at every possible point', () => {
    for (let failAt = 0; failAt < writeCount; failAt += 1) {
      const harness = backend.build({ faults: { writeSync: (i) => i === failAt } });
      checkPartialSpill(harness.spill, LENGTHS, (drained) => {
        // The failing write belongs to the (failAt+1)-th non-empty chunk; everything before it was written.
        const nonEmptyIndices = LENGTHS.flatMap((l, i) => (l > 0 ? [i] : []));
        expect(drained).toBe(nonEmptyIndices[failAt]);
      });
      expect(harness.spill.stats().spillFailures).toBe(1);
      expect(harness.files()).toEqual([]);
    }
  });

  it("in writeMode 'all-or-nothing' (the reference) a write failure drains nothing and leaves no file", () => {
    for (let failAt = 0; failAt < writeCount; failAt += 1) {
      const harness = backend.build({ writeMode: 'all-or-nothing', faults: { writeSync: (i) => i === failAt } });
      checkPartialSpill(harness.spill, LENGTHS, (drained) => expect(drained).toBe(0));
      expect(harness.files()).toEqual([]);
    }
  });

  it('a failure to create the file or to close it after writing drains nothing', () => {
    for (const faults of [{ openSync: () => true }, { closeSync: (i: number) => i === 0 }] satisfies FailPlan[]) {
      const harness = backend.build({ faults });
      checkPartialSpill(harness.spill, LENGTHS, (drained) => expect(drained).toBe(0));
      expect(harness.files()).toEqual([]);
      expect(harness.spill.stats().spillFailures).toBe(1);
    }
  });

  describe.each(READ_MODES)("readMode '%s'", (readMode) => {
    it('a failed read returns the handle, and a retry succeeds', () => {
      let failReads = true;
      const harness = backend.build({ readMode, faults: { readSync: () => failReads } });
      const chunks = chunksOf(LENGTHS);
      const expected = contents(chunks);
      const handles: BytesFetch[] = [];
      harness.spill.spill(chunks, handles);
      const result = handles[2]!.fetch();
      expect(result.ok).toBe(false);
      const retry = (result as { ok: false; handle: BytesFetch }).handle;
      expect(harness.spill.stats()).toMatchObject({ fetchFailures: 1, storedChunks: LENGTHS.length, deliveredBytes: 0 });
      failReads = false;
      expect(fetchOk(retry)).toEqual(expected[2]);
      for (const [i, handle] of handles.entries()) if (i !== 2) expect(fetchOk(handle)).toEqual(expected[i]);
      expect(harness.files()).toEqual([]);
    });

    it('detects a flipped byte in the file and names file, offset and checksums', () => {
      const harness = backend.build({ readMode });
      const handles: BytesFetch[] = [];
      harness.spill.spill(chunksOf([100, 200, 300]), handles);
      const [path] = harness.files();
      harness.flipByte(path!, 100 + 50);
      expect(fetchOk(handles[0]!)).toEqual(Array.from(chunkOf(0, 100).data));
      const error = storageError(() => handles[1]!.fetch());
      expect(error.code).toBe('E_STORAGE');
      expect(error.message).toContain(path!);
      expect(error.message).toMatch(/offset 100\b.*expected crc32 0x[0-9a-f]{8}, actual 0x[0-9a-f]{8}/);
      expect(fetchOk(handles[2]!)).toEqual(Array.from(chunkOf(2, 300).data));
    });
  });

  it('detects a truncated file as E_STORAGE naming expected and read lengths', () => {
    const harness = backend.build();
    const handles: BytesFetch[] = [];
    harness.spill.spill(chunksOf([100, 200]), handles);
    const [path] = harness.files();
    harness.truncate(path!, 150);
    const error = storageError(() => handles[1]!.fetch());
    expect(error.code).toBe('E_STORAGE');
    expect(error.message).toMatch(/offset 100 is truncated: expected 200 bytes, read 50/);
  });

  it('a file whose removal failed is counted and removed by close()', () => {
    let failUnlink = true;
    const harness = backend.build({ faults: { unlinkSync: () => failUnlink } });
    const handles: BytesFetch[] = [];
    harness.spill.spill(chunksOf([10, 10]), handles);
    handles.forEach(fetchOk);
    expect(harness.spill.stats()).toMatchObject({ storedBytes: 0, storedChunks: 0, storedFiles: 1 });
    expect(harness.files()).toHaveLength(1);
    const error = storageError(() => harness.spill.close());
    expect(error.message).toMatch(/could not remove 1 batch file/);
    failUnlink = false;
    harness.spill.close();
    expect(harness.files()).toEqual([]);
    expect(harness.spill.stats().storedFiles).toBe(0);
  });

  it("readMode 'chunk' reads each chunk once at its offset: bytes read equal bytes delivered", () => {
    const harness = backend.build({ readMode: 'chunk' });
    const handles: BytesFetch[] = [];
    harness.spill.spill(chunksOf(LENGTHS), handles);
    fetchOk(handles[1]!);
    expect(harness.spill.stats()).toMatchObject({ readBytes: LENGTHS[1], deliveredBytes: LENGTHS[1], cacheResidentBytesPeak: 0 });
    for (const [i, handle] of handles.entries()) if (i !== 1) fetchOk(handle);
    expect(harness.spill.stats()).toMatchObject({ readBytes: TOTAL_BYTES, deliveredBytes: TOTAL_BYTES, writtenBytes: TOTAL_BYTES });
  });

  it("readMode 'batch' reads the whole file at the first fetch and holds it until the batch is done", () => {
    const harness = backend.build({ readMode: 'batch' });
    const chunks = chunksOf(LENGTHS);
    const expected = contents(chunks);
    const handles: BytesFetch[] = [];
    harness.spill.spill(chunks, handles);
    expect(fetchOk(handles[1]!)).toEqual(expected[1]);
    expect(harness.spill.stats()).toMatchObject({ readBytes: TOTAL_BYTES, deliveredBytes: LENGTHS[1], cacheResidentBytes: TOTAL_BYTES });
    for (const [i, handle] of handles.entries()) if (i !== 1) expect(fetchOk(handle)).toEqual(expected[i]);
    expect(harness.spill.stats()).toMatchObject({
      readBytes: TOTAL_BYTES,
      deliveredBytes: TOTAL_BYTES,
      cacheResidentBytes: 0,
      cacheResidentBytesPeak: TOTAL_BYTES,
    });
  });

  it('a handle fetched twice in batch mode is refused, even while the cache still holds its bytes', () => {
    const harness = backend.build({ readMode: 'batch' });
    const handles: BytesFetch[] = [];
    harness.spill.spill(chunksOf([4, 4, 4]), handles);
    fetchOk(handles[0]!);
    expect(storageError(() => handles[0]!.fetch()).code).toBe('E_BACKEND_CONTRACT');
  });

  it('validates its options', () => {
    const build = (options: object) => () => (backend.name === 'FileSpill' ? new FileSpill(options as never) : new MemfsSpill(options as never));
    expect(storageError(build({ dir: '/tmp/x', readMode: 'whole' })).code).toBe('E_BAD_KNOB');
    expect(storageError(build({ dir: '/tmp/x', writeMode: 'some' })).code).toBe('E_BAD_KNOB');
    expect(storageError(build({ dir: '/tmp/x', fs: { openSync() {} } })).message).toMatch(/lacks writeSync/);
    if (backend.name === 'FileSpill') expect(storageError(build({})).code).toBe('E_BAD_ARGUMENT');
  });

  it('keeps every byte in order through a MergeQueue while writes and reads fail at random', () => {
    // Summed over all runs, so the test fails if the faults never actually fired.
    const injected = { spillFailures: 0, fetchFailures: 0, spilledBytes: 0 };
    for (const seed of propertySeeds()) {
      fc.assert(
        fc.property(
          fc.array(fc.integer({ min: 0, max: 200 }), { minLength: 1, maxLength: 80 }),
          fc.array(fc.boolean(), { minLength: 1, maxLength: 16 }),
          fc.array(fc.boolean(), { minLength: 1, maxLength: 16 }),
          fc.constantFrom<ReadMode>('chunk', 'batch'),
          (lengths, writeFails, readFails, readMode) => {
            // Failure patterns repeat cyclically; a final run of successes guarantees progress.
            const fails = (pattern: boolean[]) => (i: number) => i < 400 && pattern[i % pattern.length] === true;
            const harness = backend.build({ readMode, faults: { writeSync: fails(writeFails), readSync: fails(readFails) } });
            deliverThroughQueue(harness.spill, lengths, { thresholdBytes: 256, headReserveBytes: 64, budgetBytes: 128 });
            const stats = harness.spill.stats() as ReturnType<BatchFileSpill['stats']>;
            expect(stats).toMatchObject({ storedBytes: 0, storedChunks: 0, cacheResidentBytes: 0 });
            expect(harness.files()).toEqual([]);
            injected.spillFailures += stats.spillFailures;
            injected.fetchFailures += stats.fetchFailures;
            injected.spilledBytes += stats.writtenBytes;
          },
        ),
        { seed, numRuns: backend.name === 'FileSpill' ? 15 : 40 },
      );
    }
    expect(injected.spillFailures).toBeGreaterThan(0);
    expect(injected.fetchFailures).toBeGreaterThan(0);
    expect(injected.spilledBytes).toBeGreaterThan(0);
  });
});

// ---------------------------------------------------------------------------------------------

describe.each(FILE_CASES)('$name: one writev per batch', (backend) => {
  const never: FailPlan = {};

  it('writes a batch with one writevSync call and no writeSync calls', () => {
    const harness = backend.build({ faults: never, writev: {} });
    const chunks = chunksOf(LENGTHS);
    const expected = contents(chunks);
    const handles: BytesFetch[] = [];
    harness.spill.spill(chunks, handles);
    expect(harness.calls).toMatchObject({ writevSync: 1, writeSync: 0 });
    expect(handles.map(fetchOk)).toEqual(expected);
  });

  it('continues after short writes, including ones that end inside a chunk', () => {
    for (const bytesMaxPerCall of [1, 50, 64, 65, 365, 4000]) {
      const harness = backend.build({ faults: never, writev: { bytesMaxPerCall } });
      checkPartialSpill(harness.spill, LENGTHS, (drained) => expect(drained).toBe(LENGTHS.length));
      expect(harness.calls.writevSync).toBe(Math.ceil(TOTAL_BYTES / bytesMaxPerCall));
      expect(harness.spill.stats()).toMatchObject({ writtenBytes: TOTAL_BYTES, spillFailures: 0 });
    }
  });

  it('a writev failing after short writes drains exactly the chunks fully written before it, at every point', () => {
    // Each call writes 37 bytes, so failures land inside chunks, on their edges and next to empty ones.
    const bytesMaxPerCall = 37;
    const callsNeeded = Math.ceil(TOTAL_BYTES / bytesMaxPerCall);
    const ends = LENGTHS.map((_, i) => LENGTHS.slice(0, i + 1).reduce((a, b) => a + b, 0));
    for (let failAt = 0; failAt < callsNeeded; failAt += 1) {
      const harness = backend.build({ faults: { writevSync: (i) => i === failAt }, writev: { bytesMaxPerCall } });
      const writtenBytes = failAt * bytesMaxPerCall;
      checkPartialSpill(harness.spill, LENGTHS, (drained) => {
        const fullyWritten = ends.findIndex((end) => end > writtenBytes);
        expect(drained).toBe(fullyWritten === -1 ? LENGTHS.length : fullyWritten);
      });
      expect(harness.spill.stats()).toMatchObject({ spillFailures: 1, writtenBytes });
      expect(harness.files()).toEqual([]);
    }
  });

  it("in writeMode 'all-or-nothing' a writev failing after short writes drains nothing", () => {
    const harness = backend.build({ writeMode: 'all-or-nothing', faults: { writevSync: (i) => i === 3 }, writev: { bytesMaxPerCall: 100 } });
    checkPartialSpill(harness.spill, LENGTHS, (drained) => expect(drained).toBe(0));
    expect(harness.files()).toEqual([]);
  });

  it('a writev that makes no progress is a failure, not a loop', () => {
    const harness = backend.build({ faults: never, writev: { bytesMaxPerCall: 0 } });
    checkPartialSpill(harness.spill, [0, 0, 5, 6], (drained) => expect(drained).toBe(2));
    expect(harness.calls.writevSync).toBe(1);
    expect(harness.spill.stats().spillFailures).toBe(1);
    expect(String((harness.spill as BatchFileSpill).lastError)).toMatch(/write made no progress at byte 0 \(returned 0\)/);
  });

  it('keeps every byte in order through a MergeQueue while writev calls write short or fail at random', () => {
    let spillFailures = 0;
    for (const seed of propertySeeds()) {
      fc.assert(
        fc.property(
          fc.array(fc.integer({ min: 0, max: 200 }), { minLength: 1, maxLength: 80 }),
          fc.array(fc.boolean(), { minLength: 1, maxLength: 16 }),
          fc.integer({ min: 1, max: 300 }),
          (lengths, writeFails, bytesMaxPerCall) => {
            const fails = (i: number) => i < 400 && writeFails[i % writeFails.length] === true;
            const harness = backend.build({ faults: { writevSync: fails }, writev: { bytesMaxPerCall } });
            deliverThroughQueue(harness.spill, lengths, { thresholdBytes: 256, headReserveBytes: 64, budgetBytes: 128 });
            expect(harness.spill.stats()).toMatchObject({ storedBytes: 0, storedChunks: 0, openReadFiles: 0 });
            expect(harness.files()).toEqual([]);
            spillFailures += harness.spill.stats().spillFailures ?? 0;
          },
        ),
        { seed, numRuns: backend.name === 'FileSpill' ? 15 : 40 },
      );
    }
    expect(spillFailures).toBeGreaterThan(0);
  });

  it('writes a batch of more chunks than one writev takes (1024) in several calls', () => {
    const harness = backend.build({ faults: never, writev: {} });
    const lengths = Array.from({ length: 2500 }, (_, i) => i % 7);
    const chunks = chunksOf(lengths);
    const expected = contents(chunks);
    const handles: BytesFetch[] = [];
    harness.spill.spill(chunks, handles);
    expect(harness.calls.writevSync).toBe(3);
    expect(handles.map(fetchOk)).toEqual(expected);
  });
});

describe.each(FILE_CASES)('$name: open read files', (backend) => {
  const never: FailPlan = {};
  /** The read opens so far: every open but the batch files' creation ('wx'). */
  const readOpens = (harness: Harness) => harness.log.filter((line) => line.startsWith('opened') && line.endsWith(' r')).length;

  it('opens a batch file once for all its chunk reads', () => {
    const harness = backend.build({ faults: never });
    const handles: BytesFetch[] = [];
    harness.spill.spill(chunksOf(LENGTHS), handles);
    for (const handle of handles.slice(0, -1)) fetchOk(handle);
    expect(readOpens(harness)).toBe(1);
    expect(harness.spill.stats().openReadFiles).toBe(1);
    fetchOk(handles.at(-1)!);
    // The last fetch released the batch: its descriptor closed, then the file removed.
    expect(harness.spill.stats().openReadFiles).toBe(0);
    expect(harness.calls.closeSync).toBe(2);
    expect(harness.files()).toEqual([]);
  });

  it('closes a batch file before removing it', () => {
    const harness = backend.build({ faults: never });
    const handles: BytesFetch[] = [];
    harness.spill.spill(chunksOf([3, 4]), handles);
    handles.forEach(fetchOk);
    const readFd = /^opened (\S+) as (\d+) r$/.exec(harness.log.find((line) => line.endsWith(' r'))!)!;
    const closeIndex = harness.log.lastIndexOf(`closeSync ${readFd[2]}`);
    expect(closeIndex).toBeGreaterThan(-1);
    expect(closeIndex).toBeLessThan(harness.log.indexOf(`unlinkSync ${readFd[1]}`));
  });

  it('keeps at most openReadFilesMax open, closing the least recently used first', () => {
    const harness = backend.build({ faults: never, openReadFilesMax: 2 });
    const batches = [0, 1, 2].map(() => {
      const handles: BytesFetch[] = [];
      // Four chunks each, so no batch in this test is fully fetched (which would close its file).
      harness.spill.spill(chunksOf([10, 20, 30, 40]), handles);
      return handles;
    });
    const [a, b, c] = batches as [BytesFetch[], BytesFetch[], BytesFetch[]];
    fetchOk(a[0]!);
    fetchOk(b[0]!);
    fetchOk(a[1]!); // a is now the most recently used, b the least
    expect(readOpens(harness)).toBe(2);
    fetchOk(c[0]!); // a third file: b is closed, a stays open
    expect(readOpens(harness)).toBe(3);
    expect(harness.spill.stats().openReadFiles).toBe(2);
    fetchOk(a[2]!);
    expect(readOpens(harness)).toBe(3);
    expect(fetchOk(b[1]!)).toEqual(Array.from(chunkOf(1, 20).data)); // b reopened, c evicted
    expect(readOpens(harness)).toBe(4);
    fetchOk(c[1]!);
    expect(readOpens(harness)).toBe(5);
    expect(harness.spill.stats().openReadFiles).toBeLessThanOrEqual(2);
  });

  it('openReadFilesMax 0 opens and closes the file at every fetch', () => {
    const harness = backend.build({ faults: never, openReadFilesMax: 0 });
    const handles: BytesFetch[] = [];
    harness.spill.spill(chunksOf(LENGTHS), handles);
    handles.forEach(fetchOk);
    expect(readOpens(harness)).toBe(LENGTHS.length);
    expect(harness.calls.closeSync).toBe(harness.calls.openSync);
  });

  it('close() closes every file it holds open', () => {
    const harness = backend.build({ faults: never });
    for (let k = 0; k < 3; k += 1) {
      const handles: BytesFetch[] = [];
      harness.spill.spill(chunksOf([5, 5]), handles);
      fetchOk(handles[0]!);
    }
    expect(harness.spill.stats().openReadFiles).toBe(3);
    harness.spill.close();
    expect(harness.spill.stats().openReadFiles).toBe(0);
    expect(harness.calls.closeSync).toBe(harness.calls.openSync);
    expect(harness.files()).toEqual([]);
  });

  it('a failed read closes its file, and the retry opens it again', () => {
    const harness = backend.build({ faults: { readSync: (i) => i === 1 } });
    const handles: BytesFetch[] = [];
    harness.spill.spill(chunksOf([8, 9, 10]), handles);
    fetchOk(handles[0]!);
    const failed = handles[1]!.fetch();
    expect(failed.ok).toBe(false);
    expect(harness.spill.stats()).toMatchObject({ openReadFiles: 0, fetchFailures: 1 });
    expect(harness.calls.closeSync).toBe(harness.calls.openSync);
    expect(fetchOk((failed as { ok: false; handle: BytesFetch }).handle)).toEqual(Array.from(chunkOf(1, 9).data));
    expect(readOpens(harness)).toBe(2);
    expect(fetchOk(handles[2]!)).toEqual(Array.from(chunkOf(2, 10).data));
  });

  it('counts and removes its stored files whatever order batches are released in', () => {
    const harness = backend.build({ faults: never });
    const spillBatch = (): BytesFetch[] => {
      const handles: BytesFetch[] = [];
      harness.spill.spill(chunksOf([3, 4]), handles);
      return handles;
    };
    const batches = [spillBatch(), spillBatch(), spillBatch(), spillBatch()];
    const release = (handles: BytesFetch[]) => handles.forEach(fetchOk);
    expect(harness.spill.stats().storedFiles).toBe(4);
    release(batches[1]!); // from the middle
    release(batches[0]!); // the oldest
    release(batches[3]!); // the newest
    expect(harness.spill.stats().storedFiles).toBe(1);
    expect(harness.files()).toHaveLength(1);
    const later = [spillBatch(), spillBatch()];
    release(later[1]!);
    expect(harness.spill.stats().storedFiles).toBe(2);
    fetchOk(batches[2]![0]!);
    harness.spill.close();
    expect(harness.spill.stats().storedFiles).toBe(0);
    expect(harness.files()).toEqual([]);
    expect(() => later[0]![0]!.fetch()).toThrow(/was closed/);
  });

  /** The descriptors open right now through the wrapped fs, by path: replayed from its call log, not asked of the backend. */
  const openFds = (harness: Harness): Map<number, string> => {
    const open = new Map<number, string>();
    for (const line of harness.log) {
      const opened = /^opened (\S+) as (\d+) /.exec(line);
      if (opened !== null) open.set(Number(opened[2]), opened[1]!);
      const closed = /^closeSync (\d+)$/.exec(line);
      if (closed !== null) open.delete(Number(closed[1]));
    }
    return open;
  };

  it('the fs sees at most openReadFilesMax descriptors open, the least recently used closed first, and none after close()', () => {
    const harness = backend.build({ faults: never, openReadFilesMax: 2 });
    const batches = [0, 1, 2, 3].map(() => {
      const handles: BytesFetch[] = [];
      harness.spill.spill(chunksOf([10, 20, 30, 40]), handles);
      return handles;
    });
    // Writing closed every file it created.
    expect(openFds(harness).size).toBe(0);
    const paths = batches.map((_, b) => harness.log.filter((line) => line.endsWith(' wx')).map((line) => line.split(' ')[1]!)[b]!);
    const fetchOrder = [[0, 0], [0, 1], [1, 0], [0, 2], [2, 0], [3, 0], [2, 1], [1, 1]] as const;
    // The least recently used is closed: after [2,0] batch 1 goes (0 was used after it), after [3,0] batch 0.
    const openAfter = [[0], [0], [0, 1], [0, 1], [0, 2], [2, 3], [2, 3], [1, 2]];
    fetchOrder.forEach(([b, k], step) => {
      expect(fetchOk(batches[b]![k]!)).toEqual(Array.from(chunkOf(k, [10, 20, 30, 40][k]!).data));
      const open = [...openFds(harness).values()].sort();
      expect(open, `after fetch ${step}`).toEqual(openAfter[step]!.map((i) => paths[i]!).sort());
      expect(harness.spill.stats().openReadFiles).toBe(open.length);
    });
    // One open per stay in the cache: batch 0 once, 1 twice (evicted between), 2 once, 3 once.
    expect(readOpens(harness)).toBe(5);
    harness.spill.close();
    expect(openFds(harness).size).toBe(0);
    expect(harness.files()).toEqual([]);
  });

  it('openReadFilesMax 0: the fs sees each fetch open and close its file, and nothing stays open', () => {
    const harness = backend.build({ faults: never, openReadFilesMax: 0 });
    const handles: BytesFetch[] = [];
    harness.spill.spill(chunksOf([5, 6, 7]), handles);
    for (const [k, handle] of handles.entries()) {
      fetchOk(handle);
      expect(readOpens(harness)).toBe(k + 1);
      expect(openFds(harness).size).toBe(0);
    }
  });

  it('a failed read: the fs sees its descriptor closed at once, and the retry open a new one that stays', () => {
    const harness = backend.build({ faults: { readSync: (i) => i === 1 } });
    const handles: BytesFetch[] = [];
    harness.spill.spill(chunksOf([8, 9, 10]), handles);
    fetchOk(handles[0]!);
    expect(openFds(harness).size).toBe(1);
    const failed = handles[1]!.fetch() as { ok: false; handle: BytesFetch };
    expect(failed.ok).toBe(false);
    expect(openFds(harness).size).toBe(0);
    fetchOk(failed.handle);
    expect(readOpens(harness)).toBe(2);
    expect(openFds(harness).size).toBe(1);
    fetchOk(handles[2]!);
    // The last chunk released the batch: its descriptor is closed before the file is removed.
    expect(openFds(harness).size).toBe(0);
    expect(readOpens(harness)).toBe(2);
  });

  it("readMode 'batch' does not keep files open", () => {
    const harness = backend.build({ readMode: 'batch', faults: never });
    const handles: BytesFetch[] = [];
    harness.spill.spill(chunksOf(LENGTHS), handles);
    fetchOk(handles[0]!);
    expect(harness.spill.stats().openReadFiles).toBe(0);
    expect(harness.calls.closeSync).toBe(harness.calls.openSync);
  });

  it('rejects a bad openReadFilesMax with E_BAD_KNOB', () => {
    for (const openReadFilesMax of [-1, 1.5, Number.NaN]) {
      expect(storageError(() => backend.build({ openReadFilesMax })).code).toBe('E_BAD_KNOB');
    }
  });
});

/** Spill `lengths` and check the contract: a drained prefix, the exact suffix left, one handle per drained chunk. */
function checkPartialSpill(spill: InspectableSpill, lengths: readonly number[], checkDrained: (drained: number) => void): void {
  const chunks = chunksOf(lengths);
  const offered = chunks.slice();
  const expected = contents(chunks);
  const handles: BytesFetch[] = [];
  spill.spill(chunks, handles);
  const drained = offered.length - chunks.length;
  checkDrained(drained);
  expect(handles).toHaveLength(drained);
  for (let k = 0; k < chunks.length; k += 1) expect(chunks[k]).toBe(offered[drained + k]);
  expect(spill.stats()).toMatchObject({ storedChunks: drained, storedBytes: lengths.slice(0, drained).reduce((a, b) => a + b, 0) });
  expect(handles.map(fetchOk)).toEqual(expected.slice(0, drained));
}

interface QueueKnobs {
  thresholdBytes: number;
  headReserveBytes: number;
  budgetBytes: number;
}

/**
 * Push one chunk per `lengths` entry through a writer with Threshold and a reader with
 * PrefetchPolicy, reading now and then, and check the reader gets every byte in order.
 */
function deliverThroughQueue(
  spill: InspectableSpill,
  lengths: readonly number[],
  knobs: QueueKnobs = { thresholdBytes: 512, headReserveBytes: 128, budgetBytes: 128 },
): { spilledChunks: number } {
  const threshold = new Threshold(spill, { thresholdBytes: knobs.thresholdBytes, headReserveBytes: knobs.headReserveBytes });
  const [writer, reader] = MergeQueue.newPair(new Buzzer(), threshold, new PrefetchPolicy(knobs.budgetBytes));
  const sent: number[] = [];
  const received: number[] = [];
  const drainOnce = () => {
    const out: Bytes[] = [];
    reader.drainInto(out);
    for (const bytes of out) received.push(...bytes.data);
  };
  let spilledChunks = 0;
  for (const [seq, lengthBytes] of lengths.entries()) {
    const chunk = chunkOf(seq, lengthBytes);
    sent.push(...chunk.data);
    writer.extend([chunk]);
    spilledChunks = Math.max(spilledChunks, writer.deque.pagedCount);
    if (seq % 16 === 15) drainOnce();
  }
  writer.drop();
  // Each round either delivers bytes or retries a failed fetch; the injected failures stop after 400 calls.
  const roundsMax = 10_000;
  let rounds = 0;
  while (!reader.isComplete()) {
    rounds += 1;
    if (rounds > roundsMax) throw new Error(`reader not complete after ${roundsMax} rounds: ${received.length} of ${sent.length} bytes`);
    drainOnce();
  }
  reader.drop();
  expect(received.length).toBe(sent.length);
  expect(Buffer.from(received).equals(Buffer.from(sent))).toBe(true);
  return { spilledChunks };
}

// ---------------------------------------------------------------------------------------------
// Batch-file details the shared table does not reach (on memfs: fast and hermetic).

describe('BatchFileSpill: names, write paths, counters and options', () => {
  const spillAll = (spill: BatchFileSpill, lengths: number[]): { handles: BytesFetch[]; expected: number[][]; left: number } => {
    const chunks = chunksOf(lengths);
    const expected = contents(chunks);
    const handles: BytesFetch[] = [];
    spill.spill(chunks, handles);
    return { handles, expected, left: chunks.length };
  };

  it('skips batch file names already taken in its directory, and leaves those files alone', () => {
    const volume = new Volume();
    volume.mkdirSync('/spill', { recursive: true });
    volume.writeFileSync('/spill/batch-0.spill', 'not ours');
    volume.writeFileSync('/spill/batch-1.spill', 'not ours either');
    const spill = new MemfsSpill({ volume });
    const { handles, expected } = spillAll(spill, [5, 6]);
    expect(volume.readdirSync('/spill').map(String).sort()).toEqual(['batch-0.spill', 'batch-1.spill', 'batch-2.spill']);
    expect(spill.stats()).toMatchObject({ storedFiles: 1, spillFailures: 0 });
    expect(handles.map(fetchOk)).toEqual(expected);
    expect(String(volume.readFileSync('/spill/batch-0.spill'))).toBe('not ours');
    expect(volume.readdirSync('/spill').map(String).sort()).toEqual(['batch-0.spill', 'batch-1.spill']);
    // The next batch goes on from where the search stopped.
    spillAll(spill, [1]);
    expect(volume.readdirSync('/spill').map(String).sort()).toEqual(['batch-0.spill', 'batch-1.spill', 'batch-3.spill']);
  });

  it('gives up with E_STORAGE after 1024 taken names in a row, draining nothing', () => {
    const volume = new Volume();
    volume.mkdirSync('/crowded', { recursive: true });
    for (let i = 0; i < 1024; i += 1) volume.writeFileSync(`/crowded/batch-${i}.spill`, '');
    const spill = new MemfsSpill({ volume, dir: '/crowded' });
    const chunks = chunksOf([3]);
    const handles: BytesFetch[] = [];
    const error = storageError(() => spill.spill(chunks, handles));
    expect(error.code).toBe('E_STORAGE');
    expect(error.message).toBe('MemfsSpill found 1024 batch file names in a row already taken in /crowded; give it a directory of its own');
    expect([chunks.length, handles.length]).toEqual([1, 0]);
    // One more free name after them is found by the next spill.
    expect(spillAll(spill, [4]).left).toBe(0);
    expect(volume.existsSync('/crowded/batch-1024.spill')).toBe(true);
  });

  it('an open failure other than EEXIST is a failed spill, not a search for another name', () => {
    const volume = new Volume();
    let opens = 0;
    const fs: SpillFs = { ...(volume as unknown as SpillFs), openSync: () => { opens += 1; throw Object.assign(new Error('no space'), { code: 'ENOSPC' }); } };
    const spill = new MemfsSpill({ volume, fs });
    expect(spillAll(spill, [3, 4]).left).toBe(2);
    expect(opens).toBe(1);
    expect(spill.stats()).toMatchObject({ spillFailures: 1, fetchFailures: 0, storedFiles: 0 });
    expect((spill.lastError as Error).message).toBe('no space');
  });

  it('an fs that throws something that is not an Error (null, a string) is a failed spill too, not a crash', () => {
    for (const thrown of [null, undefined, 'disk gone']) {
      const volume = new Volume();
      const fs: SpillFs = { ...(volume as unknown as SpillFs), openSync: () => { throw thrown; } };
      const spill = new MemfsSpill({ volume, fs });
      expect(spillAll(spill, [3, 4]).left).toBe(2);
      expect(spill.stats()).toMatchObject({ spillFailures: 1, storedFiles: 0 });
      expect(spill.lastError).toBe(thrown);
    }
  });

  it('without writevSync it writes chunk by chunk, resuming short writes inside a chunk at the right offsets', () => {
    for (const bytesMaxPerCall of [1, 3, 64, 1000]) {
      const volume = new Volume();
      const writes: [number, number, number][] = [];
      const base = volume as unknown as SpillFs;
      const fs: SpillFs = {
        openSync: (p, f) => base.openSync(p, f),
        readSync: (fd, b, o, l, p) => base.readSync(fd, b, o, l, p),
        closeSync: (fd) => base.closeSync(fd),
        unlinkSync: (p) => base.unlinkSync(p),
        mkdirSync: (p, o) => base.mkdirSync(p, o),
        writeSync: (fd, buffer, offset, length, position) => {
          const n = Math.min(length, bytesMaxPerCall);
          writes.push([offset, n, position]);
          return base.writeSync(fd, buffer, offset, n, position);
        },
      };
      const spill = new MemfsSpill({ volume, fs });
      const lengths = [5, 0, 7, 2];
      const { handles, expected, left } = spillAll(spill, lengths);
      expect(left).toBe(0);
      expect(handles.map(fetchOk)).toEqual(expected);
      expect(spill.stats()).toMatchObject({ writtenBytes: 14, spillFailures: 0 });
      // Each call starts where the last one stopped, in the file and in its chunk.
      let position = 0;
      for (const [, n, at] of writes) {
        expect(at).toBe(position);
        position += n;
      }
      expect(position).toBe(14);
      expect(writes.length).toBe(lengths.filter((l) => l > 0).reduce((sum, l) => sum + Math.ceil(l / bytesMaxPerCall), 0));
      if (bytesMaxPerCall === 3) expect(writes.slice(0, 3)).toEqual([[0, 3, 0], [3, 2, 3], [0, 3, 5]]);
    }
  });

  it('a writeSync returning 0 is a failure that keeps only the chunks written before it', () => {
    const volume = new Volume();
    let calls = 0;
    const base = volume as unknown as SpillFs;
    const fs: SpillFs = {
      ...base,
      writevSync: undefined,
      writeSync: (fd, buffer, offset, length, position) => (calls += 1, calls > 1 ? 0 : base.writeSync(fd, buffer, offset, length, position)),
    };
    const spill = new MemfsSpill({ volume, fs });
    const { handles, expected, left } = spillAll(spill, [4, 4, 4]);
    expect([handles.length, left]).toEqual([1, 2]);
    expect(fetchOk(handles[0]!)).toEqual(expected[0]);
    expect(spill.stats()).toMatchObject({ spillFailures: 1, writtenBytes: 4 });
    expect(String(spill.lastError)).toMatch(/write made no progress at byte 4 \(returned 0\)/);
  });

  it('counts each failed spill and each failed fetch once, and a failed removal as neither', () => {
    const volume = new Volume();
    const base = volume as unknown as SpillFs;
    let failWrites = true;
    let failReads = true;
    let failUnlinks = true;
    const fs: SpillFs = {
      ...base,
      writevSync: (fd, buffers, position) => {
        if (failWrites) throw Object.assign(new Error('EIO write'), { code: 'EIO' });
        return base.writevSync!(fd, buffers, position);
      },
      readSync: (fd, b, o, l, p) => {
        if (failReads) throw Object.assign(new Error('EIO read'), { code: 'EIO' });
        return base.readSync(fd, b, o, l, p);
      },
      unlinkSync: (p) => {
        if (failUnlinks) throw Object.assign(new Error('EBUSY'), { code: 'EBUSY' });
        base.unlinkSync(p);
      },
    };
    const spill = new MemfsSpill({ volume, fs });
    spillAll(spill, [3, 3]); // write fails; the empty file's removal fails too
    expect(spill.stats()).toMatchObject({ spillFailures: 1, fetchFailures: 0, storedFiles: 1 });
    failWrites = false;
    const { handles } = spillAll(spill, [3, 3]);
    const failed = handles[0]!.fetch();
    expect(failed.ok).toBe(false);
    expect(handles[1]!.fetch().ok).toBe(false);
    expect(spill.stats()).toMatchObject({ spillFailures: 1, fetchFailures: 2 });
    failReads = false;
    fetchOk((failed as { ok: false; handle: BytesFetch }).handle);
    expect(spill.stats()).toMatchObject({ spillFailures: 1, fetchFailures: 2, deliveredBytes: 3, storedChunks: 1, storedBytes: 3 });
    failUnlinks = false;
    spill.close();
    expect(spill.stats()).toMatchObject({ storedFiles: 0, storedBytes: 0, storedChunks: 0, spillFailures: 1, fetchFailures: 2 });
  });

  it('close() forgets an orphan file someone else already removed, and is idempotent', () => {
    const volume = new Volume();
    const base = volume as unknown as SpillFs;
    let failUnlinks = true;
    const fs: SpillFs = { ...base, unlinkSync: (p) => { if (failUnlinks) throw Object.assign(new Error('EBUSY'), { code: 'EBUSY' }); base.unlinkSync(p); } };
    const spill = new MemfsSpill({ volume, fs });
    const { handles } = spillAll(spill, [2]);
    fetchOk(handles[0]!); // its removal fails: an orphan
    expect(spill.stats().storedFiles).toBe(1);
    failUnlinks = false;
    volume.unlinkSync('/spill/batch-0.spill');
    spill.close();
    expect(spill.stats().storedFiles).toBe(0);
    spill.close();
    spill[Symbol.dispose]();
  });

  it('names the class, the option and the bad value in option errors', () => {
    const volume = new Volume();
    expect(() => new BatchFileSpill('X', null as never)).toThrow("X options must be an object such as { fs, dir: '/path/for/spill/files' }, got null");
    expect(() => new MemfsSpill({ volume, dir: '' })).toThrow("MemfsSpill needs a directory: pass { dir: '/path/for/spill/files' }");
    expect(() => new MemfsSpill({ volume, dir: 5 as never })).toThrow(/needs a directory/);
    expect(() => new MemfsSpill({ volume, readMode: 'whole' as never })).toThrow(`MemfsSpill option readMode must be 'chunk' or 'batch', got "whole"`);
    expect(() => new MemfsSpill({ volume, writeMode: 3 as never })).toThrow(`MemfsSpill option writeMode must be 'partial' or 'all-or-nothing', got 3`);
    expect(() => new MemfsSpill({ volume, openReadFilesMax: '2' as never })).toThrow('MemfsSpill option openReadFilesMax must be a non-negative whole number, got "2"');
    expect(() => new MemfsSpill({ volume, openReadFilesMax: -1 })).toThrow(/got -1$/);
    expect(() => new FileSpill({ dir: '/tmp/x', fs: { openSync() {} } as never })).toThrow(
      'FileSpill option fs lacks writeSync, readSync, closeSync, unlinkSync, mkdirSync; pass node:fs, a memfs Volume, or a copy of one with methods replaced',
    );
    expect(() => new BatchFileSpill('X', { dir: '/x', fs: null as never })).toThrow(/^X option fs lacks openSync, writeSync/);
    const defaults = new MemfsSpill({ volume });
    expect([defaults.readMode, defaults.writeMode, defaults.dir]).toEqual(['chunk', 'partial', '/spill']);
  });

  it('drops one trailing slash from its directory, but keeps the root', () => {
    const volume = new Volume();
    expect(new MemfsSpill({ volume, dir: '/spill/' }).dir).toBe('/spill');
    const root = new MemfsSpill({ volume, dir: '/' });
    expect(root.dir).toBe('/');
    spillAll(root, [1]);
    expect(volume.readdirSync('/').map(String)).toContain('batch-0.spill');
  });

  it('a directory it cannot create is E_STORAGE naming it', () => {
    const volume = new Volume();
    const fs: SpillFs = { ...(volume as unknown as SpillFs), mkdirSync: () => { throw new Error('read-only file system'); } };
    const error = storageError(() => new MemfsSpill({ volume, fs, dir: '/ro' }));
    expect(error.code).toBe('E_STORAGE');
    expect(error.message).toBe('MemfsSpill cannot create its directory /ro: read-only file system');
    expect(storageError(() => new MemfsSpill({ volume, dir: '/ro2', fs: { ...(volume as unknown as SpillFs), mkdirSync: () => { throw 'nope'; } } })).message).toMatch(/: nope$/);
  });

  it('fetch and spill after close name the backend and the handle', () => {
    const spill = new MemfsSpill();
    const { handles } = spillAll(spill, [2, 3]);
    spill.close();
    expect(() => handles[1]!.fetch()).toThrow('MemfsSpill was closed, so it cannot fetch MemfsSpill /spill/batch-0.spill chunk 1 (3 bytes); keep the backend open until every handle has been fetched');
    expect(() => spill.spill(chunksOf([1]), [])).toThrow('MemfsSpill was closed, so it cannot spill;');
  });

  it('short fetched chunks share a slab yet never touch (the queue merges none of them); long ones get an allocation each', () => {
    const spill = new MemfsSpill();
    const lengths = [1, 5, 64, 65, 700, 2048, 2049, 3, 9000, 1];
    const { handles, expected } = spillAll(spill, lengths);
    const fetched = handles.map((handle) => {
      const result = handle.fetch();
      if (!result.ok) throw new Error('fetch failed');
      return result.chunks[0]!;
    });
    // Read back after every fetch: a later fetch never overwrites an earlier chunk's bytes.
    expect(fetched.map((chunk) => Array.from(chunk.data))).toEqual(expected);
    for (let k = 1; k < fetched.length; k += 1) {
      const [a, b] = [fetched[k - 1]!, fetched[k]!];
      expect(a.clone().tryMerge(b.clone()), `chunks ${k - 1} and ${k}`).toBe(false);
    }
    const shortOnes = fetched.filter((chunk) => chunk.length <= 2048);
    expect(new Set(shortOnes.map((chunk) => chunk.buffer)).size).toBe(1);
    for (const chunk of fetched.filter((c) => c.length > 2048)) expect(chunk.buffer.byteLength).toBe(chunk.length);
  });

  it('a failed read takes no slab room: the retry and the chunks around it come back whole', () => {
    let failReads = false;
    const volume = new Volume();
    const { fs } = faultyFs(volume as unknown as SpillFs, { readSync: () => failReads });
    const spill = new BatchFileSpill('MemfsSpill', { fs, dir: '/spill' });
    const { handles, expected } = spillAll(spill, [7, 8, 9]);
    const first = handles[0]!.fetch() as { ok: true; chunks: Bytes[] };
    failReads = true;
    const failed = handles[1]!.fetch();
    expect(failed.ok).toBe(false);
    failReads = false;
    const retried = (failed as { ok: false; handle: BytesFetch }).handle.fetch() as { ok: true; chunks: Bytes[] };
    const third = handles[2]!.fetch() as { ok: true; chunks: Bytes[] };
    expect([first, retried, third].map((r) => Array.from(r.chunks[0]!.data))).toEqual(expected);
    // Back to back in the slab, a byte of gap apart: the failed read left no hole.
    expect(retried.chunks[0]!.offset).toBe(first.chunks[0]!.offset + 7 + 1);
    expect(third.chunks[0]!.offset).toBe(retried.chunks[0]!.offset + 8 + 1);
  });

  it('a flipped byte in a short chunk (checksummed without zlib) is caught like one in a long chunk', () => {
    const volume = new Volume();
    const spill = new BatchFileSpill('MemfsSpill', { fs: volume as unknown as SpillFs, dir: '/spill' });
    const { handles, expected } = spillAll(spill, [10, 20, 30]);
    const path = '/spill/batch-0.spill';
    const bytes = volume.readFileSync(path) as Buffer;
    bytes[10 + 7] ^= 0x40;
    volume.writeFileSync(path, bytes);
    expect(fetchOk(handles[0]!)).toEqual(expected[0]);
    const error = storageError(() => handles[1]!.fetch());
    expect(error.message).toMatch(/offset 10\b.*expected crc32 0x[0-9a-f]{8}, actual 0x[0-9a-f]{8} over 20 bytes/);
    expect(fetchOk(handles[2]!)).toEqual(expected[2]);
  });

  it('the checksum of a chunk is zlib crc32, whatever its length and position', () => {
    // Past 256 bytes zlib sums it; below, JavaScript, eight bytes a pass and then one at a time.
    const data = new Uint8Array(700);
    for (let i = 0; i < data.length; i += 1) data[i] = (i * 131 + 17) & 0xff;
    for (const at of [0, 1, 7]) {
      for (let length = 0; length <= 600; length += 1) expect(crc32Of(data, at, length), `at ${at}, ${length} bytes`).toBe(crc32(data.subarray(at, at + length)));
    }
    expect(crc32Of(data, 0, data.length)).toBe(crc32(data));
  });

  it('a second fetch names the handle', () => {
    const spill = new MemfsSpill();
    const { handles } = spillAll(spill, [2, 3]);
    fetchOk(handles[0]!);
    expect(() => handles[0]!.fetch()).toThrow(
      'MemfsSpill /spill/batch-0.spill chunk 0 (2 bytes) was already fetched; fetch() consumes a handle, so call it once (retry only a handle returned by a failed fetch)',
    );
  });
});

describe('MemorySpill: details', () => {
  it('names its handles, refuses a second fetch and a fetch after close by name', () => {
    const spill = new MemorySpill();
    const handles: BytesFetch[] = [];
    spill.spill(chunksOf([4, 5]), handles);
    expect(String(handles[1])).toBe('MemorySpill chunk 1 (5 bytes)');
    fetchOk(handles[0]!);
    expect(() => handles[0]!.fetch()).toThrow('MemorySpill chunk 0 (4 bytes) was already fetched');
    spill[Symbol.dispose]();
    expect(() => handles[1]!.fetch()).toThrow('MemorySpill was closed, so it cannot fetch MemorySpill chunk 1 (5 bytes)');
    expect(() => spill.spill([], [])).toThrow('MemorySpill was closed, so it cannot spill');
  });

  it('fills exactly up to its capacity, counting what is stored now', () => {
    const spill = new MemorySpill({ capacityBytes: 10 });
    const handles: BytesFetch[] = [];
    const chunks = chunksOf([4, 6, 1]);
    spill.spill(chunks, handles);
    expect([handles.length, chunks.length]).toEqual([2, 1]);
    expect(spill.stats()).toEqual({ storedBytes: 10, storedChunks: 2 });
    fetchOk(handles[0]!);
    expect(spill.stats()).toEqual({ storedBytes: 6, storedChunks: 1 });
    spill.spill(chunks, handles);
    expect(chunks.length).toBe(0);
  });

  it('rejects options that are not an object', () => {
    expect(() => new MemorySpill(null as never)).toThrow('MemorySpill options must be an object such as { capacityBytes: 1048576 }, got null');
    expect(() => new MemorySpill({ capacityBytes: '5' as never })).toThrow('capacityBytes must be a non-negative whole number of bytes, got 5');
  });
});
