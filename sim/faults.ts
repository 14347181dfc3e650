import type { Bytes } from '../src/bytes.js';
import type { BytesFetch, BytesSpill, FetchResult, InspectableSpill, StorageStats } from '../src/spill.js';
import type { RandomSource } from './rng.js';
import { SimRng } from './rng.js';

/**
 * The fault kinds a profile can switch on.
 * - `spill-stop`: a spill call stops after k of its chunks (no space, I/O error).
 * - `capacity`: storage holds at most `capacityBytes`; a spill stops at the first chunk that does not fit.
 * - `fetch-transient`: each fetch attempt fails with some probability.
 * - `fetch-n`: some handles fail their first n attempts.
 * - `fetch-forever`: some handles never fetch again (a permanent fault; the data behind it is blocked).
 * - `latency`: a handle is not ready until some virtual ticks after its spill.
 * - `io-error`: the file storage's own writes and reads fail (ENOSPC, EIO), so the backend's
 *   recovery runs (see `FaultyFs`); only for the simulator's file storage.
 * - `short-write`, `short-read`: a write or read does part of its work and returns the count,
 *   without an error (the backend must loop).
 * - `interrupted`: a write or read throws EAGAIN or EINTR having done nothing.
 * - `disk-full`: the disk holds a few chunks' worth; a write that does not fit is short, the next ENOSPC.
 * - `fd-limit`: one or two descriptors at most; one more open throws EMFILE.
 * - `panic`: the storage throws (not an error result: a panic) inside a spill or a fetch, so the
 *   policy calling it throws inside `extend` or `drainInto`; the queue is poisoned, the thread
 *   that panicked unwinds, and the other side must observe `E_POISONED` within a bound
 *   (`panic-liveness`). Single workload only.
 */
export type FaultKind =
  | 'spill-stop'
  | 'capacity'
  | 'fetch-transient'
  | 'fetch-n'
  | 'fetch-forever'
  | 'latency'
  | 'io-error'
  | 'short-write'
  | 'short-read'
  | 'interrupted'
  | 'disk-full'
  | 'fd-limit'
  | 'panic';

export const FAULT_KINDS: readonly FaultKind[] = [
  'spill-stop', 'capacity', 'fetch-transient', 'fetch-n', 'fetch-forever', 'latency', 'io-error',
  'short-write', 'short-read', 'interrupted', 'disk-full', 'fd-limit', 'panic',
];

/** The kinds at the file-system layer, under the file backend (`FaultyFs`). */
export const FS_FAULT_KINDS: readonly FaultKind[] = ['io-error', 'short-write', 'short-read', 'interrupted', 'disk-full', 'fd-limit'];

/**
 * Whether swarm mode draws `panic` (single workload). On since a handle dropped while unwinding
 * buzzes, as the reference's Drop does; before that a parked reader never observed E_POISONED
 * and `panic-liveness` failed about 1.5% of panicking seeds (README, finding 8).
 */
export const SWARM_DRAWS_PANIC = true;

/** The kinds swarm mode draws from: every one clears once faults stop, so a run can finish. */
export const RECOVERABLE_FAULT_KINDS: readonly FaultKind[] = [
  'spill-stop', 'capacity', 'fetch-transient', 'fetch-n', 'latency', 'io-error',
  'short-write', 'short-read', 'interrupted', 'disk-full', 'fd-limit', 'panic',
];

/** The kinds swarm mode actually draws, on the single workload (meshes and clusters leave out `panic`). */
export const SWARM_FAULT_KINDS: readonly FaultKind[] = RECOVERABLE_FAULT_KINDS.filter((kind) => kind !== 'panic' || SWARM_DRAWS_PANIC);

/** Thrown by `FaultySpill` for a `panic` fault: a bug in the storage, not a storage error. */
export class InjectedPanic extends Error {
  constructor(where: string) {
    super(`injected panic in ${where}`);
    this.name = 'InjectedPanic';
  }
}

