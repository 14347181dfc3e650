import type { BytesMut } from '../bytes.js';
import { SpillsimError } from '../errors.js';
import type { MergeQueue } from '../merge_queue.js';
import type { BytesRefill } from '../hooks.js';
import { type MessageHeader, frameBytesOf, HEADER_BYTES, writeHeader } from './message_header.js';

/**
 * The writer end of one byte queue, with the frames written since the last flush batched in a
 * slab (timely's `SendEndpoint` over a `BytesSlab`).
 *
 * `flush` hands the batch to the queue as one `Bytes`; the next batch starts where it ended in
 * the same slab, so consecutive flushes are adjacent slices that the queue coalesces. A frame
 * that does not fit flushes the batch and starts a fresh slab of at least `slabBytes`.
 */
export class SendEndpoint {
  readonly queue: MergeQueue;
  readonly #refill: BytesRefill;
  readonly #slabBytes: number;
  #slab: BytesMut | undefined;
  // Bytes written into the slab's remainder and not yet handed to the queue.
  #pendingBytes = 0;
  #finished = false;

  constructor(queue: MergeQueue, refill: BytesRefill, slabBytes: number) {
    this.queue = queue;
    this.#refill = refill;
    this.#slabBytes = slabBytes;
  }

  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  get isFinished(): boolean {
    return this.#finished;
  }

  /** Append one frame (header, then payload) to the batch. */
  write(header: MessageHeader, payload: Uint8Array): void {
    if (this.#finished) throw new SpillsimError('E_DROPPED', 'send after finish(); a worker sends nothing once it has finished');
    const frameBytes = frameBytesOf(header);
    if (this.#slab === undefined || this.#slab.length - this.#pendingBytes < frameBytes) {
      this.flush();
      this.#slab = this.#newSlab(Math.max(this.#slabBytes, frameBytes));
    }
    const into = this.#slab.data;
    writeHeader(into, this.#pendingBytes, header);
    into.set(payload, this.#pendingBytes + HEADER_BYTES);
    this.#pendingBytes += frameBytes;
  }

  /** Hand the batch to the queue, if there is one (an empty flush does not call `extend`, as in timely). */
  flush(): void {
    if (this.#pendingBytes === 0 || this.#slab === undefined) return;
    const batch = this.#slab.extractTo(this.#pendingBytes);
    this.#pendingBytes = 0;
    this.queue.extend([batch]);
  }

  /** Flush, then drop the writer handle: once the reader drains the rest, its queue is complete. */
  finish(): void {
    if (this.#finished) return;
    this.flush();
    this.#finished = true;
    this.#slab = undefined;
    this.queue.drop();
  }

  #newSlab(byteLength: number): BytesMut {
    const slab = this.#refill(byteLength);
    if (slab === null || typeof slab !== 'object' || typeof slab.extractTo !== 'function' || slab.length < byteLength) {
      throw new SpillsimError('E_BAD_ARGUMENT', `hooks.refill(${byteLength}) must return a BytesMut of at least ${byteLength} bytes`);
    }
    return slab;
  }
}
