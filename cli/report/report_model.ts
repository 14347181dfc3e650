import type { SimRunResult, TraceOp, TraceStep, Violation } from '../../sim/trace.js';
import type { FixtureInput, ReportSource } from './report_input.js';

/** The events the plot marks, one lane each, in the order the lanes are drawn. */
export const MARKER_KINDS = ['spill', 'partial-spill', 'fetch-failed', 'buzz', 'park', 'stall'] as const;
export type MarkerKind = (typeof MARKER_KINDS)[number];

export interface SeriesPoint {
  x: number;
  bytes: number;
}

/** Resident, paged and in-flight bytes of one queue over the plot's x axis. */
export interface QueueSeries {
  queue: string;
  residentBytes: SeriesPoint[];
  pagedBytes: SeriesPoint[];
  inFlightBytes: SeriesPoint[];
  /** The largest value any of the three reaches, for the panel's scale. */
  peakBytes: number;
}

export interface Marker {
  kind: MarkerKind;
  step: number;
  x: number;
  /** Tooltip text: what the step did. */
  label: string;
}

/** Everything the page shows, computed once from the input; rendering only lays it out. */
export interface ReportModel {
  title: string;
  /** Rows of the summary box: label and value. */
  summary: Array<[string, string]>;
  violation?: Violation;
  steps: TraceStep[];
  /** What the x axis measures: simulated ticks, or the step number when the trace has no time. */
  xAxis: 'timeTicks' | 'step';
  /** The x range drawn: from the first step to a little past the last, so the last step's state has width. */
  xRange: { min: number; max: number };
  series: QueueSeries[];
  /** Queues left out of the plot because there are too many to read. */
  queuesNotPlotted: number;
  markers: Marker[];
  thresholdBytes?: number;
  headReserveBytes?: number;
  /** Why the plot is empty, when it is (e.g. a fixture that stores commands but no trace). */
  plotNote?: string;
}

/** More panels than this and nobody reads them; the busiest queues are shown. */
export const PLOTTED_QUEUES_MAX = 8;
/** Points per series kept for drawing; more only adds pixels nobody can tell apart. */
export const SERIES_POINTS_MAX = 2000;

export function buildReportModel(source: ReportSource): ReportModel {
  return source.kind === 'run' ? runModel(source.run, source.name) : fixtureModel(source.fixture, source.steps, source.name);
}

function runModel(run: SimRunResult, name: string): ReportModel {
  const steps = run.trace ?? [];
  const summary: Array<[string, string]> = [
    ['input', name],
    ['seed', String(run.seed)],
    ['result', run.ok ? 'all invariants held' : 'an invariant broke'],
    ['steps', String(run.steps)],
    ['trace hash', run.traceHash],
  ];
  if (run.replay) summary.push(['replay', run.replay]);
  return withPlot({
    title: `spillsim run, seed ${run.seed}`,
    summary,
    violation: run.violation,
    steps,
    knobs: run.knobs,
  });
}

function fixtureModel(fixture: FixtureInput, parsedSteps: TraceStep[], name: string): ReportModel {
  const violation = fixtureViolation(fixture);
  const steps = parsedSteps.length > 0 ? parsedSteps : commandSteps(fixture.commands ?? []);
  const summary: Array<[string, string]> = [
    ['input', name],
    ['property', fixture.property ?? '?'],
  ];
  if (fixture.variant !== undefined) summary.push(['variant', fixture.variant]);
  if (fixture.seed !== undefined) summary.push(['seed', String(fixture.seed)]);
  if (fixture.path !== undefined) summary.push(['path', String(fixture.path)]);
  if (fixture.commands) summary.push(['shrunk commands', String(fixture.commands.length)]);
  if (fixture.replay) summary.push(['replay', fixture.replay]);
  const knobs = fixture.knobs ?? {
    ...(fixture.options?.thresholdBytes !== undefined ? { thresholdBytes: fixture.options.thresholdBytes } : {}),
    ...(fixture.options?.headReserveBytes !== undefined ? { headReserveBytes: fixture.options.headReserveBytes } : {}),
  };
  const model = withPlot({ title: `spillsim fixture: ${fixture.property ?? name}`, summary, violation, steps, knobs });
  if (model.series.length === 0 && parsedSteps.length === 0) {
    model.plotNote = 'This fixture stores the shrunk commands but no queue state, so there is nothing to plot; the table lists the commands.';
  }
  return model;
}

