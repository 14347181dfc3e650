import { badArgument, checkOptions, describeValue, hasMethod } from './arguments.js';
import { Bytes, isBytes } from './bytes.js';
import { Buzzer } from './buzzer.js';
import { EntryDeque } from './entry_deque.js';
import { PoisonedError, SpillsimError } from './errors.js';
import { bytesEntry } from './spill.js';
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

const OPTION_NAMES: readonly (keyof MergeQueueOptions)[] = ['stallGuard'];

/** The state both handles of a pair share (the reference's `Arc`s). */
class SharedState {
  readonly deque = new EntryDeque();
  poisoned = false;
  handles = 0;
}

/**
 * A byte queue between a writer and a reader thread that coalesces adjacent slices and lets
 * policies page its middle out to storage (writer side) and back in (reader side).
 *
 * Errors: a caller's wrong argument throws `E_BAD_ARGUMENT` before anything is touched (no
 * poison, no byte taken); a use after `drop()` throws `E_DROPPED`. A throw from a policy (or
 * the backend under it) is the reference's panic with the lock held: it poisons the shared
 * state, and every later call on either handle throws `E_POISONED`.
 *
 * Panic paths follow the reference (`Drop for MergeQueue`): a handle whose own call threw (its
 * policy panicked, or the call found the queue poisoned) is unwinding, so its `drop()` is quiet
 * and still buzzes the reader; any other handle's `drop()` on a poisoned queue throws
 * `E_POISONED` without buzzing.
 */
export class MergeQueue implements Disposable {
  readonly #shared: SharedState;
  readonly #buzzer: Buzzer;
  #policy: SpillPolicy | undefined;
  readonly #stallGuard: StallGuard;
  #dropped = false;
  // A call on this handle threw a panic (its policy threw, or it found the queue poisoned): in
  // Rust the thread is unwinding, and its drop is the reference's drop-while-unwinding.
  #unwinding = false;

  private constructor(shared: SharedState, buzzer: Buzzer, policy: SpillPolicy | undefined, stallGuard: StallGuard) {
    this.#shared = shared;
    this.#buzzer = buzzer;
    this.#policy = policy;
    this.#stallGuard = stallGuard;
    shared.handles += 1;
  }

  /** A matched writer/reader pair on one shared state, each with its own optional policy. */
  /**
   * Mirrors `MergeQueue::new_pair`. `buzzer` wakes the reader; each policy is optional
   * (`undefined` or `null` for none). Throws `E_BAD_ARGUMENT` on a wrong argument or an
   * unknown option name.
   */
  static newPair(
    buzzer: Buzzer,
    writerPolicy?: SpillPolicy | null,
    readerPolicy?: SpillPolicy | null,
    options?: MergeQueueOptions,
  ): [writer: MergeQueue, reader: MergeQueue] {
    checkBuzzer('MergeQueue.newPair', buzzer);
    const writer = checkPolicy('writerPolicy', writerPolicy);
    const reader = checkPolicy('readerPolicy', readerPolicy);
    const stallGuard = checkStallGuard(checkOptions('MergeQueue.newPair', options, OPTION_NAMES, "{ stallGuard: 'accumulator' }").stallGuard);
    const shared = new SharedState();
    return [new MergeQueue(shared, buzzer, writer, stallGuard), new MergeQueue(shared, buzzer, reader, stallGuard)];
  }

