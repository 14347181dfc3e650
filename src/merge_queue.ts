import { Bytes } from './bytes.js';
import type { Buzzer } from './buzzer.js';
import { EntryDeque } from './entry_deque.js';
import { PoisonedError, SpillsimError } from './errors.js';
import type { SpillPolicy } from './spill_policy.js';

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
    try {
      // Arrays (the common case) are walked by index: no iterator objects on the hot path.
      const list = Array.isArray(items) ? (items as Bytes[]) : [...items];
      if (list.length > 0) {
        let tail = checkBytes(list[0]);
        const back = deque.backBytes();
        if (deque.length === 0) {
          wasEmpty = true;
        } else if (back !== undefined && adjoins(back, tail)) {
          // The reference pops the back and pushes it again when it does not merge; peeking
          // first gives the same deque without two wasted mutations.
          deque.popBack();
          back.tryMerge(tail);
          tail = back;
        }
        for (let k = 1; k < list.length; k += 1) {
          const next = checkBytes(list[k]);
          if (!tail.tryMerge(next)) {
            deque.pushBackBytes(tail);
            tail = next;
          }
        }
        deque.pushBackBytes(tail);
      }
      this.#policy?.apply(deque);
    } catch (error) {
      this.#panic();
      throw error;
    }
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
    const outLengthBefore = out.length;
    try {
      this.#policy?.apply(deque);
    } catch (error) {
      this.#panic();
      throw error;
    }
    for (let bytes = deque.popFrontBytes(); bytes !== undefined; bytes = deque.popFrontBytes()) out.push(bytes);
    const nothing = this.#stallGuard === 'accumulator' ? out.length === 0 : out.length === outLengthBefore;
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

  /** A throw with the lock held is the reference's panic: it poisons the shared state. */
  #panic(): void {
    this.#panicked = true;
    this.#shared.poisoned = true;
  }
}

/** Items of `extend` must be `Bytes`: anything else would corrupt the resident count silently. */
function checkBytes(item: unknown): Bytes {
  // Stryker disable next-line ConditionalExpression: equivalent, a speed-up only; a real Bytes also passes the shape test below
  if (item instanceof Bytes) return item;
  const like = item as Bytes | null | undefined;
  // A `Bytes` from a second copy of the library (another bundle) is still a Bytes.
  if (like !== null && typeof like === 'object' && typeof like.tryMerge === 'function' && typeof like.length === 'number' && like.buffer !== undefined) return like;
  throw new SpillsimError('E_BAD_ARGUMENT', `extend takes Bytes, got ${item === null ? 'null' : typeof item}; wrap a Uint8Array with Bytes.from(u8)`);
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