interface PlotInputs {
  title: string;
  summary: Array<[string, string]>;
  violation?: Violation;
  steps: TraceStep[];
  knobs?: SimRunResult['knobs'];
}

function withPlot(inputs: PlotInputs): ReportModel {
  const xAxis = hasTime(inputs.steps) ? 'timeTicks' : 'step';
  const xRange = xRangeOf(inputs.steps, xAxis);
  const all = queueSeries(inputs.steps, xAxis, xRange.max);
  const plotted = [...all].sort((a, b) => b.peakBytes - a.peakBytes).slice(0, PLOTTED_QUEUES_MAX);
  // Keep the plotted panels in the queues' own order (q0, q1, …), not by size.
  const series = all.filter((s) => plotted.includes(s));
  const model: ReportModel = {
    title: inputs.title,
    summary: inputs.summary,
    steps: inputs.steps,
    xAxis,
    xRange,
    series,
    queuesNotPlotted: all.length - series.length,
    markers: markers(inputs.steps, xAxis),
  };
  if (inputs.violation) model.violation = inputs.violation;
  if (inputs.knobs?.thresholdBytes !== undefined) model.thresholdBytes = inputs.knobs.thresholdBytes;
  if (inputs.knobs?.headReserveBytes !== undefined) model.headReserveBytes = inputs.knobs.headReserveBytes;
  if (series.length === 0 && inputs.steps.length > 0) model.plotNote = 'The trace records no queue state (no step has `queues`), so there is nothing to plot.';
  return model;
}

/**
 * A state holds from its step until the next one, so the last step needs room too: one more
 * step on a step axis, 2% more time (at least one tick) on a time axis. A loop, not
 * Math.min(...xs): a trace of 200,000 steps would overflow the call stack.
 */
function xRangeOf(steps: readonly TraceStep[], xAxis: ReportModel['xAxis']): { min: number; max: number } {
  if (steps.length === 0) return { min: 0, max: 1 };
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const step of steps) {
    const x = xOf(step, xAxis);
    min = Math.min(min, x);
    max = Math.max(max, x);
  }
  const room = xAxis === 'step' ? 1 : Math.max(1, Math.ceil((max - min) * 0.02));
  return { min, max: max + room };
}

/** A trace whose clock never moves is plotted against step numbers instead. */
function hasTime(steps: readonly TraceStep[]): boolean {
  const first = steps[0]?.timeTicks;
  return steps.some((s) => s.timeTicks !== first);
}

function xOf(step: TraceStep, xAxis: ReportModel['xAxis']): number {
  return xAxis === 'timeTicks' ? step.timeTicks : step.step;
}

/**
 * Each queue's three series, from the `queues` pictures the steps carry. A queue keeps its
 * last value until a step touches it again, so the points are the changes only.
 */
export function queueSeries(steps: readonly TraceStep[], xAxis: ReportModel['xAxis'], xEnd: number): QueueSeries[] {
  const byQueue = new Map<string, QueueSeries>();
  for (const step of steps) {
    if (!step.queues) continue;
    const x = xOf(step, xAxis);
    for (const [queue, picture] of Object.entries(step.queues)) {
      let series = byQueue.get(queue);
      if (!series) {
        series = { queue, residentBytes: [], pagedBytes: [], inFlightBytes: [], peakBytes: 0 };
        byQueue.set(queue, series);
      }
      pushChange(series.residentBytes, x, picture.residentBytes);
      pushChange(series.pagedBytes, x, picture.pagedBytes);
      pushChange(series.inFlightBytes, x, picture.inFlightBytes);
      series.peakBytes = Math.max(series.peakBytes, picture.residentBytes, picture.pagedBytes, picture.inFlightBytes);
    }
  }
  const result = [...byQueue.values()];
  for (const series of result) {
    for (const points of [series.residentBytes, series.pagedBytes, series.inFlightBytes]) {
      extendTo(points, xEnd);
      thinInPlace(points, SERIES_POINTS_MAX);
    }
  }
  return result;
}

function pushChange(points: SeriesPoint[], x: number, bytes: number): void {
  const last = points[points.length - 1];
  if (last && last.bytes === bytes) return;
  points.push({ x, bytes });
}

/** Carry the last value to the end of the plot, so a flat tail (and the last step's state) is drawn. */
function extendTo(points: SeriesPoint[], xEnd: number): void {
  const last = points[points.length - 1];
  if (last && last.x < xEnd) points.push({ x: xEnd, bytes: last.bytes });
}

