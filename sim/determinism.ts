import type { SimOptions } from './options.js';
import { runSimulation } from './run.js';
import type { SimRunResult, TraceStep } from './trace.js';

/** Two runs of one seed compared step by step. */
export interface DeterminismReport {
  seed: number;
  deterministic: boolean;
  first: SimRunResult;
  second: SimRunResult;
  /** The first step whose hash differs (or that only one run has); undefined when they agree. */
  splitStep: number | undefined;
  /** The two versions of that step (either may be missing when one run is shorter). */
  splitFirst: TraceStep | undefined;
  splitSecond: TraceStep | undefined;
}

/**
 * Run `options` twice with full traces and name the first step where the two runs split. A
 * split means something outside the seed (wall clock, `Math.random`, iteration order of a
 * shared structure) leaked into the run.
 */
export function checkDeterminism(options: SimOptions): DeterminismReport {
  const first = runSimulation({ ...options, recordTrace: 'full' });
  const second = runSimulation({ ...options, recordTrace: 'full' });
  const a = first.trace ?? [];
  const b = second.trace ?? [];
  let splitStep: number | undefined;
  const length = Math.max(a.length, b.length);
  for (let i = 0; i < length; i += 1) {
    if (a[i]?.hash !== b[i]?.hash || a[i] === undefined || b[i] === undefined) {
      splitStep = a[i]?.step ?? b[i]?.step ?? i;
      break;
    }
  }
  if (splitStep === undefined && first.traceHash !== second.traceHash) splitStep = length;
  return {
    seed: options.seed,
    deterministic: splitStep === undefined,
    first,
    second,
    splitStep,
    splitFirst: splitStep === undefined ? undefined : a.find((s) => s.step === splitStep),
    splitSecond: splitStep === undefined ? undefined : b.find((s) => s.step === splitStep),
  };
}
