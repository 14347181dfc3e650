import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkSuites } from '../properties/check_suites.js';
import { makeFixture, replayFixture } from '../properties/fixture.js';
import { replaySeed, runSuite, SUITE_NAMES } from '../properties/index.js';
import { SUITES } from '../properties/suites/index.js';
import { EXHAUSTIVE } from '../properties/suites/exhaustive.js';
import { propertySeeds } from './support/seeds.js';

const tempDir = (): string => mkdtempSync(join(tmpdir(), 'spillsim-properties-'));

/** Every deliberately broken variant, with the rule it must break. */
const BROKEN: { suite: string; variant: string; rule: string }[] = [
  { suite: 'ordering', variant: 'broken-prefetch-out-of-order', rule: 'order' },
  { suite: 'no-stall', variant: 'broken-mute-drain-buzz', rule: 'no-stall' },
  { suite: 'partial-spill', variant: 'broken-skip-failed-chunk', rule: 'accounting' },
  { suite: 'memory-bound', variant: 'broken-one-target-per-spill', rule: 'memory-bound' },
  { suite: 'differential', variant: 'broken-reserve-off-by-one', rule: 'differential' },
  { suite: 'determinism', variant: 'broken-unseeded-policy', rule: 'determinism' },
  { suite: 'transparency', variant: 'broken-batching-backend', rule: 'transparency' },
  { suite: 'exhaustive', variant: 'broken-prefetch-drops-failed', rule: 'accounting' },
  { suite: 'end-to-end', variant: 'broken-prefetch-out-of-order', rule: 'end-to-end' },
];

describe('the suites hold on the library as shipped', () => {
  for (const name of SUITE_NAMES) {
    it(`${name} holds`, async () => {
      for (const seed of propertySeeds()) {
        const result = await runSuite(name, { seed, runs: name === 'determinism' ? 4 : 60 });
        expect(result.failure?.shrunk.join('\n') ?? 'held', `seed ${seed}`).toBe('held');
        expect(result.ok).toBe(true);
        expect(result.runs).toBeGreaterThan(0);
      }
    });
  }
});

describe('one broken variant per property fails it, shrunk, with a working replay', () => {
  it('every suite has a broken variant listed here', () => {
    for (const suite of SUITES) expect(BROKEN.map((b) => b.suite), suite.name).toContain(suite.name);
  });

  for (const { suite, variant, rule } of BROKEN) {
    it(`${suite} / ${variant} breaks ${rule}`, async () => {
      const result = await runSuite(suite, { seed: 42, variant, runs: suite === 'determinism' ? 10 : 2000 });
      expect(result.ok).toBe(false);
      const failure = result.failure!;
      expect(failure.violation.rule).toBe(rule);
      // Short: a person reads it. Steps are numbered from 1.
      expect(failure.shrunk.length).toBeLessThan(40);
      expect(failure.shrunk[0]).toMatch(/^ ?1\. /);
      expect(failure.shrunk.at(-1)).toContain(`BROKE rule ${rule}`);
      expect(failure.replay).toContain(`--property ${suite}`);
      expect(failure.replay).toContain(`--variant ${variant}`);

      // The printed replay reproduces the same counterexample and the same rule.
      const replay = await replaySeed(suite, { seed: failure.seed, path: failure.path, variant });
      expect(replay.outcome.violation?.rule).toBe(rule);
      // The unseeded variant's hashes are random by design; its input must still be the same.
      if (suite === 'determinism') expect(replay.shrunk[0]).toBe(failure.shrunk[0]);
      else expect(replay.shrunk).toEqual(failure.shrunk);

      // The same counterexample on the library as shipped holds: the fix.
      const fixed = await replaySeed(suite, { seed: failure.seed, path: failure.path });
      expect(fixed.outcome.violation).toBeUndefined();
    });
  }
});

describe('failure reports explain themselves', () => {
  it('says which parts of the counterexample could vary', async () => {
    const result = await runSuite('partial-spill', { seed: 42, variant: 'broken-skip-failed-chunk', runs: 2000 });
    const explanation = result.failure!.explanation.join('\n');
    expect(explanation).toMatch(/StopSpillAfterCommand/);
    expect(explanation).toMatch(/knobs/);
    expect(explanation).toMatch(/still break|must stay/);
  });
});

