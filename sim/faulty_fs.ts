import type { SpillFs } from '../src/backends/spill_fs.js';
import type { RandomSource } from './rng.js';

/**
 * File operations that fail the way a disk does: a write runs out of space or hits an I/O
 * error, a read hits an I/O error. Given to `MemfsSpill` as its `fs`, it makes the backend's
 * own recovery run: a batch file written partway drains the chunks fully written before the
 * failure (or, in the reference's all-or-nothing mode, none), and a failed read hands the
 * handle back for a retry. Opening, closing and removing files never fail, so storage is
 * always released.
 */
export class FaultyFs implements SpillFs {
  readonly #fs: SpillFs;
  readonly #rng: RandomSource;
  readonly #writeFailChance: number;
  readonly #readFailChance: number;
  #healed = false;

  constructor(fs: SpillFs, rng: RandomSource, options: { writeFailChance: number; readFailChance: number }) {
    this.#fs = fs;
    this.#rng = rng;
    this.#writeFailChance = options.writeFailChance;
    this.#readFailChance = options.readFailChance;
  }

  /** Stop failing (the liveness phase). */
  heal(): void {
    this.#healed = true;
  }

  openSync(path: string, flags: string): number {
    return this.#fs.openSync(path, flags);
  }

  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number {
    if (!this.#healed && this.#rng.next() < this.#writeFailChance) {
      throw fsError(this.#rng.next() < 0.5 ? 'ENOSPC' : 'EIO', 'write');
    }
    return this.#fs.writeSync(fd, buffer, offset, length, position);
  }

  readSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number {
    if (!this.#healed && this.#rng.next() < this.#readFailChance) throw fsError('EIO', 'read');
    return this.#fs.readSync(fd, buffer, offset, length, position);
  }

  closeSync(fd: number): void {
    this.#fs.closeSync(fd);
  }

  unlinkSync(path: string): void {
    this.#fs.unlinkSync(path);
  }

  mkdirSync(path: string, options: { recursive: true }): unknown {
    return this.#fs.mkdirSync(path, options);
  }
}

function fsError(code: 'ENOSPC' | 'EIO', syscall: string): Error {
  const text = code === 'ENOSPC' ? 'no space left on device' : 'i/o error';
  return Object.assign(new Error(`${code}: ${text}, ${syscall} (injected by the simulator)`), { code, syscall });
}
