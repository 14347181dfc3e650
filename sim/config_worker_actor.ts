import type { Allocator } from '../src/allocator/allocator.js';
import type { Actor, StepRecord } from './actor.js';
import type { ByteStream } from './byte_stream.js';
import { counted, type OpCounter } from './op_counter.js';
import type { SimRng } from './rng.js';
import type { TrackedQueue } from './tracked_queue.js';
import { drawChunkBytes, type WorkloadShape } from './workload.js';

/** One (source worker → target worker) message stream: what was sent and received of it. */
export interface MessageStream {
  stream: ByteStream;
  sentBytes: number;
  receivedBytes: number;
  /** The queue that delivers it to the target (process-binary, or cluster-recv). */
  deliveredBy: TrackedQueue | undefined;
}

export interface ConfigWorkerInit {
  name: string;
  allocator: Allocator;
  rng: SimRng;
  shape: WorkloadShape;
  streams: Map<string, MessageStream>;
  counter: OpCounter;
  sources: TrackedQueue[];
  outgoing: TrackedQueue[];
}

/** A worker on a `Config` allocator: sends its plan of messages, flushes, receives, finishes. */
export class ConfigWorkerActor implements Actor {
  readonly name: string;
  readonly sources: readonly TrackedQueue[];
  readonly #init: ConfigWorkerInit;
  readonly #messagesLeft: number[];
  #unflushed = false;
  #finished = false;

  constructor(init: ConfigWorkerInit) {
    this.name = init.name;
    this.#init = init;
    this.sources = init.sources;
    this.#messagesLeft = new Array<number>(init.allocator.peers).fill(init.shape.extendsPerStream);
  }

  get producing(): boolean {
    return !this.#finished;
  }

  pendingInput(): string | undefined {
    return undefined;
  }

  step(): StepRecord {
    return counted(this.#init.counter, () => this.#step());
  }

  #step(): StepRecord {
    const { allocator, rng, shape } = this.#init;
    const left = this.#messagesLeft.some((n) => n > 0);
    if (left && (shape.pattern === 'push-all-then-drain' || rng.chance(0.5))) return this.#send();
    if (this.#unflushed && (!left || rng.chance(0.5))) {
      this.#unflushed = false;
      const bytes = allocator.flush();
      return { op: 'extend', bytes, detail: `flush ${bytes} framed bytes`, touched: this.#init.outgoing, progress: bytes > 0 };
    }
    if (!left && !this.#unflushed && !this.#finished) {
      this.#finished = true;
      allocator.finish();
      return { op: 'drop', detail: 'finish: every writer end dropped', touched: this.#init.outgoing, progress: true };
    }
    return this.#receive();
  }

  #send(): StepRecord {
    const { allocator, rng, shape, streams } = this.#init;
    const targets = this.#messagesLeft.map((n, t) => (n > 0 ? t : -1)).filter((t) => t >= 0);
    const target = rng.pick(targets);
    this.#messagesLeft[target]! -= 1;
    const s = streams.get(`${allocator.index}->${target}`)!;
    const payload = new Uint8Array(drawChunkBytes(rng, shape.chunkSizes));
    s.stream.fill(payload, s.sentBytes);
    s.sentBytes += payload.length;
    allocator.send(target, payload);
    this.#unflushed = true;
    // A full slab is handed to its queue inside send, so the writer side may have moved.
    return { op: 'send', bytes: payload.length, chunks: 1, detail: `message to worker ${target}`, touched: this.#init.outgoing, progress: true };
  }

  #receive(): StepRecord {
    const { allocator, streams } = this.#init;
    const messages = allocator.receive();
    let bytes = 0;
    for (const message of messages) {
      const s = streams.get(`${message.source}->${allocator.index}`)!;
      const at = s.stream.firstMismatch(message.payload, s.receivedBytes);
      if (at >= 0 && s.deliveredBy !== undefined && s.deliveredBy.deliveryError === undefined) {
        s.deliveredBy.deliveryError = {
          invariant: 'no-reorder',
          message: `worker ${allocator.index} received a wrong byte from worker ${message.source} at stream offset ${s.receivedBytes + at}`,
        };
      }
      s.receivedBytes += message.payload.length;
      bytes += message.payload.length;
    }
    const record: StepRecord = { op: 'drain', bytes, chunks: messages.length, detail: `receive step: ${messages.length} messages`, touched: [...this.sources], progress: bytes > 0 };
    if (messages.length > 0 || !this.#finished) return record;
    if (allocator.isComplete()) {
      for (let source = 0; source < allocator.peers; source += 1) this.#checkAllArrived(source);
      allocator.drop();
      return { ...record, op: 'finish', detail: 'every peer finished and every message arrived', finish: true, progress: true };
    }
    return { ...record, park: true, detail: 'receive step found nothing: park' };
  }

  /** Complete means every message of every peer arrived; a shortfall is a loss. */
  #checkAllArrived(source: number): void {
    const s = this.#init.streams.get(`${source}->${this.#init.allocator.index}`)!;
    if (s.receivedBytes !== s.sentBytes && s.deliveredBy !== undefined && s.deliveredBy.deliveryError === undefined) {
      s.deliveredBy.deliveryError = {
        invariant: 'no-loss',
        message: `worker ${this.#init.allocator.index} completed with ${s.receivedBytes} of the ${s.sentBytes} payload bytes worker ${source} sent`,
      };
    }
  }
}

