import type { Bytes } from './bytes.js';
import type { Buzzer } from './buzzer.js';
import { EntryDeque } from './entry_deque.js';
import { PoisonedError, SpillsimError } from './errors.js';
import { bytesEntry, type SpillPolicy } from './spill.js';

/**
 * When `drainInto` buzzes the reader even though the queue is not empty.
 *
 * - `'accumulator'` — the reference rule: buzz when the caller's whole `out` is empty. A
 *   consumer that drains several queues into one shared accumulator is not buzzed by a queue
 *   that produced nothing, as long as an earlier queue produced something.
 * - `'produced'` — spillsim's rule: buzz when *this call* produced nothing, whatever `out`
 *   already held.
 */
export type StallGuard = 'accumulator' | 'produced';

export interface MergeQueueOptions {
  /** Default `'produced'`; `'accumulator'` is the reference behaviour. */
  stallGuard?: StallGuard;
}

/** The state both handles of a pair share (the reference's `Arc`s). */
class SharedState {
  readonly deque = new EntryDeque();
  poisoned = false;
  handles = 0;
}

/**
 * A byte queue between a writer and a reader thread that coalesces adjacent slices and lets
 * policies page its middle out to storage (writer side) and back in (reader side).
 */
export class MergeQueue implements Disposable {
  readonly #shared: SharedState;
  readonly #buzzer: Buzzer;
  #policy: SpillPolicy | undefined;
  readonly #stallGuard: StallGuard;
  #dropped = false;
  // This handle's own policy threw: its drop is the reference's drop-while-unwinding.
  #panicked = false;

  private constructor(shared: SharedState, buzzer: Buzzer, policy: SpillPolicy | undefined, stallGuard: StallGuard) {
    this.#shared = shared;
    this.#buzzer = buzzer;
    this.#policy = policy;
    this.#stallGuard = stallGuard;
    shared.handles += 1;
  }

  /** A matched writer/reader pair on one shared state, each with its own optional policy. */
  static newPair(
    buzzer: Buzzer,
    writerPolicy?: SpillPolicy,
    readerPolicy?: SpillPolicy,
    options: MergeQueueOptions = {},
  ): [writer: MergeQueue, reader: MergeQueue] {
    const stallGuard = checkStallGuard(options.stallGuard);
    const shared = new SharedState();
    return [new MergeQueue(shared, buzzer, writerPolicy, stallGuard), new MergeQueue(shared, buzzer, readerPolicy, stallGuard)];
  }

  /** One handle, no policy. */
  static new(buzzer: Buzzer, options: MergeQueueOptions = {}): MergeQueue {
    return new MergeQueue(new SharedState(), buzzer, undefined, checkStallGuard(options.stallGuard));
  }

  get stallGuard(): StallGuard {
    return this.#stallGuard;
  }

  /** The shared deque, read-only by convention: for inspection by tests and the simulator. */
  get deque(): EntryDeque {
    return this.#shared.deque;
  }

  get isPoisoned(): boolean {
    return this.#shared.poisoned;
  }

  /**
   * Append `items`, merging each into the tail when it continues the same allocation. The
   * writer's policy then runs, even when `items` was empty. Buzzes the reader only when the
   * queue was empty before this call and something was pushed. Takes ownership of each `Bytes`.
   */
  extend(items: Iterable<Bytes>): void {
    this.#checkUsable('extend');
    const deque = this.#shared.deque;
    let wasEmpty = false;
    this.#guard(() => {
      const iterator = items[Symbol.iterator]();
      const first = iterator.next();
      if (!first.done) {
        let tail: Bytes = first.value;
        // The reference pops the back and pushes it again when it does not merge; peeking first
        // gives the same deque without two wasted mutations.
        const back = deque.back();
        if (back === undefined) {
          wasEmpty = true;
        } else if (back.kind === 'bytes' && adjoins(back.bytes, tail)) {
          deque.popBack();
          back.bytes.tryMerge(tail);
          tail = back.bytes;
        }
        for (let next = iterator.next(); !next.done; next = iterator.next()) {
          if (!tail.tryMerge(next.value)) {
            deque.pushBack(bytesEntry(tail));
            tail = next.value;
          }
        }
        deque.pushBack(bytesEntry(tail));
      }
      this.#policy?.apply(deque);
    });
    if (wasEmpty) this.#buzzer.buzz();
  }

  /**
   * Run the reader's policy, then move every leading resident entry into `out`, stopping at
   * the first paged entry. Buzzes (so a consumer that parks on an empty result retries) when
   * the queue still holds entries and, per the stall guard, nothing came out.
   */
  drainInto(out: Bytes[]): void {
    this.#checkUsable('drainInto');
    const deque = this.#shared.deque;
    let produced = 0;
    this.#guard(() => {
      this.#policy?.apply(deque);
      for (let front = deque.front(); front !== undefined && front.kind === 'bytes'; front = deque.front()) {
        deque.popFront();
        out.push(front.bytes);
        produced += 1;
      }
    });
    const nothing = this.#stallGuard === 'accumulator' ? out.length === 0 : produced === 0;
    if (nothing && deque.length > 0) this.#buzzer.buzz();
  }

  /** True when this is the last handle on the shared state and the queue is empty. */
  isComplete(): boolean {
    this.#checkUsable('isComplete');
    return this.#shared.handles === 1 && this.#shared.deque.length === 0;
  }

  /**
   * Release this handle (the reference's `Drop`): it lets go of the shared state and its policy
   * and buzzes the reader. Dropping a handle whose state another handle poisoned throws.
   * Dropping twice does nothing.
   */
  drop(): void {
    if (this.#dropped) return;
    this.#dropped = true;
    this.#shared.handles -= 1;
    this.#policy = undefined;
    if (this.#panicked) {
      this.#shared.poisoned = true;
      return;
    }
    if (this.#shared.poisoned) throw new PoisonedError('dropped a handle whose queue is poisoned');
    this.#buzzer.buzz();
  }

  [Symbol.dispose](): void {
    this.drop();
  }

  #checkUsable(what: string): void {
    if (this.#dropped) throw new SpillsimError('E_DROPPED', `${what} on a MergeQueue handle after drop(); keep the handle until you are done with it`);
    if (this.#shared.poisoned) throw new PoisonedError(`${what} refused`);
  }

  /** Run `body`; a throw is the reference's panic with the lock held, so it poisons the state. */
  #guard(body: () => void): void {
    try {
      body();
    } catch (error) {
      this.#panicked = true;
      this.#shared.poisoned = true;
      throw error;
    }
  }
}

/** Whether `b.tryMerge` into `a` would succeed, without merging. */
function adjoins(a: Bytes, b: Bytes): boolean {
  return a.buffer === b.buffer && b.offset === a.offset + a.length;
}

function checkStallGuard(value: unknown): StallGuard {
  if (value === undefined) return 'produced';
  if (value === 'accumulator' || value === 'produced') return value;
  throw new SpillsimError('E_BAD_ARGUMENT', `stallGuard must be 'produced' or 'accumulator', got ${String(value)}`);
}
