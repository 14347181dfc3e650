import pc from 'picocolors';
import type { QueueSummary, TraceOp, TraceStep, Violation } from '../sim/trace.js';
import { formatBytes } from './format.js';

export interface FormatTraceOptions {
  /** Colour the output (pass `colors(stream)`'s decision: true only on a terminal that wants it). */
  color: boolean;
  /** The step to mark as the one that broke an invariant (its `step` number, not its index). */
  highlightStep?: number;
  /**
   * Show at most this many steps (default: all). A long trace keeps a window around the
   * highlighted step (or its tail), because that is where a person looks first.
   */
  maxSteps?: number;
}

type Palette = ReturnType<typeof pc.createColors>;

/** Ops that signal trouble or a decision worth a glance get their own colour. */
const OP_TONE: Partial<Record<TraceOp, 'bad' | 'warn' | 'info'>> = {
  'fetch-failed': 'bad',
  stall: 'bad',
  fault: 'bad',
  'partial-spill': 'warn',
  park: 'warn',
  spill: 'info',
  fetch: 'info',
  buzz: 'info',
  wake: 'info',
};

/** Widest op name, so the columns line up. */
const OP_WIDTH = 13;

/**
 * The trace as numbered lines a person can read: one step per line, sizes in human units,
 * the queue picture after the step, and the broken step marked with `>>`.
 */
export function formatTrace(steps: readonly TraceStep[], options: FormatTraceOptions): string {
  const palette = pc.createColors(options.color);
  if (steps.length === 0) return palette.dim('(empty trace)');
  const window = traceWindow(steps, options.highlightStep, options.maxSteps);
  const stepWidth = String(steps[steps.length - 1]?.step ?? steps.length).length;
  // Loops, not Math.max(...): a window can be a whole trace of 200,000 steps.
  const timeWidth = String(window.shown.reduce((max, s) => Math.max(max, s.timeTicks), 0)).length;
  // A property run has no clock (every step at tick 0): a column of zeros would only be noise.
  const withTime = steps.some((s) => s.timeTicks !== steps[0]?.timeTicks);
  const actorWidth = window.shown.reduce((max, s) => Math.max(max, s.actor.length), 0);
  const lines: string[] = [];
  if (window.omittedBefore > 0) lines.push(palette.dim(`   … ${window.omittedBefore} earlier steps not shown …`));
  for (const step of window.shown) {
    const highlighted = step.step === options.highlightStep;
    lines.push(formatStepLine(step, { palette, highlighted, stepWidth, timeWidth: withTime ? timeWidth : 0, actorWidth }));
  }
  if (window.omittedAfter > 0) lines.push(palette.dim(`   … ${window.omittedAfter} later steps not shown …`));
  return lines.join('\n');
}

/** The broken invariant in one sentence, e.g. `Invariant no-loss broke at step 12: 3 bytes never came back.` */
export function formatViolation(v: Violation): string {
  const message = v.message.trim().replace(/\s+/g, ' ');
  const sentence = message.length === 0 ? 'no details given' : message;
  const ending = /[.!?]$/.test(sentence) ? '' : '.';
  return `Invariant ${v.invariant} broke at step ${v.step}: ${sentence}${ending}`;
}

/** The queue picture after a step, e.g. `q0: 1 MiB resident, 512 KiB paged (2 entries, 1 paged)`. */
export function formatQueueSummary(name: string, q: QueueSummary): string {
  return (
    `${name}: ${formatBytes(q.residentBytes)} resident, ${formatBytes(q.pagedBytes)} paged, ` +
    `${formatBytes(q.inFlightBytes)} in flight (${q.entries} entries, ${q.pagedEntries} paged)`
  );
}

interface LineLayout {
  palette: Palette;
  highlighted: boolean;
  stepWidth: number;
  /** 0: leave the time column out. */
  timeWidth: number;
  actorWidth: number;
}

function formatStepLine(step: TraceStep, layout: LineLayout): string {
  const { palette } = layout;
  const marker = layout.highlighted ? '>>' : '  ';
  const number = `#${String(step.step).padStart(layout.stepWidth)}`;
  const time = `t=${String(step.timeTicks).padStart(layout.timeWidth)}`;
  const actor = step.actor.padEnd(layout.actorWidth);
  const op = toneOp(step.op, palette, step.op.padEnd(OP_WIDTH));
  const parts = [marker, palette.dim(number), ...(layout.timeWidth > 0 ? [palette.dim(time)] : []), actor, op];
  if (step.queue !== undefined) parts.push(palette.cyan(step.queue));
  const moved = movedText(step);
  if (moved) parts.push(moved);
  if (step.buzzes) parts.push(palette.dim(`buzz×${step.buzzes}`));
  let line = parts.join(' ');
  if (step.detail) line += ` — ${step.detail}`;
  if (step.fault) line += ` ${palette.red(`[fault: ${step.fault}]`)}`;
  const queues = queuesText(step);
  if (queues) line += palette.dim(` | ${queues}`);
  return layout.highlighted ? palette.bold(palette.red(line)) : line;
}

/** `text` is the op already padded to its column, so colour codes never skew the alignment. */
function toneOp(op: TraceOp, palette: Palette, text: string): string {
  const tone = OP_TONE[op];
  if (tone === 'bad') return palette.red(text);
  if (tone === 'warn') return palette.yellow(text);
  if (tone === 'info') return palette.blue(text);
  return text;
}

function movedText(step: TraceStep): string {
  if (step.bytes === undefined && step.chunks === undefined) return '';
  if ((step.bytes ?? 0) === 0 && (step.chunks ?? 0) === 0) return 'nothing moved';
  const bytes = step.bytes === undefined ? '' : formatBytes(step.bytes);
  const chunks = step.chunks === undefined ? '' : `${step.chunks} chunk${step.chunks === 1 ? '' : 's'}`;
  if (bytes && chunks) return `${bytes} in ${chunks}`;
  return bytes || chunks;
}

/** Short queue pictures after the step: `q0 1 MiB res/512 KiB paged`. */
function queuesText(step: TraceStep): string {
  if (!step.queues) return '';
  return Object.entries(step.queues)
    .map(([name, q]) => `${name} ${formatBytes(q.residentBytes)} res/${formatBytes(q.pagedBytes)} paged`)
    .join(', ');
}

export interface TraceWindow {
  shown: TraceStep[];
  omittedBefore: number;
  omittedAfter: number;
}

/**
 * Which steps to show: all, or `maxSteps` of them around the highlighted step (else the
 * tail). Shared by the terminal trace and the report's table so both cut the same way.
 */
export function traceWindow(steps: readonly TraceStep[], highlightStep: number | undefined, maxSteps: number | undefined): TraceWindow {
  const limit = maxSteps === undefined ? steps.length : Math.max(1, Math.floor(maxSteps));
  if (steps.length <= limit) return { shown: [...steps], omittedBefore: 0, omittedAfter: 0 };
  const highlightIndex = highlightStep === undefined ? -1 : steps.findIndex((s) => s.step === highlightStep);
  // Without a highlight the end of the trace is the interesting part (how the run finished).
  const centre = highlightIndex >= 0 ? highlightIndex : steps.length - 1;
  // Keep more context before the broken step than after it: the cause comes first.
  const before = Math.min(centre, Math.max(0, limit - 1 - Math.floor((limit - 1) / 4)));
  let start = centre - before;
  start = Math.min(start, steps.length - limit);
  const end = start + limit;
  return { shown: steps.slice(start, end), omittedBefore: start, omittedAfter: steps.length - end };
}
