import { Buzzer } from '../src/buzzer.js';
import type { BatchFileSpill } from '../src/backends/batch_file_spill.js';
import { MergeQueue } from '../src/merge_queue.js';
import type { Actor } from './actor.js';
import { queueParts, runStorage } from './queue_parts.js';
import { ByteStream } from './byte_stream.js';
import { NetworkLink } from './network_link.js';
import { NetworkReceiveActor } from './network_receive_actor.js';
import { buildConfigTopology } from './config_workload.js';
import type { Topology, TopologyInit } from './topology_init.js';
import { TrackedQueue } from './tracked_queue.js';
import { WorkerActor } from './worker_actor.js';

/**
 * Builds the queues and actors of a workload, the way the host system wires them (SPEC Part A,
 * Config): every queue gets a fresh policy pair from the factory and its own fault-injecting
 * storage; a queue rings the buzzer of the actor that reads it.
 */
export function buildTopology(init: TopologyInit): Topology {
  if (init.shape.kind !== 'single' && init.wiring === 'config') return buildConfigTopology(init);
  const builder = new TopologyBuilder(init);
  switch (init.shape.kind) {
    case 'single':
      return builder.single();
    case 'mesh':
      return builder.cluster(1, init.shape.workers);
    case 'cluster':
      return builder.cluster(init.shape.processes, init.shape.workers);
  }
}

class TopologyBuilder {
  readonly #init: TopologyInit;
  readonly #buzzers = new Map<string, Buzzer>();
  readonly queues: TrackedQueue[] = [];

  constructor(init: TopologyInit) {
    this.#init = init;
  }

  single(): Topology {
    const q = this.#queue('q0', 'q0', 'writer', 'reader');
    const writer = this.#worker('writer', [q], []);
    const reader = this.#worker('reader', [], [q]);
    const pushAll = this.#init.shape.pattern === 'push-all-then-drain';
    this.#init.scheduler.add('writer');
    // A held-back reader still runs when nothing else can, so the run never waits on it.
    this.#init.scheduler.add('reader', () => (pushAll && writer.producing ? 0 : 1));
    return { queues: this.queues, actors: [writer, reader], links: [] };
  }

