import { Buzzer } from '../src/buzzer.js';
import type { LinkLatency } from '../src/allocator/network_link.js';
import type { QueueSite } from '../src/allocator/queue_site.js';
import type { BatchFileSpill } from '../src/backends/batch_file_spill.js';
import { type Communication, Config } from '../src/config.js';
import type { Bytes } from '../src/bytes.js';
import type { SpillPolicy } from '../src/spill_policy.js';
import type { Actor } from './actor.js';
import type { ActorSlot } from './scheduler.js';
import { ConfigNetworkActor } from './config_network_actor.js';
import { ConfigWorkerActor, type MessageStream } from './config_worker_actor.js';
import type { OpCounter } from './op_counter.js';
import type { SimRng } from './rng.js';
import { ByteStream } from './byte_stream.js';
import type { FaultySpill } from './faults.js';
import { queueParts, runStorage } from './queue_parts.js';
import type { Topology, TopologyInit } from './topology_init.js';
import { TrackedQueue } from './tracked_queue.js';

/**
 * Mesh and cluster built by the library's own `Config` (`processBinary(n)`, or `cluster` with
 * two processes and `zerocopy`), driven as actors: each worker's send / flush / receive step
 * and each process's network send and receive loop is one scheduler step. Every queue the
 * build makes takes its policies from `hooks.spill` (one call per queue), each with its own
 * fault-injecting storage, and its handles are instrumented so the per-queue invariants
 * (conservation, resident bound, stall) apply; message payloads are checked per stream. A
 * cluster's network links delay each write by 1..`networkLatencyTicksMax` ticks of the run's
 * clock, drawn per link from the seed (`linkLatency`).
 */
export function buildConfigTopology(init: TopologyInit): Topology {
  const shape = init.shape;
  const counter: OpCounter = { extendCalls: 0, drainCalls: 0 };
  let storage: BatchFileSpill | undefined;
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
    let slot: ActorSlot | undefined;
    return new Buzzer(() => init.scheduler.buzz((slot ??= init.scheduler.slot(actor)), init.currentStep()));
  };
  const options = { buzzerFor, stallGuard: init.stallGuard, slabBytes: 8 * shape.chunkBytesTypical, linkLatency: seededLatency(init) };
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
  const links = [];
  for (let from = 0; network !== undefined && from < network.processes; from += 1) {
    for (let to = 0; to < network.processes; to += 1) if (from !== to) links.push(network.link(from, to));
  }
  return { queues, actors, links };
}

/**
 * Each write takes 1..`networkLatencyTicksMax` ticks, from the link's own rng (`net/<from>-><to>`);
 * the receive loop's actor is woken by a timer at the arrival tick.
 */
function seededLatency(init: TopologyInit): LinkLatency {
  const rngs = new Map<string, SimRng>();
  return {
    nowTicks: () => init.clock.nowTicks,
    ticksOf: (write) => {
      const name = `net/${write.source}->${write.target}`;
      let rng = rngs.get(name);
      if (rng === undefined) {
        rng = init.rng.fork(name);
        rngs.set(name, rng);
      }
      return rng.int(1, init.shape.networkLatencyTicksMax);
    },
    wakeAt: (arrivalTick, write) => init.clock.after(arrivalTick - init.clock.nowTicks, `recv[${write.target}]`),
  };
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
    q.acceptDelivered(out, before);
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
