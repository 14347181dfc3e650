import type { SimRunResult, TraceStep, Violation } from '../../sim/trace.js';
import { UsageError } from '../usage_error.js';
import { parseFixtureTrace } from './fixture_trace.js';
import { fixtureProblem } from '../../properties/fixture.js';
import { readTextFile, stripByteOrderMark } from '../../properties/json_file.js';
import { looksLikeRun, runProblem, traceProblem, violationProblem } from '../run_file.js';

/**
 * A failure fixture as the property suites write it (`fixtures/failures/*.json`), read
 * loosely: the report draws whatever of these fields the fixture holds and ignores the rest,
 * so a fixture written by an older or newer spillsim still renders.
 */
export interface FixtureInput {
  property?: string;
  variant?: string;
  seed?: number;
  path?: string;
  /** The shrunk commands, as stored (strings or objects); shown as the trace when there is no trace. */
  commands?: unknown[];
  /** What broke, as `properties/fixture.ts` stores it: the rule, a sentence, the 1-based command number. */
  broke?: { rule: string; message: string; step: number };
  /** What broke, in the simulator's words, or just a sentence. */
  violation?: Violation | string;
  /** The shrunk trace: the numbered text lines the property suites print, or simulator steps. */
  trace?: string[] | TraceStep[];
  /** The run's knobs as the property suites store them. */
  options?: { thresholdBytes?: number; headReserveBytes?: number; budgetBytes?: number; queues?: number };
  knobs?: SimRunResult['knobs'];
  replay?: string;
}

/** What a report is drawn from: one simulation run, or one failure fixture with its steps. */
export type ReportSource =
  | { kind: 'run'; run: SimRunResult; name: string }
  | { kind: 'fixture'; fixture: FixtureInput; steps: TraceStep[]; name: string };

/** Read and classify a run.json (one run, an array of runs, or JSON lines) or a fixture.json. */
export function loadReportSource(filePath: string): ReportSource {
  return classifyReportSource(parseJsonOrLines(readTextFile(filePath), filePath), filePath);
}

/** Whole-file JSON first; else JSON lines (what `spillsim sim --seeds A..B --json` prints). */
export function parseJsonOrLines(text: string, name: string): unknown {
  if (text.trim().length === 0) throw new UsageError(`${name} is empty; give a run.json (spillsim sim --json) or a fixture.json`);
  try {
    return JSON.parse(stripByteOrderMark(text));
  } catch (wholeError) {
    const lines = stripByteOrderMark(text).split('\n').filter((line) => line.trim().length > 0);
    if (lines.length < 2) throw new UsageError(`${name} is not valid JSON: ${(wholeError as Error).message}`);
    return lines.map((line, index) => {
      try {
        return JSON.parse(line) as unknown;
      } catch (lineError) {
        throw new UsageError(`${name} line ${index + 1} is not valid JSON: ${(lineError as Error).message}`);
      }
    });
  }
}

/** Decide what a parsed value is; several runs → the first failing one (with a trace, if any has one), else the first. */
export function classifyReportSource(value: unknown, name: string): ReportSource {
  if (Array.isArray(value)) {
    const candidates = value.filter(looksLikeRun);
    if (candidates.length === 0) throw new UsageError(`${name} holds a list, but none of its items is a run (spillsim sim --json)`);
    const runs = candidates.map((run, index) => checkedRunData(run, `${name} run ${index + 1}`));
    // A failing run is what people want to see; one that carries its trace can actually be drawn.
    const hasTrace = (run: SimRunResult): boolean => Array.isArray(run.trace) && run.trace.length > 0;
    const chosen = runs.find((run) => !run.ok && hasTrace(run)) ?? runs.find((run) => !run.ok) ?? runs.find(hasTrace) ?? runs[0];
    return checkedRun(chosen!, name);
  }
  if (looksLikeRun(value)) return checkedRun(checkedRunData(value, name), name);
  if (isFixture(value)) return checkedFixture(value, name);
  throw new UsageError(`${name} is neither a run (spillsim sim --json: seed, ok, traceHash) nor a failure fixture (property, commands)`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isFixture(value: unknown): value is FixtureInput {
  return isRecord(value) && typeof value.property === 'string' && ('commands' in value || 'trace' in value);
}

/** A run, checked field by field, or a one-line reason. */
function checkedRunData(value: unknown, name: string): SimRunResult {
  const problem = runProblem(value);
  if (problem !== undefined) throw new UsageError(`${name} is not a valid run: ${problem}`);
  return value as SimRunResult;
}

function checkedRun(run: SimRunResult, name: string): ReportSource {
  if (!Array.isArray(run.trace) || run.trace.length === 0) {
    throw new UsageError(`${name}: run of seed ${run.seed} has no trace; ask spillsim sim for one (--trace or --report)`);
  }
  return { kind: 'run', run, name };
}

function checkedFixture(fixture: FixtureInput, name: string): ReportSource {
  // Read loosely (absent fields are fine, see FixtureInput), but a field that is there must be right.
  const problem = fixtureProblem(fixture, { loose: true });
  if (problem !== undefined) throw new UsageError(`${name} is not a valid fixture: ${problem}`);
  if (fixture.commands !== undefined && !Array.isArray(fixture.commands)) throw new UsageError(`${name} is not a valid fixture: commands must be a list`);
  if (fixture.violation !== undefined && typeof fixture.violation !== 'string') {
    const violation = violationProblem(fixture.violation);
    if (violation !== undefined) throw new UsageError(`${name} is not a valid fixture: ${violation}`);
  }
  const trace: unknown[] = fixture.trace ?? [];
  if (trace.every((line) => typeof line === 'string')) return { kind: 'fixture', fixture, steps: parseFixtureTrace(trace as string[]), name };
  const problemInTrace = traceProblem(trace);
  if (problemInTrace !== undefined) throw new UsageError(`${name}: ${problemInTrace}`);
  return { kind: 'fixture', fixture, steps: trace as TraceStep[], name };
}
