import { afterEach, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseByteSize } from '../cli/commands/sim.js';
import { type MainRun, runMain } from './support/run_main.js';

/** Run `spillsim sim ...args` in-process; returns the exit code and what it printed. */
const sim = (...args: string[]): Promise<MainRun> => runMain(['sim', ...args]);

afterEach(() => vi.restoreAllMocks());

describe('spillsim sim', () => {
  it('exits 0 on a seed that holds, and says what the run did', async () => {
    const { code, stdout } = await sim('--seed', '1');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^ok seed 1: \d+ steps, .* delivered, .* spilled, faults: .*, trace [0-9a-f]{16}\n$/);
  });

  it('--prefetch-budget 0 is reported as a livelock with a replay command, exit 1', async () => {
    const { code, stdout } = await sim('--prefetch-budget', '0');
    expect(code).toBe(1);
    expect(stdout).toContain('FAILED seed 1: Invariant no-livelock broke at step');
    expect(stdout).toContain('replay: spillsim sim --seed 1 --prefetch-budget 0 --trace');
  });

  it('--seeds 1..200 passes', async () => {
    const { code, stdout } = await sim('--seeds', '1..200', '--quiet');
    expect(stdout).toContain('200 seeds: 200 held, 0 failed');
    expect(code).toBe(0);
  }, 60_000);

  it('--json prints one parseable object per run with seed, ok, traceHash, steps', async () => {
    const { code, stdout } = await sim('--seeds', '5..7', '--json', '--workload', 'mesh');
    expect(code).toBe(0);
    const runs = stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(runs.map((r) => r.seed)).toEqual([5, 6, 7]);
    for (const r of runs) {
      expect(r.ok).toBe(true);
      expect(r.traceHash).toMatch(/^[0-9a-f]{64}$/);
      expect(r.steps).toBeGreaterThan(0);
      expect(r.trace).toBeUndefined();
    }
  });

  it('--json on a failure carries the violation and the trace tail', async () => {
    const { code, stdout } = await sim('--seed', '1', '--json', '--reader-policy', 'none');
    expect(code).toBe(1);
    const run = JSON.parse(stdout) as { ok: boolean; violation: { invariant: string; step: number }; trace: Array<{ step: number }> };
    expect(run.ok).toBe(false);
    expect(run.violation.invariant).toBe('no-livelock');
    expect(run.trace.at(-1)!.step).toBe(run.violation.step);
  });

  it('--report writes the HTML report of the failing run, with its plot and trace', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'spillsim-sim-report-')), 'run.html');
    const run = await sim('--prefetch-budget', '0', '--report', path);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/report: .*run\.html/);
    const html = readFileSync(path, 'utf8');
    expect(html).toContain('<svg');
    expect(html).toContain('no-livelock');
  });

  it('--check-determinism runs twice and agrees', async () => {
    const { code, stdout } = await sim('--seed', '4', '--workload', 'cluster', '--check-determinism');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^seed 4: deterministic \(\d+ steps, trace [0-9a-f]{16} both times\)\n$/);
  });

  it('--trace prints the numbered trace', async () => {
    const { code, stdout } = await sim('--seed', '2', '--trace', '--faults', 'none');
    expect(code).toBe(0);
    expect(stdout).toMatch(/# ?0 t= ?0 writer extend/);
    expect(stdout).toContain('writer');
  });

  it.each([
    [['--threshold', 'lots'], '--threshold must be a whole number of bytes'],
    [['--seeds', '9..3'], '--seeds must be a range A..B'],
    [['--faults', 'gremlins'], "unknown fault kind 'gremlins'"],
    [['--workload', 'ring'], '--workload must be one of single, mesh, cluster, any'],
    [['--variant', 'slow'], '--variant must be one of fast, reference'],
    [['--seed', '1', '--seeds', '1..2'], 'either --seed or --seeds'],
    [['--workload', 'mesh', '--peers', '1'], '--peers must be at least 2 for a mesh'],
    [['--workload', 'cluster', '--consumer-hold', '1MiB'], '--consumer-hold applies to --workload single only'],
  ])('bad input %j exits 2 with one line', async (args, message) => {
    const { code, stdout, stderr } = await sim(...args);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain(message);
    expect(stderr.trim().split('\n')).toHaveLength(1);
  });

  it('has one wiring: --wiring is no longer a flag', async () => {
    const { code, stdout, stderr } = await sim('--workload', 'mesh', '--wiring', 'direct');
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain("unknown option '--wiring'");
  });

  it('reads byte sizes with binary suffixes', () => {
    expect(parseByteSize('--x', '64KiB')).toBe(65536);
    expect(parseByteSize('--x', '1.5 MiB')).toBe(1572864);
    expect(parseByteSize('--x', '4096')).toBe(4096);
    expect(() => parseByteSize('--x', '0.5')).toThrow(/whole number of bytes/);
  });
});
