import type { RunOutcome } from './run_outcome.js';

/**
 * A run as a numbered trace a person can follow: each command, what storage did during it
 * (spilled, stopped, fetched, failed), the queues after it, and the rule that broke.
 */
export function formatCommandTrace(outcome: RunOutcome): string[] {
  const width = String(Math.max(outcome.trace.length, 1)).length;
  const lines: string[] = [];
  for (const entry of outcome.trace) {
    const number = String(entry.step).padStart(width);
    lines.push(`${number}. ${entry.command}`);
    const pad = ' '.repeat(width + 2);
    for (const event of entry.events) lines.push(`${pad}  ${event}`);
    lines.push(`${pad}  -> ${entry.state}`);
  }
  const violation = outcome.violation;
  lines.push(violation === undefined ? 'held: every rule held to the end' : `BROKE rule ${violation.rule} at step ${violation.step}: ${violation.message}`);
  return lines;
}
