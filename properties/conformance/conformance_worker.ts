import { rmSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { loadBackend } from '../process_backend/load_backend.js';
import { watchChildren } from '../process_backend/child_pipes.js';
import type { BytesSpill } from '../../src/spill.js';
import { type BackendModule, describeThrown, describeValue, type SpillCtxFs } from './backend_module.js';
import { FaultFs } from './fault_fs.js';
import { disposeEach, InstanceDirs } from './instances.js';
import { type CallTally, countingSpill } from './counting_spill.js';
import { wholeRunCommand } from './clause.js';
import { cutOffSkipDetail, OUTPUT_BYTES_MAX } from './isolated_runner.js';
import { runBackendClauses, selectClauses } from './run_backend_clauses.js';
import { PROCESS_HOST_DATA_ENV, type WorkerJob, type WorkerMessage } from './worker_protocol.js';

// The worker side of the isolated runner: load the module, run the units in order, answer each.
// It runs in a worker thread, or (units that count the process's own descriptors) in a child
// process of its own, told its job in the environment and answering over the IPC channel.
const port = parentPort;
const data = (port === null ? JSON.parse(process.env[PROCESS_HOST_DATA_ENV] ?? 'null') : workerData) as { job: WorkerJob } | null;
if (data === null || (port === null && process.send === undefined)) throw new Error('conformance_worker runs only as a worker thread or a child process started by the isolated runner');
const post = (message: WorkerMessage): void => {
  if (port !== null) port.postMessage(message);
  else process.send!(message);
};
// A child process whose parent went away (the command was stopped) must not outlive it.
if (port === null) process.on('disconnect', () => process.exit(0));
watchChildren((pid, alive) => post({ type: 'child', pid, alive }));

/** How long a suite generates runs (a slow backend gets fewer runs, not a longer wait). */
const SUITE_GENERATE_MS = 4_000;
/** The same, once a suite already broke in this job. */
const SUITE_GENERATE_AFTER_BREACH_MS = 1_500;

/** At most one progress message per this many ms: enough for the parent to tell slow from stuck. */
const PROGRESS_EVERY_MS = 200;
let lastProgressAt = 0;
/** This unit's backend calls as last counted (the parent hears of them at most every PROGRESS_EVERY_MS). */
let callsSoFar = 0;
const progress = (calls: number): void => {
  callsSoFar = calls;
  const now = Date.now();
  if (now - lastProgressAt < PROGRESS_EVERY_MS) return;
  lastProgressAt = now;
  post({ type: 'progress', calls });
};

// A backend's output is counted and dropped here, in the worker: a flood written from a
// synchronous loop never reaches the parent's streams, so the parent is told in a message.
let outputBytes = 0;
let floodTold = false;
for (const stream of [process.stdout, process.stderr]) {
  stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
    outputBytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
    if (outputBytes > OUTPUT_BYTES_MAX && !floodTold) {
      floodTold = true;
      post({ type: 'flood', bytes: outputBytes });
    }
    const done = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
    done?.();
    return true;
  }) as typeof stream.write;
}
const newUnit = (): void => {
  callsSoFar = 0;
  strays.length = 0;
  outputBytes = 0;
  floodTold = false;
};

// What the backend left behind outside any call of ours (a rejected promise nobody awaited, a
// timer that threw) is blamed on the unit that was running when it surfaced.
const strays: string[] = [];
process.on('unhandledRejection', (reason) => strays.push(`left an unhandled promise rejection: ${describeThrown(reason).split('\n')[0]}`));
process.on('uncaughtException', (error) => strays.push(`threw from a callback of its own (a timer or an event), outside any call: ${describeThrown(error).split('\n')[0]}`));

/** A verdict, turned broken when the backend left something behind during its unit. */
function withStrays<V extends { status: string; detail?: string }>(verdict: V): V {
  if (strays.length === 0) return verdict;
  const detail = `the backend ${strays[0]}${strays.length > 1 ? ` (and ${strays.length - 1} more)` : ''}`;
  strays.length = 0;
  if (verdict.status === 'timeout') return verdict;
  return { ...verdict, status: 'broken', detail: verdict.status === 'broken' ? `${verdict.detail ?? ''}; also, ${detail}` : detail };
}

