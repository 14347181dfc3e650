/** One message as a worker receives it: the header's fields and the payload bytes. */
export interface Message {
  readonly source: number;
  readonly target: number;
  readonly channel: number;
  /** Place in the (source, target, channel) order, from 0; checked on receipt. */
  readonly sequence: number;
  /** A view of the received bytes; read it, do not write through it. */
  readonly payload: Uint8Array;
}

export interface SendOptions {
  /** Default 0; `0 ..= CHANNEL_MAX`. Order is kept per (source, target, channel). */
  channel?: number;
}
