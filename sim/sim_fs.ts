import type { SpillFs } from '../src/backends/spill_fs.js';

/**
 * Bytes of a shared segment, where files are carved back to back: the first is small (most runs
 * store a few kilobytes), each next one twice the last, up to SEGMENT_BYTES.
 */
const SEGMENT_BYTES_FIRST = 16 * 1024;
const SEGMENT_BYTES = 256 * 1024;
/** A file bigger than this gets a segment of its own (so one large file never wastes a shared one). */
const FILE_BYTES_SHARED_MAX = SEGMENT_BYTES / 4;
/** Emptied shared segments kept for reuse; more are left to the garbage collector. */
const SPARE_SEGMENTS_MAX = 4;

/** A stretch of the disk: files placed back to back from 0 up to `usedBytes`. */
interface Segment {
  readonly data: Uint8Array;
  usedBytes: number;
  /** Files placed in this segment whose bytes are still reachable (named, or open). */
  files: number;
  /** False for a large file's own segment, which is never reused. */
  readonly shared: boolean;
}

/** One file: its bytes, `[at, at + capacityBytes)` of a segment, of which the first `sizeBytes` are written. */
interface SimFile {
  segment: Segment;
  at: number;
  capacityBytes: number;
  sizeBytes: number;
  /** False once unlinked (its bytes live on only through open descriptors). */
  named: boolean;
  /** Descriptors open on this file. */
  openCount: number;
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
 *
 * File bytes live in a few large segments, carved back to back (a file written once, as a batch
 * file is, takes exactly its size), not in an allocation per file: a run that spills on most of
 * its steps would otherwise make an `ArrayBuffer` per spill, and a backlog of 100,000 stored
 * files would be 100,000 of them for the garbage collector. A segment is reused once every file
 * in it is gone (unlinked and closed); batch files come and go roughly in order, so segments empty.
 */
export class SimFs implements SpillFs {
  readonly #files = new FileTable();
  readonly #dirs = new Set<string>(['/']);
  /** The file behind each open descriptor, and whether it was opened for writing. */
  readonly #openFile: Array<SimFile | undefined> = [undefined, undefined, undefined];
  readonly #openWritable: boolean[] = [false, false, false];
  /** No descriptor below this one is free (the search for the lowest free one starts here). */
  #lowestFreeFd = 3;
  #openCount = 0;
  #storedBytes = 0;
  /** The shared segment new files are placed in. */
  #current: Segment = newSegment(SEGMENT_BYTES_FIRST, true);
  /** A directory known to exist (directories are never removed), so most opens skip the lookup. */
  #knownDir = '/';
  readonly #spare: Segment[] = [];

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
      if (!this.#inKnownDir(path) && !this.#dirs.has(parentOf(path))) throw simFsError('ENOENT', 'open', path);
      if (file === undefined) {
        file = { segment: this.#current, at: 0, capacityBytes: 0, sizeBytes: 0, named: true, openCount: 0 };
        this.#current.files += 1;
        file.at = this.#current.usedBytes;
        this.#files.set(path, file);
      } else {
        this.#storedBytes -= file.sizeBytes;
        file.sizeBytes = 0;
      }
    } else {
      throw simFsError('EINVAL', 'open', path);
    }
    const open = this.#openFile;
    let fd = this.#lowestFreeFd;
    while (fd < open.length && open[fd] !== undefined) fd += 1;
    open[fd] = file;
    this.#openWritable[fd] = flags !== 'r';
    this.#lowestFreeFd = fd + 1;
    file.openCount += 1;
    this.#openCount += 1;
    return fd;
  }

  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number {
    const file = this.#writable(fd, 'write');
    this.#grow(file, position + length);
    const data = file.segment.data;
    const at = file.at + position;
    // Short runs byte by byte: a loop costs less than the view `set` needs.
    if (length <= 64) for (let k = 0; k < length; k += 1) data[at + k] = buffer[offset + k]!;
    else data.set(length === buffer.length && offset === 0 ? buffer : buffer.subarray(offset, offset + length), at);
    this.#noteWritten(file, position + length);
    return length;
  }