/** How often each fault strikes; a zero rate (or undefined capacity) means the kind is off. */
export interface FaultProfile {
  /** Chance that a spill call stops partway (after a random k of its chunks, possibly 0). */
  spillStopChance: number;
  /** Storage capacity in bytes (bytes spilled through this wrapper and not yet fetched); undefined: unlimited. */
  capacityBytes: number | undefined;
  /** Chance that one fetch attempt fails. */
  fetchTransientChance: number;
  /** Chance that a new handle fails its first n attempts, n in [1, fetchFailTriesMax]. */
  fetchFailNChance: number;
  fetchFailTriesMax: number;
  /** Chance that a new handle fails forever. */
  fetchForeverChance: number;
  /** Most ticks between a spill and the moment its handle can be fetched; 0 is off. */
  latencyTicksMax: number;
  /** Chance that one write of the memfs storage fails (the backend drains what it fully wrote). */
  ioWriteFailChance: number;
  /** Chance that one read of the memfs storage fails (the handle comes back for a retry). */
  ioReadFailChance: number;
  /** Chance that one write of the file storage is short (a prefix, no error). */
  shortWriteChance: number;
  /** Chance that one read of the file storage is short. */
  shortReadChance: number;
  /** Chance that one read or write of the file storage throws EAGAIN or EINTR. */
  interruptChance: number;
  /** Bytes the file storage's disk holds (ENOSPC beyond); undefined: unlimited. */
  diskBytes: number | undefined;
  /** Descriptors the file storage may hold open (EMFILE beyond); undefined: unlimited. */
  openFilesMax: number | undefined;
  /** Chance that one spill or fetch panics (throws); at most one panic per queue. */
  panicChance: number;
}

export const NO_FAULTS: FaultProfile = Object.freeze({
  spillStopChance: 0,
  capacityBytes: undefined,
  fetchTransientChance: 0,
  fetchFailNChance: 0,
  fetchFailTriesMax: 0,
  fetchForeverChance: 0,
  latencyTicksMax: 0,
  ioWriteFailChance: 0,
  ioReadFailChance: 0,
  shortWriteChance: 0,
  shortReadChance: 0,
  interruptChance: 0,
  diskBytes: undefined,
  openFilesMax: undefined,
  panicChance: 0,
});

/** `'none'`, `'swarm'` (each recoverable kind on or off per seed, some seeds with none), or an explicit list of kinds. */
export type FaultMode = 'none' | 'swarm' | readonly FaultKind[];

/** Chance that a swarm seed has no fault at all, so the fault-free path is covered too. */
const SWARM_NONE_CHANCE = 0.15;
/** Chance that a swarm seed has each recoverable kind on. */
const SWARM_KIND_CHANCE = 0.35;

/**
 * The fault profile of a run, from its seed. In swarm mode each kind is switched on or off for
 * the whole run (not given a small rate everywhere), because a bug that needs two kinds at
 * once is only found by seeds that have both and lack the ones that would mask it.
 */
export function chooseFaultProfile(rng: SimRng, mode: FaultMode, storageScaleBytes: number, options: { panics?: boolean } = {}): FaultProfile {
  if (mode === 'none') return NO_FAULTS;
  let kinds: readonly FaultKind[];
  if (mode === 'swarm') {
    // Each kind on for about a third of the seeds, so a seed carries a few of them, not half of twelve.
    kinds = rng.chance(SWARM_NONE_CHANCE) ? [] : RECOVERABLE_FAULT_KINDS.filter((kind) => rng.chance(SWARM_KIND_CHANCE) && (kind !== 'panic' || (SWARM_DRAWS_PANIC && options.panics !== false)));
  } else {
    kinds = mode;
  }
  const on = (kind: FaultKind): boolean => kinds.includes(kind);
  return {
    spillStopChance: on('spill-stop') ? rng.pick([0.1, 0.3, 0.6]) : 0,
    capacityBytes: on('capacity') ? rng.int(1, 4) * storageScaleBytes : undefined,
    fetchTransientChance: on('fetch-transient') ? rng.pick([0.1, 0.3, 0.6]) : 0,
    fetchFailNChance: on('fetch-n') ? rng.pick([0.2, 0.5]) : 0,
    fetchFailTriesMax: on('fetch-n') ? rng.int(1, 8) : 0,
    fetchForeverChance: on('fetch-forever') ? rng.pick([0.05, 0.2]) : 0,
    latencyTicksMax: on('latency') ? rng.int(2, 40) : 0,
    ioWriteFailChance: on('io-error') ? rng.pick([0.05, 0.2]) : 0,
    ioReadFailChance: on('io-error') ? rng.pick([0.1, 0.3]) : 0,
    shortWriteChance: on('short-write') ? rng.pick([0.2, 0.6, 1]) : 0,
    shortReadChance: on('short-read') ? rng.pick([0.2, 0.6, 1]) : 0,
    interruptChance: on('interrupted') ? rng.pick([0.05, 0.2, 0.5]) : 0,
    diskBytes: on('disk-full') ? rng.int(1, 6) * storageScaleBytes : undefined,
    openFilesMax: on('fd-limit') ? rng.int(1, 2) : undefined,
    panicChance: on('panic') ? rng.pick([0.01, 0.05, 0.2]) : 0,
  };
}

