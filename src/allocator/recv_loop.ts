import { Bytes } from '../bytes.js';
import type { Buzzer } from '../buzzer.js';
import type { MergeQueue } from '../merge_queue.js';
import { FrameAssembler } from './frame_assembler.js';
import { CHANNEL_SHUTDOWN, corruptFrameError, tryReadHeader } from './message_header.js';
import type { NetworkLink } from './network_link.js';
import type { NetworkStepResult } from './network_step.js';

/** One incoming link and the writer ends of the local workers' queues it feeds. */
export interface RecvSource {
  readonly link: NetworkLink;
  /** By local worker (global index `firstLocalWorker + w`). */
  readonly targets: readonly MergeQueue[];
}

interface LinkState {
  readonly source: RecvSource;
  readonly assembler: FrameAssembler;
  open: boolean;
}

/**
 * A process's network receive loop (timely's `recv_loop`): the **writer** of each local
 * worker's incoming queue from every remote process. One `step` reads at most one piece from
 * each open link, in process order (one socket read each), cuts whole frames out of the stream
 * and extends each local worker's queue from that link with its frames — every worker's
 * queue, even when it got none, as the reference does, so writer policies run each read.
 *
 * A link ends at its shutdown frame (or at EOF): its writer ends are dropped, so the workers'
 * queues become complete once drained. Links buzz `buzzer` when data arrives or they close.
 */
export class RecvLoop {
  readonly process: number;
  readonly buzzer: Buzzer;
  readonly #links: LinkState[];
  readonly #firstLocalWorker: number;
  readonly #threads: number;

  constructor(process: number, buzzer: Buzzer, sources: readonly RecvSource[], threads: number) {
    this.process = process;
    this.buzzer = buzzer;
    this.#links = sources.map((source) => ({ source, assembler: new FrameAssembler(), open: true }));
    this.#firstLocalWorker = process * threads;
    this.#threads = threads;
  }

  get isDone(): boolean {
    return this.#links.every((state) => !state.open);
  }

  step(): NetworkStepResult {
    if (this.isDone) return { status: 'done', bytes: 0 };
    let bytes = 0;
    for (const state of this.#links) {
      if (!state.open) continue;
      const piece = state.source.link.read();
      if (piece === undefined) {
        if (state.source.link.isDrained) this.#close(state, 'EOF');
        continue;
      }
      bytes += piece.byteLength;
      this.#receivePiece(state, piece);
    }
    if (this.isDone) return { status: 'done', bytes };
    return { status: bytes > 0 ? 'progress' : 'park', bytes };
  }

  #receivePiece(state: LinkState, piece: Uint8Array): void {
    const link = state.source.link;
    const frames: Bytes[] = [];
    state.assembler.push(Bytes.from(piece), frames);
    const staged: Bytes[][] = state.source.targets.map(() => []);
    let shutdown = false;
    for (const frame of frames) {
      const header = tryReadHeader(frame.data)!;
      if (shutdown) throw corruptFrameError(this.#where(link), 'data after the shutdown frame');
      if (header.channel === CHANNEL_SHUTDOWN) {
        if (header.source !== link.source || header.target !== this.process || header.payloadBytes !== 0) {
          throw corruptFrameError(this.#where(link), `malformed shutdown frame (process ${header.source}→${header.target}, ${header.payloadBytes} payload bytes)`);
        }
        shutdown = true;
        continue;
      }
      const local = header.target - this.#firstLocalWorker;
      const remoteFirst = link.source * this.#threads;
      if (local < 0 || local >= this.#threads || header.source < remoteFirst || header.source >= remoteFirst + this.#threads) {
        throw corruptFrameError(this.#where(link), `frame from worker ${header.source} to worker ${header.target} does not belong on this link`);
      }
      staged[local]!.push(frame);
    }
    for (let w = 0; w < staged.length; w += 1) state.source.targets[w]!.extend(staged[w]!);
    if (shutdown) {
      if (state.assembler.carriedBytes > 0 || link.piecesPending > 0) throw corruptFrameError(this.#where(link), 'data after the shutdown frame');
      this.#close(state, 'shutdown');
    }
  }

  #close(state: LinkState, why: 'shutdown' | 'EOF'): void {
    if (why === 'EOF' && state.assembler.carriedBytes > 0) {
      throw corruptFrameError(this.#where(state.source.link), `link closed inside a frame (${state.assembler.carriedBytes} bytes of it held)`);
    }
    state.open = false;
    for (const target of state.source.targets) target.drop();
  }

  #where(link: NetworkLink): string {
    return `network link ${link.source}→${link.target}`;
  }
}
