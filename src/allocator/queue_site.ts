import type { Buzzer } from '../buzzer.js';
import { SpillsimError } from '../errors.js';
import type { Hooks, QueueSiteKind } from '../hooks.js';
import { MergeQueue } from '../merge_queue.js';
import type { SpillPolicy } from '../spill_policy.js';
import type { ResolvedBuildOptions } from './build_options.js';

/**
 * One MergeQueue the build made, with both handles as built: for inspection by tests and the
 * simulator (which handle is still held depends on how far the run got).
 *
 * `source`/`target` are worker indices, except that a `cluster-send` queue's target and a
 * `cluster-recv` queue's source are process indices (the network side of the queue).
 */
export interface QueueSite {
  readonly kind: QueueSiteKind;
  readonly source: number;
  readonly target: number;
  readonly writer: MergeQueue;
  readonly reader: MergeQueue;
}

/**
 * Builds every MergeQueue of one `tryBuild`, so each construction site takes its own fresh
 * `[writer, reader]` pair from `hooks.spill` (one call per queue) and is recorded.
 */
export class QueueSites {
  readonly all: QueueSite[] = [];
  readonly #hooks: Hooks;
  readonly #options: ResolvedBuildOptions;

  constructor(hooks: Hooks, options: ResolvedBuildOptions) {
    this.#hooks = hooks;
    this.#options = options;
  }

  /** A new queue whose buzzer wakes `buzzer`'s owner (the reader side). */
  newPair(kind: QueueSiteKind, source: number, target: number, buzzer: Buzzer): QueueSite {
    const [writerPolicy, readerPolicy] = this.#policyPair();
    const [writer, reader] = MergeQueue.newPair(buzzer, writerPolicy, readerPolicy, { stallGuard: this.#options.stallGuard });
    const site: QueueSite = { kind, source, target, writer, reader };
    this.all.push(site);
    this.#hooks.logFn?.({ kind: 'queue', site: kind, source, target });
    return site;
  }

  #policyPair(): [SpillPolicy | undefined, SpillPolicy | undefined] {
    if (this.#hooks.spill === undefined) return [undefined, undefined];
    const pair: unknown = this.#hooks.spill();
    if (!Array.isArray(pair) || pair.length !== 2 || !pair.every(isPolicy)) {
      throw new SpillsimError('E_BAD_ARGUMENT', 'hooks.spill() must return [writerPolicy, readerPolicy], two objects with an apply(deque) method');
    }
    return [pair[0] as SpillPolicy, pair[1] as SpillPolicy];
  }
}

function isPolicy(value: unknown): boolean {
  return value !== null && typeof value === 'object' && typeof (value as SpillPolicy).apply === 'function';
}
