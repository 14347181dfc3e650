import { describe, expect, it } from 'vitest';
import type { TraceStep } from '../sim/trace.js';
import { formatQueueSummary, formatTrace, formatViolation } from '../cli/trace_format.js';

const ESC = String.fromCharCode(27);

function step(n: number, extra: Partial<TraceStep> = {}): TraceStep {
  return { step: n, timeTicks: n * 10, actor: n % 2 === 0 ? 'writer' : 'reader', op: 'extend', ...extra };
}

const steps: TraceStep[] = [
  step(0, {
    queue: 'q0',
    bytes: 262_144,
    chunks: 1,
    queues: { q0: { residentBytes: 262_144, pagedBytes: 0, inFlightBytes: 262_144, entries: 1, pagedEntries: 0 } },
  }),
  step(1, { op: 'partial-spill', queue: 'q0', bytes: 1_572_864, chunks: 2, detail: 'spill stopped after 2 of 5 chunks (no space)', fault: 'disk-full' }),
  step(2, { op: 'fetch-failed', queue: 'q0', buzzes: 1 }),
];

describe('formatTrace', () => {
  it('numbers every step and writes sizes in human units', () => {
    const text = formatTrace(steps, { color: false });
    const lines = text.split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/#0 +t= *0 +writer +extend +q0 256 KiB in 1 chunk/);
    expect(lines[0]).toContain('q0 256 KiB res/0 B paged');
    expect(lines[1]).toContain('1.5 MiB in 2 chunks');
    expect(lines[1]).toContain('— spill stopped after 2 of 5 chunks (no space)');
    expect(lines[1]).toContain('[fault: disk-full]');
    expect(lines[2]).toContain('buzz×1');
    expect(text).not.toContain(ESC);
  });

  it('marks the highlighted step and only that one', () => {
    const lines = formatTrace(steps, { color: false, highlightStep: 1 }).split('\n');
    expect(lines.map((l) => l.startsWith('>>'))).toEqual([false, true, false]);
  });

  it('colours only when asked', () => {
    const coloured = formatTrace(steps, { color: true, highlightStep: 2 });
    expect(coloured).toContain(ESC);
    // Stripping the escapes gives back exactly the plain text: colour never changes content or alignment.
    const stripped = coloured.replace(new RegExp(`${ESC}\\[[0-9;]*m`, 'g'), '');
    expect(stripped).toBe(formatTrace(steps, { color: false, highlightStep: 2 }));
  });

  it('keeps a window around the highlighted step when the trace is long', () => {
    const long = Array.from({ length: 200 }, (_, i) => step(i));
    const lines = formatTrace(long, { color: false, highlightStep: 150, maxSteps: 9 }).split('\n');
    expect(lines[0]).toMatch(/… \d+ earlier steps not shown …/);
    expect(lines[lines.length - 1]).toMatch(/… \d+ later steps not shown …/);
    const shown = lines.filter((l) => /#\s*\d+/.test(l));
    expect(shown).toHaveLength(9);
    expect(shown.filter((l) => l.startsWith('>>'))).toHaveLength(1);
    expect(shown.some((l) => /#\s*150 /.test(l))).toBe(true);
    const before = Number(/… (\d+) earlier/.exec(lines[0] ?? '')?.[1]);
    const after = Number(/… (\d+) later/.exec(lines[lines.length - 1] ?? '')?.[1]);
    expect(before + after + 9).toBe(200);
  });

  it('shows the tail of a long trace with no highlight', () => {
    const long = Array.from({ length: 50 }, (_, i) => step(i));
    const lines = formatTrace(long, { color: false, maxSteps: 5 }).split('\n');
    expect(lines[0]).toContain('45 earlier steps not shown');
    expect(lines[lines.length - 1]).toMatch(/#49 /);
  });

  it('leaves the time column out when the run has no clock (property runs)', () => {
    const noClock = steps.map((s) => ({ ...s, timeTicks: 0 }));
    const text = formatTrace(noClock, { color: false });
    expect(text).not.toContain('t=');
    expect(text.split('\n')[0]).toMatch(/^ {3}#0 writer +extend/);
  });

  it('says so when the trace is empty', () => {
    expect(formatTrace([], { color: false })).toBe('(empty trace)');
  });
});

describe('formatViolation', () => {
  it('states the broken invariant in one sentence', () => {
    expect(formatViolation({ invariant: 'no-loss', message: '3 bytes never came back', step: 12 })).toBe(
      'Invariant no-loss broke at step 12: 3 bytes never came back.',
    );
  });

  it('does not double the full stop nor keep line breaks', () => {
    const text = formatViolation({ invariant: 'no-stall', message: 'reader parked\nwith data queued.', step: 4 });
    expect(text).toBe('Invariant no-stall broke at step 4: reader parked with data queued.');
    expect(text.split('\n')).toHaveLength(1);
  });
});

describe('formatQueueSummary', () => {
  it('names every quantity with its unit', () => {
    expect(
      formatQueueSummary('q0', { residentBytes: 1_048_576, pagedBytes: 524_288, inFlightBytes: 1_572_864, entries: 3, pagedEntries: 1 }),
    ).toBe('q0: 1 MiB resident, 512 KiB paged, 1.5 MiB in flight (3 entries, 1 paged)');
  });
});
