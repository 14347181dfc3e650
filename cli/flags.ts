import { InvalidArgumentError } from 'commander';

// Flag parsers shared by the commands: commander turns their InvalidArgumentError into a
// one-line "argument ... is invalid" message and exit 2.

export function whole(text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value)) throw new InvalidArgumentError('expected a whole number');
  return value;
}

export function positiveWhole(text: string): number {
  const value = whole(text);
  if (value < 1) throw new InvalidArgumentError('expected at least 1');
  return value;
}

export function positiveNumber(text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new InvalidArgumentError('expected a number of seconds above 0');
  return value;
}

/** Repeatable flag whose values may also be comma-separated. */
export function collectList(value: string, previous: string[]): string[] {
  return [...previous, ...value.split(',').map((s) => s.trim()).filter((s) => s.length > 0)];
}
