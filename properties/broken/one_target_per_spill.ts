import type { EntryDeque } from '../../src/entry_deque.js';
import { type BytesSpill, pagedEntry, type SpillPolicy } from '../../src/spill.js';
import { spillChecked } from '../../src/threshold.js';

/**
 * BROKEN on purpose (memory-bound suite): a threshold policy that pages out only the first
 * target per call, so resident bytes creep past the bound when writes outpace it.
 */
export class OneTargetPerSpill implements SpillPolicy {
  readonly strategy: BytesSpill;
  readonly thresholdBytes: number;
  readonly headReserveBytes: number;

  constructor(strategy: BytesSpill, options: { thresholdBytes: number; headReserveBytes: number }) {
    this.strategy = strategy;
    this.thresholdBytes = options.thresholdBytes;
    this.headReserveBytes = options.headReserveBytes;
  }

  apply(deque: EntryDeque): void {
    if (deque.residentBytes <= this.headReserveBytes + this.thresholdBytes) return;
    let runningBytes = 0;
    for (let i = 0; i + 1 < deque.length; i += 1) {
      const entry = deque.get(i);
      if (entry.kind !== 'bytes') continue;
      if (runningBytes >= this.headReserveBytes) {
        // The bug: stop after the first target instead of collecting them all.
        const handles = spillChecked(this.strategy, [entry.bytes.clone()]);
        if (handles.length === 1) deque.set(i, pagedEntry(handles[0]!));
        return;
      }
      runningBytes += entry.bytes.length;
    }
  }
}
