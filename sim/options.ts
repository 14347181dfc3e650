import type { BytesSpill } from '../src/spill.js';
import { checkByteKnob, SpillsimError } from '../src/errors.js';
import type { StallGuard } from '../src/merge_queue.js';
import { type FaultKind, type FaultMode, FAULT_KINDS } from './faults.js';
import type { PolicyFactory, QueueFactory } from './tracked_queue.js';
import { type TrafficPattern, TRAFFIC_PATTERNS, type WorkloadKind, WORKLOAD_KINDS } from './workload.js';

/**
 * - `fast` (default): `Threshold`, stall guard `'produced'`, per-chunk reads, partial writes.
 * - `reference`: the reference as written: `ReferenceThreshold`, stall guard `'accumulator'`,
 *   and the reference file backend's batch reads and all-or-nothing writes.
 */
export type Variant = 'fast' | 'reference';

/** How much of the trace a result carries: every step, the last `tailSteps`, or (on success) none. A failure always carries at least the tail. */
export type RecordTrace = 'full' | 'tail' | 'none';

/**
 * Everything a run depends on. A run is a pure function of these options: the same options give
 * the same trace and hash. All fields but the three factories are plain JSON; the factories
 * exist so tests can inject a queue, policy or backend broken on purpose (campaigns never pass them).
 */
export interface SimOptions {
  seed: number;
  /** Default `'single'`; `'any'` lets the seed pick. */
  workload?: WorkloadKind | 'any';
  /**
   * Mesh: workers in all; cluster: workers per process (2 processes). Default from the seed.
   * Meshes and clusters are built by the library's `Config`, its allocators and network loops
   * driven as actors; a cluster's links delay each write by a latency drawn from the seed.
   */
  workers?: number;
  /** Default `'swarm'`. */
  faults?: FaultMode;
  /** Default `'fast'`. */
  variant?: Variant;
  /** Default: `'produced'` for `fast`, `'accumulator'` for `reference`. */
  stallGuard?: StallGuard;
  /** Policy knobs; each defaults to a multiple of the seed's typical chunk (so most seeds spill). */
  thresholdBytes?: number;
  headReserveBytes?: number;
  prefetchBudgetBytes?: number;
  /** `'none'` gives queues a writer policy and no reader policy (nothing is ever paged back in). Default `'prefetch'`. */
  readerPolicy?: 'prefetch' | 'none';
  /** Default from the seed. */
  pattern?: TrafficPattern;
  /**
   * Single workload only: the reader keeps its accumulator across rounds until it holds this
   * many bytes (default 0: flush every round, as timely does).
   */
  consumerHoldBytes?: number;
  /** Hard cap on steps; hitting it fails the run loudly (default 200,000). */
  stepsMax?: number;
  /** Default `'none'` (a failure still carries the tail). */
  recordTrace?: RecordTrace;
  /** Steps kept in the tail (default 30). */
  tailSteps?: number;
  /** Injected for tests, single workload only: builds the queue pair instead of `MergeQueue.newPair`. */
  queueFactory?: QueueFactory;
  /** Injected for tests: builds each queue's `[writer, reader]` policies instead of the variant's. */
  policyFactory?: PolicyFactory;
  /** Injected for tests: the storage under the fault injector, per queue, instead of `MemfsSpill`. */
  backendFactory?: (ctx: { queue: string }) => BytesSpill;
}

export const STEPS_MAX_DEFAULT = 200_000;
export const TAIL_STEPS_DEFAULT = 30;

