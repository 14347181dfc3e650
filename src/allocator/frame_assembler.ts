import { Bytes } from '../bytes.js';
import { frameBytesAt, HEADER_BYTES } from './message_header.js';

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
    const rest = this.#finishCarried(piece, out);
    // Whole frames inside the rest of the piece, as views of it; each pass peels at least HEADER_BYTES.
    // A header not all there is a frame that is never whole (Infinity bytes).
    const data = rest.data;
    let offset = 0;
    for (let frameBytes = frameBytesAt(data, offset) ?? Infinity; data.byteLength - offset >= frameBytes; frameBytes = frameBytesAt(data, offset) ?? Infinity) {
      out.push(new Bytes(rest.buffer, rest.offset + offset, frameBytes));
      offset += frameBytes;
    }
    if (offset < data.byteLength) {
      rest.extractTo(offset);
      this.#carry.push(rest);
      this.#carryBytes = rest.length;
      this.#carryFrameBytes = frameBytesAt(data, offset);
    }
  }

  /** Complete the frame carried from earlier pieces with the head of `piece`; returns what is left of it. */
  #finishCarried(piece: Bytes, out: Bytes[]): Bytes {
    const rest = piece;
    // Each pass moves at least one byte from `rest` into the carry, so it ends within `rest.length` passes.
    while (this.#carryBytes > 0 && rest.length > 0) {
      const wantBytes = (this.#carryFrameBytes ?? HEADER_BYTES) - this.#carryBytes;
      const take = Math.min(wantBytes, rest.length);
      this.#carry.push(rest.extractTo(take));
      this.#carryBytes += take;
      // Until it is known, at most HEADER_BYTES are carried; undefined while fewer are.
      this.#carryFrameBytes ??= frameBytesAt(concat(this.#carry, this.#carryBytes).data);
      if (this.#carryBytes === this.#carryFrameBytes) {
        out.push(concat(this.#carry, this.#carryBytes));
        this.#carry = [];
        this.#carryBytes = 0;
        this.#carryFrameBytes = undefined;
      }
    }
    return rest;
  }
}

/** `parts` copied back to back into one fresh allocation of `byteLength` bytes, their total. */
function concat(parts: readonly Bytes[], byteLength: number): Bytes {
  const joined = new Uint8Array(byteLength);
  let offset = 0;
  for (const part of parts) {
    joined.set(part.data, offset);
    offset += part.length;
  }
  return Bytes.from(joined);
}
