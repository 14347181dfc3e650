import type { EntryDeque } from '../../src/entry_deque.js';
import { bytesEntry, type SpillPolicy } from '../../src/spill.js';

/**
 * BROKEN on purpose (small-scope exhaustive suite): a reader policy that, when a fetch fails,
 * forgets the handle instead of putting it back for a retry, so those bytes are lost.
 */
export class PrefetchDropsFailed implements SpillPolicy {
  readonly budget: number;

  constructor(budget: number) {
    this.budget = budget;
  }

  apply(deque: EntryDeque): void {
    let seenBytes = 0;
    for (let i = 0; i < deque.length && seenBytes < this.budget; ) {
      const entry = deque.get(i);
      if (entry.kind === 'bytes') {
        seenBytes += entry.bytes.length;
        i += 1;
        continue;
      }
      const result = entry.handle.fetch();
      deque.remove(i);
      // The bug: a failed fetch's handle is dropped here instead of being put back.
      if (!result.ok) return;
      for (let k = 0; k < result.chunks.length; k += 1) deque.insert(i + k, bytesEntry(result.chunks[k]!));
      for (const chunk of result.chunks) seenBytes += chunk.length;
      i += result.chunks.length;
    }
  }
}
