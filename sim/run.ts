import { SpillsimError } from '../src/errors.js';
import type { StallGuard } from '../src/merge_queue.js';
import type { Actor, StepRecord } from './actor.js';
import { STREAM_PATTERN } from './byte_stream.js';
import { VirtualClock } from './clock.js';
import { FaultyFs } from './faulty_fs.js';
import { chooseFaultProfile, type FaultEvent, faultKindsOf, type FaultProfile, InjectedPanic } from './faults.js';
import {
  type Breach,
  checkConservation,
  checkDelivery,
  checkFetchOnce,
  checkNotStalled,
  checkResidentBound,
  checkResidentCount,
  describeReadiness,
  readiness,
  residentBoundBytes,
} from './invariants.js';
import { checkSimOptions, replayCommand, type SimOptions, STEPS_MAX_DEFAULT, TAIL_STEPS_DEFAULT } from './options.js';
import { SimRng } from './rng.js';
import { type ActorSlot, Scheduler } from './scheduler.js';
import { buildTopology } from './topology.js';
import type { Topology } from './topology_init.js';
import type { QueueSummary, SimRunResult, TraceOp, TraceStep, Violation } from './trace.js';
import { RollingHash, TraceRecorder } from './trace_recorder.js';
import type { TrackedQueue } from './tracked_queue.js';
import { choosePolicyKnobs, chooseWorkloadShape, type PolicyKnobs, WORKLOAD_KINDS, type WorkloadShape } from './workload.js';

export type { SimOptions } from './options.js';

/** What a run counted, for the README's findings and the report's plots. */
export interface SimRunStats {
  extendCalls: number;
  emptyExtends: number;
  /** Empty extends during which the writer policy spilled (SPEC: the policy runs even when nothing was pushed). */
  emptyExtendSpills: number;
  drainCalls: number;
  spillCalls: number;
  partialSpills: number;
  spilledBytes: number;
  fetches: number;
  failedFetches: number;
  deliveredBytes: number;
  /** Most resident bytes summed over all queues after any step. */
  residentBytesPeak: number;
  /** Most bytes a backend held in whole-file read caches at once, over the queues (batch reads only). */
  readCacheBytesPeak: number;
  buzzes: number;
  parks: number;
}

/** Queue operations and the steps the checks may take to see progress, in the liveness phase. */
interface LivenessBounds {
  /** A queue with deliverable data must deliver within this many steps (and the run must move at all). */
  progressWindowSteps: number;
  /** The whole liveness phase must end within this many steps. */
  phaseStepsMax: number;
}

/**
 * Run one simulation. Synchronous and a pure function of `options` (the seed included): the
 * same options give the same trace, byte for byte, and the same `traceHash`.
 */
export function runSimulation(options: SimOptions): SimRunResult {
  checkSimOptions(options);
  const result = new Simulation(options).run();
  if (result.ok || (options.recordTrace ?? 'none') !== 'none') return result;
  // A run records nothing unless asked; a failure is run again with its tail recorded. The run is
  // a pure function of its options, so the second run is the first one, step for step.
  const again = new Simulation({ ...options, recordTrace: 'tail' }).run();
  if (again.traceHash === result.traceHash) return again;
  result.violation = {
    ...result.violation!,
    message: `${result.violation!.message} (running the seed again to record its trace gave a different run, trace ${again.traceHash}: something outside the seed, such as an injected factory's state, leaked in)`,
  };
  return result;
}

/** True when the profile fails the file system under the backend (so the run puts a `FaultyFs` there). */
function hasFsFaults(p: FaultProfile): boolean {
  return p.ioWriteFailChance > 0 || p.ioReadFailChance > 0 || p.shortWriteChance > 0 || p.shortReadChance > 0 || p.interruptChance > 0 ||
    p.diskBytes !== undefined || p.openFilesMax !== undefined;
}

/** Steps of each fault spell (on, then off) in a deep run; a power of two. */
const DEEP_FAULT_SPELL_STEPS = 64;

/** Codes of the trace ops, for the rolling hash. */
const OP_CODES: Record<TraceOp, number> = {
  extend: 1, drain: 2, spill: 3, 'partial-spill': 4, fetch: 5, 'fetch-failed': 6, buzz: 7, park: 8, wake: 9,
  send: 10, receive: 11, drop: 12, fault: 13, finish: 14, stall: 15, note: 16,
};

