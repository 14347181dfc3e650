/**
 * The shape of a simulation run and its trace, shared by the simulator (which writes it), the
 * property suites and fixtures (which replay into it), `spillsim report` (which draws it) and
 * campaigns (which merge it). Everything here is plain JSON.
 */

/** Per-queue picture after a step, for plots and the readable trace. */
export interface QueueSummary {
  /** Bytes held in `bytes` entries. */
  residentBytes: number;
  /** Bytes held in storage behind `paged` entries. */
  pagedBytes: number;
  /** Bytes written but not yet delivered to the consumer (resident + paged + in transit). */
  inFlightBytes: number;
  entries: number;
  pagedEntries: number;
}

/** What kind of thing a step did; the report draws markers from these. */
export type TraceOp =
  | 'extend'
  | 'drain'
  | 'spill'
  | 'partial-spill'
  | 'fetch'
  | 'fetch-failed'
  | 'buzz'
  | 'park'
  | 'wake'
  | 'send'
  | 'receive'
  | 'drop'
  | 'fault'
  | 'finish'
  | 'stall'
  | 'note';

export interface TraceStep {
  /** 0-based step number. */
  step: number;
  /** Virtual time (ticks) when the step ran. */
  timeTicks: number;
  /** Which actor ran it, e.g. `writer`, `reader`, `send[0]`, `worker[1]`. */
  actor: string;
  op: TraceOp;
  /** Which queue it touched, e.g. `q0` or `0->1`. */
  queue?: string;
  /** Bytes moved by the step (pushed, drained, spilled, fetched). */
  bytes?: number;
  /** Chunks moved by the step. */
  chunks?: number;
  /** One human sentence of what happened, e.g. `spill stopped after 2 of 5 chunks (no space)`. */
  detail?: string;
  /**
   * Other things the step did besides `op` (a drain that also fetched, an extend whose policy
   * spilled), so the report can mark them too. Optional: most steps do one thing.
   */
  alsoOps?: TraceOp[];
  /** The injected fault, if the step hit one. */
  fault?: string;
  /** Buzzes issued during the step. */
  buzzes?: number;
  /** State of the touched queues after the step, keyed by queue name. */
  queues?: Record<string, QueueSummary>;
  /** The chained hash after this step (hex). */
  hash?: string;
}

export interface Violation {
  /** Stable invariant id, e.g. `no-loss`, `no-stall`, `resident-bound`. */
  invariant: string;
  /** One sentence a person can read. */
  message: string;
  /** The step at which it broke. */
  step: number;
}

/** One simulation run, as `spillsim sim --json` prints it and `spillsim report` reads it. */
export interface SimRunResult {
  seed: number;
  ok: boolean;
  traceHash: string;
  steps: number;
  violation?: Violation;
  /** How to run it again. */
  replay?: string;
  /** The policy knobs, for the plot's threshold and reserve lines. */
  knobs?: { thresholdBytes?: number; headReserveBytes?: number; prefetchBudgetBytes?: number };
  /** The whole trace, when asked for (`--trace`, `--report`, or on failure). */
  trace?: TraceStep[];
  [extra: string]: unknown;
}