/** The kinds a profile has switched on, for traces and reports. */
export function faultKindsOf(profile: FaultProfile): FaultKind[] {
  const kinds: FaultKind[] = [];
  if (profile.spillStopChance > 0) kinds.push('spill-stop');
  if (profile.capacityBytes !== undefined) kinds.push('capacity');
  if (profile.fetchTransientChance > 0) kinds.push('fetch-transient');
  if (profile.fetchFailNChance > 0) kinds.push('fetch-n');
  if (profile.fetchForeverChance > 0) kinds.push('fetch-forever');
  if (profile.latencyTicksMax > 0) kinds.push('latency');
  if (profile.ioWriteFailChance > 0 || profile.ioReadFailChance > 0) kinds.push('io-error');
  if (profile.shortWriteChance > 0) kinds.push('short-write');
  if (profile.shortReadChance > 0) kinds.push('short-read');
  if (profile.interruptChance > 0) kinds.push('interrupted');
  if (profile.diskBytes !== undefined) kinds.push('disk-full');
  if (profile.openFilesMax !== undefined) kinds.push('fd-limit');
  if (profile.panicChance > 0) kinds.push('panic');
  return kinds;
}

/** Parse `none`, `swarm` or a comma list of kinds (the CLI's `--faults`); throws RangeError naming the bad kind. */
export function parseFaultMode(text: string): FaultMode {
  if (text === 'none' || text === 'swarm') return text;
  const kinds = text.split(',').map((k) => k.trim());
  // An empty item (a stray comma) or a kind given twice is a mistake, refused as --suite refuses it.
  if (kinds.some((k) => k.length === 0)) throw new RangeError(`an item of '${text}' is empty (a stray comma?)`);
  const repeated = kinds.find((k, i) => kinds.indexOf(k) !== i);
  if (repeated !== undefined) throw new RangeError(`${repeated} is given twice`);
  const bad = kinds.find((k) => !(FAULT_KINDS as readonly string[]).includes(k));
  if (bad !== undefined) {
    throw new RangeError(`unknown fault kind '${bad}'; use none, swarm, or a comma list of ${FAULT_KINDS.join(', ')}`);
  }
  return kinds as FaultKind[];
}

/** What a handle would do if fetched now; the simulator's no-stall and data-blocked checks ask. */
export type HandleOutlook = 'ready' | 'may-fail' | 'waiting' | 'permanent' | 'fetched' | 'unknown';

/** One thing the wrapper did, for the trace. */
export interface FaultEvent {
  kind: 'spill' | 'fetch';
  ok: boolean;
  chunks: number;
  bytes: number;
  /** The injected fault, e.g. `spill stopped after 2 of 5 chunks (no space)`. */
  fault: string | undefined;
}

/** Statistics of the wrapper itself: what it holds for the queue and what went wrong. */
export interface FaultySpillStats extends StorageStats {
  /** Successful fetches of a handle that had already been fetched (the contract is exactly once). */
  doubleFetches: number;
  /** Undrained bytes of the most recent spill call (offered minus drained). */
  lastUndrainedBytes: number;
}

export interface FaultySpillOptions {
  /** Virtual time, for `latency`; without it, latency is counted in fetch attempts. */
  clock?: { readonly nowTicks: number };
  /** Called for every spill call and fetch attempt. */
  onEvent?: (event: FaultEvent) => void;
  /**
   * The listener reads each event during the call and keeps no reference to it: the wrapper then
   * refills one event object instead of making one per spill call and fetch attempt.
   */
  eventReused?: boolean;
}

