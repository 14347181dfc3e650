import type { SpillFs } from '../src/backends/spill_fs.js';
import type { RandomSource } from './rng.js';
import { simFsError } from './sim_fs.js';

/** How a `FaultyFs` fails; a zero chance (or undefined limit) switches a fault off. */
export interface FsFaults {
  /** `io-error`: a write throws ENOSPC or EIO, having written nothing. */
  writeFailChance: number;
  /** `io-error`: a read throws EIO. */
  readFailChance: number;
  /** `short-write`: a write writes a prefix (at least one byte) and returns its length, no error. */
  shortWriteChance?: number;
  /** `short-read`: a read returns fewer bytes than asked (at least one), no error. */
  shortReadChance?: number;
  /** `interrupted`: a read or write throws EAGAIN or EINTR having done nothing (try again). */
  interruptChance?: number;
  /**
   * `disk-full`: the disk holds this many bytes of files; a write that does not fit writes what
   * fits (a short count) and the next throws ENOSPC, as a real full disk does.
   */
  diskBytes?: number;
  /** `fd-limit`: at most this many descriptors open through this fs; one more open throws EMFILE. */
  openFilesMax?: number;
}

/** What the fs under a `FaultyFs` may tell it, for `disk-full`. */
export interface SizedFs extends SpillFs {
  readonly storedBytes?: number;
}

/**
 * File operations that fail the way a disk and a kernel do, given to a batch-file backend as its
 * `fs`: writes and reads that throw (ENOSPC, EIO, EAGAIN, EINTR), writes and reads that do less
 * than asked and say so (short counts: the caller must loop), a disk that fills up, and a
 * process out of descriptors (EMFILE on open). Closing and removing files never fail, so
 * storage is always released. `heal()` stops every fault (the liveness phase).
 */
export class FaultyFs implements SpillFs {
  readonly #fs: SizedFs;
  readonly #rng: RandomSource;
  readonly #faults: Required<Omit<FsFaults, 'diskBytes' | 'openFilesMax'>> & Pick<FsFaults, 'diskBytes' | 'openFilesMax'>;
  /** No faults now: healed for good, or paused (a deep run's quiet spell). */
  #quiet = false;
  #healedForGood = false;
  #openFiles = 0;
  /** An I/O error struck partway through the last write: it returned short, and the next write fails. */
  #failNext: 'ENOSPC' | 'EIO' | undefined;
  /**
   * The errors this fs throws, made once each (by code, then syscall): a full disk refuses
   * every write, and making an `Error` per refusal cost more than the rest of the spill.
   */
  readonly #errors: Record<string, Record<string, Error>> = {};

  constructor(fs: SizedFs, rng: RandomSource, faults: FsFaults) {
    this.#fs = fs;
    this.#rng = rng;
    this.#faults = { shortWriteChance: 0, shortReadChance: 0, interruptChance: 0, ...faults };
  }

  /** Stop failing (the liveness phase). */
  heal(): void {
    this.#healedForGood = true;
    this.#quiet = true;
  }

  /** Pause (true) or resume (false) injecting faults; no effect once healed. Deep runs alternate spells of each. */
  pause(paused: boolean): void {
    if (!this.#healedForGood) this.#quiet = paused;
  }

  /** Descriptors opened through this fs and not yet closed. */
  get openFiles(): number {
    return this.#openFiles;
  }

  openSync(path: string, flags: string): number {
    const max = this.#faults.openFilesMax;
    if (!this.#quiet && max !== undefined && this.#openFiles >= max) throw simFsError('EMFILE', 'open', path, ` (the simulator allows ${max} open descriptors)`);
    const fd = this.#fs.openSync(path, flags);
    this.#openFiles += 1;
    return fd;
  }

  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number {
    const allowed = this.#writeAllowance(length);
    return this.#fs.writeSync(fd, buffer, offset, allowed, position);
  }

  writevSync(fd: number, buffers: Uint8Array[], position: number): number {
    let total = 0;
    for (const buffer of buffers) total += buffer.length;
    const allowed = this.#writeAllowance(total);
    if (allowed === total) return this.#fs.writevSync !== undefined ? this.#fs.writevSync(fd, buffers, position) : this.#writeEach(fd, buffers, position);
    // A short write: the first `allowed` bytes of the buffers, in order.
    let written = 0;
    for (const buffer of buffers) {
      if (written === allowed) break;
      const n = Math.min(buffer.length, allowed - written);
      written += this.#fs.writeSync(fd, buffer, 0, n, position + written);
    }
    return written;
  }

  readSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number {
    let asked = length;
    if (!this.#quiet) {
      const f = this.#faults;
      if (f.readFailChance > 0 && this.#rng.next() < f.readFailChance) throw this.#injected('EIO', 'read');
      if (f.interruptChance > 0 && this.#rng.next() < f.interruptChance) throw this.#interrupted('read');
      if (f.shortReadChance > 0 && length > 1 && this.#rng.next() < f.shortReadChance) asked = 1 + Math.floor(this.#rng.next() * (length - 1));
    }
    return this.#fs.readSync(fd, buffer, offset, asked, position);
  }

  closeSync(fd: number): void {
    this.#fs.closeSync(fd);
    this.#openFiles -= 1;
  }

  unlinkSync(path: string): void {
    this.#fs.unlinkSync(path);
  }

  mkdirSync(path: string, options: { recursive: true }): unknown {
    return this.#fs.mkdirSync(path, options);
  }

  /** How many of `length` bytes this write may write (throws for a failed one). */
  #writeAllowance(length: number): number {
    if (this.#quiet || length === 0) return length;
    const failed = this.#failNext;
    if (failed !== undefined) {
      this.#failNext = undefined;
      throw this.#injected(failed, 'write');
    }
    const f = this.#faults;
    if (f.writeFailChance > 0 && this.#rng.next() < f.writeFailChance) {
      const code = this.#rng.next() < 0.5 ? 'ENOSPC' : 'EIO';
      // Partway through a write, as a disk fails: the call returns what it wrote, the next one throws.
      if (length > 1 && this.#rng.next() < 0.5) {
        this.#failNext = code;
        return 1 + Math.floor(this.#rng.next() * (length - 1));
      }
      throw this.#injected(code, 'write');
    }
    if (f.interruptChance > 0 && this.#rng.next() < f.interruptChance) throw this.#interrupted('write');
    let allowed = length;
    if (f.diskBytes !== undefined) {
      const room = Math.max(0, f.diskBytes - (this.#fs.storedBytes ?? 0));
      if (room === 0) throw (this.#errorsOf('ENOSPC').diskFull ??= simFsError('ENOSPC', 'write', undefined, ` (the simulated disk holds ${f.diskBytes} bytes)`));
      allowed = Math.min(allowed, room);
    }
    if (f.shortWriteChance > 0 && allowed > 1 && this.#rng.next() < f.shortWriteChance) allowed = 1 + Math.floor(this.#rng.next() * (allowed - 1));
    return allowed;
  }

  #interrupted(syscall: string): Error {
    return this.#injected(this.#rng.next() < 0.5 ? 'EAGAIN' : 'EINTR', syscall);
  }

  #injected(code: string, syscall: string): Error {
    return (this.#errorsOf(code)[syscall] ??= simFsError(code, syscall, undefined, ' (injected by the simulator)'));
  }

  #errorsOf(code: string): Record<string, Error> {
    return (this.#errors[code] ??= {});
  }

  #writeEach(fd: number, buffers: Uint8Array[], position: number): number {
    let written = 0;
    for (const buffer of buffers) written += this.#fs.writeSync(fd, buffer, 0, buffer.length, position + written);
    return written;
  }
}
