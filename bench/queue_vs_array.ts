import { Buzzer, Bytes, MergeQueue } from '../src/index.js';
import { type AnyTimedCase, measureRates, type MeasureOptions, rateOf, type TimedCase } from './measure.js';
import type { BenchOptions, BenchResult } from './report.js';

/**
 * Benchmark 2: the queue against the least a queue can do. Small chunks: `extend` → `drainInto`
 * against pushing the same `Bytes` onto an array and splicing them out. Large chunks: the queue
 * moves 64 KiB views without copying, against one `Uint8Array.set` copy of the same bytes.
 */

const SMALL_CHUNK_BYTES = 32;
const CHUNKS_PER_BATCH = 16;
const LARGE_CHUNK_BYTES = 64 * 1024;
/** Batches per timed run, so the timer's own cost stays small next to the work. */
const BATCHES_PER_RUN = 64;
/** Distinct 64 KiB allocations cycled through (so the copy reads memory, not one hot buffer). */
const LARGE_POOL_CHUNKS = 64;

/**
 * Batches of chunks, each chunk its own allocation, so nothing coalesces in the queue. Made
 * once and reused: views of separate allocations never merge, so they come out of the queue
 * (and the array) exactly as they went in, and preparing a batch costs nothing.
 */
function smallBatchSource(): () => Bytes[][] {
  const batches = Array.from({ length: BATCHES_PER_RUN }, () => Array.from({ length: CHUNKS_PER_BATCH }, () => Bytes.from(new Uint8Array(SMALL_CHUNK_BYTES))));
  return () => batches;
}

function queueCase(name: string, prepare: () => Bytes[][], unitsPerChunk: (chunk: Bytes) => number): TimedCase<Bytes[][]> {
  const [writer, reader] = MergeQueue.newPair(new Buzzer());
  const out: Bytes[] = [];
  return {
    name,
    prepare,
    run: (batches) => {
      let units = 0;
      for (const batch of batches) {
        writer.extend(batch);
        reader.drainInto(out);
        for (const chunk of out) units += unitsPerChunk(chunk);
        out.length = 0;
      }
      return units;
    },
  };
}

function arrayCase(prepare: () => Bytes[][]): TimedCase<Bytes[][]> {
  const queue: Bytes[] = [];
  return {
    name: 'array',
    prepare,
    run: (batches) => {
      let chunks = 0;
      for (const batch of batches) {
        for (const chunk of batch) queue.push(chunk);
        chunks += queue.splice(0, queue.length).length;
      }
      return chunks;
    },
  };
}

export async function runQueueVsArray(options: BenchOptions): Promise<BenchResult> {
  const measure: MeasureOptions = options.quick ? { warmupRounds: 1, rounds: 3, roundMs: 15 } : { warmupRounds: 2, rounds: 9, roundMs: 150 };
  options.log('queue-vs-array: small chunks through the queue and through an array');
  const smallBatches = smallBatchSource();
  const small = measureRates([queueCase('queue', smallBatches, () => 1), arrayCase(smallBatches)] as AnyTimedCase[], measure);

  options.log('queue-vs-array: 64 KiB chunks through the queue and through one copy');
  const pool = Array.from({ length: LARGE_POOL_CHUNKS }, (_, k) => new Uint8Array(LARGE_CHUNK_BYTES).fill(k));
  // Fresh views on the pool each batch: a view handed to `extend` belongs to the queue.
  const largeBatches = (): Bytes[][] => Array.from({ length: LARGE_POOL_CHUNKS / CHUNKS_PER_BATCH }, (_, b) => pool.slice(b * CHUNKS_PER_BATCH, (b + 1) * CHUNKS_PER_BATCH).map((u8) => Bytes.from(u8)));
  const destination = new Uint8Array(LARGE_CHUNK_BYTES);
  const copyCase: TimedCase<Bytes[][]> = {
    name: 'copy',
    prepare: largeBatches,
    run: (batches) => {
      let bytes = 0;
      for (const batch of batches) {
        for (const chunk of batch) {
          destination.set(chunk.data);
          bytes += chunk.length;
        }
      }
      return bytes;
    },
  };
  const large = measureRates([queueCase('queue', largeBatches, (chunk) => chunk.length), copyCase] as AnyTimedCase[], measure);

  const smallRatio = rateOf(small, 'queue') / rateOf(small, 'array');
  const smallTypicalRatio = rateOf(small, 'queue', 'typical') / rateOf(small, 'array', 'typical');
  const largeRatio = rateOf(large, 'queue') / rateOf(large, 'copy');
  return {
    name: 'queue-vs-array',
    title: '2. queue vs the least a queue can do',
    columns: ['case', 'path', 'rate', 'unit', 'queue / baseline'],
    rows: [
      { case: `${SMALL_CHUNK_BYTES} B chunks, batches of ${CHUNKS_PER_BATCH}`, path: 'extend → drainInto', rate: rateOf(small, 'queue'), unit: 'chunks/s', 'queue / baseline': smallRatio },
      { case: `${SMALL_CHUNK_BYTES} B chunks, batches of ${CHUNKS_PER_BATCH}`, path: 'array push → splice', rate: rateOf(small, 'array'), unit: 'chunks/s', 'queue / baseline': 1 },
      { case: '64 KiB chunks', path: 'extend → drainInto', rate: rateOf(large, 'queue') / 2 ** 20, unit: 'MiB/s', 'queue / baseline': largeRatio },
      { case: '64 KiB chunks', path: 'Uint8Array.set copy', rate: rateOf(large, 'copy') / 2 ** 20, unit: 'MiB/s', 'queue / baseline': 1 },
    ],
    figures: [
      { name: 'queue-vs-array-small', description: 'queue chunks/s / plain array chunks/s (no spill, separate allocations)', value: smallRatio, unit: 'ratio', target: { op: '>=', value: 0.5 } },
      { name: 'queue-vs-array-small-typical', description: 'the same from each round\'s median batch (robust to preemption on a loaded machine)', value: smallTypicalRatio, unit: 'ratio', target: { op: '>=', value: 0.5 } },
      { name: 'queue-vs-copy-64k', description: 'queue bytes/s / one Uint8Array.set copy of the same bytes', value: largeRatio, unit: 'ratio', target: { op: '>=', value: 1 } },
    ],
    notes: [`median of ${measure.rounds} interleaved rounds of ${measure.roundMs} ms per case; small chunks are allocated once and reused (they come out unchanged); 64 KiB views are made outside the timed span.`],
  };
}
