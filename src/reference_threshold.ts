import type { Bytes } from './bytes.js';
import type { EntryDeque } from './entry_deque.js';
import { type BytesFetch, pagedEntry } from './spill.js';
import { ThresholdKnobs } from './threshold_knobs.js';

/**
 * The reference `Threshold`, line for line: it recomputes resident bytes over the whole deque
 * on every call and pairs targets with whatever handles the backend returned, in order,
 * without checking their number. Kept as the oracle the fast `Threshold` is tested against,
 * and so the simulator can show what the reference does with a backend that breaks the contract.
 */
export class ReferenceThreshold extends ThresholdKnobs {
  apply(deque: EntryDeque): void {
    let residentBytes = 0;
    for (const entry of deque) if (entry.kind === 'bytes') residentBytes += entry.bytes.length;
    if (residentBytes <= this.headReserveBytes + this.thresholdBytes) return;

    const targets: number[] = [];
    const chunks: Bytes[] = [];
    let runningBytes = 0;
    for (let i = 0; i + 1 < deque.length; i += 1) {
      const entry = deque.get(i);
      if (entry.kind !== 'bytes') continue;
      if (runningBytes >= this.headReserveBytes) {
        targets.push(i);
        chunks.push(entry.bytes.clone());
      }
      runningBytes += entry.bytes.length;
    }
    if (targets.length === 0) return;

    const handles: BytesFetch[] = [];
    this.strategy.spill(chunks, handles);
    const paired = Math.min(targets.length, handles.length);
    for (let k = 0; k < paired; k += 1) deque.set(targets[k]!, pagedEntry(handles[k]!));
  }
}
