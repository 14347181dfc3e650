import { BytesMut } from './bytes.js';
import { SpillsimError } from './errors.js';
import type { MessageHeader } from './allocator/message_header.js';
import type { SpillPolicyFn } from './spill_policy.js';

/** Where a MergeQueue was built; every site takes a fresh policy pair from `Hooks.spill`. */
export type QueueSiteKind = 'process-binary' | 'cluster-send' | 'cluster-recv';

/**
 * What the communication layer reports through `Hooks.logFn` (timely's communication events):
 * queues as they are built, links as they connect (Cluster with `report`), frames as workers
 * send and receive them.
 */
export type CommunicationEvent =
  | { kind: 'queue'; site: QueueSiteKind; source: number; target: number }
  | { kind: 'connected'; process: number; remote: number; address: string }
  | { kind: 'message'; isSend: boolean; header: MessageHeader };

export type LogFn = (event: CommunicationEvent) => void;

/** Allocates the slab a sender batches frames in and a network receive loop reads into. */
export type BytesRefill = (byteLength: number) => BytesMut;

export interface HooksOptions {
  logFn?: LogFn;
  /** Default: a fresh zeroed `BytesMut` of the asked length. */
  refill?: BytesRefill;
  /** Default: none, so no queue spills. */
  spill?: SpillPolicyFn;
}

/**
 * The communication knobs `Config.tryBuildWith` consumes (timely's `Hooks`). The spill factory
 * is called once per MergeQueue at every construction site, so each queue owns a fresh
 * `[writer, reader]` policy pair.
 */
export class Hooks {
  readonly logFn: LogFn | undefined;
  readonly refill: BytesRefill;
  readonly spill: SpillPolicyFn | undefined;

  constructor(options: HooksOptions = {}) {
    if (options === null || typeof options !== 'object') {
      throw new SpillsimError('E_BAD_ARGUMENT', `Hooks options must be an object such as { spill }, got ${String(options)}`);
    }
    this.logFn = checkFunction('logFn', options.logFn);
    this.refill = checkFunction('refill', options.refill) ?? defaultRefill;
    this.spill = checkFunction('spill', options.spill);
  }

  /** No logging, plain slabs, no spill: what `Config.tryBuild()` uses. */
  static default(): Hooks {
    return new Hooks();
  }
}

function defaultRefill(byteLength: number): BytesMut {
  return new BytesMut(byteLength);
}

function checkFunction<F>(name: string, value: F | undefined): F | undefined {
  if (value !== undefined && typeof value !== 'function') {
    throw new SpillsimError('E_BAD_ARGUMENT', `hooks.${name} must be a function, got ${typeof value}`);
  }
  return value;
}
