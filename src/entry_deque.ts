import { describeValue } from './arguments.js';
import { type Bytes, isBytes } from './bytes.js';
import { SpillsimError } from './errors.js';
import type { BytesFetch, QueueEntry } from './spill.js';

type PagedEntry = Extract<QueueEntry, { kind: 'paged' }>;
/** A slot holds a resident entry's `Bytes` itself (no wrapper per chunk), or a paged entry. */
type Slot = Bytes | PagedEntry;

function isPaged(slot: Slot): slot is PagedEntry {
  return (slot as PagedEntry).kind === 'paged';
}

function toEntry(slot: Slot): QueueEntry {
  return isPaged(slot) ? slot : { kind: 'bytes', bytes: slot };
}

function toSlot(entry: QueueEntry): Slot {
  return entry.kind === 'bytes' ? entry.bytes : entry;
}

const CAPACITY_MIN = 16;

/**
 * The double-ended queue of entries a policy's `apply` receives (the reference's
 * `VecDeque<QueueEntry>`).
 *
 * Entries sit in one array between `head` and `head + length`, with slack on both sides, so
 * both ends push and pop in amortized O(1). A resident entry is stored as its `Bytes` and
 * wrapped only when read through `get`, `front`, `back` or iteration, so the queue's own hot
 * path (`pushBackBytes`, `popFrontBytes`) allocates nothing per chunk; entries read back are
 * equal to what was stored, not the same objects. `residentBytes` (the sum of resident lengths) is
 * kept up to date by every mutation so a policy reads it in O(1).
 *
 * The prefix queries (`residentBytesBefore`, `residentCountBefore`, `indexOfResidentBytesBefore`, `nextResidentIndex`)
 * answer in O(log n) from two Fenwick trees over the array's slots. The trees are built on the
 * first prefix query and maintained from then on, so a queue whose policies never ask pays nothing.
 */
export class EntryDeque implements Iterable<QueueEntry> {
  #slots: (Slot | undefined)[];
  #head: number;
  #length = 0;
  #residentBytes = 0;
  #residentCount = 0;
  // Two Fenwick trees over slot positions (1-based inside), interleaved so one cache line serves
  // both: node k holds resident bytes at [2k] and resident entry count at [2k + 1].
  #tree: Float64Array | undefined;
  #treeTopStep = 1;

  constructor(entries: Iterable<QueueEntry> = []) {
    this.#slots = new Array<Slot | undefined>(CAPACITY_MIN);
    this.#head = CAPACITY_MIN >> 2;
    for (const entry of entries) this.pushBack(entry);
  }

  get length(): number {
    return this.#length;
  }

  /** Sum of the lengths of the resident (`bytes`) entries. */
  get residentBytes(): number {
    return this.#residentBytes;
  }

  /** Number of resident (`bytes`) entries, zero-length ones included. */
  get residentCount(): number {
    return this.#residentCount;
  }

  /** Number of `paged` entries. */
  get pagedCount(): number {
    return this.#length - this.#residentCount;
  }