  /**
   * `processes` × `workersPer` workers, each writing to every worker (itself included). Within a
   * process a stream is one queue (process-binary); across processes it is the sender's queue
   * read by its process's send thread, the network, then the receiver's queue written by the
   * remote receive thread.
   */
  cluster(processes: number, workersPer: number): Topology {
    const workers = processes * workersPer;
    const processOf = (w: number): number => Math.floor(w / workersPer);
    const links = new Map<string, NetworkLink>();
    for (let p = 0; p < processes; p += 1) {
      for (let r = 0; r < processes; r += 1) {
        if (p === r) continue;
        links.set(`${p}->${r}`, new NetworkLink({
          name: `net ${p}->${r}`,
          rng: this.#init.rng.fork(`net/${p}->${r}`),
          clock: this.#init.clock,
          latencyTicksMax: this.#init.shape.networkLatencyTicksMax,
          receiver: `recv[${r}]`,
        }));
      }
    }
    const sends: TrackedQueue[][] = Array.from({ length: workers }, () => []);
    const receives: TrackedQueue[][] = Array.from({ length: workers }, () => []);
    const sendThreadSources: TrackedQueue[][] = Array.from({ length: processes }, () => []);
    const recvThreadWrites: TrackedQueue[][] = Array.from({ length: processes }, () => []);
    const remoteTarget = new Map<TrackedQueue, TrackedQueue>();
    const worker = (w: number): string => `worker[${w}]`;
    for (let a = 0; a < workers; a += 1) {
      for (let b = 0; b < workers; b += 1) {
        const stream = `${a}->${b}`;
        if (processOf(a) === processOf(b)) {
          const q = this.#queue(stream, stream, worker(a), worker(b));
          sends[a]!.push(q);
          receives[b]!.push(q);
          continue;
        }
        const out = this.#queue(`${stream}@send`, stream, worker(a), `send[${processOf(a)}]`);
        const inq = this.#queue(`${stream}@recv`, stream, `recv[${processOf(b)}]`, worker(b));
        sends[a]!.push(out);
        sendThreadSources[processOf(a)]!.push(out);
        recvThreadWrites[processOf(b)]!.push(inq);
        receives[b]!.push(inq);
        remoteTarget.set(out, inq);
      }
    }
    const actors: Actor[] = [];
    for (let w = 0; w < workers; w += 1) {
      actors.push(this.#worker(worker(w), sends[w]!, receives[w]!));
      this.#init.scheduler.add(worker(w));
    }
    for (let p = 0; p < processes && processes > 1; p += 1) {
      const outLinks = [...links.entries()].filter(([key]) => key.startsWith(`${p}->`)).map(([, link]) => link);
      actors.push(this.#worker(`send[${p}]`, [], sendThreadSources[p]!, {
        sink: (delivered) => {
          for (const [q, chunks] of delivered) {
            const target = remoteTarget.get(q)!;
            links.get(`${p}->${this.#processOfQueue(target, workersPer)}`)!.send(target, chunks);
          }
        },
        onFinish: () => {
          for (const link of outLinks) link.send(undefined, []);
        },
      }));
      this.#init.scheduler.add(`send[${p}]`);
      const inLinks = [...links.entries()].filter(([key]) => key.endsWith(`->${p}`)).map(([, link]) => link);
      actors.push(new NetworkReceiveActor(`recv[${p}]`, inLinks, recvThreadWrites[p]!));
      this.#init.scheduler.add(`recv[${p}]`);
    }
    return { queues: this.queues, actors, links: [...links.values()] };
  }

  #processOfQueue(q: TrackedQueue, workersPer: number): number {
    const target = Number.parseInt(q.name.split('->')[1]!, 10);
    return Math.floor(target / workersPer);
  }

  #worker(name: string, sends: TrackedQueue[], sources: TrackedQueue[], extra: Pick<ConstructorParameters<typeof WorkerActor>[0], 'sink' | 'onFinish'> = {}): WorkerActor {
    return new WorkerActor({
      name, rng: this.#init.rng.fork(`actor/${name}`), shape: this.#init.shape, sends, sources, holdBytes: this.#init.holdBytes, describe: this.#init.describeSteps ?? true, ...extra,
    });
  }

  /** One reader actor has one buzzer for all the queues it reads (timely's thread unpark). */
  #buzzerOf(readerActor: string): Buzzer {
    let buzzer = this.#buzzers.get(readerActor);
    if (buzzer === undefined) {
      const scheduler = this.#init.scheduler;
      const currentStep = this.#init.currentStep;
      buzzer = new Buzzer(() => scheduler.buzz(readerActor, currentStep()));
      this.#buzzers.set(readerActor, buzzer);
    }
    return buzzer;
  }

  #storage: BatchFileSpill | undefined;

  /** One memfs store per run, shared by every queue like one spill directory per process; each queue still has its own fault injector. */
  #sharedStorage(): BatchFileSpill {
    this.#storage ??= runStorage(this.#init);
    return this.#storage;
  }

  #queue(name: string, streamName: string, writerActor: string, readerActor: string): TrackedQueue {
    const init = this.#init;
    const { spill, writerPolicy, readerPolicy } = queueParts(init, name, () => this.#sharedStorage());
    const buzzer = this.#buzzerOf(readerActor);
    const pair = init.queueFactory?.(buzzer, writerPolicy, readerPolicy, { stallGuard: init.stallGuard }) ??
      MergeQueue.newPair(buzzer, writerPolicy, readerPolicy, { stallGuard: init.stallGuard });
    const q = new TrackedQueue({
      name,
      stream: this.#stream(streamName),
      pair,
      spill,
      writerActor,
      readerActor,
      residentBoundBytes: init.knobs.headReserveBytes + init.knobs.thresholdBytes,
    });
    this.queues.push(q);
    return q;
  }

  readonly #streams = new Map<string, ByteStream>();

  /** A cluster stream crosses two queues; both check against the same bytes. */
  #stream(name: string): ByteStream {
    let stream = this.#streams.get(name);
    if (stream === undefined) {
      stream = new ByteStream(name, this.#init.pattern, this.#init.rng.fork(`stream/${name}`));
      this.#streams.set(name, stream);
    }
    return stream;
  }

}
