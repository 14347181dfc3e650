import type { SpillFs } from '../src/backends/spill_fs.js';
import type { SimFs } from './sim_fs.js';
import type { StallGuard } from '../src/merge_queue.js';
import type { BytesSpill } from '../src/spill.js';
import type { Actor } from './actor.js';
import type { VirtualClock } from './clock.js';
import type { FaultEvent, FaultProfile } from './faults.js';
import type { NetworkLink } from './network_link.js';
import type { Variant, Wiring } from './options.js';
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
  holdBytes: number;
  wiring: Wiring;
  profile: FaultProfile;
  /** The file operations the run's file storage uses (the simulated disk itself, or a `FaultyFs` over it). */
  storageFs: (disk: SimFs) => SpillFs;
  rng: SimRng;
  pattern: Uint8Array;
  clock: VirtualClock;
  scheduler: Scheduler;
  /** The current step, for buzzes (a buzz wakes its actor "at" the step it happens in). */
  currentStep: () => number;
  onFaultEvent: (queue: string, event: FaultEvent) => void;
  /** Actors write a readable `detail` for each step (only when the run records its trace). */
  describeSteps?: boolean;
  queueFactory?: QueueFactory;
  policyFactory?: PolicyFactory;
  backendFactory?: (ctx: { queue: string; fs: SpillFs }) => BytesSpill;
}

export interface Topology {
  queues: TrackedQueue[];
  actors: Actor[];
  links: NetworkLink[];
}
