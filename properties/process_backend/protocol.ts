/**
 * The spill backend process protocol, version 1 (docs/backend-protocol.md is the normative text):
 * binary frames on the child's stdin/stdout, an 8-byte header and a body, little-endian. This file
 * encodes requests and decodes answers; it never touches a process, so it is pure and testable.
 */

/** The first byte of every frame: never the start of UTF-8 text, so a stray print is caught at once. */
export const FRAME_MAGIC = 0xf5;
export const FRAME_HEADER_BYTES = 8;
/** A body longer than this is garbage, not a frame (1 GiB). */
export const FRAME_BODY_BYTES_MAX = 1 << 30;
/** The protocol versions this spillsim speaks. */
export const PROTOCOL_VERSION_MIN = 1;
export const PROTOCOL_VERSION_MAX = 1;

/** Request kinds (spillsim to child). */
export const Request = {
  hello: 0x01,
  open: 0x02,
  spill: 0x03,
  fetch: 0x04,
  stats: 0x05,
  close: 0x06,
  bye: 0x07,
} as const;

/** Answer kinds (child to spillsim). */
export const Answer = {
  ok: 0x80,
  ready: 0x81,
  spilled: 0x83,
  fetched: 0x84,
  fetchFailed: 0x85,
  stats: 0x86,
  panic: 0xe0,
  error: 0xe1,
} as const;

/** Bits of the READY answer's `supports` word, in the order of the module export's names. */
export const SUPPORTS_BITS = { partialSpill: 1, failingFetch: 2, stats: 4 } as const;
/** Bits of a chunk's (SPILL) or a fetch's (FETCH) fault word. */
export const FAULT_FAIL_WRITE = 1;
export const FAULT_FAIL_READ = 1;

const ANSWER_NAMES: Record<number, string> = {
  [Answer.ok]: 'OK',
  [Answer.ready]: 'READY',
  [Answer.spilled]: 'SPILLED',
  [Answer.fetched]: 'FETCHED',
  [Answer.fetchFailed]: 'FETCH_FAILED',
  [Answer.stats]: 'STATS',
  [Answer.panic]: 'PANIC',
  [Answer.error]: 'ERROR',
};

export function answerName(kind: number): string {
  return ANSWER_NAMES[kind] ?? `unknown kind 0x${kind.toString(16).padStart(2, '0')}`;
}

/** A frame the child broke: wrong magic, a body too long, or a body whose contents do not fit it. */
export class ProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolError';
  }
}

/** One frame: its kind and body (a view; the caller owns the memory). */
export interface Frame {
  kind: number;
  body: Uint8Array;
}

/** A frame's header as bytes. */
export function frameHeader(kind: number, bodyBytes: number): Uint8Array {
  const header = new Uint8Array(FRAME_HEADER_BYTES);
  const view = new DataView(header.buffer);
  header[0] = FRAME_MAGIC;
  header[1] = kind;
  view.setUint32(4, bodyBytes, true);
  return header;
}

/**
 * Check a header and return the body length it announces; a wrong magic or reserved field, or
 * a length over the limit, is garbage.
 */
export function parseHeader(header: Uint8Array): { kind: number; bodyBytes: number } {
  const view = new DataView(header.buffer, header.byteOffset, FRAME_HEADER_BYTES);
  if (header[0] !== FRAME_MAGIC) throw new ProtocolError(`wrote garbage where a frame should start: ${describeBytes(header)} (a frame starts with 0xf5)`);
  const bodyBytes = view.getUint32(4, true);
  if (view.getUint16(2, true) !== 0) throw new ProtocolError(`sent a frame with reserved bytes ${describeBytes(header.subarray(2, 4))} (must be 0)`);
  if (bodyBytes > FRAME_BODY_BYTES_MAX) throw new ProtocolError(`announced a ${bodyBytes}-byte frame body, over the ${FRAME_BODY_BYTES_MAX}-byte limit`);
  return { kind: header[1]!, bodyBytes };
}

