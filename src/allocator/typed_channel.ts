import type { Buzzer } from '../buzzer.js';
import { SpillsimError } from '../errors.js';
import type { Message } from './message.js';

/**
 * A typed channel from one worker to another in the same process (timely's `Process`
 * allocator): messages move as objects, never as bytes, so no spill policy ever sees them.
 */
export class TypedChannel {
  readonly source: number;
  readonly target: number;
  readonly #buzzer: Buzzer;
  #items: Message[] = [];
  #closed = false;

  constructor(source: number, target: number, buzzer: Buzzer) {
    this.source = source;
    this.target = target;
    this.#buzzer = buzzer;
  }

  get length(): number {
    return this.#items.length;
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  /** Closed by the sender and fully received: the typed analogue of `MergeQueue.isComplete`. */
  get isComplete(): boolean {
    return this.#closed && this.length === 0;
  }

  /** Enqueue and buzz the receiver, as timely's process pusher does on every push. */
  push(message: Message): void {
    if (this.#closed) throw new SpillsimError('E_DROPPED', `send from worker ${this.source} to ${this.target} after finish()`);
    this.#items.push(message);
    this.#buzzer.buzz();
  }

  /** Move every queued message to `out`, in send order. */
  drainInto(out: Message[]): void {
    for (const message of this.#items) out.push(message);
    this.#items = [];
  }

  /** The sender is done; wakes the receiver so it can notice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#buzzer.buzz();
  }
}
