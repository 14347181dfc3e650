/**
 * What the parent and a conformance worker say to each other. A job names a module and the
 * units (clauses) to run; the worker answers unit by unit, so the parent always knows which
 * unit a hang belongs to and can restart a fresh worker at the next one.
 */
export type WorkerJob =
  | { kind: 'backend-clauses'; module: string; units: string[]; seed: number; timeoutMs: number; example?: unknown }
  | { kind: 'policy-clauses'; module: string; units: string[]; seed: number; timeoutMs: number }
  | { kind: 'differential'; module: string; units: string[]; seed: number; timeoutMs: number }
  | { kind: 'suites'; module: string; units: string[]; seed: number; timeoutMs: number; runs: number };

export type WorkerMessage =
  | { type: 'loaded' }
  | { type: 'load-error'; message: string }
  | { type: 'start'; unit: string }
  | { type: 'factory'; waiting: boolean }
  | { type: 'dir'; path: string }
  | { type: 'child'; pid: number; alive: boolean }
  | { type: 'result'; unit: string; result: unknown }
  | { type: 'done' };
