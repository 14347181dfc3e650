import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { QueueSummary, SimRunResult, TraceStep } from '../sim/trace.js';
import { buildReportModel, classifyReportSource, loadReportSource, renderReport, writeReport } from '../cli/report/index.js';
import { MARKERS_PER_KIND_MAX, PLOTTED_QUEUES_MAX, SERIES_POINTS_MAX } from '../cli/report/report_model.js';
import { TABLE_ROWS_MAX } from '../cli/report/report_html.js';
import { formatTrace } from '../cli/trace_format.js';
import { UsageError } from '../cli/usage_error.js';
import { parseFixtureTrace, parseQueueStates } from '../cli/report/fixture_trace.js';
import { makeFixture } from '../properties/fixture.js';
import { runSuite } from '../properties/run_suite.js';
import { runSimulation } from '../sim/run.js';
import { ensureBuilt, runBuiltCli } from './support/built_cli.js';
import { chromiumHowTo, findChromium } from '../scripts/chromium.mjs';

const KiB = 1024;
const CHUNK_BYTES = 256 * KiB;

/**
 * A small writer/reader run in the shape `spillsim sim --json` prints: the writer pushes 256 KiB
 * chunks, the threshold policy (1 MiB + 512 KiB reserve) spills, one spill stops partway, the
 * reader has a prefetch budget of 0 so it never fetches, and finally parks with data queued.
 */
function stallingRun(queues: string[] = ['q0']): SimRunResult {
  const trace: TraceStep[] = [];
  const state = new Map<string, { resident: number[]; pagedBytes: number; pagedEntries: number }>(
    queues.map((q) => [q, { resident: [], pagedBytes: 0, pagedEntries: 0 }]),
  );
  const picture = (q: string): Record<string, QueueSummary> => {
    const s = state.get(q)!;
    const residentBytes = s.resident.reduce((a, b) => a + b, 0);
    return {
      [q]: { residentBytes, pagedBytes: s.pagedBytes, inFlightBytes: residentBytes + s.pagedBytes, entries: s.resident.length + s.pagedEntries, pagedEntries: s.pagedEntries },
    };
  };
  let time = 0;
  let spills = 0;
  const push = (step: Omit<TraceStep, 'step' | 'timeTicks'>): void => {
    trace.push({ step: trace.length, timeTicks: time, ...step });
    time += 3;
  };
  for (let round = 0; round < 24; round += 1) {
    for (const q of queues) {
      const s = state.get(q)!;
      s.resident.push(CHUNK_BYTES);
      push({ actor: 'writer', op: 'extend', queue: q, bytes: CHUNK_BYTES, chunks: 1, buzzes: s.resident.length === 1 && s.pagedEntries === 0 ? 1 : 0, queues: picture(q) });
      const residentBytes = s.resident.reduce((a, b) => a + b, 0);
      if (residentBytes > 1536 * KiB) {
        const targets = s.resident.length - 3;
        // The second spill hits a full storage and stops after one chunk.
        const drained = spills === 1 ? 1 : targets;
        spills += 1;
        s.resident.splice(2, drained);
        s.pagedBytes += drained * CHUNK_BYTES;
        s.pagedEntries += drained;
        const partial = drained < targets;
        push({
          actor: 'writer',
          op: partial ? 'partial-spill' : 'spill',
          queue: q,
          bytes: drained * CHUNK_BYTES,
          chunks: drained,
          detail: partial ? `spill stopped after ${drained} of ${targets} chunks (no space)` : `spilled ${drained} chunks behind the reserve`,
          ...(partial ? { fault: 'storage-full' } : {}),
          queues: picture(q),
        });
      }
      if (round % 3 === 2 && s.resident.length > 0) {
        const taken = 1;
        s.resident.splice(0, taken);
        push({ actor: 'reader', op: 'drain', queue: q, bytes: taken * CHUNK_BYTES, chunks: taken, queues: picture(q) });
        push({ actor: 'reader', op: 'fetch-failed', queue: q, detail: 'prefetch budget 0: the paged entry at the front is never fetched', queues: picture(q) });
      }
    }
  }
  for (const q of queues) {
    const s = state.get(q)!;
    s.resident.splice(0, 2);
    push({ actor: 'reader', op: 'drain', queue: q, bytes: 2 * CHUNK_BYTES, chunks: 2, queues: picture(q) });
  }
  push({ actor: 'reader', op: 'park', detail: 'drain produced nothing; parks waiting for a buzz' });
  const stallStep = trace.length;
  push({ actor: 'scheduler', op: 'stall', queue: queues[0], detail: 'reader parked, no buzz pending, paged data queued', queues: picture(queues[0]!) });
  return {
    seed: 7,
    ok: false,
    traceHash: 'c0ffee00',
    steps: trace.length,
    violation: { invariant: 'no-stall', message: 'the reader is parked with no buzz pending while q0 holds 2.5 MiB it could deliver', step: stallStep },
    replay: 'spillsim sim --seed 7 --prefetch-budget 0',
    knobs: { thresholdBytes: 1024 * KiB, headReserveBytes: 512 * KiB, prefetchBudgetBytes: 0 },
    trace,
  };
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'spillsim-report-'));
});

