import { badArgument, checkOptions, describeValue, hasMethod } from './arguments.js';
import { type Bytes, describeChunk, isBytes, isHeld, isOwnBytes, isOwnHeldBytes, MERGE_NOT_OWN, MERGE_NONE, mergeForQueue, undoMerge } from './bytes.js';
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
   * Takes ownership of each `Bytes` (the reference's `extend`). An item that is not a `Bytes`
   * throws `E_BAD_ARGUMENT` and nothing is taken: the queue and the items are as they were, and
   * the queue is not poisoned (a caller's mistake is not a panic).
   */
  extend(items: Iterable<Bytes>): void {
    if (this.#dropped) throw droppedError('extend');
    // Stryker disable next-line ConditionalExpression: equivalent, checking every item first only takes the slow way to the same result
    const checked = !Array.isArray(items) || this.#shared.poisoned;
    const list = checked ? checkItems(items) : (items as Bytes[]);
    this.#checkPoison('extend');
    const count = list.length;
    // Stryker disable next-line ConditionalExpression: equivalent, the checked path does the same for no items (policy runs, no buzz)
    if (count === 0) return this.#applyPolicy();
    const deque = this.#shared.deque;
    const first = list[0]!;
    const back = deque.backBytes();
    // Our own Bytes only: then each item's check is part of its merge, and an item that is not
    // one undoes the merges before it. Anything else takes the slow way: every item checked first.
    // Stryker disable next-line ConditionalExpression,LogicalOperator: equivalent, which of two paths with the same result a call takes
    if (!(isOwnHeldBytes(first) && (back === undefined || isOwnBytes(back)))) return this.#extendChecked(checked ? list : checkItems(list));
    const wasEmpty = deque.length === 0;
    let tail = first;
    const merged = back !== undefined && adjoins(back, first);
    let pushed = 0;
    // The first item not taken: `count` when every item merged or was pushed.
    let k = 1;
    // What the caller's array threw when an item was read (a getter, a Proxy trap), if it did.
    let readFailed = false;
    let readError: unknown;
    try {
      if (merged) {
        // The reference pops the back and pushes it again when it does not merge; peeking
        // first gives the same deque without two wasted mutations.
        deque.popBack();
        back.tryMerge(first);
        tail = back;
      }
      // Stryker disable next-line BlockStatement: equivalent, without this loop k stays 1 and the checked path below takes every item with the same result
      try {
        // Stryker disable next-line EqualityOperator,ConditionalExpression: equivalent, one step past the end meets undefined, which is not one of ours, and no step leaves k at 1: either way the checked path redoes the call with the same result
        for (; k < count; k += 1) {
          const next = list[k]!;
          const outcome = mergeForQueue(tail, next);
          if (outcome === MERGE_NONE) {
            deque.pushBackBytes(tail);
            pushed += 1;
            tail = next;
          } else if (outcome === MERGE_NOT_OWN) {
            break;
          }
        }
      } catch (error) {
        // The caller's array threw when item `k` was read: the caller's own error, not a panic.
        readFailed = true;
        readError = error;
      }
      if (k < count) undoExtend(deque, list, k, tail, merged ? back : undefined, pushed);
      else {
        deque.pushBackBytes(tail);
        this.#policy?.apply(deque);
      }
    } catch (error) {
      this.#panic();
      throw error;
    }
    // Outside the try: a caller's wrong item, or an array that throws, is not a panic.
    if (readFailed) throw readError;
    if (k < count) return this.#extendChecked(checkItems(list));
    if (wasEmpty) this.#buzzer.buzz();
  }

  /** `extend` of items all checked already, Bytes of any copy of the library among them. */
  #extendChecked(list: readonly Bytes[]): void {
    const deque = this.#shared.deque;
    // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent, the checked path is only taken with at least one item
    const wasEmpty = list.length > 0 && deque.length === 0;
    try {
      // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent, the checked path is only taken with at least one item
      if (list.length > 0) {
        let tail = list[0]!;
        const back = deque.backBytes();
        if (back !== undefined && adjoins(back, tail)) {
          deque.popBack();
          back.tryMerge(tail);
          tail = back;
        }
        for (let k = 1; k < list.length; k += 1) {
          if (!tail.tryMerge(list[k]!)) {
            deque.pushBackBytes(tail);
            tail = list[k]!;
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

  /** The writer policy of an `extend` of nothing: the reference runs it on every call. */
  #applyPolicy(): void {
    try {
      this.#policy?.apply(this.#shared.deque);
    } catch (error) {
      this.#panic();
      throw error;
    }
  }

  /**
   * Run the reader's policy, then move every leading resident entry into `out` (an extensible
   * array), stopping at the first paged entry. Buzzes (so a consumer that parks on an empty
   * result retries) when the queue still holds entries and, per the stall guard, nothing came
   * out. An `out` it cannot push onto throws `E_BAD_ARGUMENT` before anything is taken.
   */
  drainInto(out: Bytes[]): void {
    if (this.#dropped) throw droppedError('drainInto');
    const policy = this.#policy;
    // Whether `out` takes pushes costs a runtime call, so it is asked only where the answer must
    // come first: when a policy would change the queue before the first push, or when the call
    // is about to panic. Otherwise a refused push hands its chunk back (below), and a drain
    // that pushed nothing asks at the end; either way nothing has changed when it throws.
    // Stryker disable next-line ConditionalExpression: equivalent, asking early when no policy runs gives the same error as the refused push would
    if (!Array.isArray(out) || ((policy !== undefined || this.#shared.poisoned) && !Object.isExtensible(out))) throw badOut(out);
    this.#checkPoison('drainInto');
    const deque = this.#shared.deque;
    const outLengthBefore = out.length;
    try {
      policy?.apply(deque);
    } catch (error) {
      this.#panic();
      throw error;
    }
    let bytes = deque.popFrontBytes();
    try {
      for (; bytes !== undefined; bytes = deque.popFrontBytes()) out.push(bytes);
    } catch (error) {
      // An array whose push throws (frozen, sealed, a read-only length, an overridden push):
      // the chunk it refused goes back to the front, so no byte is lost.
      deque.pushFront(bytesEntry(bytes!));
      // Stryker disable next-line ConditionalExpression: equivalent, nothing can be pushed onto a non-extensible array, so its length is unchanged whenever the second test holds
      throw out.length === outLengthBefore && !Object.isExtensible(out)
        ? badOut(out)
        : new SpillsimError('E_BAD_ARGUMENT', `drainInto(out) could not push onto out (${error instanceof Error ? error.message : String(error)}); pass a plain array`, { cause: error });
    }
    if (out.length === outLengthBefore) {
      // Stryker disable next-line ConditionalExpression: equivalent, with a policy out was found extensible before the drain, so the test is false either way
      if (policy === undefined && !Object.isExtensible(out)) throw badOut(out);
      if (deque.length > 0 && (this.#stallGuard === 'produced' || out.length === 0)) this.#buzzer.buzz();
    }
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

function badOut(out: unknown): SpillsimError {
  return badArgument(`drainInto(out) takes an array it can push Bytes onto, such as [], got ${describeValue(out)}`);
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
  // Stryker disable next-line ConditionalExpression: equivalent, an array taken through its iterator gives the same list
  if (Array.isArray(items)) {
    // A copy, each item read once: an array whose getters answer differently on a second read
    // cannot swap a checked item for an unchecked one.
    list = Array.prototype.slice.call(items) as unknown[];
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
    if (!isBytes(list[k])) throw badItem(k, list[k]);
    if (!isHeld(list[k] as Bytes)) {
      throw badArgument(`extend(items) takes Bytes whose memory is still there, but item ${k}'s ArrayBuffer was detached (transferred) or shrunk after Bytes.from; nothing was taken`);
    }
  }
  return list as Bytes[];
}

function badItem(k: number, item: unknown): SpillsimError {
  return badArgument(`extend(items) takes Bytes, but item ${k} is ${describeChunk(item)}${ArrayBuffer.isView(item) ? '; wrap it with Bytes.from(u8)' : ''}; nothing was taken`);
}

/**
 * Put the deque and the items back as they were before an `extend` that met item `failed`, not
 * one of our own Bytes: items `1..failed-1` were each merged into the tail of the moment or
 * became the next tail; `pushed` tails went onto the deque, `tail` is the last; `back` (when
 * set) was popped and grew by item 0. Every tail is one of ours, so each merge can be undone.
 */
function undoExtend(deque: EntryDeque, list: readonly Bytes[], failed: number, tail: Bytes, back: Bytes | undefined, pushed: number): void {
  const tails: Bytes[] = [];
  for (let p = 0; p < pushed; p += 1) tails.unshift((deque.popBack() as { bytes: Bytes }).bytes);
  tails.push(tail);
  let t = 0;
  for (let j = 1; j < failed; j += 1) {
    // Stryker disable next-line EqualityOperator,ArithmeticOperator,ConditionalExpression: equivalent, past the last tail tails[t + 1] is undefined and never an item, so the bound test never decides (this also drops the item test forced true, which the merge-then-pushed-tail test kills)
    if (t + 1 < tails.length && list[j] === tails[t + 1]) t += 1;
    else undoMerge(tails[t]!, list[j]!);
  }
  if (back !== undefined) {
    undoMerge(back, list[0]!);
    deque.pushBackBytes(back);
  }
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
