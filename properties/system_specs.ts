import { PrefetchPolicy } from '../src/prefetch_policy.js';
import { ReferenceThreshold } from '../src/reference_threshold.js';
import type { SpillPolicy } from '../src/spill_policy.js';
import { Threshold } from '../src/threshold.js';
import type { RunOptions, SystemSpec } from './queue_system.js';
import { RandomSpillPolicy } from './random_spill_policy.js';

/** The reader side every suite uses unless a variant breaks it. */
export function prefetchReader(options: RunOptions): SpillPolicy {
  return new PrefetchPolicy(options.budgetBytes);
}

function knobs(options: RunOptions): { thresholdBytes: number; headReserveBytes: number } {
  return { thresholdBytes: options.thresholdBytes, headReserveBytes: options.headReserveBytes };
}

/** The library as shipped: fast `Threshold` writer, `PrefetchPolicy` reader. */
export const THRESHOLD: SystemSpec = {
  label: 'threshold',
  makeWriter: (strategy, options) => new Threshold(strategy, knobs(options)),
  makeReader: prefetchReader,
};

/** The reference's `Threshold`, line for line. */
export const REFERENCE_THRESHOLD: SystemSpec = {
  label: 'reference',
  makeWriter: (strategy, options) => new ReferenceThreshold(strategy, knobs(options)),
  makeReader: prefetchReader,
};

/** No writer policy: nothing is ever paged. */
export const NO_SPILLING: SystemSpec = {
  label: 'no-spill',
  makeWriter: () => undefined,
  makeReader: prefetchReader,
};

/** Threshold 0, reserve 0: every entry but the last is paged on every write. */
export const SPILL_EVERYTHING: SystemSpec = {
  label: 'spill-all',
  makeWriter: (strategy) => new Threshold(strategy, { thresholdBytes: 0, headReserveBytes: 0 }),
  makeReader: prefetchReader,
};

export const RANDOM_POLICY: SystemSpec = {
  label: 'random',
  makeWriter: (strategy, options) => new RandomSpillPolicy(strategy, options.policySeed),
  makeReader: prefetchReader,
};
