import { Buzzer } from '../src/buzzer.js';
import type { Allocator } from '../src/allocator/allocator.js';
import type { QueueSite } from '../src/allocator/queue_site.js';
import type { SimulatedNetwork } from '../src/allocator/simulated_network.js';
import type { MemfsSpill } from '../src/backends/memfs_spill.js';
import { type Communication, Config } from '../src/config.js';
import type { Bytes } from '../src/bytes.js';
import type { SpillPolicy } from '../src/spill.js';
import type { Actor, StepRecord } from './actor.js';
import { ByteStream } from './byte_stream.js';
import type { FaultySpill } from './faults.js';
import type { SimRng } from './rng.js';
import { queueParts, runStorage, type Topology, type TopologyInit } from './topology.js';
import { TrackedQueue } from './tracked_queue.js';
import { drawChunkBytes, type WorkloadShape } from './workload.js';

/** Queue operations made through the instrumented handles, read as deltas per step. */
interface OpCounter {
  extendCalls: number;
  drainCalls: number;
}

/** One (source worker → target worker) message stream: what was sent and received of it. */
interface MessageStream {
  stream: ByteStream;
  sentBytes: number;
  receivedBytes: number;
  /** The queue that delivers it to the target (process-binary, or cluster-recv). */
  deliveredBy: TrackedQueue | undefined;
}

/**
 * Mesh and cluster built by the library's own `Config` (`processBinary(n)`, or `cluster` with
 * two processes and `zerocopy`), driven as actors: each worker's send / flush / receive step
 * and each process's network send and receive loop is one scheduler step. Every queue the
 * build makes takes its policies from `hooks.spill` (one call per queue), each with its own
 * fault-injecting storage, and its handles are instrumented so the per-queue invariants
 * (conservation, resident bound, stall) apply; message payloads are checked per stream.
 */
export function buildConfigTopology(init: TopologyInit): Topology {
  const shape = init.shape;
  const counter: OpCounter = { extendCalls: 0, drainCalls: 0 };
  let storage: MemfsSpill | undefined;
  const parts: Array<{ spill: FaultySpill; name: { value: string } }> = [];
  const spillHook = (): [SpillPolicy, SpillPolicy] => {
    // The site is known only after the build; the name is filled in then (events read it late).
    const name = { value: `queue#${parts.length}` };
    const made = queueParts({ ...init, onFaultEvent: (_q, event) => init.onFaultEvent(name.value, event) }, `queue#${parts.length}`, () => (storage ??= runStorage(init)));
    parts.push({ spill: made.spill, name });
    // A missing policy is a no-op: Hooks wants a pair of objects.
    return [made.writerPolicy ?? NO_POLICY, made.readerPolicy ?? NO_POLICY];
  };
  const buzzerFor = (name: string): Buzzer => {
    const [kind, index] = name.split(':');
    const actor = `${kind === 'worker' ? 'worker' : kind}[${index}]`;
    return new Buzzer(() => init.scheduler.buzz(actor, init.currentStep()));
  };
  const options = { buzzerFor, stallGuard: init.stallGuard, slabBytes: 8 * shape.chunkBytesTypical };
  const communication: Communication =
    shape.kind === 'mesh'
      ? Config.processBinary(shape.workers, options).tryBuildWith({ spill: spillHook })
      : Config.cluster({ threads: shape.workers, process: 0, addresses: ['p0', 'p1'], zerocopy: true }, options).tryBuildWith({ spill: spillHook });
  const workers = communication.allocators.length;
  const processOf = (w: number): number => Math.floor(w / shape.workers);
  const queues = communication.queues.map((site, i) => {
    const q = trackSite(site, parts[i]!.spill, siteName(site), init, counter, processOf);
    parts[i]!.name.value = q.name;
    return q;
  });
  const streams = new Map<string, MessageStream>();
  for (let a = 0; a < workers; a += 1) {
    for (let b = 0; b < workers; b += 1) {
      const deliveredBy = queues.find((q, i) => {
        const site = communication.queues[i]!;
        return site.target === b && (site.kind === 'process-binary' ? site.source === a : site.kind === 'cluster-recv' && site.source === processOf(a));
      });
      streams.set(`${a}->${b}`, { stream: new ByteStream(`${a}->${b}`, init.pattern, init.rng.fork(`stream/${a}->${b}`)), sentBytes: 0, receivedBytes: 0, deliveredBy });
    }
  }
  const actors: Actor[] = [];
  for (let w = 0; w < workers; w += 1) {
    const name = `worker[${w}]`;
    actors.push(new ConfigWorkerActor({
      name,
      allocator: communication.allocators[w]!,
      rng: init.rng.fork(`actor/${name}`),
      shape,
      streams,
      counter,
      sources: queues.filter((q) => q.readerActor === name),
      outgoing: queues.filter((q) => q.writerActor === name),
    }));
    init.scheduler.add(name);
  }
  const network = communication.network;
  for (let p = 0; network !== undefined && p < network.processes; p += 1) {
    for (const kind of ['send', 'recv'] as const) {
      const name = `${kind}[${p}]`;
      actors.push(new ConfigNetworkActor({ name, kind, process: p, network, counter, sources: queues.filter((q) => q.readerActor === name), writes: queues.filter((q) => q.writerActor === name) }));
      init.scheduler.add(name);
    }
  }
  return { queues, actors, links: [] };
}

