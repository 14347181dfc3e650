import type { EntryDeque } from './entry_deque.js';

/**
 * Rewrites queue entries in place. The writer's policy runs after every `extend` (it pages
 * data out); the reader's runs before every `drainInto` (it pages data back in).
 */
export interface SpillPolicy {
  apply(deque: EntryDeque): void;
}

/** A factory of matched, fresh `[writer, reader]` policy pairs, called once per MergeQueue. */
export type SpillPolicyFn = () => [SpillPolicy, SpillPolicy];
