import { SpillsimError } from './errors.js';

/**
 * Checks of what a caller hands the public API. Each runs before anything is touched and
 * throws `E_BAD_ARGUMENT` with a message that names the argument and what it takes: a
 * caller's mistake is reported, never turned into a panic that poisons a queue.
 */

/** A value as a message should show it: its kind, and the value itself when short. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  switch (typeof value) {
    case 'string':
      return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
    case 'number':
    case 'bigint':
    case 'boolean':
      return `${typeof value} ${String(value)}`;
    case 'function':
      return 'a function';
    case 'symbol':
      return 'a symbol';
  }
  try {
    if (Array.isArray(value)) return describeArray(value);
    const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
    if (typeof name === 'string' && name !== '' && name !== 'Object') return `${/^[AEIO]/.test(name) ? 'an' : 'a'} ${name}`;
    const keys = Object.keys(value as object);
    return keys.length === 0 ? 'an empty object' : `an object with ${keys.slice(0, 4).join(', ')}${keys.length > 4 ? ', …' : ''}`;
  } catch {
    // A Proxy whose traps throw, or a getter that does: the message must still be made.
    return 'an object that throws when inspected';
  }
}

/**
 * An array, and whether it can grow. An empty array that cannot grow is frozen, sealed and not
 * extensible all at once as far as JavaScript can tell (`Object.isFrozen(Object.seal([]))` is
 * true), so it is named by what they share.
 */
function describeArray(value: unknown[]): string {
  if (Object.isExtensible(value)) return 'an array';
  if (value.length === 0) return 'an empty array that cannot grow (frozen, sealed or not extensible)';
  if (Object.isFrozen(value)) return 'a frozen array';
  return Object.isSealed(value) ? 'a sealed array' : 'an array that is not extensible';
}

export function badArgument(message: string): SpillsimError {
  return new SpillsimError('E_BAD_ARGUMENT', message);
}

/**
 * An options object: `undefined` (all defaults) or a plain object whose every own key is one
 * of `known`. A misspelt name would otherwise be ignored silently and the run would use the
 * default; the message suggests the closest known name.
 */
export function checkOptions<T extends object>(owner: string, options: T | undefined, known: readonly (keyof T & string)[], example: string): T {
  if (options === undefined) return {} as T;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw badArgument(`${owner} options must be an object such as ${example}, got ${describeValue(options)}`);
  }
  for (const key of Object.keys(options)) {
    if ((known as readonly string[]).includes(key)) continue;
    const close = closestName(key, known);
    throw badArgument(
      `${owner} has no option ${JSON.stringify(key)}${close === undefined ? '' : `; did you mean ${close}?`} (it takes ${known.join(', ')})`,
    );
  }
  return options;
}

/** The known name a misspelling most likely meant, or undefined when none is close. */
export function closestName(key: string, known: readonly string[]): string | undefined {
  // Stryker disable next-line MethodExpression: toUpperCase folds the key and every known name alike, so every distance is the same (the known names are ASCII).
  const plain = (s: string): string => s.toLowerCase().replace(/[_-]/g, '');
  const wanted = plain(key);
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const name of known) {
    const candidate = plain(name);
    // `threshold` for `thresholdBytes`, `log_fn` for `logFn`: a unit or a case left out.
    const distance = candidate === wanted ? 0 : candidate.startsWith(wanted) || wanted.startsWith(candidate) ? 1 : editDistance(wanted, candidate);
    if (distance < bestDistance) {
      best = name;
      bestDistance = distance;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(wanted.length / 3)) ? best : undefined;
}

/** Levenshtein distance (two rows); names are short, so O(|a|·|b|) is nothing. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** An optional callback: `undefined`, or a function. */
export function checkOptionalFunction<F>(what: string, value: F | undefined): F | undefined {
  if (value !== undefined && typeof value !== 'function') {
    throw badArgument(`${what} must be a function, got ${describeValue(value)}`);
  }
  return value;
}

/** An object that has method `method` (a policy's `apply`, a backend's `spill`, a handle's `fetch`). */
export function hasMethod(value: unknown, method: string): boolean {
  return value !== null && typeof value === 'object' && typeof (value as Record<string, unknown>)[method] === 'function';
}
