import { Bytes } from '../src/bytes.js';
import type { Actor, StepRecord } from './actor.js';
import type { SimRng } from './rng.js';
import type { SimQueue, TrackedQueue } from './tracked_queue.js';
import { ChunkCutter, drawChunkBytes, type WorkloadShape } from './workload.js';

/** One stream this actor writes: its queue, the extends left in its plan, how its chunks are cut. */
/** The touched list of a step that touched no queue (never written to). */
const NO_QUEUES: TrackedQueue[] = [];
/** What a reused extend list holds before its first use. */
const NO_BYTES = new Bytes(new ArrayBuffer(0), 0, 0);

export interface SendPlan {
  queue: TrackedQueue;
  extendsLeft: number;
  slab: boolean;
  cutter: ChunkCutter;
}

export interface WorkerActorInit {
  name: string;
  rng: SimRng;
  shape: WorkloadShape;
  sends: TrackedQueue[];
  sources: TrackedQueue[];
  /**
   * Keep the accumulator across rounds until it holds this many bytes (0: flush every round,
   * as timely's send loop and worker receive step do). A batching consumer, to probe the stall guard.
   * (Only the single workload has one: the library's `Config` loops flush every round.)
   */
  holdBytes: number;
  /** Write a readable `detail` for each step (the run asks only when it records its trace). */
  describe?: boolean;
}

/**
 * The single workload's writer or reader: it writes its plan into its outgoing queues and
 * drains its incoming queues in rounds into one shared accumulator,
 * parking only when a whole round produced nothing and some source is not yet complete (the
 * host system's loops, SPEC Part A).
 */
export class WorkerActor implements Actor {
  readonly name: string;
  readonly sources: TrackedQueue[];
  readonly #rng: SimRng;
  readonly #shape: WorkloadShape;
  readonly #sends: SendPlan[];
  readonly #init: WorkerActorInit;
  #writersDropped: boolean;
  #inRound = false;
  #cursor = 0;
  #roundChunks = 0;
  /** Extends left over all plans; the actor produces while it is above 0. */
  #extendsLeft = 0;
  readonly #describe: boolean;
  /** Sources whose reader end is not yet dropped, in order (kept, not recomputed per step). */
  #live: TrackedQueue[];
  /** The record every step returns, refilled each time (the run reads it before the next step). */
  readonly #record: StepRecord = { op: 'note', touched: [], progress: false };
  #acc: Bytes[] = [];
  readonly #itemsByCount: Bytes[][] = [];
  #accBytes = 0;