describe('fixtures', () => {
  async function brokenFixture() {
    const result = await runSuite('ordering', { seed: 42, variant: 'broken-prefetch-out-of-order', runs: 2000 });
    return makeFixture('ordering', 'broken-prefetch-out-of-order', result.failure!);
  }

  it('store the shrunk commands as data and replay to the same failure', async () => {
    const fixture = await brokenFixture();
    expect(fixture.commands.length).toBeGreaterThan(0);
    expect(fixture.commands[0]).toHaveProperty('op');
    expect(fixture.modelHash).toMatch(/^[0-9a-f]{16}$/);
    const replay = await replayFixture('f.json', JSON.parse(JSON.stringify(fixture)));
    expect(replay.verdict).toBe('same-failure');
    expect(replay.modelChanged).toBe(false);
  });

  it('sort into different failure, now passes and no longer valid, and say which', async () => {
    const fixture = await brokenFixture();
    const other = await replayFixture('other.json', { ...fixture, broke: { ...fixture.broke, rule: 'delivery' } });
    expect(other.verdict).toBe('different-failure');
    expect(other.summary).toContain('saved as breaking delivery, now rule order breaks');

    const fixed = await replayFixture('fixed.json', fixture, { variant: 'default' });
    expect(fixed.verdict).toBe('now-passes');

    const renamed = await replayFixture('renamed.json', { ...fixture, commands: [{ op: 'teleport' }] });
    expect(renamed.verdict).toBe('no-longer-valid');
    expect(renamed.summary).toContain('command 1 no longer applies: unknown op "teleport"');

    const badQueue = await replayFixture('queue.json', { ...fixture, commands: [{ op: 'extend', queue: 5, sizes: [1], fresh: true }] });
    expect(badQueue.verdict).toBe('no-longer-valid');
    expect(badQueue.summary).toContain('queue 5');

    const changed = await replayFixture('changed.json', { ...fixture, modelHash: '0000000000000000' });
    expect(changed.modelChanged).toBe(true);
  });
});

describe('the example database', () => {
  it('records a failure and retries it first on the next check; drops it once it passes', async () => {
    const root = tempDir();
    const first = await checkSuites({ suites: ['memory-bound'], seed: 42, runs: 2000, variant: 'broken-one-target-per-spill', exampleDbRoot: root });
    expect(first[0]!.ok).toBe(false);
    const dbDir = join(root, '.spillsim', 'examples');
    const saved = readdirSync(dbDir);
    expect(saved).toHaveLength(1);

    // Another seed, one run: the remembered failure comes back before any generation.
    const second = await checkSuites({ suites: ['memory-bound'], seed: 7, runs: 1, variant: 'broken-one-target-per-spill', exampleDbRoot: root });
    expect(second[0]!.fromExampleDb).toBe(join(dbDir, saved[0]!));
    expect(second[0]!.failure!.violation.rule).toBe('memory-bound');

    // File the same failure under the fixed variant: it now passes, so the database forgets it.
    const fixture = JSON.parse(readFileSync(join(dbDir, saved[0]!), 'utf8'));
    const asDefault = join(dbDir, `memory-bound--default--x.json`);
    writeFileSync(asDefault, JSON.stringify({ ...fixture, variant: 'default' }));
    const third = await checkSuites({ suites: ['memory-bound'], seed: 7, runs: 5, exampleDbRoot: root });
    expect(third[0]!.ok).toBe(true);
    expect(readdirSync(dbDir)).not.toContain('memory-bound--default--x.json');
  });

  it('--save-failures writes a fixture that replays', async () => {
    const root = tempDir();
    const results = await checkSuites({ suites: ['no-stall'], seed: 42, runs: 2000, variant: 'broken-mute-drain-buzz', exampleDb: false, saveFailuresDir: join(root, 'failures') });
    const path = results[0]!.savedFixture!;
    const fixture = JSON.parse(readFileSync(path, 'utf8'));
    expect(fixture).toMatchObject({ format: 'spillsim-fixture/1', property: 'no-stall', variant: 'broken-mute-drain-buzz', broke: { rule: 'no-stall' } });
    expect(typeof fixture.libraryVersion).toBe('string');
    expect((await replayFixture('saved.json', fixture)).verdict).toBe('same-failure');
  });
});

describe('small-scope exhaustive', () => {
  it('enumerates every stop point of a five-chunk spill, not a sample', () => {
    const labels = EXHAUSTIVE.cases('default').map((c) => c.label);
    for (let k = 0; k < 5; k += 1) {
      expect(labels).toContain(`one queue, one big spill of five chunks: spill at step 6 stops after ${k} of 5`);
    }
    expect(labels.some((l) => l.includes('fails once'))).toBe(true);
    expect(labels.some((l) => l.includes('fails until healed'))).toBe(true);
    expect(new Set(labels).size).toBe(labels.length);
  });

  it('runs every case', async () => {
    const result = await runSuite('exhaustive', { runs: 1 });
    expect(result.runs).toBe(EXHAUSTIVE.cases('default').length);
  });
});
