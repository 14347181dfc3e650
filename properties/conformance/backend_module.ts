import { statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { SpillsimError } from '../../src/errors.js';
import { describeFsError } from '../json_file.js';
import type { BytesSpill } from '../../src/spill.js';
import type { SpillPolicy } from '../../src/spill_policy.js';
import type { FdSnapshot } from './fd_probe.js';

/**
 * Optional capabilities a backend module declares in its named export `supports`. A clause
 * that needs an undeclared capability is *not applicable*; a declared one is checked for honesty.
 */
export interface Supports {
  /** `spill` asks `ctx.faults.failWrite()` before each chunk write and stops partway when told. */
  partialSpill?: boolean;
  /** `fetch` asks `ctx.faults.failRead()` before each read and returns `{ ok: false, handle }` when told. */
  failingFetch?: boolean;
  /** The spill has a `stats()` method (`StorageStats`) that tells what it holds. */
  stats?: boolean;
}

export type Capability = keyof Supports;
export const CAPABILITIES: readonly Capability[] = ['partialSpill', 'failingFetch', 'stats'];

/**
 * Fault switches the validator flips to exercise a backend's own failure paths. A backend that
 * declares `partialSpill` / `failingFetch` asks them at each write / read and treats `true` as
 * an I/O error at that point; one that declares neither may ignore them.
 */
export interface FaultSwitches {
  failWrite(): boolean;
  failRead(): boolean;
}

/** What a backend factory receives. */
export interface BackendContext {
  /** A fresh, empty directory the backend may use; removed after the clause. */
  dir: string;
  faults: FaultSwitches;
  /**
   * The synchronous `node:fs` surface (openSync, readSync, writeSync, writevSync, closeSync,
   * unlinkSync, mkdirSync, fstatSync). A backend that does its file I/O through it gets the
   * fs-level fault clauses (short writes and reads, EAGAIN, EINTR, ENOSPC, EIO, EMFILE); one
   * that uses `node:fs` directly is not applicable for them. Given by `validate` (clauses and suites),
   * `check --backend` and `replay --backend`; absent only when your own code calls the factory.
   */
  fs?: SpillCtxFs;
}

/** What `ctx.fs` offers: the calls of `node:fs` a file backend makes, with their `node:fs` signatures. */
export type SpillCtxFs = Pick<typeof import('node:fs'), 'openSync' | 'readSync' | 'writeSync' | 'writevSync' | 'closeSync' | 'unlinkSync' | 'mkdirSync' | 'fstatSync'>;

export type BackendFactory = (ctx: BackendContext) => BytesSpill | Promise<BytesSpill>;

/**
 * How verdicts name the backend's `dispose(spill)` (a module's named export; the CLOSE request of
 * a backend in another language), and what they say while it has not returned: the kit calls it
 * at the end of every clause and suite, so a dispose that hangs is named as such, not as a hang
 * somewhere in the backend.
 */
export const DISPOSE_NAME = "the backend's dispose(spill)";
export const WAITING_FOR_DISPOSE = `waiting for ${DISPOSE_NAME} to return`;

/** A loaded backend module: its factory, declared capabilities and optional `dispose`. */
export interface BackendModule {
  factory: BackendFactory;
  supports: Supports;
  dispose?: (spill: BytesSpill) => void | Promise<void>;
  /**
   * Called after each clause (a backend in a child process ends that clause's child here): its
   * log (the child's stderr) for the verdict, and what went wrong ending it, if anything.
   */
  endClause?: () => { log: string; problem?: string };
  /**
   * The open descriptors of the process the backend runs in, for the `fds.*` clauses. Absent: this
   * process (`/proc/self/fd`). A backend in a child process answers with the child's, less the
   * ones it had when it started (its stdio), so the pipes spillsim talks over are not blamed on it.
   */
  descriptors?: () => FdSnapshot | undefined;
}

/** What a policy factory receives: the storage its writer policy spills through. */
export interface PolicyContext {
  strategy: BytesSpill;
}

export type PolicyFactory = (ctx: PolicyContext) => [SpillPolicy, SpillPolicy];

/**
 * A path as typed by a person (relative to the working directory) or a URL, as a file URL. The
 * file must be a regular file: importing a directory, a device (`/dev/zero` never ends) or a FIFO
 * (blocks with no writer) is refused here, with `stat`, before anything opens it.
 */
export function moduleUrl(specifier: string): string {
  if (specifier.trim().length === 0) throw badModule(specifier, 'empty module path');
  if (specifier.startsWith('data:')) return specifier;
  let path: string;
  try {
    path = specifier.startsWith('file:') ? fileURLToPath(specifier) : isAbsolute(specifier) ? specifier : resolve(process.cwd(), specifier);
  } catch (error) {
    throw badModule(specifier, (error as Error).message.split('\n')[0]!);
  }
  let stat;
  try {
    stat = statSync(path);
  } catch (error) {
    // ENOTDIR (a part of the path is a file) is named as such, not as a missing file.
    throw badModule(specifier, (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : describeFsError(error));
  }
  if (stat.isDirectory()) throw badModule(specifier, 'it is a directory; give the module file');
  if (!stat.isFile()) throw badModule(specifier, 'not a regular file (a device, pipe or socket)');
  return specifier.startsWith('file:') ? specifier : pathToFileURL(path).href;
}

/** The file a module specifier names (a path or a file: URL), for comparing with an output path; undefined for data: and exec: ones. */
export function modulePath(specifier: string): string | undefined {
  if (specifier.startsWith('file:')) {
    try {
      return fileURLToPath(specifier);
    } catch {
      return undefined;
    }
  }
  return /^[a-z]+:/.test(specifier) && !isAbsolute(specifier) ? undefined : specifier;
}

/** Import a backend module and check its shape; every problem is one `E_BAD_INPUT` line. */
export async function loadBackendModule(specifier: string): Promise<BackendModule> {
  const mod = await importModule(specifier);
  const factory = mod.default;
  if (typeof factory !== 'function') {
    throw badModule(specifier, `its default export is ${describeValue(factory)}, not a factory function (ctx) => BytesSpill`);
  }
  if (isClass(factory)) {
    throw badModule(specifier, `its default export is the class ${factory.name || '(anonymous)'}; export a factory function instead, e.g. export default (ctx) => new ${factory.name || 'MySpill'}(ctx)`);
  }
  const dispose = mod.dispose;
  if (dispose !== undefined && typeof dispose !== 'function') {
    throw badModule(specifier, `its named export dispose is ${describeValue(dispose)}, not a function (spill) => void`);
  }
  return {
    factory: factory as BackendFactory,
    supports: checkSupports(specifier, mod.supports),
    ...(dispose === undefined ? {} : { dispose: dispose as BackendModule['dispose'] }),
  };
}

/** A loaded policy module: its factory, and the resident-bytes bound it declares, if any. */
export interface PolicyModule {
  factory: PolicyFactory;
  /** Named export `residentBytesMax`: what the queue may hold resident while its reader is idle. */
  residentBytesMax?: number;
}

/** Import a policy module and check that its default export is a factory (and its declared bound a byte count). */
export async function loadPolicyModule(specifier: string): Promise<PolicyModule> {
  const mod = await importModule(specifier);
  if (typeof mod.default !== 'function') {
    throw badModule(specifier, `its default export is ${describeValue(mod.default)}, not a factory function (ctx) => [writerPolicy, readerPolicy]`);
  }
  if (isClass(mod.default)) throw badModule(specifier, 'its default export is a class; export a factory function ({ strategy }) => [writerPolicy, readerPolicy] instead');
  const bound = mod.residentBytesMax;
  if (bound !== undefined && !(typeof bound === 'number' && Number.isSafeInteger(bound) && bound >= 0)) {
    throw badModule(specifier, `its named export residentBytesMax is ${describeValue(bound)}, not a whole number of bytes`);
  }
  return { factory: mod.default as PolicyFactory, ...(bound === undefined ? {} : { residentBytesMax: bound }) };
}

/** A `class` (calling it without `new` throws), told apart from a plain or arrow function. */
function isClass(value: unknown): boolean {
  return typeof value === 'function' && /^class[\s{]/.test(Function.prototype.toString.call(value));
}

async function importModule(specifier: string): Promise<Record<string, unknown>> {
  const url = moduleUrl(specifier);
  try {
    return (await import(url)) as Record<string, unknown>;
  } catch (error) {
    throw badModule(specifier, `importing it failed: ${describeThrown(error).split('\n')[0]}`);
  }
}

function checkSupports(specifier: string, value: unknown): Supports {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw badModule(specifier, `its named export supports is ${describeValue(value)}, not an object such as { stats: true }`);
  }
  const supports: Supports = {};
  let entries: [string, unknown][];
  try {
    entries = Object.entries(value);
  } catch (error) {
    // A throwing getter or a Proxy trap: reading the manifest is part of loading the module.
    throw badModule(specifier, `reading its named export supports threw ${describeThrown(error).split('\n')[0]}`);
  }
  for (const [key, flag] of entries) {
    if (!(CAPABILITIES as readonly string[]).includes(key)) {
      throw badModule(specifier, `supports.${key} is not a capability spillsim knows (known: ${CAPABILITIES.join(', ')})`);
    }
    if (typeof flag !== 'boolean') throw badModule(specifier, `supports.${key} must be true or false, got ${describeValue(flag)}`);
    supports[key as Capability] = flag;
  }
  return supports;
}

function badModule(specifier: string, reason: string): SpillsimError {
  return new SpillsimError('E_BAD_INPUT', `cannot use module ${specifier}: ${reason}`);
}

/** A value as a person would name it in a one-line message. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'object') return `an object (${value.constructor?.name ?? 'no prototype'})`;
  return `${typeof value} ${String(value)}`;
}

/** What was thrown, for a report line: an Error's name and message, anything else described. */
export function describeThrown(thrown: unknown): string {
  if (thrown instanceof Error) return `${thrown.name}: ${thrown.message}`;
  return `a non-Error value ${describeValue(thrown)}`;
}
