import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync, readSync, writeSync } from 'node:fs';
import { FRAME_BODY_BYTES_MAX, FRAME_HEADER_BYTES, FRAME_MAGIC, describeBytes } from './protocol.js';

/** Bytes of a child's stderr kept as its log. */
const LOG_BYTES_MAX = 8192;
/**
 * How long a wait keeps reading before it naps (ms). A nap cannot be cut short by the answer,
 * and the kernel's timer slack makes even a short one cost ~60 µs; most answers come sooner.
 */
const SPIN_MS_MAX = 0.25;
/** The longest sleep between two looks at a silent child (ms); sleeps double up to it from 0.02 ms. */
const SLEEP_MS_MAX = 1;

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

/** Children of this thread not yet known gone: killed when the thread's process exits. */
const living = new Set<number>();
let exitHookInstalled = false;

/** How a request went: the answer frame, or a one-line reason the child cannot answer. */
export type ExchangeResult = { ok: true; frame: Uint8Array } | { ok: false; reason: string; timedOut: boolean };

/**
 * A child process driven synchronously from this thread: `exchange` writes a request to its
 * stdin and reads one answer frame from its stdout with plain `writeSync`/`readSync` on the
 * pipe descriptors, waiting in `Atomics.wait` naps while the child works, up to a deadline.
 *
 * Why not a helper thread with async I/O: every request would cross two more threads (measured:
 * a small request's round trip 50 µs that way, 30 µs this way), and the spill traits are
 * synchronous. Node opens child pipes non-blocking, so a read that finds nothing returns at once
 * (EAGAIN) instead of blocking: that is what makes a deadline possible. During a request this
 * thread's event loop does not run, so only we touch the pipes; between requests Node reads them
 * as usual, into the same buffers. Node closes a descriptor only from that loop, and we check
 * the stream before each use, so a descriptor number is never used after it was closed.
 */
export class ChildPipes {
  readonly pid: number;
  readonly #child: ChildProcess;
  readonly #label: string;
  readonly #stdinFd: number;
  readonly #stdoutFd: number;
  readonly #stderrFd: number;
  #log: Buffer[] = [];
  #logBytes = 0;
  /** Answer bytes read so far and not yet handed out (a frame in progress). */
  #pending: Buffer = Buffer.alloc(0);
  /** The buffer the frame in progress is read into, once its header told its size. */
  #frame: Buffer | undefined;
  readonly #nap = new Int32Array(new SharedArrayBuffer(4));