async function run(job: WorkerJob): Promise<void> {
  switch (job.kind) {
    case 'backend-clauses': {
      const module = await loadOrReport(() => loadBackend(job.module, { callTimeoutMs: job.timeoutMs }));
      if (module === undefined) return;
      await runBackendClauses(module, selectClauses(job.units), {
        seed: job.seed,
        timeoutMs: job.timeoutMs,
        ...(job.example === undefined ? {} : { example: job.example }),
        onFactory: (waiting) => post({ type: 'factory', waiting }),
        onDispose: disposing,
        onDir: (path) => post({ type: 'dir', path }),
        onProgress: progress,
        onStart: (clause) => {
          newUnit();
          post({ type: 'start', unit: clause.id });
        },
        afterClause: settleStrays,
        onVerdict: (verdict) => post({ type: 'result', unit: verdict.id, result: withStrays(verdict) }),
      });
      return;
    }
    case 'policy-clauses': {
      const { runPolicyClauses } = await import('./policy_clauses.js');
      await runPolicyClauses(job, post);
      return;
    }
    case 'suites': {
      // Imported on demand: the suites pull in the whole property and simulator graph.
      const { runSuiteUnit, suiteVerdictBase } = await import('./suite_units.js');
      const module = await loadOrReport(() => loadBackend(job.module, { callTimeoutMs: job.timeoutMs }));
      if (module === undefined) return;
      let brokenSeen = false;
      let timedOut: string | undefined;
      for (const unit of job.units) {
        // A suite that finished no run in its share: the next would wait out its share the same way.
        if (timedOut !== undefined) {
          post({ type: 'result', unit, result: { ...suiteVerdictBase(unit), status: 'timeout', detail: cutOffSkipDetail([timedOut]), replay: wholeRunCommand(job.module, job.seed) } });
          continue;
        }
        newUnit();
        post({ type: 'start', unit });
        const replayCase = job.replayCases?.[unit];
        const verdict = await runSuiteUnit(module, job.module, unit, {
          seed: replayCase?.seed ?? job.seed,
          runs: job.runs,
          // Generating runs gets a bounded slice of the unit's cap (the rest covers shrinking a
          // failure), less once a suite already broke: later suites mostly find the same breach.
          timeLimitMs: Math.min(brokenSeen ? SUITE_GENERATE_AFTER_BREACH_MS : SUITE_GENERATE_MS, Math.floor((job.unitCapMs ?? job.timeoutMs) / 3)),
          onProgress: progress,
          onDispose: disposing,
          onDir: (path) => post({ type: 'dir', path }),
          ...(replayCase === undefined ? {} : { replayPath: replayCase.path }),
        });
        await settleStrays();
        if (verdict.status === 'broken') brokenSeen = true;
        if (verdict.status === 'timeout') timedOut = unit;
        post({ type: 'result', unit, result: withStrays(verdict) });
      }
      return;
    }
    case 'check': {
      const { checkSuites } = await import('../check_suites.js');
      const { suiteJudgedNothing } = await import('./suite_units.js');
      const module = await loadOrReport(() => loadBackend(job.module, { callTimeoutMs: job.timeoutMs }));
      if (module === undefined) return;
      const tally = { calls: 0, onCall: progress, fetched: 0 };
      const strategy = isolatedStrategy(module, tally);
      for (const unit of job.units) {
        newUnit();
        post({ type: 'start', unit });
        let runs = 0;
        tally.calls = 0;
        tally.fetched = 0;
        let result;
        try {
          result = await checkSuites({
            ...job.check,
            suites: [unit],
            makeStrategy: strategy.make,
            backendPath: job.module,
            onRun: () => {
              strategy.runStarted();
              progress(++runs);
            },
          });
        } catch (error) {
          if (!(error instanceof FactoryFailed)) throw error;
          // The backend could not even be built: a verdict for this suite naming the backend, not a crash.
          await strategy.disposeAll();
          post({ type: 'result', unit, result: { suite: unit, variant: job.check.variant ?? 'default', ok: false, runs, commands: 0, interrupted: false, timeMs: 0, cutOff: `the factory of ${job.module} ${error.message}` } });
          continue;
        }
        await strategy.disposeAll();
        await settleStrays();
        const stray = takeStray();
        // Held without reading back anything the backend stored: not applicable, as validate says.
        const judgedNothing = stray === undefined ? suiteJudgedNothing(result[0]!, tally) : undefined;
        const checked = stray !== undefined ? { ...result[0], ok: false, cutOff: stray } : judgedNothing !== undefined ? { ...result[0], notApplicable: judgedNothing } : result[0];
        post({ type: 'result', unit, result: JSON.parse(JSON.stringify(checked)) as unknown });
      }
      return;
    }
    case 'replay': {
      const { replaySeed } = await import('../run_suite.js');
      const { replayFixture } = await import('../fixture.js');
      const module = await loadOrReport(() => loadBackend(job.module, { callTimeoutMs: job.timeoutMs }));
      if (module === undefined) return;
      const strategy = isolatedStrategy(module);
      const makeStrategy = strategy.make;
      newUnit();
      post({ type: 'start', unit: 'replay' });
      const r = job.replay;
      const variant = r.variant === undefined ? {} : { variant: r.variant };
      let result;
      try {
        result =
          r.mode === 'seed'
            ? await replaySeed(r.property, { seed: r.seed, path: r.path, ...variant, makeStrategy })
            : await replayFixture(r.name, r.value, { ...variant, context: { makeInner: makeStrategy } });
      } catch (error) {
        // The backend could not even be built: a one-line verdict naming it, as in `check --backend`.
        if (error instanceof FactoryFailed) {
          post({ type: 'result', unit: 'replay', result: { ok: false, cutOff: `the factory of ${job.module} ${error.message}` } });
          return;
        }
        // A seed and path that name no run are bad input, as without --backend.
        if ((error as { code?: unknown }).code === 'E_BAD_INPUT') {
          post({ type: 'load-error', message: (error as Error).message });
          return;
        }
        throw error;
      } finally {
        await strategy.disposeAll();
      }
      await settleStrays();
      const stray = takeStray();
      post({ type: 'result', unit: 'replay', result: stray === undefined ? { ok: true, result: JSON.parse(JSON.stringify(result)) as unknown } : { ok: false, cutOff: stray } });
      return;
    }
    case 'differential': {
      const { runDifferentialUnit } = await import('./differential.js');
      const module = await loadOrReport(() => loadBackend(job.module, { callTimeoutMs: job.timeoutMs }));
      if (module === undefined) return;
      post({ type: 'start', unit: 'differential' });
      post({
        type: 'result',
        unit: 'differential',
        result: await runDifferentialUnit(module, job.seed, { onFactory: (waiting) => post({ type: 'factory', waiting }), onDispose: disposing, onDir: (path) => post({ type: 'dir', path }) }),
      });
      return;
    }
  }
}

