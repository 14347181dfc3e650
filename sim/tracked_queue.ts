import type { Buzzer } from '../src/buzzer.js';
import type { Bytes } from '../src/bytes.js';
import type { EntryDeque } from '../src/entry_deque.js';
import type { MergeQueueOptions } from '../src/merge_queue.js';
import type { BytesSpill } from '../src/spill.js';
import type { SpillPolicy } from '../src/spill_policy.js';
import type { ByteStream } from './byte_stream.js';
import type { FaultySpill } from './faults.js';
import type { QueueSummary } from './trace.js';

/** What the simulator needs from one end of a queue; `MergeQueue` is one, a broken test double another. */
export interface SimQueue {
  extend(items: Iterable<Bytes>): void;
  drainInto(out: Bytes[]): void;
  isComplete(): boolean;
  drop(): void;
  readonly deque: EntryDeque;
  /** True once a handle's call threw with the queue's lock held (the reference's poisoned mutex). */
  readonly isPoisoned?: boolean;
}

/** Builds a writer/reader pair; runs may inject a broken one to show an invariant fires. */
export type QueueFactory = (
  buzzer: Buzzer,
  writerPolicy: SpillPolicy | undefined,
  readerPolicy: SpillPolicy | undefined,
  options: MergeQueueOptions,
) => [writer: SimQueue, reader: SimQueue];

/** What a policy factory is given for one queue (like a SPEC policy module's `ctx`). */
export interface PolicyContext {
  /** The storage the writer policy should spill through (fault-injecting). */
  strategy: BytesSpill;
  queue: string;
  thresholdBytes: number;
  headReserveBytes: number;
  prefetchBudgetBytes: number;
}

/** Builds a `[writer, reader]` policy pair per queue; runs may inject a broken one. */
export type PolicyFactory = (ctx: PolicyContext) => [writer: SpillPolicy | undefined, reader: SpillPolicy | undefined];

/** A delivery that did not match the stream, found while draining. */
export interface DeliveryError {
  invariant: 'no-loss' | 'no-duplicate' | 'no-reorder';
  message: string;
}

/**
 * One queue under simulation and the harness's running account of it: bytes written and
 * delivered (offsets into its stream), so each check after a step costs O(1) plus the bytes
 * that moved, never a rescan.
 */
export class TrackedQueue {
  readonly name: string;
  /** The bytes this queue carries, when the harness writes them itself (undefined: framed traffic checked per message). */
  readonly stream: ByteStream | undefined;
  readonly writer: SimQueue;
  readonly reader: SimQueue;
  /** The reader's deque, asked for once (the checks read it several times a step). */
  readonly deque: EntryDeque;
  readonly spill: FaultySpill | undefined;
  /** Actor that extends this queue, and actor whose buzzer it rings. */
  readonly writerActor: string;
  readonly readerActor: string;
  /** `[this]`, made once: the touched list of a step that touched only this queue (read-only by convention). */
  readonly asList: TrackedQueue[] = [this];
  writtenBytes = 0;
  deliveredBytes = 0;
  writerDropped = false;
  readerDropped = false;
  /** Longest resident entry this queue can hold (merge runs seen at extend): the `S` of the resident bound. */
  entryBytesMax = 0;
  /** `extend` calls so far; the run recomputes the resident bound after each one. */
  extendCalls = 0;
  /** `extendCalls` when the bound was last computed. */
  extendCallsBounded = 0;
  /** Resident bytes the writer policy promises after the last writer step (see README: the resident bound). */
  residentBoundBytes: number;
  /** Liveness phase: step since which deliverable data has waited without any delivery. */
  waitingSinceStep: number | undefined;
  /** Bytes delivered when the wait began; any delivery since resets the wait. */
  waitingDeliveredBytes = 0;
  deliveryError: DeliveryError | undefined;
  /** Step from which the next recount of the deque is due (the resident-count spot check). */
  recountDueStep = 0;
  /** Step at which the run saw this queue poisoned by a panic (its data is forfeit from then on). */
  poisonedAtStep: number | undefined;
  /** Resident bytes when the run last added this queue into its resident total (for the peak). */
  residentNotedBytes = 0;
  /** The allocation the last delivered chunk was checked in, and a view of all of it. */
  #viewed: ArrayBufferLike | undefined;
  #view: Uint8Array = new Uint8Array(0);

