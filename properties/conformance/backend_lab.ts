import { rmSync } from 'node:fs';
import type { Bytes } from '../../src/bytes.js';
import type { BytesFetch, BytesSpill, FetchResult, StorageStats } from '../../src/spill.js';
import { type BackendContext, type BackendModule, describeThrown, describeValue, type FaultSwitches, WAITING_FOR_DISPOSE } from './backend_module.js';
import { ClauseBroken, ClauseNotApplicable, ClauseTimedOut } from './clause.js';
import { FaultFs } from './fault_fs.js';
import { makeTempDir } from '../run_dir.js';
import { byteDiff, concatBytes, type SampleChunks, sameBytes } from './sample_chunks.js';

/** Spill calls in a row that drain nothing before `spillAll` gives up. */
const NO_PROGRESS_CALLS_MAX = 3;
/** Fetches of one handle that fail on their own (no fault armed) before a clause gives up. */
const SPONTANEOUS_FETCH_FAILURES_MAX = 3;

/**
 * Fault switches with counters: a clause arms the next write or read to fail, and can see
 * whether the backend asked at all (which is how a declared capability is checked for honesty).
 */
export class ArmedFaults implements FaultSwitches {
  writeAsks = 0;
  readAsks = 0;
  #failWriteAt: number | undefined;
  #failReads = 0;
  #failAllWrites = false;

  /** The `n`-th write asked about from now on (1-based) fails. */
  failNthWrite(n: number): void {
    this.#failWriteAt = this.writeAsks + n;
  }

  /** Every write asked about from now on fails. */
  failAllWrites(): void {
    this.#failAllWrites = true;
  }

  /** The next `count` reads asked about fail. */
  failNextReads(count: number): void {
    this.#failReads = count;
  }

