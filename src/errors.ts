/** Stable error codes: tools and tests match on `code`, people read `message`. */
export type SpillsimErrorCode =
  | 'E_POISONED'
  | 'E_DROPPED'
  | 'E_BACKEND_CONTRACT'
  | 'E_BAD_KNOB'
  | 'E_BAD_ARGUMENT'
  | 'E_BAD_INPUT'
  | 'E_STORAGE';

/** Base of every error spillsim throws on purpose; a Rust `panic!` of the reference becomes one. */
export class SpillsimError extends Error {
  readonly code: SpillsimErrorCode;
  constructor(code: SpillsimErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SpillsimError';
    this.code = code;
  }
}

/** The shared state was poisoned by a panic on the other handle (the reference's poison flag). */
export class PoisonedError extends SpillsimError {
  constructor(what: string) {
    super('E_POISONED', `MergeQueue poisoned: ${what}; the other end panicked, so this queue can no longer be trusted`);
    this.name = 'PoisonedError';
  }
}

/** A backend broke the BytesSpill/BytesFetch contract; the queue refuses to guess, so no byte is lost or doubled. */
export class BackendContractError extends SpillsimError {
  constructor(message: string) {
    super('E_BACKEND_CONTRACT', message);
    this.name = 'BackendContractError';
  }
}

/** Check a byte-count knob: a non-negative safe integer, or a clear error naming the knob. */
export function checkByteKnob(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new SpillsimError('E_BAD_KNOB', `${name} must be a non-negative whole number of bytes, got ${String(value)}`);
  }
  return value;
}

/** Bad usage or bad input to a command or a harness entry point: the command prints the one-line message and exits 2. */
export class UsageError extends SpillsimError {
  constructor(message: string) {
    super('E_BAD_INPUT', message);
    this.name = 'UsageError';
  }
}