const NO_POLICY: SpillPolicy = { apply() {} };

function siteName(site: QueueSite): string {
  if (site.kind === 'cluster-send') return `${site.source}->p${site.target}@send`;
  if (site.kind === 'cluster-recv') return `p${site.source}->${site.target}@recv`;
  return `${site.source}->${site.target}`;
}

/** Wrap one site's handles so every extend, drain and drop is accounted for. */
function trackSite(site: QueueSite, spill: FaultySpill, name: string, init: TopologyInit, counter: OpCounter, processOf: (w: number) => number): TrackedQueue {
  const writerActor = site.kind === 'cluster-recv' ? `recv[${processOf(site.target)}]` : `worker[${site.source}]`;
  const readerActor = site.kind === 'cluster-send' ? `send[${processOf(site.source)}]` : `worker[${site.target}]`;
  const q = new TrackedQueue({
    name,
    stream: undefined,
    pair: [site.writer, site.reader],
    spill,
    writerActor,
    readerActor,
    residentBoundBytes: init.knobs.headReserveBytes + init.knobs.thresholdBytes,
  });
  const { writer, reader } = site;
  const extend = writer.extend.bind(writer);
  writer.extend = (items: Iterable<Bytes>): void => {
    const list = [...items];
    q.noteExtend(list);
    counter.extendCalls += 1;
    extend(list);
  };
  const drainInto = reader.drainInto.bind(reader);
  reader.drainInto = (out: Bytes[]): void => {
    const before = out.length;
    counter.drainCalls += 1;
    drainInto(out);
    q.acceptDelivered(out.slice(before));
  };
  const dropWriter = writer.drop.bind(writer);
  writer.drop = (): void => {
    dropWriter();
    q.writerDropped = true;
  };
  const dropReader = reader.drop.bind(reader);
  reader.drop = (): void => {
    dropReader();
    q.readerDropped = true;
  };
  return q;
}

/** Run `body` and put the queue operations it made into its record. */
function counted(counter: OpCounter, body: () => StepRecord): StepRecord {
  const extendsBefore = counter.extendCalls;
  const drainsBefore = counter.drainCalls;
  const record = body();
  record.extendCalls = counter.extendCalls - extendsBefore;
  record.drainCalls = counter.drainCalls - drainsBefore;
  return record;
}

interface ConfigWorkerInit {
  name: string;
  allocator: Allocator;
  rng: SimRng;
  shape: WorkloadShape;
  streams: Map<string, MessageStream>;
  counter: OpCounter;
  sources: TrackedQueue[];
  outgoing: TrackedQueue[];
}

/** A worker on a `Config` allocator: sends its plan of messages, flushes, receives, finishes. */
class ConfigWorkerActor implements Actor {
  readonly name: string;
  readonly sources: readonly TrackedQueue[];
  readonly #init: ConfigWorkerInit;
  readonly #messagesLeft: number[];
  #unflushed = false;
  #finished = false;

  constructor(init: ConfigWorkerInit) {
    this.name = init.name;
    this.#init = init;
    this.sources = init.sources;
    this.#messagesLeft = new Array<number>(init.allocator.peers).fill(init.shape.extendsPerStream);
  }

  get producing(): boolean {
    return !this.#finished;
  }

  pendingInput(): string | undefined {
    return undefined;
  }

