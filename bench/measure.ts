/**
 * Timing for benchmarks that report ratios. Machines here are shared and noisy, so no figure
 * is an absolute speed: each is a ratio of rates measured in the same run, with the cases
 * interleaved round by round (noise hits all of them alike) and the median over rounds kept.
 */

export interface MeasureOptions {
  /** Rounds thrown away first, so the JIT has compiled the hot paths. */
  warmupRounds: number;
  /** Rounds timed; each case's figure is its median over them. */
  rounds: number;
  /** Time each case runs per round, in milliseconds (a case keeps running batches until then). */
  roundMs: number;
}

/** A case: `prepare` builds one batch of work, untimed; `run` does it, timed, and returns units done. */
export interface TimedCase<T = unknown> {
  name: string;
  prepare: () => T;
  run: (batch: T) => number;
  /** Called once after the last round (close files, drop queues). */
  finish?: () => void;
}

/** Any case, whatever its batch type (each case's `run` takes what its own `prepare` built). */
export interface AnyTimedCase {
  name: string;
  prepare: () => unknown;
  run: (batch: never) => number;
  finish?: () => void;
}

export interface CaseRate {
  name: string;
  /** Median over rounds of units per second (all the time `run` took, divided into all the units). */
  unitsPerSecond: number;
  /**
   * Median over rounds of each round's median batch rate: the typical batch, robust to a batch
   * that was descheduled mid-way on a loaded machine (but blind to a GC pause, which the first counts).
   */
  typicalUnitsPerSecond: number;
  /** Every round's rate, for the JSON output. */
  roundUnitsPerSecond: number[];
  unitsTimed: number;
}

/** Batches per case per round at most, so a case that does nothing cannot spin forever. */
const BATCHES_PER_ROUND_MAX = 10_000_000;

/**
 * Run every case for `roundMs` per round, interleaved, and return each one's median rate.
 * Batches are prepared outside the timed span; only `run` is on the clock.
 */
export function measureRates(cases: ReadonlyArray<AnyTimedCase>, options: MeasureOptions): CaseRate[] {
  const rates = cases.map(() => [] as number[]);
  const typicalRates = cases.map(() => [] as number[]);
  const units = cases.map(() => 0);
  const roundNs = BigInt(Math.round(options.roundMs * 1e6));
  for (let round = 0; round < options.warmupRounds + options.rounds; round += 1) {
    cases.forEach((c, k) => {
      let elapsedNs = 0n;
      let done = 0;
      const batchRates: number[] = [];
      for (let batch = 0; elapsedNs < roundNs; batch += 1) {
        if (batch >= BATCHES_PER_ROUND_MAX) throw new Error(`benchmark case ${c.name} did ${BATCHES_PER_ROUND_MAX} batches in one round without using its time`);
        const work = c.prepare();
        const start = process.hrtime.bigint();
        const batchUnits = c.run(work as never);
        const batchNs = process.hrtime.bigint() - start;
        done += batchUnits;
        elapsedNs += batchNs;
        batchRates.push((batchUnits * 1e9) / Math.max(1, Number(batchNs)));
      }
      if (round >= options.warmupRounds) {
        rates[k]!.push((done * 1e9) / Number(elapsedNs));
        typicalRates[k]!.push(median(batchRates));
        units[k]! += done;
      }
    });
  }
  for (const c of cases) c.finish?.();
  return cases.map((c, k) => ({
    name: c.name,
    unitsPerSecond: median(rates[k]!),
    typicalUnitsPerSecond: median(typicalRates[k]!),
    roundUnitsPerSecond: rates[k]!,
    unitsTimed: units[k]!,
  }));
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** How many times faster `a` is than `b` (both rates). */
export function speedRatio(aPerSecond: number, bPerSecond: number): number {
  return aPerSecond / bPerSecond;
}

export function rateOf(rates: readonly CaseRate[], name: string, which: 'throughput' | 'typical' = 'throughput'): number {
  const found = rates.find((r) => r.name === name);
  if (found === undefined) throw new Error(`no benchmark case named ${name}`);
  return which === 'throughput' ? found.unitsPerSecond : found.typicalUnitsPerSecond;
}
