import { mkdtempSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * One directory per command, under which every temporary directory spillsim makes lives
 * (`validate`'s instances, `check --backend`'s runs): `<tmpdir>/spillsim-<pid>-XXXXXX`. Removing
 * it removes them all, whatever thread or child process made them, so a command stopped by a
 * signal, or a worker stopped mid-clause, leaves nothing behind; the pid tells a dead command's
 * leftover (killed with SIGKILL) from a live one's, and the next command sweeps those.
 *
 * Its path travels in the environment ({@link RUN_DIR_ENV}): worker threads and child processes
 * started after it was made inherit it and make their directories under it. Where user backends
 * put their own files is theirs: `TMPDIR` is left alone.
 */
export const RUN_DIR_ENV = 'SPILLSIM_RUN_DIR';

const RUN_PREFIX = 'spillsim-';
/** The name a run directory is given while it is removed. */
const REMOVED_SUFFIX = '.removed';
const RUN_NAME = /^spillsim-(\d+)-[A-Za-z0-9]{6}(?:\.removed)?$/;
/** `rmSync` retries of a directory a worker thread is still writing into (ENOTEMPTY) before it gives up. */
const REMOVE_RETRIES_MAX = 5;

/** The run directory this process made (and so removes), if any. */
let owned: string | undefined;
/** Told once this process has made its run directory (see {@link onRunDirMade}). */
let madeListener: (() => void) | undefined;
let exitHookInstalled = false;

/**
 * The run directory, made on first use: the one named in the environment (a worker thread or
 * child process of the command), else a fresh one of this process, named in the environment for
 * the workers and processes started after it, and removed when the process exits. Run
 * directories of dead processes found beside it are removed first.
 */
export function runDir(): string {
  const named = process.env[RUN_DIR_ENV];
  if (named !== undefined && named !== '') return named;
  const systemTemp = tmpdir();
  sweepDeadRunDirs(systemTemp);
  owned = mkdtempSync(join(systemTemp, `${RUN_PREFIX}${process.pid}-`));
  // The mark the sweep looks for: a directory of the same name without it is not ours.
  const namespace = pidNamespace();
  if (namespace !== undefined) writeFileSync(join(owned, RUN_MARK), JSON.stringify({ pid: process.pid, pidNamespace: namespace }));
  process.env[RUN_DIR_ENV] = owned;
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', closeRunDir);
  }
  madeListener?.();
  return owned;
}

/**
 * Forget a run directory inherited from a parent process: a spillsim started by a spillsim (or
 * by a backend it runs) makes and removes its own.
 */
export function forgetInheritedRunDir(): void {
  if (owned === undefined) delete process.env[RUN_DIR_ENV];
}

/**
 * Call `listener` when this process makes its run directory: the command then has something to
 * clean up if it is stopped (and, since every worker is started after it, processes to end).
 * Commands that never make one keep the default signal handling, which stops even a long
 * synchronous loop at once.
 */
export function onRunDirMade(listener: () => void): void {
  madeListener = listener;
}

/** A fresh directory named `<prefix>XXXXXX` under the run directory (`mkdtemp`'s shape). */
export function makeTempDir(prefix: string): string {
  return mkdtempSync(join(runDir(), prefix));
}

/**
 * Remove the run directory this process made, with everything in it (nothing when it made none).
 * It is renamed first: a worker thread still running (the command was stopped mid-suite) names
 * its directories by path, so once the run directory is gone from its name nothing new appears
 * in it while it is removed, and the removal cannot lose that race. Never throws: what cannot be
 * removed is left to the next command's sweep.
 */
export function closeRunDir(): void {
  const dir = owned;
  if (dir === undefined) return;
  owned = undefined;
  if (process.env[RUN_DIR_ENV] === dir) delete process.env[RUN_DIR_ENV];
  let doomed = dir;
  try {
    renameSync(dir, `${dir}${REMOVED_SUFFIX}`);
    doomed = `${dir}${REMOVED_SUFFIX}`;
  } catch {
    // Removed where it is.
  }
  // A file in its place while the tree goes: a worker thread's `mkdirSync(recursive)` under the
  // old name then fails instead of making the directory again.
  let blocked = false;
  if (doomed !== dir) {
    try {
      writeFileSync(dir, '', { flag: 'wx' });
      blocked = true;
    } catch {
      // Something took the name already; the sweep of a later command covers what it leaves.
    }
  }
  try {
    rmSync(doomed, { recursive: true, force: true, maxRetries: REMOVE_RETRIES_MAX, retryDelay: 10 });
  } catch {
    // Still being written into, or not ours to remove: the next command's sweep tries again.
  }
  if (blocked) rmSync(dir, { force: true });
}

/** Whether a process with this pid exists (EPERM: it does, but belongs to someone else). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The file in a run directory that says which process made it, in which pid namespace. */
const RUN_MARK = '.spillsim-run';

/** This process's pid namespace (`pid:[4026531836]`), or undefined where /proc does not say. */
function pidNamespace(): string | undefined {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return undefined;
  }
}

/**
 * Remove the run directories in `systemTemp` whose process is gone (killed before it could
 * remove its own). Only directories spillsim provably made: the name alone is not enough (a
 * user's `spillsim-2024-backup` fits it), so each must hold the mark its process wrote, naming a
 * pid of this pid namespace (a temp dir shared with another container sees pids this one cannot,
 * which look dead) that no longer runs.
 */
export function sweepDeadRunDirs(systemTemp: string): void {
  const namespace = pidNamespace();
  if (namespace === undefined) return;
  sweepDeadPidDirs(systemTemp, RUN_NAME, (dir, pid) => {
    try {
      const mark = JSON.parse(readFileSync(join(dir, RUN_MARK), 'utf8')) as { pid?: unknown; pidNamespace?: unknown };
      return mark.pid === pid && mark.pidNamespace === namespace;
    } catch {
      return false;
    }
  });
}

/**
 * Remove the entries of `systemTemp` whose name matches `name` and whose pid (its first group)
 * is neither this process nor a live one. Shared with the test runs' own temp roots.
 */
export function sweepDeadPidDirs(systemTemp: string, name: RegExp, isOurs: (dir: string, pid: number) => boolean = () => true): void {
  let names: string[];
  try {
    names = readdirSync(systemTemp);
  } catch {
    return;
  }
  for (const each of names) {
    const pid = Number(name.exec(each)?.[1]);
    if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid || isAlive(pid)) continue;
    if (!isOurs(join(systemTemp, each), pid)) continue;
    try {
      rmSync(join(systemTemp, each), { recursive: true, force: true });
    } catch {
      // Another command sweeping at the same moment, or not ours to remove: leave it.
    }
  }
}