function writeJson(name: string, value: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value));
  return path;
}

describe('report model', () => {
  it('builds resident, paged and in-flight series per queue from the trace', () => {
    const model = buildReportModel(classifyReportSource(stallingRun(['q0', 'q1']), 'run'));
    expect(model.series.map((s) => s.queue)).toEqual(['q0', 'q1']);
    const q0 = model.series[0]!;
    expect(Math.max(...q0.pagedBytes.map((p) => p.bytes))).toBeGreaterThan(0);
    expect(q0.peakBytes).toBe(Math.max(...q0.inFlightBytes.map((p) => p.bytes)));
    // In flight is always resident + paged in this run: the series line up point for point in time.
    const last = (points: { bytes: number }[]): number => points[points.length - 1]!.bytes;
    expect(last(q0.inFlightBytes)).toBe(last(q0.residentBytes) + last(q0.pagedBytes));
    expect(model.xAxis).toBe('timeTicks');
    expect(model.thresholdBytes).toBe(1024 * KiB);
    expect(model.headReserveBytes).toBe(512 * KiB);
  });

  it('marks spills, partial spills, fetch failures, buzzes, parks and stalls at their steps', () => {
    const run = stallingRun();
    const model = buildReportModel(classifyReportSource(run, 'run'));
    const kinds = new Set(model.markers.map((m) => m.kind));
    expect([...kinds].sort()).toEqual(['buzz', 'fetch-failed', 'park', 'partial-spill', 'spill', 'stall']);
    for (const marker of model.markers) {
      const step = run.trace!.find((s) => s.step === marker.step)!;
      expect(marker.x).toBe(step.timeTicks);
      if (marker.kind === 'buzz') expect(step.op === 'buzz' || (step.buzzes ?? 0) > 0).toBe(true);
      else expect(step.op).toBe(marker.kind);
    }
  });

  it('plots against step numbers when the trace has no clock', () => {
    const run = stallingRun();
    run.trace = run.trace!.map((s) => ({ ...s, timeTicks: 0 }));
    const model = buildReportModel(classifyReportSource(run, 'run'));
    expect(model.xAxis).toBe('step');
    expect(model.markers.find((m) => m.kind === 'stall')!.x).toBe(run.violation!.step);
  });

  it('bounds what it draws: busiest queues only, thinned series that keep the peak', () => {
    const run = stallingRun(Array.from({ length: PLOTTED_QUEUES_MAX + 3 }, (_, i) => `q${i}`));
    const model = buildReportModel(classifyReportSource(run, 'run'));
    expect(model.series).toHaveLength(PLOTTED_QUEUES_MAX);
    expect(model.queuesNotPlotted).toBe(3);
    const steps: TraceStep[] = Array.from({ length: 3 * SERIES_POINTS_MAX }, (_, i) => {
      const residentBytes = i === 4321 ? 10 * 1024 * KiB : (i % 7) * KiB;
      return { step: i, timeTicks: i, actor: 'writer', op: 'extend', queues: { q0: { residentBytes, pagedBytes: 0, inFlightBytes: residentBytes, entries: 1, pagedEntries: 0 } } };
    });
    const big = buildReportModel(classifyReportSource({ seed: 1, ok: true, traceHash: 'x', steps: steps.length, trace: steps }, 'big'));
    const resident = big.series[0]!.residentBytes;
    expect(resident.length).toBeLessThanOrEqual(SERIES_POINTS_MAX);
    expect(Math.max(...resident.map((p) => p.bytes))).toBe(10 * 1024 * KiB);
  });
});

