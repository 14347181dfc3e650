import type { TraceOp } from './trace.js';
import type { TrackedQueue } from './tracked_queue.js';

/** What one step of an actor did; the run turns it into a `TraceStep` and checks the touched queues. */
export interface StepRecord {
  op: TraceOp;
  queue?: string;
  bytes?: number;
  chunks?: number;
  detail?: string;
  /** Queues whose state the step changed, to check and summarize. */
  touched: TrackedQueue[];
  /** Queue operations the step made when not exactly the one its op names (a worker's receive step drains several). */
  extendCalls?: number;
  drainCalls?: number;
  /** The actor asks to park (its token may make the park return at once). */
  park?: boolean;
  finish?: boolean;
  /** The step moved data or shut something down (the liveness phase's progress measure). */
  progress: boolean;
}

/** A simulated thread. Each call of `step` performs exactly one queue operation (or one park/finish). */
export interface Actor {
  readonly name: string;
  /** Reader ends this actor drains, for the no-stall check while it is parked. */
  readonly sources: readonly TrackedQueue[];
  /** True while the actor still has data of its own to write (a writer's plan). */
  readonly producing: boolean;
  /** Deliverable input the actor would act on if it were awake, other than its queues (e.g. an arrived packet). */
  pendingInput(nowTicks: number): string | undefined;
  step(nowTicks: number): StepRecord;
  /**
   * The actor's thread panicked (its step threw a panic, or observed `E_POISONED` after one):
   * drop every queue handle it still holds, as Rust drops them while unwinding, and stop
   * producing. Returns a note for the trace. Actors without it cannot model a panic.
   */
  unwind?(): string;
}
