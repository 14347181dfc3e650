import { SpillsimError } from './errors.js';
import type { QueueEntry } from './spill.js';

const CAPACITY_MIN = 16;

/**
 * The double-ended queue of entries a policy's `apply` receives (the reference's
 * `VecDeque<QueueEntry>`).
 *
 * Entries sit in one array between `head` and `head + length`, with slack on both sides, so
 * both ends push and pop in amortized O(1). `residentBytes` (the sum of resident lengths) is
 * kept up to date by every mutation so a policy reads it in O(1).
 *
 * The prefix queries (`residentBytesBefore`, `indexOfResidentBytesBefore`, `nextResidentIndex`)
 * answer in O(log n) from two Fenwick trees over the array's slots. The trees are built on the
 * first prefix query and maintained from then on, so a queue whose policies never ask pays nothing.
 */
export class EntryDeque implements Iterable<QueueEntry> {
  #slots: (QueueEntry | undefined)[];
  #head: number;
  #length = 0;
  #residentBytes = 0;
  #residentCount = 0;
  // Fenwick trees over slot positions (1-based inside): resident bytes and resident entry counts.
  #treeBytes: Float64Array | undefined;
  #treeCount: Float64Array | undefined;

  constructor(entries: Iterable<QueueEntry> = []) {
    this.#slots = new Array<QueueEntry | undefined>(CAPACITY_MIN);
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
    return this.#slots[this.#head + i] as QueueEntry;
  }

  set(i: number, entry: QueueEntry): void {
    this.#checkIndex(i, this.#length);
    checkEntry(entry);
    const pos = this.#head + i;
    this.#account(pos, this.#slots[pos] as QueueEntry, -1);
    this.#slots[pos] = entry;
    this.#account(pos, entry, +1);
  }

  front(): QueueEntry | undefined {
    return this.#length === 0 ? undefined : this.#slots[this.#head];
  }

  back(): QueueEntry | undefined {
    return this.#length === 0 ? undefined : this.#slots[this.#head + this.#length - 1];
  }

