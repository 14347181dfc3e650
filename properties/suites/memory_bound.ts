import { drainArb, extendArb, healArb, optionsArb, stopSpillArb } from '../command_arbitraries.js';
import { BrokenThreshold } from '../broken/broken_threshold.js';
import type { ModelSuite } from '../suite.js';
import { REFERENCE_THRESHOLD, THRESHOLD } from '../system_specs.js';

/** After each writer step whose spill was not cut short, resident bytes stay within the bound. */
export const MEMORY_BOUND: ModelSuite = {
  kind: 'model',
  name: 'memory-bound',
  description: 'resident bytes after each writer step stay within max(reserve + threshold, reserve span + last entry)',
  rules: ['memory-bound', 'order'],
  optionsArb: optionsArb(),
  commandArbs: [extendArb, extendArb, extendArb, extendArb, drainArb, stopSpillArb, healArb],
  commandsMax: 40,
  variants: {
    default: { description: 'Threshold writer', systems: () => [THRESHOLD] },
    'reference-threshold': { description: 'ReferenceThreshold writer', systems: () => [REFERENCE_THRESHOLD] },
    'broken-one-target-per-spill': {
      description: 'a threshold policy that pages out only one entry per write',
      systems: () => [
        {
          ...THRESHOLD,
          label: 'broken',
          makeWriter: (strategy, options) => new BrokenThreshold(strategy, options, 'one-target-per-spill'),
        },
      ],
    },
  },
};
