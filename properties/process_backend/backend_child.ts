import { ClauseBroken, ClauseTimedOut } from '../conformance/clause.js';
import { ChildPipes } from './child_pipes.js';
import {
  Answer,
  answerName,
  BodyReader,
  type Frame,
  FrameWriter,
  parseHeader,
  PROTOCOL_VERSION_MAX,
  PROTOCOL_VERSION_MIN,
  ProtocolError,
  Request,
  SUPPORTS_BITS,
} from './protocol.js';

/** Lines of the child's stderr shown under a failure. */
const LOG_LINES_SHOWN_MAX = 12;
/** How long a child may take to exit after BYE and the end of its stdin. */
const EXIT_GRACE_MS = 2000;

/** What the child declared in its READY answer. */
export interface ChildReady {
  version: number;
  supports: { partialSpill: boolean; failingFetch: boolean; stats: boolean };
  name: string;
}

/** The child broke the protocol or went away: the message is the one-line reason, then its stderr. */
export class ChildFailed extends ClauseBroken {
  constructor(message: string) {
    super(message);
    this.name = 'ChildFailed';
  }
}

/** The child did not answer in time and was killed. */
export class ChildTimedOut extends ClauseTimedOut {
  constructor(message: string) {
    super(message);
    this.name = 'ChildTimedOut';
  }
}

/** The backend in the child panicked (a PANIC answer): thrown as an Error, as a JavaScript backend's panic is. */
export class BackendPanic extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackendPanic';
  }
}

/**
 * One child process speaking the protocol, driven synchronously: `call` sends a request frame
 * and returns the answer frame. Anything that is not a well-formed answer (the child exits, hangs,
 * writes garbage or a frame of the wrong length) becomes a `ChildFailed`/`ChildTimedOut` whose
 * message says what happened, with the tail of the child's stderr; the child is then gone.
 */
/** The least time a program gets to answer the handshake, in ms, whatever the limit per call. */
const HANDSHAKE_MS_MIN = 10_000;

export class BackendChild {
  readonly pid: number;
  readonly #pipes: ChildPipes;
  readonly #timeoutMs: number;
  readonly #label: string;
  /** Why the child can no longer be used (it failed, or was ended). */
  gone: string | undefined;
  /** Everything the child wrote to stderr, as of its last answer about it. */
  log = '';

  constructor(argv: readonly string[], timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
    this.#label = argv[0]!;
    this.#pipes = new ChildPipes(argv);
    this.pid = this.#pipes.pid;
  }

