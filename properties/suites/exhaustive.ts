import type { CommandData } from '../command_data.js';
import { BrokenPrefetch } from '../broken/broken_prefetch.js';
import { QueueSystem, type RunOptions } from '../queue_system.js';
import type { EnumeratedCase, EnumeratedSuite } from '../suite.js';
import { THRESHOLD } from '../system_specs.js';

interface Workload {
  label: string;
  options: RunOptions;
  commands: CommandData[];
}

const KNOBS = { thresholdBytes: 8, headReserveBytes: 4, budgetBytes: 12, policySeed: 1 };
const ext = (queue: number, sizes: number[], fresh = true): CommandData => ({ op: 'extend', queue, sizes, fresh });
const DRAIN: CommandData = { op: 'drain' };
const one = { queues: 1, stallGuard: 'produced' as const };

/** Small configurations: a few chunks each, knobs small enough that writes spill often. */
const WORKLOADS: Workload[] = [
  {
    label: 'one queue, separate slabs',
    options: { ...one, ...KNOBS },
    commands: [ext(0, [6]), ext(0, [6]), ext(0, [6]), ext(0, [6]), DRAIN, ext(0, [6]), ext(0, [6]), DRAIN, DRAIN],
  },
  {
    label: 'one queue, one big spill of five chunks',
    options: { ...one, thresholdBytes: 20, headReserveBytes: 0, budgetBytes: 8, policySeed: 1 },
    commands: [ext(0, [4]), ext(0, [4]), ext(0, [4]), ext(0, [4]), ext(0, [4]), ext(0, [5]), DRAIN, DRAIN, DRAIN],
  },
  {
    label: 'one queue, coalescing slab',
    options: { ...one, ...KNOBS },
    commands: [ext(0, [4, 4]), ext(0, [6], false), ext(0, [5]), ext(0, [3], false), ext(0, [7]), DRAIN, ext(0, [6]), DRAIN, DRAIN],
  },
  {
    label: 'two queues, one accumulator, reference stall guard',
    options: { queues: 2, stallGuard: 'accumulator', ...KNOBS },
    commands: [ext(0, [6]), ext(1, [6]), ext(0, [6]), ext(1, [6]), ext(0, [6]), ext(1, [6]), DRAIN, ext(1, [6]), DRAIN, DRAIN],
  },
  {
    label: 'two queues, one accumulator, produced stall guard',
    options: { queues: 2, stallGuard: 'produced', ...KNOBS },
    commands: [ext(0, [6]), ext(1, [6]), ext(0, [6]), ext(1, [6]), ext(0, [6]), ext(1, [6]), DRAIN, ext(1, [6]), DRAIN, DRAIN],
  },
  {
    label: 'spill everything',
    options: { ...one, thresholdBytes: 0, headReserveBytes: 0, budgetBytes: 8, policySeed: 1 },
    commands: [ext(0, [4]), ext(0, [4]), ext(0, [4]), ext(0, [4]), DRAIN, ext(0, [4]), DRAIN, DRAIN],
  },
];

/** Where, in a fault-free run of a workload, each spill call and fetch happens. */
interface FaultPoint {
  /** Insert the fault before this command index. */
  before: number;
  command: CommandData;
  label: string;
}

function faultPoints(workload: Workload): { stops: FaultPoint[]; fetches: FaultPoint[] } {
  const system = new QueueSystem(THRESHOLD, workload.options, new Set());
  const stops: FaultPoint[] = [];
  const fetches: FaultPoint[] = [];
  workload.commands.forEach((command, i) => {
    const spillsBefore = system.strategy.offeredLog.length;
    const fetchesBefore = system.strategy.fetchCalls;
    system.apply(command);
    for (const offered of system.strategy.offeredLog.slice(spillsBefore)) {
      // A spill can stop after 0..offered-1 chunks; stopping after all of them is no fault.
      for (let k = 0; k < offered; k += 1) stops.push({ before: i, command: { op: 'stop-spill-after', chunks: k }, label: `spill at step ${i + 1} stops after ${k} of ${offered}` });
    }
    const fetchCount = system.strategy.fetchCalls - fetchesBefore;
    for (let m = 0; m < fetchCount; m += 1) fetches.push({ before: i, command: { op: 'fail-fetch-after', okFetches: m }, label: `fetch ${m + 1} of step ${i + 1} fails once` });
    if (fetchCount > 0) fetches.push({ before: i, command: { op: 'fail-fetch-forever' }, label: `every fetch from step ${i + 1} on fails until healed` });
  });
  return { stops, fetches };
}


function withFaults(commands: CommandData[], faults: FaultPoint[]): CommandData[] {
  const out: CommandData[] = [];
  commands.forEach((command, i) => {
    for (const fault of faults) if (fault.before === i) out.push(fault.command);
    out.push(command);
  });
  return out;
}

function enumerate(): EnumeratedCase[] {
  const cases: EnumeratedCase[] = [];
  for (const workload of WORKLOADS) {
    const { stops, fetches } = faultPoints(workload);
    const add = (faults: FaultPoint[]): void => {
      const label = faults.length === 0 ? 'no fault' : faults.map((f) => f.label).join(', ');
      cases.push({ label: `${workload.label}: ${label}`, options: workload.options, commands: withFaults(workload.commands, faults) });
    };
    add([]);
    for (const stop of stops) add([stop]);
    for (const fetch of fetches) add([fetch]);
    for (const stop of stops) for (const fetch of fetches) add([stop, fetch]);
    // Two stops in different writes: the retry of a cut-short spill is itself cut short.
    for (let a = 0; a < stops.length; a += 1) for (let b = a + 1; b < stops.length; b += 1) if (stops[a]!.before !== stops[b]!.before) add([stops[a]!, stops[b]!]);
  }
  return cases;
}

/**
 * Small-scope exhaustive: for each small workload, every point at which a spill can stop,
 * every fetch that can fail (once, or from then on), every stop with every fetch failure, and
 * every two stops in different writes: all of them run, none sampled.
 */
export const EXHAUSTIVE: EnumeratedSuite = {
  kind: 'enumerated',
  name: 'exhaustive',
  description: 'every spill stop point and every failing fetch (and each pair) of small workloads, enumerated, not sampled',
  rules: ['accounting', 'memory-bound', 'order', 'no-stall', 'delivery'],
  cases: enumerate,
  variants: {
    default: { description: 'Threshold + PrefetchPolicy', systems: () => [THRESHOLD] },
    'broken-prefetch-drops-failed': {
      description: 'a reader policy that forgets a handle whose fetch failed',
      systems: () => [{ ...THRESHOLD, label: 'broken', makeReader: (options) => new BrokenPrefetch(options.budgetBytes, 'drops-failed') }],
    },
  },
};
