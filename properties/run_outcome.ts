import type { Violation } from './violation.js';

/** One numbered line of a readable trace: the command, what storage did, the state after. */
export interface TraceEntry {
  step: number;
  command: string;
  events: string[];
  state: string;
}

export interface RunOutcome {
  violation?: Violation;
  trace: TraceEntry[];
}
