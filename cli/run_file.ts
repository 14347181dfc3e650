import type { SimRunResult } from '../sim/trace.js';

/**
 * Run results (`spillsim sim --json`) checked as data before `merge` counts them or `report`
 * draws them: the one-line reason for the first field that is wrong, or undefined. Both
 * commands read the same shape, so they accept and refuse the same files.
 */

/** Most steps a run's trace may hold; a run stops at `--steps-max` (default 200,000). */
export const RUN_TRACE_STEPS_MAX = 10_000_000;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const isWhole = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
const isBytes = (x: unknown): boolean => typeof x === 'number' && Number.isFinite(x) && x >= 0;

function shown(value: unknown): string {
  return JSON.stringify(value)?.slice(0, 40) ?? 'nothing';
}

/** Has the three fields that make a value a run rather than something else (a fixture, a note). */
export function looksLikeRun(value: unknown): boolean {
  return isRecord(value) && 'seed' in value && 'ok' in value && 'traceHash' in value;
}

/** Why `value` is not a run result as `spillsim sim --json` prints it, or undefined when it is one. */
export function runProblem(value: unknown): string | undefined {
  if (!isRecord(value)) return `not a run result (spillsim sim --json prints one object per line), got ${shown(value)}`;
  if (!isWhole(value.seed)) return `seed must be a whole number, 0 or more, got ${shown(value.seed)}`;
  if (typeof value.ok !== 'boolean') return `ok must be true or false, got ${shown(value.ok)}`;
  if (typeof value.traceHash !== 'string') return `traceHash must be a string, got ${shown(value.traceHash)}`;
  if (value.steps !== undefined && !isWhole(value.steps)) return `steps must be a whole number, got ${shown(value.steps)}`;
  if (value.replay !== undefined && typeof value.replay !== 'string') return `replay must be a string, got ${shown(value.replay)}`;
  if (value.violation !== undefined) {
    const problem = violationProblem(value.violation);
    if (problem !== undefined) return problem;
  }
  if (value.knobs !== undefined) {
    if (!isRecord(value.knobs)) return `knobs must be an object, got ${shown(value.knobs)}`;
    for (const [key, knob] of Object.entries(value.knobs)) {
      if (knob !== undefined && knob !== null && !isBytes(knob) && typeof knob !== 'string') return `knobs.${key} must be a number, got ${shown(knob)}`;
    }
  }
  if (value.trace !== undefined) return traceProblem(value.trace);
  return undefined;
}

/** Why `violation` is not what the simulator reports when an invariant breaks, or undefined. */
export function violationProblem(v: unknown): string | undefined {
  if (!isRecord(v) || typeof v.invariant !== 'string' || typeof v.message !== 'string' || !isWhole(v.step)) {
    return `violation must be { invariant, message, step }, got ${shown(v)}`;
  }
  return undefined;
}

/** Why `trace` is not a list of simulator steps, or undefined. */
export function traceProblem(trace: unknown): string | undefined {
  if (!Array.isArray(trace)) return `trace must be a list of steps, got ${shown(trace)}`;
  if (trace.length > RUN_TRACE_STEPS_MAX) return `trace has ${trace.length} steps, more than ${RUN_TRACE_STEPS_MAX}`;
  for (let index = 0; index < trace.length; index += 1) {
    const problem = stepProblem(trace[index]);
    if (problem !== undefined) return `trace item ${index} is not a step: ${problem}`;
  }
  return undefined;
}

function stepProblem(step: unknown): string | undefined {
  if (!isRecord(step)) return `got ${shown(step)}`;
  if (typeof step.step !== 'number' || typeof step.timeTicks !== 'number' || typeof step.op !== 'string' || typeof step.actor !== 'string') {
    return 'needs step, timeTicks, actor, op';
  }
  for (const key of ['bytes', 'chunks', 'buzzes'] as const) {
    if (step[key] !== undefined && !isBytes(step[key])) return `${key} must be a number, 0 or more, got ${shown(step[key])}`;
  }
  for (const key of ['queue', 'detail', 'fault', 'hash'] as const) {
    if (step[key] !== undefined && typeof step[key] !== 'string') return `${key} must be a string, got ${shown(step[key])}`;
  }
  if (step.alsoOps !== undefined && !(Array.isArray(step.alsoOps) && step.alsoOps.every((op) => typeof op === 'string'))) return 'alsoOps must be a list of op names';
  if (step.queues !== undefined) {
    if (!isRecord(step.queues)) return `queues must be an object, got ${shown(step.queues)}`;
    for (const [name, summary] of Object.entries(step.queues)) {
      if (!isRecord(summary)) return `queues.${name} must be an object`;
      for (const key of ['residentBytes', 'pagedBytes', 'inFlightBytes', 'entries', 'pagedEntries'] as const) {
        if (summary[key] !== undefined && !isBytes(summary[key])) return `queues.${name}.${key} must be a number, 0 or more, got ${shown(summary[key])}`;
      }
    }
  }
  return undefined;
}

/** `value` as a run result, or the reason it is not one, prefixed by where it came from. */
export function checkRun(value: unknown, where: string): { ok: true; run: SimRunResult } | { ok: false; reason: string } {
  const problem = runProblem(value);
  return problem === undefined ? { ok: true, run: value as SimRunResult } : { ok: false, reason: `${where} is not a run result: ${problem}` };
}
