import { drainArb, extendArb, failNextFetchArb, freshExtendArb, healArb, optionsArb, stopSpillArb } from '../command_arbitraries.js';
import type { ModelSuite } from '../suite.js';
import { REFERENCE_THRESHOLD, THRESHOLD } from '../system_specs.js';

/**
 * When storage stops a spill partway, every entry is still resident or paged exactly once, the
 * resident count is exact, nothing is lost or doubled, and a later write retries the rest.
 */
export const PARTIAL_SPILL: ModelSuite = {
  kind: 'model',
  name: 'partial-spill',
  description: 'after a spill stops partway every byte is resident or paged exactly once, and accounting is exact',
  rules: ['accounting', 'order', 'delivery'],
  optionsArb: optionsArb(),
  commandArbs: [extendArb, freshExtendArb, freshExtendArb, freshExtendArb, stopSpillArb, stopSpillArb, drainArb, failNextFetchArb, healArb],
  commandsMax: 40,
  variants: {
    default: { description: 'Threshold writer over storage that stops partway', systems: () => [THRESHOLD] },
    'reference-threshold': { description: 'ReferenceThreshold over storage that stops partway', systems: () => [REFERENCE_THRESHOLD] },
    'broken-skip-failed-chunk': {
      description: 'storage that skips the chunk it failed on and writes the rest, under ReferenceThreshold (which does not check)',
      systems: () => [{ ...REFERENCE_THRESHOLD, label: 'broken', stopMode: 'skip' }],
    },
  },
};
