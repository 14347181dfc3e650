import { ALL_COMMAND_ARBS, optionsArb } from '../command_arbitraries.js';
import type { QueueSystem } from '../queue_system.js';
import { BatchingStore } from '../scripted_spill.js';
import type { ModelSuite } from '../suite.js';
import { NO_SPILLING, RANDOM_POLICY, REFERENCE_THRESHOLD, SPILL_EVERYTHING, THRESHOLD } from '../system_specs.js';
import type { Violation } from '../violation.js';
import { ReferenceThreshold } from '../../src/reference_threshold.js';

/**
 * The same workload and storage faults under no spilling, the threshold policy, spill-everything
 * and a random policy: the consumer receives identical bytes from each.
 */
export const TRANSPARENCY: ModelSuite = {
  kind: 'model',
  name: 'transparency',
  description: 'no spilling, threshold, spill-everything and a random policy give the consumer identical bytes',
  rules: ['delivery'],
  optionsArb: optionsArb({ queuesMax: 2 }),
  commandArbs: ALL_COMMAND_ARBS,
  commandsMax: 40,
  compare: compareDelivered,
  variants: {
    default: { description: 'four policies side by side', systems: () => [NO_SPILLING, THRESHOLD, SPILL_EVERYTHING, RANDOM_POLICY] },
    'broken-batching-backend': {
      description: 'spill-everything through the reference Threshold over storage that returns one handle per batch',
      systems: () => [
        NO_SPILLING,
        THRESHOLD,
        {
          ...REFERENCE_THRESHOLD,
          label: 'spill-all-batching',
          inner: new BatchingStore(),
          makeWriter: (strategy) => new ReferenceThreshold(strategy, { thresholdBytes: 0, headReserveBytes: 0 }),
        },
      ],
    },
  },
};

function compareDelivered(systems: QueueSystem[], atEnd: boolean): Omit<Violation, 'step'> | undefined {
  if (!atEnd) return undefined;
  const [base, ...others] = systems as [QueueSystem, ...QueueSystem[]];
  for (const other of others) {
    for (let q = 0; q < base.pairs.length; q += 1) {
      if (other.deliveredBytes[q] !== base.deliveredBytes[q] || other.deliveredHash[q] !== base.deliveredHash[q]) {
        return {
          rule: 'transparency',
          message: `q${q}: the consumer got ${other.deliveredBytes[q]} B under ${other.label} but ${base.deliveredBytes[q]} B under ${base.label}${other.deliveredBytes[q] === base.deliveredBytes[q] ? ' (same length, different bytes)' : ''}`,
        };
      }
    }
  }
  return undefined;
}
