import type { EntryDeque } from '../../src/entry_deque.js';
import { bytesEntry, type SpillPolicy } from '../../src/spill.js';

/**
 * BROKEN on purpose (ordering suite): a reader policy that fetches a paged entry and puts its
 * chunks back one place too late, behind the entry that followed it. Kept so the ordering
 * property is seen to fail.
 */
export class PrefetchOutOfOrder implements SpillPolicy {
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
      if (!result.ok) return;
      deque.remove(i);
      // The bug: skip over the next entry before inserting.
      const at = i < deque.length ? i + 1 : i;
      for (let k = 0; k < result.chunks.length; k += 1) deque.insert(at + k, bytesEntry(result.chunks[k]!));
      for (const chunk of result.chunks) seenBytes += chunk.length;
      i = at + result.chunks.length;
    }
  }
}
