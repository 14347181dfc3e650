import { Bytes } from '../src/bytes.js';
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
  /** A deep run: about `DEEP_OPS_MIN`–`DEEP_OPS_MAX` queue operations (the swarm's long runs), or an `ops` budget. */
  deep: boolean;
}

export interface ShapeOverrides {
  kind?: WorkloadKind;
  workers?: number;
  /** About this many queue operations in all (extends, and about as many drains): sets `extendsPerStream`. */
  ops?: number;
}

/** Chance that a seed of the default swarm is a deep run. */
export const DEEP_RUN_CHANCE = 1 / 1024;
/** Queue operations of a deep run (extends plus drains, about half each). */
export const DEEP_OPS_MIN = 100_000;
export const DEEP_OPS_MAX = 200_000;

/** The workload of a run, from its seed (and the caller's overrides). */
export function chooseWorkloadShape(rng: SimRng, overrides: ShapeOverrides): WorkloadShape {
  const kind = overrides.kind ?? 'single';
  const chunkSizes = rng.pick<ChunkSizeClass>(['tiny', 'small', 'large', 'mixed', 'mixed']);
  const workers = kind === 'single' ? 1 : (overrides.workers ?? (kind === 'mesh' ? rng.int(2, 4) : rng.int(1, 2)));
  const streams = kind === 'single' ? 1 : kind === 'mesh' ? workers * workers : 4 * workers * workers;
  // Keep a run near a few thousand steps whatever the topology, so a campaign of 1,000 seeds stays fast.
  const extendsPerStream = Math.max(4, Math.round(rng.int(16, 48) / Math.sqrt(streams)));
  const shape: WorkloadShape = {
    kind,
    workers,
    processes: kind === 'cluster' ? 2 : 1,
    pattern: rng.pick(TRAFFIC_PATTERNS),
    chunkSizes,
    chunkBytesTypical: typicalChunkBytes(chunkSizes),
    slabChance: rng.pick([0, 0.5, 0.9]),
    emptyExtendChance: rng.pick([0, 0.1, 0.25]),
    extendsPerStream,
    chunksPerExtendMax: rng.pick([1, 3, 8]),
    networkLatencyTicksMax: rng.int(1, 20),
    deep: false,
  };
  // Drawn last, so the draws above are the same for a deep seed as for a short one.
  const deepDraw = rng.next();
  const deepOps = rng.int(DEEP_OPS_MIN, DEEP_OPS_MAX);
  const deepChunks = rng.pick<ChunkSizeClass>(['tiny', 'small']);
  const opsTarget = overrides.ops ?? (deepDraw < DEEP_RUN_CHANCE ? deepOps : undefined);
  if (opsTarget !== undefined) {
    shape.deep = true;
    shape.extendsPerStream = Math.max(1, Math.ceil(opsTarget / (2 * streams)));
    if (overrides.ops === undefined) {
      // A deep run explores many operations, not many bytes: short chunks keep 100,000 operations
      // near a tenth of a second (short seeds cover large chunks), and a long push-all-then-drain
      // would hold its whole history in storage, so a deep run interleaves.
      shape.chunkSizes = deepChunks;
      shape.chunkBytesTypical = typicalChunkBytes(deepChunks);
      if (shape.pattern === 'push-all-then-drain') shape.pattern = 'interleaved';
    }
  }
  return shape;
}

function typicalChunkBytes(sizes: ChunkSizeClass): number {
  return sizes === 'tiny' ? 8 : sizes === 'small' ? 256 : sizes === 'large' ? 4096 : 512;
}

/** A chunk length of the shape's size class. */
export function drawChunkBytes(rng: SimRng, sizes: ChunkSizeClass): number {
  const cls = sizes === 'mixed' ? rng.pick<Exclude<ChunkSizeClass, 'mixed'>>(SIZE_CLASSES) : sizes;
  // Indexed, not destructured: destructuring an array walks its iterator, once per chunk.
  const range = CHUNK_BYTES_LOG_RANGE[cls];
  return rng.logIntWithin(range[0], range[1], range[2], range[3]);
}

const SIZE_CLASSES: ReadonlyArray<Exclude<ChunkSizeClass, 'mixed'>> = ['tiny', 'small', 'large'];

/** Each class's range and its logs, taken once (a draw per chunk would take two logarithms). */
const CHUNK_BYTES_LOG_RANGE: Record<Exclude<ChunkSizeClass, 'mixed'>, readonly [number, number, number, number]> = {
  tiny: logRange(CHUNK_BYTES_RANGE.tiny),
  small: logRange(CHUNK_BYTES_RANGE.small),
  large: logRange(CHUNK_BYTES_RANGE.large),
};

function logRange([min, max]: [number, number]): readonly [number, number, number, number] {
  return [min, max, Math.log(min), Math.log(max + 1)];
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

/** Bytes of a cutter's first arena; each next one doubles, up to ARENA_BYTES_MAX (short runs stay small). */
const ARENA_BYTES_FIRST = 4 * 1024;
const ARENA_BYTES_MAX = 256 * 1024;

/**
 * Cuts a writer's chunks: from one slab when `slab` is set (adjacent views of one allocation,
 * which the queue merges without a copy), else each on its own (mergeable with nothing). Fills
 * them with the stream's bytes.
 *
 * Slabs and lone chunks are carved from one large arena with a byte of gap before each slab and
 * each lone chunk, so the queue sees exactly the adjacency it would see with an allocation per
 * slab or per chunk (it merges views of one buffer only when one starts where the other ends),
 * without paying an `ArrayBuffer` allocation per chunk.
 */
export class ChunkCutter {
  readonly #slabBytes: number;
  #arena = new Uint8Array(0);
  /** Next free byte of the arena. */
  #at = 0;
  /** End of the current slab (slab mode): a chunk that does not fit before it starts a new slab. */
  #slabEnd = 0;

  constructor(slabBytes: number) {
    this.#slabBytes = slabBytes;
  }

  /** A chunk of `lengthBytes` holding `stream`'s bytes from `offsetBytes`. */
  cut(lengthBytes: number, slab: boolean, stream: ByteStream, offsetBytes: number): Bytes {
    if (!slab) {
      this.#reserve(lengthBytes + 1);
      this.#at += 1;
    } else if (this.#at + lengthBytes > this.#slabEnd) {
      const size = Math.max(this.#slabBytes, lengthBytes);
      this.#reserve(size + 1);
      this.#at += 1;
      this.#slabEnd = this.#at + size;
    }
    const at = this.#at;
    stream.fillAt(this.#arena, at, lengthBytes, offsetBytes);
    this.#at += lengthBytes;
    return new Bytes(this.#arena.buffer, at, lengthBytes);
  }

  /** Make room for `bytes` more, in a fresh arena when this one is full. */
  #reserve(bytes: number): void {
    if (this.#at + bytes <= this.#arena.length) return;
    this.#arena = new Uint8Array(Math.max(Math.min(ARENA_BYTES_MAX, 2 * this.#arena.length), ARENA_BYTES_FIRST, bytes));
    this.#at = 0;
    this.#slabEnd = 0;
  }
}
