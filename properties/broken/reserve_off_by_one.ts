import type { Bytes } from '../../src/bytes.js';
import type { EntryDeque } from '../../src/entry_deque.js';
import { type BytesSpill, pagedEntry, type SpillPolicy } from '../../src/spill.js';
import { spillChecked } from '../../src/threshold.js';

/**
 * BROKEN on purpose (differential suite): a threshold policy that keeps an entry in the head
 * reserve when the bytes before it exactly fill the reserve (`>` where the reference has `>=`).
 * Memory stays bounded, so only the entry-for-entry comparison with the reference catches it.
 */
export class ReserveOffByOne implements SpillPolicy {
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
    const targets: number[] = [];
    const chunks: Bytes[] = [];
    let runningBytes = 0;
    for (let i = 0; i + 1 < deque.length; i += 1) {
      const entry = deque.get(i);
      if (entry.kind !== 'bytes') continue;
      // The bug: `>` here; the reference spills once the bytes before reach the reserve.
      if (runningBytes > this.headReserveBytes) {
        targets.push(i);
        chunks.push(entry.bytes.clone());
      }
      runningBytes += entry.bytes.length;
    }
    if (targets.length === 0) return;
    const handles = spillChecked(this.strategy, chunks);
    for (let k = 0; k < handles.length; k += 1) deque.set(targets[k]!, pagedEntry(handles[k]!));
  }
}