  /** One handle, no policy (`MergeQueue::new`). */
  static new(buzzer: Buzzer, options?: MergeQueueOptions): MergeQueue {
    checkBuzzer('MergeQueue.new', buzzer);
    const stallGuard = checkStallGuard(checkOptions('MergeQueue.new', options, OPTION_NAMES, "{ stallGuard: 'accumulator' }").stallGuard);
    return new MergeQueue(new SharedState(), buzzer, undefined, stallGuard);
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
   * Append `items` (an array or any iterable of `Bytes`), merging each into the tail when it
   * continues the same allocation. The writer's policy then runs, even when `items` was empty.
   * Buzzes the reader only when the queue was empty before this call and something was pushed.
   * Takes ownership of each `Bytes`. Every item is checked first: anything that is not a
   * `Bytes` throws `E_BAD_ARGUMENT` and nothing is taken.
   */
  extend(items: Iterable<Bytes>): void {
    if (this.#dropped) throw droppedError('extend');
    const list = checkItems(items);
    this.#checkPoison('extend');
    const deque = this.#shared.deque;
    let wasEmpty = false;
    try {
      if (list.length > 0) {
        let tail = list[0]!;
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
          const next = list[k]!;
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
   * Run the reader's policy, then move every leading resident entry into `out` (an extensible
   * array), stopping at the first paged entry. Buzzes (so a consumer that parks on an empty
   * result retries) when the queue still holds entries and, per the stall guard, nothing came
   * out. An `out` it cannot push onto throws `E_BAD_ARGUMENT` before anything is taken.
   */
  drainInto(out: Bytes[]): void {
    if (this.#dropped) throw droppedError('drainInto');
    if (!Array.isArray(out) || !Object.isExtensible(out)) {
      throw badArgument(`drainInto(out) takes an array it can push Bytes onto, such as [], got ${describeValue(out)}`);
    }
    this.#checkPoison('drainInto');
    const deque = this.#shared.deque;
    const outLengthBefore = out.length;
    try {
      this.#policy?.apply(deque);
    } catch (error) {
      this.#panic();
      throw error;
    }
    let bytes = deque.popFrontBytes();
    try {
      for (; bytes !== undefined; bytes = deque.popFrontBytes()) out.push(bytes);
    } catch (error) {
      // An array whose push throws (a read-only length, an overridden push): the chunk it
      // refused goes back to the front, so no byte is lost.
      deque.pushFront(bytesEntry(bytes!));
      throw new SpillsimError('E_BAD_ARGUMENT', `drainInto(out) could not push onto out (${error instanceof Error ? error.message : String(error)}); pass a plain array`, { cause: error });
    }
    const nothing = this.#stallGuard === 'accumulator' ? out.length === 0 : out.length === outLengthBefore;
    if (nothing && deque.length > 0) this.#buzzer.buzz();
  }

  /** True when this is the last handle on the shared state and the queue is empty. */
  isComplete(): boolean {
    if (this.#dropped) throw droppedError('isComplete');
    this.#checkPoison('isComplete');
    return this.#shared.handles === 1 && this.#shared.deque.length === 0;
  }

  /**
   * Release this handle (the reference's `Drop`): it lets go of the shared state and its policy
   * and buzzes the reader. A handle whose own call threw a panic is unwinding: its drop sets
   * the poison flag, throws nothing and buzzes. Any other handle's drop on a poisoned queue
   * throws `E_POISONED` and does not buzz (the reference panics before its buzz). Dropping
   * twice does nothing.
   */
  drop(): void {
    if (this.#dropped) return;
    this.#dropped = true;
    this.#shared.handles -= 1;
    this.#policy = undefined;
    if (this.#unwinding) this.#shared.poisoned = true;
    else if (this.#shared.poisoned) throw new PoisonedError('dropped a handle whose queue is poisoned');
    this.#buzzer.buzz();
  }

  [Symbol.dispose](): void {
    this.drop();
  }

  /** The reference's `poisoned → panic`: the panic unwinds through this handle. */
  #checkPoison(what: string): void {
    if (!this.#shared.poisoned) return;
    this.#unwinding = true;
    throw new PoisonedError(`${what} refused`);
  }

  /** A throw with the lock held is the reference's panic: it poisons the shared state. */
  #panic(): void {
    this.#unwinding = true;
    this.#shared.poisoned = true;
  }
}

function droppedError(what: string): SpillsimError {
  return new SpillsimError('E_DROPPED', `${what} on a MergeQueue handle after drop(); keep the handle until you are done with it`);
}

/**
 * The items of one `extend`, all checked before the queue is touched: anything but a `Bytes`
 * would corrupt the resident count, and a throw halfway would leave part of the call applied.
 */
function checkItems(items: unknown): Bytes[] {
  let list: unknown[];
  if (Array.isArray(items)) {
    list = items;
  } else {
    if (isBytes(items)) throw badArgument('extend(items) takes an iterable of Bytes, got a single Bytes; wrap it in brackets: extend([bytes])');
    if (ArrayBuffer.isView(items) || items instanceof ArrayBuffer) {
      throw badArgument(`extend(items) takes an iterable of Bytes, got ${describeValue(items)}; wrap it: extend([Bytes.from(u8)])`);
    }
    if (items === null || typeof items !== 'object' || typeof (items as Iterable<unknown>)[Symbol.iterator] !== 'function') {
      throw badArgument(`extend(items) takes an array or iterable of Bytes, such as [Bytes.from(u8)], got ${describeValue(items)}`);
    }
    // The caller's own iterator runs here, before the queue is touched: if it throws, nothing was taken.
    list = [...(items as Iterable<unknown>)];
  }
  for (let k = 0; k < list.length; k += 1) {
    const item = list[k];
    if (!(item instanceof Bytes) && !isBytes(item)) {
      throw badArgument(`extend(items) takes Bytes, but item ${k} is ${describeValue(item)}${ArrayBuffer.isView(item) ? '; wrap it with Bytes.from(u8)' : ''}; nothing was taken`);
    }
  }
  return list as Bytes[];
}

function checkBuzzer(owner: string, buzzer: unknown): void {
  if (buzzer instanceof Buzzer || hasMethod(buzzer, 'buzz')) return;
  throw badArgument(`${owner}(buzzer, …) takes a Buzzer as its first argument, such as new Buzzer(), got ${describeValue(buzzer)}`);
}

function checkPolicy(name: string, policy: unknown): SpillPolicy | undefined {
  if (policy === undefined || policy === null) return undefined;
  if (hasMethod(policy, 'apply')) return policy as SpillPolicy;
  throw badArgument(`MergeQueue.newPair: ${name} must be a SpillPolicy (an object with an apply(deque) method) or undefined, got ${describeValue(policy)}`);
}

/** Whether `b.tryMerge` into `a` would succeed, without merging. */
function adjoins(a: Bytes, b: Bytes): boolean {
  return a.buffer === b.buffer && b.offset === a.offset + a.length;
}

function checkStallGuard(value: unknown): StallGuard {
  if (value === undefined) return 'produced';
  if (value === 'accumulator' || value === 'produced') return value;
  throw badArgument(`stallGuard must be 'produced' or 'accumulator', got ${describeValue(value)}`);
}