  get(i: number): QueueEntry {
    this.#checkIndex(i, this.#length);
    return toEntry(this.#slots[this.#head + i] as Slot);
  }

  /** The bytes of entry `i` when it is resident, else undefined: `get(i)` without the entry object it makes. */
  bytesAt(i: number): Bytes | undefined {
    this.#checkIndex(i, this.#length);
    const slot = this.#slots[this.#head + i] as Slot;
    return isPaged(slot) ? undefined : slot;
  }

  /** The handle of entry `i` when it is paged, else undefined (no allocation). */
  handleAt(i: number): BytesFetch | undefined {
    this.#checkIndex(i, this.#length);
    const slot = this.#slots[this.#head + i] as Slot;
    return isPaged(slot) ? slot.handle : undefined;
  }

  set(i: number, entry: QueueEntry): void {
    this.#checkIndex(i, this.#length);
    checkEntry(entry);
    const pos = this.#head + i;
    const slot = toSlot(entry);
    this.#account(pos, this.#slots[pos] as Slot, -1);
    this.#slots[pos] = slot;
    this.#account(pos, slot, +1);
  }

  /**
   * `set(i, { kind: 'bytes', bytes })` without the wrapper: a reader policy's hot path. Anything
   * but a `Bytes` is refused with `E_BAD_ARGUMENT` before the deque changes, as `set` refuses it.
   */
  setBytes(i: number, bytes: Bytes): void {
    this.#checkIndex(i, this.#length);
    if (!isBytes(bytes)) throw new SpillsimError('E_BAD_ARGUMENT', `setBytes(i, bytes) takes a Bytes, got ${describeValue(bytes)}`);
    const pos = this.#head + i;
    this.#account(pos, this.#slots[pos] as Slot, -1);
    this.#slots[pos] = bytes;
    this.#accountBytes(pos, bytes.length, 1);
  }

  front(): QueueEntry | undefined {
    return this.#length === 0 ? undefined : toEntry(this.#slots[this.#head] as Slot);
  }

  back(): QueueEntry | undefined {
    return this.#length === 0 ? undefined : toEntry(this.#slots[this.#head + this.#length - 1] as Slot);
  }

  /** The back entry's bytes when it is resident, else undefined (no allocation). */
  backBytes(): Bytes | undefined {
    if (this.#length === 0) return undefined;
    const slot = this.#slots[this.#head + this.#length - 1] as Slot;
    return isPaged(slot) ? undefined : slot;
  }

  pushBack(entry: QueueEntry): void {
    checkEntry(entry);
    this.#pushBackSlot(toSlot(entry));
  }

  /**
   * `pushBack({ kind: 'bytes', bytes })` without the wrapper: the queue's hot path. Anything but
   * a `Bytes` is refused with `E_BAD_ARGUMENT` before the deque changes, as `pushBack` refuses it.
   */
  pushBackBytes(bytes: Bytes): void {
    if (!isBytes(bytes)) throw new SpillsimError('E_BAD_ARGUMENT', `pushBackBytes(bytes) takes a Bytes, got ${describeValue(bytes)}`);
    // Stryker disable next-line ConditionalExpression,ArithmeticOperator: equivalent, relayouts more often or with one slot less of headroom change speed, not contents
    if (this.#head + this.#length === this.#slots.length) this.#relayout(this.#length + 1);
    const pos = this.#head + this.#length;
    this.#slots[pos] = bytes;
    this.#length += 1;
    this.#accountBytes(pos, bytes.length, 1);
  }

  pushFront(entry: QueueEntry): void {
    checkEntry(entry);
    // Stryker disable next-line ConditionalExpression,EqualityOperator,ArithmeticOperator: equivalent, relayouts more often or with one slot less of headroom change speed, not contents (a relayout always leaves head > 0)
    if (this.#head === 0) this.#relayout(this.#length + 1);
    this.#head -= 1;
    const slot = toSlot(entry);
    this.#slots[this.#head] = slot;
    this.#length += 1;
    this.#account(this.#head, slot, +1);
  }

  popFront(): QueueEntry | undefined {
    return this.#length === 0 ? undefined : toEntry(this.#popFrontSlot());
  }

  /** Pop the front entry if it is resident and return its bytes; else leave it and return undefined. */
  popFrontBytes(): Bytes | undefined {
    if (this.#length === 0) return undefined;
    const slot = this.#slots[this.#head] as Slot;
    if (isPaged(slot)) return undefined;
    this.#popFrontSlot();
    return slot;
  }

  popBack(): QueueEntry | undefined {
    if (this.#length === 0) return undefined;
    const pos = this.#head + this.#length - 1;
    const slot = this.#slots[pos] as Slot;
    this.#account(pos, slot, -1);
    this.#slots[pos] = undefined;
    this.#length -= 1;
    return toEntry(slot);
  }

  #pushBackSlot(slot: Slot): void {
    // Stryker disable next-line ArithmeticOperator: equivalent, one slot less of headroom in the new layout changes speed, not contents
    if (this.#head + this.#length === this.#slots.length) this.#relayout(this.#length + 1);
    const pos = this.#head + this.#length;
    this.#slots[pos] = slot;
    this.#length += 1;
    this.#account(pos, slot, +1);
  }

  #popFrontSlot(): Slot {
    const pos = this.#head;
    const slot = this.#slots[pos] as Slot;
    this.#account(pos, slot, -1);
    this.#slots[pos] = undefined;
    this.#head += 1;
    this.#length -= 1;
    // A queue that drains to empty starts again mid-array, so steady traffic never relayouts.
    // Stryker disable next-line ConditionalExpression: equivalent, re-centering an empty deque only saves later relayouts
    if (this.#length === 0) this.#head = this.#slots.length >> 2;
    return slot;
  }

  /** Insert before index `i` (0 ≤ i ≤ length), shifting the shorter side. */
  insert(i: number, entry: QueueEntry): void {
    this.#checkIndex(i, this.#length + 1);
    checkEntry(entry);
    // Stryker disable next-line ConditionalExpression: equivalent, a shortcut; the general insert gives the same deque at index 0
    if (i === 0) return this.pushFront(entry);
    // Stryker disable next-line ConditionalExpression: equivalent, a shortcut; the general insert gives the same deque at the end
    if (i === this.#length) return this.pushBack(entry);
    // Stryker disable next-line ConditionalExpression,EqualityOperator,ArithmeticOperator: equivalent, which side shifts changes speed, not contents
    const frontSide = i < this.#length - i;
    // Stryker disable next-line ConditionalExpression: equivalent, an extra relayout changes speed, not contents
    if (frontSide ? this.#head === 0 : this.#head + this.#length === this.#slots.length) {
      // Stryker disable next-line ArithmeticOperator: equivalent, one slot less of headroom in the new layout changes speed, not contents
      this.#relayout(this.#length + 1);
    }
    if (frontSide) {
      // Move [head, head+i) one slot to the left.
      this.#head -= 1;
      for (let p = this.#head; p < this.#head + i; p += 1) this.#move(p + 1, p);
    } else {
      // Move [head+i, head+length) one slot to the right.
      for (let p = this.#head + this.#length; p > this.#head + i; p -= 1) this.#move(p - 1, p);
    }
    const pos = this.#head + i;
    const slot = toSlot(entry);
    this.#slots[pos] = slot;
    this.#length += 1;
    this.#account(pos, slot, +1);
  }

  /** Remove and return the entry at index `i`, shifting the shorter side. */
  remove(i: number): QueueEntry {
    this.#checkIndex(i, this.#length);
    // Stryker disable next-line ConditionalExpression: equivalent, a shortcut; the general remove gives the same deque at index 0
    if (i === 0) return this.popFront() as QueueEntry;
    // Stryker disable next-line ConditionalExpression,ArithmeticOperator: equivalent, a shortcut; the general remove gives the same deque at the end
    if (i === this.#length - 1) return this.popBack() as QueueEntry;
    const pos = this.#head + i;
    const slot = this.#slots[pos] as Slot;
    this.#account(pos, slot, -1);
    // Stryker disable next-line ConditionalExpression,EqualityOperator,ArithmeticOperator: equivalent, which side shifts changes speed, not contents
    if (i < this.#length - 1 - i) {
      // Stryker disable next-line EqualityOperator: equivalent, one more pass moves the empty slot before head onto a slot cleared right after
      for (let p = pos; p > this.#head; p -= 1) this.#move(p - 1, p);
      this.#slots[this.#head] = undefined;
      this.#head += 1;
    } else {
      const end = this.#head + this.#length - 1;
      for (let p = pos; p < end; p += 1) this.#move(p + 1, p);
      this.#slots[end] = undefined;
    }
    this.#length -= 1;
    return toEntry(slot);
  }

  clear(): void {
    while (this.#length > 0) this.popBack();
  }

  *[Symbol.iterator](): IterableIterator<QueueEntry> {
    for (let i = 0; i < this.#length; i += 1) yield toEntry(this.#slots[this.#head + i] as Slot);
  }

  toArray(): QueueEntry[] {
    return (this.#slots.slice(this.#head, this.#head + this.#length) as Slot[]).map(toEntry);
  }

  /** Sum of resident bytes in entries `[0, i)`. O(log n). */
  residentBytesBefore(i: number): number {
    this.#checkIndex(i, this.#length + 1);
    // Slots before `head` are always empty, so they weigh nothing in the trees.
    return prefix(this.#ensureIndex(), this.#head + i, 0);
  }

  /** Number of resident entries in `[0, i)`. O(log n). */
  residentCountBefore(i: number): number {
    this.#checkIndex(i, this.#length + 1);
    return prefix(this.#ensureIndex(), this.#head + i, 1);
  }

  /**
   * The smallest index `i` with `residentBytesBefore(i) >= bytes`, or `length` when there is
   * none below it. O(log n).
   */
  indexOfResidentBytesBefore(bytes: number): number {
    if (typeof bytes !== 'number' || Number.isNaN(bytes)) {
      throw new SpillsimError('E_BAD_ARGUMENT', `indexOfResidentBytesBefore(bytes) takes a number of bytes, got ${describeValue(bytes)}`);
    }
    if (bytes <= 0) return 0;
    // Slots before `head` weigh nothing, so the first slot whose prefix reaches `bytes` is the answer.
    const pos = lowerBound(this.#ensureIndex(), this.#treeTopStep, bytes, 0) + 1;
    return Math.min(Math.max(pos - this.#head, 0), this.#length);
  }

  /** The index of the first resident entry at or after `i`, or `length` when none. O(log n). */
  nextResidentIndex(i: number): number {
    this.#checkIndex(i, this.#length + 1);
    // Stryker disable next-line ConditionalExpression: equivalent, a shortcut; the tree search answers length there too
    if (i === this.#length) return this.#length;
    const tree = this.#ensureIndex();
    const before = prefix(tree, this.#head + i, 1);
    const pos = lowerBound(tree, this.#treeTopStep, before + 1, 1);
    return Math.min(pos - this.#head, this.#length);
  }

  #checkIndex(i: number, bound: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= bound) {
      throw new SpillsimError('E_BAD_ARGUMENT', `deque index out of range: it takes a whole number in [0, ${bound}), got ${describeValue(i)}`);
    }
  }

  #account(pos: number, slot: Slot, sign: 1 | -1): void {
    if (!isPaged(slot)) this.#accountBytes(pos, slot.length, sign);
  }

  #accountBytes(pos: number, bytes: number, sign: 1 | -1): void {
    this.#residentBytes += sign * bytes;
    this.#residentCount += sign;
    if (this.#tree !== undefined) add(this.#tree, pos, sign * bytes, sign);
  }

  /** Move the entry in slot `from` to the empty-by-now slot `to`, keeping the trees right. */
  #move(from: number, to: number): void {
    const slot = this.#slots[from];
    this.#slots[to] = slot;
    this.#slots[from] = undefined;
    // Stryker disable next-line ConditionalExpression: equivalent, every slot moved is occupied, so the undefined test never decides
    if (this.#tree !== undefined && slot !== undefined && !isPaged(slot)) {
      add(this.#tree, from, -slot.length, -1);
      add(this.#tree, to, slot.length, 1);
    }
  }

  /** Re-place the entries in a fresh array with slack at both ends; O(n), amortized away. */
  #relayout(lengthNeeded: number): void {
    const capacity = Math.max(CAPACITY_MIN, 2 * lengthNeeded + CAPACITY_MIN);
    // Stryker disable next-line all: equivalent, a shortcut that re-centers instead of reallocating; both layouts hold the same (no) entries
    if (this.#length === 0 && capacity <= this.#slots.length) {
      this.#head = this.#slots.length >> 2;
      return;
    }
    const slots = new Array<Slot | undefined>(capacity);
    // Stryker disable next-line ArithmeticOperator: equivalent, a different head still leaves room on both sides for the entries
    const head = (capacity - this.#length) >> 2;
    // Stryker disable next-line EqualityOperator: equivalent, one more pass copies the empty slot past the end
    for (let i = 0; i < this.#length; i += 1) slots[head + i] = this.#slots[this.#head + i];
    this.#slots = slots;
    this.#head = head;
    // Stryker disable next-line ConditionalExpression: equivalent, building the index when nobody asked for it changes speed, not answers
    if (this.#tree !== undefined) this.#buildIndex();
  }

  #ensureIndex(): Float64Array {
    return this.#tree ?? this.#buildIndex();
  }

  /** Linear-time Fenwick build over every slot. */
  #buildIndex(): Float64Array {
    const n = this.#slots.length;
    const tree = new Float64Array(2 * (n + 1));
    for (let i = 0; i < this.#length; i += 1) {
      const slot = this.#slots[this.#head + i] as Slot;
      if (!isPaged(slot)) {
        const k = this.#head + i + 1;
        tree[2 * k] = slot.length;
        tree[2 * k + 1] = 1;
      }
    }
    // Stryker disable next-line EqualityOperator: equivalent, the last node has no parent inside the tree, so its pass does nothing
    for (let k = 1; k <= n; k += 1) {
      const parent = k + (k & -k);
      // Stryker disable next-line ConditionalExpression: equivalent, a Float64Array ignores writes past its end
      if (parent <= n) {
        tree[2 * parent] += tree[2 * k]!;
        tree[2 * parent + 1] += tree[2 * k + 1]!;
      }
    }
    let step = 1;
    // Stryker disable next-line EqualityOperator,ArithmeticOperator: equivalent, lowerBound checks next <= n itself, and answers are capped at length
    while (step * 2 <= n) step *= 2;
    this.#treeTopStep = step;
    this.#tree = tree;
    return tree;
  }
}

function checkEntry(entry: QueueEntry): void {
  const e = entry as { kind?: unknown; bytes?: unknown; handle?: { fetch?: unknown } | null } | null;
  const ok =
    e !== null &&
    typeof e === 'object' &&
    ((e.kind === 'bytes' && isBytes(e.bytes)) || (e.kind === 'paged' && e.handle !== null && typeof e.handle === 'object' && typeof e.handle.fetch === 'function'));
  if (ok) return;
  const what = e !== null && typeof e === 'object' && e.kind === 'bytes' ? `{ kind: 'bytes' } whose bytes is ${describeValue(e.bytes)}, not a Bytes` : e !== null && typeof e === 'object' && e.kind === 'paged' ? `{ kind: 'paged' } whose handle has no fetch() method` : describeValue(entry);
  throw new SpillsimError('E_BAD_ARGUMENT', `not a QueueEntry: expected { kind: 'bytes', bytes: Bytes } or { kind: 'paged', handle: BytesFetch }, got ${what}`);
}

/** Add `bytes` and `count` at 0-based slot `pos`. */
function add(tree: Float64Array, pos: number, bytes: number, count: number): void {
  // Stryker disable next-line ArithmeticOperator: equivalent, a Float64Array ignores writes past its end
  const n = (tree.length >> 1) - 1;
  for (let k = pos + 1; k <= n; k += k & -k) {
    tree[2 * k] += bytes;
    tree[2 * k + 1] += count;
  }
}

/** Sum of field `field` (0 bytes, 1 count) over 0-based slots `[0, pos)`. */
function prefix(tree: Float64Array, pos: number, field: 0 | 1): number {
  let sum = 0;
  for (let k = pos; k > 0; k -= k & -k) sum += tree[2 * k + field]!;
  return sum;
}

/** The largest slot count `k` whose sum of `field` over slots `[0, k)` is below `target` (values are non-negative). */
function lowerBound(tree: Float64Array, topStep: number, target: number, field: 0 | 1): number {
  // Stryker disable next-line ArithmeticOperator: equivalent, reads past the end are undefined and never below the target
  const n = (tree.length >> 1) - 1;
  let pos = 0;
  let remaining = target;
  for (let step = topStep; step > 0; step >>= 1) {
    const next = pos + step;
    // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent, reads past the end are undefined and never below the target, and the last slot is capped at length
    if (next <= n && tree[2 * next + field]! < remaining) {
      pos = next;
      remaining -= tree[2 * next + field]!;
    }
  }
  return pos;
}
