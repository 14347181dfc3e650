import type { Bytes } from '../bytes.js';
import type { Buzzer } from '../buzzer.js';
import type { MergeQueue } from '../merge_queue.js';
import { CHANNEL_SHUTDOWN, encodeFrame } from './message_header.js';
import type { NetworkLink } from './network_link.js';
import type { NetworkStepResult } from './network_step.js';

/** One outgoing queue the send loop reads: a local worker's frames for one remote process. */
export interface SendSource {
  readonly queue: MergeQueue;
  readonly remote: number;
}

/**
 * A process's network send loop (timely's `send_loop`), one round per `step`: drain every
 * source queue, in order, into **one shared accumulator**; write what came out to each chunk's
 * link. Parks only when a full round produced nothing and some source is not yet complete;
 * drops sources once complete; when none is left it writes a shutdown frame on every link,
 * closes them and is done.
 *
 * Every source queue buzzes `buzzer` (the worker's `extend` on an empty queue, and `drop`), so a
 * scheduler may leave a parked loop alone until that buzzer's count changes.
 */
export class SendLoop {
  readonly process: number;
  readonly buzzer: Buzzer;
  #sources: SendSource[];
  readonly #links: readonly (NetworkLink | undefined)[];
  // Shared by all sources across the round: the reference's `stash`. Empty between steps.
  readonly #stash: Bytes[] = [];
  #done = false;

  constructor(process: number, buzzer: Buzzer, sources: SendSource[], links: readonly (NetworkLink | undefined)[]) {
    this.process = process;
    this.buzzer = buzzer;
    this.#sources = sources;
    this.#links = links;
  }

  get isDone(): boolean {
    return this.#done;
  }

  /** Sources not yet seen complete. */
  get sourcesLeft(): number {
    return this.#sources.length;
  }

  step(): NetworkStepResult {
    if (this.#done) return { status: 'done', bytes: 0 };
    const stashEnds: number[] = [];
    for (const source of this.#sources) {
      source.queue.drainInto(this.#stash);
      stashEnds.push(this.#stash.length);
    }
    if (this.#stash.length > 0) return { status: 'progress', bytes: this.#writeStash(stashEnds) };
    // Nothing this round: let go of completed sources (this loop holds their last handle).
    this.#sources = this.#sources.filter((source) => {
      if (!source.queue.isComplete()) return true;
      source.queue.drop();
      return false;
    });
    if (this.#sources.length > 0) return { status: 'park', bytes: 0 };
    return { status: 'done', bytes: this.#shutDown() };
  }

  /** Write each chunk to its source's link, in stash order, and empty the stash. */
  #writeStash(stashEnds: readonly number[]): number {
    let bytes = 0;
    let start = 0;
    for (let s = 0; s < stashEnds.length; s += 1) {
      const link = this.#links[this.#sources[s]!.remote]!;
      for (let i = start; i < stashEnds[s]!; i += 1) {
        const chunk = this.#stash[i]!;
        link.write(chunk.data);
        bytes += chunk.length;
      }
      start = stashEnds[s]!;
    }
    this.#stash.length = 0;
    return bytes;
  }

  /** Returns the bytes of the shutdown frames written. */
  #shutDown(): number {
    this.#done = true;
    let bytes = 0;
    for (const link of this.#links) {
      if (link === undefined) continue;
      const shutdown = encodeFrame({ channel: CHANNEL_SHUTDOWN, source: this.process, target: link.target, sequence: 0, payloadBytes: 0 });
      link.write(shutdown.data);
      link.close();
      bytes += shutdown.length;
    }
    return bytes;
  }
}
