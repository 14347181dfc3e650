/**
 * What the parent and a conformance worker say to each other. A job names a module and the
 * units (clauses) to run; the worker answers unit by unit, so the parent always knows which
 * unit a hang belongs to and can restart a fresh worker at the next one.
 */
export type WorkerJob =
  | ({ kind: 'backend-clauses'; example?: unknown } & JobBase)
  | ({ kind: 'policy-clauses' } & JobBase)
  | ({ kind: 'differential' } & JobBase)
  | ({ kind: 'suites'; runs: number; replayCases?: Record<string, { seed: number; path: string }> } & JobBase)
  /** `spillsim check --backend`: one unit per suite, run by checkSuites with the module as storage. */
  | ({ kind: 'check'; check: IsolatedCheckOptions } & JobBase)
  /** `spillsim replay --backend` (or a fixture saved over a backend): one unit, `replay`. */
  | ({ kind: 'replay'; replay: IsolatedReplayRequest } & JobBase);

/** What `check` passes to the worker: its options, without the callbacks and the storage factory. */
export interface IsolatedCheckOptions {
  seed: number;
  runs?: number;
  variant?: string;
  timeLimitMs?: number;
  exampleDb?: boolean;
  saveFailuresDir?: string;
}

/** A replay from a failure's seed and path, or of a saved fixture. */
export type IsolatedReplayRequest =
  | { mode: 'seed'; property: string; seed: number; path: string; variant?: string }
  | { mode: 'fixture'; name: string; value: unknown; variant?: string };

/**
 * What every job says. `timeoutMs` is how long a unit may go without progress (a backend call
 * returning) before it counts as stuck; `unitCapMs`, when set, is how long a unit may take in
 * all, however steadily it answers.
 */
export interface JobBase {
  module: string;
  units: string[];
  seed: number;
  timeoutMs: number;
  unitCapMs?: number;
}

export type WorkerMessage =
  | { type: 'loaded' }
  | { type: 'load-error'; message: string }
  | { type: 'start'; unit: string }
  | { type: 'factory'; waiting: boolean }
  /** The worker called (true) or got an answer from (false) the module's `dispose`, after `calls` backend calls in this unit: a hang there is named. */
  | { type: 'dispose'; waiting: boolean; calls: number }
  | { type: 'dir'; path: string }
  | { type: 'child'; pid: number; alive: boolean }
  /** The backend answered another call: it is slow, not stuck. `calls` counts this unit's calls. */
  | { type: 'progress'; calls: number }
  /** The backend wrote more than the worker lets it to stdout/stderr during this unit. */
  | { type: 'flood'; bytes: number }
  | { type: 'result'; unit: string; result: unknown }
  | { type: 'done' };

/** The environment variable a child process host (units run in a process of their own) reads its job from. */
export const PROCESS_HOST_DATA_ENV = 'SPILLSIM_CONFORMANCE_JOB';
