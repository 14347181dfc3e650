import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { sweepDeadPidDirs } from '../../properties/run_dir.js';

/**
 * Vitest global setup: one temporary directory per test run, removed when the run ends, so a
 * run leaves nothing in the system temp dir. Many tests `mkdtemp` under `os.tmpdir()` and some
 * never remove theirs; commands they start (`check --backend`, `validate`) make directories of
 * their own, and a run killed half-way leaves those behind.
 *
 * The setup runs in vitest's main process before the pool starts its workers, and vitest gives
 * each worker (fork or thread) a copy of this process's environment, so pointing `TMPDIR` here
 * moves `os.tmpdir()` for the workers and every child process or worker thread they start. On
 * Linux `os.tmpdir()` reads `TMPDIR` on every call (then `TMP`, `TEMP`, then `/tmp`); all three
 * are set so a child that prefers another name agrees. test/temp_root.test.ts checks the workers
 * see it.
 */

/** `<system temp>/spillsim-test-run-<pid>-XXXXXX`: the pid tells a dead run's leftover from a live one's. */
const RUN_PREFIX = 'spillsim-test-run-';
const RUN_NAME = /^spillsim-test-run-(\d+)-[A-Za-z0-9]{6}$/;
const NAMES = ['TMPDIR', 'TMP', 'TEMP'] as const;

declare module 'vitest' {
  export interface ProvidedContext {
    /** This run's temp root, which `os.tmpdir()` returns in every worker. */
    tempRoot: string;
  }
}

/** Removes the roots of runs whose process is gone (killed before its teardown). */
export function sweepDeadRuns(systemTemp: string): void {
  sweepDeadPidDirs(systemTemp, RUN_NAME);
}

export default function setup(project: TestProject): () => void {
  const saved = NAMES.map((name) => [name, process.env[name]] as const);
  const systemTemp = tmpdir();
  sweepDeadRuns(systemTemp);
  const root = mkdtempSync(join(systemTemp, `${RUN_PREFIX}${process.pid}-`));
  for (const name of NAMES) process.env[name] = root;
  project.provide('tempRoot', root);
  return () => {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    rmSync(root, { recursive: true, force: true });
  };
}