describe('a long run', () => {
  // The simulator's step bound is 200,000: a report of a run that long must still come out, bounded.
  const STEPS = 200_000;
  const trace: TraceStep[] = Array.from({ length: STEPS }, (_, i) => {
    const residentBytes = (i * 4096) % (4 * 1024 * KiB);
    return {
      step: i,
      timeTicks: 2 * i,
      actor: i % 2 === 0 ? 'writer' : 'reader',
      op: i % 53 === 0 ? 'spill' : 'extend',
      queue: 'q0',
      bytes: 4096,
      buzzes: i % 11 === 0 ? 1 : 0,
      queues: { q0: { residentBytes, pagedBytes: i, inFlightBytes: residentBytes + i, entries: 3, pagedEntries: 1 } },
    };
  });
  const run: SimRunResult = { seed: 1, ok: false, traceHash: 'x', steps: STEPS, violation: { invariant: 'no-loss', message: 'lost', step: STEPS - 10 }, trace };

  it('draws a bounded page around the broken step', () => {
    const model = buildReportModel(classifyReportSource(run, 'long'));
    for (const kind of ['spill', 'buzz'] as const) {
      const count = model.markers.filter((m) => m.kind === kind).length;
      expect(count).toBeGreaterThan(MARKERS_PER_KIND_MAX / 2);
      expect(count).toBeLessThanOrEqual(MARKERS_PER_KIND_MAX);
    }
    const html = renderReport(run);
    expect(html.length).toBeLessThan(4 * 1024 * 1024);
    expect(html.match(/<tr id="step-/g)).toHaveLength(TABLE_ROWS_MAX);
    expect(html).toMatch(new RegExp(`<tr id="step-${STEPS - 10}" class="[^"]*violating`));
    expect(html).toContain('earlier steps not shown');
  });

  it('prints the whole trace in the terminal when asked', () => {
    expect(formatTrace(trace, { color: false }).split('\n')).toHaveLength(STEPS);
  });
});

describe('report input', () => {
  it('picks the first failing run from JSON lines', () => {
    const good = { ...stallingRun(), seed: 1, ok: true, violation: undefined };
    const bad = { ...stallingRun(), seed: 2 };
    const path = writeJson('runs.jsonl', [good, bad, { ...bad, seed: 3 }].map((r) => JSON.stringify(r)).join('\n'));
    const source = loadReportSource(path);
    expect(source.kind === 'run' && source.run.seed).toBe(2);
  });

  it('prefers a failing run that carries its trace', () => {
    const { trace: _dropped, ...untraced } = { ...stallingRun(), seed: 2 };
    const traced = { ...stallingRun(), seed: 3 };
    const source = loadReportSource(writeJson('mixed.jsonl', [untraced, traced].map((r) => JSON.stringify(r)).join('\n')));
    expect(source.kind === 'run' && source.run.seed).toBe(3);
  });

  it('picks the first run when every run held', () => {
    const runs = [4, 5].map((seed) => ({ ...stallingRun(), seed, ok: true }));
    const source = loadReportSource(writeJson('ok.json', runs));
    expect(source.kind === 'run' && source.run.seed).toBe(4);
  });

  it.each([
    ['missing.json', null, /no such file/],
    ['empty.json', '', /is empty/],
    ['corrupt.json', '{"seed": 1, "ok": fal', /not valid JSON/],
    ['corrupt-lines.json', '{"seed":1}\n{nope', /line 2 is not valid JSON/],
    ['other.json', { hello: 'world' }, /neither a run .* nor a failure fixture/],
    ['no-trace.json', { seed: 9, ok: false, traceHash: 'ab', steps: 3 }, /seed 9 has no trace/],
    ['bad-step.json', { seed: 9, ok: false, traceHash: 'ab', steps: 1, trace: [{ step: 0 }] }, /trace item 0 is not a step/],
  ])('refuses %s with a clear reason', (name, content, reason) => {
    const path = content === null ? join(dir, name) : writeJson(name, content);
    expect(() => loadReportSource(path)).toThrow(UsageError);
    expect(() => loadReportSource(path)).toThrow(reason);
  });

  it('draws a fixture that holds only its shrunk commands as a numbered command table', () => {
    const fixture = { property: 'ordering', seed: 3, path: '0:1', commands: ['Extend(3 B)', 'FailNextFetch', 'Drain'], violation: 'bytes came back out of order' };
    const html = renderReport(writeJson('fixture.json', fixture));
    expect(html).toContain('spillsim fixture: ordering');
    expect(html).toContain('FailNextFetch');
    expect(html).toContain('nothing to plot');
    expect(html).toMatch(/<tr id="step-3" class="[^"]*violating/);
  });
});

/** A real failure: the ordering suite against a prefetch policy broken on purpose, saved as `check --save-failures` saves it. */
async function realFixture(): Promise<ReturnType<typeof makeFixture>> {
  const result = await runSuite('ordering', { variant: 'broken-prefetch-out-of-order', runs: 300, seed: 42 });
  if (!result.failure) throw new Error('the broken prefetch policy was expected to break ordering');
  return makeFixture('ordering', 'broken-prefetch-out-of-order', result.failure);
}

function numberedLines(trace: readonly string[]): number {
  return trace.filter((line) => /^\s*\d+\. /.test(line)).length;
}

describe('fixtures from the property suites', () => {
  it('reads the numbered text trace back into steps with queue state and storage events', () => {
    const steps = parseFixtureTrace([
      '1. ExtendCommand(q0, [1024, 512] B, same slab)',
      '     -> q0: 1 entry (1 resident 1.5 KiB, 0 paged), delivered 0 B of 1.5 KiB',
      '2. StopSpillAfterCommand(1)',
      '     -> q0: 1 entry (1 resident 1.5 KiB, 0 paged), delivered 0 B of 1.5 KiB',
      '3. ExtendCommand(q1, [2048] B, fresh slab)',
      '     spilled 1 of 2 chunks (storage stopped it after 1)',
      '     fetch failed',
      '     -> q0: 2 entries (1 resident 512 B, 1 paged), delivered 0 B of 1.5 KiB; q1: 1 entry (1 resident 2 KiB, 0 paged), delivered 0 B of 2 KiB',
      'BROKE rule memory-bound at step 3: too much resident',
    ]);
    expect(steps.map((s) => [s.step, s.op, s.queue, s.bytes, s.chunks])).toEqual([
      [1, 'extend', 'q0', 1536, 2],
      [2, 'fault', undefined, undefined, undefined],
      [3, 'extend', 'q1', 2048, 1],
    ]);
    expect(steps[2]!.alsoOps).toEqual(['partial-spill', 'fetch-failed']);
    expect(steps.map((s) => s.actor)).toEqual(['writer', 'storage', 'writer']);
    expect(steps[1]!.detail).toBe('StopSpillAfterCommand(1)');
    expect(steps[2]!.detail).toBe('ExtendCommand(q1, [2048] B, fresh slab): spilled 1 of 2 chunks (storage stopped it after 1); fetch failed');
    expect(steps[2]!.queues).toEqual({
      q0: { residentBytes: 512, pagedBytes: 1024, inFlightBytes: 1536, entries: 2, pagedEntries: 1 },
      q1: { residentBytes: 2048, pagedBytes: 0, inFlightBytes: 2048, entries: 1, pagedEntries: 0 },
    });
  });

  it('shows the last step\'s state, and each system\'s copy of the touched queue', () => {
    const source = loadReportSource(
      writeJson('two-systems.json', {
        property: 'differential',
        commands: [{}, {}],
        trace: [
          '1. ExtendCommand(q0, [1] B, same slab)',
          '     -> [broken] q0: 1 entry (1 resident 1 B, 0 paged), delivered 0 B of 1 B | [reference] q0: 1 entry (1 resident 1 B, 0 paged), delivered 0 B of 1 B',
          '2. ExtendCommand(q0, [1] B, fresh slab)',
          '     [reference] spilled 1 of 1 chunk',
          '     -> [broken] q0: 2 entries (2 resident 2 B, 0 paged), delivered 0 B of 2 B | [reference] q0: 2 entries (1 resident 1 B, 1 paged), delivered 0 B of 2 B',
        ],
        broke: { rule: 'differential', message: 'q0 entry 0 differs', step: 2 },
      }),
    );
    const model = buildReportModel(source);
    // The state after step 2 is drawn from x=2 to the end of the axis, not squeezed onto its edge.
    expect(model.xRange).toEqual({ min: 1, max: 3 });
    const paged = model.series.find((s) => s.queue === 'reference/q0')!.pagedBytes;
    expect(paged).toEqual([{ x: 1, bytes: 0 }, { x: 2, bytes: 1 }, { x: 3, bytes: 1 }]);
    expect(renderReport(source)).toContain('broken/q0 2 B / 0 B<br>reference/q0 1 B / 1 B');
  });

  it('names the queues of each system when a suite runs several side by side', () => {
    const queues = parseQueueStates(
      '[threshold] q0: 1 entry (1 resident 3 B, 0 paged), delivered 0 B of 3 B; q1: 0 entries (0 resident 0 B, 0 paged), delivered 0 B of 0 B | [spill-all] q0: 1 entry (0 resident 0 B, 1 paged), delivered 0 B of 3 B',
    );
    expect(Object.keys(queues)).toEqual(['threshold/q0', 'threshold/q1', 'spill-all/q0']);
    expect(queues['spill-all/q0']!.pagedBytes).toBe(3);
  });

  it('draws a real fixture: its commands as steps, the state it stored, the rule that broke', async () => {
    const fixture = await realFixture();
    const source = loadReportSource(writeJson('ordering-fixture.json', fixture));
    const model = buildReportModel(source);
    // One step per numbered line of the stored trace: each command, and the final drain when the run got that far.
    expect(model.steps).toHaveLength(numberedLines(fixture.trace));
    expect(model.violation).toEqual({ invariant: fixture.broke.rule, message: fixture.broke.message, step: fixture.broke.step });
    expect(model.xAxis).toBe('step');
    expect(model.series.map((s) => s.queue)).toEqual(['q0']);
    expect(model.markers.some((m) => m.kind === 'spill')).toBe(true);
    const html = renderReport(source);
    expect(html).toMatch(new RegExp(`<tr id="step-${fixture.broke.step}" class="[^"]*violating`));
    expect(html).toContain(`Invariant order broke at step ${fixture.broke.step}`);
  });
});

describe('report page', () => {
  it('is self-contained: no external references and a policy that forbids the network', () => {
    const html = renderReport(stallingRun());
    expect(html).toContain(`default-src 'none'`);
    expect(html).not.toMatch(/\b(src|href)=["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/@import|url\(/);
  });

  it('escapes text from the trace', () => {
    const run = stallingRun();
    run.trace![0]!.detail = '<img src=x onerror=alert(1)>';
    const html = renderReport(run);
    expect(html).not.toContain('<img src=x');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });

  it('names a policy line that would squash the plot instead of drawing it', () => {
    const run = stallingRun();
    run.knobs = { thresholdBytes: 256 * 1024 * KiB, headReserveBytes: 64 * 1024 * KiB };
    const html = renderReport(run);
    expect(html).toContain('above this scale: threshold 256 MiB');
    expect(html).not.toContain('class="policy-line threshold"');
    expect(renderReport(stallingRun())).toContain('class="policy-line threshold"');
  });
});

describe('spillsim report', () => {
  beforeAll(ensureBuilt, 180_000);
  it('writes the report and says what broke', async () => {
    const input = writeJson('run.json', stallingRun());
    const out = join(dir, 'nested', 'report.html');
    const { code, stdout } = await runBuiltCli(['report', input, '-o', out]);
    expect(code).toBe(0);
    expect(stdout).toContain('Invariant no-stall broke at step');
    expect(readFileSync(out, 'utf8')).toContain('<svg class="plot"');
  });

  it('prints the readable trace with --text', async () => {
    const run = stallingRun();
    const { code, stdout } = await runBuiltCli(['report', writeJson('run-text.json', run), '-o', join(dir, 't.html'), '--text', '--max-steps', '5']);
    expect(code).toBe(0);
    expect(stdout).toMatch(new RegExp(`^>> #\\s*${run.violation!.step} `, 'm'));
    expect(stdout).toContain('earlier steps not shown');
  });

  it.each([
    [['report', '/nonexistent/run.json'], /no such file/],
    [['report', '--max-steps', '0', 'x.json'], /--max-steps must be a whole number/],
    [['report'], /missing required argument/],
  ])('exits 2 with one line for bad input: %j', async (args, reason) => {
    const { code, stderr } = await runBuiltCli(args);
    expect(code).toBe(2);
    expect(stderr).toMatch(reason);
    expect(stderr).not.toMatch(/\n\s+at /);
  });
});

/** Whether a trace row lies inside the visible part of the scrolling table. */
function rowInView(page: Page, step: number): Promise<boolean> {
  return page.evaluate((n) => {
    const row = document.getElementById(`step-${n}`);
    const scroller = document.querySelector('.table-scroll');
    if (!row || !scroller) return false;
    const r = row.getBoundingClientRect();
    const s = scroller.getBoundingClientRect();
    return r.top >= s.top && r.bottom <= s.bottom && r.bottom <= window.innerHeight;
  }, step);
}

describe('report in Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    // Debian's Chromium where it is (SPILLSIM_CHROMIUM, CHROME_PATH, the usual paths); `npm test`
    // installs it first when it can (scripts/ensure-chromium.mjs), and never uses a downloaded browser.
    const found = findChromium();
    if (found.path === undefined) throw new Error(chromiumHowTo(found.problem));
    browser = await chromium.launch({
      executablePath: found.path,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
  }, 30_000);
  afterAll(async () => {
    await browser?.close();
  });

  /** Open a report and collect every console error or warning, page error and network request. */
  async function openReport(path: string, viewport = { width: 1800, height: 1000 }): Promise<{ page: Page; problems: string[] }> {
    const page = await browser.newPage({ viewport });
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(`${message.type()}: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
    page.on('request', (request) => {
      if (!request.url().startsWith('file:')) problems.push(`network: ${request.url()}`);
    });
    await page.goto(pathToFileURL(path).href);
    await page.waitForLoadState('load');
    return { page, problems };
  }

  it('renders a failing simulator run with no errors: plot, series, trace table, the broken step in view', async () => {
    // `spillsim sim --seed 1 --prefetch-budget 0`: the reader never fetches, the simulator reports it.
    const run = runSimulation({ seed: 1, prefetchBudgetBytes: 0, recordTrace: 'full' });
    expect(run.ok).toBe(false);
    const { page, problems } = await openReport(writeReport(run, join(dir, 'sim-run.html')));
    expect(await page.locator('svg.plot').count()).toBe(1);
    for (const kind of ['resident', 'paged', 'inFlight']) {
      const series = page.locator(`svg.plot path.series.${kind}[data-queue="q0"]`);
      expect(await series.count()).toBe(1);
      expect((await series.boundingBox())!.width).toBeGreaterThan(100);
    }
    expect(await page.locator('svg.plot .policy-line').count()).toBeGreaterThan(0);
    expect(await page.locator('svg.plot .marker.spill').count()).toBe(run.trace!.filter((s) => s.op === 'spill').length);
    expect(await page.locator('table.trace tbody tr').count()).toBe(run.trace!.length);
    const violating = page.locator('tr.violating');
    expect(await violating.count()).toBe(1);
    expect(await violating.getAttribute('data-step')).toBe(String(run.violation!.step));
    await expect.poll(() => rowInView(page, run.violation!.step)).toBe(true);
    expect(await page.locator('.verdict.broken').innerText()).toContain(`Invariant ${run.violation!.invariant} broke at step ${run.violation!.step}`);
    // The README's screenshot is refreshed on request only, so a test run never edits the tree.
    const screenshot = await page.screenshot({ ...(process.env.SPILLSIM_UPDATE_SCREENSHOT === '1' ? { path: resolve('docs/report.png') } : {}) });
    expect(screenshot.byteLength).toBeGreaterThan(10_000);
    expect(problems).toEqual([]);
    await page.close();
  }, 60_000);

  it('draws a marker for every kind of event, and a click on one brings its row into view', async () => {
    const run = stallingRun();
    // A small window, so the table cannot show the whole trace at once.
    const { page, problems } = await openReport(writeReport(run, join(dir, 'browser.html')), { width: 1400, height: 600 });
    for (const kind of ['spill', 'partial-spill', 'fetch-failed', 'buzz', 'park', 'stall']) {
      const expected = run.trace!.filter((s) => s.op === kind || (kind === 'buzz' && (s.buzzes ?? 0) > 0)).length;
      expect({ kind, count: await page.locator(`svg.plot .marker.${kind}`).count() }).toEqual({ kind, count: expected });
    }
    await expect.poll(() => rowInView(page, run.violation!.step)).toBe(true);
    const firstSpill = page.locator('svg.plot .marker.spill').first();
    const spillStep = Number(await firstSpill.getAttribute('data-step'));
    expect(await rowInView(page, spillStep)).toBe(false);
    await firstSpill.click();
    await expect.poll(() => rowInView(page, spillStep)).toBe(true);
    expect(problems).toEqual([]);
    await page.close();
  }, 60_000);

  it('renders a real failure fixture with no errors', async () => {
    const fixture = await realFixture();
    const { page, problems } = await openReport(writeReport(fixture, join(dir, 'fixture.html')));
    expect(await page.locator('svg.plot path.series.resident[data-queue="q0"]').count()).toBe(1);
    expect(await page.locator('table.trace tbody tr').count()).toBe(numberedLines(fixture.trace));
    expect(await page.locator('tr.violating').getAttribute('data-step')).toBe(String(fixture.broke.step));
    expect(await page.locator('.verdict.broken').innerText()).toContain(`Invariant order broke at step ${fixture.broke.step}`);
    const screenshot = await page.screenshot({ ...(process.env.SPILLSIM_UPDATE_SCREENSHOT === '1' ? { path: resolve('docs/report-fixture.png') } : {}) });
    expect(screenshot.byteLength).toBeGreaterThan(10_000);
    expect(problems).toEqual([]);
    await page.close();
  }, 60_000);
});
