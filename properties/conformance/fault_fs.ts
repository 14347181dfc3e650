import * as nodeFs from 'node:fs';

/** The error codes the fault-injecting fs can throw, as a real `node:fs` call would. */
export type FsFaultCode = 'EAGAIN' | 'EINTR' | 'ENOSPC' | 'EIO' | 'EMFILE';

/** Which calls a thrown fault may hit. */
export type FsCallKind = 'open' | 'read' | 'write' | 'close' | 'unlink' | 'mkdir' | 'fstat';

const FAULT_TEXT: Record<FsFaultCode, string> = {
  EAGAIN: 'resource temporarily unavailable',
  EINTR: 'interrupted system call',
  ENOSPC: 'no space left on device',
  EIO: 'i/o error',
  EMFILE: 'too many open files',
};

/** A plan for the fs: what it does to each call (consulted once per call, never per chunk). */
export interface FsFaultPlan {
  /** Writes (`writeSync`, `writevSync`) write at most half of what they were asked (at least 1 byte), without throwing. */
  shortWrites?: boolean;
  /** Reads return at most half of what they were asked (at least 1 byte), without throwing. */
  shortReads?: boolean;
  /** Every `everyCalls`-th call of one of `kinds` throws one of `codes` (in turn). */
  throwing?: { codes: readonly FsFaultCode[]; kinds: readonly FsCallKind[]; everyCalls: number };
}

/**
 * The synchronous `node:fs` surface backends use (open, read, write, writev, close, unlink,
 * mkdir, fstat), handed to a backend as `ctx.fs`. With no plan it is `node:fs`; a clause sets a
 * plan to make writes and reads short (legal behaviour of a real fs) or to throw EAGAIN, EINTR,
 * ENOSPC, EIO or EMFILE at chosen calls. It counts calls, so a clause can tell a backend that
 * never used it (not applicable) from one that did, and it knows the descriptors it opened.
 */
export class FaultFs {
  /** Calls made through this fs so far. */
  calls = 0;
  /** Faults thrown and short answers given so far. */
  faultsInjected = 0;
  /** Descriptors opened through this fs and not yet closed. */
  readonly openFds = new Set<number>();
  #plan: FsFaultPlan = {};
  #faultCalls = 0;
  #nextCode = 0;

  /** Apply a plan from the next call on; `{}` heals. */
  setPlan(plan: FsFaultPlan): void {
    this.#plan = plan;
    this.#faultCalls = 0;
    this.#nextCode = 0;
  }

  heal(): void {
    this.setPlan({});
  }

  openSync = (path: nodeFs.PathLike, flags?: nodeFs.OpenMode, mode?: nodeFs.Mode): number => {
    this.#enter('open');
    const fd = nodeFs.openSync(path, flags ?? 'r', mode);
    this.openFds.add(fd);
    return fd;
  };

  closeSync = (fd: number): void => {
    this.#enter('close');
    nodeFs.closeSync(fd);
    this.openFds.delete(fd);
  };

  unlinkSync = (path: nodeFs.PathLike): void => {
    this.#enter('unlink');
    nodeFs.unlinkSync(path);
  };

  mkdirSync = (path: nodeFs.PathLike, options?: nodeFs.MakeDirectoryOptions): string | undefined => {
    this.#enter('mkdir');
    return nodeFs.mkdirSync(path, options);
  };

  fstatSync = (fd: number): nodeFs.Stats => {
    this.#enter('fstat');
    return nodeFs.fstatSync(fd);
  };

  writeSync = (fd: number, buffer: Uint8Array, offset = 0, length = buffer.length - offset, position: number | null = null): number => {
    this.#enter('write');
    return nodeFs.writeSync(fd, buffer, offset, this.#shorten(length, this.#plan.shortWrites), position);
  };

  writevSync = (fd: number, buffers: readonly NodeJS.ArrayBufferView[], position?: number): number => {
    this.#enter('write');
    if (!this.#plan.shortWrites) return nodeFs.writevSync(fd, buffers, position);
    // Short: only the first half of the bytes asked (at least one) reach the file.
    const total = buffers.reduce((n, b) => n + b.byteLength, 0);
    let budget = this.#shorten(total, true);
    const cut: Uint8Array[] = [];
    for (const b of buffers) {
      if (budget === 0) break;
      const view = new Uint8Array(b.buffer, b.byteOffset, Math.min(b.byteLength, budget));
      cut.push(view);
      budget -= view.length;
    }
    return nodeFs.writevSync(fd, cut, position);
  };

  readSync = (fd: number, buffer: Uint8Array, offset = 0, length = buffer.length - offset, position: number | bigint | null = null): number => {
    this.#enter('read');
    return nodeFs.readSync(fd, buffer, offset, this.#shorten(length, this.#plan.shortReads), position);
  };

  /** Count the call, and throw if the plan says this one fails. */
  #enter(kind: FsCallKind): void {
    this.calls += 1;
    const throwing = this.#plan.throwing;
    if (throwing === undefined || !throwing.kinds.includes(kind)) return;
    this.#faultCalls += 1;
    if (this.#faultCalls % throwing.everyCalls !== 0) return;
    const code = throwing.codes[this.#nextCode % throwing.codes.length]!;
    this.#nextCode += 1;
    this.faultsInjected += 1;
    throw Object.assign(new Error(`${code}: ${FAULT_TEXT[code]}, ${kind} (injected by spillsim validate)`), { code, syscall: kind, errno: -1 });
  }

  #shorten(length: number, short: boolean | undefined): number {
    if (!short || length <= 1) return length;
    this.faultsInjected += 1;
    return Math.ceil(length / 2);
  }
}
