import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { IO_HOST_SOURCE } from './io_host_source.js';

/** What the I/O thread answers (see io_host_source.ts). */
export interface HostAnswer {
  seq: number;
  ok: boolean;
  message?: string;
  log?: string;
  frame?: Uint8Array;
  child?: number;
  pid?: number;
  code?: number | null;
  signal?: string | null;
  progress?: string;
}

/** Told when a child starts (`alive`) and when it is known gone, so whoever may stop this thread can kill what it left. */
export type ChildListener = (pid: number, alive: boolean) => void;
let childListener: ChildListener | undefined;

/**
 * Report this thread's children to `listener`. The conformance worker passes their pids to the
 * runner: a worker stopped at its time limit cannot end its own children, and one stuck without
 * reading stdin would outlive it.
 */
export function watchChildren(listener: ChildListener): void {
  childListener = listener;
}

/** The I/O thread did not answer within the time asked for. */
export class HostTimeout extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HostTimeout';
  }
}

/**
 * A synchronous front to child processes: `request` posts a message to the I/O thread and
 * blocks this thread in `Atomics.wait` until the answer with the same sequence number arrives,
 * or the time limit passes. One per thread (a caller blocks, so it has one request in flight).
 *
 * Why a worker and not `fs.readSync` on the pipe: Node opens child pipes non-blocking, so a
 * blocking read would spin on EAGAIN, and it could never time out on a hung child.
 */
export class ProcessHost {
  static #current: ProcessHost | undefined;
  readonly #worker: Worker;
  readonly #port: MessagePort;
  readonly #flag: Int32Array;
  readonly #pids = new Set<number>();
  #seq = 0;

  /** The host of this thread, started on first use; it never keeps the process alive by itself. */
  static get(): ProcessHost {
    ProcessHost.#current ??= new ProcessHost();
    return ProcessHost.#current;
  }

  private constructor() {
    const { port1, port2 } = new MessageChannel();
    this.#flag = new Int32Array(new SharedArrayBuffer(4));
    this.#worker = new Worker(IO_HOST_SOURCE, { eval: true, workerData: { port: port2, flag: this.#flag }, transferList: [port2] });
    this.#worker.unref();
    this.#port = port1;
    this.#port.unref();
    // Children left when this thread's process exits are killed, not orphaned.
    process.once('exit', () => {
      for (const pid of this.#pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
    });
  }

  /** Start a child; its handle id and pid, or a one-line reason it could not start. */
  spawn(argv: readonly string[], timeoutMs: number): { child: number; pid: number } {
    const answer = this.request({ op: 'spawn', argv }, timeoutMs);
    if (!answer.ok) throw new Error(answer.message ?? 'could not start');
    this.#pids.add(answer.pid!);
    childListener?.(answer.pid!, true);
    return { child: answer.child!, pid: answer.pid! };
  }

  /** Forget a child that has exited (its pid may be reused, so it must not be killed later). */
  forget(pid: number): void {
    if (this.#pids.delete(pid)) childListener?.(pid, false);
  }

  /** Post a message and wait for its answer; throws `HostTimeout` when `timeoutMs` passes first. */
  request(message: Record<string, unknown>, timeoutMs: number, transfer: ArrayBuffer[] = []): HostAnswer {
    this.#seq += 1;
    const seq = this.#seq;
    Atomics.store(this.#flag, 0, 0);
    this.#port.postMessage({ ...message, seq }, transfer);
    const deadline = performance.now() + timeoutMs;
    // Each pass either takes an answer or waits; a stale answer (of a request that timed out) is dropped.
    for (;;) {
      Atomics.store(this.#flag, 0, 0);
      for (let received = receiveMessageOnPort(this.#port); received !== undefined; received = receiveMessageOnPort(this.#port)) {
        const answer = received.message as HostAnswer;
        if (answer.seq === seq) return answer;
      }
      const leftMs = deadline - performance.now();
      if (leftMs <= 0) throw new HostTimeout(`no answer within ${timeoutMs} ms`);
      Atomics.wait(this.#flag, 0, 0, leftMs);
    }
  }
}
