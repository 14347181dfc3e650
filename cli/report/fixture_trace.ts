import type { QueueSummary, TraceOp, TraceStep } from '../../sim/trace.js';

/**
 * A property fixture stores its shrunk run as the numbered text trace a person reads
 * (`properties/command_trace.ts`): `N. Command`, indented storage events, `-> state`, and a
 * final `BROKE rule …` line. This turns that text back into steps the report can draw. It
 * reads; it never replays, so a fixture renders even when the code has moved on.
 */
export function parseFixtureTrace(lines: readonly string[]): TraceStep[] {
  const steps: TraceStep[] = [];
  let current: (TraceStep & { events: string[] }) | undefined;
  const close = (): void => {
    if (!current) return;
    const { events, ...step } = current;
    const marks = events.flatMap(eventOps);
    if (events.length > 0) step.detail = `${step.detail}: ${events.join('; ')}`;
    if (marks.length > 0) step.alsoOps = [...new Set(marks)];
    steps.push(step);
    current = undefined;
  };
  for (const line of lines) {
    const command = /^\s*(\d+)\.\s+(.*)$/.exec(line);
    if (command) {
      close();
      const number = Number(command[1]);
      // No clock in a property run: the command number is the x axis (timeTicks stays 0).
      const text = command[2] ?? '';
      const op = commandOp(text);
      current = { step: number, timeTicks: 0, actor: ACTOR_OF_OP[op] ?? 'command', op, detail: text, events: [], ...commandFields(text) };
      continue;
    }
    if (!current) continue;
    const state = /^\s*->\s*(.*)$/.exec(line);
    if (state) {
      const queues = parseQueueStates(state[1] ?? '');
      if (Object.keys(queues).length > 0) current.queues = queues;
    } else if (/^\s+\S/.test(line)) {
      current.events.push(line.trim());
    }
  }
  close();
  return steps;
}

/** Who the command stands for, in the simulator's words. */
const ACTOR_OF_OP: Partial<Record<TraceOp, string>> = { extend: 'writer', drain: 'reader', fault: 'storage' };

/** The command's name says what kind of step it is (`ExtendCommand(q0, …)` → extend). */
function commandOp(text: string): TraceOp {
  if (/^Extend/i.test(text)) return 'extend';
  if (/Drain/i.test(text)) return 'drain';
  if (/^(Fail|Stop|Heal)/i.test(text)) return 'fault';
  return 'note';
}

/** `ExtendCommand(q1, [3, 5] B, …)`: the queue it touched and the bytes and chunks pushed. */
function commandFields(text: string): Pick<TraceStep, 'queue' | 'bytes' | 'chunks'> {
  const fields: Pick<TraceStep, 'queue' | 'bytes' | 'chunks'> = {};
  const queue = /\((q\d+)\b/.exec(text);
  if (queue) fields.queue = queue[1];
  const sizes = /\[([\d,\s]*)\]\s*B/.exec(text);
  if (sizes) {
    const list = (sizes[1] ?? '').split(',').map((s) => s.trim()).filter(Boolean).map(Number);
    fields.bytes = list.reduce((a, b) => a + b, 0);
    fields.chunks = list.length;
  }
  return fields;
}

/** Storage events printed under a command, as the report's markers. */
function eventOps(event: string): TraceOp[] {
  if (/^(\[[^\]]*\]\s*)?spilled \d+ of \d+/.test(event)) return [/stopped/.test(event) ? 'partial-spill' : 'spill'];
  if (/\bspill call/.test(event)) return ['spill'];
  if (/fetch failed/.test(event)) return ['fetch-failed'];
  if (/^(\[[^\]]*\]\s*)?fetched/.test(event)) return ['fetch'];
  if (/buzz/.test(event)) return ['buzz'];
  return [];
}

const UNIT_BYTES: Record<string, number> = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4 };

/** `1.5 KiB` → 1536. The fixture rounded it for people; the plot only needs the shape. */
export function parseHumanBytes(text: string): number | undefined {
  const match = /^\s*(-?[\d.]+)\s*(B|KiB|MiB|GiB|TiB)\s*$/.exec(text);
  if (!match) return undefined;
  return Math.round(Number(match[1]) * (UNIT_BYTES[match[2] ?? 'B'] ?? 1));
}

const QUEUE_STATE =
  /(?:\[([^\]]+)\]\s*)?q(\d+): (\d+) entr(?:y|ies) \((\d+) resident ([\d.]+ [KMGT]?i?B), (\d+) paged\), delivered ([\d.]+ [KMGT]?i?B) of ([\d.]+ [KMGT]?i?B)/g;

/**
 * `q0: 3 entries (2 resident 1.5 KiB, 1 paged), delivered 512 B of 2 KiB; q1: …`, optionally
 * prefixed `[system] ` per system. In flight is written minus delivered; paged is what of it
 * is not resident, when there is a paged entry at all.
 */
export function parseQueueStates(text: string): Record<string, QueueSummary> {
  const queues: Record<string, QueueSummary> = {};
  let label: string | undefined;
  for (const match of text.matchAll(QUEUE_STATE)) {
    label = match[1] ?? label;
    const residentBytes = parseHumanBytes(match[5] ?? '') ?? 0;
    const deliveredBytes = parseHumanBytes(match[7] ?? '') ?? 0;
    const writtenBytes = parseHumanBytes(match[8] ?? '') ?? 0;
    const inFlightBytes = Math.max(0, writtenBytes - deliveredBytes);
    const name = label === undefined ? `q${match[2]}` : `${label}/q${match[2]}`;
    const pagedEntries = Number(match[6]);
    queues[name] = {
      residentBytes,
      // Drained bytes not yet checked by the consumer are in flight but in no entry: with no paged entry, nothing is paged.
      pagedBytes: pagedEntries === 0 ? 0 : Math.max(0, inFlightBytes - residentBytes),
      inFlightBytes,
      entries: Number(match[3]),
      pagedEntries,
    };
  }
  return queues;
}
