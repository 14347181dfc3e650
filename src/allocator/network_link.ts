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
 * Virtual time on a Cluster's network links, owned by the caller (the simulator's clock): a
 * write made at tick `nowTicks()` can be read from tick `nowTicks() + ticksOf(write)` on, and
 * never before the write ahead of it on the same link (in order, like TCP). Nothing waits: a
 * read before the arrival tick returns nothing, and the receive loop parks.
 */
export interface LinkLatency {
  /** The caller's current tick: a whole number that never decreases. */
  nowTicks(): number;
  /**
   * Ticks `write` takes to arrive: a whole number ≥ 0. Like `SplitWriteFn`, a pure function of
   * its argument (a seeded rng is fine) so the run stays a function of the seed.
   */
  ticksOf(write: LinkWrite): number;
  /**
   * `write` arrives at `arrivalTick`, later than now: the caller buzzes process `write.target`'s
   * receive loop (`buzzerFor('recv:<target>')`) at that tick, or steps it then. A write that
   * arrives at once buzzes the loop itself, as without latency.
   */
  wakeAt(arrivalTick: number, write: LinkWrite): void;
}

/**
 * The simulated network between two processes: one ordered, lossless byte stream in one
 * direction, like a TCP connection. A write may arrive as several pieces (`splitWrite`), so the
 * receiving side sees arbitrary boundaries; each `read` returns one piece, as one socket read.
 *
 * Writes are copied: the sender's memory and the receiver's never alias, as across a socket.
 * With `latency`, a write's pieces become readable only at its arrival tick (see `LinkLatency`).
 */
export class NetworkLink {
  readonly source: number;
  readonly target: number;
  readonly #receiverBuzzer: Buzzer;
  readonly #splitWrite: SplitWriteFn | undefined;
  readonly #latency: LinkLatency | undefined;
  #pieces: Uint8Array[] = [];
  /** Parallel to `#pieces` when there is latency: the tick each piece can be read from. */
  #arrivalTicks: number[] = [];
  #lastArrivalTick = 0;
  #readIndex = 0;
  #writes = 0;
  #closed = false;
  #bytesWritten = 0;
  #bytesRead = 0;

  constructor(source: number, target: number, receiverBuzzer: Buzzer, splitWrite?: SplitWriteFn, latency?: LinkLatency) {
    this.source = source;
    this.target = target;
    this.#receiverBuzzer = receiverBuzzer;
    this.#splitWrite = splitWrite;
    this.#latency = latency;
  }

  get bytesWritten(): number {
    return this.#bytesWritten;
  }

  get bytesRead(): number {
    return this.#bytesRead;
  }

  /** Pieces written and not yet read, those still in flight included. */
  get piecesPending(): number {
    return this.#pieces.length - this.#readIndex;
  }

  /** Pieces that have arrived and not yet been read: what `read` would return now. */
  get piecesArrived(): number {
    if (this.#latency === undefined) return this.piecesPending;
    const now = this.#latency.nowTicks();
    let n = this.#readIndex;
    while (n < this.#pieces.length && this.#arrivalTicks[n]! <= now) n += 1;
    return n - this.#readIndex;
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  /** Closed by the sender and read to the end: the reader's EOF. */
  get isDrained(): boolean {
    return this.#closed && this.piecesPending === 0;
  }

  /**
   * Send `data` (copied). Without latency, or when it arrives at once, buzz the receiving loop
   * if the link had nothing pending; otherwise ask the caller to wake it at the arrival tick.
   */
  write(data: Uint8Array): void {
    if (this.#closed) throw new SpillsimError('E_DROPPED', `network link ${this.source}→${this.target}: write after close`);
    if (data.byteLength === 0) return;
    const copy = data.slice();
    const write: LinkWrite = { source: this.source, target: this.target, writeIndex: this.#writes, byteLength: copy.byteLength };
    const cuts = this.#cutsOf(write);
    const arrivalTick = this.#arrivalTickOf(write);
    const wasEmpty = this.piecesPending === 0;
    let start = 0;
    for (const cut of [...cuts, copy.byteLength]) {
      this.#pieces.push(copy.subarray(start, cut));
      if (this.#latency !== undefined) this.#arrivalTicks.push(arrivalTick);
      start = cut;
    }
    this.#writes += 1;
    this.#bytesWritten += copy.byteLength;
    if (this.#latency !== undefined && arrivalTick > this.#latency.nowTicks()) this.#latency.wakeAt(arrivalTick, write);
    else if (wasEmpty) this.#receiverBuzzer.buzz();
  }

  /** The next piece, or `undefined` when nothing is pending or the next piece has not arrived yet. */
  read(): Uint8Array | undefined {
    if (this.#readIndex === this.#pieces.length) return undefined;
    if (this.#latency !== undefined && this.#arrivalTicks[this.#readIndex]! > this.#latency.nowTicks()) return undefined;
    const piece = this.#pieces[this.#readIndex]!;
    this.#readIndex += 1;
    // Compact once everything was read, so a long run does not keep every piece.
    if (this.#readIndex === this.#pieces.length) {
      this.#pieces = [];
      this.#arrivalTicks = [];
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

  /** In order: never before the write ahead of it. */
  #arrivalTickOf(write: LinkWrite): number {
    if (this.#latency === undefined) return 0;
    const ticks = this.#latency.ticksOf(write);
    if (!Number.isSafeInteger(ticks) || ticks < 0) {
      throw new SpillsimError('E_BAD_ARGUMENT', `linkLatency.ticksOf must return a whole number of ticks ≥ 0, got ${String(ticks)}`);
    }
    this.#lastArrivalTick = Math.max(this.#lastArrivalTick, this.#latency.nowTicks() + ticks);
    return this.#lastArrivalTick;
  }

  #cutsOf(write: LinkWrite): readonly number[] {
    if (this.#splitWrite === undefined) return [];
    const byteLength = write.byteLength;
    const cuts = this.#splitWrite(write);
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
