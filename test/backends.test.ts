import * as nodeFs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { Volume } from 'memfs';
import { afterEach, describe, expect, it } from 'vitest';
import { BatchFileSpill, type BatchFileStats, type ReadMode, type WriteMode } from '../src/backends/batch_file_spill.js';
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

type FsMethod = 'openSync' | 'writeSync' | 'readSync' | 'closeSync' | 'unlinkSync';
type FailPlan = Partial<Record<FsMethod, (callIndex: number) => boolean>>;

function faultyFs(base: SpillFs, plan: FailPlan): { fs: SpillFs; calls: Record<FsMethod, number> } {
  const calls: Record<FsMethod, number> = { openSync: 0, writeSync: 0, readSync: 0, closeSync: 0, unlinkSync: 0 };
  function gate(method: FsMethod): void {
    const index = calls[method];
    calls[method] += 1;
    if (plan[method]?.(index) === true) throw Object.assign(new Error(`injected EIO in ${method} call ${index}`), { code: 'EIO' });
  }
  const fs: SpillFs = {
    openSync: (path, flags) => (gate('openSync'), base.openSync(path, flags)),
    writeSync: (fd, buffer, offset, length, position) => (gate('writeSync'), base.writeSync(fd, buffer, offset, length, position)),
    readSync: (fd, buffer, offset, length, position) => (gate('readSync'), base.readSync(fd, buffer, offset, length, position)),
    closeSync: (fd) => (gate('closeSync'), base.closeSync(fd)),
    unlinkSync: (path) => (gate('unlinkSync'), base.unlinkSync(path)),
    mkdirSync: (path, options) => base.mkdirSync(path, options),
  };
  return { fs, calls };
}

// ---------------------------------------------------------------------------------------------
// The shared table: every case below runs for each backend it applies to.

interface BuildOptions {
  readMode?: ReadMode;
  writeMode?: WriteMode;
  faults?: FailPlan;
}

interface Harness {
  spill: Omit<InspectableSpill, 'stats'> & { close(): void; stats(): StorageStats & Partial<BatchFileStats> };
  /** Batch files on storage; always [] for the memory backend. */
  files(): string[];
  /** Flip one byte of a batch file (file-based backends only). */
  flipByte(path: string, offsetBytes: number): void;
  /** Cut a batch file short (file-based backends only). */
  truncate(path: string, lengthBytes: number): void;
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
  host: () => { fs: SpillFs & InspectFs; dir: string; construct(options: { dir: string; readMode?: ReadMode; writeMode?: WriteMode; fs?: SpillFs }): BatchFileSpill },
): BackendCase {
  return {
    name,
    fileBased: true,
    build({ readMode, writeMode, faults } = {}) {
      const { fs, dir, construct } = host();
      const spill = construct({ dir, readMode, writeMode, fs: faults === undefined ? undefined : faultyFs(fs, faults).fs });
      return {
        spill,
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
