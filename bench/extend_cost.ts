import { Buzzer, Bytes, MergeQueue, ReferenceThreshold, type SpillPolicy, Threshold } from '../src/index.js';
import { KeepSpill } from './keep_spill.js';
import { type AnyTimedCase, measureRates, type MeasureOptions, rateOf, type TimedCase } from './measure.js';
import type { BenchOptions, BenchResult, Figure } from './report.js';

/**
 * Benchmark 1: the cost of `extend` + writer policy as the queue grows, for the fast
 * `Threshold` and the reference one. The queue is held at N entries: each timed batch extends
 * a few fresh chunks, and the next (untimed) preparation removes as many entries again.
 */

const CHUNK_BYTES = 64;
/** Resident chunks kept at the head, so the policy's reserve search does real work. */
const RESERVE_CHUNKS = 4;
/** Extends per timed batch; the queue grows by this much at most during one. */
const EXTENDS_PER_BATCH = 16;

type Variant = 'fast' | 'reference';
type Mode = 'spill' | 'no-spill';

function makePolicy(variant: Variant, mode: Mode): Threshold | ReferenceThreshold {
  const Policy = variant === 'fast' ? Threshold : ReferenceThreshold;
  // Spill mode: resident = reserve + old tail + new tail exceeds reserve + threshold, so every
  // extend spills exactly one chunk (the old tail). No-spill mode: the threshold is never reached.
  return new Policy(new KeepSpill(), {
    headReserveBytes: RESERVE_CHUNKS * CHUNK_BYTES,
    thresholdBytes: mode === 'spill' ? CHUNK_BYTES / 2 : Number.MAX_SAFE_INTEGER,
  });
}

/** A chunk of its own allocation, so it never coalesces with its neighbours. */
function freshChunk(): Bytes {
  return Bytes.from(new Uint8Array(CHUNK_BYTES));
}

function buildCase(variant: Variant, mode: Mode, entries: number): TimedCase<Bytes[]> {
  const policy = makePolicy(variant, mode);
  const spillThreshold = policy.thresholdBytes;
  // Fill with spilling off (one extend, one policy run), then switch the threshold on: one
  // spill pages out everything past the reserve but the tail — the steady state.
  policy.thresholdBytes = Number.MAX_SAFE_INTEGER;
  const [writer] = MergeQueue.newPair(new Buzzer(), policy as SpillPolicy);
  writer.extend(Array.from({ length: entries }, freshChunk));
  policy.thresholdBytes = spillThreshold;
  writer.extend([]);
  const deque = writer.deque;
  let added = 0;
  return {
    name: `${variant}/${mode}/${entries}`,
    prepare: () => {
      // The reader's side, untimed: take back the entries the last batch added, keeping N.
      for (; added > 0; added -= 1) {
        if (mode === 'spill') deque.remove(RESERVE_CHUNKS);
        else deque.popFront();
      }
      return Array.from({ length: EXTENDS_PER_BATCH }, freshChunk);
    },
    run: (chunks) => {
      for (const chunk of chunks) writer.extend([chunk]);
      added = chunks.length;
      return chunks.length;
    },
  };
}

export async function runExtendCost(options: BenchOptions): Promise<BenchResult> {
  const lengths = options.quick ? [100, 1_000, 5_000] : [100, 10_000, 100_000];
  const largest = lengths[lengths.length - 1]!;
  const measure: MeasureOptions = options.quick ? { warmupRounds: 1, rounds: 3, roundMs: 15 } : { warmupRounds: 1, rounds: 9, roundMs: 150 };
  const rows: BenchResult['rows'] = [];
  const figures: Figure[] = [];
  for (const mode of ['spill', 'no-spill'] as const) {
    options.log(`extend-cost: ${mode}, queues of ${lengths.join(' / ')} entries`);
    const cases: AnyTimedCase[] = [];
    for (const variant of ['fast', 'reference'] as const) for (const n of lengths) cases.push(buildCase(variant, mode, n));
    const rates = measureRates(cases, measure);
    for (const variant of ['fast', 'reference'] as const) {
      const base = rateOf(rates, `${variant}/${mode}/${lengths[0]}`);
      for (const n of lengths) {
        const rate = rateOf(rates, `${variant}/${mode}/${n}`);
        const typical = rateOf(rates, `${variant}/${mode}/${n}`, 'typical');
        const typicalBase = rateOf(rates, `${variant}/${mode}/${lengths[0]}`, 'typical');
        rows.push({
          policy: variant === 'fast' ? 'Threshold' : 'ReferenceThreshold',
          mode,
          'entries queued': n,
          'extends/s': rate,
          [`slowdown vs ${lengths[0]}`]: base / rate,
          'typical batch extends/s': typical,
          [`typical slowdown vs ${lengths[0]}`]: typicalBase / typical,
        });
      }
    }
    const fastSmall = rateOf(rates, `fast/${mode}/${lengths[0]}`);
    const fastLarge = rateOf(rates, `fast/${mode}/${largest}`);
    figures.push({
      name: `fast-${mode}-slowdown-${largest}-vs-${lengths[0]}`,
      description: `Threshold: extend rate at ${lengths[0]} entries / rate at ${largest} (${mode})`,
      value: fastSmall / fastLarge,
      unit: 'ratio',
      target: { op: '<=', value: 1.5 },
    });
    figures.push({
      name: `fast-${mode}-typical-slowdown-${largest}-vs-${lengths[0]}`,
      description: `the same from each round's median batch (robust to a batch descheduled on a loaded machine; blind to GC pauses)`,
      value: rateOf(rates, `fast/${mode}/${lengths[0]}`, 'typical') / rateOf(rates, `fast/${mode}/${largest}`, 'typical'),
      unit: 'ratio',
      target: { op: '<=', value: 1.5 },
    });
    figures.push({
      name: `fast-vs-reference-${mode}-${largest}`,
      description: `Threshold rate / ReferenceThreshold rate at ${largest} entries (${mode})`,
      value: fastLarge / rateOf(rates, `reference/${mode}/${largest}`),
      unit: 'ratio',
    });
  }
  return {
    name: 'extend-cost',
    title: '1. extend + writer policy vs queue length',
    columns: ['policy', 'mode', 'entries queued', 'extends/s', `slowdown vs ${lengths[0]}`, 'typical batch extends/s', `typical slowdown vs ${lengths[0]}`],
    rows,
    figures,
    notes: [
      `${CHUNK_BYTES}-byte chunks from separate allocations, one per extend; head reserve ${RESERVE_CHUNKS} chunks; in spill mode every extend spills one chunk (kept by reference, no I/O).`,
      `queue held at N entries: entries added by a batch of ${EXTENDS_PER_BATCH} extends are removed again, untimed, before the next batch.`,
      `median of ${measure.rounds} interleaved rounds of ${measure.roundMs} ms per case (after ${measure.warmupRounds} warm-up round). "extends/s" divides all timed extends by all timed time; "typical batch" is each round's median batch of ${EXTENDS_PER_BATCH}, which a loaded machine's preemption does not inflate.`,
    ],
  };
}
