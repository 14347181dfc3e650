import { type ChildProcess, fork } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { rmSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { SpillsimError } from '../../src/errors.js';
import { DISPOSE_NAME, WAITING_FOR_DISPOSE } from './backend_module.js';
import { SOURCE_MODE_BOOTSTRAP, SOURCE_MODE_HOOKS_URL, SOURCE_MODE_REGISTER_URL } from './source_mode_hooks.js';
import { PROCESS_HOST_DATA_ENV, type WorkerJob, type WorkerMessage } from './worker_protocol.js';
import { killProcessTree } from '../process_backend/child_pipes.js';
import { runDir } from '../run_dir.js';

/** Why a unit the run's time budget left unrun was skipped. */
export const BUDGET_SKIP_DETAIL = 'skipped: the time budget of this run was spent before it (raise --budget-ms to run it)';

/** The longest a `setTimeout` can wait, in ms (about 24.8 days): the most `--timeout-ms` and `--budget-ms` take. */
export const TIMEOUT_MS_MAX = 2 ** 31 - 1;

/** Whether `ms` is a limit a timer can hold: a whole number of milliseconds from 1 to TIMEOUT_MS_MAX. */
export function isTimerMs(ms: number): boolean {
  return Number.isSafeInteger(ms) && ms >= 1 && ms <= TIMEOUT_MS_MAX;
}

/** Slack on top of the in-worker time limit before the parent stops a worker that is stuck in a synchronous loop. */
const TERMINATE_GRACE_MS = 1000;
/** How long a module may take to import before it is reported as bad input. */
const LOAD_TIMEOUT_MS = 30_000;
/** A worker's V8 heap limit: a backend that allocates without bound is stopped here and named, not the machine. */
export const WORKER_HEAP_MB = 512;
/** Output a backend may write to stdout and stderr in one unit before it counts as a flood. */
export const OUTPUT_BYTES_MAX = 4 * 1024 * 1024;

export interface IsolatedRunOptions<R> {
  /** The result for a unit the parent had to cut off (or skipped), with the reason in words. */
  timeoutResult(unit: string, detail: string): R;
  onResult?(unit: string, result: R): void;
  /**
   * Units cut off (stuck, too slow, killed) before the rest are skipped as hopeless: a hostile
   * module must not cost a time limit per unit. Default: no limit.
   */
  cutOffsMax?: number;
  /**
   * When the whole run must end (epoch ms): the worker is stopped there and every unit without a
   * result gets `skippedResult` (default: no deadline).
   */
  deadline?: number;
  /** The result for a unit not run because the deadline passed. */
  skippedResult?(unit: string, detail: string): R;
  /**
   * Cut-offs counted across every lane of one run (lanes run side by side): once it is spent,
   * this lane stops too, its running unit included, and what is left gets `timeoutResult`.
   */
  runCutOffs?: RunCutOffs;
  /**
   * Where the units run: a worker thread of this process (default), or a child process of their
   * own, for units that count what the whole process holds (its open descriptors), which other
   * lanes' threads would disturb.
   */
  host?: 'thread' | 'process';
  /** Told each time a worker has imported the module and checked its exports (before any unit starts). */
  onLoaded?(): void;
}

/** The detail of a unit skipped because `what` (the factory, dispose) already hung in `unit`: it would hang there again. */
export function hungSkipDetail(what: string, unit: string): string {
  return `skipped: ${what} already hung in ${unit}`;
}

/** The detail of a unit skipped because the backend was already cut off in `units`. */
export function cutOffSkipDetail(units: readonly string[]): string {
  return `skipped: the backend was already cut off in ${units.join(' and ')}`;
}

/**
 * The units cut off in one run, across all of its lanes: after `max` of them the backend is
 * hopeless (a hostile module hangs every lane the same way), so every lane stops.
 */
export class RunCutOffs {
  readonly units: string[] = [];
  readonly #listeners = new Set<() => void>();
  #stopped = false;
  constructor(readonly max: number) {}
  get spent(): boolean {
    return this.#stopped || this.units.length >= this.max;
  }
  /** The run was stopped (not spent by cut-offs): what is left is not worth a verdict. */
  get stopped(): boolean {
    return this.#stopped;
  }
  add(unit: string): void {
    this.units.push(unit);
    if (this.spent) this.#tell();
  }
  /** Stop every lane now (one of them failed in a way that ends the run, e.g. the module does not load). */
  stop(): void {
    this.#stopped = true;
    this.#tell();
  }
  #tell(): void {
    for (const listener of [...this.#listeners]) listener();
  }
  /** Call `listener` once the run is spent; returns the unsubscribe. */
  onSpent(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
  /** Why a unit was not run: the units already cut off. */
  get why(): string {
    return this.units.length === 0 ? 'skipped: the run was stopped' : cutOffSkipDetail(this.units);
  }
}

/**
 * Run a job's units in a worker thread (or, `host: 'process'`, a child process), one after
 * another: one lane of a run, beside others that share `runCutOffs` and the deadline. A unit that makes no progress (no
 * backend call returns) within `timeoutMs`, or runs past `unitCapMs` in all, gets
 * `timeoutResult` worded by its cause (stuck, slow, `process.exit`, out of memory, an output
 * flood); the worker is terminated and a fresh one continues with the next unit. When the hang
 * was the factory itself, every later unit would hang the same way, so they all get
 * `timeoutResult` at once; so do the rest once `cutOffsMax` units were cut off. A module that
 * fails to load is bad input (`E_BAD_INPUT`).
 */
export async function runIsolated<R>(job: WorkerJob, options: IsolatedRunOptions<R>): Promise<Map<string, R>> {
  const results = new Map<string, R>();
  let pending = job.units.slice();
  const cutOff: string[] = [];
  const settle = (units: readonly string[], result: (unit: string) => R): void => {
    for (const u of units) {
      if (results.has(u)) continue;
      results.set(u, result(u));
      if (options.runCutOffs?.stopped !== true) options.onResult?.(u, results.get(u)!);
    }
  };
  // Each round finishes at least one unit (a result or a timeout), so rounds ≤ units.
  // (A round stopped because another lane spent the run's cut-offs finishes none; the next settles all.)
  for (let round = 0; pending.length > 0 && round <= job.units.length + 1; round += 1) {
    if (options.runCutOffs?.spent === true) {
      const why = options.runCutOffs.why;
      settle(pending, (u) => options.timeoutResult(u, why));
      break;
    }
    // The first round runs even past the deadline, as far as loading the module: a module that
    // cannot be used is bad input (exit 2) whatever the budget, not a run cut short.
    const outcome = round > 0 && options.deadline !== undefined && Date.now() >= options.deadline ? { budgetSpent: true } : await runRound({ ...job, units: pending }, results, options);
    if (outcome.budgetSpent) {
      for (const u of pending.filter((x) => !results.has(x))) {
        const detail = BUDGET_SKIP_DETAIL;
        const result = options.skippedResult?.(u, detail) ?? options.timeoutResult(u, detail);
        results.set(u, result);
        options.onResult?.(u, result);
      }
      break;
    }
    if (outcome.runSpent) continue; // Another lane spent the run's cut-offs: the next round settles the rest.
    if (outcome.cutOff !== undefined) {
      const { unit, detail, hungIn } = outcome.cutOff;
      cutOff.push(unit);
      // The result first: a lane told the run is spent must find this unit settled.
      results.set(unit, options.timeoutResult(unit, detail));
      options.onResult?.(unit, results.get(unit)!);
      options.runCutOffs?.add(unit);
      const hopeless = hungIn !== undefined || (options.cutOffsMax !== undefined && cutOff.length >= options.cutOffsMax);
      const why = hungIn !== undefined ? hungSkipDetail(hungIn, unit) : cutOffSkipDetail(cutOff);
      if (hopeless) settle(pending, (u) => options.timeoutResult(u, why));
    }
    pending = pending.filter((u) => !results.has(u));
  }
  return results;
}

interface RoundOutcome {
  /** `hungIn`: the cut-off unit hung in a call every later unit makes too (the factory, dispose). */
  cutOff?: { unit: string; detail: string; hungIn?: string };
  /** The run's deadline passed during this round. */
  budgetSpent?: boolean;
  /** Another lane spent the run's cut-offs during this round. */
  runSpent?: boolean;
}

function runRound<R>(job: WorkerJob, results: Map<string, R>, options: IsolatedRunOptions<R>): Promise<RoundOutcome> {
  return new Promise((resolve, reject) => {
    // Made before the worker starts, so the worker inherits its path (RUN_DIR_ENV) and makes its directories there.
    runDir();
    const worker = options.host === 'process' ? startProcess(job) : startWorker(job);
    let current: string | undefined;
    let waitingOnFactory = false;
    let waitingOnDispose = false;
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    // Until the module has loaded (its first unit starts), a passed deadline waits: a load error still counts.
    let loaded = false;
    let deadlinePassed = false;
    const deadlineTimer =
      options.deadline === undefined
        ? undefined
        : setTimeout(() => {
            deadlinePassed = true;
            if (loaded) finish({ budgetSpent: true });
          }, Math.max(0, options.deadline - Date.now()));
    const stopListening = options.runCutOffs?.onSpent(() => finish({ runSpent: true }));
    let unitStartedAt = 0;
    let lastProgressAt = 0;
    let calls = 0;
    let outputBytes = 0;
    let rssAtStart = process.memoryUsage().rss;
    // Directories the worker made: a worker stopped mid-clause cannot remove its own.
    const dirs = new Set<string>();
    // Child processes of a backend in another language: a worker stopped mid-call leaves them running.
    const pids = new Set<number>();
    const finish = (outcome: RoundOutcome | Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(deadlineTimer);
      stopListening?.();
      void worker.terminate().then(() => {
        for (const pid of pids) killProcessTree(pid);
        for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
      });
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
    };
    const cut = (detail: string, hungIn?: string): void => {
      if (current !== undefined && !results.has(current)) finish({ cutOff: { unit: current, detail, ...(hungIn === undefined ? {} : { hungIn }) } });
    };
    const arm = (ms: number, onFire: () => void): void => {
      clearTimeout(timer);
      // A timer holds at most 2^31 - 1 ms (a longer one fires at once): the longest limit plus its grace waits that long.
      timer = setTimeout(onFire, Math.min(TIMEOUT_MS_MAX, Math.max(0, ms)));
    };
    // Stuck is judged by progress: the limit restarts whenever the backend answers a call; a
    // unit cap, when set, bounds a backend that answers forever.
    const armUnit = (): void => {
      const now = Date.now();
      const stuckAt = lastProgressAt + job.timeoutMs + TERMINATE_GRACE_MS;
      const capAt = job.unitCapMs === undefined ? Infinity : unitStartedAt + job.unitCapMs + TERMINATE_GRACE_MS;
      arm(Math.min(stuckAt, capAt) - now, () => {
        const elapsed = Date.now() - unitStartedAt;
        if (capAt <= stuckAt && waitingOnDispose) {
          // Answering until it reached dispose, which has not returned since: say where it waits.
          cut(`past the ${job.unitCapMs} ms this unit may take after ${elapsed} ms, ${WAITING_FOR_DISPOSE} (${calls} backend calls made before it, the last ${Date.now() - lastProgressAt} ms ago), so the worker was stopped`, DISPOSE_NAME);
        } else if (capAt <= stuckAt) {
          cut(`still answering after ${elapsed} ms (${calls} backend calls made, the last ${Date.now() - lastProgressAt} ms ago), past the ${job.unitCapMs} ms this unit may take: too slow for these limits, not hung (raise ${job.kind === 'check' ? '--time-limit' : '--timeout-ms'})`);
        } else if (waitingOnFactory) {
          cut(`no answer within ${job.timeoutMs} ms (the factory never returned)`, 'the factory');
        } else if (waitingOnDispose) {
          cut(`no answer within ${job.timeoutMs} ms: ${WAITING_FOR_DISPOSE} (${calls} backend calls made before it), a loop or a hang in dispose, so the worker was stopped`, DISPOSE_NAME);
        } else {
          const stuck = `no answer within ${job.timeoutMs} ms: no backend call returned in that time (${calls} made before)`;
          // A worker thrashing near its heap limit looks stuck too: the process's memory tells them apart.
          const grownMb = (process.memoryUsage().rss - rssAtStart) / (1024 * 1024);
          cut(
            grownMb > WORKER_HEAP_MB / 2
              ? `${stuck} while memory grew by ${Math.round(grownMb)} MiB: out of memory, the backend allocates without bound, so the worker was stopped`
              : `${stuck}, a loop or a hang, so the worker was stopped`,
          );
        }
      });
    };
    arm(LOAD_TIMEOUT_MS, () => finish(new SpillsimError('E_BAD_INPUT', `cannot use module ${job.module}: it did not finish loading within ${LOAD_TIMEOUT_MS} ms`)));
    const countOutput = (chunk: Buffer): void => {
      outputBytes += chunk.length;
      if (outputBytes > OUTPUT_BYTES_MAX) cut(`the backend flooded its output: more than ${OUTPUT_BYTES_MAX / (1024 * 1024)} MiB written to stdout/stderr in one unit, so the worker was stopped`);
    };
    // Read and discarded: a backend's console.log must not garble a report, nor pile up unread.
    worker.stdout.on('data', countOutput);
    worker.stderr.on('data', countOutput);
    worker.on('message', (message: WorkerMessage) => {
      switch (message.type) {
        case 'load-error':
          finish(new SpillsimError('E_BAD_INPUT', message.message));
          return;
        case 'start':
          loaded = true;
          // The clock, not only the timer: a timer due while messages queue up has not fired yet.
          if (deadlinePassed || (options.deadline !== undefined && Date.now() >= options.deadline)) {
            finish({ budgetSpent: true });
            return;
          }
          current = message.unit;
          // A dispose still pending from an earlier unit (one cut off in the worker) is not this unit's.
          waitingOnDispose = false;
          unitStartedAt = Date.now();
          lastProgressAt = unitStartedAt;
          rssAtStart = process.memoryUsage().rss;
          calls = 0;
          outputBytes = 0;
          armUnit();
          return;
        case 'progress':
          calls = message.calls;
          lastProgressAt = Date.now();
          if (current !== undefined && !results.has(current)) armUnit();
          return;
        case 'flood':
          cut(`the backend flooded its output: ${(message.bytes / (1024 * 1024)).toFixed(1)} MiB written to stdout/stderr in one unit (at most ${OUTPUT_BYTES_MAX / (1024 * 1024)} MiB), so the worker was stopped`);
          return;
        case 'factory':
          waitingOnFactory = message.waiting;
          return;
        case 'dispose':
          waitingOnDispose = message.waiting;
          calls = Math.max(calls, message.calls);
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
          options.onLoaded?.();
          return;
      }
    });
    worker.on('error', (error) => {
      const code = (error as { code?: unknown }).code;
      const why =
        code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? `the worker ran out of memory (heap limit ${WORKER_HEAP_MB} MiB): the backend allocated without bound`
          : `the worker died of an uncaught ${error.name}: ${error.message.split('\n')[0]}`;
      // An uncaught throw inside the worker (e.g. from a backend's stray timer): blame the running unit.
      if (current !== undefined && !results.has(current)) cut(why);
      else finish(new SpillsimError('E_BAD_INPUT', `cannot use module ${job.module}: ${why}`));
    });
    worker.on('exit', (code: number | null, signal?: NodeJS.Signals | null) => {
      if (settled) return;
      if (current !== undefined && !results.has(current) && typeof signal === 'string') {
        cut(`the process running the backend was killed by ${signal} in the middle of the unit`);
      } else if (current !== undefined && !results.has(current)) {
        cut(`the backend called process.exit(${code}): the worker ended in the middle of the unit`);
      } else {
        finish(new SpillsimError('E_BAD_INPUT', `cannot use module ${job.module}: the worker exited with code ${code} before answering (process.exit while loading?)`));
      }
    });
  });
}

function startWorker(job: WorkerJob): Worker {
  const here = import.meta.url;
  // stdout/stderr stay the worker's own: a backend's console.log must not garble a --json report.
  const common = { stdout: true, stderr: true, resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB } };
  if (!here.endsWith('.ts')) return new Worker(new URL('./conformance_worker.js', here), { workerData: { job }, ...common });
  return new Worker(SOURCE_MODE_BOOTSTRAP, {
    eval: true,
    ...common,
    workerData: { job, hooksUrl: SOURCE_MODE_HOOKS_URL, entryUrl: new URL('./conformance_worker.ts', here).href, hooksData: sourceModeHooksData() },
  });
}

/** What the source-mode loader hooks need (run from the sources, as vitest does): the root, and the package's names. */
function sourceModeHooksData(): { rootUrl: string; aliases: Record<string, string> } {
  const rootUrl = new URL('../../', import.meta.url).href;
  return { rootUrl, aliases: { spillsim: new URL('src/index.ts', rootUrl).href, 'spillsim/vitest': new URL('properties/vitest.ts', rootUrl).href } };
}

/** Bytes of a child process host's own stderr kept (what V8 writes there when the heap runs out). */
const HOST_STDERR_KEPT_BYTES = 4096;

/**
 * A child process running the conformance worker, seen through the surface the runner uses of a
 * `Worker`: its messages, its output streams, `error` (out of memory, as a worker's
 * `ERR_WORKER_OUT_OF_MEMORY`), `exit` and `terminate`. Its descriptors are its own.
 */
class ProcessHost extends EventEmitter {
  readonly stdout: Readable;
  readonly stderr: Readable;
  readonly #child: ChildProcess;
  #stderrTail = '';
  constructor(child: ChildProcess) {
    super();
    this.#child = child;
    this.stdout = child.stdout!;
    this.stderr = child.stderr!;
    this.stderr.on('data', (chunk: Buffer) => {
      this.#stderrTail = (this.#stderrTail + chunk.toString('utf8')).slice(-HOST_STDERR_KEPT_BYTES);
    });
    child.on('message', (message) => this.emit('message', message));
    child.on('error', (error) => this.emit('error', error));
    child.on('exit', (code, signal) => {
      // V8 aborts a process whose heap ran out, after saying so on stderr.
      if (/heap out of memory|Reached heap limit/.test(this.#stderrTail)) {
        this.emit('error', Object.assign(new Error('out of memory'), { code: 'ERR_WORKER_OUT_OF_MEMORY' }));
      }
      this.emit('exit', code, signal);
    });
  }
  terminate(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      this.#child.once('exit', () => resolve());
      this.#child.kill('SIGKILL');
    });
  }
}

function startProcess(job: WorkerJob): ProcessHost {
  const here = import.meta.url;
  const common = { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] as ('ignore' | 'pipe' | 'ipc')[], serialization: 'advanced' as const };
  const heap = `--max-old-space-size=${WORKER_HEAP_MB}`;
  if (!here.endsWith('.ts')) {
    return new ProcessHost(fork(fileURLToPath(new URL('./conformance_worker.js', here)), [], { ...common, execArgv: [heap], env: { ...process.env, [PROCESS_HOST_DATA_ENV]: JSON.stringify({ job }) } }));
  }
  // From the sources (vitest): the same hooks as a worker, registered before the entry loads.
  const hooksData = sourceModeHooksData();
  return new ProcessHost(
    fork(fileURLToPath(new URL('./conformance_worker.ts', here)), [], {
      ...common,
      execArgv: [heap, '--import', SOURCE_MODE_REGISTER_URL],
      env: { ...process.env, [PROCESS_HOST_DATA_ENV]: JSON.stringify({ job, hooksUrl: SOURCE_MODE_HOOKS_URL, hooksData }) },
    }),
  );
}

