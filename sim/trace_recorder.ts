import type { TraceStep } from './trace.js';

/** Seeds of the two hash lanes: an empty run still has a well-defined hash. */
const LANE_A_SEED = 0x5b1e_5157;
const LANE_B_SEED = 0x7ace_0001;

/**
 * A rolling 64-bit hash of a run: every step feeds its fields (numbers, and strings by their
 * characters) into two 32-bit lanes, so one differing field anywhere changes every hash after it
 * and two runs compare by their last hash. Mixing is a few integer multiplies per field and
 * allocates nothing, so every run keeps one whether or not it records its trace; a recorded
 * run and an unrecorded run of the same seed end with the same hash. It detects divergence;
 * it is not a cryptographic digest.
 */
export class RollingHash {
  #a = LANE_A_SEED;
  #b = LANE_B_SEED;

  /** Feed a whole number (any safe integer; negative and fractional values are folded in too). */
  mix(value: number): void {
    const lo = value | 0;
    // The high word: 0 for the usual small non-negative whole number, without a division.
    const hi = value >>> 0 === value ? 0 : Math.floor(value / 4_294_967_296) | 0;
    let a = this.#a ^ lo;
    a = Math.imul(a, 0x85eb_ca6b);
    a = (a << 13) | (a >>> 19);
    this.#a = (Math.imul(a, 5) + 0xe654_6b64) | 0;
    let b = this.#b ^ Math.imul(lo, 0x9e37_79b1) ^ hi;
    b = Math.imul(b, 0xc2b2_ae35);
    b = (b << 15) | (b >>> 17);
    this.#b = (Math.imul(b, 5) + 0x561c_cd1b + this.#a) | 0;
  }

  /** Feed a string, character by character, then its length (so `ab`,`c` differs from `a`,`bc`). */
  mixString(text: string): void {
    // `mix` of each character code, with the lanes in locals (a code is a small whole number, so its high word is 0).
    let laneA = this.#a;
    let laneB = this.#b;
    for (let i = 0; i < text.length; i += 1) {
      const lo = text.charCodeAt(i);
      let a = laneA ^ lo;
      a = Math.imul(a, 0x85eb_ca6b);
      a = (a << 13) | (a >>> 19);
      laneA = (Math.imul(a, 5) + 0xe654_6b64) | 0;
      let b = laneB ^ Math.imul(lo, 0x9e37_79b1);
      b = Math.imul(b, 0xc2b2_ae35);
      b = (b << 15) | (b >>> 17);
      laneB = (Math.imul(b, 5) + 0x561c_cd1b + laneA) | 0;
    }
    this.#a = laneA;
    this.#b = laneB;
    this.mix(text.length);
  }

  /** 16 hex digits. */
  hex(): string {
    return (this.#a >>> 0).toString(16).padStart(8, '0') + (this.#b >>> 0).toString(16).padStart(8, '0');
  }
}

/**
 * Keeps the steps a run was asked to record: none (the run keeps only its rolling hash, so its
 * memory does not grow with its length), the last `tailSteps` (a ring), or all of them.
 */
export class TraceRecorder {
  readonly #keepAll: boolean;
  readonly #tailSteps: number;
  readonly #steps: TraceStep[] = [];
  /** Ring position of the oldest tail step, once the ring is full. */
  #ringStart = 0;

  constructor(options: { keepAll: boolean; tailSteps: number }) {
    this.#keepAll = options.keepAll;
    this.#tailSteps = options.tailSteps;
  }

  record(step: TraceStep): void {
    if (this.#keepAll || this.#steps.length < this.#tailSteps) {
      this.#steps.push(step);
      return;
    }
    this.#steps[this.#ringStart] = step;
    this.#ringStart = (this.#ringStart + 1) % this.#tailSteps;
  }

  /** Every recorded step in order (all of them, or the last `tailSteps`). */
  steps(): TraceStep[] {
    if (this.#ringStart === 0) return this.#steps.slice();
    return [...this.#steps.slice(this.#ringStart), ...this.#steps.slice(0, this.#ringStart)];
  }

  /** The last `tailSteps` recorded steps. */
  tail(): TraceStep[] {
    return this.steps().slice(-this.#tailSteps);
  }
}
