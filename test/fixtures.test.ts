import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readFixtureJson, replayFixture } from '../properties/fixture.js';

/**
 * Every saved failure replays as a regression test. A fixture of a `broken-*` or `reference-*`
 * variant must still fail the same way (the suites still catch that bug) and must pass on the
 * library as shipped (the fix holds). A fixture of the shipped library itself must now pass.
 * A fixture that no longer parses fails here by name, with the reason.
 */
const DIR = resolve(import.meta.dirname, '..', 'fixtures', 'failures');
const FILES = readdirSync(DIR).filter((name) => name.endsWith('.json')).sort();

describe('fixtures/failures replay', () => {
  it('holds fixtures of real failures', () => {
    expect(FILES.length).toBeGreaterThan(0);
  });

  for (const name of FILES) {
    it(name, async () => {
      const value = readFixtureJson(join(DIR, name));
      const replay = await replayFixture(name, value);
      expect(replay.verdict === 'no-longer-valid' ? `${name}: ${replay.summary}` : 'valid').toBe('valid');
      const variant = (value as { variant: string }).variant;
      if (variant === 'default') {
        expect(replay.verdict, replay.trace?.join('\n')).toBe('now-passes');
        return;
      }
      expect(replay.verdict, `${replay.summary}\n${replay.trace?.join('\n')}`).toBe('same-failure');
      const fixed = await replayFixture(name, value, { variant: 'default' });
      expect(fixed.verdict, fixed.trace?.join('\n')).toBe('now-passes');
    });
  }
});
