import type { VirtualClock } from './clock.js';
import type { SimRng } from './rng.js';

export type ActorState = 'runnable' | 'parked' | 'finished';

/** What the scheduler keeps per actor: its state and its park token. */
export interface ActorSlot {
  readonly name: string;
  /** Position in `slots` (the order actors were added). */
  readonly index: number;
  state: ActorState;
  /** A buzz arrived while the actor ran; its next park returns at once (a thread's park token). */
  buzzPending: boolean;
  /** Step at which the actor last ran (or became runnable); for the fairness bound. */
  lastRunStep: number;
  /** Relative chance to be picked; 0 means "only when nobody else can run" (e.g. a reader held back until the writer is done). */
  weight: () => number;
}

export interface SchedulerOptions {
  /** A runnable actor with weight > 0 is never passed over for more than this many steps. */
  fairnessSteps: number;
  /** Chance that the actor that just ran runs again, which makes bursts. */
  burstChance: number;
}

/**
 * Picks the next actor from the seed and models park/buzz like a thread's park token: a buzz to
 * a running actor is remembered and its next park returns at once; a parked actor wakes on a buzz.
 */
export class Scheduler {
  readonly #slots: ActorSlot[] = [];
  readonly #byName = new Map<string, ActorSlot>();
  readonly #rng: SimRng;
  readonly #clock: VirtualClock;
  #options: SchedulerOptions;
  #last: ActorSlot | undefined;
  /** Slots in state `finished` (a slot never leaves it). */
  #finishedCount = 0;
  /** `#choose`'s scratch: each slot's weight this step. */
  #weights = new Float64Array(0);
  /** Buzzes (and timer wakes) since the counter was last read; the trace records them per step. */
  buzzesThisStep = 0;

  constructor(rng: SimRng, clock: VirtualClock, options: SchedulerOptions) {
    this.#rng = rng;
    this.#clock = clock;
    this.#options = options;
  }

  add(name: string, weight: () => number = () => 1): ActorSlot {
    if (this.#byName.has(name)) throw new Error(`actor ${name} added twice`);
    const slot: ActorSlot = { name, index: this.#slots.length, state: 'runnable', buzzPending: false, lastRunStep: 0, weight };
    this.#slots.push(slot);
    this.#byName.set(name, slot);
    return slot;
  }

  /** Set once the actors are known (the bound depends on how many there are). */
  setFairnessSteps(fairnessSteps: number): void {
    this.#options = { ...this.#options, fairnessSteps };
  }

  get slots(): readonly ActorSlot[] {
    return this.#slots;
  }

  slot(name: string): ActorSlot {
    const slot = this.#byName.get(name);
    if (slot === undefined) throw new Error(`no actor named ${name}`);
    return slot;
  }

  /** Wake `actor` (a name, or its slot), or leave a token for its next park when it is running. */
  buzz(actor: string | ActorSlot, step: number): void {
    const slot = typeof actor === 'string' ? this.slot(actor) : actor;
    this.buzzesThisStep += 1;
    if (slot.state === 'parked') {
      slot.state = 'runnable';
      slot.lastRunStep = step;
    } else if (slot.state === 'runnable') {
      slot.buzzPending = true;
    }
  }

  /** The actor asks to park: a pending token is consumed and it stays runnable. Returns true when it really parked. */
  park(actor: string | ActorSlot): boolean {
    const slot = typeof actor === 'string' ? this.slot(actor) : actor;
    if (slot.buzzPending) {
      slot.buzzPending = false;
      return false;
    }
    slot.state = 'parked';
    return true;
  }

  finish(actor: string | ActorSlot): void {
    const slot = typeof actor === 'string' ? this.slot(actor) : actor;
    if (slot.state !== 'finished') this.#finishedCount += 1;
    slot.state = 'finished';
    slot.buzzPending = false;
  }

  get allFinished(): boolean {
    return this.#finishedCount === this.#slots.length;
  }

  /**
   * The actor to run at `step`, or undefined when none can run even after jumping the clock to
   * the next timer (every live actor is parked and nothing will wake it).
   */
  next(step: number): ActorSlot | undefined {
    let runnable = this.#countRunnable();
    // Bounded: each jump consumes at least one timer.
    for (let jumps = 0; runnable === 0 && jumps <= this.#clock.pendingTimers; jumps += 1) {
      if (!this.#clock.jumpToNextTimer()) break;
      this.fireDueTimers(step);
      runnable = this.#countRunnable();
    }
    if (runnable === 0) return undefined;
    const chosen = this.#choose(runnable, step);
    chosen.lastRunStep = step;
    this.#last = chosen;
    return chosen;
  }

  #countRunnable(): number {
    let n = 0;
    for (const slot of this.#slots) if (slot.state === 'runnable') n += 1;
    return n;
  }

  /** Wake the actors whose timers are due. */
  fireDueTimers(step: number): void {
    if (!this.#clock.anyDue()) return;
    for (const event of this.#clock.takeDue()) {
      if (event.actor !== undefined && this.slot(event.actor).state !== 'finished') this.buzz(event.actor, step);
    }
  }

  /**
   * Picks among the `runnableCount` runnable slots, in slot order: fairness first, then a burst,
   * then a draw weighted by `weight()`; actors of weight 0 only when nobody else can run.
   * Allocates nothing (it runs once per step).
   */
  #choose(runnableCount: number, step: number): ActorSlot {
    const slots = this.#slots;
    // Each runnable slot's weight, asked once per step (0 for a slot that is not runnable).
    if (this.#weights.length !== slots.length) this.#weights = new Float64Array(slots.length);
    const weights = this.#weights;
    let eligible = 0;
    let total = 0;
    // Fairness first: the longest-starved eligible actor past the bound runs now.
    let starved: ActorSlot | undefined;
    for (let k = 0; k < slots.length; k += 1) {
      const slot = slots[k]!;
      weights[k] = 0;
      if (slot.state !== 'runnable') continue;
      const weight = slot.weight();
      if (!(weight > 0)) continue;
      weights[k] = weight;
      eligible += 1;
      total += weight;
      if (step - slot.lastRunStep > this.#options.fairnessSteps && (starved === undefined || slot.lastRunStep < starved.lastRunStep)) starved = slot;
    }
    if (eligible === 0) return this.#nthRunnable(Math.floor(this.#rng.next() * runnableCount));
    if (starved !== undefined) return starved;
    const last = this.#last;
    if (last !== undefined && weights[last.index]! > 0 && this.#rng.chance(this.#options.burstChance)) return last;
    let target = this.#rng.next() * total;
    let chosen: ActorSlot | undefined;
    for (let k = 0; k < slots.length; k += 1) {
      const weight = weights[k]!;
      if (!(weight > 0)) continue;
      chosen = slots[k]!;
      target -= weight;
      if (target < 0) return chosen;
    }
    return chosen!;
  }

  #nthRunnable(n: number): ActorSlot {
    let seen = 0;
    for (const slot of this.#slots) {
      if (slot.state !== 'runnable') continue;
      if (seen === n) return slot;
      seen += 1;
    }
    throw new Error(`no runnable actor number ${n}`);
  }
}
