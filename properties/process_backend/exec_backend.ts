import { Bytes } from '../../src/bytes.js';
import { SpillsimError } from '../../src/errors.js';
import type { BytesFetch, BytesSpill, FetchResult, StorageStats } from '../../src/spill.js';
import type { BackendContext, BackendModule, FaultSwitches, Supports } from '../conformance/backend_module.js';
import { BackendChild, type ChildReady } from './backend_child.js';
import { splitCommandLine } from './exec_specifier.js';
import { Answer, FAULT_FAIL_READ, FAULT_FAIL_WRITE, FrameWriter, ProtocolError, Request } from './protocol.js';
import { type FdSnapshot, fdSnapshot } from '../conformance/fd_probe.js';

/** Per request, when nobody says otherwise (the validator passes its clause time limit). */
export const CALL_TIMEOUT_MS_DEFAULT = 10_000;
/** Bytes of a spill request besides the chunks: instance, count, and per chunk a length and a fault word. */
const SPILL_REQUEST_OVERHEAD_BYTES = 8;
const SPILL_CHUNK_OVERHEAD_BYTES = 8;

export interface ExecBackendOptions {
  /** How long one request may wait for its answer before the child is killed (ms). */
  callTimeoutMs?: number;
}

/** A backend module whose storage lives in child processes; `takeLog` hands over their stderr. */
export interface ExecBackendModule extends BackendModule {
  /** What the children wrote to stderr since the last call (their log), and forget it. */
  takeLog(): string;
}

/**
 * Load a backend that runs as a child process speaking docs/backend-protocol.md. A first child
 * is started for the handshake (its supports manifest becomes the module's `supports`), then
 * ended; a command that cannot start or handshake is bad input.
 *
 * Children and instances: one child serves every instance opened while it has live ones (so the
 * instances of one clause share a child, and hidden global state in it can be seen); when the
 * last of them is disposed the child is ended, and the next factory call starts a fresh one. So
 * every clause gets a fresh child, and `check`, which never disposes, uses one child throughout.
 */
export async function loadExecBackend(commandLine: string, options: ExecBackendOptions = {}): Promise<ExecBackendModule> {
  const argv = splitCommandLine(commandLine);
  const timeoutMs = options.callTimeoutMs ?? CALL_TIMEOUT_MS_DEFAULT;
  let probe: BackendChild;
  try {
    probe = new BackendChild(argv, timeoutMs);
  } catch (error) {
    throw new SpillsimError('E_BAD_INPUT', `cannot use --exec ${JSON.stringify(commandLine)}: ${(error as Error).message.split('\n')[0]}`);
  }
  let ready: ChildReady;
  try {
    ready = probe.handshake();
  } catch (error) {
    throw new SpillsimError('E_BAD_INPUT', withChildStderr(`cannot use --exec ${JSON.stringify(commandLine)}: ${(error as Error).message.split('\n')[0]}`, probe.log));
  }
  const ended = probe.end();
  if (ended !== undefined) throw new SpillsimError('E_BAD_INPUT', withChildStderr(`cannot use --exec ${JSON.stringify(commandLine)}: ${ended.split('\n')[0]}`, probe.log));
  return new ChildPool(argv, timeoutMs, ready).module();
}

/** Lines of a child's stderr shown under a load failure, and the characters kept of each. */
const STDERR_LINES_SHOWN_MAX = 8;
const STDERR_LINE_CHARS_MAX = 200;

/**
 * A load failure's one line, then the first lines of what the child wrote to stderr (bounded):
 * a child that refuses its arguments says why there, before it exits.
 */
function withChildStderr(reason: string, log: string): string {
  const lines = log.split('\n').map((line) => line.trimEnd()).filter((line) => line.trim() !== '');
  if (lines.length === 0) return reason;
  const shown = lines.slice(0, STDERR_LINES_SHOWN_MAX).map((line) => (line.length > STDERR_LINE_CHARS_MAX ? `${line.slice(0, STDERR_LINE_CHARS_MAX)}…` : line));
  const more = lines.length > shown.length ? ` (first ${shown.length} of ${lines.length} lines)` : '';
  return [reason, `  child stderr${more}:`, ...shown.map((line) => `    ${line}`)].join('\n');
}

/**
 * The children of one loaded command. One child serves every instance opened until the clause
 * ends (so the instances of a clause share it, and hidden global state in it can be seen);
 * `endClause` ends it and the next factory call starts a fresh one. Outside the clauses (the
 * property suites, `check`) one child serves throughout; a child that failed is replaced.
 */