  step(): StepRecord {
    return counted(this.#init.counter, () => this.#step());
  }

  #step(): StepRecord {
    const { allocator, rng, shape } = this.#init;
    const left = this.#messagesLeft.some((n) => n > 0);
    if (left && (shape.pattern === 'push-all-then-drain' || rng.chance(0.5))) return this.#send();
    if (this.#unflushed && (!left || rng.chance(0.5))) {
      this.#unflushed = false;
      const bytes = allocator.flush();
      return { op: 'extend', bytes, detail: `flush ${bytes} framed bytes`, touched: this.#init.outgoing, progress: bytes > 0 };
    }
    if (!left && !this.#unflushed && !this.#finished) {
      this.#finished = true;
      allocator.finish();
      return { op: 'drop', detail: 'finish: every writer end dropped', touched: this.#init.outgoing, progress: true };
    }
    return this.#receive();
  }

  #send(): StepRecord {
    const { allocator, rng, shape, streams } = this.#init;
    const targets = this.#messagesLeft.map((n, t) => (n > 0 ? t : -1)).filter((t) => t >= 0);
    const target = rng.pick(targets);
    this.#messagesLeft[target]! -= 1;
    const s = streams.get(`${allocator.index}->${target}`)!;
    const payload = new Uint8Array(drawChunkBytes(rng, shape.chunkSizes));
    s.stream.fill(payload, s.sentBytes);
    s.sentBytes += payload.length;
    allocator.send(target, payload);
    this.#unflushed = true;
    // A full slab is handed to its queue inside send, so the writer side may have moved.
    return { op: 'send', bytes: payload.length, chunks: 1, detail: `message to worker ${target}`, touched: this.#init.outgoing, progress: true };
  }

  #receive(): StepRecord {
    const { allocator, streams } = this.#init;
    const messages = allocator.receive();
    let bytes = 0;
    for (const message of messages) {
      const s = streams.get(`${message.source}->${allocator.index}`)!;
      const at = s.stream.firstMismatch(message.payload, s.receivedBytes);
      if (at >= 0 && s.deliveredBy !== undefined && s.deliveredBy.deliveryError === undefined) {
        s.deliveredBy.deliveryError = {
          invariant: 'no-reorder',
          message: `worker ${allocator.index} received a wrong byte from worker ${message.source} at stream offset ${s.receivedBytes + at}`,
        };
      }
      s.receivedBytes += message.payload.length;
      bytes += message.payload.length;
    }
    const record: StepRecord = { op: 'drain', bytes, chunks: messages.length, detail: `receive step: ${messages.length} messages`, touched: [...this.sources], progress: bytes > 0 };
    if (messages.length > 0 || !this.#finished) return record;
    if (allocator.isComplete()) {
      for (let source = 0; source < allocator.peers; source += 1) this.#checkAllArrived(source);
      allocator.drop();
      return { ...record, op: 'finish', detail: 'every peer finished and every message arrived', finish: true, progress: true };
    }
    return { ...record, park: true, detail: 'receive step found nothing: park' };
  }

  /** Complete means every message of every peer arrived; a shortfall is a loss. */
  #checkAllArrived(source: number): void {
    const s = this.#init.streams.get(`${source}->${this.#init.allocator.index}`)!;
    if (s.receivedBytes !== s.sentBytes && s.deliveredBy !== undefined && s.deliveredBy.deliveryError === undefined) {
      s.deliveredBy.deliveryError = {
        invariant: 'no-loss',
        message: `worker ${this.#init.allocator.index} completed with ${s.receivedBytes} of the ${s.sentBytes} payload bytes worker ${source} sent`,
      };
    }
  }
}

interface ConfigNetworkInit {
  name: string;
  kind: 'send' | 'recv';
  process: number;
  network: SimulatedNetwork;
  counter: OpCounter;
  sources: TrackedQueue[];
  writes: TrackedQueue[];
}

/** A process's network send or receive loop, one `step()` per scheduler step. */
class ConfigNetworkActor implements Actor {
  readonly name: string;
  readonly sources: readonly TrackedQueue[];
  readonly producing = false;
  readonly #init: ConfigNetworkInit;

  constructor(init: ConfigNetworkInit) {
    this.name = init.name;
    this.#init = init;
    this.sources = init.sources;
  }

  pendingInput(): string | undefined {
    const { kind, network, process } = this.#init;
    if (kind !== 'recv') return undefined;
    for (let from = 0; from < network.processes; from += 1) {
      if (from !== process && network.link(from, process).piecesPending > 0) return `bytes from process ${from} wait on its link`;
    }
    return undefined;
  }

  step(): StepRecord {
    return counted(this.#init.counter, () => {
      const { kind, network, process, sources, writes } = this.#init;
      const result = kind === 'send' ? network.sendStep(process) : network.recvStep(process);
      const touched = kind === 'send' ? [...sources] : [...writes];
      const op = kind === 'send' ? 'send' : 'receive';
      if (result.status === 'done') return { op: 'finish', bytes: result.bytes, detail: `${kind} loop shut down`, touched, finish: true, progress: true };
      if (result.status === 'park') return { op, bytes: 0, detail: 'nothing to move: park', touched, park: true, progress: false };
      return { op, bytes: result.bytes, detail: `${result.bytes} bytes ${kind === 'send' ? 'to' : 'from'} the network`, touched, progress: true };
    });
  }
}