  writevSync(fd: number, buffers: Uint8Array[], position: number): number {
    const file = this.#writable(fd, 'writev');
    let total = 0;
    for (let k = 0; k < buffers.length; k += 1) total += buffers[k]!.length;
    this.#grow(file, position + total);
    const data = file.segment.data;
    let at = file.at + position;
    for (let k = 0; k < buffers.length; k += 1) {
      const buffer = buffers[k]!;
      const n = buffer.length;
      if (n <= 64) for (let i = 0; i < n; i += 1) data[at + i] = buffer[i]!;
      else data.set(buffer, at);
      at += n;
    }
    this.#noteWritten(file, position + total);
    return total;
  }

  readSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number {
    const file = this.#descriptor(fd, 'read');
    const n = Math.max(0, Math.min(length, file.sizeBytes - position));
    if (n === 0) return 0;
    const data = file.segment.data;
    const from = file.at + position;
    if (n <= 64) for (let k = 0; k < n; k += 1) buffer[offset + k] = data[from + k]!;
    else buffer.set(data.subarray(from, from + n), offset);
    return n;
  }

  closeSync(fd: number): void {
    const file = this.#descriptor(fd, 'close');
    this.#openFile[fd] = undefined;
    if (fd < this.#lowestFreeFd) this.#lowestFreeFd = fd;
    this.#openCount -= 1;
    file.openCount -= 1;
    if (!file.named && file.openCount === 0) this.#release(file);
  }

  unlinkSync(path: string): void {
    const file = this.#files.take(path);
    if (file === undefined) throw simFsError('ENOENT', 'unlink', path);
    file.named = false;
    this.#storedBytes -= file.sizeBytes;
    if (file.openCount === 0) this.#release(file);
  }

  mkdirSync(path: string, options: { recursive: true }): unknown {
    void options;
    // Recursive: every ancestor too, and an existing directory is fine.
    for (let at = path; at.length > 1 && !this.#dirs.has(at); at = parentOf(at)) this.#dirs.add(at);
    return undefined;
  }

  /** Whether `path` names an entry directly in the directory last found to exist (and remembers its parent when it is not). */
  #inKnownDir(path: string): boolean {
    const dir = this.#knownDir;
    if (path.length > dir.length + 1 && path.charCodeAt(dir.length) === 47 && path.startsWith(dir) && path.indexOf('/', dir.length + 1) === -1) return true;
    const parent = parentOf(path);
    if (!this.#dirs.has(parent)) return false;
    this.#knownDir = parent;
    return true;
  }

  #descriptor(fd: number, syscall: string): SimFile {
    const file = this.#openFile[fd];
    if (file === undefined) throw simFsError('EBADF', syscall);
    return file;
  }

  #writable(fd: number, syscall: string): SimFile {
    const file = this.#descriptor(fd, syscall);
    if (!this.#openWritable[fd]) throw simFsError('EBADF', syscall);
    return file;
  }

  /** Only named files count as stored; an unlinked file's bytes go when its last descriptor closes. */
  #noteWritten(file: SimFile, end: number): void {
    if (end <= file.sizeBytes) return;
    if (file.named) this.#storedBytes += end - file.sizeBytes;
    file.sizeBytes = end;
  }

