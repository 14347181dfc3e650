import type fc from 'fast-check';
import type { BytesSpill } from '../src/spill.js';
import type { CommandData } from './command_data.js';
import type { QueueSystem, RunOptions, SystemSpec } from './queue_system.js';
import type { RunOutcome } from './run_outcome.js';
import type { RuleId, Violation } from './violation.js';

/** What a variant needs to build its systems: the user's storage, when one is plugged in. */
export interface BuildContext {
  /** A fresh inner backend per system (`--backend`); the in-memory store when absent. */
  makeInner?: () => BytesSpill | Promise<BytesSpill>;
}

/** One way to put a suite's systems together: the default, a reference behaviour, or a deliberate bug. */
export interface Variant {
  description: string;
  /** Model suites: the systems run side by side on the same commands (one, or several to compare). */
  systems?: (options: RunOptions) => SystemSpec[];
}

/** One enumerated case of an exhaustive suite: its index is the replay `--path`. */
export interface EnumeratedCase {
  label: string;
  options: RunOptions;
  commands: CommandData[];
}

interface SuiteBase {
  name: string;
  /** One line for `--help`, the table and the README. */
  description: string;
  /** `default` plus named `broken-*` and `reference-*` variants. */
  variants: Record<string, Variant>;
  /** Rules checked on every system after every command (`order` and `no-stall` are always checked on drains). */
  rules: RuleId[];
  /** Compare the systems after each command and at the end (differential, transparency). */
  compare?: (systems: QueueSystem[], atEnd: boolean) => Omit<Violation, 'step'> | undefined;
}

/** Sampled: fast-check generates options and command lists, and shrinks failures. */
export interface ModelSuite extends SuiteBase {
  kind: 'model';
  optionsArb: fc.Arbitrary<RunOptions>;
  commandArbs: fc.Arbitrary<CommandData>[];
  commandsMax: number;
}

/** Not sampled: every case is enumerated and run. */
export interface EnumeratedSuite extends SuiteBase {
  kind: 'enumerated';
  cases: (variant: string) => EnumeratedCase[];
}

/**
 * Sampled: fast-check generates one plain-JSON input per run (a simulation seed, a mesh and its
 * messages) and shrinks it; no command list.
 */
export interface SampledSuite extends SuiteBase {
  kind: 'sampled';
  inputArb: fc.Arbitrary<unknown>;
  /** Runs when nobody says: these runs cost more than a command list. */
  runsDefault: number;
  run: (input: unknown, variant: string, context: BuildContext) => Promise<RunOutcome>;
  /**
   * Whether `run` puts `context.makeInner` (the user's backend) under its queues. A suite that
   * builds its own storage (the simulator's, a scripted store) says a verdict about the queue,
   * not about a backend, so `validate` and `describeBackend` leave it out.
   */
  usesBackend: boolean;
  /** Check a stored input; the reason when it no longer applies. */
  parseInput: (value: unknown) => { ok: true; input: unknown } | { ok: false; reason: string };
}

export type Suite = ModelSuite | EnumeratedSuite | SampledSuite;
