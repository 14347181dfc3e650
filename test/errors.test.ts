import { describe, expect, it } from 'vitest';
import { BackendContractError, checkByteKnob, PoisonedError, SpillsimError, UsageError } from '../src/errors.js';
import { bytesEntry, pagedEntry } from '../src/spill.js';
import { Bytes } from '../src/bytes.js';

describe('errors', () => {
  it('each error class carries its code, name and message', () => {
    const cases: [SpillsimError, string, string, string][] = [
      [new SpillsimError('E_STORAGE', 'disk gone'), 'SpillsimError', 'E_STORAGE', 'disk gone'],
      [new PoisonedError('drainInto refused'), 'PoisonedError', 'E_POISONED', 'MergeQueue poisoned: drainInto refused; the other end panicked, so this queue can no longer be trusted'],
      [new BackendContractError('two handles'), 'BackendContractError', 'E_BACKEND_CONTRACT', 'two handles'],
      [new UsageError('--seed takes a number'), 'UsageError', 'E_BAD_INPUT', '--seed takes a number'],
    ];
    for (const [error, name, code, message] of cases) {
      expect(error).toBeInstanceOf(SpillsimError);
      expect(error).toBeInstanceOf(Error);
      expect([error.name, error.code, error.message]).toEqual([name, code, message]);
    }
    const cause = new Error('root');
    expect(new SpillsimError('E_STORAGE', 'wrapped', { cause }).cause).toBe(cause);
  });

  it('checkByteKnob takes non-negative safe integers and names the knob otherwise', () => {
    expect(checkByteKnob('budget', 0)).toBe(0);
    expect(checkByteKnob('budget', Number.MAX_SAFE_INTEGER)).toBe(Number.MAX_SAFE_INTEGER);
    for (const value of [-1, 0.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, '4', null, undefined]) {
      expect(() => checkByteKnob('budget', value), String(value)).toThrow(
        expect.objectContaining({ code: 'E_BAD_KNOB', message: `budget must be a non-negative whole number of bytes, got ${String(value)}` }),
      );
    }
  });

  it('entry constructors build the two kinds of queue entry', () => {
    const bytes = Bytes.from(new Uint8Array(2));
    const handle = { fetch: () => ({ ok: true as const, chunks: [] }) };
    expect(bytesEntry(bytes)).toEqual({ kind: 'bytes', bytes });
    expect(pagedEntry(handle)).toEqual({ kind: 'paged', handle });
  });
});
