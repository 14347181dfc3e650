import { Bytes } from '../bytes.js';
import { SpillsimError } from '../errors.js';

/**
 * The header in front of every framed message on a byte queue or network link (timely's
 * `MessageHeader`): who sent it, to whom, on which channel, its place in that channel's order,
 * and how many payload bytes follow.
 *
 * Layout: five little-endian u32 fields, `channel`, `source`, `target`, `sequence`,
 * `payloadBytes`, then the payload. A frame is `HEADER_BYTES + payloadBytes` long.
 */
export interface MessageHeader {
  readonly channel: number;
  readonly source: number;
  readonly target: number;
  /** 0, 1, 2, … per (source, target, channel): lets the receiver prove nothing was lost or reordered. */
  readonly sequence: number;
  readonly payloadBytes: number;
}

export const HEADER_BYTES = 20;

/** Largest value of any header field. */
export const HEADER_FIELD_MAX = 0xffff_ffff;

/**
 * Reserved channel of the shutdown frame a network send loop writes last on each link (timely
 * uses a zero-length header; a reserved channel leaves empty payloads usable by callers).
 */
export const CHANNEL_SHUTDOWN = HEADER_FIELD_MAX;

/** Channels callers may use: `0 ..= CHANNEL_MAX`. */
export const CHANNEL_MAX = CHANNEL_SHUTDOWN - 1;

export function frameBytesOf(header: MessageHeader): number {
  return HEADER_BYTES + header.payloadBytes;
}

/** Write `header` at `offset` of `into`. */
export function writeHeader(into: Uint8Array, offset: number, header: MessageHeader): void {
  writeU32(into, offset, header.channel);
  writeU32(into, offset + 4, header.source);
  writeU32(into, offset + 8, header.target);
  writeU32(into, offset + 12, header.sequence);
  writeU32(into, offset + 16, header.payloadBytes);
}

/** The header at `offset` of `from`, or `undefined` when fewer than `HEADER_BYTES` are there. */
export function tryReadHeader(from: Uint8Array, offset = 0): MessageHeader | undefined {
  if (from.byteLength - offset < HEADER_BYTES) return undefined;
  return {
    channel: readU32(from, offset),
    source: readU32(from, offset + 4),
    target: readU32(from, offset + 8),
    sequence: readU32(from, offset + 12),
    payloadBytes: readU32(from, offset + 16),
  };
}

/** The length of the frame whose header starts at `offset`, or `undefined` when the header is not all there. */
export function frameBytesAt(from: Uint8Array, offset = 0): number | undefined {
  if (from.byteLength - offset < HEADER_BYTES) return undefined;
  return HEADER_BYTES + readU32(from, offset + 16);
}

// By hand rather than through a DataView: one is not worth allocating per frame on the hot path.
function readU32(from: Uint8Array, offset: number): number {
  return (from[offset]! | (from[offset + 1]! << 8) | (from[offset + 2]! << 16) | (from[offset + 3]! << 24)) >>> 0;
}

function writeU32(into: Uint8Array, offset: number, value: number): void {
  into[offset] = value & 0xff;
  into[offset + 1] = (value >>> 8) & 0xff;
  into[offset + 2] = (value >>> 16) & 0xff;
  into[offset + 3] = (value >>> 24) & 0xff;
}

/** A whole frame as one fresh `Bytes` (header then payload); used for shutdown frames and tests. */
export function encodeFrame(header: MessageHeader, payload: Uint8Array = new Uint8Array(0)): Bytes {
  if (payload.byteLength !== header.payloadBytes) {
    throw new SpillsimError('E_BAD_ARGUMENT', `frame header says ${header.payloadBytes} payload bytes but ${payload.byteLength} were given`);
  }
  const frame = new Uint8Array(HEADER_BYTES + payload.byteLength);
  writeHeader(frame, 0, header);
  frame.set(payload, HEADER_BYTES);
  return Bytes.from(frame);
}

/**
 * A frame whose header cannot be right: the byte stream between sender and receiver was cut,
 * reordered or altered, which only a spill backend or policy that broke its contract can do.
 */
export function corruptFrameError(where: string, what: string): SpillsimError {
  return new SpillsimError(
    'E_BACKEND_CONTRACT',
    `corrupt frame at ${where}: ${what}; bytes between sender and receiver were lost, reordered or altered (check the spill backend and policies)`,
  );
}
