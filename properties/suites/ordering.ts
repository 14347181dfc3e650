import { ALL_COMMAND_ARBS, optionsArb } from '../command_arbitraries.js';
import { BrokenPrefetch } from '../broken/broken_prefetch.js';
import type { ModelSuite } from '../suite.js';
import { REFERENCE_THRESHOLD, THRESHOLD } from '../system_specs.js';

/** The bytes a reader drains are exactly the bytes written, in order, whatever happens between. */
export const ORDERING: ModelSuite = {
  kind: 'model',
  name: 'ordering',
  description: 'drained bytes are exactly the written bytes, in order, through spills, fetch failures and coalescing',
  rules: ['order', 'delivery'],
  optionsArb: optionsArb(),
  commandArbs: ALL_COMMAND_ARBS,
  commandsMax: 40,
  variants: {
    default: { description: 'Threshold writer, PrefetchPolicy reader', systems: () => [THRESHOLD] },
    'reference-threshold': { description: 'ReferenceThreshold writer', systems: () => [REFERENCE_THRESHOLD] },
    'broken-prefetch-out-of-order': {
      description: 'a reader policy that puts fetched chunks back one entry too late',
      systems: () => [{ ...THRESHOLD, label: 'broken', makeReader: (options) => new BrokenPrefetch(options.budgetBytes, 'out-of-order') }],
    },
  },
};
