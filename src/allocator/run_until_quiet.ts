import { checkOptionalFunction, checkOptions } from '../arguments.js';
import { SpillsimError } from '../errors.js';
import type { Allocator } from './allocator.js';
import type { Message } from './message.js';
import type { NetworkStepResult } from './network_step.js';
import type { SimulatedNetwork } from './simulated_network.js';

export interface RunUntilQuietOptions {
  /** Called with each non-empty batch a worker's receive step returns. */
  onReceive?: (allocator: Allocator, messages: Message[]) => void;
  /** Bound on rounds; hitting it throws, since a run that never quiets is a bug. Default 1 000 000. */
  roundsMax?: number;
}

export interface RunUntilQuietResult {
  /** Rounds stepped, the last (quiet) one included. */
  readonly rounds: number;
}

/** What `runUntilQuiet` steps: a `Communication`, or any part of one. */
export interface Steppable {
  readonly allocators: readonly Allocator[];
  readonly network: SimulatedNetwork | undefined;
}

/**
 * The simplest driver of the step functions, for tests and examples: round after round, each
 * live worker (index order) flushes and runs its receive step, then each process's send loop
 * and receive loop (process order) takes one step; stop after a round in which nothing moved.
 *
 * Quiet is not complete: a queue stuck behind a failing fetch is quiet too. Check
 * `Allocator.isComplete()` or `network.isDone` afterwards. The simulator replaces this with
 * its seeded scheduler.
 */
/** Step `loop` once: did it move bytes or shut down just now? */
function stepMoved(loop: { readonly isDone: boolean; step(): NetworkStepResult }): boolean {
  const wasDone = loop.isDone;
  const result = loop.step();
  return result.status === 'progress' || (result.status === 'done' && !wasDone);
}

export function runUntilQuiet(communication: Steppable, given?: RunUntilQuietOptions): RunUntilQuietResult {
  const options = checkOptions('runUntilQuiet', given, ['onReceive', 'roundsMax'], '{ roundsMax: 1000 }');
  checkOptionalFunction('runUntilQuiet option onReceive', options.onReceive);
  const roundsMax = options.roundsMax ?? 1_000_000;
  if (!Number.isSafeInteger(roundsMax) || roundsMax < 1) {
    throw new SpillsimError('E_BAD_ARGUMENT', `roundsMax must be a positive whole number, got ${String(options.roundsMax)}`);
  }
  const network = communication.network;
  for (let round = 1; round <= roundsMax; round += 1) {
    let moved = false;
    for (const allocator of communication.allocators) {
      if (allocator.isDropped) continue;
      if (allocator.flush() > 0) moved = true;
      const messages = allocator.receive();
      if (messages.length > 0) {
        moved = true;
        options.onReceive?.(allocator, messages);
      }
    }
    for (let p = 0; network !== undefined && p < network.processes; p += 1) {
      if (stepMoved(network.sendLoop(p))) moved = true;
      if (stepMoved(network.recvLoop(p))) moved = true;
    }
    if (!moved) return { rounds: round };
  }
  throw new SpillsimError('E_BAD_ARGUMENT', `runUntilQuiet was still moving after ${roundsMax} rounds; raise roundsMax or look for a livelock`);
}