  failWrite(): boolean {
    this.writeAsks += 1;
    if (this.#failAllWrites) return true;
    if (this.#failWriteAt !== this.writeAsks) return false;
    this.#failWriteAt = undefined;
    return true;
  }

  failRead(): boolean {
    this.readAsks += 1;
    if (this.#failReads === 0) return false;
    this.#failReads -= 1;
    return true;
  }
}

/** One backend instance a clause works with. */
export interface LabInstance {
  spill: BytesSpill;
  faults: ArmedFaults;
  dir: string;
  /** The fs handed to the backend as `ctx.fs`. */
  fs: FaultFs;
}

/** What one `spill` call did, unchecked. */
export interface SpillCall {
  offered: Bytes[];
  remaining: Bytes[];
  handles: unknown[];
}

/** What one `spill` call did, checked against the contract. */
export interface SpillAnswer {
  drained: number;
  handles: BytesFetch[];
}

/**
 * The bench a clause runs on: it makes fresh backend instances, calls them with every answer
 * checked at the boundary, and turns anything wrong (a throw, a garbage shape, an inconsistent
 * list) into a `ClauseBroken` whose message is the counterexample.
 */
export class BackendLab {
  readonly module: BackendModule;
  readonly #instances: LabInstance[] = [];
  /** Called when the lab starts or stops waiting on the factory, so a hang can be blamed on it. */
  onFactory: ((waiting: boolean) => void) | undefined;
  /** Called when the lab starts or stops waiting on the module's `dispose`, so a hang there can be blamed on it. */
  onDispose: ((waiting: boolean) => void) | undefined;
  /** Called with each directory the lab creates, so a parent that kills this thread can remove it. */
  onDir: ((dir: string) => void) | undefined;
  // Every directory made, including those of instances whose factory never returned.
  readonly #dirs = new Set<string>();
  /** Backend calls made so far (spill, fetch, stats): the progress a slow backend shows. */
  calls = 0;
  /** Told after each backend call returns, with the number of calls so far. */
  onProgress: ((calls: number) => void) | undefined;

  constructor(module: BackendModule) {
    this.module = module;
  }

  get supports(): BackendModule['supports'] {
    return this.module.supports;
  }

  /** A fresh instance from the factory, with its own empty directory and fault switches. */
  async open(): Promise<LabInstance> {
    const dir = makeTempDir('spillsim-validate-');
    this.#dirs.add(dir);
    this.onDir?.(dir);
    const faults = new ArmedFaults();
    const fs = new FaultFs();
    let spill: unknown;
    try {
      this.onFactory?.(true);
      spill = await this.module.factory({ dir, faults, fs: fs as unknown as NonNullable<BackendContext['fs']> });
      this.onFactory?.(false);
    } catch (thrown) {
      this.onFactory?.(false);
      rmSync(dir, { recursive: true, force: true });
      // A child process that did not answer in time is a timeout, wherever it happens.
      if (thrown instanceof ClauseTimedOut) throw thrown;
      throw new ClauseBroken(`the factory threw ${describeThrown(thrown)}`);
    }
    if (spill === null || typeof spill !== 'object' || typeof (spill as BytesSpill).spill !== 'function') {
      rmSync(dir, { recursive: true, force: true });
      throw new ClauseBroken(`the factory returned ${describeValue(spill)}, not a BytesSpill (an object with a spill(chunks, handles) method)`);
    }
    const instance = { spill: spill as BytesSpill, faults, dir, fs };
    this.#instances.push(instance);
    return instance;
  }

  /** Dispose every instance and remove its directory; a failing dispose is reported as broken. */
  async close(): Promise<void> {
    const problems: string[] = [];
    try {
      for (const instance of this.#instances.slice()) {
        const problem = await this.closeInstance(instance);
        if (problem !== undefined) problems.push(problem);
      }
    } finally {
      this.abandon();
    }
    if (problems.length > 0) throw new ClauseBroken(problems[0]!);
  }

  /** Remove every directory the lab made, without waiting for a backend that may be hung. */
  abandon(): void {
    for (const dir of this.#dirs) rmSync(dir, { recursive: true, force: true });
    this.#dirs.clear();
  }

  /**
   * Dispose one instance and remove its directory (with `keepDir`, the directory stays until
   * the lab closes, so a clause can look inside first); returns what went wrong, if anything.
   * A dispose that did not answer in time (a child process's CLOSE) throws `ClauseTimedOut`.
   */
  async closeInstance(instance: LabInstance, options: { keepDir?: boolean } = {}): Promise<string | undefined> {
    const at = this.#instances.indexOf(instance);
    if (at < 0) return undefined;
    this.#instances.splice(at, 1);
    const dispose = this.module.dispose;
    try {
      if (dispose === undefined) return undefined;
      this.onDispose?.(true);
      await dispose(instance.spill);
      this.onDispose?.(false);
      return undefined;
    } catch (thrown) {
      this.onDispose?.(false);
      if (thrown instanceof ClauseTimedOut) throw new ClauseTimedOut(`${WAITING_FOR_DISPOSE}: ${thrown.message}`);
      return `dispose threw ${describeThrown(thrown)}`;
    } finally {
      if (!options.keepDir) rmSync(instance.dir, { recursive: true, force: true });
    }
  }

  /** One raw `spill` call: what was offered, what is left, what was pushed (nothing checked but a throw). */
  spillRaw(instance: LabInstance, chunks: Bytes[]): SpillCall {
    const offered = chunks.slice();
    const handles: BytesFetch[] = [];
    const returned = this.call(`spill of ${offered.length} chunks`, () => instance.spill.spill(chunks, handles)) as unknown;
    if (returned !== undefined && typeof (returned as { then?: unknown } | null)?.then === 'function') {
      throw new ClauseBroken('spill returned a Promise; spill is synchronous and must drain and push before it returns');
    }
    return { offered, remaining: chunks, handles };
  }

  /** One `spill` call, its answer checked: a drained prefix, one handle per drained chunk. */
  spillOnce(instance: LabInstance, chunks: Bytes[]): SpillAnswer {
    const call = this.spillRaw(instance, chunks);
    checkDrainedPrefix(call);
    return { drained: call.offered.length - call.remaining.length, handles: checkOneHandlePerChunk(call) };
  }

  /** Spill every chunk, calling again while it stops partway; handles in chunk order. */
  spillAll(instance: LabInstance, sample: SampleChunks): BytesFetch[] {
    const chunks = sample.chunks.slice();
    const handles: BytesFetch[] = [];
    let idleCalls = 0;
    // Each call drains at least one chunk or counts as idle, so this ends within chunks + idle calls.
    while (chunks.length > 0) {
      const answer = this.spillOnce(instance, chunks);
      handles.push(...answer.handles);
      idleCalls = answer.drained === 0 ? idleCalls + 1 : 0;
      if (idleCalls >= NO_PROGRESS_CALLS_MAX) {
        // Stopping is the contract's "storage full": legal, but this clause cannot go on.
        // A backend that never drains anything is caught by spill.makes-progress instead.
        throw new ClauseNotApplicable(
          `spill drained nothing in ${NO_PROGRESS_CALLS_MAX} calls in a row with ${chunks.length} of ${sample.chunks.length} chunks (${bytesOf(chunks)} bytes) left: storage full, so this clause could not run`,
        );
      }
    }
    return handles;
  }

  /** Spill the sample and fetch every handle in order, each checked against its chunk. */
  roundTrip(instance: LabInstance, sample: SampleChunks): void {
    const handles = this.spillAll(instance, sample);
    handles.forEach((handle, k) => this.expectChunk(this.fetchBytes(handle, `handle ${k}`), k, sample.expected));
  }

  /** One `fetch` call, its answer's shape checked. */
  fetchOnce(handle: BytesFetch, what: string): FetchResult {
    const result = this.call(`fetch of ${what}`, () => handle.fetch()) as unknown;
    return checkResultShape(result, what);
  }

  /** Fetch a handle to its bytes, retrying a bounded number of spontaneous failures. */
  fetchBytes(handle: BytesFetch, what: string): Uint8Array {
    let current = handle;
    for (let attempt = 0; attempt <= SPONTANEOUS_FETCH_FAILURES_MAX; attempt += 1) {
      const result = this.fetchOnce(current, what);
      if (result.ok) return concatBytes(result.chunks.map((c) => c.data));
      current = result.handle;
    }
    throw new ClauseBroken(`fetch of ${what} failed ${SPONTANEOUS_FETCH_FAILURES_MAX + 1} times in a row with no fault armed`);
  }

  /** Check delivered bytes against what chunk `index` held; name the chunk it matches if it is another's. */
  expectChunk(delivered: Uint8Array, index: number, expected: readonly Uint8Array[], what = `handle ${index}`): void {
    const diff = byteDiff(expected[index]!, delivered);
    if (diff === undefined) return;
    const other = expected.findIndex((e, k) => k !== index && sameBytes(e, delivered));
    const whose = other >= 0 ? ` (the bytes of chunk ${other})` : '';
    throw new ClauseBroken(`${what} returned the wrong bytes${whose}: ${diff}`);
  }

  /** The backend's `stats()`, its shape checked. */
  stats(instance: LabInstance): StorageStats {
    const hook = (instance.spill as { stats?: unknown }).stats;
    if (typeof hook !== 'function') throw new ClauseBroken('supports.stats is declared but the spill has no stats() method');
    const stats = this.call('stats()', () => hook.call(instance.spill)) as Partial<StorageStats> | null;
    const ok = (n: unknown): boolean => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
    if (stats === null || typeof stats !== 'object' || !ok(stats.storedBytes) || !ok(stats.storedChunks)) {
      throw new ClauseBroken(`stats() returned ${describeValue(stats)}; expected { storedBytes, storedChunks } as non-negative whole numbers`);
    }
    return { storedBytes: stats.storedBytes!, storedChunks: stats.storedChunks! };
  }

  /** Run a backend call; a throw becomes the contract's panic, reported as broken. */
  call<T>(what: string, body: () => T): T {
    try {
      return body();
    } catch (thrown) {
      if (thrown instanceof ClauseBroken) throw thrown;
      throw new ClauseBroken(`${what} panicked: threw ${describeThrown(thrown)}`);
    } finally {
      this.calls += 1;
      this.onProgress?.(this.calls);
    }
  }
}

/** The chunks left must be the offered ones minus a prefix, in order and in place. */
export function checkDrainedPrefix(call: SpillCall): void {
  const { offered, remaining } = call;
  const drained = offered.length - remaining.length;
  if (drained < 0) throw new ClauseBroken(`spill grew the chunk list from ${offered.length} to ${remaining.length}; it may only drain it`);
  for (let k = 0; k < remaining.length; k += 1) {
    if (remaining[k] !== offered[drained + k]) {
      const left = remaining.map((c) => {
        const i = offered.indexOf(c);
        return i >= 0 ? String(i) : '?';
      });
      throw new ClauseBroken(
        `spill of ${offered.length} chunks left chunks ${indexList(left)} undrained; draining from the front would leave ${indexList(range(drained, offered.length).map(String))}`,
      );
    }
  }
}

/** Exactly one handle, with a fetch method, per drained chunk. */
export function checkOneHandlePerChunk(call: SpillCall): BytesFetch[] {
  const drained = call.offered.length - call.remaining.length;
  if (call.handles.length !== drained) {
    throw new ClauseBroken(`spill drained ${drained} of ${call.offered.length} chunks but pushed ${call.handles.length} handles; the contract is one handle per drained chunk`);
  }
  call.handles.forEach((handle, k) => {
    if (handle === null || typeof handle !== 'object' || typeof (handle as BytesFetch).fetch !== 'function') {
      throw new ClauseBroken(`spill pushed handle ${k} = ${describeValue(handle)}, which has no fetch() method`);
    }
  });
  return call.handles as BytesFetch[];
}

function checkResultShape(result: unknown, what: string): FetchResult {
  const r = result as Record<string, unknown> | null;
  if (r !== null && typeof r === 'object' && r.ok === false) {
    const handle = r.handle as { fetch?: unknown } | null;
    if (handle === null || typeof handle !== 'object' || typeof handle.fetch !== 'function') {
      throw new ClauseBroken(`fetch of ${what} failed without a handle to retry (got handle ${describeValue(r.handle)})`);
    }
    return result as FetchResult;
  }
  if (r === null || typeof r !== 'object' || r.ok !== true || !Array.isArray(r.chunks)) {
    throw new ClauseBroken(`fetch of ${what} returned ${describeValue(result)}; expected { ok: true, chunks: Bytes[] } or { ok: false, handle }`);
  }
  r.chunks.forEach((chunk: unknown, k: number) => {
    const c = chunk as { data?: unknown; length?: unknown } | null;
    if (c === null || typeof c !== 'object' || !(c.data instanceof Uint8Array) || c.data.length !== c.length) {
      throw new ClauseBroken(`fetch of ${what} returned chunk ${k} = ${describeValue(chunk)}, not a Bytes (a view with length and data)`);
    }
  });
  return result as FetchResult;
}

function bytesOf(chunks: readonly Bytes[]): number {
  return chunks.reduce((sum, c) => sum + c.length, 0);
}

const INDEX_LIST_SHOWN_MAX = 8;

/** `[0, 1, 2]`, or the first few and a count when the list is long. */
function indexList(items: readonly string[]): string {
  if (items.length <= INDEX_LIST_SHOWN_MAX) return `[${items.join(', ')}]`;
  return `[${items.slice(0, INDEX_LIST_SHOWN_MAX).join(', ')}, … ${items.length - INDEX_LIST_SHOWN_MAX} more]`;
}

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i < to; i += 1) out.push(i);
  return out;
}