/**
 * A wrapper that injects storage faults into any `BytesSpill`, in the ways the contract allows:
 * a spill that drains only a prefix, fetches that hand their handle back. It never breaks the
 * contract itself, so whatever goes wrong downstream is the queue's, the policy's or the inner
 * backend's doing; and it passes an inner backend's own contract breaches through unchanged.
 *
 * Reuse it to stress any backend: `new FaultySpill(myBackend, profile, new SimRng(seed))`, where
 * `profile` comes from `chooseFaultProfile` or is written by hand (start from `NO_FAULTS`).
 * `heal()` stops every fault but `fetch-forever`; `stats()` counts bytes it passed to storage
 * and not yet fetched back.
 */
export class FaultySpill implements InspectableSpill {
  readonly inner: BytesSpill;
  readonly profile: FaultProfile;
  readonly #rng: RandomSource;
  readonly #options: FaultySpillOptions;
  /** No faults now: healed for good, or paused (a deep run's quiet spell). */
  #quiet = false;
  #healedForGood = false;
  #storedBytes = 0;
  #storedChunks = 0;
  #doubleFetches = 0;
  #lastUndrainedBytes = 0;
  #attempts = 0;

  constructor(inner: BytesSpill, profile: FaultProfile, rng: RandomSource, options: FaultySpillOptions = {}) {
    this.inner = inner;
    this.profile = profile;
    this.#rng = rng;
    this.#options = options;
  }

  get healed(): boolean {
    return this.#healedForGood;
  }

  /** Stop injecting faults (the liveness phase). Handles that fail forever keep failing. */
  heal(): void {
    this.#healedForGood = true;
    this.#quiet = true;
  }

