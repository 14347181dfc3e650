import type { Buzzer } from '../buzzer.js';
import { SpillsimError } from '../errors.js';

/** One write on a link, as `SplitWriteFn` sees it. */
export interface LinkWrite {
  /** Sending process. */
  readonly source: number;
  /** Receiving process. */
  readonly target: number;
  /** 0 for the link's first write, then 1, 2, … */
  readonly writeIndex: number;
  readonly byteLength: number;
}

/**
 * Where a link cuts one write into pieces: ascending offsets strictly inside
 * `(0, byteLength)`; `[]` delivers the write whole. Must be a pure function of its argument
 * (a seeded rng is fine) so the run stays a function of the seed.
 */
export type SplitWriteFn = (write: LinkWrite) => readonly number[];

/**
 * The simulated network between two processes: one ordered, lossless byte stream in one
 * direction, like a TCP connection. A write may arrive as several pieces (`splitWrite`), so the
 * receiving side sees arbitrary boundaries; each `read` returns one piece, as one socket read.
 *
 * Writes are copied: the sender's memory and the receiver's never alias, as across a socket.
 */
export class NetworkLink {
  readonly source: number;
  readonly target: number;
  readonly #receiverBuzzer: Buzzer;
  readonly #splitWrite: SplitWriteFn | undefined;
  #pieces: Uint8Array[] = [];
  #readIndex = 0;
  #writes = 0;
  #closed = false;
  #bytesWritten = 0;
  #bytesRead = 0;

  constructor(source: number, target: number, receiverBuzzer: Buzzer, splitWrite?: SplitWriteFn) {
    this.source = source;
    this.target = target;
    this.#receiverBuzzer = receiverBuzzer;
    this.#splitWrite = splitWrite;
  }

  get bytesWritten(): number {
    return this.#bytesWritten;
  }

  get bytesRead(): number {
    return this.#bytesRead;
  }

  /** Pieces written and not yet read. */
  get piecesPending(): number {
    return this.#pieces.length - this.#readIndex;
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  /** Closed by the sender and read to the end: the reader's EOF. */
  get isDrained(): boolean {
    return this.#closed && this.piecesPending === 0;
  }

  /** Send `data` (copied); buzz the receiving loop when the link had nothing pending. */
  write(data: Uint8Array): void {
    if (this.#closed) throw new SpillsimError('E_DROPPED', `network link ${this.source}→${this.target}: write after close`);
    if (data.byteLength === 0) return;
    const copy = data.slice();
    const cuts = this.#cutsOf(copy.byteLength);
    const wasEmpty = this.piecesPending === 0;
    let start = 0;
    for (const cut of cuts) {
      this.#pieces.push(copy.subarray(start, cut));
      start = cut;
    }
    this.#pieces.push(copy.subarray(start));
    this.#writes += 1;
    this.#bytesWritten += copy.byteLength;
    if (wasEmpty) this.#receiverBuzzer.buzz();
  }

  /** The next piece, or `undefined` when nothing is pending. */
  read(): Uint8Array | undefined {
    if (this.#readIndex === this.#pieces.length) return undefined;
    const piece = this.#pieces[this.#readIndex]!;
    this.#readIndex += 1;
    // Compact once everything was read, so a long run does not keep every piece.
    if (this.#readIndex === this.#pieces.length) {
      this.#pieces = [];
      this.#readIndex = 0;
    }
    this.#bytesRead += piece.byteLength;
    return piece;
  }

  /** The sender is done (after its shutdown frame); wakes the receiver so it sees EOF. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#receiverBuzzer.buzz();
  }

  #cutsOf(byteLength: number): readonly number[] {
    if (this.#splitWrite === undefined) return [];
    const cuts = this.#splitWrite({ source: this.source, target: this.target, writeIndex: this.#writes, byteLength });
    if (!Array.isArray(cuts)) throw new SpillsimError('E_BAD_ARGUMENT', `splitWrite must return an array of offsets, got ${String(cuts)}`);
    let previous = 0;
    for (const cut of cuts) {
      if (!Number.isSafeInteger(cut) || cut <= previous || cut >= byteLength) {
        throw new SpillsimError('E_BAD_ARGUMENT', `splitWrite returned [${cuts.join(', ')}] for a ${byteLength}-byte write; offsets must ascend strictly inside (0, ${byteLength})`);
      }
      previous = cut;
    }
    return cuts;
  }
}
