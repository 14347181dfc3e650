import type { EntryDeque } from '../../src/entry_deque.js';
import { bytesEntry } from '../../src/spill.js';
import type { SpillPolicy } from '../../src/spill_policy.js';

/**
 * BROKEN on purpose: `PrefetchPolicy`'s walk with one bug, so a suite can be seen to fail.
 * - `'out-of-order'` (ordering, end to end): fetched chunks go back one entry too late, behind
 *   the entry that followed them.
 * - `'drops-failed'` (small-scope exhaustive): a handle whose fetch failed is forgotten instead
 *   of put back for a retry, so its bytes are lost.
 */
export type PrefetchBug = 'out-of-order' | 'drops-failed';

export class BrokenPrefetch implements SpillPolicy {
  readonly budget: number;
  readonly bug: PrefetchBug;

  constructor(budget: number, bug: PrefetchBug) {
    this.budget = budget;
    this.bug = bug;
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
      if (!result.ok) {
        if (this.bug === 'drops-failed') deque.remove(i);
        return;
      }
      deque.remove(i);
      const at = this.bug === 'out-of-order' && i < deque.length ? i + 1 : i;
      for (let k = 0; k < result.chunks.length; k += 1) deque.insert(at + k, bytesEntry(result.chunks[k]!));
      for (const chunk of result.chunks) seenBytes += chunk.length;
      i = at + result.chunks.length;
    }
  }
}
