import { rmSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { SpillsimError } from '../../src/errors.js';
import { SOURCE_MODE_BOOTSTRAP, SOURCE_MODE_HOOKS_URL } from './source_mode_hooks.js';
import type { WorkerJob, WorkerMessage } from './worker_protocol.js';

/** Slack on top of the in-worker time limit before the parent stops a worker that is stuck in a synchronous loop. */
const TERMINATE_GRACE_MS = 1000;
/** How long a module may take to import before it is reported as bad input. */
const LOAD_TIMEOUT_MS = 30_000;

export interface IsolatedRunOptions<R> {
  /** The result for a unit the parent had to cut off; `factory` says whether the factory was the one hanging. */
  timeoutResult(unit: string, detail: string): R;
  onResult?(unit: string, result: R): void;
}

/**
 * Run a job's units in a worker thread, one after another. A unit that does not answer within
 * its time limit (even a synchronous infinite loop) gets `timeoutResult`, the worker is
 * terminated and a fresh one continues with the next unit; when the hang was the factory
 * itself, every later unit would hang the same way, so they all get `timeoutResult` at once.
 * A module that fails to load is bad input (`E_BAD_INPUT`).
 */
export async function runIsolated<R>(job: WorkerJob, options: IsolatedRunOptions<R>): Promise<Map<string, R>> {
  const results = new Map<string, R>();
  let pending = job.units.slice();
  // Each round finishes at least one unit (a result or a timeout), so rounds ≤ units.
  for (let round = 0; pending.length > 0 && round <= job.units.length; round += 1) {
    const outcome = await runRound({ ...job, units: pending }, results, options);
    if (outcome.cutOff !== undefined) {
      const { unit, detail, factory } = outcome.cutOff;
      const skipped = factory ? pending.filter((u) => !results.has(u)) : [unit];
      for (const u of skipped) {
        const result = options.timeoutResult(u, u === unit ? detail : `skipped: the factory already hung in ${unit}`);
        results.set(u, result);
        options.onResult?.(u, result);
      }
    }
    pending = pending.filter((u) => !results.has(u));
  }
  return results;
}

interface RoundOutcome {
  cutOff?: { unit: string; detail: string; factory: boolean };
}

function runRound<R>(job: WorkerJob, results: Map<string, R>, options: IsolatedRunOptions<R>): Promise<RoundOutcome> {
  return new Promise((resolve, reject) => {
    const worker = startWorker(job);
    let current: string | undefined;
    let waitingOnFactory = false;
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    // Directories the worker made: a worker stopped mid-clause cannot remove its own.
    const dirs = new Set<string>();
    // Child processes of a backend in another language: a worker stopped mid-call leaves them running.
    const pids = new Set<number>();
    const finish = (outcome: RoundOutcome | Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate().then(() => {
        for (const pid of pids) killQuietly(pid);
        for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
      });
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
    };
    const arm = (ms: number, onFire: () => void): void => {
      clearTimeout(timer);
      timer = setTimeout(onFire, ms);
    };
    arm(LOAD_TIMEOUT_MS, () => finish(new SpillsimError('E_BAD_INPUT', `cannot use module ${job.module}: it did not finish loading within ${LOAD_TIMEOUT_MS} ms`)));
    worker.on('message', (message: WorkerMessage) => {
      switch (message.type) {
        case 'load-error':
          finish(new SpillsimError('E_BAD_INPUT', message.message));
          return;
        case 'start':
          current = message.unit;
          arm(job.timeoutMs + TERMINATE_GRACE_MS, () => {
            const where = waitingOnFactory ? 'the factory never returned' : 'the backend never returned; a synchronous loop, so the worker was stopped';
            finish({ cutOff: { unit: message.unit, detail: `no answer within ${job.timeoutMs} ms (${where})`, factory: waitingOnFactory } });
          });
          return;
        case 'factory':
          waitingOnFactory = message.waiting;
          return;
        case 'dir':
          dirs.add(message.path);
          return;
        case 'child':
          if (message.alive) pids.add(message.pid);
          else pids.delete(message.pid);
          return;
        case 'result':
          results.set(message.unit, message.result as R);
          options.onResult?.(message.unit, message.result as R);
          clearTimeout(timer);
          return;
        case 'done':
          finish({});
          return;
        case 'loaded':
          clearTimeout(timer);
          return;
      }
    });
    worker.on('error', (error) => {
      // An uncaught throw inside the worker (e.g. from a backend's stray timer): blame the running unit.
      if (current !== undefined && !results.has(current)) {
        finish({ cutOff: { unit: current, detail: `the worker died: ${error.message}`, factory: false } });
      } else {
        finish(new SpillsimError('E_BAD_INPUT', `cannot use module ${job.module}: ${error.message}`));
      }
    });
    worker.on('exit', (code) => {
      if (settled) return;
      if (current !== undefined && !results.has(current)) {
        finish({ cutOff: { unit: current, detail: `the worker exited with code ${code} (the backend called process.exit?)`, factory: false } });
      } else {
        finish(new SpillsimError('E_BAD_INPUT', `cannot use module ${job.module}: the worker exited with code ${code} before answering`));
      }
    });
  });
}

function startWorker(job: WorkerJob): Worker {
  const here = import.meta.url;
  // stdout/stderr stay the worker's own: a backend's console.log must not garble a --json report.
  if (!here.endsWith('.ts')) return new Worker(new URL('./conformance_worker.js', here), { workerData: { job }, stdout: true });
  const rootUrl = new URL('../../', here).href;
  return new Worker(SOURCE_MODE_BOOTSTRAP, {
    eval: true,
    stdout: true,
    workerData: {
      job,
      hooksUrl: SOURCE_MODE_HOOKS_URL,
      entryUrl: new URL('./conformance_worker.ts', here).href,
      hooksData: {
        rootUrl,
        aliases: { spillsim: new URL('src/index.ts', rootUrl).href, 'spillsim/vitest': new URL('properties/vitest.ts', rootUrl).href },
      },
    },
  });
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}
