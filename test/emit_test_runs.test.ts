import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, REPO_ROOT, runBuiltCli } from './support/built_cli.js';

// The test file `spillsim validate --emit-test` writes must run where a user runs it: inside this
// repository (vitest.config.ts resolves `spillsim` and `spillsim/vitest` to the source) and in a
// project that installed spillsim (the package's `spillsim/vitest` export).

const VITEST = join(REPO_ROOT, 'node_modules/vitest/vitest.mjs');

function run(args: string[], cwd: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { cwd, env: { ...process.env, NO_COLOR: '1', CI: '1' }, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, output: `${stdout}${stderr}` });
    });
  });
}

/** Emit the repro test of the broken arena backend (it reuses its buffer and pins it) into `dir`, from `cwd`. */
async function emit(cwd: string, module: string, outPath: string): Promise<void> {
  const emitted = await runBuiltCli(['validate', module, '--no-suites', '--quiet', '--emit-test', outPath], { cwd });
  expect(emitted.code).toBe(1);
  expect(emitted.stdout).toContain(`wrote ${outPath}: 2 test(s) replaying fetch.after-buffer-reuse, fetch.no-pinning`);
}

describe('the test file --emit-test writes', () => {
  // Under tmp/ (git-ignored); removed afterwards, so `npm test` never picks one up.
  const inRepo = join(REPO_ROOT, 'tmp', `emit-${process.pid}`);
  let project: string;
  beforeAll(async () => {
    await ensureBuilt();
    mkdirSync(inRepo, { recursive: true });
    project = mkdtempSync(join(tmpdir(), 'spillsim-user-project-'));
  }, 180_000);
  afterAll(() => {
    rmSync(inRepo, { recursive: true, force: true });
    rmSync(project, { recursive: true, force: true });
  });

  it('runs inside this repository: fails on the broken backend, passes once it points at the fixed one', async () => {
    const file = join(inRepo, 'arena.repro.test.ts');
    await emit(REPO_ROOT, 'examples/arena-spill.mjs', file);
    const broken = await run([VITEST, 'run', file], REPO_ROOT);
    expect(broken.output).toMatch(/fetch\.after-buffer-reuse holds/);
    expect(broken.output).toMatch(/Tests\s+2 failed/);
    expect(broken.code).toBe(1);
    writeFileSync(file, readFileSync(file, 'utf8').replace('examples/arena-spill.mjs"', 'examples/arena-spill-fixed.mjs"'));
    const fixed = await run([VITEST, 'run', file], REPO_ROOT);
    expect(fixed.output).toMatch(/Tests\s+2 passed/);
    expect(fixed.code).toBe(0);
  }, 180_000);

  it('for a program (--exec), runs from another working directory: the script path in its command line is relative to the test file', async () => {
    const file = join(inRepo, 'leaks-fd.repro.test.ts');
    const emitted = await runBuiltCli(['validate', '--exec', 'node fixtures/backends/exec/leaks-fd.mjs', '--no-suites', '--quiet', '--emit-test', file], { cwd: REPO_ROOT });
    expect(emitted.stdout).toContain(`wrote ${file}: 1 test(s) replaying fds.closed`);
    // Run from the temporary directory: a path left relative to where validate ran would not be found.
    const broken = await run([VITEST, 'run', file, '--root', REPO_ROOT], tmpdir());
    expect(broken.output).toMatch(/fds\.closed holds/);
    expect(broken.output).toMatch(/descriptors \(fd \d+ -> \/dev\/null/);
    expect(broken.output).toMatch(/Tests\s+1 failed/);
  }, 180_000);

  it("runs in a user's project that installed spillsim and vitest", async () => {
    // A project as npm lays it out: spillsim (this package, built) and vitest in node_modules.
    mkdirSync(join(project, 'node_modules'));
    symlinkSync(REPO_ROOT, join(project, 'node_modules/spillsim'), 'dir');
    symlinkSync(join(REPO_ROOT, 'node_modules/vitest'), join(project, 'node_modules/vitest'), 'dir');
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'my-backend', type: 'module', private: true }));
    cpSync(join(REPO_ROOT, 'examples/arena-spill.mjs'), join(project, 'arena-spill.mjs'));
    await emit(project, 'arena-spill.mjs', 'arena.repro.test.ts');
    const broken = await run([VITEST, 'run', 'arena.repro.test.ts'], project);
    expect(broken.output).toMatch(/fetch\.after-buffer-reuse holds/);
    expect(broken.output).toMatch(/Tests\s+2 failed/);
    expect(broken.code).toBe(1);
  }, 180_000);
});

describe('describeBackend with a time budget', () => {
  const inRepo = join(REPO_ROOT, 'tmp', `budget-${process.pid}`);
  afterAll(() => rmSync(inRepo, { recursive: true, force: true }));

  it('fails the clauses the budget left unjudged instead of skipping them (as validate exits 1)', async () => {
    mkdirSync(inRepo, { recursive: true });
    const file = join(inRepo, 'budget.repro.test.ts');
    writeFileSync(
      file,
      [
        "import { describeBackend } from 'spillsim/vitest';",
        "import { MemorySpill } from 'spillsim';",
        `describeBackend('memory module, 1 ms budget', ${JSON.stringify(join(REPO_ROOT, 'fixtures/backends/memory.mjs'))}, { budgetMs: 1, suites: false });`,
        // The factory form keeps the same budget (it used to ignore it and pass).
        "describeBackend('memory factory, 1 ms budget', () => new MemorySpill(), { budgetMs: 1, suites: false });",
        '',
      ].join('\n'),
    );
    const result = await run([VITEST, 'run', file, '--reporter', 'verbose'], REPO_ROOT);
    // Both forms fail the clauses left unrun (which clauses get judged before 1 ms is out depends on timing).
    for (const block of ['memory module', 'memory factory']) {
      expect(result.output).toMatch(new RegExp(`× \\S+ > ${block}, 1 ms budget > (\\S+)[^\\n]*\\n +→ \\1 was not judged: skipped: the time budget of this run was spent`));
    }
    expect(result.code).toBe(1);
  }, 180_000);

  it('a budget or timeout that is not a whole number of milliseconds in range is refused when the block is registered', async () => {
    mkdirSync(inRepo, { recursive: true });
    const file = join(inRepo, 'bad-budget.repro.test.ts');
    writeFileSync(file, ["import { describeBackend } from 'spillsim/vitest';", "import { MemorySpill } from 'spillsim';", "describeBackend('x', () => new MemorySpill(), { budgetMs: Number.NaN });", ''].join('\n'));
    const result = await run([VITEST, 'run', file], REPO_ROOT);
    expect(result.output).toContain('describeBackend: budgetMs must be a whole number of milliseconds from 1 to 2147483647');
    expect(result.code).toBe(1);
  }, 180_000);
});