/** `OP_CODES[op]`, by comparisons (a keyed load by a string key cost more, once per step). */
function opCode(op: TraceOp): number {
  switch (op) {
    case 'extend':
      return 1;
    case 'drain':
      return 2;
    case 'spill':
      return 3;
    case 'partial-spill':
      return 4;
    case 'fetch':
      return 5;
    case 'fetch-failed':
      return 6;
    case 'park':
      return 8;
    default:
      return OP_CODES[op];
  }
}

class Simulation {
  readonly #options: SimOptions;
  readonly #shape: WorkloadShape;
  readonly #knobs: PolicyKnobs;
  readonly #profile: FaultProfile;
  readonly #stallGuard: StallGuard;
  readonly #clock = new VirtualClock();
  readonly #scheduler: Scheduler;
  readonly #topology: Topology;
  readonly #actors = new Map<string, Actor>();
  /** Steps are recorded only when asked (`recordTrace`); the rolling hash is kept always. */
  readonly #recorder: TraceRecorder | undefined;
  readonly #hash = new RollingHash();
  /** Name codes for the hash, one per queue or stream name of the run. */
  readonly #nameCodes = new Map<string, number>();
  /** The actor behind each scheduler slot, by slot index. */
  #actorOfSlot: Actor[] = [];
  #actorList: Actor[] = [];
  #queueByName = new Map<string, TrackedQueue>();
  /** The actor that reads each queue (a queue is a source of exactly one actor). */
  readonly #readerOf = new Map<TrackedQueue, Actor>();
  readonly #stats: SimRunStats = {
    extendCalls: 0, emptyExtends: 0, emptyExtendSpills: 0, drainCalls: 0, spillCalls: 0, partialSpills: 0, spilledBytes: 0,
    fetches: 0, failedFetches: 0, deliveredBytes: 0, residentBytesPeak: 0, readCacheBytesPeak: 0, buzzes: 0, parks: 0,
  };
  #step = 0;
  #stepsRun = 0;
  /** This step's fault events, kept only while recording (for the readable detail). */
  #events: Array<{ queue: string; event: FaultEvent }> = [];
  /** What this step's fault events added up to (kept always: the hash, the op and the counts need them). */
  #stepFault: string | undefined;
  #stepSpilled = false;
  #stepPartial = false;
  #stepFetchedOk = 0;
  #stepFetchFailed = 0;
  /** Queues that spilled during this step (the resident bound then allows what the spill left undrained). */
  readonly #stepSpilledQueues: TrackedQueue[] = [];
  #livenessStartStep: number | undefined;
  #liveness: LivenessBounds | undefined;
  #lastProgressStep = 0;
  #residentTotalBytes = 0;
  /** Step of the first panic (an actor's step threw one), or undefined. */
  #panicStep: number | undefined;
  /** After a panic, every side of a poisoned queue must observe it within this many steps. */
  #panicBoundSteps = 0;
  #faultyFs: FaultyFs | undefined;
  /** The name `#nameCode` was last asked for and its code (steps name the same queue again and again). */
  #lastName: string | undefined;
  #lastNameCode = 0;

  constructor(options: SimOptions) {
    this.#options = options;
    const root = new SimRng(options.seed);
    const kind = options.workload === 'any' ? root.fork('kind').pick(WORKLOAD_KINDS) : (options.workload ?? 'single');
    const shape = chooseWorkloadShape(root.fork('workload'), { kind, workers: options.workers, ops: options.ops });
    if (options.pattern !== undefined) shape.pattern = options.pattern;
    this.#shape = shape;
    const drawn = choosePolicyKnobs(root.fork('knobs'), shape);
    this.#knobs = {
      thresholdBytes: options.thresholdBytes ?? drawn.thresholdBytes,
      headReserveBytes: options.headReserveBytes ?? drawn.headReserveBytes,
      prefetchBudgetBytes: options.prefetchBudgetBytes ?? drawn.prefetchBudgetBytes,
    };
    this.#profile = chooseFaultProfile(root.fork('profile'), options.faults ?? 'swarm', 4 * shape.chunkBytesTypical, { panics: shape.kind === 'single' });
    const variant = options.variant ?? 'fast';
    this.#stallGuard = options.stallGuard ?? (variant === 'reference' ? 'accumulator' : 'produced');
    this.#scheduler = new Scheduler(root.fork('scheduler'), this.#clock, { fairnessSteps: 0, burstChance: shape.pattern === 'bursts' ? 0.8 : 0.2 });
    this.#topology = buildTopology({
      shape,
      knobs: this.#knobs,
      variant,
      stallGuard: this.#stallGuard,
      readerPolicy: options.readerPolicy ?? 'prefetch',
      holdBytes: options.consumerHoldBytes ?? 0,
      storageFs: (disk) => {
        const p = this.#profile;
        if (!hasFsFaults(p)) return disk;
        this.#faultyFs = new FaultyFs(disk, root.fork('faults/storage'), {
          writeFailChance: p.ioWriteFailChance,
          readFailChance: p.ioReadFailChance,
          shortWriteChance: p.shortWriteChance,
          shortReadChance: p.shortReadChance,
          interruptChance: p.interruptChance,
          diskBytes: p.diskBytes,
          openFilesMax: p.openFilesMax,
        });
        return this.#faultyFs;
      },
      profile: this.#profile,
      rng: root,
      pattern: STREAM_PATTERN,
      clock: this.#clock,
      scheduler: this.#scheduler,
      currentStep: () => this.#step,
      onFaultEvent: (queue, event) => this.#onFaultEvent(queue, event),
      describeSteps: (options.recordTrace ?? 'none') !== 'none',
      queueFactory: options.queueFactory,
      policyFactory: options.policyFactory,
      backendFactory: options.backendFactory,
    });
    for (const actor of this.#topology.actors) this.#actors.set(actor.name, actor);
    this.#actorList = [...this.#topology.actors];
    for (const actor of this.#actorList) for (const q of actor.sources) this.#readerOf.set(q, actor);
    this.#actorOfSlot = this.#scheduler.slots.map((slot) => this.#actors.get(slot.name)!);
    for (const q of this.#topology.queues) this.#queueByName.set(q.name, q);
    // Fairness: a runnable actor waits at most two rounds of the others.
    this.#scheduler.setFairnessSteps(2 * this.#topology.actors.length);
    const roundStepsMax = Math.max(1, ...this.#actorList.map((a) => a.sources.length));
    this.#panicBoundSteps = 4 * (2 * this.#actorList.length + 1) * (roundStepsMax + 2) + 32;
    const recordTrace = options.recordTrace ?? 'none';
    this.#recorder = recordTrace === 'none' ? undefined : new TraceRecorder({ keepAll: recordTrace === 'full', tailSteps: options.tailSteps ?? TAIL_STEPS_DEFAULT });
  }

  run(): SimRunResult {
    const violation = this.#loop();
    return this.#result(violation);
  }

  #loop(): Violation | undefined {
    const stepsMax = this.#options.stepsMax ?? Math.max(STEPS_MAX_DEFAULT, 4 * 2 * this.#shape.extendsPerStream * this.#streamCount());
    // Bounded by stepsMax; the liveness phase has tighter bounds of its own.
    for (; this.#step < stepsMax; this.#step += 1) {
      if (this.#liveness === undefined && !this.#anyProducing()) this.#startLiveness();
      if (this.#shape.deep && (this.#step & (DEEP_FAULT_SPELL_STEPS - 1)) === 0 && this.#liveness === undefined) this.#pauseFaults(((this.#step / DEEP_FAULT_SPELL_STEPS) & 1) === 1);
      const slot = this.#scheduler.next(this.#step);
      if (slot === undefined) return this.#stamp(this.#scheduler.allFinished ? this.#finalCheck() : this.#deadlock());
      const breach = this.#runStep(this.#actorOfSlot[slot.index]!, slot);
      if (breach !== undefined) return this.#stamp(breach);
      if (this.#scheduler.allFinished) return this.#stamp(this.#finalCheck());
    }
    return this.#stamp({ invariant: 'steps-max', message: `the run hit its bound of ${stepsMax} steps before every actor finished; raise --steps-max if the workload is meant to be this long` });
  }

  #stamp(breach: Breach | undefined): Violation | undefined {
    return breach === undefined ? undefined : { ...breach, step: this.#step };
  }

  /** Writer→reader streams of the workload (each gets `extendsPerStream` extends). */
  #streamCount(): number {
    const workers = this.#shape.workers * this.#shape.processes;
    return this.#shape.kind === 'single' ? 1 : workers * workers;
  }

  #anyProducing(): boolean {
    for (const actor of this.#actorList) if (actor.producing) return true;
    return false;
  }

  #onFaultEvent(queue: string, event: FaultEvent): void {
    this.#stepFault ??= event.fault;
    if (event.kind === 'spill') {
      this.#stats.spillCalls += 1;
      this.#stats.spilledBytes += event.bytes;
      if (event.chunks > 0) this.#stepSpilled = true;
      if (event.fault !== undefined) {
        this.#stepPartial = true;
        this.#stats.partialSpills += 1;
      }
      const q = this.#queueByName.get(queue);
      if (q !== undefined && !this.#stepSpilledQueues.includes(q)) this.#stepSpilledQueues.push(q);
    } else if (event.ok) {
      this.#stepFetchedOk += 1;
      this.#stats.fetches += 1;
    } else {
      this.#stepFetchFailed += 1;
      this.#stats.failedFetches += 1;
    }
    // The spill wrapper refills one event object (`eventReused`): keep a copy.
    if (this.#recorder !== undefined) this.#events.push({ queue, event: { ...event } });
  }

  #runStep(actor: Actor, slot: ActorSlot): Breach | undefined {
    const actorIndex = slot.index;
    this.#stepFault = undefined;
    this.#stepSpilled = false;
    this.#stepPartial = false;
    this.#stepFetchedOk = 0;
    this.#stepFetchFailed = 0;
    if (this.#stepSpilledQueues.length > 0) this.#stepSpilledQueues.length = 0;
    this.#stepsRun += 1;
    if (this.#recorder !== undefined) this.#events = [];
    this.#scheduler.buzzesThisStep = 0;
    const timeTicks = this.#clock.nowTicks;
    let record: StepRecord | undefined;
    let thrown: unknown;
    try {
      record = actor.step(timeTicks);
    } catch (error) {
      thrown = error;
    }
    let parked = false;
    if (record?.park === true) parked = this.#scheduler.park(slot);
    if (record?.finish === true) this.#scheduler.finish(slot);
    this.#clock.advance(1);
    this.#scheduler.fireDueTimers(this.#step);
    let unwound: string | undefined;
    if (thrown !== undefined && this.#isPanic(thrown) && actor.unwind !== undefined) {
      // The thread panicked (or observed a poisoned queue, which panics in Rust): it unwinds and is gone.
      this.#panicStep ??= this.#step;
      unwound = actor.unwind();
      this.#scheduler.finish(slot);
      this.#notePoisoned();
    }
    this.#trace(actor, actorIndex, timeTicks, record, thrown, parked, unwound);
    if (thrown !== undefined) return unwound !== undefined ? this.#checkPanicLiveness() : this.#classifyThrow(thrown);
    if (this.#panicStep !== undefined) this.#notePoisoned();
    return this.#check(record!);
  }

  /** An injected panic, or `E_POISONED` observed after one: the thread unwinds (not a queue error). */
  #isPanic(thrown: unknown): boolean {
    if (thrown instanceof InjectedPanic) return true;
    return this.#panicStep !== undefined && thrown instanceof SpillsimError && thrown.code === 'E_POISONED';
  }

  #notePoisoned(): void {
    for (const q of this.#topology.queues) {
      if (q.poisonedAtStep === undefined && (q.reader.isPoisoned === true || q.writer.isPoisoned === true)) q.poisonedAtStep = this.#step;
    }
  }

  /**
   * Panic liveness: after a panic poisons a queue, every actor still holding one of its handles
   * must observe it (a call that throws `E_POISONED`, after which it unwinds too) within
   * `#panicBoundSteps`; one parked for good, or still running on without noticing, breaks it.
   */
  #checkPanicLiveness(): Breach | undefined {
    if (this.#panicStep === undefined || this.#step - this.#panicStep <= this.#panicBoundSteps) return undefined;
    const holder = this.#poisonedHolder();
    if (holder === undefined) return undefined;
    return {
      invariant: 'panic-liveness',
      message: `${holder.actor} still holds ${holder.queue}, poisoned by a panic at step ${this.#panicStep}, ${this.#step - this.#panicStep} steps later (bound ${this.#panicBoundSteps}) and is ${holder.parked ? 'parked: nothing woke it to observe E_POISONED' : 'still running without observing E_POISONED'}`,
    };
  }

  /** An actor alive and holding a handle of a poisoned queue, if any. */
  #poisonedHolder(): { actor: string; queue: string; parked: boolean } | undefined {
    for (const q of this.#topology.queues) {
      if (q.poisonedAtStep === undefined) continue;
      for (const [name, dropped] of [[q.writerActor, q.writerDropped], [q.readerActor, q.readerDropped]] as const) {
        if (dropped) continue;
        const slot = this.#scheduler.slot(name);
        if (slot.state === 'finished') continue;
        return { actor: name, queue: q.name, parked: slot.state === 'parked' };
      }
    }
    return undefined;
  }

  /** Fold the step into the rolling hash (always) and into a `TraceStep` (only when recording). */
  #trace(actor: Actor, actorIndex: number, timeTicks: number, record: StepRecord | undefined, thrown: unknown, parked: boolean, unwound: string | undefined): void {
    let op: TraceOp = record?.op ?? 'note';
    if (record !== undefined) this.#count(record, this.#stepSpilled);
    if (op === 'extend' || op === 'receive') op = this.#stepPartial ? 'partial-spill' : this.#stepSpilled ? 'spill' : op;
    if (op === 'drain' && (record?.bytes ?? 0) === 0 && this.#stepFetchFailed > 0) op = 'fetch-failed';
    else if (op === 'drain' && this.#stepFetchedOk > 0) op = 'fetch';
    if (record?.park === true && parked) op = 'park';
    const buzzes = this.#scheduler.buzzesThisStep;
    this.#stats.buzzes += buzzes;
    const h = this.#hash;
    h.mix(this.#step);
    h.mix(timeTicks);
    h.mix(actorIndex);
    h.mix(opCode(op));
    h.mix(record?.queue === undefined ? -1 : this.#nameCode(record.queue));
    h.mix(record?.bytes ?? -1);
    h.mix(record?.chunks ?? -1);
    if (this.#stepFault === undefined) h.mix(-1);
    else h.mixString(this.#stepFault);
    h.mix(buzzes);
    h.mix(thrown === undefined ? 0 : 1);
    const touched = record?.touched;
    if (touched !== undefined) {
      for (let k = 0; k < touched.length; k += 1) {
        const q = touched[k]!;
        const deque = q.deque;
        h.mix(this.#nameCode(q.name));
        h.mix(deque.residentBytes);
        h.mix(q.storedBytes);
        h.mix(q.writtenBytes - q.deliveredBytes);
        h.mix(deque.length);
        h.mix(deque.pagedCount);
      }
    }
    h.mix(unwound === undefined ? 0 : 1);
    if (this.#recorder !== undefined) this.#recordStep(actor, timeTicks, record, thrown, parked, op, buzzes, unwound);
  }

  #nameCode(name: string): number {
    if (name === this.#lastName) return this.#lastNameCode;
    let code = this.#nameCodes.get(name);
    if (code === undefined) {
      code = 0x811c_9dc5;
      for (let i = 0; i < name.length; i += 1) code = Math.imul(code ^ name.charCodeAt(i), 0x0100_0193);
      this.#nameCodes.set(name, code);
    }
    this.#lastName = name;
    this.#lastNameCode = code;
    return code;
  }

  /** The readable step, built only when the run records its trace. */
  #recordStep(actor: Actor, timeTicks: number, record: StepRecord | undefined, thrown: unknown, parked: boolean, op: TraceOp, buzzes: number, unwound: string | undefined): void {
    const notes: string[] = [];
    if (record?.detail !== undefined) notes.push(record.detail);
    if (thrown !== undefined) notes.push(`threw: ${thrown instanceof Error ? thrown.message : String(thrown)}`);
    if (unwound !== undefined) notes.push(unwound);
    for (const { queue, event } of this.#events) {
      if (event.kind === 'spill') notes.push(`${queue}: spilled ${event.chunks} chunks (${event.bytes} B)${event.fault !== undefined ? `, ${event.fault}` : ''}`);
    }
    const fetchedOk = this.#stepFetchedOk;
    const fetchFailed = this.#stepFetchFailed;
    if (fetchedOk > 0) notes.push(`fetched ${fetchedOk} handle${fetchedOk === 1 ? '' : 's'}`);
    if (fetchFailed > 0) notes.push(`${fetchFailed} fetch${fetchFailed === 1 ? '' : 'es'} failed`);
    if (record?.park === true && !parked) notes.push('park returned at once (buzz pending)');
    const step: TraceStep = { step: this.#step, timeTicks, actor: actor.name, op };
    if (record?.queue !== undefined) step.queue = record.queue;
    if (record?.bytes !== undefined) step.bytes = record.bytes;
    if (record?.chunks !== undefined) step.chunks = record.chunks;
    if (notes.length > 0) step.detail = notes.join('; ');
    if (this.#stepFault !== undefined) step.fault = this.#stepFault;
    if (buzzes > 0) step.buzzes = buzzes;
    if (record !== undefined && record.touched.length > 0) {
      const queues: Record<string, QueueSummary> = {};
      for (const q of record.touched) queues[q.name] = q.summary();
      step.queues = queues;
    }
    step.hash = this.#hash.hex();
    this.#recorder!.record(step);
  }

  #count(record: StepRecord, spilled: boolean): void {
    const s = this.#stats;
    if (record.extendCalls !== undefined || record.drainCalls !== undefined) {
      s.extendCalls += record.extendCalls ?? 0;
      s.drainCalls += record.drainCalls ?? 0;
      s.deliveredBytes += record.op === 'drain' ? (record.bytes ?? 0) : 0;
      if (record.park === true) s.parks += 1;
      return;
    }
    if (record.op === 'receive' && record.queue !== undefined) s.extendCalls += 1;
    if (record.op === 'extend') {
      s.extendCalls += 1;
      if (record.chunks === 0) {
        s.emptyExtends += 1;
        if (spilled) s.emptyExtendSpills += 1;
      }
    }
    if (record.op === 'drain') {
      s.drainCalls += 1;
      s.deliveredBytes += record.bytes ?? 0;
    }
    if (record.park === true) s.parks += 1;
  }

  #classifyThrow(thrown: unknown): Breach {
    for (const q of this.#topology.queues) {
      const doubled = checkFetchOnce(q);
      if (doubled !== undefined) return doubled;
    }
    const message = thrown instanceof Error ? thrown.message : String(thrown);
    const code = thrown instanceof SpillsimError ? thrown.code : undefined;
    if (code === 'E_BACKEND_CONTRACT' && message.startsWith('corrupt frame')) {
      // A Config allocator caught damaged bytes while receiving; name the queue that damaged them if the books show it.
      for (const q of this.#topology.queues) {
        const books = checkConservation(q);
        if (books !== undefined) return { ...books, message: `${books.message} (the receiving allocator then found: ${message})` };
      }
      return { invariant: 'no-reorder', message: `the receiving allocator found damaged bytes: ${message}` };
    }
    if (code === 'E_BACKEND_CONTRACT') return { invariant: 'backend-contract', message: `the queue refused the backend's answer: ${message}` };
    return { invariant: 'queue-error', message: `a queue operation threw${code !== undefined ? ` ${code}` : ''}: ${message}` };
  }

  #check(record: StepRecord): Breach | undefined {
    for (const q of record.touched) {
      if (q.poisonedAtStep !== undefined) continue;
      const breach = checkFetchOnce(q) ?? checkConservation(q) ?? checkDelivery(q) ?? checkResidentCount(q, this.#step);
      if (breach !== undefined) return breach;
      if (q.extendCalls !== q.extendCallsBounded) {
        q.extendCallsBounded = q.extendCalls;
        q.residentBoundBytes = residentBoundBytes(q, this.#knobs, this.#stepSpilledQueues.includes(q));
      }
      const bound = checkResidentBound(q);
      if (bound !== undefined) return bound;
      this.#noteResident(q);
    }
    const slots = this.#scheduler.slots;
    for (let k = 0; k < slots.length; k += 1) {
      if (slots[k]!.state !== 'parked') continue;
      const stalled = checkNotStalled(this.#actorOfSlot[k]!, this.#clock.nowTicks);
      if (stalled !== undefined) return stalled;
    }
    if (record.progress) this.#lastProgressStep = this.#step;
    if (this.#panicStep !== undefined) {
      const late = this.#checkPanicLiveness();
      if (late !== undefined) return late;
    }
    return this.#liveness === undefined ? undefined : this.#checkLiveness(this.#liveness);
  }

  #noteResident(q: TrackedQueue): void {
    const now = q.deque.residentBytes;
    this.#residentTotalBytes += now - q.residentNotedBytes;
    q.residentNotedBytes = now;
    if (this.#residentTotalBytes > this.#stats.residentBytesPeak) this.#stats.residentBytesPeak = this.#residentTotalBytes;
  }

  /**
   * A deep run's faults come in spells (DEEP_FAULT_SPELL_STEPS on, as many off): a storage that
   * fails for 100,000 operations in a row only grows a backlog, while spells make the run go
   * through failure and recovery many times.
   */
  #pauseFaults(paused: boolean): void {
    for (const q of this.#topology.queues) q.spill?.pause(paused);
    this.#faultyFs?.pause(paused);
  }

  /** Faults stop; from here every byte must arrive within measured bounds. */
  #startLiveness(): void {
    this.#livenessStartStep = this.#step;
    this.#lastProgressStep = this.#step;
    for (const q of this.#topology.queues) q.spill?.heal();
    this.#faultyFs?.heal();
    const roundStepsMax = Math.max(1, ...[...this.#actors.values()].map((a) => a.sources.length));
    const fairness = 2 * this.#actors.size;
    const progressWindowSteps = 4 * (fairness + 1) * (roundStepsMax + 2) + 2 * this.#shape.networkLatencyTicksMax + 32;
    let entries = 0;
    for (const q of this.#topology.queues) entries += q.deque.length;
    const packets = this.#topology.links.reduce((n, link) => n + link.piecesPending, 0);
    this.#liveness = { progressWindowSteps, phaseStepsMax: progressWindowSteps * (entries + packets + this.#actors.size + 1) };
  }

  #checkLiveness(bounds: LivenessBounds): Breach | undefined {
    for (const q of this.#topology.queues) {
      if (q.poisonedAtStep !== undefined) continue;
      const ready = readiness(q);
      if (ready === 'blocked') return this.#blocked(q);
      if (ready === undefined || q.waitingSinceStep === undefined || q.deliveredBytes !== q.waitingDeliveredBytes || (ready === 'complete' && this.#readerHasLiveSource(q))) {
        q.waitingSinceStep = ready === undefined ? undefined : this.#step;
        q.waitingDeliveredBytes = q.deliveredBytes;
        continue;
      }
      if (this.#step - q.waitingSinceStep > bounds.progressWindowSteps) {
        return {
          invariant: 'no-livelock',
          message: `${q.name} has had ${describeReadiness(ready)} for ${this.#step - q.waitingSinceStep} steps after faults stopped, and nothing was delivered (bound ${bounds.progressWindowSteps})${this.#hint()}`,
        };
      }
    }
    if (this.#step - this.#lastProgressStep > bounds.progressWindowSteps) {
      return { invariant: 'no-livelock', message: `nothing moved for ${this.#step - this.#lastProgressStep} steps after faults stopped (bound ${bounds.progressWindowSteps})${this.#hint()}` };
    }
    if (this.#step - this.#livenessStartStep! > bounds.phaseStepsMax) {
      return { invariant: 'no-livelock', message: `the liveness phase ran ${bounds.phaseStepsMax} steps without every actor finishing${this.#hint()}` };
    }
    return undefined;
  }

  /**
   * True while the reader of `q` still has a source that is neither complete nor dropped. A reader
   * finishes once every source it reads is complete (timely's worker, and `Config`'s, look at
   * completion when a receive finds nothing), so a source that completed early is not waiting
   * on its reader while another still delivers: the per-queue window starts when the last one
   * completes, and the phase bound covers the rest.
   */
  #readerHasLiveSource(q: TrackedQueue): boolean {
    const reader = this.#readerOf.get(q);
    if (reader === undefined) return false;
    for (const source of reader.sources) {
      if (source === q || source.readerDropped || source.poisonedAtStep !== undefined) continue;
      if (readiness(source) !== 'complete') return true;
    }
    return false;
  }

  #hint(): string {
    if (this.#options.readerPolicy === 'none') return '; the queues have no reader policy, so nothing is ever paged back in';
    if (this.#knobs.prefetchBudgetBytes === 0) return '; the prefetch budget is 0, so the reader policy never fetches';
    return '';
  }

  #blocked(q: TrackedQueue): Breach {
    return {
      invariant: 'data-blocked',
      message: `${q.name}: the entry at its front is paged behind a permanent fetch failure; ${q.writtenBytes - q.deliveredBytes} bytes cannot be delivered (a storage fault, not a queue bug)`,
    };
  }

  /** Every actor parked and no timer pending: whoever holds data is stalled, unless storage blocks it for good. */
  #deadlock(): Breach {
    const holder = this.#panicStep === undefined ? undefined : this.#poisonedHolder();
    if (holder !== undefined) {
      return {
        invariant: 'panic-liveness',
        message: `${holder.actor} still holds ${holder.queue}, poisoned by a panic at step ${this.#panicStep}, and ${holder.parked ? 'is parked' : 'waits'} with nothing left to wake it: it will never observe E_POISONED`,
      };
    }
    for (const q of this.#topology.queues) if (q.poisonedAtStep === undefined && readiness(q) === 'blocked') return this.#blocked(q);
    for (const slot of this.#scheduler.slots) {
      if (slot.state !== 'parked') continue;
      const actor = this.#actors.get(slot.name)!;
      for (const q of actor.sources) {
        if (q.readerDropped || q.writtenBytes === q.deliveredBytes && !q.writerDropped) continue;
        return { invariant: 'no-stall', message: `every live actor is parked and nothing will wake them; ${actor.name} waits on ${q.name}, which holds ${q.writtenBytes - q.deliveredBytes} undelivered bytes` };
      }
    }
    const parked = this.#scheduler.slots.filter((s) => s.state === 'parked').map((s) => s.name);
    return { invariant: 'no-stall', message: `every live actor (${parked.join(', ')}) is parked and nothing will wake them` };
  }

  /** The run ended with every actor finished: all bytes delivered, storage released. */
  #finalCheck(): Breach | undefined {
    for (const q of this.#topology.queues) {
      // A poisoned queue's bytes are forfeit: the panic is the finding, and panic liveness checked it.
      if (q.poisonedAtStep !== undefined) continue;
      const recount = checkResidentCount(q);
      if (recount !== undefined) return recount;
      if (q.deliveredBytes !== q.writtenBytes) {
        return { invariant: 'no-loss', message: `${q.name}: ${q.writtenBytes} bytes written but ${q.deliveredBytes} delivered when every actor had finished` };
      }
      if (q.storedBytes !== 0) {
        return { invariant: 'storage-released', message: `${q.name}: storage still holds ${q.storedBytes} bytes after every byte was delivered` };
      }
      const inner = q.spill?.inner as { stats?: () => { storedBytes: number; cacheResidentBytesPeak?: number } } | undefined;
      const innerStats = typeof inner?.stats === 'function' ? inner.stats() : undefined;
      if (innerStats !== undefined) {
        this.#stats.readCacheBytesPeak = Math.max(this.#stats.readCacheBytesPeak, innerStats.cacheResidentBytesPeak ?? 0);
        if (innerStats.storedBytes !== 0) {
          return { invariant: 'storage-released', message: `${q.name}: the backend still stores ${innerStats.storedBytes} bytes after every handle was fetched` };
        }
      }
    }
    return undefined;
  }

  #result(violation: Violation | undefined): SimRunResult {
    const ok = violation === undefined;
    const recordTrace = this.#options.recordTrace ?? 'none';
    const result: SimRunResult = {
      seed: this.#options.seed,
      ok,
      traceHash: this.#hash.hex(),
      steps: this.#stepsRun,
    };
    if (violation !== undefined) result.violation = violation;
    result.replay = replayCommand(this.#options);
    result.knobs = { ...this.#knobs };
    if (this.#recorder !== undefined) result.trace = recordTrace === 'full' ? this.#recorder.steps() : this.#recorder.tail();
    result.workload = { ...this.#shape };
    result.variant = this.#options.variant ?? 'fast';
    // Unchanged output: a single queue is wired by hand, meshes and clusters by the library's Config.
    result.wiring = this.#shape.kind === 'single' ? 'direct' : 'config';
    result.stallGuard = this.#stallGuard;
    result.faultKinds = faultKindsOf(this.#profile);
    result.livenessStartStep = this.#livenessStartStep ?? null;
    result.stats = { ...this.#stats };
    return result;
  }
}