  constructor(init: {
    name: string;
    stream: ByteStream | undefined;
    pair: [SimQueue, SimQueue];
    spill: FaultySpill | undefined;
    writerActor: string;
    readerActor: string;
    residentBoundBytes: number;
  }) {
    this.name = init.name;
    this.stream = init.stream;
    [this.writer, this.reader] = init.pair;
    this.deque = this.reader.deque;
    this.spill = init.spill;
    this.writerActor = init.writerActor;
    this.readerActor = init.readerActor;
    this.residentBoundBytes = init.residentBoundBytes;
  }


  /** Bytes the storage holds for this queue (spilled, not yet fetched back). */
  get storedBytes(): number {
    return this.spill?.storedBytes ?? 0;
  }

  /**
   * Account for `items` about to be extended: they are written, and the longest entry the
   * queue can hold grows to the longest merge run they make (the back entry grows by each item
   * that continues its allocation; a new run starts at each item that does not).
   */
  noteExtend(items: readonly Bytes[]): void {
    this.extendCalls += 1;
    const back = this.writer.deque.backBytes();
    let runBytes = 0;
    let endBuffer: ArrayBufferLike | undefined;
    let endOffset = 0;
    if (back !== undefined) {
      runBytes = back.length;
      endBuffer = back.buffer;
      endOffset = back.offset + back.length;
    }
    for (let k = 0; k < items.length; k += 1) {
      const item = items[k]!;
      const continues = endBuffer !== undefined && endBuffer === item.buffer && endOffset === item.offset;
      runBytes = continues ? runBytes + item.length : item.length;
      endBuffer = item.buffer;
      endOffset = item.offset + item.length;
      if (runBytes > this.entryBytesMax) this.entryBytesMax = runBytes;
      this.writtenBytes += item.length;
    }
  }

  /** Check the chunks `chunks[from..]` just drained against the stream, in order, and count them delivered. */
  acceptDelivered(chunks: readonly Bytes[], from = 0): number {
    let bytes = 0;
    for (let k = from; k < chunks.length; k += 1) {
      const chunk = chunks[k]!;
      if (this.deliveryError === undefined && this.stream !== undefined) this.#check(chunk, this.stream);
      this.deliveredBytes += chunk.length;
      bytes += chunk.length;
    }
    return bytes;
  }

  #check(chunk: Bytes, stream: ByteStream): void {
    const endBytes = this.deliveredBytes + chunk.length;
    if (endBytes > this.writtenBytes) {
      this.deliveryError = {
        invariant: 'no-duplicate',
        message: `${this.name} delivered ${endBytes} bytes in all but only ${this.writtenBytes} were written: some bytes came out twice`,
      };
      return;
    }
    // Chunks come from a few large allocations (a writer's arena, a backend's slab): one view of
    // the last one serves them all, instead of a view made per chunk.
    if (chunk.buffer !== this.#viewed) {
      this.#viewed = chunk.buffer;
      this.#view = new Uint8Array(chunk.buffer);
    }
    const at = stream.firstMismatchAt(this.#view, chunk.offset, chunk.length, this.deliveredBytes);
    if (at >= 0) {
      this.deliveryError = {
        invariant: 'no-reorder',
        message: `${this.name} delivered a wrong byte at stream offset ${this.deliveredBytes + at} (in a ${chunk.length}-byte chunk): a chunk was lost, duplicated or reordered before it`,
      };
    }
  }

  summary(): QueueSummary {
    const deque = this.deque;
    return {
      residentBytes: deque.residentBytes,
      pagedBytes: this.storedBytes,
      inFlightBytes: this.writtenBytes - this.deliveredBytes,
      entries: deque.length,
      pagedEntries: deque.pagedCount,
    };
  }
}
