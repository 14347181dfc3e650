import type { SpillFs } from '../src/backends/spill_fs.js';

/** One file: its bytes (a buffer that grows by doubling) and its length. */
interface SimFile {
  data: Uint8Array;
  sizeBytes: number;
  /** False once unlinked (its bytes live on only through open descriptors). */
  named: boolean;
}

interface OpenFile {
  file: SimFile;
  writable: boolean;
}

/**
 * The simulator's disk: an in-memory file system with exactly the synchronous operations a
 * batch-file backend uses (`SpillFs`), and POSIX's answers where they matter to a backend:
 * `wx` fails with EEXIST on an existing file, a missing file or directory is ENOENT, a closed
 * descriptor is EBADF, descriptors are the lowest free numbers from 3, and a file unlinked while
 * open stays readable through its descriptor. It exists because the general-purpose memfs
 * (paths, links, permissions, stats, an `Error` with a stack per miss) cost more than the rest of
 * a simulated step; the backend on top of it (`BatchFileSpill`, the engine of `FileSpill` and
 * `MemfsSpill`) is the same code. Faults are injected above it, by `FaultyFs`.
 */
export class SimFs implements SpillFs {
  readonly #files = new Map<string, SimFile>();
  readonly #dirs = new Set<string>(['/']);
  readonly #open: Array<OpenFile | undefined> = [undefined, undefined, undefined];
  #openCount = 0;
  #storedBytes = 0;

  /** Descriptors open right now. */
  get openFiles(): number {
    return this.#openCount;
  }

  /** Bytes held by files that still have a name (what `df` would show, less unlinked open files). */
  get storedBytes(): number {
    return this.#storedBytes;
  }

  /** Files with a name. */
  get fileCount(): number {
    return this.#files.size;
  }

  openSync(path: string, flags: string): number {
    let file = this.#files.get(path);
    if (flags === 'r') {
      if (file === undefined) throw simFsError('ENOENT', 'open', path);
    } else if (flags === 'wx' || flags === 'w') {
      if (file !== undefined && flags === 'wx') throw simFsError('EEXIST', 'open', path);
      if (!this.#dirs.has(parentOf(path))) throw simFsError('ENOENT', 'open', path);
      if (file === undefined) {
        file = { data: EMPTY, sizeBytes: 0, named: true };
        this.#files.set(path, file);
      } else {
        this.#storedBytes -= file.sizeBytes;
        file.sizeBytes = 0;
      }
    } else {
      throw simFsError('EINVAL', 'open', path);
    }
    let fd = 3;
    while (fd < this.#open.length && this.#open[fd] !== undefined) fd += 1;
    this.#open[fd] = { file, writable: flags !== 'r' };
    this.#openCount += 1;
    return fd;
  }

  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number {
    const open = this.#writable(fd, 'write');
    this.#writeAt(open.file, buffer, offset, length, position);
    return length;
  }

  writevSync(fd: number, buffers: Uint8Array[], position: number): number {
    const open = this.#writable(fd, 'writev');
    let total = 0;
    for (const buffer of buffers) total += buffer.length;
    this.#grow(open.file, position + total);
    let at = position;
    for (const buffer of buffers) {
      this.#writeAt(open.file, buffer, 0, buffer.length, at);
      at += buffer.length;
    }
    return at - position;
  }

  readSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number {
    const open = this.#descriptor(fd, 'read');
    const file = open.file;
    const n = Math.max(0, Math.min(length, file.sizeBytes - position));
    if (n > 0) buffer.set(file.data.subarray(position, position + n), offset);
    return n;
  }

  closeSync(fd: number): void {
    this.#descriptor(fd, 'close');
    this.#open[fd] = undefined;
    this.#openCount -= 1;
  }

  unlinkSync(path: string): void {
    const file = this.#files.get(path);
    if (file === undefined) throw simFsError('ENOENT', 'unlink', path);
    this.#files.delete(path);
    file.named = false;
    this.#storedBytes -= file.sizeBytes;
  }

  mkdirSync(path: string, options: { recursive: true }): unknown {
    void options;
    // Recursive: every ancestor too, and an existing directory is fine.
    for (let at = path; at.length > 1 && !this.#dirs.has(at); at = parentOf(at)) this.#dirs.add(at);
    return undefined;
  }

  #descriptor(fd: number, syscall: string): OpenFile {
    const open = this.#open[fd];
    if (open === undefined) throw simFsError('EBADF', syscall);
    return open;
  }

  #writable(fd: number, syscall: string): OpenFile {
    const open = this.#descriptor(fd, syscall);
    if (!open.writable) throw simFsError('EBADF', syscall);
    return open;
  }

  /** Room for `end` bytes (a batch file is written once, so the first write sizes it exactly). */
  #grow(file: SimFile, end: number): void {
    if (end <= file.data.length) return;
    const grown = new Uint8Array(file.data.length === 0 ? end : Math.max(end, 2 * file.data.length));
    if (file.sizeBytes > 0) grown.set(file.data.subarray(0, file.sizeBytes));
    file.data = grown;
  }

  #writeAt(file: SimFile, buffer: Uint8Array, offset: number, length: number, position: number): void {
    const end = position + length;
    this.#grow(file, end);
    file.data.set(length === buffer.length && offset === 0 ? buffer : buffer.subarray(offset, offset + length), position);
    // Only named files count as stored; an unlinked file's bytes go when its last descriptor closes.
    if (end > file.sizeBytes) {
      if (file.named) this.#storedBytes += end - file.sizeBytes;
      file.sizeBytes = end;
    }
  }
}

const EMPTY = new Uint8Array(0);

function parentOf(path: string): string {
  const cut = path.lastIndexOf('/');
  return cut <= 0 ? '/' : path.slice(0, cut);
}

/**
 * An fs error as node's look (`code`, `syscall`, a message starting with the code), made
 * without capturing a stack trace: the simulator makes many and never prints their stacks.
 */
export function simFsError(code: string, syscall: string, path?: string, why = ''): Error {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    const text = ERROR_TEXT[code] ?? code.toLowerCase();
    return Object.assign(new Error(`${code}: ${text}${why}, ${syscall}${path === undefined ? '' : ` '${path}'`}`), { code, syscall, ...(path === undefined ? {} : { path }) });
  } finally {
    Error.stackTraceLimit = limit;
  }
}

const ERROR_TEXT: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EEXIST: 'file already exists',
  EBADF: 'bad file descriptor',
  EINVAL: 'invalid argument',
  ENOSPC: 'no space left on device',
  EIO: 'i/o error',
  EAGAIN: 'resource temporarily unavailable',
  EINTR: 'interrupted system call',
  EMFILE: 'too many open files',
};
