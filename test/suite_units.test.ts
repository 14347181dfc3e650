import { describe, expect, it } from 'vitest';
import { runSuiteUnit, SUITE_UNIT_PREFIX, SUITE_UNITS } from '../properties/conformance/suite_units.js';
import { SUITE_NAMES } from '../properties/index.js';
import { MemorySpill } from '../src/index.js';
import type { BackendModule } from '../properties/conformance/backend_module.js';

// A suite in a backend's verdict must put that backend under its queues: a "held" from a suite
// that builds its own storage would vouch for a backend it never called.
describe('the suites validate runs with a backend', () => {
  const module: BackendModule = { factory: () => new MemorySpill(), supports: {} };

  it.each(SUITE_UNITS.map((unit) => [unit]))('%s calls the backend', async (unit) => {
    let calls = 0;
    const verdict = await runSuiteUnit(module, 'memory', unit, { seed: 7, runs: 5, timeLimitMs: 30_000, onProgress: (n) => (calls = n) });
    expect(verdict.status).toBe('held');
    expect(calls).toBeGreaterThan(0);
  });

  it('leaves out the suites that build their own storage, and keeps the others', () => {
    const left = SUITE_NAMES.filter((name) => !SUITE_UNITS.includes(`${SUITE_UNIT_PREFIX}${name}`));
    expect(left.sort()).toEqual(['determinism', 'end-to-end']);
  });
});
