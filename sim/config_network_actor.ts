import type { SimulatedNetwork } from '../src/allocator/simulated_network.js';
import type { Actor, StepRecord } from './actor.js';
import { counted, type OpCounter } from './op_counter.js';
import type { TrackedQueue } from './tracked_queue.js';

export interface ConfigNetworkInit {
  name: string;
  kind: 'send' | 'recv';
  process: number;
  network: SimulatedNetwork;
  counter: OpCounter;
  sources: TrackedQueue[];
  writes: TrackedQueue[];
}

/** A process's network send or receive loop, one `step()` per scheduler step. */
export class ConfigNetworkActor implements Actor {
  readonly name: string;
  readonly sources: readonly TrackedQueue[];
  readonly producing = false;
  readonly #init: ConfigNetworkInit;

  constructor(init: ConfigNetworkInit) {
    this.name = init.name;
    this.#init = init;
    this.sources = init.sources;
  }

  pendingInput(): string | undefined {
    const { kind, network, process } = this.#init;
    if (kind !== 'recv') return undefined;
    for (let from = 0; from < network.processes; from += 1) {
      if (from !== process && network.link(from, process).piecesArrived > 0) return `bytes from process ${from} have arrived on its link`;
    }
    return undefined;
  }

  step(): StepRecord {
    return counted(this.#init.counter, () => {
      const { kind, network, process, sources, writes } = this.#init;
      const result = kind === 'send' ? network.sendStep(process) : network.recvStep(process);
      const touched = kind === 'send' ? [...sources] : [...writes];
      const op = kind === 'send' ? 'send' : 'receive';
      if (result.status === 'done') return { op: 'finish', bytes: result.bytes, detail: `${kind} loop shut down`, touched, finish: true, progress: true };
      if (result.status === 'park') return { op, bytes: 0, detail: 'nothing to move: park', touched, park: true, progress: false };
      return { op, bytes: result.bytes, detail: `${result.bytes} bytes ${kind === 'send' ? 'to' : 'from'} the network`, touched, progress: true };
    });
  }
}
