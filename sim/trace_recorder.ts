import { createHash } from 'node:crypto';
import type { QueueSummary, TraceStep } from './trace.js';

/** The hash a trace starts from, so an empty run still has a well-defined hash. */
const GENESIS = createHash('sha256').update('spillsim-trace-v1').digest('hex');

/**
 * Records a run's steps and chains their hashes: each step's hash is sha256 of the previous
 * hash and the step's canonical JSON (fixed key order, no undefined fields), so one differing
 * byte anywhere changes every hash after it, and two runs can be compared by their last hash.
 */
export class TraceRecorder {
  readonly #keepAll: boolean;
  readonly #tailSteps: number;
  #steps: TraceStep[] = [];
  #hash = GENESIS;
  #count = 0;

  constructor(options: { keepAll: boolean; tailSteps: number }) {
    this.#keepAll = options.keepAll;
    this.#tailSteps = options.tailSteps;
  }

  get hash(): string {
    return this.#hash;
  }

  get count(): number {
    return this.#count;
  }

  record(step: Omit<TraceStep, 'hash'>): TraceStep {
    const canonical = canonicalStep(step);
    this.#hash = createHash('sha256').update(this.#hash).update(JSON.stringify(canonical)).digest('hex');
    const recorded: TraceStep = { ...canonical, hash: this.#hash };
    this.#steps.push(recorded);
    this.#count += 1;
    // Amortized: trim the tail buffer only when it has grown to twice its size.
    if (!this.#keepAll && this.#steps.length >= 2 * this.#tailSteps) this.#steps = this.#steps.slice(-this.#tailSteps);
    return recorded;
  }

  /** Every step (when keeping all) or the last `tailSteps`. */
  steps(): TraceStep[] {
    return this.#keepAll ? this.#steps.slice() : this.#steps.slice(-this.#tailSteps);
  }

  tail(): TraceStep[] {
    return this.#steps.slice(-this.#tailSteps);
  }
}

/** The step with its keys in one fixed order and undefined fields left out. */
export function canonicalStep(step: Omit<TraceStep, 'hash'>): Omit<TraceStep, 'hash'> {
  const out: Omit<TraceStep, 'hash'> = { step: step.step, timeTicks: step.timeTicks, actor: step.actor, op: step.op };
  if (step.queue !== undefined) out.queue = step.queue;
  if (step.bytes !== undefined) out.bytes = step.bytes;
  if (step.chunks !== undefined) out.chunks = step.chunks;
  if (step.detail !== undefined) out.detail = step.detail;
  if (step.fault !== undefined) out.fault = step.fault;
  if (step.buzzes !== undefined) out.buzzes = step.buzzes;
  if (step.queues !== undefined) {
    const queues: Record<string, QueueSummary> = {};
    for (const [name, q] of Object.entries(step.queues)) {
      queues[name] = { residentBytes: q.residentBytes, pagedBytes: q.pagedBytes, inFlightBytes: q.inFlightBytes, entries: q.entries, pagedEntries: q.pagedEntries };
    }
    out.queues = queues;
  }
  return out;
}
