import { BatchFileSpill } from '../src/backends/batch_file_spill.js';
import { PrefetchPolicy, ReferencePrefetchPolicy } from '../src/prefetch_policy.js';
import { ReferenceThreshold } from '../src/reference_threshold.js';
import type { SpillFs } from '../src/backends/spill_fs.js';
import type { BytesSpill } from '../src/spill.js';
import type { SpillPolicy } from '../src/spill_policy.js';
import { Threshold } from '../src/threshold.js';
import { FaultySpill } from './faults.js';
import { SimFs } from './sim_fs.js';
import type { TopologyInit } from './topology_init.js';

/** The storage, fault injector and policy pair of one queue, as the run's options ask. */
export function queueParts(
  init: TopologyInit,
  name: string,
  sharedStorage: () => BytesSpill,
): { spill: FaultySpill; writerPolicy: SpillPolicy | undefined; readerPolicy: SpillPolicy | undefined } {
  const inner = init.backendFactory?.({ queue: name, fs: runFs(init) }) ?? sharedStorage();
  const spill = new FaultySpill(inner, init.profile, init.rng.fork(`faults/${name}`), {
    clock: init.clock,
    onEvent: (event) => init.onFaultEvent(name, event),
    // The run keeps no event past the call (a recording run copies the ones it keeps).
    eventReused: true,
  });
  const ctx = { strategy: spill, queue: name, ...init.knobs };
  const [writerPolicy, readerPolicy] = init.policyFactory?.(ctx) ?? defaultPolicies(init, spill);
  return { spill, writerPolicy, readerPolicy };
}

function defaultPolicies(init: TopologyInit, spill: FaultySpill): [SpillPolicy, SpillPolicy | undefined] {
  const { thresholdBytes, headReserveBytes, prefetchBudgetBytes } = init.knobs;
  const writer = init.variant === 'reference'
    ? new ReferenceThreshold(spill, { thresholdBytes, headReserveBytes })
    : new Threshold(spill, { thresholdBytes, headReserveBytes });
  if (init.readerPolicy === 'none') return [writer, undefined];
  // The reference removes a paged entry before fetching it (a fetch that panics loses it).
  return [writer, init.variant === 'reference' ? new ReferencePrefetchPolicy(prefetchBudgetBytes) : new PrefetchPolicy(prefetchBudgetBytes)];
}

/**
 * One file store for a run's queues: the batch-file engine of `FileSpill` and `MemfsSpill`,
 * in the variant's read and write modes, on the simulated disk (maybe behind a `FaultyFs`).
 */
export function runStorage(init: TopologyInit): BatchFileSpill {
  const modes = init.variant === 'reference' ? ({ readMode: 'batch', writeMode: 'all-or-nothing' } as const) : ({ readMode: 'chunk', writeMode: 'partial' } as const);
  return new BatchFileSpill('FileSpill', { dir: '/spill', fs: runFs(init), ...modes });
}

const runFsOf = new WeakMap<TopologyInit['storageFs'], SpillFs>();

/** The run's file operations: one simulated disk per run (maybe behind its `FaultyFs`), made on first use. */
export function runFs(init: TopologyInit): SpillFs {
  let fs = runFsOf.get(init.storageFs);
  if (fs === undefined) {
    fs = init.storageFs(new SimFs());
    runFsOf.set(init.storageFs, fs);
  }
  return fs;
}