  pushBack(entry: QueueEntry): void {
    checkEntry(entry);
    if (this.#head + this.#length === this.#slots.length) this.#relayout(this.#length + 1);
    const pos = this.#head + this.#length;
    this.#slots[pos] = entry;
    this.#length += 1;
    this.#account(pos, entry, +1);
  }

  pushFront(entry: QueueEntry): void {
    checkEntry(entry);
    if (this.#head === 0) this.#relayout(this.#length + 1);
    this.#head -= 1;
    this.#slots[this.#head] = entry;
    this.#length += 1;
    this.#account(this.#head, entry, +1);
  }

  popFront(): QueueEntry | undefined {
    if (this.#length === 0) return undefined;
    const pos = this.#head;
    const entry = this.#slots[pos] as QueueEntry;
    this.#account(pos, entry, -1);
    this.#slots[pos] = undefined;
    this.#head += 1;
    this.#length -= 1;
    return entry;
  }

  popBack(): QueueEntry | undefined {
    if (this.#length === 0) return undefined;
    const pos = this.#head + this.#length - 1;
    const entry = this.#slots[pos] as QueueEntry;
    this.#account(pos, entry, -1);
    this.#slots[pos] = undefined;
    this.#length -= 1;
    return entry;
  }

  /** Insert before index `i` (0 ≤ i ≤ length), shifting the shorter side. */
  insert(i: number, entry: QueueEntry): void {
    this.#checkIndex(i, this.#length + 1);
    checkEntry(entry);
    if (i === 0) return this.pushFront(entry);
    if (i === this.#length) return this.pushBack(entry);
    const frontSide = i < this.#length - i;
    if (frontSide ? this.#head === 0 : this.#head + this.#length === this.#slots.length) {
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
    this.#slots[pos] = entry;
    this.#length += 1;
    this.#account(pos, entry, +1);
  }

  /** Remove and return the entry at index `i`, shifting the shorter side. */
  remove(i: number): QueueEntry {
    this.#checkIndex(i, this.#length);
    if (i === 0) return this.popFront() as QueueEntry;
    if (i === this.#length - 1) return this.popBack() as QueueEntry;
    const pos = this.#head + i;
    const entry = this.#slots[pos] as QueueEntry;
    this.#account(pos, entry, -1);
    if (i < this.#length - 1 - i) {
      for (let p = pos; p > this.#head; p -= 1) this.#move(p - 1, p);
      this.#slots[this.#head] = undefined;
      this.#head += 1;
    } else {
      const end = this.#head + this.#length - 1;
      for (let p = pos; p < end; p += 1) this.#move(p + 1, p);
      this.#slots[end] = undefined;
    }
    this.#length -= 1;
    return entry;
  }

  clear(): void {
    while (this.#length > 0) this.popBack();
  }

  *[Symbol.iterator](): IterableIterator<QueueEntry> {
    for (let i = 0; i < this.#length; i += 1) yield this.#slots[this.#head + i] as QueueEntry;
  }

  toArray(): QueueEntry[] {
    return this.#slots.slice(this.#head, this.#head + this.#length) as QueueEntry[];
  }

  /** Sum of resident bytes in entries `[0, i)`. O(log n). */
  residentBytesBefore(i: number): number {
    this.#checkIndex(i, this.#length + 1);
    this.#ensureIndex();
    return prefix(this.#treeBytes!, this.#head + i) - prefix(this.#treeBytes!, this.#head);
  }

  /**
   * The smallest index `i` with `residentBytesBefore(i) >= bytes`, or `length` when there is
   * none below it. O(log n).
   */
  indexOfResidentBytesBefore(bytes: number): number {
    if (bytes <= 0) return 0;
    this.#ensureIndex();
    const base = prefix(this.#treeBytes!, this.#head);
    // Slots whose prefix is below base + bytes; the next slot is the first at or above it.
    const pos = lowerBound(this.#treeBytes!, base + bytes) + 1;
    return Math.min(Math.max(pos - this.#head, 0), this.#length);
  }

  /** The index of the first resident entry at or after `i`, or `length` when none. O(log n). */
  nextResidentIndex(i: number): number {
    this.#checkIndex(i, this.#length + 1);
    if (i === this.#length) return this.#length;
    this.#ensureIndex();
    const before = prefix(this.#treeCount!, this.#head + i);
    const pos = lowerBound(this.#treeCount!, before + 1);
    return Math.min(pos - this.#head, this.#length);
  }

  #checkIndex(i: number, bound: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= bound) {
      throw new SpillsimError('E_BAD_ARGUMENT', `deque index ${i} out of range [0, ${bound})`);
    }
  }

  #account(pos: number, entry: QueueEntry, sign: 1 | -1): void {
    if (entry.kind !== 'bytes') return;
    const bytes = entry.bytes.length;
    this.#residentBytes += sign * bytes;
    this.#residentCount += sign;
    if (this.#treeBytes !== undefined) {
      add(this.#treeBytes, pos, sign * bytes);
      add(this.#treeCount!, pos, sign);
    }
  }

  /** Move the entry in slot `from` to the empty-by-now slot `to`, keeping the trees right. */
  #move(from: number, to: number): void {
    const entry = this.#slots[from];
    this.#slots[to] = entry;
    this.#slots[from] = undefined;
    if (this.#treeBytes !== undefined && entry !== undefined && entry.kind === 'bytes') {
      add(this.#treeBytes, from, -entry.bytes.length);
      add(this.#treeCount!, from, -1);
      add(this.#treeBytes, to, entry.bytes.length);
      add(this.#treeCount!, to, 1);
    }
  }

  /** Re-place the entries in a fresh array with slack at both ends; O(n), amortized away. */
  #relayout(lengthNeeded: number): void {
    const capacity = Math.max(CAPACITY_MIN, 2 * lengthNeeded + CAPACITY_MIN);
    const slots = new Array<QueueEntry | undefined>(capacity);
    const head = (capacity - this.#length) >> 2;
    for (let i = 0; i < this.#length; i += 1) slots[head + i] = this.#slots[this.#head + i];
    this.#slots = slots;
    this.#head = head;
    if (this.#treeBytes !== undefined) this.#buildIndex();
  }

  #ensureIndex(): void {
    if (this.#treeBytes === undefined) this.#buildIndex();
  }

  /** Linear-time Fenwick build over every slot. */
  #buildIndex(): void {
    const n = this.#slots.length;
    const treeBytes = new Float64Array(n + 1);
    const treeCount = new Float64Array(n + 1);
    for (let i = 0; i < this.#length; i += 1) {
      const entry = this.#slots[this.#head + i] as QueueEntry;
      if (entry.kind === 'bytes') {
        treeBytes[this.#head + i + 1] = entry.bytes.length;
        treeCount[this.#head + i + 1] = 1;
      }
    }
    for (let k = 1; k <= n; k += 1) {
      const parent = k + (k & -k);
      if (parent <= n) {
        treeBytes[parent] += treeBytes[k]!;
        treeCount[parent] += treeCount[k]!;
      }
    }
    this.#treeBytes = treeBytes;
    this.#treeCount = treeCount;
  }
}

function checkEntry(entry: QueueEntry): void {
  const ok =
    entry !== null &&
    typeof entry === 'object' &&
    ((entry.kind === 'bytes' && entry.bytes !== null && typeof entry.bytes === 'object' && typeof entry.bytes.length === 'number') ||
      (entry.kind === 'paged' && entry.handle !== null && typeof entry.handle === 'object'));
  if (!ok) {
    throw new SpillsimError('E_BAD_ARGUMENT', `not a QueueEntry: expected { kind: 'bytes', bytes } or { kind: 'paged', handle }`);
  }
}

/** Add `delta` at 0-based slot `pos`. */
function add(tree: Float64Array, pos: number, delta: number): void {
  for (let k = pos + 1; k < tree.length; k += k & -k) tree[k] += delta;
}

/** Sum over 0-based slots `[0, pos)`. */
function prefix(tree: Float64Array, pos: number): number {
  let sum = 0;
  for (let k = pos; k > 0; k -= k & -k) sum += tree[k]!;
  return sum;
}

/** The largest slot count `k` with sum of slots `[0, k)` below `target` (values are non-negative). */
function lowerBound(tree: Float64Array, target: number): number {
  const n = tree.length - 1;
  let pos = 0;
  let remaining = target;
  let step = 1;
  while (step * 2 <= n) step *= 2;
  for (; step > 0; step >>= 1) {
    const next = pos + step;
    if (next <= n && tree[next]! < remaining) {
      pos = next;
      remaining -= tree[next]!;
    }
  }
  return pos;
}
