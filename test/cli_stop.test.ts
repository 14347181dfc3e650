import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateDifferential } from '../properties/conformance/validate.js';
import { closeRunDir, RUN_DIR_ENV } from '../properties/run_dir.js';
import { ensureBuilt, REPO_ROOT, runBuiltCli, startBuiltCli, type StartedCli } from './support/built_cli.js';

// How a command ends when it cannot finish: an output it cannot write, a signal, a backend cut
// off. Each case runs the built command as a user does and looks at what it left behind.

beforeAll(async () => {
  await ensureBuilt();
}, 200_000);

const made: string[] = [];
/** A fresh, empty directory to point the command's TMPDIR at. */
const freshTmp = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'spillsim-stop-'));
  made.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

const WAIT_MS_MAX = 30_000;

/** Poll `found` until it returns something (not undefined/false), failing with `what` after WAIT_MS_MAX. */
async function waitFor<T>(what: string, found: () => T | undefined | false): Promise<T> {
  const deadline = Date.now() + WAIT_MS_MAX;
  for (;;) {
    const value = found();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Directories in `tmp`, or one level down (in the command's run directory), whose name starts with `prefix`. */
function dirsNamed(tmp: string, prefix: string): string[] {
  const found: string[] = [];
  for (const name of readdirSync(tmp)) {
    if (name.startsWith(prefix)) found.push(join(tmp, name));
    else if (name.startsWith('spillsim-')) {
      try {
        for (const inner of readdirSync(join(tmp, name))) if (inner.startsWith(prefix)) found.push(join(tmp, name, inner));
      } catch {
        // Not a directory, or removed meanwhile.
      }
    }
  }
  return found;
}

/** Every process `pid` started, and theirs (Linux /proc). */
function descendants(pid: number): number[] {
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const each = queue.shift()!;
    let tasks: string[] = [];
    try {
      tasks = readdirSync(`/proc/${each}/task`);
    } catch {
      continue;
    }
    for (const tid of tasks) {
      let words: string[] = [];
      try {
        words = readFileSync(`/proc/${each}/task/${tid}/children`, 'utf8').split(' ').filter((w) => w.length > 0);
      } catch {
        // The thread ended meanwhile.
      }
      for (const word of words) {
        found.push(Number(word));
        queue.push(Number(word));
      }
    }
  }
  return found;
}

/** Whether `pid` is a process still running (a zombie waiting for init to reap it is not). */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

async function stderrOf(started: StartedCli): Promise<string> {
  let text = '';
  started.child.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  await started.exited;
  return text;
}

describe('an output the command cannot write', () => {
  it.each([
    ['sim', ['sim', '--seed', '1', '--json']],
    ['check', ['check', '--suite', 'exhaustive', '--json']],
    ['validate', ['validate', 'fixtures/backends/memory.mjs', '--json']],
  ])('%s > /dev/full: one line on stderr and exit 2, not a stack trace', async (_name, args) => {
    const full = openSync('/dev/full', 'w');
    try {
      const started = startBuiltCli(args, { stdio: ['ignore', full, 'pipe'] });
      const stderr = await stderrOf(started);
      expect(await started.exited).toEqual({ code: 2, signal: null });
      expect(stderr).toBe('spillsim: cannot write to standard output: ENOSPC: no space left on device\n');
    } finally {
      closeSync(full);
    }
  });

  it('a reader that stops early (| head) is not an error: the verdict if it was in (here 1), else 141 as SIGPIPE, never 0 for a failing run; nothing on stderr', async () => {
    // About 250 KB of JSON, more than a pipe holds: the command is still writing when the reader goes.
    // Seeds with a prefetch budget of 0 fail: exit 0 here would be a pass for a failing run.
    // Whether the verdict was in when the pipe broke depends on timing: then it is kept (1), else 141.
    for (const extra of [[], ['--workers', '2']]) {
      const started = startBuiltCli(['sim', '--seeds', '1..300', '--json', '--prefetch-budget', '0', ...extra]);
      started.child.stdout!.once('data', () => started.child.stdout!.destroy());
      const stderr = await stderrOf(started);
      const { code, signal } = await started.exited;
      expect({ signal, exitCodeIsAFailure: code === 1 || code === 141 }).toEqual({ signal: null, exitCodeIsAFailure: true });
      expect(stderr).toBe('');
    }
  });
});

describe('a command stopped by a signal', () => {
  it('validate, SIGINT mid-run: exit 130 and every temporary directory removed', async () => {
    const tmp = freshTmp();
    const started = startBuiltCli(['validate', 'fixtures/cases/backends/slow-correct.mjs'], { env: { TMPDIR: tmp } });
    await waitFor('validate to make an instance directory', () => dirsNamed(tmp, 'spillsim-validate-').length > 0);
    started.child.kill('SIGINT');
    const ended = await started.exited;
    expect(readdirSync(tmp)).toEqual([]);
    expect(ended).toEqual({ code: 130, signal: null });
  });

  it('check --backend, SIGTERM mid-suite: exit 143 and the runs’ directories removed', async () => {
    const tmp = freshTmp();
    const started = startBuiltCli(['check', '--backend', 'fixtures/backends/file.mjs', '--seed', '1'], { env: { TMPDIR: tmp } });
    await waitFor('check to make run directories', () => dirsNamed(tmp, 'spillsim-check-').some((path) => readdirSync(path).length > 0));
    started.child.kill('SIGTERM');
    const ended = await started.exited;
    expect(readdirSync(tmp)).toEqual([]);
    expect(ended).toEqual({ code: 143, signal: null });
  });

  it('validate --exec, SIGINT while backends hang: no backend process outlives the command', async () => {
    const tmp = freshTmp();
    const started = startBuiltCli(['validate', '--exec', 'node fixtures/backends/exec/misbehaving.mjs stuck', '--timeout-ms', '8000'], { env: { TMPDIR: tmp } });
    const pid = started.child.pid!;
    const children = await waitFor('a stuck backend process to start', () => {
      const all = descendants(pid);
      return all.filter((each) => commandLine(each).includes('misbehaving.mjs stuck')).length >= 2 && all;
    });
    started.child.kill('SIGINT');
    const ended = await started.exited;
    const left = children.filter(isRunning).map((each) => `${each}: ${commandLine(each)}`);
    expect(left).toEqual([]);
    expect(readdirSync(tmp)).toEqual([]);
    expect(ended).toEqual({ code: 130, signal: null });
  });

  it('a command with nothing to clean up (sim) is stopped by SIGINT at once, even in a long synchronous loop', async () => {
    // A handler would run only when the loop yields (43 s for these seeds); the default action does not wait.
    const started = startBuiltCli(['sim', '--seeds', '1..100000']);
    // Its progress line on stderr: the loop has started.
    await new Promise((resolve) => started.child.stderr!.once('data', resolve));
    started.child.kill('SIGINT');
    expect(await started.exited).toEqual({ code: null, signal: 'SIGINT' });
  }, 20_000);
});

describe('temporary directories of a command that ends', () => {
  it('several backends, one cut off: nothing is left in TMPDIR', async () => {
    const tmp = freshTmp();
    const run = await runBuiltCli(['validate', 'fixtures/backends/memory.mjs', 'fixtures/backends/hangs.mjs', '--timeout-ms', '1000'], { env: { TMPDIR: tmp } });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('TIMEOUT  fixtures/backends/hangs.mjs');
    expect(readdirSync(tmp)).toEqual([]);
  });

  it('a differential cut off in its factory has both of its instance directories removed', async () => {
    // In this process, as a library user runs it: no command removes a run directory at its end,
    // so what the stopped worker made must be removed because it was reported.
    const tmp = freshTmp();
    const saved = { tmp: process.env.TMPDIR, run: process.env[RUN_DIR_ENV] };
    process.env.TMPDIR = tmp;
    delete process.env[RUN_DIR_ENV];
    try {
      const result = await validateDifferential('fixtures/backends/hangs.mjs', { timeoutMs: 300 });
      expect(result.status).toBe('timeout');
      // The runner removes them once the stopped worker has ended.
      await waitFor('the cut-off worker’s directories to be removed', () => !readdirSync(tmp, { recursive: true }).some((name) => String(name).includes('spillsim-validate-')));
    } finally {
      closeRunDir();
      for (const [name, value] of [['TMPDIR', saved.tmp], [RUN_DIR_ENV, saved.run]] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });

  it('the run directory of a command that was killed (its pid gone) is removed by the next command; anything not provably one is kept', async () => {
    const tmp = freshTmp();
    const deadPid = spawnSync(process.execPath, ['-e', '']).pid;
    expect(isRunning(deadPid)).toBe(false);
    const namespace = readlinkSync('/proc/self/ns/pid');
    const mark = (dir: string, pidNamespace: string): void => writeFileSync(join(tmp, dir, '.spillsim-run'), JSON.stringify({ pid: deadPid, pidNamespace }));
    mkdirSync(join(tmp, `spillsim-${deadPid}-aB3dE6`, 'spillsim-check-x1y2z3', '0'), { recursive: true });
    mark(`spillsim-${deadPid}-aB3dE6`, namespace);
    mkdirSync(join(tmp, `spillsim-${deadPid}-fG7hI8.removed`));
    mark(`spillsim-${deadPid}-fG7hI8.removed`, namespace);
    // A user's directory whose name fits (no mark), and a live command's of another pid namespace
    // (a temp dir shared between containers: its pid looks dead from here).
    mkdirSync(join(tmp, `spillsim-${deadPid}-backup`, 'results'), { recursive: true });
    writeFileSync(join(tmp, `spillsim-${deadPid}-backup`, 'results', 'notes.txt'), 'weeks of work\n');
    mkdirSync(join(tmp, `spillsim-${deadPid}-vW5xY6`));
    mark(`spillsim-${deadPid}-vW5xY6`, 'pid:[1]');
    const kept = [`spillsim-${process.pid}-jK9lM0`, 'spillsim-validate-nO1pQ2', 'spillsim-test-run-1-rS3tU4', `spillsim-${deadPid}-backup`, `spillsim-${deadPid}-vW5xY6`];
    for (const name of kept) mkdirSync(join(tmp, name), { recursive: true });
    const run = await runBuiltCli(['check', '--suite', 'ordering', '--runs', '5', '--seed', '1', '--backend', 'fixtures/backends/memory.mjs', '--no-example-db', '--quiet'], { env: { TMPDIR: tmp } });
    expect(run.code).toBe(0);
    expect(readdirSync(tmp).sort()).toEqual([...kept].sort());
    expect(existsSync(join(tmp, `spillsim-${deadPid}-aB3dE6`))).toBe(false);
  });
});

describe('check --backend', () => {
  it('removes each run’s instance directory when the run is over, not when its suite ends', async () => {
    const tmp = freshTmp();
    // A backend that notes, each time it is made, how many instance directories sit beside its own.
    const module = join(tmp, 'counts-siblings.mjs');
    writeFileSync(
      module,
      [
        "import { readdirSync, writeFileSync } from 'node:fs';",
        "import { dirname } from 'node:path';",
        "import { threadId } from 'node:worker_threads';",
        `import { MemorySpill } from ${JSON.stringify(join(REPO_ROOT, 'dist/src/index.js'))};`,
        'let most = 0;',
        'export default function create({ dir }) {',
        '  most = Math.max(most, readdirSync(dirname(dir)).length);',
        '  writeFileSync(`${process.env.SIBLINGS_OUT}-${process.pid}-${threadId}`, String(most));',
        '  return new MemorySpill();',
        '}',
        'export function dispose(spill) { spill.close(); }',
      ].join('\n'),
    );
    const out = join(tmp, 'siblings');
    const run = await runBuiltCli(['check', '--backend', module, '--suite', 'transparency', '--runs', '300', '--seed', '1', '--quiet', '--no-example-db'], { env: { SIBLINGS_OUT: out } });
    expect(run.code).toBe(0);
    const counts = readdirSync(tmp).filter((name) => name.startsWith('siblings-')).map((name) => Number(readFileSync(join(tmp, name), 'utf8')));
    expect(counts.length).toBeGreaterThan(0);
    // A run makes a few systems; 300 runs kept to the suite's end would be hundreds.
    expect(Math.max(...counts)).toBeLessThanOrEqual(8);
  });
});
