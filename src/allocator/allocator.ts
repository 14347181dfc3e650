import type { Bytes } from '../bytes.js';
import type { Buzzer } from '../buzzer.js';
import { SpillsimError } from '../errors.js';
import type { LogFn } from '../hooks.js';
import type { MergeQueue } from '../merge_queue.js';
import { FrameAssembler } from './frame_assembler.js';
import type { Message, SendOptions } from './message.js';
import { CHANNEL_MAX, HEADER_BYTES, HEADER_FIELD_MAX, type MessageHeader, corruptFrameError, tryReadHeader } from './message_header.js';
import type { SendEndpoint } from './send_endpoint.js';
import type { TypedChannel } from './typed_channel.js';

/** How a worker reaches one target: a typed channel, or frames on a byte queue's writer end. */
export type Route = { kind: 'typed'; channel: TypedChannel } | { kind: 'bytes'; endpoint: SendEndpoint };

/** What a builder wires into one worker's allocator. */
export interface AllocatorParts {
  index: number;
  peers: number;
  buzzer: Buzzer;
  /** By target worker index; network targets of one remote process share one endpoint. */
  routes: Route[];
  /** Every distinct send endpoint and outgoing typed channel, in build order, for flush and finish. */
  endpoints: SendEndpoint[];
  outboxes: TypedChannel[];
  /** Reader ends of the byte queues this worker receives on, in drain order. */
  receiveQueues: MergeQueue[];
  inboxes: TypedChannel[];
  logFn: LogFn | undefined;
}

export interface AllocatorTraffic {
  sentMessages: number;
  sentPayloadBytes: number;
  receivedMessages: number;
  receivedPayloadBytes: number;
}

/**
 * One worker's communication endpoint (timely's `Allocate`): `send` frames messages to any
 * worker, `flush` hands the batches to their queues, `receive` is the worker's receive step.
 *
 * It is a step API with no threads, timers or promises: the caller (a test, `runUntilQuiet`,
 * the simulator's scheduler) decides when each worker sends, flushes and receives. Every
 * queue and typed channel this worker receives on buzzes `buzzer`, so a scheduler can park the
 * worker until that buzzer's count changes.
 *
 * Every message received is checked against its header (right target, known source) and its
 * sequence number (no gap, no repeat per source and channel): corrupted, lost or reordered
 * bytes throw `E_BACKEND_CONTRACT` instead of reaching the caller.
 */
export class Allocator {
  readonly index: number;
  /** Workers in the whole system, this one included. */
  readonly peers: number;
  readonly buzzer: Buzzer;
  readonly #routes: Route[];
  readonly #endpoints: SendEndpoint[];
  readonly #outboxes: TypedChannel[];
  readonly #receiveQueues: MergeQueue[];
  readonly #assemblers: FrameAssembler[];
  readonly #inboxes: TypedChannel[];
  readonly #logFn: LogFn | undefined;
  // By channel, then by peer: the next sequence number to send to each target, and the next
  // expected from each source.
  readonly #sendSequence = new Map<number, Float64Array>();
  readonly #receiveSequence = new Map<number, Float64Array>();
  #finished = false;
  #dropped = false;
  readonly #traffic: AllocatorTraffic = { sentMessages: 0, sentPayloadBytes: 0, receivedMessages: 0, receivedPayloadBytes: 0 };

  constructor(parts: AllocatorParts) {
    this.index = parts.index;
    this.peers = parts.peers;
    this.buzzer = parts.buzzer;
    this.#routes = parts.routes;
    this.#endpoints = parts.endpoints;
    this.#outboxes = parts.outboxes;
    this.#receiveQueues = parts.receiveQueues;
    this.#assemblers = parts.receiveQueues.map(() => new FrameAssembler());
    this.#inboxes = parts.inboxes;
    this.#logFn = parts.logFn;
  }

  /** Reader ends of the byte queues this worker drains, for inspection (do not drain them yourself). */
  get receiveQueues(): readonly MergeQueue[] {
    return this.#receiveQueues;
  }

  get isDropped(): boolean {
    return this.#dropped;
  }

  get isFinished(): boolean {
    return this.#finished;
  }

