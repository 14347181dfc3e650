import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureBuilt, runBuiltCli } from './support/built_cli.js';
import { runMain } from './support/run_main.js';
import { ExampleDb } from '../properties/example_db.js';
import { makeFixture } from '../properties/fixture.js';
import { runSuite } from '../properties/run_suite.js';
import { planLanes } from '../properties/conformance/lanes.js';
import { selectClauses } from '../properties/conformance/run_backend_clauses.js';

interface JsonReport {
  exitCode: number;
  reports: { verdicts: { id: string; status: string; detail?: string }[] }[];
}

const verdictsOf = (stdout: string): JsonReport['reports'][0]['verdicts'] => (JSON.parse(stdout) as JsonReport).reports[0]!.verdicts;

describe('hostile backends: a one-line reason each, never exit 0, never a stack trace or a hang', () => {
  const cases: [string, string[], RegExp][] = [
    ['exits.mjs', ['--clause', 'fetch.exact-bytes'], /^the backend called process\.exit\(3\): the worker ended in the middle of the unit$/],
    ['floods-stdout.mjs', ['--clause', 'spill.large-chunk'], /^the backend flooded its output: [\d.]+ MiB written to stdout\/stderr in one unit \(at most 4 MiB\), so the worker was stopped$/],
    ['rejects-later.mjs', ['--clause', 'fetch.exact-bytes'], /^the backend left an unhandled promise rejection: Error: background flush failed/],
    ['timer-throws.mjs', ['--clause', 'fetch.exact-bytes'], /^the backend threw from a callback of its own \(a timer or an event\), outside any call: Error: compaction failed/],
    ['loops-always.mjs', ['--clause', 'spill.makes-progress', '--timeout-ms', '1000'], /^no answer within 1000 ms: no backend call returned in that time \(0 made before\), a loop or a hang, so the worker was stopped$/],
  ];
  for (const [module, args, reason] of cases) {
    it(`${module}: ${reason.source.slice(1, 50)}…`, async () => {
      const { code, stdout, stderr } = await runMain(['validate', `fixtures/backends/hostile/${module}`, '--json', ...args]);
      expect(stderr).toBe('');
      expect(code).toBe(1);
      const [verdict] = verdictsOf(stdout);
      expect(['broken', 'timeout']).toContain(verdict!.status);
      expect(verdict!.detail).toMatch(reason);
    });
  }

  it('a module that loops in every call: two clauses and one suite cut off, the rest skipped (not a time limit each)', async () => {
    const { code, stdout } = await runMain(['validate', 'fixtures/backends/hostile/loops-always.mjs', '--json', '--timeout-ms', '1000']);
    expect(code).toBe(1);
    const verdicts = verdictsOf(stdout);
    const clauses = verdicts.filter((v) => !v.id.startsWith('suite.'));
    const suites = verdicts.filter((v) => v.id.startsWith('suite.'));
    // The lanes run side by side, so which units are cut off first depends on timing; how many does not.
    const cutClauses = clauses.filter((v) => v.status === 'timeout' && v.detail?.startsWith('no answer within')).map((v) => v.id);
    expect(cutClauses).toHaveLength(2);
    // A skip names the clauses cut off before it, in the order the timing gave: both, here.
    const PREFIX = 'skipped: the backend was already cut off in ';
    const namesCut = (detail: string | undefined): string[] => (detail?.startsWith(PREFIX) ? detail.slice(PREFIX.length).split(' and ').sort() : []);
    expect(clauses.filter((v) => namesCut(v.detail).join() === cutClauses.slice().sort().join()).length).toBeGreaterThan(20);
    const cutSuites = suites.filter((v) => v.status === 'timeout' && v.detail?.startsWith('no answer within')).map((v) => v.id);
    expect(cutSuites).toHaveLength(1);
    expect(suites.filter((v) => v.detail === `skipped: the backend was already cut off in ${cutSuites[0]}`)).toHaveLength(suites.length - 1);
    expect(verdicts.some((v) => v.status === 'held')).toBe(false);
  });

  it('a dispose that never returns is named, in a thread lane, in the process lane and in the suites', async () => {
    const named = /^no answer within 1000 ms: waiting for the backend's dispose\(spill\) to return \(\d+ backend calls made before it\), a loop or a hang in dispose, so the worker was stopped$/;
    // fds.closed counts the process's descriptors, so it runs in a child process of its own.
    expect(planLanes(selectClauses(['spill.makes-progress', 'fds.closed']), []).map((lane) => [lane.units, lane.host])).toEqual([[['fds.closed'], 'process'], [['spill.makes-progress'], 'thread']]);
    for (const clause of ['spill.makes-progress', 'fds.closed']) {
      const { code, stdout, stderr } = await runMain(['validate', 'fixtures/backends/hangs-in-dispose.mjs', '--json', '--clause', clause, '--timeout-ms', '1000']);
      expect(stderr).toBe('');
      expect(code).toBe(1);
      expect(verdictsOf(stdout)).toEqual([expect.objectContaining({ id: clause, status: 'timeout', detail: expect.stringMatching(named) })]);
    }
    const whole = await runMain(['validate', 'fixtures/backends/hangs-in-dispose.mjs', '--json', '--timeout-ms', '1000']);
    expect(whole.code).toBe(1);
    const suites = verdictsOf(whole.stdout).filter((v) => v.id.startsWith('suite.'));
    expect(suites.filter((v) => v.status !== 'timeout')).toEqual([]);
    // One suite is cut off (which one depends on timing), the others skipped naming where dispose hung.
    const cut = suites.filter((v) => !v.detail!.startsWith('skipped: '));
    expect(cut).toEqual([expect.objectContaining({ detail: expect.stringMatching(named) })]);
  });

  it('a worker stopped in the middle of a suite leaves no directory behind (the runner removes what the suite made)', async () => {
    await ensureBuilt();
    const tmp = mkdtempSync(join(tmpdir(), 'spillsim-hostile-tmp-'));
    try {
      // The dispose hangs, so every suite's worker is stopped before its own clean-up runs.
      const run = await runBuiltCli(['validate', 'fixtures/backends/hangs-in-dispose.mjs', '--quiet', '--timeout-ms', '1000'], { env: { TMPDIR: tmp } });
      expect(run.code).toBe(1);
      // The runner removes them once the worker has stopped: look for up to 5 s.
      const until = performance.now() + 5_000;
      while (readdirSync(tmp).length > 0 && performance.now() < until) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(readdirSync(tmp)).toEqual([]);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }, 120_000);

  it('a factory that never resolves: no suite is held for runs it never finished', async () => {
    // Default limits: a suite's 4 s share for generating runs ends before the 10 s stuck limit.
    const { code, stdout } = await runMain(['validate', 'fixtures/backends/hangs.mjs', '--json']);
    expect(code).toBe(1);
    const suites = verdictsOf(stdout).filter((v) => v.id.startsWith('suite.'));
    expect(suites.filter((v) => v.status !== 'timeout')).toEqual([]);
    expect(suites.some((v) => /^no run finished within the 4 s a suite may generate runs for \(0 backend calls made\)/.test(v.detail ?? ''))).toBe(true);
  });

  it('a slow backend that keeps answering is not hung: the limit is on progress, not on the clock', async () => {
    // 20 ms per call and a 3 s limit: spill.huge-list makes over 200 calls (4 s in all), each in time.
    process.env.LATENCY_MS = '20';
    try {
      const { code, stdout } = await runMain(['validate', 'fixtures/cases/backends/slow-correct.mjs', '--json', '--clause', 'spill.huge-list', '--timeout-ms', '3000']);
      expect(verdictsOf(stdout)[0]).toMatchObject({ status: 'held' });
      expect(code).toBe(0);
    } finally {
      delete process.env.LATENCY_MS;
    }
  });
});

describe('knobs of the kit are checked before any backend runs', () => {
  it('a bad --example, an impossible --timeout-ms, a class as the default export: exit 2, one line', async () => {
    const cases: [string[], RegExp][] = [
      [['--clause', 'fetch.any-order', '--example', '{"lengthsBytes":[1,2],"fetchOrder":[0,0]}'], /--example: fetchOrder names handle 0 twice/],
      [['--clause', 'fetch.any-order', '--example', '{"lengthsBytes":["7"],"fetchOrder":[0]}'], /--example: lengthsBytes\[0\] is "7"/],
      [['--clause', 'fetch.any-order', '--example', '{"lengthsBytes":[99999999999],"fetchOrder":[0]}'], /--example: lengthsBytes\[0\] is 99999999999; each length is a whole number of bytes from 0 to/],
      [['--clause', 'spill.empty-list', '--example', '{}'], /spill\.empty-list draws no random cases/],
      [['--timeout-ms', '99999999999'], /--timeout-ms must be from 1 to 2147483647/],
    ];
    for (const [args, reason] of cases) {
      const { code, stdout, stderr } = await runMain(['validate', 'fixtures/backends/memory.mjs', ...args]);
      expect(code, args.join(' ')).toBe(2);
      expect(stdout).toBe('');
      expect(stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(stderr).toMatch(reason);
    }
  });

  it('the example database keys a failure by its backend: another backend never replays it', async () => {
    const root = mkdtempSync(join(tmpdir(), 'spillsim-exdb-'));
    const db = new ExampleDb(root);
    const result = await runSuite('ordering', { variant: 'broken-prefetch-out-of-order', runs: 50, seed: 1 });
    expect(result.failure).toBeDefined();
    db.save(makeFixture('ordering', 'broken-prefetch-out-of-order', result.failure!, 'fixtures/backends/a.mjs'));
    db.save(makeFixture('ordering', 'broken-prefetch-out-of-order', result.failure!));
    expect(readdirSync(db.dir)).toHaveLength(2);
    expect(db.entries('ordering', 'broken-prefetch-out-of-order', 'fixtures/backends/a.mjs')).toHaveLength(1);
    expect(db.entries('ordering', 'broken-prefetch-out-of-order', 'fixtures/backends/b.mjs')).toHaveLength(0);
    const plain = db.entries('ordering', 'broken-prefetch-out-of-order');
    expect(plain).toHaveLength(1);
    expect(JSON.parse(readFileSync(plain[0]!.path, 'utf8')).backend).toBeUndefined();
  });
});

describe('check --backend and replay --backend run the backend isolated, as validate does', () => {
  it('check: process.exit and a throwing timer are one line each and exit 1', async () => {
    const cases: [string, RegExp][] = [
      ['exits.mjs', /^FAILED ordering: the backend called process\.exit\(3\)/m],
      ['timer-throws.mjs', /^FAILED ordering: the backend threw from a callback of its own/m],
    ];
    for (const [module, line] of cases) {
      const { code, stdout, stderr } = await runMain(['check', '--backend', `fixtures/backends/hostile/${module}`, '--suite', 'ordering', '--seed', '1', '--runs', '5', '--no-example-db']);
      expect(code, module).toBe(1);
      expect(stdout).toMatch(line);
      expect(`${stdout}${stderr}`).not.toMatch(/\n\s+at .*:\d+/);
    }
  });

  it('check: a correct backend still holds', async () => {
    const { code, stdout } = await runMain(['check', '--backend', 'fixtures/backends/memory.mjs', '--suite', 'ordering', '--seed', '1', '--runs', '5', '--no-example-db']);
    expect(stdout).toMatch(/ordering +5 +\d+ +.* held/);
    expect(code).toBe(0);
  });

  it('replay: a backend that exits is one line on stderr and exit 1; a correct one replays the trace', async () => {
    const found = await runSuite('ordering', { variant: 'broken-prefetch-out-of-order', runs: 50, seed: 1 });
    const { seed, path } = found.failure!;
    const bad = await runMain(['replay', '--property', 'ordering', '--variant', 'broken-prefetch-out-of-order', '--seed', String(seed), '--path', path, '--backend', 'fixtures/backends/hostile/exits.mjs']);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim()).toMatch(/^spillsim replay: the backend called process\.exit\(3\)/);
    const good = await runMain(['replay', '--property', 'ordering', '--variant', 'broken-prefetch-out-of-order', '--seed', String(seed), '--path', path, '--backend', 'fixtures/backends/memory.mjs']);
    expect(good.code).toBe(1);
    expect(good.stdout).toMatch(/BROKE rule/);
  });

  it('a check failure from process-wide state is said not to reproduce, and so is its saved fixture: never "now passes"', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spillsim-hidden-'));
    const checked = await runMain(['check', '--backend', 'fixtures/cases/backends/hidden-global-counter.mjs', '--suite', 'exhaustive', '--seed', '1', '--save-failures', dir, '--no-example-db']);
    expect(checked.code).toBe(1);
    expect(checked.stdout).toMatch(/^NOT REPRODUCED: replayed alone in a fresh worker with a fresh instance of fixtures\/cases\/backends\/hidden-global-counter\.mjs, it did not fail/m);
    const [saved] = readdirSync(dir);
    expect(JSON.parse(readFileSync(join(dir, saved!), 'utf8')).reproducedAlone).toBe(false);
    const replayed = await runMain(['replay', join(dir, saved!)]);
    expect(replayed.code).toBe(1);
    expect(replayed.stdout).toContain(': did not reproduce: as when it was saved, it does not fail alone in a fresh instance');
    expect(replayed.stdout).not.toContain('now passes');
    // The JSON report says the same as the text, with the same exit code.
    const json = await runMain(['replay', join(dir, saved!), '--json']);
    expect(json.code).toBe(1);
    const [fixture] = (JSON.parse(json.stdout) as { fixtures: { verdict: string; summary: string }[] }).fixtures;
    expect(fixture!.verdict).toBe('not-reproduced');
    expect(fixture!.summary).toMatch(/does not fail alone in a fresh instance.*not a fix/);
  });
});
