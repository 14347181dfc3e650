import seedrandom from 'seedrandom';

/** Anything that yields uniform numbers in [0, 1); what `FaultySpill` needs from a random stream. */
export interface RandomSource {
  next(): number;
}

/**
 * The simulator's only source of randomness: a `seedrandom` (Alea) stream derived from the
 * run's seed. Each part of a run (scheduler, workload, each queue's faults) forks its own named
 * sub-stream, so adding a draw in one part does not shift the choices of every other part.
 */
export class SimRng implements RandomSource {
  /**
   * Alea's state `s0, s1, s2, c`, seeded by `seedrandom` and stepped here: the same numbers as
   * its `alea()` stream, but held in a typed array, where the library's object fields box each
   * new double (an allocation per draw, and a closure call).
   */
  readonly #state: Float64Array;
  /** The string this stream was seeded from, e.g. `7/faults/q0`; it names the stream in errors. */
  readonly label: string;

  constructor(seed: number | string) {
    this.label = String(seed);
    const seeded = seedrandom.alea(this.label, { state: true }).state();
    this.#state = Float64Array.of(seeded.s0, seeded.s1, seeded.s2, seeded.c);
  }

  /** One step of Alea, exactly as `seedrandom`'s `alea.js` takes it. */
  #prng(): number {
    const s = this.#state;
    const t = 2091639 * s[0]! + s[3]! * 2.3283064365386963e-10; // 2^-32
    s[0] = s[1]!;
    s[1] = s[2]!;
    const c = t | 0;
    s[3] = c;
    const r = t - c;
    s[2] = r;
    return r;
  }

  /** A sub-stream that depends only on this stream's label and `name`, never on draws so far. */
  fork(name: string): SimRng {
    return new SimRng(`${this.label}/${name}`);
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.#prng();
  }

  /** Uniform whole number in [min, max] (both inclusive). */
  int(min: number, max: number): number {
    return min + Math.floor(this.#prng() * (max - min + 1));
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.#prng() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError(`pick from an empty list (stream ${this.label})`);
    return items[Math.floor(this.#prng() * items.length)]!;
  }

  /** A size drawn log-uniformly in [min, max], so tiny and large values are both common. */
  logInt(min: number, max: number): number {
    return this.logIntWithin(min, max, Math.log(min), Math.log(max + 1));
  }

  /** `logInt` with `Math.log(min)` and `Math.log(max + 1)` given (callers that draw often take them once). */
  logIntWithin(min: number, max: number, logMin: number, logMaxPlusOne: number): number {
    return Math.min(max, Math.max(min, Math.floor(Math.exp(logMin + this.#prng() * (logMaxPlusOne - logMin)))));
  }
}