  /** Messages and payload bytes this worker sent and received so far (a copy). */
  get traffic(): AllocatorTraffic {
    return { ...this.#traffic };
  }

  /**
   * Frame `payload` for `target` (copied, so the caller may reuse its buffer). Byte routes batch
   * it with this worker's other unflushed frames to the same queue; nothing moves until `flush`.
   * Typed routes deliver at once.
   */
  send(target: number, payload: Uint8Array, options: SendOptions = {}): void {
    this.#checkUsable('send');
    if (this.#finished) throw new SpillsimError('E_DROPPED', `worker ${this.index}: send after finish()`);
    if (!Number.isSafeInteger(target) || target < 0 || target >= this.peers) {
      throw new SpillsimError('E_BAD_ARGUMENT', `worker ${this.index}: send target must be a worker index in 0..${this.peers - 1}, got ${String(target)}`);
    }
    if (!(payload instanceof Uint8Array) || payload.byteLength > HEADER_FIELD_MAX - HEADER_BYTES) {
      throw new SpillsimError('E_BAD_ARGUMENT', `worker ${this.index}: payload must be a Uint8Array shorter than 4 GiB`);
    }
    const channel = options.channel ?? 0;
    if (!Number.isSafeInteger(channel) || channel < 0 || channel > CHANNEL_MAX) {
      throw new SpillsimError('E_BAD_ARGUMENT', `worker ${this.index}: channel must be a whole number in 0..${CHANNEL_MAX}, got ${String(channel)}`);
    }
    const sequences = this.#sequencesOf(this.#sendSequence, channel);
    const sequence = sequences[target]!;
    sequences[target] = (sequence + 1) % (HEADER_FIELD_MAX + 1);
    const header: MessageHeader = { channel, source: this.index, target, sequence, payloadBytes: payload.byteLength };
    const route = this.#routes[target]!;
    if (route.kind === 'typed') {
      route.channel.push({ ...header, payload: payload.slice() });
    } else {
      route.endpoint.write(header, payload);
    }
    this.#traffic.sentMessages += 1;
    this.#traffic.sentPayloadBytes += payload.byteLength;
    this.#logFn?.({ kind: 'message', isSend: true, header });
  }

  /** Hand every unflushed batch to its queue, in endpoint order. Returns the bytes handed over. */
  flush(): number {
    this.#checkUsable('flush');
    let flushedBytes = 0;
    for (const endpoint of this.#endpoints) {
      flushedBytes += endpoint.pendingBytes;
      endpoint.flush();
    }
    return flushedBytes;
  }

  /**
   * The worker's receive step (timely's `receive`): drain **all** receive queues into one staged
   * list, then cut it into frames, each queue's chunks through that queue's own assembler (a
   * frame may straddle chunks, never queues). Typed channels' messages come first, then the
   * byte queues' in queue order; order is kept per (source, channel).
   */
  receive(): Message[] {
    this.#checkUsable('receive');
    const messages: Message[] = [];
    for (const inbox of this.#inboxes) {
      const start = messages.length;
      inbox.drainInto(messages);
      for (let i = start; i < messages.length; i += 1) this.#accept(messages[i]!);
    }
    const staged: Bytes[] = [];
    const stagedEnds: number[] = [];
    for (const queue of this.#receiveQueues) {
      queue.drainInto(staged);
      stagedEnds.push(staged.length);
    }
    const frames: Bytes[] = [];
    let start = 0;
    for (let q = 0; q < stagedEnds.length; q += 1) {
      for (let i = start; i < stagedEnds[q]!; i += 1) this.#assemblers[q]!.push(staged[i]!, frames);
      start = stagedEnds[q]!;
    }
    for (const frame of frames) messages.push(this.#accept(this.#parse(frame)));
    return messages;
  }

  /**
   * No more sends: flush, then drop every writer end and close every outgoing typed channel, so
   * each receiver's queue from this worker becomes complete once drained. Receiving goes on.
   */
  finish(): void {
    this.#checkUsable('finish');
    if (this.#finished) return;
    this.#finished = true;
    for (const endpoint of this.#endpoints) endpoint.finish();
    for (const outbox of this.#outboxes) outbox.close();
  }

  /**
   * True once every peer has finished and this worker has received everything: each receive
   * queue is complete on this, its last handle, each typed channel is closed and empty, and no
   * part of a frame is held back.
   */
  isComplete(): boolean {
    this.#checkUsable('isComplete');
    return (
      this.#receiveQueues.every((queue) => queue.isComplete()) &&
      this.#inboxes.every((inbox) => inbox.isComplete) &&
      this.#assemblers.every((assembler) => assembler.carriedBytes === 0)
    );
  }

  /** Finish, then release the reader ends. Using the allocator afterwards throws `E_DROPPED`. */
  drop(): void {
    if (this.#dropped) return;
    this.finish();
    this.#dropped = true;
    for (const queue of this.#receiveQueues) queue.drop();
  }

  [Symbol.dispose](): void {
    this.drop();
  }

  #parse(frame: Bytes): Message {
    const data = frame.data;
    const header = tryReadHeader(data);
    if (header === undefined || frame.length !== HEADER_BYTES + header.payloadBytes) {
      throw corruptFrameError(`worker ${this.index}`, `a frame of ${frame.length} bytes does not match its header`);
    }
    return { channel: header.channel, source: header.source, target: header.target, sequence: header.sequence, payload: data.subarray(HEADER_BYTES) };
  }

  /** Check a message against this worker and its source's sequence; count it. */
  #accept(message: Message): Message {
    const where = `worker ${this.index}`;
    if (message.target !== this.index) throw corruptFrameError(where, `message for worker ${message.target} arrived here`);
    if (message.source >= this.peers) throw corruptFrameError(where, `message from unknown worker ${message.source}`);
    const sequences = this.#sequencesOf(this.#receiveSequence, message.channel);
    const expected = sequences[message.source]!;
    if (message.sequence !== expected) {
      throw corruptFrameError(where, `message ${message.sequence} from worker ${message.source} on channel ${message.channel} arrived where ${expected} was next`);
    }
    sequences[message.source] = (expected + 1) % (HEADER_FIELD_MAX + 1);
    this.#traffic.receivedMessages += 1;
    this.#traffic.receivedPayloadBytes += message.payload.byteLength;
    if (this.#logFn !== undefined) {
      const { channel, source, target, sequence } = message;
      this.#logFn({ kind: 'message', isSend: false, header: { channel, source, target, sequence, payloadBytes: message.payload.byteLength } });
    }
    return message;
  }

  #sequencesOf(byChannel: Map<number, Float64Array>, channel: number): Float64Array {
    let sequences = byChannel.get(channel);
    if (sequences === undefined) {
      sequences = new Float64Array(this.peers);
      byChannel.set(channel, sequences);
    }
    return sequences;
  }

  #checkUsable(what: string): void {
    if (this.#dropped) throw new SpillsimError('E_DROPPED', `worker ${this.index}: ${what} after drop()`);
  }
}
