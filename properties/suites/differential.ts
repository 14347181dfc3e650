import { ALL_COMMAND_ARBS, optionsArb } from '../command_arbitraries.js';
import { BrokenThreshold } from '../broken/broken_threshold.js';
import type { QueueSystem } from '../queue_system.js';
import { BatchingStore } from '../scripted_spill.js';
import type { ModelSuite } from '../suite.js';
import { REFERENCE_THRESHOLD, THRESHOLD } from '../system_specs.js';
import type { Violation } from '../violation.js';

/** The fast `Threshold` and `ReferenceThreshold` run the same commands and agree entry for entry. */
export const DIFFERENTIAL: ModelSuite = {
  kind: 'model',
  name: 'differential',
  description: 'the fast Threshold and ReferenceThreshold agree entry for entry after every command',
  rules: ['order', 'delivery'],
  optionsArb: optionsArb(),
  commandArbs: ALL_COMMAND_ARBS,
  commandsMax: 40,
  compare: compareEntryForEntry,
  variants: {
    default: { description: 'Threshold vs ReferenceThreshold', systems: () => [THRESHOLD, REFERENCE_THRESHOLD] },
    'reference-batching-backend': {
      description: 'both over storage that returns one handle per batch: the reference accepts it, Threshold refuses',
      systems: () => [
        { ...THRESHOLD, inner: new BatchingStore() },
        { ...REFERENCE_THRESHOLD, inner: new BatchingStore() },
      ],
    },
    'broken-reserve-off-by-one': {
      description: 'a fast policy that keeps one entry too many in the head reserve',
      systems: () => [
        {
          ...THRESHOLD,
          label: 'broken',
          makeWriter: (strategy, options) => new BrokenThreshold(strategy, options, 'reserve-off-by-one'),
        },
        REFERENCE_THRESHOLD,
      ],
    },
  },
};

function compareEntryForEntry(systems: QueueSystem[]): Omit<Violation, 'step'> | undefined {
  const [fast, reference] = systems as [QueueSystem, QueueSystem];
  for (let q = 0; q < fast.pairs.length; q += 1) {
    const a = fast.pairs[q]![1].deque;
    const b = reference.pairs[q]![1].deque;
    const entriesMax = Math.max(a.length, b.length);
    for (let i = 0; i < entriesMax; i += 1) {
      const ea = i < a.length ? describeEntry(fast, a.get(i)) : 'nothing';
      const eb = i < b.length ? describeEntry(reference, b.get(i)) : 'nothing';
      if (ea !== eb) {
        return { rule: 'differential', message: `q${q} entry ${i} is ${ea} under ${fast.label} but ${eb} under ${reference.label}` };
      }
    }
    if (fast.deliveredBytes[q] !== reference.deliveredBytes[q]) {
      return { rule: 'differential', message: `q${q} delivered ${fast.deliveredBytes[q]} B under ${fast.label} but ${reference.deliveredBytes[q]} B under ${reference.label}` };
    }
  }
  return undefined;
}

function describeEntry(system: QueueSystem, entry: ReturnType<QueueSystem['pairs'][number][1]['deque']['get']>): string {
  if (entry.kind === 'bytes') return `resident ${entry.bytes.length} B`;
  const held = system.strategy.live.get(entry.handle) ?? [];
  return `paged ${held.map((c) => c.length).join('+')} B`;
}
