import { Bytes, BytesMut } from '../src/bytes.js';
import type { ByteStream } from './byte_stream.js';
import type { SimRng } from './rng.js';

export type WorkloadKind = 'single' | 'mesh' | 'cluster';
export const WORKLOAD_KINDS: readonly WorkloadKind[] = ['single', 'mesh', 'cluster'];

/**
 * How writers and readers take turns.
 * - `interleaved`: any actor may run at any step.
 * - `push-all-then-drain`: a reader runs only once the writers are done (a full backlog).
 * - `bursts`: the actor that just ran usually runs again.
 */
export type TrafficPattern = 'interleaved' | 'push-all-then-drain' | 'bursts';
export const TRAFFIC_PATTERNS: readonly TrafficPattern[] = ['interleaved', 'push-all-then-drain', 'bursts'];

/** Chunk sizes: `tiny` 1–16 B, `small` 17 B–1 KiB, `large` 1–16 KiB, `mixed` all of them. */
export type ChunkSizeClass = 'tiny' | 'small' | 'large' | 'mixed';
const CHUNK_BYTES_RANGE: Record<Exclude<ChunkSizeClass, 'mixed'>, [number, number]> = {
  tiny: [1, 16],
  small: [17, 1024],
  large: [1025, 16 * 1024],
};

/** The seed's choice of traffic; every field is plain JSON so a run's knobs can be printed. */
export interface WorkloadShape {
  kind: WorkloadKind;
  /** Workers in all (mesh), or per process (cluster); 1 for `single`. */
  workers: number;
  /** Processes of a cluster (1 otherwise). */
  processes: number;
  pattern: TrafficPattern;
  chunkSizes: ChunkSizeClass;
  /** Typical chunk length; the policy knobs drawn from the seed are multiples of it. */
  chunkBytesTypical: number;
  /** Chance that a writer cuts its chunks from one slab, so adjacent chunks coalesce in the queue. */
  slabChance: number;
  /** Chance that a writer's step is an `extend` of nothing (the writer policy still runs). */
  emptyExtendChance: number;
  /** Extend calls per stream (writer→reader pair). */
  extendsPerStream: number;
  /** Most chunks in one extend call. */
  chunksPerExtendMax: number;
  /** Cluster only: most ticks a network packet takes. */
  networkLatencyTicksMax: number;
}

export interface ShapeOverrides {
  kind?: WorkloadKind;
  workers?: number;
}

/** The workload of a run, from its seed (and the caller's overrides). */
export function chooseWorkloadShape(rng: SimRng, overrides: ShapeOverrides): WorkloadShape {
  const kind = overrides.kind ?? 'single';
  const chunkSizes = rng.pick<ChunkSizeClass>(['tiny', 'small', 'large', 'mixed', 'mixed']);
  const workers = kind === 'single' ? 1 : (overrides.workers ?? (kind === 'mesh' ? rng.int(2, 4) : rng.int(1, 2)));
  const streams = kind === 'single' ? 1 : kind === 'mesh' ? workers * workers : 4 * workers * workers;
  // Keep a run near a few thousand steps whatever the topology, so a campaign of 1,000 seeds stays fast.
  const extendsPerStream = Math.max(4, Math.round(rng.int(16, 48) / Math.sqrt(streams)));
  return {
    kind,
    workers,
    processes: kind === 'cluster' ? 2 : 1,
    pattern: rng.pick(TRAFFIC_PATTERNS),
    chunkSizes,
    chunkBytesTypical: chunkSizes === 'tiny' ? 8 : chunkSizes === 'small' ? 256 : chunkSizes === 'large' ? 4096 : 512,
    slabChance: rng.pick([0, 0.5, 0.9]),
    emptyExtendChance: rng.pick([0, 0.1, 0.25]),
    extendsPerStream,
    chunksPerExtendMax: rng.pick([1, 3, 8]),
    networkLatencyTicksMax: rng.int(1, 20),
  };
}

/** A chunk length of the shape's size class. */
export function drawChunkBytes(rng: SimRng, sizes: ChunkSizeClass): number {
  const cls = sizes === 'mixed' ? rng.pick<Exclude<ChunkSizeClass, 'mixed'>>(['tiny', 'small', 'large']) : sizes;
  const [min, max] = CHUNK_BYTES_RANGE[cls];
  return rng.logInt(min, max);
}

/** The policy knobs a seed picks, as multiples of the typical chunk so every seed both spills and drains. */
export interface PolicyKnobs {
  thresholdBytes: number;
  headReserveBytes: number;
  prefetchBudgetBytes: number;
}

export function choosePolicyKnobs(rng: SimRng, shape: WorkloadShape): PolicyKnobs {
  const c = shape.chunkBytesTypical;
  return {
    thresholdBytes: c * rng.pick([1, 2, 4, 8, 16]),
    headReserveBytes: c * rng.pick([0, 1, 2, 4]),
    prefetchBudgetBytes: Math.max(1, Math.round(c * rng.pick([0.5, 1, 4, 16]))),
  };
}

/**
 * Cuts a writer's chunks: from one slab when `slab` is set (adjacent views of one allocation,
 * which the queue merges without a copy), else each from its own allocation. Fills them with
 * the stream's bytes.
 */
export class ChunkCutter {
  #slab: BytesMut | undefined;
  readonly #slabBytes: number;

  constructor(slabBytes: number) {
    this.#slabBytes = slabBytes;
  }

  /** A chunk of `lengthBytes` holding `stream`'s bytes from `offsetBytes`. */
  cut(lengthBytes: number, slab: boolean, stream: ByteStream, offsetBytes: number): Bytes {
    if (!slab) {
      const data = new Uint8Array(lengthBytes);
      stream.fill(data, offsetBytes);
      return Bytes.from(data);
    }
    if (this.#slab === undefined || this.#slab.length < lengthBytes) this.#slab = new BytesMut(Math.max(this.#slabBytes, lengthBytes));
    stream.fill(this.#slab.data.subarray(0, lengthBytes), offsetBytes);
    return this.#slab.extractTo(lengthBytes);
  }
}