/** The first bytes of a buffer, for a one-line message (`f5 83 00 00 …` and as text when printable). */
export function describeBytes(bytes: Uint8Array): string {
  const shown = bytes.subarray(0, 8);
  const hex = Array.from(shown, (b) => b.toString(16).padStart(2, '0')).join(' ');
  const text = Array.from(shown, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
  return `${hex}${bytes.length > shown.length ? ' …' : ''} ("${text}")`;
}

/** Builds one request frame with its header, growing as fields are added. */
export class FrameWriter {
  #buffer: Uint8Array;
  #view: DataView;
  #at = FRAME_HEADER_BYTES;
  readonly #kind: number;

  /**
   * `scratch`, when given and large enough, is written into instead of a new buffer: a request
   * is written to the child before the next is built, so one buffer serves them all.
   */
  constructor(kind: number, bodyBytesHint = 64, scratch?: Uint8Array) {
    this.#kind = kind;
    const bytes = FRAME_HEADER_BYTES + bodyBytesHint;
    this.#buffer = scratch !== undefined && scratch.length >= bytes ? scratch : new Uint8Array(bytes);
    this.#view = new DataView(this.#buffer.buffer, this.#buffer.byteOffset, this.#buffer.byteLength);
  }

  u32(value: number): this {
    this.#room(4);
    this.#view.setUint32(this.#at, value, true);
    this.#at += 4;
    return this;
  }

  u64(value: bigint): this {
    this.#room(8);
    this.#view.setBigUint64(this.#at, value, true);
    this.#at += 8;
    return this;
  }

  bytes(data: Uint8Array): this {
    this.#room(data.length);
    this.#buffer.set(data, this.#at);
    this.#at += data.length;
    return this;
  }

  utf8(text: string): this {
    return this.bytes(new TextEncoder().encode(text));
  }

  /** The finished frame (header filled in). */
  finish(): Uint8Array {
    const bodyBytes = this.#at - FRAME_HEADER_BYTES;
    if (bodyBytes > FRAME_BODY_BYTES_MAX) throw new ProtocolError(`a request of ${bodyBytes} bytes is over the ${FRAME_BODY_BYTES_MAX}-byte frame limit`);
    this.#buffer.set(frameHeader(this.#kind, bodyBytes), 0);
    return this.#buffer.subarray(0, this.#at);
  }

  #room(bytes: number): void {
    if (this.#at + bytes <= this.#buffer.length) return;
    const grown = new Uint8Array(Math.max(this.#buffer.length * 2, this.#at + bytes));
    grown.set(this.#buffer.subarray(0, this.#at));
    this.#buffer = grown;
    this.#view = new DataView(grown.buffer);
  }
}

/** Reads an answer body field by field; running past its end is a frame of the wrong length. */
export class BodyReader {
  readonly #body: Uint8Array;
  readonly #view: DataView;
  readonly #what: string;
  #at = 0;

  constructor(frame: Frame) {
    this.#body = frame.body;
    this.#view = new DataView(frame.body.buffer, frame.body.byteOffset, frame.body.byteLength);
    this.#what = answerName(frame.kind);
  }

  u32(): number {
    this.#need(4);
    const value = this.#view.getUint32(this.#at, true);
    this.#at += 4;
    return value;
  }

  u64(): bigint {
    this.#need(8);
    const value = this.#view.getBigUint64(this.#at, true);
    this.#at += 8;
    return value;
  }

  /** `length` bytes as a view into the frame (no copy). */
  bytes(length: number): Uint8Array {
    this.#need(length);
    const out = this.#body.subarray(this.#at, this.#at + length);
    this.#at += length;
    return out;
  }

  /** The rest of the body as UTF-8 text. */
  rest(): string {
    const text = new TextDecoder().decode(this.#body.subarray(this.#at));
    this.#at = this.#body.length;
    return text;
  }

  /** The body must be used up exactly: bytes left over mean the frame's length is wrong. */
  end(): void {
    if (this.#at !== this.#body.length) {
      throw new ProtocolError(`sent a ${this.#what} frame of ${this.#body.length} body bytes whose fields use ${this.#at}; its length is wrong`);
    }
  }

  #need(bytes: number): void {
    if (this.#at + bytes > this.#body.length) {
      throw new ProtocolError(`sent a ${this.#what} frame of ${this.#body.length} body bytes whose fields need at least ${this.#at + bytes}; its length is wrong`);
    }
  }
}
