import { checkByteKnob } from './errors.js';

export const MiB = 1024 * 1024;

/** The writer policy's knobs; defaults are the reference's. */
export interface ThresholdOptions {
  /** Resident bytes allowed beyond the head reserve before spilling (default 256 MiB). */
  thresholdBytes?: number;
  /** Resident bytes at the front never spilled, so the reader finds data at hand (default 64 MiB). */
  headReserveBytes?: number;
}

export const THRESHOLD_BYTES_DEFAULT = 256 * MiB;
export const HEAD_RESERVE_BYTES_DEFAULT = 64 * MiB;

export function thresholdKnobs(options: ThresholdOptions): { thresholdBytes: number; headReserveBytes: number } {
  return {
    thresholdBytes: checkByteKnob('thresholdBytes', options.thresholdBytes ?? THRESHOLD_BYTES_DEFAULT),
    headReserveBytes: checkByteKnob('headReserveBytes', options.headReserveBytes ?? HEAD_RESERVE_BYTES_DEFAULT),
  };
}
