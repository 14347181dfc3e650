import { backendArgument } from '../process_backend/exec_specifier.js';
import type { Capability } from './backend_module.js';

/** How much a clause binds: `required` always applies; `optional` needs a declared capability; `stochastic` draws its cases from the seed. */
export type ClauseLevel = 'required' | 'optional' | 'stochastic';

export type VerdictStatus = 'held' | 'broken' | 'not-applicable' | 'timeout';

/** The outcome of one clause against one backend (plain JSON: it crosses the worker boundary). */
export interface ClauseVerdict {
  id: string;
  level: ClauseLevel;
  status: VerdictStatus;
  /** What the clause asks of a backend, one sentence. */
  title: string;
  /** Broken: the counterexample; not applicable / timeout: why. */
  detail?: string;
  /** Parameters that reproduce a broken stochastic case exactly (the shrunk counterexample). */
  example?: unknown;
  /** The replay command, when it is not `spillsim validate … --clause ID` (a property suite's own). */
  replay?: string;
  /** A broken property suite: the seed and path of its shrunk case, to replay it in a fresh worker. */
  suiteCase?: { seed: number; path: string };
  /** Broken, but a fresh worker with a fresh module instance did not fail again: said in `detail`. */
  reproduced?: boolean;
  /**
   * Not applicable only because the run's time budget (`--budget-ms`) was spent before this
   * clause ran: it was not judged, so the run fails (exit 1, not validated). Property suites
   * the budget leaves unrun are reported, without this mark.
   */
  budgetSpent?: boolean;
}

/**
 * A clause of the contract the run's time budget left unjudged, whatever its level: an optional
 * or stochastic clause may apply as much as a required one (and `determinism.no-hidden-state`
 * rests on the others), so the backend was not validated.
 */
export function unjudged(v: ClauseVerdict): boolean {
  return v.budgetSpent === true;
}

/** The verdict of a clause the run's time budget left unrun (`detail` says so). */
export function skippedByBudget(clause: Pick<ClauseVerdict, 'id' | 'level' | 'title'>, detail: string): ClauseVerdict {
  return { id: clause.id, level: clause.level, title: clause.title, status: 'not-applicable', detail, budgetSpent: true };
}

/** Thrown inside a clause: the backend broke it; the message is the counterexample. */
export class ClauseBroken extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ClauseBroken';
  }
}

/** Thrown inside a clause: it does not apply to this backend; the message says why. */
export class ClauseNotApplicable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ClauseNotApplicable';
  }
}

/**
 * Thrown inside a clause: the backend did not answer in time and was stopped (a child process
 * killed by its own time limit). A `ClauseBroken` so guarded calls pass it on unchanged; the
 * verdict is `timeout`.
 */
export class ClauseTimedOut extends ClauseBroken {
  constructor(message: string) {
    super(message);
    this.name = 'ClauseTimedOut';
  }
}

/** Thrown inside a stochastic clause: broken, with the shrunk case that shows it. */
export class ClauseBrokenWithExample extends ClauseBroken {
  readonly example: unknown;
  constructor(message: string, example: unknown) {
    super(message);
    this.example = example;
  }
}

export interface ClauseSpec<Lab> {
  id: string;
  level: ClauseLevel;
  title: string;
  /** The capability an `optional` clause needs; without it the clause is not applicable. */
  requires?: Capability;
  /**
   * The clause counts what the whole process holds (its open descriptors): it runs in a child
   * process of its own, so the lanes of a run working beside it in threads cannot disturb it.
   */
  ownProcess?: boolean;
  /** Why the clause does not apply to a module declaring `supports`, known before running it. */
  notApplicable?(supports: Partial<Record<Capability, boolean>>): string | undefined;
  /** Returns normally when the clause held; throws `ClauseBroken` / `ClauseNotApplicable` otherwise. */
  check(lab: Lab, options: ClauseCheckOptions): Promise<void>;
}

export interface ClauseCheckOptions {
  seed: number;
  /** A recorded counterexample to replay instead of searching (stochastic clauses). */
  example?: unknown;
}

/** The replay command a report prints for a broken clause (`--exec '…'` for a child process backend). */
export function replayCommand(moduleSpecifier: string, clauseId: string, seed: number): string {
  return `spillsim validate ${backendArgument(moduleSpecifier)} --clause ${clauseId} --seed ${seed}`;
}

/** The command that repeats a whole run (every clause and suite) of `validate` at `seed`. */
export function wholeRunCommand(moduleSpecifier: string, seed: number): string {
  return `spillsim validate ${backendArgument(moduleSpecifier)} --seed ${seed}`;
}

/** The clause that a failure which does not reproduce in a fresh instance breaks. */
export const NO_HIDDEN_STATE_ID = 'determinism.no-hidden-state';
