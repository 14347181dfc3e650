import { badArgument, checkOptions, describeValue, hasMethod } from './arguments.js';
import type { EntryDeque } from './entry_deque.js';
import { checkByteKnob } from './errors.js';
import type { BytesSpill } from './spill.js';
import type { SpillPolicy } from './spill_policy.js';

export const MiB = 1024 * 1024;

/** The writer policy's knobs; defaults are the reference's. */
export interface ThresholdOptions {
  /** Resident bytes allowed beyond the head reserve before spilling (default 256 MiB). */
  thresholdBytes?: number;
  /** Resident bytes at the front never spilled, so the reader finds data at hand (default 64 MiB). */
  headReserveBytes?: number;
}

const OPTION_NAMES: readonly (keyof ThresholdOptions)[] = ['thresholdBytes', 'headReserveBytes'];

export const THRESHOLD_BYTES_DEFAULT = 256 * MiB;
export const HEAD_RESERVE_BYTES_DEFAULT = 64 * MiB;

/**
 * What both threshold policies share: the strategy and the two public, mutable knobs, checked
 * on every write so a bad value fails where it is set rather than deep inside `apply`.
 *
 * The constructor throws `E_BAD_ARGUMENT` when `strategy` is not a `BytesSpill` (an object
 * with `spill`) or an option name is unknown (`threshold` suggests `thresholdBytes`), and
 * `E_BAD_KNOB` when a knob is not a non-negative whole number of bytes.
 */
export abstract class ThresholdKnobs implements SpillPolicy {
  readonly strategy: BytesSpill;
  #thresholdBytes: number;
  #headReserveBytes: number;

  constructor(strategy: BytesSpill, options?: ThresholdOptions) {
    const owner = new.target.name;
    if (!hasMethod(strategy, 'spill')) {
      throw badArgument(`new ${owner}(strategy, options) takes a BytesSpill (an object with a spill(chunks, handles) method, such as new MemorySpill()) as strategy, got ${describeValue(strategy)}`);
    }
    options = checkOptions(owner, options, OPTION_NAMES, '{ thresholdBytes: 33554432, headReserveBytes: 16777216 }');
    this.strategy = strategy;
    this.#thresholdBytes = checkByteKnob('thresholdBytes', options.thresholdBytes ?? THRESHOLD_BYTES_DEFAULT);
    this.#headReserveBytes = checkByteKnob('headReserveBytes', options.headReserveBytes ?? HEAD_RESERVE_BYTES_DEFAULT);
  }

  get thresholdBytes(): number {
    return this.#thresholdBytes;
  }

  set thresholdBytes(value: number) {
    this.#thresholdBytes = checkByteKnob('thresholdBytes', value);
  }

  get headReserveBytes(): number {
    return this.#headReserveBytes;
  }

  set headReserveBytes(value: number) {
    this.#headReserveBytes = checkByteKnob('headReserveBytes', value);
  }

  abstract apply(deque: EntryDeque): void;
}