  constructor(argv: readonly string[]) {
    this.#label = argv[0]!;
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    // A failed spawn reports its reason later, as an event; pid is known now either way.
    child.on('error', () => undefined);
    if (child.pid === undefined) throw new Error(`cannot start ${argv[0]}`);
    this.#child = child;
    this.pid = child.pid;
    // Node has no public way to reach a child's pipe descriptors; its stream handles carry them.
    const fdOf = (stream: unknown): number => (stream as { _handle: { fd: number } })._handle.fd;
    this.#stdinFd = fdOf(child.stdin);
    this.#stdoutFd = fdOf(child.stdout);
    this.#stderrFd = fdOf(child.stderr);
    // Between requests this thread's event loop reads the pipes as usual, into the same places.
    child.stdout!.on('data', (data: Buffer) => (this.#pending = Buffer.concat([this.#pending, data])));
    child.stderr!.on('data', (data: Buffer) => this.#keepLog(data));
    child.stdin!.on('error', () => undefined);
    // Once Node has reaped it, its pid may belong to another process: never kill it after that.
    child.on('exit', () => this.#forget());
    living.add(this.pid);
    childListener?.(this.pid, true);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.once('exit', () => {
        for (const pid of living) killProcessTree(pid);
      });
    }
  }

  /** The tail of what the child wrote to stderr. */
  get log(): string {
    this.#drainStderr();
    return Buffer.concat(this.#log).toString('utf8');
  }

  /** Write `request` and read one answer frame, both within `timeoutMs`. */
  exchange(request: Uint8Array, timeoutMs: number): ExchangeResult {
    const deadline = performance.now() + timeoutMs;
    const stray = this.#readAvailable();
    if (stray.gone === undefined && this.#pending.length > 0) {
      return { ok: false, reason: `wrote ${this.#pending.length} bytes to stdout when no answer was due: ${describeBytes(this.#pending)}`, timedOut: false };
    }
    const written = this.#writeAll(request, deadline);
    if (written !== undefined) return written;
    return this.#readFrame(deadline, timeoutMs);
  }

  /** Kill the child now; returns how far its answer had got. */
  kill(): string {
    const progress = this.#progress();
    if (this.#child.exitCode === null && this.#child.signalCode === null) killProcessTree(this.pid);
    this.#forget();
    return progress;
  }

  /** Close its stdin and wait up to `graceMs` for it to exit, killing it after that. */
  end(graceMs: number): { code: number | null; signal: string | null; killed: boolean } {
    this.#child.stdin!.destroy();
    const deadline = performance.now() + graceMs;
    let nap = 0.02;
    for (;;) {
      const status = this.#exitStatus();
      if (status !== undefined) {
        this.#forget();
        return { ...status, killed: false };
      }
      if (performance.now() >= deadline) {
        this.kill();
        return { code: null, signal: 'SIGKILL', killed: true };
      }
      Atomics.wait(this.#nap, 0, 0, nap);
      nap = Math.min(nap * 2, SLEEP_MS_MAX * 10);
    }
  }

  #writeAll(request: Uint8Array, deadline: number): ExchangeResult | undefined {
    let offset = 0;
    let nap = 0.02;
    while (offset < request.length) {
      if (this.#closed(this.#child.stdin)) return this.#goneResult('before answering');
      try {
        offset += writeSync(this.#stdinFd, request, offset, request.length - offset);
        nap = 0.02;
        continue;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'EAGAIN') return this.#goneResult('before answering');
      }
      // Its stdin is full: the child is reading, or stuck.
      if (performance.now() >= deadline) return { ok: false, reason: `took only ${offset} of the ${request.length} bytes of a request`, timedOut: true };
      this.#readAvailable();
      this.#drainStderr();
      Atomics.wait(this.#nap, 0, 0, nap);
      nap = Math.min(nap * 2, SLEEP_MS_MAX);
    }
    return undefined;
  }

  #readFrame(deadline: number, timeoutMs: number): ExchangeResult {
    let spinUntil = performance.now() + SPIN_MS_MAX;
    let nap = 0.02;
    for (;;) {
      const read = this.#readAvailable();
      const pending = this.#pending;
      if (pending.length > 0 && pending[0] !== FRAME_MAGIC) {
        return { ok: false, reason: `wrote garbage where a frame should start: ${describeBytes(pending)} (a frame starts with 0xf5)`, timedOut: false };
      }
      if (pending.length >= FRAME_HEADER_BYTES) {
        const bodyBytes = pending.readUInt32LE(4);
        if (bodyBytes > FRAME_BODY_BYTES_MAX) return { ok: false, reason: `announced a ${bodyBytes}-byte frame body, over the ${FRAME_BODY_BYTES_MAX}-byte limit`, timedOut: false };
        const frameBytes = FRAME_HEADER_BYTES + bodyBytes;
        if (pending.length >= frameBytes) {
          // Usually the frame is all there is, in a buffer of its own: hand it out as it is.
          const frame = pending.length === frameBytes && pending.byteOffset === 0 && pending.buffer.byteLength === frameBytes ? pending : Uint8Array.prototype.slice.call(pending, 0, frameBytes);
          this.#pending = pending.subarray(frameBytes);
          this.#frame = undefined;
          if (this.#pending.length > 0) return { ok: false, reason: `wrote ${this.#pending.length} bytes after its answer frame: ${describeBytes(this.#pending)}`, timedOut: false };
          return { ok: true, frame };
        }
      }
      if (read.gone !== undefined) return this.#goneResult(this.#pending.length > 0 ? `after ${this.#progress()}` : 'before answering');
      if (read.bytes > 0) {
        spinUntil = performance.now() + SPIN_MS_MAX;
        nap = 0.02;
        continue;
      }
      if (performance.now() >= deadline) return { ok: false, reason: `did not answer within ${timeoutMs} ms`, timedOut: true };
      if (performance.now() > spinUntil) {
        // A child that logs a lot while it works must not block on a full stderr pipe.
        this.#drainStderr();
        Atomics.wait(this.#nap, 0, 0, nap);
        nap = Math.min(nap * 2, SLEEP_MS_MAX);
      }
    }
  }

  /**
   * Read whatever stdout holds now, without waiting; `gone` when it reached its end. The header
   * is read alone first, then the rest of the frame straight into a buffer of the frame's size,
   * so an answer's bytes are copied once, by the kernel.
   */
  #readAvailable(): { bytes: number; gone?: true } {
    if (this.#closed(this.#child.stdout)) return { bytes: 0, gone: true };
    let total = 0;
    for (;;) {
      const pending = this.#pending;
      let target: Buffer;
      let offset: number;
      if (pending.length < FRAME_HEADER_BYTES || pending[0] !== FRAME_MAGIC || pending.readUInt32LE(4) > FRAME_BODY_BYTES_MAX) {
        // No header yet (or garbage, which the caller reports): read up to a header's worth.
        target = Buffer.allocUnsafe(pending.length < FRAME_HEADER_BYTES ? FRAME_HEADER_BYTES - pending.length : 1 << 16);
        offset = 0;
      } else {
        const frameBytes = FRAME_HEADER_BYTES + pending.readUInt32LE(4);
        if (pending.length >= frameBytes) return { bytes: total };
        if (this.#frame === undefined || this.#frame.buffer !== pending.buffer || pending.byteOffset !== this.#frame.byteOffset) {
          this.#frame = Buffer.allocUnsafe(frameBytes);
          pending.copy(this.#frame);
          this.#pending = this.#frame.subarray(0, pending.length);
        }
        target = this.#frame;
        offset = this.#pending.length;
      }
      let n: number;
      try {
        n = readSync(this.#stdoutFd, target, offset, target.length - offset, null);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') return { bytes: total };
        return { bytes: total, gone: true };
      }
      if (n === 0) return { bytes: total, gone: true };
      total += n;
      if (target === this.#frame) this.#pending = this.#frame.subarray(0, offset + n);
      else this.#pending = this.#pending.length === 0 ? target.subarray(0, n) : Buffer.concat([this.#pending, target.subarray(0, n)]);
    }
  }

  #drainStderr(): void {
    if (this.#closed(this.#child.stderr)) return;
    const room = Buffer.allocUnsafe(LOG_BYTES_MAX);
    for (;;) {
      let n: number;
      try {
        n = readSync(this.#stderrFd, room, 0, room.length, null);
      } catch {
        return;
      }
      if (n === 0) return;
      this.#keepLog(Buffer.from(room.subarray(0, n)));
    }
  }

  #keepLog(data: Buffer): void {
    this.#log.push(data);
    this.#logBytes += data.length;
    while (this.#logBytes > LOG_BYTES_MAX && this.#log.length > 1) this.#logBytes -= this.#log.shift()!.length;
  }

  /** The child left: say how (its exit code, when it can be known now) and what was pending. */
  #goneResult(when: string): ExchangeResult {
    const status = this.#exitStatus(250);
    const how = status === undefined ? 'closed its stdout' : status.signal !== null ? `was killed by ${status.signal}` : `exited with code ${status.code}`;
    this.#drainStderr();
    return { ok: false, reason: `${how} ${when}`, timedOut: false };
  }

  /**
   * How the child ended, or undefined while it runs. Node learns it only when this thread's
   * event loop runs, which it does not during a request; on Linux the kernel tells it sooner.
   */
  #exitStatus(waitMs = 0): { code: number | null; signal: string | null } | undefined {
    const deadline = performance.now() + waitMs;
    for (;;) {
      if (this.#child.exitCode !== null || this.#child.signalCode !== null) return { code: this.#child.exitCode, signal: this.#child.signalCode };
      const zombie = zombieStatus(this.pid);
      if (zombie !== undefined) return zombie;
      if (performance.now() >= deadline) return undefined;
      Atomics.wait(this.#nap, 0, 0, 1);
    }
  }

  #progress(): string {
    const pending = this.#pending;
    if (pending.length === 0) return 'nothing of an answer';
    if (pending.length < FRAME_HEADER_BYTES) return `${pending.length} bytes of an 8-byte frame header`;
    return `${pending.length} of the ${FRAME_HEADER_BYTES + pending.readUInt32LE(4)} bytes of a frame`;
  }

  #closed(stream: { destroyed?: boolean } | null): boolean {
    return stream === null || stream.destroyed === true;
  }

  #forget(): void {
    if (living.delete(this.pid)) childListener?.(this.pid, false);
  }
}

/** A child that exited but was not yet reaped: its wait status from /proc (Linux), else undefined. */
function zombieStatus(pid: number): { code: number | null; signal: string | null } | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // Fields after the command name (which may hold spaces and parentheses): state is field 3, exit_code field 52.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (fields[0] !== 'Z' || fields.length < 50) return undefined;
  const status = Number(fields[49]);
  const signal = status & 0x7f;
  return signal === 0 ? { code: (status >> 8) & 0xff, signal: null } : { code: null, signal: signalName(signal) };
}

const SIGNAL_NAMES: Record<number, string> = { 1: 'SIGHUP', 2: 'SIGINT', 3: 'SIGQUIT', 4: 'SIGILL', 6: 'SIGABRT', 7: 'SIGBUS', 8: 'SIGFPE', 9: 'SIGKILL', 11: 'SIGSEGV', 13: 'SIGPIPE', 15: 'SIGTERM' };

function signalName(signal: number): string {
  return SIGNAL_NAMES[signal] ?? `signal ${signal}`;
}

/**
 * SIGKILL `pid` and every process it started (a backend run as `sh -c "..."` is a shell whose
 * child does the work: killing only the shell would leave that child running). The tree is read
 * from Linux's `/proc/<pid>/task/<tid>/children` before any kill, since a killed parent's
 * children are re-parented at once; elsewhere only `pid` is killed.
 */
export function killProcessTree(pid: number): void {
  killAll(processTree(pid));
}

/**
 * SIGKILL every process `pid` started, and theirs, but not `pid` itself: a command stopped by a
 * signal ends what its threads spawned (a worker thread's children are the process's children)
 * before it exits, so none is left running re-parented to init. Linux only, as above.
 */
export function killDescendants(pid: number): void {
  killAll(processTree(pid).slice(1));
}

/** `pid` and the processes it started, theirs and so on, parents first. */
function processTree(pid: number): number[] {
  const tree = [pid];
  // Each pass reads one process's children; a process appears once, since a pid has one parent.
  for (let k = 0; k < tree.length && tree.length < PROCESS_TREE_MAX; k += 1) tree.push(...childPids(tree[k]!));
  return tree;
}

function killAll(pids: readonly number[]): void {
  for (const each of pids) {
    try {
      process.kill(each, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

/** Most processes one backend's tree is searched for (a fork bomb must not make the kill itself hang). */
const PROCESS_TREE_MAX = 4096;

function childPids(pid: number): number[] {
  const pids: number[] = [];
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      for (const word of readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ')) {
        const child = Number(word);
        if (word.length > 0 && Number.isSafeInteger(child) && child > 0) pids.push(child);
      }
    }
  } catch {
    // No /proc (not Linux), or the process is gone: nothing more to find.
  }
  return pids;
}
