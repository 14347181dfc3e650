import type { StepRecord } from './actor.js';

/** Queue operations made through the instrumented handles, read as deltas per step. */
export interface OpCounter {
  extendCalls: number;
  drainCalls: number;
}

/** Run `body` and put the queue operations it made into its record. */
export function counted(counter: OpCounter, body: () => StepRecord): StepRecord {
  const extendsBefore = counter.extendCalls;
  const drainsBefore = counter.drainCalls;
  const record = body();
  record.extendCalls = counter.extendCalls - extendsBefore;
  record.drainCalls = counter.drainCalls - drainsBefore;
  return record;
}

