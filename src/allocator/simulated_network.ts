import { SpillsimError } from '../errors.js';
import type { NetworkLink } from './network_link.js';
import type { NetworkStepResult } from './network_step.js';
import type { RecvLoop } from './recv_loop.js';
import type { SendLoop } from './send_loop.js';

/**
 * The in-process network of a Cluster: a link per ordered pair of processes, and per process a
 * send loop and a receive loop. This is the simulator's contract: each loop is an actor it
 * steps (`sendStep(p)`, `recvStep(p)`), parking an actor after `'park'` until the loop's buzzer
 * (`sendLoop(p).buzzer`, `recvLoop(p).buzzer`, also `buzzerFor('send:<p>')` / `'recv:<p>'`)
 * counts another buzz. Steps never block, wait or read a clock of their own; the whole run is
 * a function of the order in which the caller steps the actors (and, with the `linkLatency`
 * build option, of the ticks of the caller's clock at which it steps them).
 */
export class SimulatedNetwork {
  readonly processes: number;
  readonly #links: readonly (readonly (NetworkLink | undefined)[])[];
  readonly #sendLoops: readonly SendLoop[];
  readonly #recvLoops: readonly RecvLoop[];

  constructor(links: readonly (readonly (NetworkLink | undefined)[])[], sendLoops: readonly SendLoop[], recvLoops: readonly RecvLoop[]) {
    this.processes = sendLoops.length;
    this.#links = links;
    this.#sendLoops = sendLoops;
    this.#recvLoops = recvLoops;
  }

  /** One round of process `p`'s send loop (see `SendLoop`). */
  sendStep(p: number): NetworkStepResult {
    return this.sendLoop(p).step();
  }

  /** One read per open incoming link of process `p`'s receive loop (see `RecvLoop`). */
  recvStep(p: number): NetworkStepResult {
    return this.recvLoop(p).step();
  }

  sendLoop(p: number): SendLoop {
    return this.#sendLoops[this.#checkProcess(p)]!;
  }

  recvLoop(p: number): RecvLoop {
    return this.#recvLoops[this.#checkProcess(p)]!;
  }

  /** The byte stream from process `from` to process `to` (`from !== to`). */
  link(from: number, to: number): NetworkLink {
    const link = this.#links[this.#checkProcess(from)]![this.#checkProcess(to)];
    if (link === undefined) throw new SpillsimError('E_BAD_ARGUMENT', `there is no network link from process ${from} to itself`);
    return link;
  }

  /** Every loop has shut down: all workers finished and every byte crossed the network. */
  get isDone(): boolean {
    return this.#sendLoops.every((loop) => loop.isDone) && this.#recvLoops.every((loop) => loop.isDone);
  }

  #checkProcess(p: number): number {
    if (!Number.isSafeInteger(p) || p < 0 || p >= this.processes) {
      throw new SpillsimError('E_BAD_ARGUMENT', `process must be an index in 0..${this.processes - 1}, got ${String(p)}`);
    }
    return p;
  }
}
