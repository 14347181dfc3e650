import { SpillsimError } from '../src/errors.js';
import type { StallGuard } from '../src/merge_queue.js';
import type { Actor, StepRecord } from './actor.js';
import { streamPattern } from './byte_stream.js';
import { VirtualClock } from './clock.js';
import { FaultyFs } from './faulty_fs.js';
import { chooseFaultProfile, type FaultEvent, faultKindsOf, type FaultProfile } from './faults.js';
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
import { Scheduler } from './scheduler.js';
import { buildTopology } from './topology.js';
import type { Topology } from './topology_init.js';
import type { SimRunResult, TraceOp, TraceStep, Violation } from './trace.js';
import { TraceRecorder } from './trace_recorder.js';
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
  return new Simulation(options).run();
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
  readonly #recorder: TraceRecorder;
  readonly #stats: SimRunStats = {
    extendCalls: 0, emptyExtends: 0, emptyExtendSpills: 0, drainCalls: 0, spillCalls: 0, partialSpills: 0, spilledBytes: 0,
    fetches: 0, failedFetches: 0, deliveredBytes: 0, residentBytesPeak: 0, readCacheBytesPeak: 0, buzzes: 0, parks: 0,
  };
  #step = 0;
  #events: Array<{ queue: string; event: FaultEvent }> = [];
  #livenessStartStep: number | undefined;
  #liveness: LivenessBounds | undefined;
  #lastProgressStep = 0;
  #residentTotalBytes = 0;
  #faultyFs: FaultyFs | undefined;
  readonly #residentByQueue = new Map<TrackedQueue, number>();

  constructor(options: SimOptions) {
    this.#options = options;
    const root = new SimRng(options.seed);
    const kind = options.workload === 'any' ? root.fork('kind').pick(WORKLOAD_KINDS) : (options.workload ?? 'single');
    const shape = chooseWorkloadShape(root.fork('workload'), { kind, workers: options.workers });
    if (options.pattern !== undefined) shape.pattern = options.pattern;
    this.#shape = shape;
    const drawn = choosePolicyKnobs(root.fork('knobs'), shape);
    this.#knobs = {
      thresholdBytes: options.thresholdBytes ?? drawn.thresholdBytes,
      headReserveBytes: options.headReserveBytes ?? drawn.headReserveBytes,
      prefetchBudgetBytes: options.prefetchBudgetBytes ?? drawn.prefetchBudgetBytes,
    };
    this.#profile = chooseFaultProfile(root.fork('profile'), options.faults ?? 'swarm', 4 * shape.chunkBytesTypical);
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
      storageFs: (volume) => {
        if (this.#profile.ioWriteFailChance === 0 && this.#profile.ioReadFailChance === 0) return volume;
        this.#faultyFs = new FaultyFs(volume, root.fork('faults/storage'), { writeFailChance: this.#profile.ioWriteFailChance, readFailChance: this.#profile.ioReadFailChance });
        return this.#faultyFs;
      },
      profile: this.#profile,
      rng: root,
      pattern: streamPattern(root.fork('pattern')),
      clock: this.#clock,
      scheduler: this.#scheduler,
      currentStep: () => this.#step,
      onFaultEvent: (queue, event) => this.#events.push({ queue, event }),
      queueFactory: options.queueFactory,
      policyFactory: options.policyFactory,
      backendFactory: options.backendFactory,
    });
    for (const actor of this.#topology.actors) this.#actors.set(actor.name, actor);
    // Fairness: a runnable actor waits at most two rounds of the others.
    this.#scheduler.setFairnessSteps(2 * this.#topology.actors.length);
    const recordTrace = options.recordTrace ?? 'none';
    this.#recorder = new TraceRecorder({ keepAll: recordTrace === 'full', tailSteps: options.tailSteps ?? TAIL_STEPS_DEFAULT });
  }

  run(): SimRunResult {
    const violation = this.#loop();
    return this.#result(violation);
  }

  #loop(): Violation | undefined {
    const stepsMax = this.#options.stepsMax ?? STEPS_MAX_DEFAULT;
    // Bounded by stepsMax; the liveness phase has tighter bounds of its own.
    for (; this.#step < stepsMax; this.#step += 1) {
      if (this.#liveness === undefined && ![...this.#actors.values()].some((a) => a.producing)) this.#startLiveness();
      const slot = this.#scheduler.next(this.#step);
      if (slot === undefined) return this.#stamp(this.#scheduler.allFinished ? this.#finalCheck() : this.#deadlock());
      const breach = this.#runStep(this.#actors.get(slot.name)!);
      if (breach !== undefined) return this.#stamp(breach);
      if (this.#scheduler.allFinished) return this.#stamp(this.#finalCheck());
    }
    return this.#stamp({ invariant: 'steps-max', message: `the run hit its bound of ${stepsMax} steps before every actor finished; raise --steps-max if the workload is meant to be this long` });
  }

  #stamp(breach: Breach | undefined): Violation | undefined {
    return breach === undefined ? undefined : { ...breach, step: this.#step };
  }

  #runStep(actor: Actor): Breach | undefined {
    this.#events = [];
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
    if (record?.park === true) parked = this.#scheduler.park(actor.name);
    if (record?.finish === true) this.#scheduler.finish(actor.name);
    this.#clock.advance(1);
    this.#scheduler.fireDueTimers(this.#step);
    this.#trace(actor, timeTicks, record, thrown, parked);
    if (thrown !== undefined) return this.#classifyThrow(thrown);
    return this.#check(record!);
  }

  #trace(actor: Actor, timeTicks: number, record: StepRecord | undefined, thrown: unknown, parked: boolean): void {
    const notes: string[] = [];
    let op: TraceOp = record?.op ?? 'note';
    if (record?.detail !== undefined) notes.push(record.detail);
    if (thrown !== undefined) notes.push(`threw: ${thrown instanceof Error ? thrown.message : String(thrown)}`);
    let fault: string | undefined;
    let spilled = false;
    let partial = false;
    let fetchedOk = 0;
    let fetchFailed = 0;
    for (const { queue, event } of this.#events) {
      fault ??= event.fault;
      if (event.kind === 'spill') {
        this.#stats.spillCalls += 1;
        this.#stats.spilledBytes += event.bytes;
        spilled ||= event.chunks > 0;
        if (event.fault !== undefined) {
          partial = true;
          this.#stats.partialSpills += 1;
        }
        notes.push(`${queue}: spilled ${event.chunks} chunks (${event.bytes} B)${event.fault !== undefined ? `, ${event.fault}` : ''}`);
      } else if (event.ok) {
        fetchedOk += 1;
        this.#stats.fetches += 1;
      } else {
        fetchFailed += 1;
        this.#stats.failedFetches += 1;
      }
    }
    if (fetchedOk > 0) notes.push(`fetched ${fetchedOk} handle${fetchedOk === 1 ? '' : 's'}`);
    if (fetchFailed > 0) notes.push(`${fetchFailed} fetch${fetchFailed === 1 ? '' : 'es'} failed`);
    if (record !== undefined) this.#count(record, spilled);
    if (op === 'extend' || op === 'receive') op = partial ? 'partial-spill' : spilled ? 'spill' : op;
    if (op === 'drain' && (record?.bytes ?? 0) === 0 && fetchFailed > 0) op = 'fetch-failed';
    else if (op === 'drain' && fetchedOk > 0) op = 'fetch';
    if (record?.park === true) {
      if (parked) op = 'park';
      else notes.push('park returned at once (buzz pending)');
    }
    const buzzes = this.#scheduler.buzzesThisStep;
    this.#stats.buzzes += buzzes;
    const step: Omit<TraceStep, 'hash'> = { step: this.#step, timeTicks, actor: actor.name, op };
    if (record?.queue !== undefined) step.queue = record.queue;
    if (record?.bytes !== undefined) step.bytes = record.bytes;
    if (record?.chunks !== undefined) step.chunks = record.chunks;
    if (notes.length > 0) step.detail = notes.join('; ');
    if (fault !== undefined) step.fault = fault;
    if (buzzes > 0) step.buzzes = buzzes;
    if (record !== undefined && record.touched.length > 0) {
      step.queues = {};
      for (const q of record.touched) step.queues[q.name] = q.summary();
    }
    this.#recorder.record(step);
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
      const breach = checkFetchOnce(q) ?? checkConservation(q) ?? checkDelivery(q) ?? checkResidentCount(q, this.#step);
      if (breach !== undefined) return breach;
      if (q.extendCalls !== q.extendCallsBounded) {
        q.extendCallsBounded = q.extendCalls;
        const spilled = this.#events.some((e) => e.queue === q.name && e.event.kind === 'spill');
        q.residentBoundBytes = residentBoundBytes(q, this.#knobs, spilled);
      }
      const bound = checkResidentBound(q);
      if (bound !== undefined) return bound;
      this.#noteResident(q);
    }
    for (const slot of this.#scheduler.slots) {
      if (slot.state !== 'parked') continue;
      const stalled = checkNotStalled(this.#actors.get(slot.name)!, this.#clock.nowTicks);
      if (stalled !== undefined) return stalled;
    }
    if (record.progress) this.#lastProgressStep = this.#step;
    return this.#liveness === undefined ? undefined : this.#checkLiveness(this.#liveness);
  }

  #noteResident(q: TrackedQueue): void {
    const now = q.deque.residentBytes;
    this.#residentTotalBytes += now - (this.#residentByQueue.get(q) ?? 0);
    this.#residentByQueue.set(q, now);
    this.#stats.residentBytesPeak = Math.max(this.#stats.residentBytesPeak, this.#residentTotalBytes);
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
      const ready = readiness(q);
      if (ready === 'blocked') return this.#blocked(q);
      if (ready === undefined || q.waitingSinceStep === undefined || q.deliveredBytes !== q.waitingDeliveredBytes) {
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
    for (const q of this.#topology.queues) if (readiness(q) === 'blocked') return this.#blocked(q);
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
      traceHash: this.#recorder.hash,
      steps: this.#recorder.count,
    };
    if (violation !== undefined) result.violation = violation;
    result.replay = replayCommand(this.#options);
    result.knobs = { ...this.#knobs };
    if (recordTrace === 'full') result.trace = this.#recorder.steps();
    else if (recordTrace === 'tail' || !ok) result.trace = this.#recorder.tail();
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
