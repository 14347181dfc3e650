import { Buzzer } from '../src/buzzer.js';
import { MergeQueue } from '../src/merge_queue.js';
import { queueParts, runStorage } from './queue_parts.js';
import { ByteStream } from './byte_stream.js';
import { buildConfigTopology } from './config_workload.js';
import type { Topology, TopologyInit } from './topology_init.js';
import type { ActorSlot } from './scheduler.js';
import { TrackedQueue } from './tracked_queue.js';
import { WorkerActor } from './worker_actor.js';

/**
 * Builds the queues and actors of a workload, the way the host system wires them (SPEC Part A,
 * Config). Meshes and clusters are built by the library's own `Config` (`buildConfigTopology`);
 * the single workload is one queue between a writer and a reader, wired here: it gets a policy
 * pair from the factory and fault-injecting storage, and rings the reader's buzzer.
 */
export function buildTopology(init: TopologyInit): Topology {
  return init.shape.kind === 'single' ? new SingleQueueBuilder(init).build() : buildConfigTopology(init);
}

class SingleQueueBuilder {
  readonly #init: TopologyInit;

  constructor(init: TopologyInit) {
    this.#init = init;
  }

  build(): Topology {
    const q = this.#queue('q0');
    const writer = this.#worker('writer', [q], []);
    const reader = this.#worker('reader', [], [q]);
    const pushAll = this.#init.shape.pattern === 'push-all-then-drain';
    this.#init.scheduler.add('writer');
    // A held-back reader still runs when nothing else can, so the run never waits on it.
    this.#init.scheduler.add('reader', () => (pushAll && writer.producing ? 0 : 1));
    return { queues: [q], actors: [writer, reader], links: [] };
  }

  #worker(name: string, sends: TrackedQueue[], sources: TrackedQueue[]): WorkerActor {
    return new WorkerActor({
      name, rng: this.#init.rng.fork(`actor/${name}`), shape: this.#init.shape, sends, sources, holdBytes: this.#init.holdBytes, describe: this.#init.describeSteps ?? true,
    });
  }

  /** The queue rings the reader's buzzer (timely's thread unpark). */
  #queue(name: string): TrackedQueue {
    const init = this.#init;
    const { spill, writerPolicy, readerPolicy } = queueParts(init, name, () => runStorage(init));
    let reader: ActorSlot | undefined;
    const buzzer = new Buzzer(() => init.scheduler.buzz((reader ??= init.scheduler.slot('reader')), init.currentStep()));
    const pair = init.queueFactory?.(buzzer, writerPolicy, readerPolicy, { stallGuard: init.stallGuard }) ??
      MergeQueue.newPair(buzzer, writerPolicy, readerPolicy, { stallGuard: init.stallGuard });
    return new TrackedQueue({
      name,
      stream: new ByteStream(name, init.pattern, init.rng.fork(`stream/${name}`)),
      pair,
      spill,
      writerActor: 'writer',
      readerActor: 'reader',
      residentBoundBytes: init.knobs.headReserveBytes + init.knobs.thresholdBytes,
    });
  }
}
