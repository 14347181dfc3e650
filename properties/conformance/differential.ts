import type { BytesFetch } from '../../src/spill.js';
import { MemorySpill } from '../../src/backends/memory_spill.js';
import { BackendLab } from './backend_lab.js';
import type { BackendModule } from './backend_module.js';
import { ClauseBroken } from './clause.js';
import { byteDiff, makeRng, sampleChunks } from './sample_chunks.js';

const TRACE_STEPS = 60;
const SPILL_CHUNKS_MAX = 6;
const CHUNK_BYTES_MAX = 200;

/** The outcome of one backend against the in-memory reference on the same trace. */
export interface DifferentialResult {
  status: 'same' | 'differs' | 'timeout';
  /** Steps run (up to and including the differing one). */
  steps: number;
  /** The differing step, its description and the byte diff (or why the run stopped). */
  detail?: string;
  /** The trace up to the difference, one line per step, for the report. */
  trace: string[];
}

type TraceOp = { op: 'spill'; lengthsBytes: number[] } | { op: 'fetch'; pick: number };

/** The trace for a seed: spills of a few chunks and fetches of outstanding handles, interleaved. */
export function differentialTrace(seed: number): TraceOp[] {
  const next = makeRng(seed);
  return Array.from({ length: TRACE_STEPS }, (): TraceOp => {
    if (next() % 5 < 2) {
      const count = 1 + (next() % SPILL_CHUNKS_MAX);
      return { op: 'spill', lengthsBytes: Array.from({ length: count }, () => next() % (CHUNK_BYTES_MAX + 1)) };
    }
    return { op: 'fetch', pick: next() };
  });
}

/**
 * Run the seed's trace through `MemorySpill` and the backend in lockstep and stop at the first
 * step where they deliver different bytes (or the backend breaks the contract, or panics).
 */
export async function runDifferentialUnit(
  module: BackendModule,
  seed: number,
  waits: { onFactory?: (waiting: boolean) => void; onDispose?: (waiting: boolean) => void; onDir?: (dir: string) => void } = {},
): Promise<DifferentialResult> {
  const reference = new BackendLab({ factory: () => new MemorySpill(), supports: {} });
  const lab = new BackendLab(module);
  // Told whether the backend's factory or dispose is running, so a hang in either is named.
  lab.onFactory = waits.onFactory;
  lab.onDispose = waits.onDispose;
  // Both labs' directories, so a parent that stops this worker (a factory that hangs) removes them.
  reference.onDir = waits.onDir;
  lab.onDir = waits.onDir;
  const trace: string[] = [];
  try {
    const ref = await reference.open();
    const own = await lab.open();
    const outstanding: { chunk: number; lengthBytes: number; ref: BytesFetch; own: BytesFetch }[] = [];
    let chunksSpilled = 0;
    const ops = differentialTrace(seed);
    for (let step = 0; step < ops.length; step += 1) {
      const op = ops[step]!;
      if (op.op === 'spill') {
        const sample = sampleChunks(seed + step, op.lengthsBytes);
        trace.push(`step ${step}: spill chunks #${chunksSpilled}..#${chunksSpilled + op.lengthsBytes.length - 1} of [${op.lengthsBytes.join(', ')}] bytes`);
        const refHandles = reference.spillAll(ref, sampleChunks(seed + step, op.lengthsBytes));
        const ownHandles = atStep(step, () => lab.spillAll(own, sample));
        op.lengthsBytes.forEach((lengthBytes, k) => outstanding.push({ chunk: chunksSpilled + k, lengthBytes, ref: refHandles[k]!, own: ownHandles[k]! }));
        chunksSpilled += op.lengthsBytes.length;
        continue;
      }
      if (outstanding.length === 0) continue;
      const [target] = outstanding.splice(op.pick % outstanding.length, 1);
      trace.push(`step ${step}: fetch chunk #${target!.chunk} (${target!.lengthBytes} bytes)`);
      const expected = reference.fetchBytes(target!.ref, `chunk #${target!.chunk}`);
      const delivered = atStep(step, () => lab.fetchBytes(target!.own, `chunk #${target!.chunk}`));
      const diff = byteDiff(expected, delivered);
      if (diff !== undefined) return { status: 'differs', steps: step + 1, detail: `step ${step}: fetch of chunk #${target!.chunk} delivered different bytes: ${diff}`, trace };
    }
    return { status: 'same', steps: ops.length, trace };
  } catch (error) {
    if (error instanceof ClauseBroken) return { status: 'differs', steps: trace.length, detail: error.message, trace };
    throw error;
  } finally {
    await reference.close().catch(() => undefined);
    await lab.close().catch(() => undefined);
  }
}

function atStep<T>(step: number, body: () => T): T {
  try {
    return body();
  } catch (error) {
    if (error instanceof ClauseBroken) throw new ClauseBroken(`step ${step}: ${error.message}`);
    throw error;
  }
}
