import { type ChildProcess, execFile, execFileSync, spawn, type StdioOptions } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * Tests that run the real command (`node bin/spillsim.js`) need a fresh dist/. Several test
 * files may ask at once, so one builds under a lock while the others wait; nobody builds when
 * dist/ is newer than every source file. Type errors elsewhere do not stop tsc from emitting,
 * so only a missing entry point counts as a failed build.
 */
const ROOT = resolve(import.meta.dirname, '..', '..');
const STAMP = join(ROOT, 'dist', '.built-by-tests');
const LOCK = join(ROOT, 'dist', '.build-lock');
const SOURCE_DIRS = ['src', 'sim', 'properties', 'cli', 'bench', 'examples'];
const LOCK_WAIT_MS_MAX = 180_000;

function newestSourceMs(dir: string, depthMax = 8): number {
  let newest = 0;
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const name of entries) {
    const path = join(dir, name);
    const stat = statSync(path, { throwIfNoEntry: false });
    if (!stat) continue;
    if (stat.isDirectory() && depthMax > 0) newest = Math.max(newest, newestSourceMs(path, depthMax - 1));
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts')) newest = Math.max(newest, stat.mtimeMs);
  }
  return newest;
}

function isFresh(): boolean {
  const stamp = statSync(STAMP, { throwIfNoEntry: false });
  if (!stamp || !statSync(join(ROOT, 'dist/cli/main.js'), { throwIfNoEntry: false })) return false;
  return SOURCE_DIRS.every((dir) => newestSourceMs(join(ROOT, dir)) <= stamp.mtimeMs);
}

function tryLock(): boolean {
  mkdirSync(join(ROOT, 'dist'), { recursive: true });
  try {
    mkdirSync(LOCK);
    return true;
  } catch {
    // A lock left by a killed run would block forever; one older than the wait bound is stale.
    const lock = statSync(LOCK, { throwIfNoEntry: false });
    if (lock && Date.now() - lock.mtimeMs > LOCK_WAIT_MS_MAX) rmSync(LOCK, { recursive: true, force: true });
    return false;
  }
}

export async function ensureBuilt(): Promise<void> {
  const deadline = Date.now() + LOCK_WAIT_MS_MAX;
  while (!isFresh()) {
    if (tryLock()) {
      try {
        const startedMs = Date.now();
        try {
          execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'pipe' });
        } catch {
          // Type errors in files being edited right now; the emitted JavaScript is still usable.
        }
        if (!statSync(join(ROOT, 'dist/cli/main.js'), { throwIfNoEntry: false })) throw new Error('tsc emitted no dist/cli/main.js');
        writeFileSync(STAMP, '');
        // Stamp with the build's start: a source saved during the build makes the next run rebuild.
        utimesSync(STAMP, startedMs / 1000, startedMs / 1000);
        return;
      } finally {
        rmSync(LOCK, { recursive: true, force: true });
      }
    }
    if (Date.now() > deadline) throw new Error('gave up waiting for another test to finish building dist/');
    await new Promise((r) => setTimeout(r, 250));
  }
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run the built command the way a user does; never throws on a non-zero exit. */
export function runBuiltCli(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliRun> {
  return new Promise((resolvePromise) => {
    execFile(
      process.execPath,
      [join(ROOT, 'bin/spillsim.js'), ...args],
      { cwd: options.cwd ?? ROOT, env: { ...process.env, NO_COLOR: '1', ...options.env }, timeout: options.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolvePromise({ code, stdout, stderr });
      },
    );
  });
}

/** A built command started in the background, to be signalled or read while it runs. */
export interface StartedCli {
  child: ChildProcess;
  /** How it ended: an exit code of its own, or the signal that killed it (a signal it handled ends with a code). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Start the built command without waiting for it; `stdio` as `spawn` takes it (default: stdout and stderr piped). */
export function startBuiltCli(args: string[], options: { env?: NodeJS.ProcessEnv; stdio?: StdioOptions } = {}): StartedCli {
  const child = spawn(process.execPath, [join(ROOT, 'bin/spillsim.js'), ...args], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1', ...options.env },
    stdio: options.stdio ?? ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolvePromise) => {
    child.on('exit', (code, signal) => resolvePromise({ code, signal }));
  });
  return { child, exited };
}

export const REPO_ROOT = ROOT;
