/**
 * What one step of a network loop did.
 *
 * - `'progress'` — it moved bytes; step it again.
 * - `'park'` — nothing to do: the real thread would park until its buzzer is buzzed. Stepping
 *   it again before then is harmless (it will park again).
 * - `'done'` — it has shut down for good; further steps do nothing.
 */
export type NetworkStepStatus = 'progress' | 'park' | 'done';

export interface NetworkStepResult {
  readonly status: NetworkStepStatus;
  /** Bytes written to links (send loop) or read from links (receive loop) by this step. */
  readonly bytes: number;
}