class ChildPool {
  readonly #argv: readonly string[];
  readonly #timeoutMs: number;
  readonly #declared: ChildReady;
  #current: BackendChild | undefined;
  #nextInstance = 1;
  #log = '';
  readonly #startedWith = new WeakMap<BackendChild, FdSnapshot>();

  constructor(argv: readonly string[], timeoutMs: number, declared: ChildReady) {
    this.#argv = argv;
    this.#timeoutMs = timeoutMs;
    this.#declared = declared;
  }

  module(): ExecBackendModule {
    const supports: Supports = {};
    for (const [name, on] of Object.entries(this.#declared.supports)) if (on) supports[name as keyof Supports] = true;
    return {
      factory: (ctx) => this.open(ctx),
      supports,
      dispose: (spill) => this.close(spill as ExecSpill),
      endClause: () => this.endClause(),
      takeLog: () => this.takeLog(),
      descriptors: () => this.descriptors(),
    };
  }

  /**
   * The current child's open descriptors less those it had after its handshake (its stdio and
   * runtime), so what the fds clauses count is what the backend opened; none while no child runs.
   */
  descriptors(): FdSnapshot | undefined {
    if (fdSnapshot() === undefined) return undefined;
    const child = this.#current;
    if (child === undefined || child.gone !== undefined) return new Map();
    const now = fdSnapshot(`/proc/${child.pid}/fd`) ?? new Map<number, string>();
    const started = this.#startedWith.get(child);
    return new Map([...now].filter(([fd, target]) => started?.get(fd) !== target));
  }

  open(ctx: BackendContext): ExecSpill {
    const child = this.#childForNewInstance();
    const instance = this.#nextInstance;
    this.#nextInstance += 1;
    const what = `OPEN of instance ${instance}`;
    child.expect(child.call(new FrameWriter(Request.open).u32(instance).utf8(ctx.dir).finish(), what), Answer.ok, what).end();
    return new ExecSpill(child, instance, ctx.faults, this.#declared.supports);
  }

  /** CLOSE: the instance releases its storage; the child stays for the rest of the clause. */
  close(spill: ExecSpill): void {
    const child = spill.child;
    if (child.gone !== undefined) return;
    const what = `CLOSE of instance ${spill.instance}`;
    child.expect(child.call(new FrameWriter(Request.close).u32(spill.instance).finish(), what), Answer.ok, what).end();
  }

  /** End this clause's child: its log, and what went wrong ending it (a crash at exit, a hang). */
  endClause(): { log: string; problem?: string } {
    const child = this.#current;
    this.#current = undefined;
    const problem = child?.end();
    const log = this.takeLog() + (child?.log ?? '');
    return problem === undefined ? { log } : { log, problem };
  }

  takeLog(): string {
    const log = this.#log;
    this.#log = '';
    return log;
  }

  #childForNewInstance(): BackendChild {
    if (this.#current !== undefined && this.#current.gone === undefined) return this.#current;
    if (this.#current !== undefined) this.#log += this.#current.log;
    const child = new BackendChild(this.#argv, this.#timeoutMs);
    this.#current = child;
    const ready = child.handshake();
    this.#startedWith.set(child, fdSnapshot(`/proc/${child.pid}/fd`) ?? new Map());
    const declared = this.#declared;
    if (JSON.stringify(ready.supports) !== JSON.stringify(declared.supports) || ready.version !== declared.version) {
      child.fail(`declared ${JSON.stringify(ready.supports)} (version ${ready.version}) in this handshake but ${JSON.stringify(declared.supports)} (version ${declared.version}) when it was loaded`, 'the handshake');
    }
    return child;
  }
}

type ChildSupports = ChildReady['supports'];

/** SPILL requests up to this size are built in one reused buffer; larger ones get their own. */
const SPILL_SCRATCH_BYTES_MAX = 16 * 1024 * 1024;
let spillScratch = new Uint8Array(0);

/** One backend instance in a child: `BytesSpill` (and `stats`) as requests over the protocol. */
export class ExecSpill implements BytesSpill {
  readonly child: BackendChild;
  readonly instance: number;
  readonly #faults: FaultSwitches;
  readonly #supports: ChildSupports;

  constructor(child: BackendChild, instance: number, faults: FaultSwitches, supports: ChildSupports) {
    this.child = child;
    this.instance = instance;
    this.#faults = faults;
    this.#supports = supports;
  }

  /**
   * SPILL with every chunk of this call; the answer lists the chunk indices drained, in order,
   * and the handle ids pushed. They are applied to the lists as the child says, right or wrong,
   * so the clauses judge a child exactly as they judge a JavaScript backend.
   */
  spill(chunks: Bytes[], handles: BytesFetch[]): void {
    const what = `spill of ${chunks.length} chunks`;
    const dataBytes = chunks.reduce((sum, c) => sum + c.length, 0);
    const requestBytes = SPILL_REQUEST_OVERHEAD_BYTES + chunks.length * SPILL_CHUNK_OVERHEAD_BYTES + dataBytes;
    // Grown to the largest request so far and kept: a fresh megabyte per call costs page faults.
    if (spillScratch.length < 8 + requestBytes && requestBytes <= SPILL_SCRATCH_BYTES_MAX) spillScratch = new Uint8Array(8 + requestBytes);
    const writer = new FrameWriter(Request.spill, requestBytes, spillScratch).u32(this.instance).u32(chunks.length);
    // The fault switches are asked up front, one write per chunk, up to the first that fails:
    // that is the write a backend honouring them stops at.
    let failing = false;
    for (const chunk of chunks) {
      const fails: boolean = this.#supports.partialSpill && !failing && this.#faults.failWrite();
      failing ||= fails;
      writer.u32(chunk.length).u32(fails ? FAULT_FAIL_WRITE : 0).bytes(chunk.data);
    }
    const child = this.child;
    const body = child.expect(child.call(writer.finish(), what), Answer.spilled, what);
    const drained: number[] = [];
    const ids: bigint[] = [];
    try {
      const drainedCount = body.u32();
      for (let k = 0; k < drainedCount; k += 1) drained.push(body.u32());
      const handleCount = body.u32();
      for (let k = 0; k < handleCount; k += 1) ids.push(body.u64());
      body.end();
    } catch (error) {
      if (error instanceof ProtocolError) child.fail(error.message, what);
      throw error;
    }
    const seen = new Set<number>();
    for (const index of drained) {
      if (index >= chunks.length) child.fail(`answered that it drained chunk index ${index} of ${chunks.length} chunks`, what);
      if (seen.has(index)) child.fail(`answered that it drained chunk index ${index} twice`, what);
      seen.add(index);
    }
    // Remove the drained chunks where they stood; the rest keep their order.
    const kept = chunks.filter((_, k) => !seen.has(k));
    chunks.splice(0, chunks.length, ...kept);
    for (const id of ids) handles.push(new ExecHandle(this, id));
  }

  /** STATS: what the instance holds. */
  stats(): StorageStats {
    const what = 'stats()';
    const child = this.child;
    const body = child.expect(child.call(new FrameWriter(Request.stats).u32(this.instance).finish(), what), Answer.stats, what);
    try {
      const storedBytes = body.u64();
      const storedChunks = body.u64();
      body.end();
      return { storedBytes: Number(storedBytes), storedChunks: Number(storedChunks) };
    } catch (error) {
      if (error instanceof ProtocolError) child.fail(error.message, what);
      throw error;
    }
  }

  /** FETCH of one handle id: its chunks, or the handle to retry with. */
  fetchHandle(handle: ExecHandle): FetchResult {
    const what = `fetch of handle id ${handle.id}`;
    const fails = this.#supports.failingFetch && this.#faults.failRead();
    const child = this.child;
    const request = new FrameWriter(Request.fetch).u32(this.instance).u32(fails ? FAULT_FAIL_READ : 0).u64(handle.id).finish();
    const frame = child.call(request, what);
    const body = child.expect(frame, Answer.fetched, what, Answer.fetchFailed);
    try {
      if (frame.kind === Answer.fetchFailed) {
        const retryId = body.u64();
        body.end();
        return { ok: false, handle: retryId === handle.id ? handle : new ExecHandle(this, retryId) };
      }
      const count = body.u32();
      const out: Bytes[] = [];
      for (let k = 0; k < count; k += 1) out.push(Bytes.from(body.bytes(body.u32())));
      body.end();
      return { ok: true, chunks: out };
    } catch (error) {
      if (error instanceof ProtocolError) child.fail(error.message, what);
      throw error;
    }
  }
}

/** A handle id in a child; `fetch` asks the child for it. */
export class ExecHandle implements BytesFetch {
  readonly id: bigint;
  readonly #spill: ExecSpill;

  constructor(spill: ExecSpill, id: bigint) {
    this.#spill = spill;
    this.id = id;
  }

  fetch(): FetchResult {
    return this.#spill.fetchHandle(this);
  }

  toString(): string {
    return `handle ${this.id} of instance ${this.#spill.instance}`;
  }
}
