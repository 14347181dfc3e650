import type { Bytes } from './bytes.js';
import type { EntryDeque } from './entry_deque.js';
import { BackendContractError } from './errors.js';
import { type BytesFetch, type BytesSpill, pagedEntry } from './spill.js';
import { ThresholdKnobs } from './threshold_knobs.js';

/**
 * Writer policy: when resident bytes exceed `headReserveBytes + thresholdBytes`, spill every
 * resident entry past the head reserve except the last (the merge target) through `strategy`.
 *
 * Same decisions as `ReferenceThreshold`, entry for entry, at a cost that does not grow with
 * the queue's length: the resident total is read in O(1) and the targets are found through the
 * deque's prefix index in O(log n) each. Unlike the reference, it checks the backend's answer
 * (front-draining, one handle per drained chunk) and throws `E_BACKEND_CONTRACT` rather than
 * pairing entries with the wrong handles, which would duplicate or lose data.
 */
export class Threshold extends ThresholdKnobs {
  apply(deque: EntryDeque): void {
    if (deque.residentBytes <= this.headReserveBytes + this.thresholdBytes) return;
    const lastIndex = deque.length - 1;
    // The targets are the resident entries in [first, lastIndex), walked twice: to offer them,
    // then to page the drained ones (only the spill ran between, and paging an entry leaves
    // the next resident one where it was), rather than kept in a list.
    const first = nextResident(deque, deque.indexOfResidentBytesBefore(this.headReserveBytes), lastIndex);
    if (first >= lastIndex) return;
    // What is offered, kept apart from the list the backend drains: spillOffered checks the
    // drain against it. Its length is the resident entries from `first` on, less the last one
    // when it is resident.
    const lastResident = deque.bytesAt(lastIndex) === undefined ? 0 : 1;
    const offered = new Array<Bytes>(deque.residentCount - deque.residentCountBefore(first) - lastResident);
    let k = 0;
    for (let i = first; i < lastIndex; i = nextResident(deque, i + 1, lastIndex)) offered[k++] = deque.bytesAt(i)!.clone();
    const handles = spillOffered(this.strategy, offered.slice(), offered);
    k = 0;
    for (let i = first; k < handles.length; k += 1, i = nextResident(deque, i + 1, lastIndex)) deque.set(i, pagedEntry(handles[k]!));
  }
}

/** The first resident index at or after `i` (or ≥ `end`): a look at `i` first, since runs of resident targets are common. */
function nextResident(deque: EntryDeque, i: number, end: number): number {
  // Stryker disable next-line EqualityOperator: equivalent, at i === end both branches answer end or an index ≥ end, which the caller treats alike
  if (i >= end) return end;
  // Stryker disable next-line all: equivalent, a speed-up only; nextResidentIndex(i) is i when entry i is resident
  return deque.bytesAt(i) !== undefined ? i : deque.nextResidentIndex(i);
}

/**
 * Call `strategy.spill` and check its answer against the contract: it drained a prefix of the
 * chunks and returned exactly one handle per drained chunk. Returns the handles, in order.
 */
export function spillChecked(strategy: BytesSpill, chunks: Bytes[]): BytesFetch[] {
  return spillOffered(strategy, chunks, chunks.slice());
}

/** `spillChecked` where `offered` is a copy of `chunks` the caller made (and keeps). Not part of the public API. */
function spillOffered(strategy: BytesSpill, chunks: Bytes[], offered: readonly Bytes[]): BytesFetch[] {
  const handles: BytesFetch[] = [];
  strategy.spill(chunks, handles);
  // Stryker disable ConditionalExpression,LogicalOperator,BlockStatement,StringLiteral: equivalent, a defensive check; spill receives the lists by reference and cannot make them stop being arrays
  if (!Array.isArray(chunks) || !Array.isArray(handles)) {
    throw new BackendContractError('spill replaced its chunk or handle list; it must drain and push in place');
  }
  // Stryker restore ConditionalExpression,LogicalOperator,BlockStatement,StringLiteral
  const drained = offered.length - chunks.length;
  if (drained < 0) {
    throw new BackendContractError(`spill grew the chunk list from ${offered.length} to ${chunks.length} chunks; it may only drain it`);
  }
  // Stryker disable next-line EqualityOperator: equivalent, one step past the end compares undefined with undefined
  for (let k = 0; k < chunks.length; k += 1) {
    if (chunks[k] !== offered[drained + k]) {
      throw new BackendContractError(
        `spill did not drain from the front: chunk ${drained + k} of ${offered.length} is missing from the undrained tail; the contract drains chunks in order from index 0`,
      );
    }
  }
  if (handles.length !== drained) {
    throw new BackendContractError(
      `spill drained ${drained} of ${offered.length} chunks but pushed ${handles.length} handles; the contract is exactly one handle per drained chunk`,
    );
  }
  for (let k = 0; k < handles.length; k += 1) {
    const handle = handles[k] as unknown;
    // Stryker disable next-line ConditionalExpression: equivalent in effect, dropping the typeof test only admits a function that carries a fetch() method, which works as a handle
    if (handle === null || typeof handle !== 'object' || typeof (handle as BytesFetch).fetch !== 'function') {
      throw new BackendContractError(`spill pushed handle ${k} that has no fetch() method`);
    }
  }
  return handles;
}
