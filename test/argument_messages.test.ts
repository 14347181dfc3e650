import { describe, expect, it } from 'vitest';
import { Buzzer, Config, Hooks, SpillsimError } from '../src/index.js';

// What an argument error message says about the value it got, and which option name it
// suggests for a misspelt one: the words a caller reads to fix the call.

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(SpillsimError);
    expect((error as SpillsimError).code).toBe('E_BAD_ARGUMENT');
    return (error as Error).message;
  }
  throw new Error('expected a throw');
}

/** How `new Buzzer(value)` names `value`: the same words every argument check uses. */
const described = (value: unknown): string => messageOf(() => new Buzzer(value as never)).replace(/^new Buzzer\(onBuzz\): onBuzz must be a function, got /, '');

describe('an argument error names the value it got', () => {
  it('strings up to 40 characters in full, longer ones cut at 40 with an ellipsis', () => {
    expect(described('x'.repeat(40))).toBe(`the string "${'x'.repeat(40)}"`);
    expect(described(`${'y'.repeat(40)}z`)).toBe(`the string "${'y'.repeat(40)}…"`);
  });

  it('numbers, bigints and booleans with their value; symbols by kind', () => {
    expect(described(-1.5)).toBe('number -1.5');
    expect(described(5n)).toBe('bigint 5');
    expect(described(false)).toBe('boolean false');
    expect(described(Symbol('s'))).toBe('a symbol');
  });

  it('an object by its class, with "an" before a vowel', () => {
    expect(described(new Map())).toBe('a Map');
    expect(described(new (class Apple {})())).toBe('an Apple');
    expect(described([1])).toBe('an array');
  });

  it('an object without a usable class name by its first four keys', () => {
    expect(described({})).toBe('an empty object');
    expect(described({ a: 1, b: 2, c: 3, d: 4 })).toBe('an object with a, b, c, d');
    expect(described({ a: 1, b: 2, c: 3, d: 4, e: 5 })).toBe('an object with a, b, c, d, …');
    // No prototype, so no constructor at all.
    expect(described(Object.assign(Object.create(null) as object, { only: 1 }))).toBe('an object with only');
    // An anonymous class has the name ''.
    expect(described(new (class {})())).toBe('an empty object');
    // A constructor field that is not a class: its name is no string.
    expect(described({ constructor: { name: 5 }, k: 1 })).toBe('an object with constructor, k');
  });

  it('an object that throws when looked at is still described', () => {
    const hostile = new Proxy({}, { get: () => { throw new Error('trap'); } });
    expect(described(hostile)).toBe('an object that throws when inspected');
  });
});

describe('a misspelt option name gets the closest known name as a suggestion', () => {
  const cluster = (key: string) => messageOf(() => Config.cluster({ threads: 1, process: 0, addresses: ['a'], [key]: 1 } as never));
  const hooks = (key: string) => messageOf(() => new Hooks({ [key]: () => {} } as never));

  it('a name that differs only in case or separators wins over one it is a prefix of', () => {
    // `process` is a prefix of `processes` and comes first in the list; the exact match wins.
    expect(cluster('Processes')).toMatch(/^Cluster has no option "Processes"; did you mean processes\?/);
    expect(cluster('PROCESS')).toMatch(/; did you mean process\?/);
  });

  it('between two names equally close, the first known one', () => {
    // `proces` is a prefix of both `process` and `processes`.
    expect(cluster('proces')).toMatch(/; did you mean process\?/);
  });

  it('suggests a name up to max(2, a third of its length) edits away, and nothing further', () => {
    expect(hooks('spixx')).toMatch(/^Hooks has no option "spixx"; did you mean spill\? \(it takes logFn, refill, spill\)$/);
    expect(hooks('sipll')).toMatch(/; did you mean spill\?/);
    expect(hooks('spxxx')).toBe('Hooks has no option "spxxx" (it takes logFn, refill, spill)');
    // Nine letters: three edits are close enough (two of them at the last letters), four are not.
    expect(cluster('adxrexxes')).toMatch(/; did you mean addresses\?/);
    expect(cluster('adrdesses')).toMatch(/; did you mean addresses\?/);
    expect(cluster('trheads')).toMatch(/; did you mean threads\?/);
    expect(cluster('axxrexxes')).toMatch(/^Cluster has no option "axxrexxes" \(it takes /);
  });
});