  /** Pause (true) or resume (false) injecting faults; no effect once healed. Deep runs alternate spells of each. */
  pause(paused: boolean): void {
    if (!this.#healedForGood) this.#quiet = paused;
  }

  /** True once this wrapper has panicked (it panics at most once). */
  get panicked(): boolean {
    return this.#panicked;
  }

  #panicked = false;

  /** A `panic` fault: throw instead of answering, once. */
  #maybePanic(where: string): void {
    if (this.#quiet || this.#panicked || !(this.profile.panicChance > 0) || !(this.#rng.next() < this.profile.panicChance)) return;
    this.#panicked = true;
    throw new InjectedPanic(where);
  }

  spill(chunks: Bytes[], handles: BytesFetch[]): void {
    if (chunks.length > 0) this.#maybePanic('spill');
    const offeredChunks = chunks.length;
    const offeredBytes = sumBytes(chunks);
    const limit = this.#spillLimit(chunks);
    let fault = this.#limitFault;
    const whole = limit === chunks.length;
    // The whole list goes to the inner backend as it is; a prefix goes as a copy, put back after.
    const offered = whole ? chunks : chunks.slice(0, limit);
    const limitBytes = whole ? offeredBytes : sumBytes(offered);
    // The inner backend's handles, in a list kept for the next call (taken while in use).
    const innerHandles = this.#innerHandles ?? [];
    this.#innerHandles = undefined;
    while (innerHandles.length > 0) innerHandles.pop();
    if (limit > 0) this.inner.spill(offered, innerHandles);
    // Reflect exactly what the inner backend did to its prefix, contract breaches included.
    const drainedBytes = limitBytes - sumBytes(offered);
    const undrained = whole ? chunks.length : offered.length;
    if (fault === undefined && undrained > 0) fault = this.#text(DRAINED, offeredChunks, limit - undrained);
    if (!whole) chunks.splice(0, limit, ...offered);
    this.#storedBytes += drainedBytes;
    this.#storedChunks += limit - offered.length;
    this.#lastUndrainedBytes = offeredBytes - drainedBytes;
    for (let k = 0; k < innerHandles.length; k += 1) {
      const handle = innerHandles[k];
      handles.push(isHandle(handle) ? this.#wrap(handle) : handle!);
    }
    while (innerHandles.length > 0) innerHandles.pop();
    this.#innerHandles = innerHandles;
    this.#emit('spill', fault === undefined, offeredChunks - chunks.length, drainedBytes, fault);
  }

  /** Bytes spilled through this wrapper and not yet fetched back (as `stats()`, without allocating). */
  get storedBytes(): number {
    return this.#storedBytes;
  }

  /** Successful fetches of an already fetched handle (as `stats()`, without allocating). */
  get doubleFetches(): number {
    return this.#doubleFetches;
  }

  /** Undrained bytes of the most recent spill call (as `stats()`, without allocating). */
  get lastUndrainedBytes(): number {
    return this.#lastUndrainedBytes;
  }

  stats(): FaultySpillStats {
    return { storedBytes: this.#storedBytes, storedChunks: this.#storedChunks, doubleFetches: this.#doubleFetches, lastUndrainedBytes: this.#lastUndrainedBytes };
  }

  /** What fetching `handle` now would do, without trying it. */
  outlook(handle: BytesFetch): HandleOutlook {
    if (!(handle instanceof FaultyHandle) || handle.owner !== this) return 'unknown';
    if (handle.fetched) return 'fetched';
    if (handle.permanent) return 'permanent';
    if (this.#quiet) return 'ready';
    if (handle.readyTick > this.#nowTicks()) return 'waiting';
    return handle.failuresLeft > 0 || this.profile.fetchTransientChance > 0 ? 'may-fail' : 'ready';
  }

  /** The tick at which `handle` stops waiting for latency (for the simulator's timers). */
  readyTick(handle: BytesFetch): number | undefined {
    return handle instanceof FaultyHandle && handle.owner === this ? handle.readyTick : undefined;
  }

  /**
   * Fault texts, made once per (kind, chunks offered, count): a full disk or a small capacity
   * refuses thousands of spills with the same few texts, and each made anew cost a string.
   */
  readonly #texts: Array<Array<string | undefined> | undefined> = [];

  /** The text of fault `kind` for `count` (of `offered` chunks, where that applies). */
  #text(kind: number, offered: number, count: number): string {
    if (offered >= TEXT_MEMO_OFFERED_MAX || count >= TEXT_MEMO_OFFERED_MAX) return this.#makeText(kind, offered, count);
    const row = (this.#texts[kind * TEXT_MEMO_OFFERED_MAX + offered] ??= []);
    return (row[count] ??= this.#makeText(kind, offered, count));
  }

  #makeText(kind: number, offered: number, count: number): string {
    switch (kind) {
      case DRAINED:
        return `the backend drained ${count} of ${offered} chunks (its write failed)`;
      case STOPPED_NO_SPACE:
        return `spill stopped after ${count} of ${offered} chunks (no space)`;
      case STOPPED_IO_ERROR:
        return `spill stopped after ${count} of ${offered} chunks (I/O error)`;
      case STOPPED_CAPACITY:
        return `spill stopped after ${count} of ${offered} chunks (capacity ${this.profile.capacityBytes} bytes full)`;
      default:
        return `fetch failed (${count} more failures to come)`;
    }
  }

  /** The event refilled for each call when the listener allows it (`eventReused`). */
  readonly #event: FaultEvent = { kind: 'spill', ok: true, chunks: 0, bytes: 0, fault: undefined };

  #emit(kind: FaultEvent['kind'], ok: boolean, chunks: number, bytes: number, fault: string | undefined): void {
    const onEvent = this.#options.onEvent;
    if (onEvent === undefined) return;
    if (this.#options.eventReused !== true) {
      onEvent({ kind, ok, chunks, bytes, fault });
      return;
    }
    const event = this.#event;
    event.kind = kind;
    event.ok = ok;
    event.chunks = chunks;
    event.bytes = bytes;
    event.fault = fault;
    onEvent(event);
  }

  /** Why the last `#spillLimit` stops the spill early, if it does. */
  #limitFault: string | undefined;
  #innerHandles: BytesFetch[] | undefined = [];

  /** How many chunks this call may drain (why it stops early, if it does, in `#limitFault`). */
  #spillLimit(chunks: readonly Bytes[]): number {
    let limit = chunks.length;
    let fault: string | undefined;
    this.#limitFault = undefined;
    if (this.#quiet) return limit;
    if (this.profile.spillStopChance > 0 && chunks.length > 0 && this.#rng.next() < this.profile.spillStopChance) {
      limit = Math.floor(this.#rng.next() * chunks.length);
      fault = this.#text(this.#rng.next() < 0.5 ? STOPPED_NO_SPACE : STOPPED_IO_ERROR, chunks.length, limit);
    }
    if (this.profile.capacityBytes !== undefined) {
      let bytes = this.#storedBytes;
      for (let k = 0; k < limit; k += 1) {
        bytes += chunks[k]!.length;
        if (bytes > this.profile.capacityBytes) {
          fault = this.#text(STOPPED_CAPACITY, chunks.length, k);
          limit = k;
          break;
        }
      }
    }
    this.#limitFault = fault;
    return limit;
  }

  #wrap(inner: BytesFetch): FaultyHandle {
    const handle = new FaultyHandle(this, inner);
    const p = this.profile;
    if (p.latencyTicksMax > 0) handle.readyTick = this.#nowTicks() + 1 + Math.floor(this.#rng.next() * p.latencyTicksMax);
    if (p.fetchFailNChance > 0 && this.#rng.next() < p.fetchFailNChance) handle.failuresLeft = 1 + Math.floor(this.#rng.next() * p.fetchFailTriesMax);
    if (p.fetchForeverChance > 0 && this.#rng.next() < p.fetchForeverChance) handle.permanent = true;
    return handle;
  }

  /** Called by a handle's fetch: decide the fault, or fetch from the inner backend. */
  fetchThrough(handle: FaultyHandle): FetchResult {
    this.#attempts += 1;
    // The contract consumes a handle on success; a second fetch means a policy kept a stale entry.
    if (handle.fetched) this.#doubleFetches += 1;
    this.#maybePanic('fetch');
    const fault = this.#fetchFault(handle);
    if (fault !== undefined) {
      this.#emit('fetch', false, 0, 0, fault);
      return { ok: false, handle };
    }
    const result = handle.inner.fetch();
    if (result === null || typeof result !== 'object' || result.ok !== true) {
      // An inner failure (or a malformed answer): keep its handle for the retry, pass the answer on.
      if (result !== null && typeof result === 'object' && result.ok === false && isHandle(result.handle)) {
        handle.inner = result.handle;
        this.#emit('fetch', false, 0, 0, 'inner backend fetch failed');
        return { ok: false, handle };
      }
      return result;
    }
    const bytes = Array.isArray(result.chunks) ? sumBytes(result.chunks) : 0;
    const chunks = Array.isArray(result.chunks) ? result.chunks.length : 0;
    if (!handle.fetched) {
      handle.fetched = true;
      this.#storedBytes -= bytes;
      this.#storedChunks -= chunks;
    }
    this.#emit('fetch', true, chunks, bytes, undefined);
    return result;
  }

  #fetchFault(handle: FaultyHandle): string | undefined {
    if (handle.permanent) return 'fetch fails forever';
    if (this.#quiet) return undefined;
    if (handle.readyTick > this.#nowTicks()) return `fetch not ready until tick ${handle.readyTick} (latency)`;
    if (handle.failuresLeft > 0) {
      handle.failuresLeft -= 1;
      return this.#text(FETCH_FAILS_LEFT, 0, handle.failuresLeft);
    }
    if (this.profile.fetchTransientChance > 0 && this.#rng.next() < this.profile.fetchTransientChance) return 'fetch failed (transient I/O error)';
    return undefined;
  }

  #nowTicks(): number {
    return this.#options.clock?.nowTicks ?? this.#attempts;
  }
}

/** A handle issued by `FaultySpill`: the inner backend's handle plus the faults chosen for it. */
export class FaultyHandle implements BytesFetch {
  readonly owner: FaultySpill;
  inner: BytesFetch;
  readyTick = 0;
  failuresLeft = 0;
  permanent = false;
  fetched = false;

  constructor(owner: FaultySpill, inner: BytesFetch) {
    this.owner = owner;
    this.inner = inner;
  }

  fetch(): FetchResult {
    return this.owner.fetchThrough(this);
  }
}

/** The fault texts `FaultySpill` keeps once made (`#text`), and the most chunks (or count) it keeps them for. */
const DRAINED = 0;
const STOPPED_NO_SPACE = 1;
const STOPPED_IO_ERROR = 2;
const STOPPED_CAPACITY = 3;
const FETCH_FAILS_LEFT = 4;
const TEXT_MEMO_OFFERED_MAX = 256;

function isHandle(value: unknown): value is BytesFetch {
  return value !== null && typeof value === 'object' && typeof (value as BytesFetch).fetch === 'function';
}

function sumBytes(chunks: readonly Bytes[]): number {
  let total = 0;
  for (const chunk of chunks) total += chunk.length;
  return total;
}

/** A stream for a `FaultySpill` from a plain seed, for callers outside the simulator. */
export function faultRng(seed: number | string): SimRng {
  return new SimRng(`faults/${seed}`);
}
