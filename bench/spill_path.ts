import { closeSync, mkdtempSync, openSync, readSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { crc32 } from 'node:zlib';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { type BatchFileStats, Buzzer, Bytes, type EntryDeque, FileSpill, MergeQueue, PrefetchPolicy, type ReadMode, type SpillPolicy, Threshold } from '../src/index.js';
import { type AnyTimedCase, measureRates, type MeasureOptions, rateOf, type TimedCase } from './measure.js';
import { drainAll, patternChunk } from './pipeline.js';
import type { BenchOptions, BenchResult, Figure } from './report.js';

/**
 * Benchmark 3: the spill path (`Threshold` + `FileSpill` + `PrefetchPolicy`) against plain
 * `fs` writes and reads of the same bytes, in the same run; then `FileSpill`'s per-chunk reads
 * against the reference whole-batch reads: bytes read per byte delivered, and peak memory held.
 */

const MiB = 1024 * 1024;

interface PathSizes {
  totalBytes: number;
  chunkBytes: number;
}

/**
 * Push every chunk through a spilling queue pair, then drain it all; returns bytes delivered.
 * `thresholdBytes` sets the batch size: each spill call takes everything past the reserve.
 */
function pushThenDrain(
  dir: string,
  chunks: readonly Uint8Array[],
  chunkBytes: number,
  readMode: ReadMode,
  thresholdBytes = 2 * chunkBytes,
  onReaderApply?: (deque: EntryDeque, spill: FileSpill) => void,
): { deliveredBytes: number; stats: BatchFileStats } {
  const spill = new FileSpill({ dir, readMode });
  const prefetch = new PrefetchPolicy(4 * chunkBytes);
  const reader: SpillPolicy = {
    apply: (deque) => {
      prefetch.apply(deque);
      onReaderApply?.(deque, spill);
    },
  };
  // A reserve of two chunks: nearly every byte goes through storage.
  const [writer, readerQueue] = MergeQueue.newPair(new Buzzer(), new Threshold(spill, { thresholdBytes, headReserveBytes: 2 * chunkBytes }), reader);
  for (const chunk of chunks) writer.extend([Bytes.from(chunk)]);
  writer.drop();
  let deliveredBytes = 0;
  drainAll(readerQueue, (chunk) => (deliveredBytes += chunk.length));
  const stats = spill.stats();
  spill.close();
  return { deliveredBytes, stats };
}

/**
 * Where a read chunk lands: a fresh allocation of its own, as the spill path's chunks are. Not
 * zero-filled, like the spill path's (zeroing fresh memory cost more than the read here).
 */
function freshChunkBuffer(lengthBytes: number): Uint8Array {
  return Buffer.allocUnsafeSlow(lengthBytes);
}

/**
 * A full GC, run untimed before every batch. Each batch leaves 64 MiB of delivered chunks as
 * garbage; without this, collecting it lands on the clock of whichever case runs next (raw fs
 * after the spill path, in every round), so each figure paid for its neighbour's garbage.
 */
function collectGarbage(): void {
  if (fullGc === undefined) {
    // Exposed here, on first use, rather than by a flag every way of running the benchmark must pass.
    setFlagsFromString('--expose-gc');
    fullGc = runInNewContext('gc') as () => void;
  }
  fullGc();
}
let fullGc: (() => void) | undefined;

/** The least storage can do: one file, written in order, read back in order, removed. */
function rawWriteRead(path: string, chunks: readonly Uint8Array[]): number {
  let fd = openSync(path, 'w');
  let position = 0;
  for (const chunk of chunks) position += writeSync(fd, chunk, 0, chunk.length, position);
  closeSync(fd);
  fd = openSync(path, 'r');
  let readBytes = 0;
  for (const chunk of chunks) readBytes += readSync(fd, freshChunkBuffer(chunk.length), 0, chunk.length, readBytes);
  closeSync(fd);
  unlinkSync(path);
  return readBytes;
}

/** Where the raw checksums go, so the work is observably used. */
export let checksumSink = 0;

/** Raw fs plus the two things the spill path adds per chunk: a crc32 on write and on read. */
function rawWithChecksums(path: string, chunks: readonly Uint8Array[]): number {
  let checksum = 0;
  for (const chunk of chunks) checksum ^= crc32(chunk);
  const bytes = rawWriteRead(path, chunks);
  for (const chunk of chunks) checksum ^= crc32(chunk);
  checksumSink ^= checksum;
  return bytes;
}

/** Raw fs the way one-chunk batches use storage: a file per chunk, opened again for its read, removed after. */
function rawFilePerChunk(dir: string, chunks: readonly Uint8Array[]): number {
  chunks.forEach((chunk, k) => {
    const fd = openSync(join(dir, `raw-${k}.bin`), 'wx');
    writeSync(fd, chunk, 0, chunk.length, 0);
    closeSync(fd);
  });
  let readBytes = 0;
  chunks.forEach((chunk, k) => {
    const path = join(dir, `raw-${k}.bin`);
    const fd = openSync(path, 'r');
    readBytes += readSync(fd, freshChunkBuffer(chunk.length), 0, chunk.length, 0);
    closeSync(fd);
    unlinkSync(path);
  });
  return readBytes;
}

function throughputCases(dir: string, sizes: PathSizes): AnyTimedCase[] {
  const count = sizes.totalBytes / sizes.chunkBytes;
  const chunks = Array.from({ length: count }, (_, k) => patternChunk(k, sizes.chunkBytes));
  const queue: TimedCase<void> = {
    name: `queue/${sizes.chunkBytes}`,
    prepare: collectGarbage,
    run: () => {
      const { deliveredBytes } = pushThenDrain(dir, chunks, sizes.chunkBytes, 'chunk');
      if (deliveredBytes !== sizes.totalBytes) throw new Error(`spill path delivered ${deliveredBytes} of ${sizes.totalBytes} bytes`);
      return deliveredBytes;
    },
  };
  // The knobs above make every spill call a batch of two chunks (the reserve is full, so each
  // takes the two past it), which makes the file per batch the dominant cost. These are the same
  // bytes with a threshold of totalBytes / 16, so batches are many chunks as with the reference's
  // knobs (64 MiB threshold by default); counted in bytes that went through storage, since the
  // last threshold's worth stays resident and never touches the disk.
  const batchThresholdBytes = sizes.totalBytes / 16;
  const queueBatches: TimedCase<void> = {
    name: `queue-batches/${sizes.chunkBytes}`,
    prepare: collectGarbage,
    run: () => {
      const { deliveredBytes, stats } = pushThenDrain(dir, chunks, sizes.chunkBytes, 'chunk', batchThresholdBytes);
      if (deliveredBytes !== sizes.totalBytes) throw new Error(`spill path delivered ${deliveredBytes} of ${sizes.totalBytes} bytes`);
      return stats.writtenBytes;
    },
  };
  const raw: TimedCase<void> = {
    name: `raw/${sizes.chunkBytes}`,
    prepare: collectGarbage,
    run: () => rawWriteRead(join(dir, 'raw.bin'), chunks),
  };
  // Not targets: they show where the gap between the spill path and raw fs goes.
  const crc: TimedCase<void> = { name: `raw-crc/${sizes.chunkBytes}`, prepare: collectGarbage, run: () => rawWithChecksums(join(dir, 'raw.bin'), chunks) };
  const perChunk: TimedCase<void> = { name: `raw-file-per-chunk/${sizes.chunkBytes}`, prepare: collectGarbage, run: () => rawFilePerChunk(dir, chunks) };
  return [queue, queueBatches, raw, crc, perChunk];
}

/** Sum of the allocations resident entries keep alive: a batch-mode view pins its whole batch. */
function heldBytes(deque: EntryDeque): number {
  const buffers = new Set<ArrayBufferLike>();
  for (const entry of deque) if (entry.kind === 'bytes') buffers.add(entry.bytes.buffer);
  let bytes = 0;
  for (const buffer of buffers) bytes += buffer.byteLength;
  return bytes;
}

/** Bursts of `burstChunks` per extend, so each spill call writes a multi-chunk batch file. */
function readModeRun(dir: string, readMode: ReadMode, chunkBytes: number, chunkCount: number, burstChunks: number): { stats: BatchFileStats; heldBytesPeak: number } {
  const spill = new FileSpill({ dir, readMode });
  const prefetch = new PrefetchPolicy(4 * chunkBytes);
  let heldBytesPeak = 0;
  const reader: SpillPolicy = {
    apply: (deque) => {
      prefetch.apply(deque);
      heldBytesPeak = Math.max(heldBytesPeak, heldBytes(deque));
    },
  };
  const [writer, readerQueue] = MergeQueue.newPair(new Buzzer(), new Threshold(spill, { thresholdBytes: chunkBytes, headReserveBytes: chunkBytes }), reader);
  for (let k = 0; k < chunkCount; k += burstChunks) {
    writer.extend(Array.from({ length: Math.min(burstChunks, chunkCount - k) }, (_, j) => Bytes.from(patternChunk(k + j, chunkBytes))));
  }
  writer.drop();
  let deliveredBytes = 0;
  drainAll(readerQueue, (chunk) => (deliveredBytes += chunk.length));
  if (deliveredBytes !== chunkBytes * chunkCount) throw new Error(`read-mode run delivered ${deliveredBytes} of ${chunkBytes * chunkCount} bytes`);
  const stats = spill.stats();
  spill.close();
  return { stats, heldBytesPeak };
}

export async function runSpillPath(options: BenchOptions): Promise<BenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'spillsim-bench-'));
  try {
    const totalBytes = options.quick ? 8 * MiB : 64 * MiB;
    const measure: MeasureOptions = options.quick ? { warmupRounds: 1, rounds: 3, roundMs: 1 } : { warmupRounds: 1, rounds: 7, roundMs: 1 };
    const rows: BenchResult['rows'] = [];
    const figures: Figure[] = [];
    for (const chunkBytes of [64 * 1024, 256 * 1024]) {
      options.log(`spill-path: ${totalBytes / MiB} MiB in ${chunkBytes / 1024} KiB chunks, spill path and raw fs`);
      const rates = measureRates(throughputCases(dir, { totalBytes, chunkBytes }), measure);
      const queue = rateOf(rates, `queue/${chunkBytes}`);
      const raw = rateOf(rates, `raw/${chunkBytes}`);
      const size = `${chunkBytes / 1024} KiB`;
      rows.push({ measure: `throughput, ${size} chunks`, 'spill path / chunk reads': queue / MiB, 'raw fs / batch reads': raw / MiB, unit: 'MiB/s', ratio: queue / raw });
      const queueBatches = rateOf(rates, `queue-batches/${chunkBytes}`);
      rows.push({ measure: `  spill path, batches of ${totalBytes / 16 / MiB} MiB, ${size}`, 'spill path / chunk reads': queueBatches / MiB, 'raw fs / batch reads': '', unit: 'MiB/s', ratio: queueBatches / raw });
      rows.push({ measure: `  raw fs + crc32 on write and read, ${size}`, 'spill path / chunk reads': '', 'raw fs / batch reads': rateOf(rates, `raw-crc/${chunkBytes}`) / MiB, unit: 'MiB/s', ratio: rateOf(rates, `raw-crc/${chunkBytes}`) / raw });
      rows.push({ measure: `  raw fs, a file per chunk, ${size}`, 'spill path / chunk reads': '', 'raw fs / batch reads': rateOf(rates, `raw-file-per-chunk/${chunkBytes}`) / MiB, unit: 'MiB/s', ratio: rateOf(rates, `raw-file-per-chunk/${chunkBytes}`) / raw });
      figures.push({ name: `spill-vs-raw-${chunkBytes / 1024}k`, description: `spill path bytes/s / raw fs write+read bytes/s (${size} chunks)`, value: queue / raw, unit: 'ratio', target: { op: '>=', value: 0.8 } });
      figures.push({
        name: `spill-vs-raw-batches-${chunkBytes / 1024}k`,
        description: `spill path with ${totalBytes / 16 / MiB} MiB batches, stored bytes/s / raw fs write+read bytes/s (${size} chunks)`,
        value: queueBatches / raw,
        unit: 'ratio',
        target: { op: '>=', value: 0.8 },
      });
    }

    const chunkBytes = 256 * 1024;
    const chunkCount = options.quick ? 64 : 256;
    const burstChunks = 16;
    options.log(`spill-path: read modes, ${chunkCount} chunks of 256 KiB in batches of up to ${burstChunks}`);
    const chunkMode = readModeRun(dir, 'chunk', chunkBytes, chunkCount, burstChunks);
    const batchMode = readModeRun(dir, 'batch', chunkBytes, chunkCount, burstChunks);
    const amplification = (s: BatchFileStats) => s.readBytes / s.deliveredBytes;
    const peak = (r: { stats: BatchFileStats; heldBytesPeak: number }) => r.heldBytesPeak;
    rows.push({ measure: 'bytes read / byte delivered', 'spill path / chunk reads': amplification(chunkMode.stats), 'raw fs / batch reads': amplification(batchMode.stats), unit: 'ratio', ratio: amplification(batchMode.stats) / amplification(chunkMode.stats) });
    rows.push({ measure: 'peak bytes the queue holds', 'spill path / chunk reads': peak(chunkMode) / MiB, 'raw fs / batch reads': peak(batchMode) / MiB, unit: 'MiB', ratio: peak(batchMode) / peak(chunkMode) });
    rows.push({ measure: 'peak whole-batch copies', 'spill path / chunk reads': chunkMode.stats.cacheResidentBytesPeak / MiB, 'raw fs / batch reads': batchMode.stats.cacheResidentBytesPeak / MiB, unit: 'MiB', ratio: '' });
    figures.push(
      { name: 'read-amplification-chunk', description: 'chunk reads: bytes read per byte delivered', value: amplification(chunkMode.stats), unit: 'ratio', target: { op: '<=', value: 1 } },
      { name: 'read-amplification-batch', description: 'reference batch reads: bytes read per byte delivered', value: amplification(batchMode.stats), unit: 'ratio' },
      { name: 'peak-held-batch-vs-chunk', description: 'peak bytes held by the queue, batch reads / chunk reads (prefetch budget 4 chunks)', value: peak(batchMode) / peak(chunkMode), unit: 'ratio' },
    );
    return {
      name: 'spill-path',
      title: '3. spill path vs raw storage; per-chunk vs whole-batch reads',
      columns: ['measure', 'spill path / chunk reads', 'raw fs / batch reads', 'unit', 'ratio'],
      rows,
      figures,
      notes: [
        `throughput: ${totalBytes / MiB} MiB pushed one chunk per extend (threshold and reserve 2 chunks, prefetch budget 4 chunks), then drained; raw fs writes the same chunks to one file and reads them back, each read into a fresh unzeroed allocation as the spill path's are; median of ${measure.rounds} interleaved rounds, files in ${tmpdir()}.`,
        `with threshold and reserve of 2 chunks every spill call writes a batch of 2 chunks: one file created, written (one writev), closed, opened again for its reads and removed per 2 chunks. "batches of ${totalBytes / 16 / MiB} MiB" is the same with threshold ${totalBytes / 16 / MiB} MiB, so a batch is many chunks (its rate counts the bytes that went through storage). Both check a crc32 of every chunk on write and on read; raw fs does none of that. The last two indented rows add each of those costs to raw fs alone (ratio to plain raw fs) to show where the gap goes.`,
        `read modes: bursts of ${burstChunks} chunks per extend make batch files of up to ${burstChunks} chunks; "held" counts whole allocations kept alive by resident entries (a batch-mode view pins its batch's copy).`,
      ],
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
