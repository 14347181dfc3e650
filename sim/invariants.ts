import type { Actor } from './actor.js';
import type { TrackedQueue } from './tracked_queue.js';
import type { PolicyKnobs } from './workload.js';

/** An invariant that broke, before the run stamps it with the step. */
export interface Breach {
  invariant: string;
  message: string;
}

/**
 * Recount the deque every SPOT_CHECK_EVERY steps (and whenever conservation fails, and at the
 * end): the recount reads every entry, while conservation, which every step checks, already
 * catches a `residentBytes` that drifts from what was written and delivered.
 */
const SPOT_CHECK_EVERY = 64;

/** Every handle is fetched at most once (the contract consumes it). */
export function checkFetchOnce(q: TrackedQueue): Breach | undefined {
  const doubleFetches = q.spill?.doubleFetches ?? 0;
  if (doubleFetches === 0) return undefined;
  return { invariant: 'fetch-once', message: `${q.name}: a paged entry's handle was fetched again after it had already returned its bytes (${doubleFetches} time(s)); a policy kept a stale entry` };
}

/** The bytes drained so far are exactly the stream's prefix (checked as they came out). */
export function checkDelivery(q: TrackedQueue): Breach | undefined {
  return q.deliveryError;
}

/**
 * Conservation: what is written and not yet delivered is in the queue, resident or stored, once:
 * `written − delivered = residentBytes + storedBytes`. Costs O(1) per step.
 */
export function checkConservation(q: TrackedQueue): Breach | undefined {
  const expected = q.writtenBytes - q.deliveredBytes;
  const resident = q.deque.residentBytes;
  const stored = q.storedBytes;
  const actual = resident + stored;
  if (actual === expected) return undefined;
  // Rare path: before blaming the data, make sure the deque's own count is not the liar.
  const miscount = recountBreach(q);
  if (miscount !== undefined) return miscount;
  const where = `${q.name} holds ${actual} bytes (${resident} resident + ${stored} in storage) but ${expected} are written and not yet delivered`;
  return actual > expected
    ? { invariant: 'no-duplicate', message: `${where}: ${actual - expected} bytes are held twice` }
    : { invariant: 'no-loss', message: `${where}: ${expected - actual} bytes vanished` };
}

/**
 * The deque's O(1) `residentBytes` equals a recount. Spot-checked: the next recount of a queue
 * is due SPOT_CHECK_EVERY steps later, or as many steps as the deque has entries if more, so the
 * check costs O(1) per step amortized however long the deque grows. `step` undefined: now.
 */
export function checkResidentCount(q: TrackedQueue, step?: number): Breach | undefined {
  if (step !== undefined) {
    if (step < q.recountDueStep) return undefined;
    q.recountDueStep = step + Math.max(SPOT_CHECK_EVERY, q.deque.length);
  }
  return recountBreach(q);
}

function recountBreach(q: TrackedQueue): Breach | undefined {
  const deque = q.deque;
  let recount = 0;
  for (let i = 0; i < deque.length; i += 1) {
    const bytes = deque.bytesAt(i);
    if (bytes !== undefined) recount += bytes.length;
  }
  if (recount === deque.residentBytes) return undefined;
  return { invariant: 'resident-count', message: `${q.name}: deque.residentBytes says ${deque.residentBytes} but its ${deque.length} entries hold ${recount} resident bytes` };
}

/**
 * The resident bytes a queue may hold after its writer policy ran (README: the resident bound):
 * `max(R + T, R + S + L + U)` with R the head reserve, T the threshold, S the longest entry
 * the queue can hold (the one straddling the reserve), L the last entry (the merge target,
 * never spilled) and U the bytes the last spill call left undrained.
 */
export function residentBoundBytes(q: TrackedQueue, knobs: PolicyKnobs, spilledThisStep: boolean): number {
  const lastBytes = q.deque.backBytes()?.length ?? 0;
  const undrainedBytes = spilledThisStep ? (q.spill?.lastUndrainedBytes ?? 0) : 0;
  const r = knobs.headReserveBytes;
  return Math.max(r + knobs.thresholdBytes, r + q.entryBytesMax + lastBytes + undrainedBytes);
}

export function checkResidentBound(q: TrackedQueue): Breach | undefined {
  const resident = q.deque.residentBytes;
  if (resident <= q.residentBoundBytes) return undefined;
  return { invariant: 'resident-bound', message: `${q.name} holds ${resident} resident bytes, above the ${q.residentBoundBytes} the writer policy promises` };
}

/** Why a queue has work for its reader right now, or why its data is stuck for good. */
export type Readiness = 'resident' | 'complete' | 'fetchable' | 'blocked' | undefined;

export function readiness(q: TrackedQueue): Readiness {
  if (q.readerDropped) return undefined;
  const deque = q.deque;
  if (deque.length === 0) return q.writerDropped ? 'complete' : undefined;
  const handle = deque.handleAt(0);
  if (handle === undefined) return 'resident';
  const outlook = q.spill?.outlook(handle) ?? 'unknown';
  if (outlook === 'permanent') return 'blocked';
  return outlook === 'waiting' || outlook === 'fetched' ? undefined : 'fetchable';
}

const READINESS_TEXT: Record<Exclude<Readiness, undefined>, string> = {
  resident: 'resident bytes at its front',
  complete: 'its writer gone and nothing left, waiting to be completed',
  fetchable: 'a paged entry at its front that can be fetched now',
  blocked: 'a paged entry at its front whose fetch fails forever',
};

/**
 * No stall: a parked actor (no buzz pending) has no deliverable data waiting in any source, and
 * is not waiting on sources that are all complete (it should be finishing).
 */
export function checkNotStalled(actor: Actor, nowTicks: number): Breach | undefined {
  let live = 0;
  let complete: TrackedQueue | undefined;
  for (const q of actor.sources) {
    // A poisoned queue is panic liveness's business (the holder must observe E_POISONED in time).
    if (q.poisonedAtStep !== undefined) continue;
    const ready = readiness(q);
    if (!q.readerDropped) live += 1;
    if (ready === 'complete') complete = q;
    if (ready === 'resident' || ready === 'fetchable') {
      return { invariant: 'no-stall', message: `${actor.name} is parked with no buzz pending while ${q.name} has ${READINESS_TEXT[ready]}; nothing will wake it` };
    }
  }
  if (complete !== undefined && live > 0 && actor.sources.every((q) => q.readerDropped || readiness(q) === 'complete')) {
    return { invariant: 'no-stall', message: `${actor.name} is parked with no buzz pending while every source it reads is complete (${complete.name} among them); nothing will wake it to finish` };
  }
  const input = actor.pendingInput(nowTicks);
  if (input !== undefined) return { invariant: 'no-stall', message: `${actor.name} is parked with no buzz pending while ${input}` };
  return undefined;
}

export function describeReadiness(ready: Exclude<Readiness, undefined>): string {
  return READINESS_TEXT[ready];
}
