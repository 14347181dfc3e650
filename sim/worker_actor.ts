import type { Bytes } from '../src/bytes.js';
import type { Actor, StepRecord } from './actor.js';
import type { SimRng } from './rng.js';
import type { TrackedQueue } from './tracked_queue.js';
import { ChunkCutter, drawChunkBytes, type WorkloadShape } from './workload.js';

/** One stream this actor writes: its queue, the extends left in its plan, how its chunks are cut. */
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
  #acc: Bytes[] = [];
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
  }

  get producing(): boolean {
    return this.#sends.some((s) => s.extendsLeft > 0);
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
    return this.sources.filter((q) => !q.readerDropped);
  }

  #extendStep(): StepRecord {
    const plan = this.#rng.pick(this.#sends.filter((s) => s.extendsLeft > 0));
    plan.extendsLeft -= 1;
    const q = plan.queue;
    const stream = q.stream;
    if (stream === undefined) throw new Error(`${this.name} writes ${q.name}, which has no stream to cut chunks from`);
    const count = this.#rng.chance(this.#shape.emptyExtendChance) ? 0 : this.#rng.int(1, this.#shape.chunksPerExtendMax);
    const items: Bytes[] = [];
    let bytes = 0;
    for (let k = 0; k < count; k += 1) {
      const length = drawChunkBytes(this.#rng, this.#shape.chunkSizes);
      const at = q.writtenBytes + bytes;
      items.push(plan.cutter.cut(length, plan.slab, (into) => stream.fill(into, at)));
      bytes += length;
    }
    q.noteExtend(items);
    q.writer.extend(items);
    return {
      op: 'extend',
      queue: q.name,
      bytes,
      chunks: count,
      detail: count === 0 ? 'extend of nothing (the writer policy still runs)' : `extend ${count} chunk${count === 1 ? '' : 's'}${plan.slab ? ' cut from one slab' : ''}`,
      touched: [q],
      progress: bytes > 0,
    };
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
    const fresh = this.#acc.slice(before);
    const bytes = q.acceptDelivered(fresh);
    this.#accBytes += bytes;
    this.#roundChunks += fresh.length;
    this.#cursor += 1;
    const record: StepRecord = { op: 'drain', queue: q.name, bytes, chunks: fresh.length, touched: [q], progress: bytes > 0 };
    if (this.#cursor < live.length) return record;
    return this.#endRound(record, live);
  }

  #endRound(record: StepRecord, live: TrackedQueue[]): StepRecord {
    this.#inRound = false;
    const completed: string[] = [];
    for (const q of live) {
      if (!q.reader.isComplete()) continue;
      q.reader.drop();
      q.readerDropped = true;
      completed.push(q.name);
      if (!record.touched.includes(q)) record.touched.push(q);
    }
    const notes: string[] = [];
    if (completed.length > 0) {
      notes.push(`complete: dropped reader end of ${completed.join(', ')}`);
      record.progress = true;
    }
    const allDone = this.#liveSources().length === 0;
    if (this.#roundChunks > 0 || allDone) {
      if (this.#accBytes >= this.#init.holdBytes || allDone) {
        notes.push(`round delivered ${this.#accBytes} bytes`);
        this.#flush();
      } else {
        notes.push(`holding ${this.#accBytes} bytes until ${this.#init.holdBytes}`);
      }
    } else if (!this.producing) {
      notes.push(`round produced nothing${this.#accBytes > 0 ? ` (holding ${this.#accBytes} bytes)` : ''}: park`);
      record.park = true;
    }
    record.detail = notes.join('; ') || undefined;
    return record;
  }

  /** The consumer is done with what it held: the accumulator empties. */
  #flush(): void {
    this.#acc = [];
    this.#accBytes = 0;
  }
}
