import { InvalidArgumentError } from 'commander';
import { isTimerMs, TIMEOUT_MS_MAX } from '../properties/conformance/validate.js';
import { WORKERS_MAX } from '../sim/campaign.js';
import { UsageError } from './usage_error.js';

// Flag parsers shared by the commands, so one flag has one range and one message everywhere.
// commander turns an InvalidArgumentError into a one-line "argument ... is invalid" message and
// exit 2; the parsers that take the flag's name throw a UsageError, printed the same way.

/**
 * The number `text` writes as digits, or -1 for a negative one (`-3`, even `-0`): a whole
 * number out of range, told apart from text that is no whole number at all (`1.5`, `1e3`,
 * `abc`, `+5`), which is an InvalidArgumentError.
 */
function digits(text: string): number {
  if (!/^-?\d+$/.test(text)) throw new InvalidArgumentError('expected a whole number');
  return text.startsWith('-') ? -1 : Number(text);
}

/** A whole number from 0 to Number.MAX_SAFE_INTEGER (seeds). */
export function whole(text: string): number {
  const value = digits(text);
  if (value < 0 || !Number.isSafeInteger(value)) throw new InvalidArgumentError(`expected a whole number from 0 to ${Number.MAX_SAFE_INTEGER}`);
  return value;
}

/** A whole number from 1 to Number.MAX_SAFE_INTEGER (counts). */
export function positiveWhole(text: string): number {
  const value = digits(text);
  if (value < 1) throw new InvalidArgumentError('expected at least 1');
  if (!Number.isSafeInteger(value)) throw new InvalidArgumentError(`expected a whole number from 1 to ${Number.MAX_SAFE_INTEGER}`);
  return value;
}

export function positiveNumber(text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new InvalidArgumentError('expected a number of seconds above 0');
  return value;
}

/**
 * Repeatable flag whose values may also be comma-separated (`--suite a,b --suite c`). An empty
 * item (`a,,b`, a trailing comma) or one given twice is a mistake, so it is refused.
 */
export function collectList(value: string, previous: string[] | undefined): string[] {
  const items = value.split(',').map((s) => s.trim());
  if (items.some((item) => item.length === 0)) throw new InvalidArgumentError('an item is empty (a stray comma?)');
  const all = [...(previous ?? []), ...items];
  const repeated = all.find((item, k) => all.indexOf(item) !== k);
  if (repeated !== undefined) throw new InvalidArgumentError(`${repeated} is given twice`);
  return all;
}

/** A whole number from `min` to `max` for `flag`, or a one-line UsageError that names both ends. */
export function wholeInRange(flag: string, text: string, min: number, max: number): number {
  const value = /^\s*\d+\s*$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, got '${text}'`);
  return value;
}

/** `--workers N`: worker threads of a campaign, 1 to WORKERS_MAX (sim/campaign.ts) on every machine. */
export function workerCount(text: string): number {
  return wholeInRange('--workers', text, 1, WORKERS_MAX);
}

/**
 * Parser of `--timeout-ms`, `--budget-ms`: a whole number of milliseconds from 1 to
 * TIMEOUT_MS_MAX, the longest a timer can wait; one message for `validate` and `check`.
 */
export function milliseconds(flag: string): (text: string) => number {
  return (text) => {
    const value = digits(text);
    if (!isTimerMs(value)) {
      throw new UsageError(`${flag} must be from 1 to ${TIMEOUT_MS_MAX} (about 24.8 days, the most a timer can hold), got ${text}`);
    }
    return value;
  };
}
