import { Bytes } from '../bytes.js';
import { HEADER_BYTES, frameBytesOf, tryReadHeader } from './message_header.js';

/**
 * Cuts one ordered byte stream, delivered as `Bytes` pieces with arbitrary boundaries, into whole
 * frames.
 *
 * A frame that lies inside one piece comes out as a zero-copy view of it, so consecutive frames
 * of one piece stay adjacent and coalesce again in the next queue. A frame cut across pieces
 * (the network split a write; a backend handed a chunk back in parts) is copied together from
 * the carried parts. Keep one assembler per stream: parts of different streams must never meet.
 */
export class FrameAssembler {
  #carry: Bytes[] = [];
  #carryBytes = 0;
  // Known once the carried parts hold a whole header.
  #carryFrameBytes: number | undefined;

  /** Bytes of an unfinished frame held back until the rest arrives. */
  get carriedBytes(): number {
    return this.#carryBytes;
  }

  /** Append every whole frame `piece` completes to `out`, in stream order. Takes ownership of `piece`. */
  push(piece: Bytes, out: Bytes[]): void {
    const rest = piece;
    // Each pass moves at least one byte from `rest` into the carry, so it ends within `rest.length` passes.
    while (this.#carryBytes > 0 && rest.length > 0) {
      const wantBytes = (this.#carryFrameBytes ?? HEADER_BYTES) - this.#carryBytes;
      const take = Math.min(wantBytes, rest.length);
      this.#carry.push(rest.extractTo(take));
      this.#carryBytes += take;
      if (this.#carryFrameBytes === undefined && this.#carryBytes === HEADER_BYTES) {
        this.#carryFrameBytes = frameBytesOf(tryReadHeader(concat(this.#carry, HEADER_BYTES).data)!);
      }
      if (this.#carryBytes === this.#carryFrameBytes) {
        out.push(concat(this.#carry, this.#carryBytes));
        this.#carry = [];
        this.#carryBytes = 0;
        this.#carryFrameBytes = undefined;
      }
    }
    // Each pass peels one whole frame of at least HEADER_BYTES, so it ends.
    for (let header = tryReadHeader(rest.data); header !== undefined; header = tryReadHeader(rest.data)) {
      const frameBytes = frameBytesOf(header);
      if (rest.length < frameBytes) break;
      out.push(rest.extractTo(frameBytes));
    }
    if (rest.length > 0) {
      this.#carry.push(rest);
      this.#carryBytes = rest.length;
      const header = tryReadHeader(rest.data);
      this.#carryFrameBytes = header === undefined ? undefined : frameBytesOf(header);
    }
  }
}

/** The first `byteLength` bytes of `parts`, copied into one fresh allocation. */
function concat(parts: readonly Bytes[], byteLength: number): Bytes {
  const joined = new Uint8Array(byteLength);
  let offset = 0;
  for (const part of parts) {
    if (offset >= byteLength) break;
    const data = part.data.subarray(0, byteLength - offset);
    joined.set(data, offset);
    offset += data.byteLength;
  }
  return Bytes.from(joined);
}
