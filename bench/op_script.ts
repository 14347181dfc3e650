import { runSimulation } from '../sim/run.js';
import type { SimOptions } from '../sim/options.js';
import { SimFs } from '../sim/sim_fs.js';
import type { SimRunResult } from '../sim/trace.js';
import type { SimQueue } from '../sim/tracked_queue.js';
import type { PolicyKnobs } from '../sim/workload.js';
import { BatchFileSpill, Buzzer, Bytes, MergeQueue, PrefetchPolicy, Threshold } from '../src/index.js';

/**
 * The queue operations of one single-workload simulation, in the order the queue saw them, so
 * the same operations can be timed again outside the simulator (benchmark 5). A chunk is kept as
 * its byte length and whether it continued the allocation of the chunk extended just before it
 * (the queue merges such chunks, so the replay must place them alike); its bytes are not kept.
 */
export interface OpScript {
  /** One entry per call: `n >= 0` an `extend` of `n` chunks (0: an empty extend), or one of the `OP_*` codes below. */
  ops: Int32Array;
  /** Per chunk over all extends, in order: its byte length, plus `CONTINUES` when it starts where the chunk before it ended. */
  chunks: Uint32Array;
  extendCalls: number;
  drainCalls: number;
}

/** A run and the queue operations it made. */
export interface CapturedScript {
  result: SimRunResult;
  script: OpScript;
}

/** `OpScript.ops`: the reader's `drainInto`. */
export const OP_DRAIN = -1;
/** `OpScript.ops`: the writer's `drop()` (the reader then sees the queue complete once it is empty). */
export const OP_DROP_WRITER = -2;
/** `OpScript.ops`: the reader's `drop()`. */
export const OP_DROP_READER = -3;
/** The bit of `OpScript.chunks` that says the chunk continues the previous chunk's allocation. */
const CONTINUES = 0x8000_0000;
const CHUNK_BYTES_MASK = 0x7fff_ffff;

/**
 * Run `options` (single workload, no injected queue factory) with its writer and reader ends
 * wrapped to record every `extend`, `drainInto` and `drop` into an `OpScript`. The wrappers
 * only record and forward, so the run is the same run: its `traceHash` equals that of
 * `runSimulation(options)` (the benchmark and the tests check it).
 */
export function captureOpScript(options: SimOptions): CapturedScript {
  if ((options.workload ?? 'single') !== 'single' || options.queueFactory !== undefined) {
    throw new Error('captureOpScript records the single workload with its own queue pair (no workload other than single, no queueFactory)');
  }
  const recorder = new ScriptRecorder();
  const result = runSimulation({
    ...options,
    queueFactory: (buzzer, writerPolicy, readerPolicy, queueOptions) => {
      const [writer, reader] = MergeQueue.newPair(buzzer, writerPolicy, readerPolicy, queueOptions);
      return [recorder.end(writer, 'writer'), recorder.end(reader, 'reader')];
    },
  });
  return { result, script: recorder.script() };
}

/** Growable typed arrays of a script being recorded (a deep run makes about 500,000 chunks). */
class ScriptRecorder {
  #ops = new Int32Array(1024);
  #opCount = 0;
  #chunks = new Uint32Array(4096);
  #chunkCount = 0;
  #extendCalls = 0;
  #drainCalls = 0;
  /** Where the last chunk extended ended: its allocation and the offset after its last byte. */
  #endBuffer: ArrayBufferLike | undefined;
  #endOffset = 0;

  /** `queue` as the simulator's writer or reader end: each call is recorded (the writer's extends, the reader's drains, either's drop), then forwarded. */
  end(queue: MergeQueue, side: 'writer' | 'reader'): SimQueue {
    const writer = side === 'writer';
    return {
      extend: (items) => {
        if (writer) this.#extend(items);
        queue.extend(items);
      },
      drainInto: (out) => {
        if (!writer) this.#drain();
        queue.drainInto(out);
      },
      isComplete: () => queue.isComplete(),
      drop: () => {
        this.#op(writer ? OP_DROP_WRITER : OP_DROP_READER);
        queue.drop();
      },
      get deque() {
        return queue.deque;
      },
      get isPoisoned() {
        return queue.isPoisoned;
      },
    };
  }

  script(): OpScript {
    return { ops: this.#ops.slice(0, this.#opCount), chunks: this.#chunks.slice(0, this.#chunkCount), extendCalls: this.#extendCalls, drainCalls: this.#drainCalls };
  }

  #extend(items: Iterable<Bytes>): void {
    const list = [...items];
    this.#extendCalls += 1;
    this.#op(list.length);
    for (const item of list) {
      if (item.length > CHUNK_BYTES_MASK) throw new Error(`a chunk of ${item.length} bytes is too long for an OpScript`);
      const continues = item.buffer === this.#endBuffer && item.offset === this.#endOffset;
      if (this.#chunkCount === this.#chunks.length) this.#chunks = grown(this.#chunks, new Uint32Array(2 * this.#chunks.length));
      this.#chunks[this.#chunkCount++] = (continues ? CONTINUES : 0) + item.length;
      this.#endBuffer = item.buffer;
      this.#endOffset = item.offset + item.length;
    }
  }

  #drain(): void {
    this.#drainCalls += 1;
    this.#op(OP_DRAIN);
  }

  #op(code: number): void {
    if (this.#opCount === this.#ops.length) this.#ops = grown(this.#ops, new Int32Array(2 * this.#ops.length));
    this.#ops[this.#opCount++] = code;
  }
}

