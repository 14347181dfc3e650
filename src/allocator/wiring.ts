import type { Buzzer } from '../buzzer.js';
import type { Hooks } from '../hooks.js';
import type { MergeQueue } from '../merge_queue.js';
import { Allocator, type Route } from './allocator.js';
import type { ResolvedBuildOptions } from './build_options.js';
import { NetworkLink } from './network_link.js';
import type { QueueSites } from './queue_site.js';
import { RecvLoop, type RecvSource } from './recv_loop.js';
import { SendEndpoint } from './send_endpoint.js';
import { SendLoop, type SendSource } from './send_loop.js';
import { SimulatedNetwork } from './simulated_network.js';
import { TypedChannel } from './typed_channel.js';

/** One worker's allocator while the build wires it. */
interface Wiring {
  readonly index: number;
  readonly buzzer: Buzzer;
  readonly routes: (Route | undefined)[];
  readonly endpoints: SendEndpoint[];
  readonly outboxes: TypedChannel[];
  readonly receiveQueues: MergeQueue[];
  readonly inboxes: TypedChannel[];
}

/**
 * Wires the allocators of one build: first the meshes and the network, then `allocators()`.
 * Every MergeQueue comes from `sites`, so each gets its own policy pair from `hooks.spill`.
 */
export class Wirings {
  readonly #wirings: Wiring[];
  readonly #hooks: Hooks;
  readonly #options: ResolvedBuildOptions;
  readonly #sites: QueueSites;

  constructor(peers: number, hooks: Hooks, options: ResolvedBuildOptions, sites: QueueSites) {
    this.#hooks = hooks;
    this.#options = options;
    this.#sites = sites;
    this.#wirings = [];
    for (let index = 0; index < peers; index += 1) {
      this.#wirings.push({
        index,
        buzzer: options.buzzerFor(`worker:${index}`),
        routes: new Array<Route | undefined>(peers).fill(undefined),
        endpoints: [],
        outboxes: [],
        receiveQueues: [],
        inboxes: [],
      });
    }
  }

  /** Typed channels between every ordered pair of `group` (timely's `Process`): no queue, no spill. */
  typedMesh(group: readonly number[]): void {
    for (const target of group) {
      const receiver = this.#wirings[target]!;
      for (const source of group) {
        const channel = new TypedChannel(source, target, receiver.buzzer);
        receiver.inboxes.push(channel);
        this.#wirings[source]!.routes[target] = { kind: 'typed', channel };
        this.#wirings[source]!.outboxes.push(channel);
      }
    }
  }

  /**
   * Byte queues between every ordered pair of `group` (timely's `ProcessBinary`, n×n with the
   * self-queue): each worker creates one queue per peer, keeps the reader end and hands the
   * writer end to that peer.
   */
  binaryMesh(group: readonly number[]): void {
    for (const target of group) {
      const receiver = this.#wirings[target]!;
      for (const source of group) {
        const site = this.#sites.newPair('process-binary', source, target, receiver.buzzer);
        receiver.receiveQueues.push(site.reader);
        this.#connect(source, [target], site.writer);
      }
    }
  }

  /**
   * The Cluster network among `processes` processes of `threads` workers each (worker
   * `p * threads + w` lives in process `p`). Send side: each worker's writer end of one queue
   * per remote process, whose reader end the process's send loop keeps. Receive side: per
   * remote process, one queue per local worker, whose writer end the receive loop keeps.
   */
  network(processes: number, threads: number): SimulatedNetwork {
    const sendBuzzers: Buzzer[] = [];
    const recvBuzzers: Buzzer[] = [];
    for (let p = 0; p < processes; p += 1) sendBuzzers.push(this.#options.buzzerFor(`send:${p}`));
    for (let p = 0; p < processes; p += 1) recvBuzzers.push(this.#options.buzzerFor(`recv:${p}`));
    const links = range(processes).map((from) =>
      range(processes).map((to) => (from === to ? undefined : new NetworkLink(from, to, recvBuzzers[to]!, this.#options.splitWrite, this.#options.linkLatency))),
    );
    const sendLoops = range(processes).map((p) => {
      const sources: SendSource[] = [];
      for (const worker of range(threads).map((w) => p * threads + w)) {
        for (const remote of range(processes)) {
          if (remote === p) continue;
          const site = this.#sites.newPair('cluster-send', worker, remote, sendBuzzers[p]!);
          this.#connect(worker, range(threads).map((w) => remote * threads + w), site.writer);
          sources.push({ queue: site.reader, remote });
        }
      }
      return new SendLoop(p, sendBuzzers[p]!, sources, links[p]!);
    });
    const recvLoops = range(processes).map((p) => {
      const sources: RecvSource[] = [];
      for (const remote of range(processes)) {
        if (remote === p) continue;
        const targets = range(threads).map((w) => {
          const receiver = this.#wirings[p * threads + w]!;
          const site = this.#sites.newPair('cluster-recv', remote, receiver.index, receiver.buzzer);
          receiver.receiveQueues.push(site.reader);
          return site.writer;
        });
        sources.push({ link: links[remote]![p]!, targets });
      }
      return new RecvLoop(p, recvBuzzers[p]!, sources, threads);
    });
    return new SimulatedNetwork(links, sendLoops, recvLoops);
  }

  allocators(): Allocator[] {
    const peers = this.#wirings.length;
    return this.#wirings.map(
      (wiring) =>
        new Allocator({
          index: wiring.index,
          peers,
          buzzer: wiring.buzzer,
          routes: wiring.routes.map((route, target) => route ?? unreachable(wiring.index, target)),
          endpoints: wiring.endpoints,
          outboxes: wiring.outboxes,
          receiveQueues: wiring.receiveQueues,
          inboxes: wiring.inboxes,
          logFn: this.#hooks.logFn,
        }),
    );
  }

  /** Route `targets` of worker `source` through one new send endpoint on `writer`. */
  #connect(source: number, targets: readonly number[], writer: MergeQueue): void {
    const sender = this.#wirings[source]!;
    const endpoint = new SendEndpoint(writer, this.#hooks.refill, this.#options.slabBytes);
    sender.endpoints.push(endpoint);
    for (const target of targets) sender.routes[target] = { kind: 'bytes', endpoint };
  }
}

/** `[0, 1, …, n - 1]`. */
export function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

function unreachable(source: number, target: number): never {
  throw new Error(`internal: the build left worker ${source} without a route to worker ${target}`);
}