/** Tell the parent the module's dispose was called (or returned), with the calls made so far: a hang there is named, with them. */
function disposing(waiting: boolean): void {
  post({ type: 'dispose', waiting, calls: callsSoFar });
}

/** The backend's misbehaviour outside any call during this unit, as one line (and forget it). */
function takeStray(): string | undefined {
  if (strays.length === 0) return undefined;
  const line = `the backend ${strays[0]}${strays.length > 1 ? ` (and ${strays.length - 1} more)` : ''}`;
  strays.length = 0;
  return line;
}

/** How `check --backend` and its replays build systems: `make` for each one, and disposal of what it made. */
interface IsolatedStrategy {
  /** A fresh instance of the backend in a directory of its own, its calls counted. */
  make: () => Promise<BytesSpill>;
  /** A new run has started: the instances made before it belong to finished runs, and are disposed before the next is made. */
  runStarted: () => void;
  /** Dispose every instance not disposed yet (end of a suite or replay). */
  disposeAll: () => Promise<void>;
}

/**
 * A fresh backend and directory per system the suites build, each call counted as progress (in
 * `tally`, when given). Every instance is handed to the module's `dispose` once its run is over,
 * as `validate` does, so a backend that releases descriptors or files there is not run out of
 * them over thousands of runs, and a dispose that hangs is named (the parent is told while it
 * waits). A dispose that throws is the clauses' business (`validate`), as in `runSuiteUnit`.
 */
function isolatedStrategy(module: BackendModule, tally: CallTally = { calls: 0, onCall: progress }): IsolatedStrategy {
  const dirs = new InstanceDirs('spillsim-check-', (path) => post({ type: 'dir', path }));
  let made: { spill: BytesSpill; dir: string }[] = [];
  let finishedRuns = false;
  const disposeAll = async (): Promise<void> => {
    const done = made;
    made = [];
    finishedRuns = false;
    await disposeEach(module, done.map((m) => m.spill), disposing);
    // A disposed instance's directory goes with it: a suite of thousands of runs must not keep one per run until it ends.
    for (const { dir } of done) rmSync(dir, { recursive: true, force: true });
  };
  const make = async (): Promise<BytesSpill> => {
    if (finishedRuns) await disposeAll();
    const dir = dirs.next();
    let spill: BytesSpill;
    // Told while the factory runs, so a factory that never returns is named as such.
    post({ type: 'factory', waiting: true });
    try {
      spill = await module.factory({ dir, faults: { failWrite: () => false, failRead: () => false }, fs: new FaultFs() as unknown as SpillCtxFs });
    } catch (thrown) {
      throw new FactoryFailed(`threw ${describeThrown(thrown)}`);
    } finally {
      post({ type: 'factory', waiting: false });
    }
    if (typeof (spill as { spill?: unknown } | null)?.spill !== 'function') {
      throw new FactoryFailed(`returned ${describeValue(spill)}, not a BytesSpill (an object with a spill(chunks, handles) method)`);
    }
    made.push({ spill, dir });
    return countingSpill(spill, tally);
  };
  return {
    make,
    runStarted: () => {
      finishedRuns = made.length > 0;
    },
    disposeAll,
  };
}

/** The backend's factory threw or returned no BytesSpill: the suite gets a one-line verdict naming the backend, not a crash. */
class FactoryFailed extends Error {}

/** Let timers and rejections the backend left behind in this unit surface before its verdict is sent. */
async function settleStrays(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setTimeout(resolve, 1));
}

async function loadOrReport<T>(load: () => Promise<T>): Promise<T | undefined> {
  try {
    const loaded = await load();
    post({ type: 'loaded' });
    return loaded;
  } catch (error) {
    post({ type: 'load-error', message: error instanceof Error ? error.message : String(error) });
    return undefined;
  }
}

// A backend promise that never settles would otherwise let the worker exit with nothing
// pending; kept alive, the parent's time limit decides and names the hang.
const keepAlive = setInterval(() => undefined, 1 << 30);
await run(data.job);
post({ type: 'done' });
clearInterval(keepAlive);
