import { checkOptionalFunction, checkOptions } from './arguments.js';
import { BytesMut } from './bytes.js';
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

  /** Throws `E_BAD_ARGUMENT` on options that are not an object, an unknown option name, or a hook that is not a function. */
  constructor(options?: HooksOptions) {
    options = checkOptions('Hooks', options, ['logFn', 'refill', 'spill'], '{ spill }');
    this.logFn = checkOptionalFunction('hooks.logFn', options.logFn);
    this.refill = checkOptionalFunction('hooks.refill', options.refill) ?? defaultRefill;
    this.spill = checkOptionalFunction('hooks.spill', options.spill);
  }

  /** No logging, plain slabs, no spill: what `Config.tryBuild()` uses. */
  static default(): Hooks {
    return new Hooks();
  }
}

function defaultRefill(byteLength: number): BytesMut {
  return new BytesMut(byteLength);
}