/** Reject options that would make a run meaningless, with a message naming the option. */
export function checkSimOptions(options: SimOptions): void {
  if (options === null || typeof options !== 'object') throw bad(`simulation options must be an object, got ${String(options)}`);
  if (!Number.isSafeInteger(options.seed) || options.seed < 0) throw bad(`seed must be a non-negative whole number, got ${String(options.seed)}`);
  oneOf('workload', options.workload, [...WORKLOAD_KINDS, 'any']);
  oneOf('variant', options.variant, ['fast', 'reference']);
  oneOf('stallGuard', options.stallGuard, ['produced', 'accumulator']);
  oneOf('readerPolicy', options.readerPolicy, ['prefetch', 'none']);
  oneOf('pattern', options.pattern, TRAFFIC_PATTERNS);
  oneOf('recordTrace', options.recordTrace, ['full', 'tail', 'none']);
  if (options.workers !== undefined && (!Number.isSafeInteger(options.workers) || options.workers < 1 || options.workers > 16)) {
    throw bad(`workers must be a whole number from 1 to 16, got ${String(options.workers)}`);
  }
  if (options.workload === 'mesh' && options.workers === 1) throw bad('a mesh needs at least 2 workers');
  for (const knob of ['thresholdBytes', 'headReserveBytes', 'prefetchBudgetBytes', 'consumerHoldBytes'] as const) {
    if (options[knob] !== undefined) checkByteKnob(knob, options[knob]);
  }
  for (const knob of ['stepsMax', 'tailSteps'] as const) {
    const value = options[knob];
    if (value !== undefined && (!Number.isSafeInteger(value) || value < 1)) throw bad(`${knob} must be a whole number of at least 1, got ${String(value)}`);
  }
  if (options.queueFactory !== undefined && (options.workload ?? 'single') !== 'single') {
    throw bad("queueFactory applies to the single workload only (the library's Config builds the queues of meshes and clusters)");
  }
  if ((options.consumerHoldBytes ?? 0) > 0 && (options.workload ?? 'single') !== 'single') {
    throw bad("consumerHoldBytes applies to the single workload only (the library's Config, which builds meshes and clusters, flushes every worker's and network loop's accumulator every round)");
  }
  const faults = options.faults;
  if (faults !== undefined && faults !== 'none' && faults !== 'swarm') {
    if (!Array.isArray(faults) || faults.some((k) => !(FAULT_KINDS as readonly string[]).includes(k as FaultKind))) {
      throw bad(`faults must be 'none', 'swarm' or a list of ${FAULT_KINDS.join(', ')}, got ${JSON.stringify(faults)}`);
    }
  }
}

function oneOf(name: string, value: unknown, choices: readonly string[]): void {
  if (value !== undefined && !choices.includes(value as string)) throw bad(`${name} must be one of ${choices.join(', ')}, got ${JSON.stringify(value)}`);
}

function bad(message: string): SpillsimError {
  return new SpillsimError('E_BAD_ARGUMENT', message);
}

/** The `spillsim sim` command line that repeats a run with these options. */
export function replayCommand(options: SimOptions): string {
  const parts = ['spillsim sim', `--seed ${options.seed}`];
  if (options.workload !== undefined && options.workload !== 'single') parts.push(`--workload ${options.workload}`);
  if (options.workers !== undefined) parts.push(`--peers ${options.workers}`);
  if (options.faults !== undefined && options.faults !== 'swarm') parts.push(`--faults ${Array.isArray(options.faults) ? options.faults.join(',') : options.faults}`);
  if (options.variant !== undefined && options.variant !== 'fast') parts.push(`--variant ${options.variant}`);
  if (options.stallGuard !== undefined) parts.push(`--stall-guard ${options.stallGuard}`);
  if (options.thresholdBytes !== undefined) parts.push(`--threshold ${options.thresholdBytes}`);
  if (options.headReserveBytes !== undefined) parts.push(`--reserve ${options.headReserveBytes}`);
  if (options.prefetchBudgetBytes !== undefined) parts.push(`--prefetch-budget ${options.prefetchBudgetBytes}`);
  if (options.readerPolicy !== undefined && options.readerPolicy !== 'prefetch') parts.push(`--reader-policy ${options.readerPolicy}`);
  if (options.pattern !== undefined) parts.push(`--pattern ${options.pattern}`);
  if (options.consumerHoldBytes !== undefined && options.consumerHoldBytes > 0) parts.push(`--consumer-hold ${options.consumerHoldBytes}`);
  if (options.stepsMax !== undefined) parts.push(`--steps-max ${options.stepsMax}`);
  if (options.queueFactory !== undefined || options.policyFactory !== undefined || options.backendFactory !== undefined) {
    parts.push('(plus the injected factories of the test that ran it)');
  }
  return parts.join(' ');
}
