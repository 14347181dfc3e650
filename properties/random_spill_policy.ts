import type { Bytes } from '../src/bytes.js';
import type { EntryDeque } from '../src/entry_deque.js';
import { type BytesSpill, pagedEntry } from '../src/spill.js';
import type { SpillPolicy } from '../src/spill_policy.js';
import { spillChecked } from '../src/threshold.js';

/**
 * A writer policy that spills a pseudo-random subset of resident entries (never the last, the
 * merge target). Policy transparency says the consumer must not be able to tell it apart
 * from no spilling at all. Seeded, so a run is a pure function of its options.
 */
export class RandomSpillPolicy implements SpillPolicy {
  readonly strategy: BytesSpill;
  #state: number;

  constructor(strategy: BytesSpill, seed: number) {
    this.strategy = strategy;
    this.#state = (seed >>> 0) || 1;
  }

  apply(deque: EntryDeque): void {
    const targets: number[] = [];
    const chunks: Bytes[] = [];
    for (let i = 0; i + 1 < deque.length; i += 1) {
      const entry = deque.get(i);
      if (entry.kind === 'bytes' && this.#coin()) {
        targets.push(i);
        chunks.push(entry.bytes.clone());
      }
    }
    if (targets.length === 0) return;
    const handles = spillChecked(this.strategy, chunks);
    for (let k = 0; k < handles.length; k += 1) deque.set(targets[k]!, pagedEntry(handles[k]!));
  }

  // xorshift32: tiny and deterministic; quality is irrelevant here.
  #coin(): boolean {
    let x = this.#state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#state = x >>> 0;
    return (this.#state & 1) === 1;
  }
}
