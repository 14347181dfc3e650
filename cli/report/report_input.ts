import { readFileSync } from 'node:fs';
import type { SimRunResult, TraceStep, Violation } from '../../sim/trace.js';
import { UsageError } from '../usage_error.js';
import { parseFixtureTrace } from './fixture_trace.js';

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

/** Largest input file the report reads; a bigger one is almost surely not a run or fixture. */
const INPUT_BYTES_MAX = 512 * 1024 * 1024;

/** Read and classify a run.json (one run, an array of runs, or JSON lines) or a fixture.json. */
export function loadReportSource(filePath: string): ReportSource {
  let text: string;
  try {
    text = readFileSync(filePath, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UsageError(`cannot read ${filePath}: no such file`);
    if (code === 'EISDIR') throw new UsageError(`cannot read ${filePath}: it is a directory, give a run.json or fixture.json`);
    throw new UsageError(`cannot read ${filePath}: ${code ?? String(error)}`);
  }
  if (text.length > INPUT_BYTES_MAX) throw new UsageError(`${filePath} is larger than 512 MiB; give one run or one fixture`);
  return classifyReportSource(parseJsonOrLines(text, filePath), filePath);
}

/** Whole-file JSON first; else JSON lines (what `spillsim sim --seeds A..B --json` prints). */
export function parseJsonOrLines(text: string, name: string): unknown {
  if (text.trim().length === 0) throw new UsageError(`${name} is empty; give a run.json (spillsim sim --json) or a fixture.json`);
  try {
    return JSON.parse(text);
  } catch (wholeError) {
    const lines = text.split('\n').filter((line) => line.trim().length > 0);
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
    const runs = value.filter(isRunResult);
    if (runs.length === 0) throw new UsageError(`${name} holds a list, but none of its items is a run (spillsim sim --json)`);
    // A failing run is what people want to see; one that carries its trace can actually be drawn.
    const hasTrace = (run: SimRunResult): boolean => Array.isArray(run.trace) && run.trace.length > 0;
    const chosen = runs.find((run) => !run.ok && hasTrace(run)) ?? runs.find((run) => !run.ok) ?? runs.find(hasTrace) ?? runs[0];
    return checkedRun(chosen as SimRunResult, name);
  }
  if (isRunResult(value)) return checkedRun(value, name);
  if (isFixture(value)) return checkedFixture(value, name);
  throw new UsageError(`${name} is neither a run (spillsim sim --json: seed, ok, traceHash) nor a failure fixture (property, commands)`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isRunResult(value: unknown): value is SimRunResult {
  return isRecord(value) && typeof value.seed === 'number' && typeof value.ok === 'boolean' && typeof value.traceHash === 'string';
}

function isFixture(value: unknown): value is FixtureInput {
  return isRecord(value) && typeof value.property === 'string' && (Array.isArray(value.commands) || Array.isArray(value.trace));
}

function checkedRun(run: SimRunResult, name: string): ReportSource {
  if (!Array.isArray(run.trace) || run.trace.length === 0) {
    throw new UsageError(`${name}: run of seed ${run.seed} has no trace; ask spillsim sim for one (--trace or --report)`);
  }
  checkTrace(run.trace, name);
  return { kind: 'run', run, name };
}

function checkedFixture(fixture: FixtureInput, name: string): ReportSource {
  const trace: unknown[] = fixture.trace ?? [];
  if (trace.every((line) => typeof line === 'string')) return { kind: 'fixture', fixture, steps: parseFixtureTrace(trace as string[]), name };
  checkTrace(trace, name);
  return { kind: 'fixture', fixture, steps: trace, name };
}

/** A corrupt step would draw a wrong plot; refuse it with the step's position instead. */
function checkTrace(trace: unknown, name: string): asserts trace is TraceStep[] {
  if (!Array.isArray(trace)) throw new UsageError(`${name}: trace is not a list of steps`);
  trace.forEach((step: unknown, index) => {
    if (!isRecord(step) || typeof step.step !== 'number' || typeof step.timeTicks !== 'number' || typeof step.op !== 'string' || typeof step.actor !== 'string') {
      throw new UsageError(`${name}: trace item ${index} is not a step (needs step, timeTicks, actor, op)`);
    }
  });
}