  /**
   * HELLO → READY: the version both speak and what the backend supports. The program's start
   * (a runtime loading, a JIT warming up) is not a backend call: the answer may take
   * HANDSHAKE_MS_MIN even when the limit per call is shorter.
   */
  handshake(): ChildReady {
    const hello = new FrameWriter(Request.hello).u32(PROTOCOL_VERSION_MIN).u32(PROTOCOL_VERSION_MAX).finish();
    const frame = this.call(hello, 'the handshake (HELLO)', Math.max(this.#timeoutMs, HANDSHAKE_MS_MIN));
    const body = this.expect(frame, Answer.ready, 'the handshake (HELLO)');
    const version = body.u32();
    const bits = body.u32();
    const name = body.rest();
    if (version < PROTOCOL_VERSION_MIN || version > PROTOCOL_VERSION_MAX) {
      this.fail(`answered the handshake with protocol version ${version}; spillsim speaks ${PROTOCOL_VERSION_MIN}..${PROTOCOL_VERSION_MAX}`);
    }
    const known = SUPPORTS_BITS.partialSpill | SUPPORTS_BITS.failingFetch | SUPPORTS_BITS.stats;
    if ((bits & ~known) !== 0) this.fail(`declared unknown supports bits 0x${(bits & ~known).toString(16)} in READY (version ${version} knows 0x${known.toString(16)})`);
    return {
      version,
      name,
      supports: {
        partialSpill: (bits & SUPPORTS_BITS.partialSpill) !== 0,
        failingFetch: (bits & SUPPORTS_BITS.failingFetch) !== 0,
        stats: (bits & SUPPORTS_BITS.stats) !== 0,
      },
    };
  }

  /** One request, one answer frame; `what` names the request in a failure ("spill of 3 chunks"). */
  call(request: Uint8Array, what: string, timeoutMs = this.#timeoutMs): Frame {
    if (this.gone !== undefined) throw new ChildFailed(`${what}: the child ${this.gone}`);
    const answer = this.#pipes.exchange(request, timeoutMs);
    if (!answer.ok && answer.timedOut) {
      const killed = this.#kill();
      this.gone = `did not answer ${what} within ${timeoutMs} ms`;
      throw new ChildTimedOut(this.#withLog(`${what}: the child (${this.#label}, pid ${this.pid}) ${answer.reason} (it sent ${killed}); it was killed`));
    }
    if (!answer.ok) {
      this.gone = answer.reason;
      // It may still be running (garbage, a frame cut short while it lives on): end it either way.
      this.#kill();
      throw new ChildFailed(this.#withLog(`${what}: the child (${this.#label}) ${this.gone}`));
    }
    const frame = answer.frame!;
    const { kind, bodyBytes } = this.#header(frame, what);
    return { kind, body: frame.subarray(8, 8 + bodyBytes) };
  }

  /** The body of an answer of the expected kind; PANIC becomes a `BackendPanic`, anything else a failure. */
  expect(frame: Frame, kind: number, what: string, alternative?: number): BodyReader {
    if (frame.kind === kind || frame.kind === alternative) return new BodyReader(frame);
    if (frame.kind === Answer.panic) throw new BackendPanic(new BodyReader(frame).rest());
    if (frame.kind === Answer.error) this.fail(`answered ERROR: ${new BodyReader(frame).rest()}`, what);
    return this.fail(`answered ${answerName(frame.kind)} instead of ${answerName(kind)}${alternative === undefined ? '' : ` or ${answerName(alternative)}`}`, what);
  }

  /** The child broke the protocol: kill it and report. */
  fail(reason: string, what?: string): never {
    this.#kill();
    this.gone = reason;
    throw new ChildFailed(this.#withLog(`${what === undefined ? '' : `${what}: `}the child (${this.#label}) ${reason}`));
  }

  /**
   * BYE, then the end of its stdin; a child that does not exit within the grace time is killed.
   * Returns what went wrong (a non-zero exit), if anything.
   */
  end(): string | undefined {
    if (this.gone !== undefined) return undefined;
    let problem: string | undefined;
    try {
      const frame = this.call(new FrameWriter(Request.bye).finish(), 'BYE');
      this.expect(frame, Answer.ok, 'BYE');
    } catch (error) {
      problem = (error as Error).message;
    }
    this.gone = 'was ended';
    const ended = this.#pipes.end(EXIT_GRACE_MS);
    this.log = this.#pipes.log;
    if (problem !== undefined) return problem;
    if (ended.killed) return this.#withLog(`the child (${this.#label}) did not exit within ${EXIT_GRACE_MS} ms of BYE; it was killed`);
    if (ended.code !== 0) return this.#withLog(`the child (${this.#label}) exited with ${ended.signal ?? `code ${ended.code}`} after BYE`);
    return undefined;
  }

  /** Kill the child now (a hang, or broken framing); returns how far its answer had got. */
  #kill(): string {
    const progress = this.#pipes.kill();
    this.log = this.#pipes.log;
    return progress;
  }

  #header(frame: Uint8Array, what: string): { kind: number; bodyBytes: number } {
    try {
      return parseHeader(frame);
    } catch (error) {
      if (error instanceof ProtocolError) return this.fail(error.message, what);
      throw error;
    }
  }

  /** The message, then the last lines of the child's stderr (its log), indented under it. */
  #withLog(message: string): string {
    const lines = this.log.split('\n').filter((line) => line.trim() !== '');
    if (lines.length === 0) return message;
    const shown = lines.slice(-LOG_LINES_SHOWN_MAX);
    return [message, `        child stderr${lines.length > shown.length ? ` (last ${shown.length} lines)` : ''}:`, ...shown.map((l) => `          ${l}`)].join('\n');
  }
}
