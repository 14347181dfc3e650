import fc from 'fast-check';
import { PrefetchPolicy } from '../../src/prefetch_policy.js';
import { runSimulation } from '../../sim/run.js';
import type { SimOptions } from '../../sim/options.js';
import type { RunOutcome } from '../run_outcome.js';
import { RandomSpillPolicy } from '../random_spill_policy.js';
import type { SampledSuite } from '../suite.js';

/** One simulation: plain JSON, so a fixture stores it as is. */
interface DeterminismInput {
  seed: number;
  workload: 'single' | 'mesh' | 'cluster';
  faults: 'none' | 'swarm';
  variant: 'fast' | 'reference';
}

const WORKLOADS = ['single', 'mesh', 'cluster'] as const;

const inputArb: fc.Arbitrary<unknown> = fc.record({
  seed: fc.nat({ max: 1_000_000 }),
  // Single queues are the cheapest; meshes and clusters still come up.
  workload: fc.constantFrom<DeterminismInput['workload']>('single', 'single', 'mesh', 'cluster'),
  faults: fc.constantFrom<DeterminismInput['faults']>('swarm', 'none'),
  variant: fc.constantFrom<DeterminismInput['variant']>('fast', 'reference'),
});

function parseInput(value: unknown): { ok: true; input: unknown } | { ok: false; reason: string } {
  const v = value as Partial<DeterminismInput> | null;
  if (v === null || typeof v !== 'object') return { ok: false, reason: 'input is not an object' };
  if (!Number.isSafeInteger(v.seed) || (v.seed as number) < 0) return { ok: false, reason: 'input.seed must be a whole number' };
  if (!WORKLOADS.includes(v.workload as DeterminismInput['workload'])) return { ok: false, reason: `input.workload ${JSON.stringify(v.workload)} is not ${WORKLOADS.join(', ')}` };
  if (v.faults !== 'none' && v.faults !== 'swarm') return { ok: false, reason: 'input.faults must be none or swarm' };
  if (v.variant !== 'fast' && v.variant !== 'reference') return { ok: false, reason: 'input.variant must be fast or reference' };
  return { ok: true, input: v };
}

/** Run the same simulation twice; the trace hashes must agree. */
async function run(value: unknown, variant: string): Promise<RunOutcome> {
  const input = value as DeterminismInput;
  const options: SimOptions = { seed: input.seed, workload: input.workload, faults: input.faults, variant: input.variant, recordTrace: 'none' };
  if (variant === 'broken-unseeded-policy') {
    // The bug: a policy seeded from Math.random, outside the simulation's seed.
    options.policyFactory = (ctx) => [new RandomSpillPolicy(ctx.strategy, Math.floor(Math.random() * 0x7fffffff)), new PrefetchPolicy(ctx.prefetchBudgetBytes)];
  }
  const described = `runSimulation({ seed: ${input.seed}, workload: ${input.workload}, faults: ${input.faults}, variant: ${input.variant} })`;
  const first = runSimulation(options);
  const second = runSimulation(options);
  const trace = [
    { step: 1, command: described, events: [], state: `${first.steps} steps, trace hash ${first.traceHash.slice(0, 16)}` },
    { step: 2, command: `${described} again`, events: [], state: `${second.steps} steps, trace hash ${second.traceHash.slice(0, 16)}` },
  ];
  if (first.traceHash !== second.traceHash) {
    return { trace, violation: { rule: 'determinism', step: 2, message: `the same options gave trace hash ${first.traceHash.slice(0, 16)} then ${second.traceHash.slice(0, 16)}: the run depends on something outside its seed` } };
  }
  return { trace };
}

/** A simulation seed replays to the same trace hash: the simulator is a pure function of its options. */
export const DETERMINISM: SampledSuite = {
  kind: 'sampled',
  name: 'determinism',
  description: 'a simulation seed replays to the same trace hash (single queue, mesh, cluster; with and without faults)',
  rules: ['determinism'],
  inputArb,
  runsDefault: 150,
  run,
  parseInput,
  // Its storage is the simulator's (determinism) or a scripted store per queue (end-to-end).
  usesBackend: false,
  variants: {
    default: { description: 'the simulator as shipped' },
    'broken-unseeded-policy': { description: 'a writer policy seeded from Math.random instead of the run seed' },
  },
};
