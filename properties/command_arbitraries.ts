import fc from 'fast-check';
import type { StallGuard } from '../src/merge_queue.js';
import { CHUNK_BYTES_MAX, CHUNKS_PER_EXTEND_MAX, type CommandData, FETCH_FAILURES_MAX, QUEUES_MAX } from './command_data.js';
import type { RunOptions } from './queue_system.js';

/**
 * Generators of commands and run options. Queue numbers are drawn up to `QUEUES_MAX` and folded
 * into the run's queue count when the commands are collected, so shrinking the options never
 * invalidates the commands.
 */
export const extendArb: fc.Arbitrary<CommandData> = fc
  .record({
    queue: fc.nat({ max: QUEUES_MAX - 1 }),
    sizes: fc.array(fc.integer({ min: 1, max: CHUNK_BYTES_MAX }), { minLength: 1, maxLength: CHUNKS_PER_EXTEND_MAX }),
    fresh: fc.boolean(),
  })
  .map(({ queue, sizes, fresh }) => ({ op: 'extend', queue, sizes, fresh }));

/** Separate small writes: many entries, so one spill offers several chunks and can stop midway. */
export const freshExtendArb: fc.Arbitrary<CommandData> = fc
  .record({
    queue: fc.nat({ max: QUEUES_MAX - 1 }),
    sizes: fc.array(fc.integer({ min: 1, max: 32 }), { minLength: 1, maxLength: 2 }),
  })
  .map(({ queue, sizes }) => ({ op: 'extend', queue, sizes, fresh: true }));

export const drainArb: fc.Arbitrary<CommandData> = fc.constant({ op: 'drain' });
export const stopSpillArb: fc.Arbitrary<CommandData> = fc.nat({ max: 4 }).map((chunks) => ({ op: 'stop-spill-after', chunks }));
export const failNextFetchArb: fc.Arbitrary<CommandData> = fc
  .integer({ min: 1, max: FETCH_FAILURES_MAX })
  .map((count) => ({ op: 'fail-next-fetch', count }));
export const failFetchForeverArb: fc.Arbitrary<CommandData> = fc.constant({ op: 'fail-fetch-forever' });
export const healArb: fc.Arbitrary<CommandData> = fc.constant({ op: 'heal' });

/** Every kind of command, writes weighted up so queues grow past the threshold. */
export const ALL_COMMAND_ARBS: fc.Arbitrary<CommandData>[] = [
  extendArb,
  extendArb,
  extendArb,
  drainArb,
  drainArb,
  stopSpillArb,
  failNextFetchArb,
  failFetchForeverArb,
  healArb,
];

export interface OptionsShape {
  queuesMax?: number;
  stallGuards?: StallGuard[];
}

/** Small knobs, so a handful of chunks crosses the threshold and the head reserve matters. */
export function optionsArb(shape: OptionsShape = {}): fc.Arbitrary<RunOptions> {
  return fc.record({
    queues: fc.integer({ min: 1, max: shape.queuesMax ?? 1 }),
    stallGuard: fc.constantFrom(...(shape.stallGuards ?? ['produced'])),
    thresholdBytes: fc.integer({ min: 0, max: 192 }),
    headReserveBytes: fc.integer({ min: 0, max: 96 }),
    budgetBytes: fc.integer({ min: 1, max: 192 }),
    policySeed: fc.nat(),
  });
}
