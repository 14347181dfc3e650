import type { Allocator } from './allocator/allocator.js';
import { type BuildOptions, type ResolvedBuildOptions, resolveBuildOptions } from './allocator/build_options.js';
import { type QueueSite, QueueSites } from './allocator/queue_site.js';
import type { SimulatedNetwork } from './allocator/simulated_network.js';
import { range, Wirings } from './allocator/wiring.js';
import { checkOptions } from './arguments.js';
import { SpillsimError } from './errors.js';
import { Hooks, type HooksOptions } from './hooks.js';

/** Most workers one build may make: an n×n mesh has n² queues, so this bounds memory too. */
export const WORKERS_MAX = 1024;

export type ConfigKind = 'thread' | 'process' | 'process-binary' | 'cluster';

/** The reference's `Config::Cluster` fields; `processes` is spillsim's optional cross-check. */
export interface ClusterOptions {
  /** Workers per process. */
  threads: number;
  /** The process whose workers `Communication.local` lists. */
  process: number;
  /** One name per process, in process order; here they only label the simulated links. */
  addresses: readonly string[];
  /** When given, must equal `addresses.length`. */
  processes?: number;
  /** Report each link as it connects, through `hooks.logFn` (`kind: 'connected'`). Default false. */
  report?: boolean;
  /** Workers of one process talk over byte queues (spill applies) instead of typed channels. Default false. */
  zerocopy?: boolean;
}

/** What `tryBuild` returns: one allocator per worker, and the network a Cluster runs on. */
export interface Communication {
  readonly kind: ConfigKind;
  /** Every worker of every process, by global index (`process * threads + thread`). */
  readonly allocators: readonly Allocator[];
  /** The workers of `ClusterOptions.process` (for the other kinds, all of them). */
  readonly local: readonly Allocator[];
  /** Cluster only: the send and receive loops to step. */
  readonly network: SimulatedNetwork | undefined;
  /** Every MergeQueue built, in construction order (typed channels are not queues). */
  readonly queues: readonly QueueSite[];
}

type Shape =
  | { kind: 'thread' }
  | { kind: 'process' | 'process-binary'; workers: number }
  | { kind: 'cluster'; threads: number; process: number; addresses: readonly string[]; report: boolean; zerocopy: boolean };

/**
 * How workers communicate (timely's `Config`). Build one with `Config.thread()`,
 * `Config.process(n)`, `Config.processBinary(n)` or `Config.cluster({...})` — each checks its
 * input and throws `E_BAD_ARGUMENT` — then `tryBuild()` / `tryBuildWith(hooks)`.
 *
 * Nothing here runs on its own: every allocator and network loop is a step function the caller
 * drives (see `Allocator`, `SimulatedNetwork`, `runUntilQuiet`).
 */
export class Config {
  readonly #shape: Shape;
  readonly #options: ResolvedBuildOptions;

  private constructor(shape: Shape, options: BuildOptions) {
    this.#shape = shape;
    this.#options = resolveBuildOptions(options);
  }

  /** One worker, talking to itself over a typed channel. */
  static thread(options: BuildOptions = {}): Config {
    return new Config({ kind: 'thread' }, options);
  }

  /** `workers` workers in one process over typed channels; the spill hook is ignored. */
  static process(workers: number, options: BuildOptions = {}): Config {
    return new Config({ kind: 'process', workers: checkCount('Process workers', workers, 1, WORKERS_MAX) }, options);
  }

  /** `workers` workers in one process over an n×n mesh of byte MergeQueues. */
  static processBinary(workers: number, options: BuildOptions = {}): Config {
    return new Config({ kind: 'process-binary', workers: checkCount('ProcessBinary workers', workers, 1, WORKERS_MAX) }, options);
  }

