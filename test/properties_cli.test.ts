import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, REPO_ROOT, runBuiltCli } from './support/built_cli.js';

beforeAll(async () => {
  await ensureBuilt();
}, 200_000);

const made: string[] = [];
const tempDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'spillsim-check-cli-'));
  made.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

describe('spillsim check', () => {
  it('runs the chosen suites, ends with a table and exits 0 when they hold', async () => {
    const run = await runBuiltCli(['check', '--suite', 'ordering,exhaustive', '--runs', '30', '--seed', '5', '--no-example-db']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/suite\s+runs\s+commands\s+time\s+result/);
    expect(run.stdout).toMatch(/ordering\s+30\s+\d+\s+\S+ m?s\s+held/);
    expect(run.stdout).toMatch(/exhaustive\s+\d+/);
    expect(run.stdout).toContain('all suites held');
    // Not a terminal: progress comes as plain lines on stderr.
    expect(run.stderr).toMatch(/runs: \d+\/\d+ done, 0 failed/);
  });

  it('--json prints one parseable report and nothing else', async () => {
    const run = await runBuiltCli(['check', '--suite', 'memory-bound', '--runs', '10', '--seed', '3', '--json', '--no-example-db']);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report).toMatchObject({ ok: true, seed: 3, suites: [{ suite: 'memory-bound', runs: 10, ok: true }] });
    expect(run.stderr).toBe('');
  });

  it('a broken variant fails with exit 1, a numbered trace and a replay command that reproduces it', async () => {
    const cwd = tempDir();
    const run = await runBuiltCli(['check', '--suite', 'ordering', '--variant', 'broken-prefetch-out-of-order', '--seed', '42', '--quiet', '--save-failures', join(cwd, 'saved')], { cwd });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('FAILED ordering (broken-prefetch-out-of-order): rule order');
    expect(run.stdout).toMatch(/\n\s+1\. ExtendCommand\(q0/);
    expect(run.stdout).toContain('what could vary and still fail:');
    const replayLine = run.stdout.split('\n').find((line) => line.startsWith('replay: '))!;
    const path = /--path '([^']+)'/.exec(replayLine)![1]!;
    const replay = await runBuiltCli(['replay', '--property', 'ordering', '--variant', 'broken-prefetch-out-of-order', '--seed', '42', '--path', path]);
    expect(replay.code).toBe(1);
    expect(replay.stdout).toContain('BROKE rule order');
    // The failure was remembered in the working directory's example database.
    expect(readdirSync(join(cwd, '.spillsim', 'examples'))).toHaveLength(1);
    // And saved as a fixture: it replays as the same failure, and passes on the shipped library.
    const saved = readdirSync(join(cwd, 'saved'));
    expect(saved).toHaveLength(1);
    const same = await runBuiltCli(['replay', join(cwd, 'saved', saved[0]!)]);
    expect(same.code).toBe(1);
    expect(same.stdout).toContain('same failure');
    const fixed = await runBuiltCli(['replay', join(cwd, 'saved', saved[0]!), '--variant', 'default']);
    expect(fixed.code).toBe(0);
    expect(fixed.stdout).toContain('now passes');
  });

  it('--report writes an HTML report of the failure, holding its shrunk trace', async () => {
    const cwd = tempDir();
    const run = await runBuiltCli(['check', '--suite', 'ordering', '--variant', 'broken-prefetch-out-of-order', '--seed', '42', '--quiet', '--no-example-db', '--report', 'out/failure.html'], { cwd });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('report: out/failure.html');
    const html = readFileSync(join(cwd, 'out', 'failure.html'), 'utf8');
    expect(html).toMatch(/<html/i);
    expect(html).toContain('ExtendCommand');
  });

  it('--backend runs the suites over a user backend, and its replay command names it', async () => {
    // One directory per generated system, all under one parent that is gone when the command
    // ends: the command's own temp dir is empty again.
    const tmp = tempDir();
    const good = await runBuiltCli(['check', '--suite', 'ordering', '--runs', '40', '--seed', '2', '--backend', 'fixtures/backends/memory.mjs', '--no-example-db', '--quiet'], { env: { TMPDIR: tmp } });
    expect(readdirSync(tmp)).toEqual([]);
    expect(good.code).toBe(0);
    const bad = await runBuiltCli(['check', '--suite', 'partial-spill', '--runs', '2000', '--seed', '3', '--backend', 'fixtures/backends/drains-back.mjs', '--no-example-db', '--quiet']);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('E_BACKEND_CONTRACT');
    expect(bad.stdout).toMatch(/replay: spillsim replay --property partial-spill --seed 3 --path '[^']+' --backend fixtures\/backends\/drains-back.mjs/);
    const missing = await runBuiltCli(['check', '--backend', './nowhere.mjs']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('nowhere.mjs');
  });

  it('--timeout-ms: a backend whose call never returns is reported after that long, not the default 10 s', async () => {
    const run = await runBuiltCli(['check', '--suite', 'ordering,no-stall', '--seed', '1', '--backend', 'fixtures/backends/hangs.mjs', '--timeout-ms', '300', '--no-example-db', '--quiet']);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('FAILED ordering: no answer within 300 ms (the factory never returned)');
    expect(run.stdout).toContain('FAILED no-stall: skipped: the factory already hung in ordering');
    expect(run.stdout).toMatch(/ordering\s+0\s+-\s+\S+ m?s\s+FAILED: cut off/);
  });

  it('bad input exits 2 with one line, never a stack trace', async () => {
    const unknown = await runBuiltCli(['check', '--suite', 'nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown suite "nope"; suites are: ordering, no-stall');
    expect(unknown.stderr).not.toMatch(/\n\s+at /);
    const variant = await runBuiltCli(['check', '--suite', 'ordering', '--variant', 'broken-nothing']);
    expect(variant.code).toBe(2);
    expect(variant.stderr).toContain('has no variant "broken-nothing"');
    const runs = await runBuiltCli(['check', '--runs', 'many']);
    expect(runs.code).toBe(2);
  });
});

describe('spillsim replay', () => {
  it('reports a fixture that no longer parses by name, with the reason, exit 2', async () => {
    const dir = tempDir();
    const saved = JSON.parse(readFileSync(join(REPO_ROOT, 'fixtures/failures/ordering--broken-prefetch-out-of-order--2306aed1ec.json'), 'utf8')) as object;
    writeFileSync(join(dir, 'old.json'), JSON.stringify({ ...saved, commands: [{ op: 'warp', speed: 9 }] }));
    writeFileSync(join(dir, 'garbage.json'), '{ not json');
    const run = await runBuiltCli(['replay', dir]);
    expect(run.code).toBe(2);
    expect(run.stdout).toContain('old.json: no longer valid: command 1 no longer applies: unknown op "warp"');
    expect(run.stdout).toContain('garbage.json: not a fixture: garbage.json is not valid JSON');
  });

  it('replays the repository fixtures', async () => {
    const run = await runBuiltCli(['replay', join(REPO_ROOT, 'fixtures', 'failures')]);
    expect(run.code).toBe(1);
    expect(run.stdout).not.toContain('no longer valid');
    expect(run.stdout).toContain('same failure');
  });

  it('needs fixtures or --property/--seed/--path', async () => {
    const run = await runBuiltCli(['replay', '--property', 'ordering']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('give fixture files, or --property NAME --seed S --path P');
  });
});
