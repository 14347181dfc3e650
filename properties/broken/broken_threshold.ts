import type { Bytes } from '../../src/bytes.js';
import type { EntryDeque } from '../../src/entry_deque.js';
import { type BytesSpill, pagedEntry } from '../../src/spill.js';
import type { SpillPolicy } from '../../src/spill_policy.js';
import { spillChecked } from '../../src/threshold.js';

/**
 * BROKEN on purpose: the reference `Threshold` with one bug, so a suite can be seen to fail.
 * - `'one-target-per-spill'` (memory bound): pages out only the first target per write, so
 *   resident bytes creep past the bound when writes outpace it.
 * - `'reserve-off-by-one'` (differential): keeps an entry in the head reserve when the bytes
 *   before it exactly fill the reserve (`>` where the reference has `>=`). Memory stays
 *   bounded, so only the entry-for-entry comparison with the reference catches it.
 */
export type ThresholdBug = 'one-target-per-spill' | 'reserve-off-by-one';

export class BrokenThreshold implements SpillPolicy {
  readonly strategy: BytesSpill;
  readonly thresholdBytes: number;
  readonly headReserveBytes: number;
  readonly bug: ThresholdBug;

  constructor(strategy: BytesSpill, options: { thresholdBytes: number; headReserveBytes: number }, bug: ThresholdBug) {
    this.strategy = strategy;
    this.thresholdBytes = options.thresholdBytes;
    this.headReserveBytes = options.headReserveBytes;
    this.bug = bug;
  }

  apply(deque: EntryDeque): void {
    if (deque.residentBytes <= this.headReserveBytes + this.thresholdBytes) return;
    const targets: number[] = [];
    const chunks: Bytes[] = [];
    let runningBytes = 0;
    for (let i = 0; i + 1 < deque.length; i += 1) {
      const entry = deque.get(i);
      if (entry.kind !== 'bytes') continue;
      const pastReserve = this.bug === 'reserve-off-by-one' ? runningBytes > this.headReserveBytes : runningBytes >= this.headReserveBytes;
      if (pastReserve) {
        targets.push(i);
        chunks.push(entry.bytes.clone());
        if (this.bug === 'one-target-per-spill') break;
      }
      runningBytes += entry.bytes.length;
    }
    if (targets.length === 0) return;
    const handles = spillChecked(this.strategy, chunks);
    for (let k = 0; k < handles.length; k += 1) deque.set(targets[k]!, pagedEntry(handles[k]!));
  }
}
