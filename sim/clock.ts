/** A timer: at `tick`, wake `actor` (a network packet arrives, a slow fetch becomes ready). */
export interface TimerEvent {
  tick: number;
  /** Tie-breaker: timers set earlier fire first, so order never depends on anything but the run. */
  seq: number;
  /** The actor to wake, or undefined for a timer that only lets the checks look again. */
  actor: string | undefined;
}

/**
 * Virtual time. Every step costs one tick; when every actor is parked the scheduler jumps the
 * clock to the next timer instead of spinning, so latency costs ticks, never steps.
 */
export class VirtualClock {
  #nowTicks = 0;
  #seq = 0;
  // Kept sorted by (tick, seq); runs hold a handful of timers, so insertion is cheap.
  readonly #timers: TimerEvent[] = [];

  get nowTicks(): number {
    return this.#nowTicks;
  }

  get pendingTimers(): number {
    return this.#timers.length;
  }

  /** Schedule a timer `delayTicks` from now (at least one tick). */
  after(delayTicks: number, actor: string | undefined): void {
    const event: TimerEvent = { tick: this.#nowTicks + Math.max(1, delayTicks), seq: this.#seq++, actor };
    let i = this.#timers.length;
    while (i > 0 && this.#timers[i - 1]!.tick > event.tick) i -= 1;
    this.#timers.splice(i, 0, event);
  }

  advance(ticks: number): void {
    this.#nowTicks += ticks;
  }

  /** Jump to the next timer's tick (if it lies ahead); false when no timer is pending. */
  jumpToNextTimer(): boolean {
    const next = this.#timers[0];
    if (next === undefined) return false;
    if (next.tick > this.#nowTicks) this.#nowTicks = next.tick;
    return true;
  }

  /** True when some timer is due now (cheap: no allocation). */
  anyDue(): boolean {
    const first = this.#timers[0];
    return first !== undefined && first.tick <= this.#nowTicks;
  }

  /** Remove and return the timers that are due now, in order. */
  takeDue(): TimerEvent[] {
    let n = 0;
    while (n < this.#timers.length && this.#timers[n]!.tick <= this.#nowTicks) n += 1;
    return this.#timers.splice(0, n);
  }
}
