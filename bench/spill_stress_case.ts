/**
 * One case of the spill stress benchmark, run in a child process of its own (`node
 * --expose-gc`) so its RSS baseline is not polluted by the other cases. Prints one JSON line.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Buzzer, Bytes, FileSpill, MergeQueue, PrefetchPolicy, Threshold } from '../src/index.js';
import { drainAll, patternChunk, StreamChecksum } from './pipeline.js';

export type StressPattern = 'push-all-then-drain' | 'interleaved';

export interface StressCase {
  spill: boolean;
  pattern: StressPattern;
  totalBytes: number;
  chunkBytes: number;
  thresholdBytes: number;
  headReserveBytes: number;
  prefetchBudgetBytes: number;
  /** Interleaved: chunks pushed per drain call (more than the budget delivers, so the queue grows). */
  chunksPerRound: number;
}

export interface StressOutcome {
  case: StressCase;
  baselineRssBytes: number;
  peakRssAboveBaselineBytes: number;
  peakHeapUsedBytes: number;
  /** The most resident bytes the queue held (what it must hold; the rest of RSS is runtime and GC lag). */
  peakQueueResidentBytes: number;
  /** `ArrayBuffer` memory (chunk data lives here, off the V8 heap). */
  peakArrayBuffersBytes: number;
  /** After the drain and a full GC: what is still held (spilled bytes must have been released). */
  afterDrainArrayBuffersBytes: number;
  afterDrainHeapUsedBytes: number;
  afterDrainRssAboveBaselineBytes: number;
  pushedBytes: number;
  deliveredBytes: number;
  checksumMatches: boolean;
  /** Bytes the backend wrote (0 without spilling). */
  spilledBytes: number;
  /** Bytes still in storage after the drain (must be 0). */
  storedBytesAfter: number;
}

/** Full memory figures are read every this many steps; RSS alone is cheap enough for every step. */
const FULL_SAMPLE_EVERY_STEPS = 8;

class MemorySampler {
  readonly baselineRssBytes: number;
  peakRssBytes = 0;
  peakHeapUsedBytes = 0;
  peakArrayBuffersBytes = 0;
  peakQueueResidentBytes = 0;
  #steps = 0;

  constructor() {
    collectGarbage();
    this.baselineRssBytes = process.memoryUsage.rss();
  }

  sample(queueResidentBytes: number): void {
    this.peakQueueResidentBytes = Math.max(this.peakQueueResidentBytes, queueResidentBytes);
    this.peakRssBytes = Math.max(this.peakRssBytes, process.memoryUsage.rss());
    this.#steps += 1;
    if (this.#steps % FULL_SAMPLE_EVERY_STEPS === 0) {
      const usage = process.memoryUsage();
      this.peakHeapUsedBytes = Math.max(this.peakHeapUsedBytes, usage.heapUsed);
      this.peakArrayBuffersBytes = Math.max(this.peakArrayBuffersBytes, usage.arrayBuffers);
    }
  }
}

function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('the spill stress case needs node --expose-gc (run it through npm run bench)');
  gc();
  gc();
}

export function runStressCase(c: StressCase): StressOutcome {
  const dir = mkdtempSync(join(tmpdir(), 'spillsim-stress-'));
  try {
    const sampler = new MemorySampler();
    const spill = c.spill ? new FileSpill({ dir }) : undefined;
    const writerPolicy = spill === undefined ? undefined : new Threshold(spill, { thresholdBytes: c.thresholdBytes, headReserveBytes: c.headReserveBytes });
    const readerPolicy = spill === undefined ? undefined : new PrefetchPolicy(c.prefetchBudgetBytes);
    const [writer, reader] = MergeQueue.newPair(new Buzzer(), writerPolicy, readerPolicy);
    const pushed = new StreamChecksum();
    const delivered = new StreamChecksum();
    const out: Bytes[] = [];
    const chunkCount = Math.floor(c.totalBytes / c.chunkBytes);
    for (let k = 0; k < chunkCount; k += 1) {
      const data = patternChunk(k, c.chunkBytes);
      pushed.add(data);
      writer.extend([Bytes.from(data)]);
      sampler.sample(writer.deque.residentBytes);
      if (c.pattern === 'interleaved' && (k + 1) % c.chunksPerRound === 0) {
        reader.drainInto(out);
        for (const chunk of out) delivered.add(chunk.data);
        out.length = 0;
        sampler.sample(writer.deque.residentBytes);
      }
    }
    writer.drop();
    drainAll(reader, (chunk) => {
      delivered.add(chunk.data);
      sampler.sample(reader.deque.residentBytes);
    });
    reader.drop();
    const storedBytesAfter = spill?.stats().storedBytes ?? 0;
    const spilledBytes = spill?.stats().writtenBytes ?? 0;
    spill?.close();
    collectGarbage();
    const after = process.memoryUsage();
    return {
      case: c,
      baselineRssBytes: sampler.baselineRssBytes,
      peakRssAboveBaselineBytes: sampler.peakRssBytes - sampler.baselineRssBytes,
      peakHeapUsedBytes: sampler.peakHeapUsedBytes,
      peakArrayBuffersBytes: sampler.peakArrayBuffersBytes,
      peakQueueResidentBytes: sampler.peakQueueResidentBytes,
      afterDrainArrayBuffersBytes: after.arrayBuffers,
      afterDrainHeapUsedBytes: after.heapUsed,
      afterDrainRssAboveBaselineBytes: after.rss - sampler.baselineRssBytes,
      pushedBytes: pushed.bytes,
      deliveredBytes: delivered.bytes,
      checksumMatches: pushed.value === delivered.value && pushed.bytes === delivered.bytes,
      spilledBytes,
      storedBytesAfter,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const c = JSON.parse(process.argv[2] ?? '') as StressCase;
  process.stdout.write(`${JSON.stringify(runStressCase(c))}\n`);
}