function grown<T extends Int32Array | Uint32Array>(from: T, to: T): T {
  to.set(from);
  return to;
}

/** What one replay of a script did. */
export interface ReplayOutcome {
  /** Bytes `drainInto` handed out over the whole script. */
  deliveredBytes: number;
  /** `extend` and `drainInto` calls made (drops not counted). */
  calls: number;
  /** Bytes the writer policy wrote to the storage (its `writtenBytes`). */
  spilledBytes: number;
}

/**
 * One replay of an `OpScript` on a fresh queue outside the simulator, built untimed by the
 * constructor: `MergeQueue.newPair` with the run's default policies (`Threshold` writer,
 * `PrefetchPolicy` reader, knobs from the run's result) over the simulator's storage engine
 * and disk (`BatchFileSpill` in chunk-read, partial-write mode on a `SimFs`), no fault
 * injection, no scheduler, no checks. `run()` is the part to time; call it once.
 *
 * Chunks are views cut from `memory` (pre-filled, shared by all replays): continuing chunks
 * back to back, any other after a byte of gap, so the queue merges exactly the chunks it merged
 * in the simulation. `memory` must hold the longest run of continuing chunks plus 2 bytes.
 */
export class OpScriptReplay {
  readonly #script: OpScript;
  readonly #writer: MergeQueue;
  readonly #reader: MergeQueue;
  readonly #storage: BatchFileSpill;
  readonly #buffer: ArrayBufferLike;
  readonly #offsets: Int32Array;
  /** The extend lists, one per chunk count, reused (`extend` keeps no hold on the list). */
  readonly #itemsByCount: Bytes[][] = [];
  readonly #out: Bytes[] = [];
  #ran = false;

  constructor(script: OpScript, knobs: PolicyKnobs, memory: Uint8Array) {
    this.#script = script;
    this.#storage = new BatchFileSpill('FileSpill', { dir: '/spill', fs: new SimFs(), readMode: 'chunk', writeMode: 'partial' });
    const writerPolicy = new Threshold(this.#storage, { thresholdBytes: knobs.thresholdBytes, headReserveBytes: knobs.headReserveBytes });
    [this.#writer, this.#reader] = MergeQueue.newPair(new Buzzer(), writerPolicy, new PrefetchPolicy(knobs.prefetchBudgetBytes));
    this.#buffer = memory.buffer;
    this.#offsets = chunkOffsets(script.chunks, memory.byteOffset, memory.byteLength);
    const filler = Bytes.from(new Uint8Array(0));
    for (let count = 0; count <= 64; count += 1) this.#itemsByCount.push(new Array<Bytes>(count).fill(filler));
  }

  run(): ReplayOutcome {
    if (this.#ran) throw new Error('an OpScriptReplay runs once (its queue and storage hold the first run\'s state)');
    this.#ran = true;
    const { ops, chunks } = this.#script;
    const offsets = this.#offsets;
    const buffer = this.#buffer;
    const writer = this.#writer;
    const reader = this.#reader;
    const out = this.#out;
    let chunk = 0;
    let deliveredBytes = 0;
    let calls = 0;
    for (let k = 0; k < ops.length; k += 1) {
      const op = ops[k]!;
      if (op >= 0) {
        const items = op < this.#itemsByCount.length ? this.#itemsByCount[op]! : new Array<Bytes>(op);
        for (let i = 0; i < op; i += 1, chunk += 1) items[i] = new Bytes(buffer, offsets[chunk]!, chunks[chunk]! & CHUNK_BYTES_MASK);
        writer.extend(items);
        calls += 1;
      } else if (op === OP_DRAIN) {
        reader.drainInto(out);
        calls += 1;
        // Popped, not `length = 0`, which would drop the backing store the next drain grows again.
        while (out.length > 0) deliveredBytes += out.pop()!.length;
      } else if (op === OP_DROP_WRITER) {
        writer.drop();
      } else {
        reader.drop();
      }
    }
    return { deliveredBytes, calls, spilledBytes: this.#storage.stats().writtenBytes };
  }
}

/**
 * Where each chunk of `chunks` goes in `[byteOffset, byteOffset + byteLength)` of a buffer: a
 * continuing chunk right after the one before it, any other after a byte of gap; a run of
 * continuing chunks that would pass the end starts again at the beginning.
 */
function chunkOffsets(chunks: Uint32Array, byteOffset: number, byteLength: number): Int32Array {
  // The bytes of the run of continuing chunks each chunk starts, found from the back.
  const runBytes = new Float64Array(chunks.length);
  for (let k = chunks.length - 1; k >= 0; k -= 1) {
    const next = k + 1 < chunks.length && (chunks[k + 1]! & CONTINUES) !== 0 ? runBytes[k + 1]! : 0;
    runBytes[k] = (chunks[k]! & CHUNK_BYTES_MASK) + next;
  }
  const offsets = new Int32Array(chunks.length);
  let at = 0;
  for (let k = 0; k < chunks.length; k += 1) {
    if ((chunks[k]! & CONTINUES) === 0) {
      if (runBytes[k]! + 2 > byteLength) throw new Error(`a run of ${runBytes[k]} bytes of merging chunks does not fit in the ${byteLength}-byte replay memory`);
      if (at + 1 + runBytes[k]! > byteLength) at = 0;
      at += 1;
    }
    offsets[k] = byteOffset + at;
    at += chunks[k]! & CHUNK_BYTES_MASK;
  }
  return offsets;
}