  /**
   * Room for `end` bytes. A file at the end of its segment grows in place (a batch file is
   * written once, so its first write sizes it exactly); any other moves to fresh room, twice
   * its size, taking its bytes along.
   */
  #grow(file: SimFile, end: number): void {
    if (end <= file.capacityBytes) return;
    const segment = file.segment;
    if (segment.shared && segment === this.#current && file.at + file.capacityBytes === segment.usedBytes && file.at + end <= segment.data.length) {
      segment.usedBytes = file.at + end;
      file.capacityBytes = end;
      return;
    }
    const capacity = file.capacityBytes === 0 ? end : Math.max(end, 2 * file.capacityBytes);
    const target = this.#room(capacity);
    const at = target.usedBytes;
    if (file.sizeBytes > 0) target.data.set(segment.data.subarray(file.at, file.at + file.sizeBytes), at);
    target.usedBytes = at + capacity;
    target.files += 1;
    this.#leave(segment);
    file.segment = target;
    file.at = at;
    file.capacityBytes = capacity;
  }

  /** A segment with `bytes` free at its end: the current one, a fresh shared one, or one of its own for a large file. */
  #room(bytes: number): Segment {
    if (bytes > FILE_BYTES_SHARED_MAX) return newSegment(bytes, false);
    if (this.#current.usedBytes + bytes <= this.#current.data.length) return this.#current;
    // The current segment is full: new files go to another, and it is reused once its files are gone.
    const spare = this.#spare.at(-1);
    const next = spare !== undefined && spare.data.length >= bytes ? this.#spare.pop()! : newSegment(Math.min(SEGMENT_BYTES, Math.max(bytes, 2 * this.#current.data.length)), true);
    const full = this.#current;
    this.#current = next;
    if (full.files === 0) this.#recycle(full);
    return next;
  }

  /** The file's bytes are unreachable (unlinked, no descriptor open): its segment may empty. */
  #release(file: SimFile): void {
    this.#leave(file.segment);
    file.capacityBytes = 0;
  }

  #leave(segment: Segment): void {
    segment.files -= 1;
    if (segment.files === 0) this.#recycle(segment);
  }

  /** An emptied segment: the current one starts over, another shared one is kept as a spare. */
  #recycle(segment: Segment): void {
    if (segment === this.#current) {
      segment.usedBytes = 0;
      return;
    }
    if (!segment.shared || this.#spare.length >= SPARE_SEGMENTS_MAX) return;
    segment.usedBytes = 0;
    this.#spare.push(segment);
  }
}

/** Most numbered families a `FileTable` keeps (a run has a spill directory per queue); other names go to its map. */
const FAMILIES_MAX = 8;
/** A number this far past a family's last slot goes to the map (the slots stay dense). */
const FAMILY_GAP_MAX = 1024;

/** Files named `prefix + n + suffix` (n written without leading zeros), by n from `base`. */
interface Family {
  readonly prefix: string;
  readonly suffix: string;
  base: number;
  /** Slot `i` holds file `base + i`, or undefined; slots before `head` are all empty. */
  slots: Array<SimFile | undefined>;
  head: number;
}

/**
 * The named files, by path. A batch-file backend names its files `dir/batch-<n>.spill` with n
 * counting up, and removes them roughly in the order it made them; a deep run keeps up to about
 * 190,000 of them, where a `Map` keyed by freshly built path strings cost a hash of the string
 * and a probe of a table far larger than the cache on every open. So a name of the form
 * `prefix + n + suffix` is kept in a dense array of its family, by n (reads near its two ends,
 * where the backend works); any other name, or a number far from the family's range, in a map.
 * A path is looked up in both, so where it was put never changes what is found.
 */
class FileTable {
  readonly #map = new Map<string, SimFile>();
  readonly #families: Family[] = [];
  #count = 0;

  get size(): number {
    return this.#count;
  }

  get(path: string): SimFile | undefined {
    const family = this.#familyOf(path);
    if (family !== undefined) {
      const i = this.#number - family.base;
      const file = i >= 0 && i < family.slots.length ? family.slots[i] : undefined;
      if (file !== undefined) return file;
    }
    return this.#map.size === 0 ? undefined : this.#map.get(path);
  }

