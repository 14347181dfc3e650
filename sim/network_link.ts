import type { Bytes } from '../src/bytes.js';
import type { VirtualClock } from './clock.js';
import type { SimRng } from './rng.js';
import type { TrackedQueue } from './tracked_queue.js';

/** A frame on the simulated wire: bytes for one receive queue, or the sender's close. */
interface Packet {
  arrivalTick: number;
  /** The receive-side queue these bytes continue; undefined for the close marker. */
  target: TrackedQueue | undefined;
  data: Uint8Array;
}

/**
 * One direction of a TCP-like connection between two processes: in order, each packet
 * delayed by a latency from the seed but never overtaking the one before it.
 */
export class NetworkLink {
  readonly name: string;
  readonly #packets: Packet[] = [];
  readonly #rng: SimRng;
  readonly #clock: VirtualClock;
  readonly #latencyTicksMax: number;
  readonly #receiver: string;
  #lastArrivalTick = 0;
  closed = false;

  constructor(init: { name: string; rng: SimRng; clock: VirtualClock; latencyTicksMax: number; receiver: string }) {
    this.name = init.name;
    this.#rng = init.rng;
    this.#clock = init.clock;
    this.#latencyTicksMax = init.latencyTicksMax;
    this.#receiver = init.receiver;
  }

  /** Send `chunks` (copied, as a socket would) towards `target`, or the close marker when `target` is undefined. */
  send(target: TrackedQueue | undefined, chunks: readonly Bytes[]): void {
    let length = 0;
    for (const c of chunks) length += c.length;
    const data = new Uint8Array(length);
    let at = 0;
    for (const c of chunks) {
      data.set(c.data, at);
      at += c.length;
    }
    const now = this.#clock.nowTicks;
    const arrivalTick = Math.max(this.#lastArrivalTick, now + this.#rng.int(1, this.#latencyTicksMax));
    this.#lastArrivalTick = arrivalTick;
    this.#packets.push({ arrivalTick, target, data });
    // The receive thread sleeps until something arrives: the timer is its wake-up.
    this.#clock.after(arrivalTick - now, this.#receiver);
  }

  /** The first packet if it has arrived by `nowTicks`. */
  peekArrived(nowTicks: number): Packet | undefined {
    const first = this.#packets[0];
    return first !== undefined && first.arrivalTick <= nowTicks ? first : undefined;
  }

  shift(): Packet | undefined {
    return this.#packets.shift();
  }

  get inFlightPackets(): number {
    return this.#packets.length;
  }
}