  /** Processes of `threads` workers each, joined by the in-process simulated network. */
  static cluster(cluster: ClusterOptions, options: BuildOptions = {}): Config {
    if (cluster === null || typeof cluster !== 'object') {
      throw new SpillsimError('E_BAD_ARGUMENT', `Cluster needs { threads, process, addresses }, got ${String(cluster)}`);
    }
    checkOptions('Cluster', cluster, ['threads', 'process', 'addresses', 'processes', 'report', 'zerocopy'], "{ threads: 2, process: 0, addresses: ['a', 'b'] }");
    const { addresses } = cluster;
    if (!Array.isArray(addresses) || addresses.length === 0 || !addresses.every((a) => typeof a === 'string' && a.length > 0)) {
      throw new SpillsimError('E_BAD_ARGUMENT', 'Cluster addresses must be a non-empty array of non-empty strings, one per process');
    }
    if (new Set(addresses).size !== addresses.length) {
      throw new SpillsimError('E_BAD_ARGUMENT', `Cluster addresses must be distinct, got [${addresses.join(', ')}]`);
    }
    if (cluster.processes !== undefined && cluster.processes !== addresses.length) {
      throw new SpillsimError('E_BAD_ARGUMENT', `Cluster has ${String(cluster.processes)} processes but ${addresses.length} addresses; give one address per process`);
    }
    const threads = checkCount('Cluster threads', cluster.threads, 1, WORKERS_MAX);
    if (threads * addresses.length > WORKERS_MAX) {
      throw new SpillsimError('E_BAD_ARGUMENT', `Cluster of ${addresses.length} processes × ${threads} threads exceeds ${WORKERS_MAX} workers`);
    }
    const process = checkCount('Cluster process', cluster.process, 0, addresses.length - 1);
    for (const flag of ['report', 'zerocopy'] as const) {
      if (cluster[flag] !== undefined && typeof cluster[flag] !== 'boolean') {
        throw new SpillsimError('E_BAD_ARGUMENT', `Cluster ${flag} must be true or false, got ${String(cluster[flag])}`);
      }
    }
    const shape: Shape = { kind: 'cluster', threads, process, addresses: [...addresses], report: cluster.report ?? false, zerocopy: cluster.zerocopy ?? false };
    return new Config(shape, options);
  }

  get kind(): ConfigKind {
    return this.#shape.kind;
  }

  /** Build with `Hooks.default()`: no spill. */
  tryBuild(): Communication {
    return this.tryBuildWith(Hooks.default());
  }

  /**
   * Build the allocators; `hooks.spill`, when set, is called once for every MergeQueue. A plain
   * `{ spill, refill, logFn }` object is taken as `new Hooks(it)`.
   */
  tryBuildWith(hooksOrOptions: Hooks | HooksOptions): Communication {
    if (hooksOrOptions === null || typeof hooksOrOptions !== 'object') {
      throw new SpillsimError('E_BAD_ARGUMENT', `tryBuildWith needs hooks, such as new Hooks({ spill }) or Hooks.default(), got ${String(hooksOrOptions)}`);
    }
    const hooks = hooksOrOptions instanceof Hooks ? hooksOrOptions : new Hooks(hooksOrOptions);
    const sites = new QueueSites(hooks, this.#options);
    const shape = this.#shape;
    if (shape.kind === 'cluster') return buildCluster(shape, hooks, this.#options, sites);
    const workers = shape.kind === 'thread' ? 1 : shape.workers;
    const wirings = new Wirings(workers, hooks, this.#options, sites);
    if (shape.kind === 'process-binary') wirings.binaryMesh(range(workers));
    else wirings.typedMesh(range(workers));
    const allocators = wirings.allocators();
    return { kind: shape.kind, allocators, local: allocators, network: undefined, queues: sites.all };
  }
}

function buildCluster(shape: Extract<Shape, { kind: 'cluster' }>, hooks: Hooks, options: ResolvedBuildOptions, sites: QueueSites): Communication {
  const processes = shape.addresses.length;
  const wirings = new Wirings(processes * shape.threads, hooks, options, sites);
  for (let p = 0; p < processes; p += 1) {
    const group = range(shape.threads).map((w) => p * shape.threads + w);
    if (shape.zerocopy) wirings.binaryMesh(group);
    else wirings.typedMesh(group);
  }
  const network = wirings.network(processes, shape.threads);
  if (shape.report) {
    for (let remote = 0; remote < processes; remote += 1) {
      if (remote !== shape.process) hooks.logFn?.({ kind: 'connected', process: shape.process, remote, address: shape.addresses[remote]! });
    }
  }
  const allocators = wirings.allocators();
  const local = allocators.slice(shape.process * shape.threads, (shape.process + 1) * shape.threads);
  return { kind: 'cluster', allocators, local, network, queues: sites.all };
}

function checkCount(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new SpillsimError('E_BAD_ARGUMENT', `${name} must be a whole number in ${min}..${max}, got ${String(value)}`);
  }
  return value;
}
