import { Bytes } from '../src/bytes.js';
import type { Actor, StepRecord } from './actor.js';
import type { NetworkLink } from './network_link.js';
import type { TrackedQueue } from './tracked_queue.js';

/**
 * A process's network receive thread: it is the writer of the receive queues of the workers of
 * its process (SPEC Part A, Config), extending each with the bytes that arrive for it.
 */
export class NetworkReceiveActor implements Actor {
  readonly name: string;
  readonly sources: readonly TrackedQueue[] = [];
  readonly producing = false;
  readonly #links: NetworkLink[];
  readonly #writes: TrackedQueue[];
  #dropped = false;

  constructor(name: string, links: NetworkLink[], writes: TrackedQueue[]) {
    this.name = name;
    this.#links = links;
    this.#writes = writes;
  }

  pendingInput(nowTicks: number): string | undefined {
    const link = this.#links.find((l) => l.peekArrived(nowTicks) !== undefined);
    return link === undefined ? undefined : `a packet on ${link.name} has arrived`;
  }

  step(nowTicks: number): StepRecord {
    // Earliest arrival first; ties go to the lower link, so the order depends only on the seed.
    let from: NetworkLink | undefined;
    for (const link of this.#links) {
      const p = link.peekArrived(nowTicks);
      if (p !== undefined && (from === undefined || p.arrivalTick < from.peekArrived(nowTicks)!.arrivalTick)) from = link;
    }
    if (from !== undefined) {
      const packet = from.shift()!;
      if (packet.target === undefined) {
        from.closed = true;
        return { op: 'receive', detail: `${from.name} closed`, touched: [], progress: true };
      }
      const q = packet.target;
      const items = [Bytes.from(packet.data)];
      q.noteExtend(items);
      q.writer.extend(items);
      return { op: 'receive', queue: q.name, bytes: packet.data.length, chunks: 1, detail: `from ${from.name}`, touched: [q], progress: true };
    }
    if (this.#links.every((l) => l.closed && l.inFlightPackets === 0)) {
      if (!this.#dropped) {
        this.#dropped = true;
        for (const q of this.#writes) {
          q.writer.drop();
          q.writerDropped = true;
        }
        return { op: 'drop', detail: `every link closed: dropped ${this.#writes.length} writer ends`, touched: [...this.#writes], progress: true };
      }
      return { op: 'finish', touched: [], finish: true, progress: true };
    }
    return { op: 'park', detail: 'nothing has arrived yet', touched: [], park: true, progress: false };
  }
}
