import { ALL_COMMAND_ARBS, optionsArb } from '../command_arbitraries.js';
import type { ModelSuite } from '../suite.js';
import { THRESHOLD } from '../system_specs.js';

/**
 * After a drain that leaves data behind, the consumer has data or was buzzed; once faults
 * clear, every byte arrives. Runs both stall-guard rules and up to three queues drained into
 * one shared accumulator, as the host's send loop does.
 */
export const NO_STALL: ModelSuite = {
  kind: 'model',
  name: 'no-stall',
  description: 'after a partial drain the consumer has data or is buzzed (both stall guards, shared accumulator)',
  rules: ['no-stall', 'order', 'delivery'],
  optionsArb: optionsArb({ queuesMax: 3, stallGuards: ['produced', 'accumulator'] }),
  commandArbs: ALL_COMMAND_ARBS,
  commandsMax: 40,
  variants: {
    default: { description: 'Threshold + PrefetchPolicy, stall guard as generated', systems: () => [THRESHOLD] },
    'holding-consumer': {
      description: "a consumer that keeps its accumulator until it holds 64 B, under spillsim's 'produced' stall guard",
      systems: () => [{ ...THRESHOLD, label: 'holding', holdBytes: 64, stallGuard: 'produced' }],
    },
    'reference-holding-consumer': {
      description: "the same consumer under the reference's 'accumulator' stall guard: data it holds hides the stall",
      systems: () => [{ ...THRESHOLD, label: 'holding', holdBytes: 64, stallGuard: 'accumulator' }],
    },
    'broken-mute-drain-buzz': {
      description: 'a queue whose drain never buzzes (no stall guard at all)',
      systems: () => [{ ...THRESHOLD, label: 'broken', muteDrainBuzz: true }],
    },
  },
};
