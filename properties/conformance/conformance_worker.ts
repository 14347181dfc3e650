import { parentPort, workerData } from 'node:worker_threads';
import { loadBackend } from '../process_backend/load_backend.js';
import { watchChildren } from '../process_backend/child_pipes.js';
import { runBackendClauses, selectClauses } from './run_backend_clauses.js';
import type { WorkerJob, WorkerMessage } from './worker_protocol.js';

// The worker side of the isolated runner: load the module, run the units in order, answer each.
const port = parentPort;
if (port === null) throw new Error('conformance_worker runs only as a worker thread');
const post = (message: WorkerMessage): void => port.postMessage(message);
watchChildren((pid, alive) => post({ type: 'child', pid, alive }));

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
        onDir: (path) => post({ type: 'dir', path }),
        onStart: (clause) => post({ type: 'start', unit: clause.id }),
        onVerdict: (verdict) => post({ type: 'result', unit: verdict.id, result: verdict }),
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
      const { runSuiteUnit } = await import('./suite_units.js');
      const module = await loadOrReport(() => loadBackend(job.module, { callTimeoutMs: job.timeoutMs }));
      if (module === undefined) return;
      for (const unit of job.units) {
        post({ type: 'start', unit });
        // Half the unit's limit for generating runs; the rest covers shrinking a failure.
        const verdict = await runSuiteUnit(module, job.module, unit, { seed: job.seed, runs: job.runs, timeLimitMs: Math.floor(job.timeoutMs / 2) });
        post({ type: 'result', unit, result: verdict });
      }
      return;
    }
    case 'differential': {
      const { runDifferentialUnit } = await import('./differential.js');
      const module = await loadOrReport(() => loadBackend(job.module, { callTimeoutMs: job.timeoutMs }));
      if (module === undefined) return;
      post({ type: 'start', unit: 'differential' });
      post({ type: 'result', unit: 'differential', result: await runDifferentialUnit(module, job.seed, (waiting) => post({ type: 'factory', waiting })) });
      return;
    }
  }
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
await run(workerData.job as WorkerJob);
post({ type: 'done' });
clearInterval(keepAlive);