/** Keep at most `max` points: evenly spaced buckets, each keeping its highest point so peaks survive. */
function thinInPlace(points: SeriesPoint[], max: number): void {
  if (points.length <= max) return;
  const bucketSize = Math.ceil(points.length / (max - 2));
  const kept: SeriesPoint[] = [points[0] as SeriesPoint];
  for (let start = 1; start < points.length - 1; start += bucketSize) {
    const bucket = points.slice(start, Math.min(start + bucketSize, points.length - 1));
    kept.push(bucket.reduce((best, p) => (p.bytes > best.bytes ? p : best)));
  }
  kept.push(points[points.length - 1] as SeriesPoint);
  points.length = 0;
  for (const point of kept) points.push(point);
}

const MARKER_OF_OP: Partial<Record<TraceOp, MarkerKind>> = {
  buzz: 'buzz',
  spill: 'spill',
  'partial-spill': 'partial-spill',
  'fetch-failed': 'fetch-failed',
  park: 'park',
  stall: 'stall',
};

/** Markers per kind kept for drawing: a lane is a few hundred pixels wide, more dots only overlap. */
export const MARKERS_PER_KIND_MAX = 1000;

/** Markers for the events a person looks for; a step that buzzes gets a buzz marker too. */
export function markers(steps: readonly TraceStep[], xAxis: ReportModel['xAxis']): Marker[] {
  const byKind = new Map<MarkerKind, Marker[]>();
  for (const marker of allMarkers(steps, xAxis)) {
    const list = byKind.get(marker.kind);
    if (list) list.push(marker);
    else byKind.set(marker.kind, [marker]);
  }
  const kept: Marker[] = [];
  for (const kind of MARKER_KINDS) kept.push(...thinMarkers(byKind.get(kind) ?? [], MARKERS_PER_KIND_MAX));
  return kept;
}

/** At most `max` markers, spread over the x range: the first marker of each of `max` equal slices. */
function thinMarkers(list: readonly Marker[], max: number): Marker[] {
  if (list.length <= max) return [...list];
  const first = list[0] as Marker;
  const last = list[list.length - 1] as Marker;
  const span = Math.max(1, last.x - first.x);
  const kept: Marker[] = [];
  let lastSlice = -1;
  for (const marker of list) {
    const slice = Math.min(max - 1, Math.floor(((marker.x - first.x) / span) * max));
    if (slice === lastSlice) continue;
    kept.push(marker);
    lastSlice = slice;
  }
  return kept;
}

function allMarkers(steps: readonly TraceStep[], xAxis: ReportModel['xAxis']): Marker[] {
  const result: Marker[] = [];
  for (const step of steps) {
    const label = stepLabel(step);
    const kinds = new Set<MarkerKind>();
    for (const op of [step.op, ...(step.alsoOps ?? [])]) {
      const kind = MARKER_OF_OP[op];
      if (kind) kinds.add(kind);
    }
    if ((step.buzzes ?? 0) > 0) kinds.add('buzz');
    for (const kind of kinds) result.push({ kind, step: step.step, x: xOf(step, xAxis), label });
  }
  return result;
}

/** `step 12 · writer spill q0: spill stopped after 2 of 5 chunks`. */
export function stepLabel(step: TraceStep): string {
  const head = `step ${step.step} · ${step.actor} ${step.op}${step.queue ? ` ${step.queue}` : ''}`;
  return step.detail ? `${head}: ${step.detail}` : head;
}

function fixtureViolation(fixture: FixtureInput): Violation | undefined {
  if (fixture.broke) return { invariant: fixture.broke.rule, message: fixture.broke.message, step: fixture.broke.step };
  const v = fixture.violation;
  if (v === undefined) return undefined;
  if (typeof v === 'string') return { invariant: fixture.property ?? 'property', message: v, step: Math.max(1, fixture.commands?.length ?? 1) };
  return v;
}

/** A fixture without a trace: its shrunk commands, one numbered row each. */
function commandSteps(commands: readonly unknown[]): TraceStep[] {
  // Numbered from 1, like the property suites number commands (and `broke.step`).
  return commands.map((command, index) => ({
    step: index + 1,
    timeTicks: 0,
    actor: 'command',
    op: 'note' as const,
    detail: typeof command === 'string' ? command : JSON.stringify(command),
  }));
}
