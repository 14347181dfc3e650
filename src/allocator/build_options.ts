import { checkOptions, describeValue } from '../arguments.js';
import { Buzzer } from '../buzzer.js';
import { SpillsimError } from '../errors.js';
import type { StallGuard } from '../merge_queue.js';
import type { LinkLatency, SplitWriteFn } from './network_link.js';

/** Default slab a sender batches frames in: big enough that small messages share one. */
export const SLAB_BYTES_DEFAULT = 64 * 1024;

/**
 * How `Config.tryBuild` wires the allocators, beyond the hooks. Everything here exists so a
 * deterministic scheduler (the simulator) can observe and steer the run; defaults suit tests.
 */
export interface BuildOptions {
  /**
   * The buzzer of each reader or actor, by name: `worker:<index>` (every queue and typed
   * channel a worker receives on), `send:<process>` (a network send loop's source queues),
   * `recv:<process>` (a network receive loop's incoming links). Called once per name.
   * Default: a fresh `Buzzer` per name.
   */
  buzzerFor?: (name: string) => Buzzer;
  /** The stall guard of every MergeQueue built. Default `'produced'`; `'accumulator'` is the reference. */
  stallGuard?: StallGuard;
  /** Minimum slab a sender batches frames in. Default `SLAB_BYTES_DEFAULT` (64 KiB). */
  slabBytes?: number;
  /** Cluster only: where each network link cuts a write into pieces. Default: delivered whole. */
  splitWrite?: SplitWriteFn;
  /** Cluster only: when each write on a network link arrives, on the caller's clock (see `LinkLatency`). Default: at once. */
  linkLatency?: LinkLatency;
}

export interface ResolvedBuildOptions {
  buzzerFor: (name: string) => Buzzer;
  stallGuard: StallGuard | undefined;
  slabBytes: number;
  splitWrite: SplitWriteFn | undefined;
  linkLatency: LinkLatency | undefined;
}

export function resolveBuildOptions(given: BuildOptions | undefined): ResolvedBuildOptions {
  const options = checkOptions('build', given, ['buzzerFor', 'stallGuard', 'slabBytes', 'splitWrite', 'linkLatency'], '{ slabBytes: 65536 }');
  const slabBytes = options.slabBytes ?? SLAB_BYTES_DEFAULT;
  if (!Number.isSafeInteger(slabBytes) || slabBytes < 1) {
    throw new SpillsimError('E_BAD_ARGUMENT', `slabBytes must be a positive whole number of bytes, got ${String(options.slabBytes)}`);
  }
  for (const name of ['buzzerFor', 'splitWrite'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'function') {
      throw new SpillsimError('E_BAD_ARGUMENT', `${name} must be a function, got ${describeValue(options[name])}`);
    }
  }
  const latency = options.linkLatency;
  if (latency !== undefined && (latency === null || typeof latency !== 'object' || (['nowTicks', 'ticksOf', 'wakeAt'] as const).some((f) => typeof latency[f] !== 'function'))) {
    throw new SpillsimError('E_BAD_ARGUMENT', 'linkLatency must be an object with the functions nowTicks(), ticksOf(write) and wakeAt(arrivalTick, write)');
  }
  if (options.stallGuard !== undefined && options.stallGuard !== 'produced' && options.stallGuard !== 'accumulator') {
    throw new SpillsimError('E_BAD_ARGUMENT', `stallGuard must be 'produced' or 'accumulator', got ${String(options.stallGuard)}`);
  }
  return {
    buzzerFor: options.buzzerFor ?? (() => new Buzzer()),
    stallGuard: options.stallGuard,
    slabBytes,
    splitWrite: options.splitWrite,
    linkLatency: latency,
  };
}
