import { checkOptionalFunction } from './arguments.js';

/**
 * Wakes the reader of a queue. In the reference it unparks a thread; here it counts, and calls
 * `onBuzz` at every buzz, which is how the simulator and tests observe wake-ups.
 */
export class Buzzer {
  #count = 0;
  readonly #onBuzz: (() => void) | undefined;

  /** `onBuzz`: optional, called at every buzz; anything else throws `E_BAD_ARGUMENT`. */
  constructor(onBuzz?: () => void) {
    this.#onBuzz = checkOptionalFunction('new Buzzer(onBuzz): onBuzz', onBuzz);
  }

  buzz(): void {
    this.#count += 1;
    this.#onBuzz?.();
  }

  /** Buzzes so far. */
  get count(): number {
    return this.#count;
  }
}
