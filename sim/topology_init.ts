import type { Volume } from 'memfs';
import type { NetworkLink } from '../src/allocator/network_link.js';
import type { SpillFs } from '../src/backends/spill_fs.js';
import type { StallGuard } from '../src/merge_queue.js';
import type { BytesSpill } from '../src/spill.js';
import type { Actor } from './actor.js';
import type { VirtualClock } from './clock.js';
import type { FaultEvent, FaultProfile } from './faults.js';
import type { Variant } from './options.js';
import type { SimRng } from './rng.js';
import type { Scheduler } from './scheduler.js';
import type { PolicyFactory, QueueFactory, TrackedQueue } from './tracked_queue.js';
import type { PolicyKnobs, WorkloadShape } from './workload.js';

export interface TopologyInit {
  shape: WorkloadShape;
  knobs: PolicyKnobs;
  variant: Variant;
  stallGuard: StallGuard;
  readerPolicy: 'prefetch' | 'none';
  /** The single workload's reader keeps its accumulator until it holds this many bytes (0: flush every round). */
  holdBytes: number;
  profile: FaultProfile;
  /** The file operations the run's memfs storage uses (the volume itself, or a `FaultyFs` over it). */
  storageFs: (volume: Volume) => SpillFs;
  rng: SimRng;
  pattern: Uint8Array;
  clock: VirtualClock;
  scheduler: Scheduler;
  /** The current step, for buzzes (a buzz wakes its actor "at" the step it happens in). */
  currentStep: () => number;
  onFaultEvent: (queue: string, event: FaultEvent) => void;
  /** Single workload only: Config builds the queues of meshes and clusters. */
  queueFactory?: QueueFactory;
  policyFactory?: PolicyFactory;
  backendFactory?: (ctx: { queue: string }) => BytesSpill;
}

export interface Topology {
  queues: TrackedQueue[];
  actors: Actor[];
  /** A cluster's network links (the library's), for the pieces still in flight; empty otherwise. */
  links: NetworkLink[];
}