  constructor(init: WorkerActorInit) {
    this.name = init.name;
    this.#init = init;
    this.#rng = init.rng;
    this.#shape = init.shape;
    this.sources = init.sources;
    this.#sends = init.sends.map((queue) => ({
      queue,
      extendsLeft: init.shape.extendsPerStream,
      slab: init.rng.chance(init.shape.slabChance),
      cutter: new ChunkCutter(init.shape.chunkBytesTypical * 8),
    }));
    this.#writersDropped = init.sends.length === 0;
    this.#extendsLeft = init.sends.length * init.shape.extendsPerStream;
    this.#describe = init.describe ?? true;
    this.#live = [...init.sources];
  }

  get producing(): boolean {
    return this.#extendsLeft > 0;
  }

  pendingInput(): string | undefined {
    return undefined;
  }

  step(nowTicks: number): StepRecord {
    void nowTicks;
    if (this.#inRound) return this.#drainStep();
    const live = this.#liveSources();
    if (this.producing && (live.length === 0 || this.#shape.pattern === 'push-all-then-drain' || this.#rng.chance(0.5))) return this.#extendStep();
    if (!this.producing && !this.#writersDropped) return this.#dropWriters();
    if (live.length > 0) {
      this.#inRound = true;
      this.#cursor = 0;
      this.#roundChunks = 0;
      return this.#drainStep();
    }
    this.#flush();
    return { op: 'finish', detail: 'plan written, every source complete', touched: [], finish: true, progress: true };
  }

  #liveSources(): TrackedQueue[] {
    return this.#live;
  }

  /** A fresh record for this step, in the one object this actor reuses. */
  #fresh(op: StepRecord['op'], touched: TrackedQueue | undefined, progress: boolean): StepRecord {
    const r = this.#record;
    r.op = op;
    r.queue = undefined;
    r.bytes = undefined;
    r.chunks = undefined;
    r.detail = undefined;
    r.park = undefined;
    r.finish = undefined;
    r.progress = progress;
    r.touched = touched === undefined ? NO_QUEUES : touched.asList;
    return r;
  }

  /** The `plan`-th send plan with extends left (no list built). */
  #planWithExtendsLeft(index: number): SendPlan {
    let seen = 0;
    for (const plan of this.#sends) {
      if (plan.extendsLeft <= 0) continue;
      if (seen === index) return plan;
      seen += 1;
    }
    throw new Error(`${this.name} has no send plan number ${index}`);
  }

  #plansWithExtendsLeft(): number {
    let n = 0;
    for (const plan of this.#sends) if (plan.extendsLeft > 0) n += 1;
    return n;
  }

  #extendStep(): StepRecord {
    const plan = this.#sends.length === 1 ? this.#sends[0]! : this.#planWithExtendsLeft(Math.floor(this.#rng.next() * this.#plansWithExtendsLeft()));
    if (this.#sends.length === 1) this.#rng.next(); // the draw a pick among one plan takes, so every shape draws alike
    plan.extendsLeft -= 1;
    this.#extendsLeft -= 1;
    const q = plan.queue;
    const stream = q.stream;
    if (stream === undefined) throw new Error(`${this.name} writes ${q.name}, which has no stream to cut chunks from`);
    const count = this.#rng.chance(this.#shape.emptyExtendChance) ? 0 : this.#rng.int(1, this.#shape.chunksPerExtendMax);
    const items = this.#itemsOf(count);
    let bytes = 0;
    for (let k = 0; k < count; k += 1) {
      const length = drawChunkBytes(this.#rng, this.#shape.chunkSizes);
      items[k] = plan.cutter.cut(length, plan.slab, stream, q.writtenBytes + bytes);
      bytes += length;
    }
    q.noteExtend(items);
    q.writer.extend(items);
    const record = this.#fresh('extend', q, bytes > 0);
    record.queue = q.name;
    record.bytes = bytes;
    record.chunks = count;
    if (this.#describe) record.detail = count === 0 ? 'extend of nothing (the writer policy still runs)' : `extend ${count} chunk${count === 1 ? '' : 's'}${plan.slab ? ' cut from one slab' : ''}`;
    return record;
  }

  /**
   * The list an extend of `count` chunks passes, one per count, reused: `extend` moves the
   * chunks into the queue and keeps no hold on the list itself, so a step need not allocate one.
   */
  #itemsOf(count: number): Bytes[] {
    let items = this.#itemsByCount[count];
    if (items === undefined) {
      items = [];
      for (let k = 0; k < count; k += 1) items.push(NO_BYTES);
      this.#itemsByCount[count] = items;
    }
    return items;
  }

  unwind(): string {
    const dropped: string[] = [];
    const quiet = (q: TrackedQueue, end: SimQueue): void => {
      try {
        end.drop();
      } catch (error) {
        dropped.push(`${q.name} (drop threw ${error instanceof Error ? error.message : String(error)})`);
        return;
      }
      dropped.push(q.name);
    };
    for (const plan of this.#sends) {
      this.#extendsLeft -= plan.extendsLeft;
      plan.extendsLeft = 0;
      if (plan.queue.writerDropped) continue;
      quiet(plan.queue, plan.queue.writer);
      plan.queue.writerDropped = true;
    }
    this.#writersDropped = true;
    for (const q of this.#live) {
      quiet(q, q.reader);
      q.readerDropped = true;
    }
    this.#live = [];
    this.#inRound = false;
    return `unwinding: dropped ${dropped.length === 0 ? 'no handles' : dropped.join(', ')}`;
  }

  #dropWriters(): StepRecord {
    this.#writersDropped = true;
    const touched: TrackedQueue[] = [];
    for (const plan of this.#sends) {
      plan.queue.writer.drop();
      plan.queue.writerDropped = true;
      touched.push(plan.queue);
    }
    return { op: 'drop', detail: `plan done: dropped ${touched.length} writer end${touched.length === 1 ? '' : 's'}`, touched, progress: true };
  }

  /** Drain the next source of the round into the shared accumulator; at the round's end, decide. */
  #drainStep(): StepRecord {
    const live = this.#liveSources();
    const q = live[this.#cursor]!;
    const before = this.#acc.length;
    q.reader.drainInto(this.#acc);
    const chunks = this.#acc.length - before;
    const bytes = q.acceptDelivered(this.#acc, before);
    this.#accBytes += bytes;
    this.#roundChunks += chunks;
    this.#cursor += 1;
    const record = this.#fresh('drain', q, bytes > 0);
    record.queue = q.name;
    record.bytes = bytes;
    record.chunks = chunks;
    if (this.#cursor < live.length) return record;
    return this.#endRound(record, live);
  }

  #endRound(record: StepRecord, live: TrackedQueue[]): StepRecord {
    this.#inRound = false;
    let completed: string[] | undefined;
    for (const q of live) {
      if (!q.reader.isComplete()) continue;
      q.reader.drop();
      q.readerDropped = true;
      (completed ??= []).push(q.name);
      // The record's list may be a queue's shared one-element list: extend a copy.
      if (!record.touched.includes(q)) record.touched = [...record.touched, q];
    }
    if (completed !== undefined) {
      this.#live = this.#live.filter((q) => !q.readerDropped);
      record.progress = true;
    }
    const notes: string[] | undefined = this.#describe ? [] : undefined;
    if (completed !== undefined) notes?.push(`complete: dropped reader end of ${completed.join(', ')}`);
    const allDone = this.#live.length === 0;
    if (this.#roundChunks > 0 || allDone) {
      if (this.#accBytes >= this.#init.holdBytes || allDone) {
        notes?.push(`round delivered ${this.#accBytes} bytes`);
        this.#flush();
      } else {
        notes?.push(`holding ${this.#accBytes} bytes until ${this.#init.holdBytes}`);
      }
    } else if (!this.producing) {
      notes?.push(`round produced nothing${this.#accBytes > 0 ? ` (holding ${this.#accBytes} bytes)` : ''}: park`);
      record.park = true;
    }
    record.detail = notes === undefined || notes.length === 0 ? undefined : notes.join('; ');
    return record;
  }

  /** The consumer is done with what it held: the accumulator empties. */
  #flush(): void {
    // Popped, not `length = 0`: that setter is a runtime call and drops the backing store, which the next round grows again.
    const acc = this.#acc;
    while (acc.length > 0) acc.pop();
    this.#accBytes = 0;
  }
}
