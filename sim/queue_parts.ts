import { Volume as VolumeClass } from 'memfs';
import { MemfsSpill } from '../src/backends/memfs_spill.js';
import { PrefetchPolicy } from '../src/prefetch_policy.js';
import { ReferenceThreshold } from '../src/reference_threshold.js';
import type { BytesSpill } from '../src/spill.js';
import type { SpillPolicy } from '../src/spill_policy.js';
import { Threshold } from '../src/threshold.js';
import { FaultySpill } from './faults.js';
import type { TopologyInit } from './topology_init.js';

/** The storage, fault injector and policy pair of one queue, as the run's options ask. */
export function queueParts(
  init: TopologyInit,
  name: string,
  sharedStorage: () => BytesSpill,
): { spill: FaultySpill; writerPolicy: SpillPolicy | undefined; readerPolicy: SpillPolicy | undefined } {
  const inner = init.backendFactory?.({ queue: name }) ?? sharedStorage();
  const spill = new FaultySpill(inner, init.profile, init.rng.fork(`faults/${name}`), {
    clock: init.clock,
    onEvent: (event) => init.onFaultEvent(name, event),
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
  return [writer, init.readerPolicy === 'none' ? undefined : new PrefetchPolicy(prefetchBudgetBytes)];
}

/** One memfs store for a run's queues, in the variant's read and write modes, on the run's (maybe faulty) file operations. */
export function runStorage(init: TopologyInit): MemfsSpill {
  const volume = new VolumeClass();
  const modes = init.variant === 'reference' ? ({ readMode: 'batch', writeMode: 'all-or-nothing' } as const) : ({ readMode: 'chunk', writeMode: 'partial' } as const);
  return new MemfsSpill({ volume, fs: init.storageFs(volume), ...modes });
}