  /** Add `path` (which must not be there). */
  set(path: string, file: SimFile): void {
    this.#count += 1;
    const family = this.#familyOf(path) ?? this.#newFamily(path);
    if (family !== undefined) {
      const n = this.#number;
      if (family.slots.length === family.head) {
        // Empty: the range starts over at this number.
        family.slots.length = 0;
        family.head = 0;
        family.base = n;
      }
      const i = n - family.base;
      if (i >= family.head && i < family.slots.length + FAMILY_GAP_MAX) {
        while (family.slots.length < i) family.slots.push(undefined);
        family.slots[i] = file;
        return;
      }
    }
    this.#map.set(path, file);
  }

  /** Remove `path` and return its file, or undefined when there is none. */
  take(path: string): SimFile | undefined {
    const family = this.#familyOf(path);
    if (family !== undefined) {
      const i = this.#number - family.base;
      const file = i >= 0 && i < family.slots.length ? family.slots[i] : undefined;
      if (file !== undefined) {
        this.#count -= 1;
        family.slots[i] = undefined;
        this.#trim(family);
        return file;
      }
    }
    if (this.#map.size === 0) return undefined;
    const file = this.#map.get(path);
    if (file === undefined) return undefined;
    this.#count -= 1;
    this.#map.delete(path);
    return file;
  }

  /** The number `#familyOf` last parsed. */
  #number = 0;

  /** The family whose prefix and suffix frame `path` around a number (left in `#number`), if any. */
  #familyOf(path: string): Family | undefined {
    const families = this.#families;
    for (let f = 0; f < families.length; f += 1) {
      const family = families[f]!;
      const end = path.length - family.suffix.length;
      if (end <= family.prefix.length || !hasAt(path, family.suffix, end) || !hasAt(path, family.prefix, 0)) continue;
      const n = parseNumber(path, family.prefix.length, end);
      if (n < 0) continue;
      this.#number = n;
      return family;
    }
    return undefined;
  }

  /** A family for `path` when its last name holds a number and there is room for one more. */
  #newFamily(path: string): Family | undefined {
    if (this.#families.length >= FAMILIES_MAX) return undefined;
    let end = path.length;
    while (end > 0 && !isDigit(path.charCodeAt(end - 1))) end -= 1;
    let start = end;
    while (start > 0 && isDigit(path.charCodeAt(start - 1))) start -= 1;
    if (start === end || path.indexOf('/', end) !== -1) return undefined;
    const n = parseNumber(path, start, end);
    if (n < 0) return undefined;
    const family: Family = { prefix: path.slice(0, start), suffix: path.slice(end), base: n, slots: [], head: 0 };
    this.#families.push(family);
    this.#number = n;
    return family;
  }

  /** Move `head` past empty slots; drop them once they are most of the array. */
  #trim(family: Family): void {
    const slots = family.slots;
    while (family.head < slots.length && slots[family.head] === undefined) family.head += 1;
    if (family.head === slots.length) return;
    if (family.head >= 1024 && family.head * 2 >= slots.length) {
      slots.copyWithin(0, family.head);
      slots.length -= family.head;
      family.base += family.head;
      family.head = 0;
    }
  }
}

/** Whether `text` holds `part` from index `at` (a loop: `startsWith` first asks whether `part` is a RegExp). */
function hasAt(text: string, part: string, at: number): boolean {
  for (let i = part.length - 1; i >= 0; i -= 1) if (text.charCodeAt(at + i) !== part.charCodeAt(i)) return false;
  return true;
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

/** The whole number written in `text[start, end)` without leading zeros (at most 15 digits), or -1. */
function parseNumber(text: string, start: number, end: number): number {
  if (end - start > 15 || (text.charCodeAt(start) === 48 && end - start > 1)) return -1;
  let n = 0;
  for (let i = start; i < end; i += 1) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

function newSegment(bytes: number, shared: boolean): Segment {
  return { data: new Uint8Array(bytes), usedBytes: 0, files: 0, shared };
}

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
