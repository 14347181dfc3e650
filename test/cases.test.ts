import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runMain } from './support/run_main.js';
import { describeBackend, describePolicy } from '../properties/vitest.js';

// The shared real-bug cases (fixtures/cases/, copied from the issue's cases): each gets its
// expected verdict from the command, as a user runs it (`spillsim validate MODULE`, suites and
// all), and from describeBackend, which must agree with the command clause by clause.
interface CaseEntry {
  module: string;
  exitCode: 0 | 1;
  /** The clause(s) that catch the kind of fault the module stands for. */
  catches: string[];
  /** Every clause verdict other than held (the clauses only; suites must hold for a correct backend). */
  expected: Record<string, 'held' | 'broken' | 'not-applicable' | 'timeout'>;
}
const cases = JSON.parse(readFileSync(new URL('../fixtures/cases/expected.json', import.meta.url), 'utf8')) as { backends: CaseEntry[]; policies: CaseEntry[] };

interface JsonReport {
  exitCode: number;
  reports: { verdicts: { id: string; status: string; detail?: string; replay?: string; reproduced?: boolean }[] }[];
}

describe('spillsim validate on every shared case (clauses and suites, default limits)', () => {
  for (const entry of cases.backends) {
    it(`${entry.module}: exit ${entry.exitCode}${entry.catches.length > 0 ? `, caught by ${entry.catches.join(', ')}` : ', every clause and suite held or not applicable'}`, async () => {
      const { code, stdout, stderr } = await runMain(['validate', `fixtures/cases/${entry.module}`, '--json']);
      expect(stderr).toBe('');
      const report = JSON.parse(stdout) as JsonReport;
      const verdicts = report.reports[0]!.verdicts;
      const statuses = Object.fromEntries(verdicts.map((v) => [v.id, v.status]));
      expect(code).toBe(entry.exitCode);
      for (const id of entry.catches) expect(statuses[id], id).toBe('broken');
      // No false verdict on a correct backend: nothing broken, nothing timed out.
      if (entry.exitCode === 0) expect(verdicts.filter((v) => v.status === 'broken' || v.status === 'timeout')).toEqual([]);
      // A suite cut short by its time share says so: never a plain "held" for runs not made.
      for (const v of verdicts.filter((x) => x.status === 'held' && x.detail !== undefined)) expect(v.detail, v.id).toMatch(/^in \d+ of \d+ runs: the 4 s a suite may generate runs for was spent/);
      // The 10 ms control makes about 420 calls in 95 exhaustive runs within 4 s: fewer than all.
      if (entry.module === 'backends/slow-correct.mjs') expect(verdicts.find((v) => v.id === 'suite.exhaustive')?.detail).toMatch(/^in \d+ of \d+ runs/);
      // Clauses: exactly the recorded verdicts.
      for (const v of verdicts.filter((x) => !x.id.startsWith('suite.'))) expect(v.status, v.id).toBe(entry.expected[v.id] ?? 'held');
      // Nothing broken is printed as a plain replay unless it reproduces alone in a fresh worker.
      for (const v of verdicts.filter((x) => x.status === 'broken')) {
        expect(v.replay, v.id).toBeTruthy();
        if (v.reproduced === false) expect(v.detail).toContain('NOT REPRODUCED');
      }
    });
  }

  it('a failure that depends on process-wide state is said plainly not to reproduce, and never as held', async () => {
    const { stdout } = await runMain(['validate', 'fixtures/cases/backends/hidden-global-counter.mjs', '--no-suites']);
    expect(stdout).toMatch(/NOT REPRODUCED: replayed alone in a fresh worker with a fresh instance of the module, it did not fail/);
    expect(stdout).toMatch(/BROKEN +determinism\.no-hidden-state/);
    expect(stdout).not.toMatch(/now passes/);
  });
});

describe('spillsim validate --policy on every shared policy case', () => {
  for (const entry of cases.policies) {
    it(`${entry.module}: exit ${entry.exitCode}, caught by ${entry.catches.join(', ')}`, async () => {
      const { code, stdout } = await runMain(['validate', '--policy', `fixtures/cases/${entry.module}`, '--json']);
      const verdicts = (JSON.parse(stdout) as JsonReport).reports[0]!.verdicts;
      expect(code).toBe(entry.exitCode);
      expect(Object.fromEntries(verdicts.map((v) => [v.id, v.status]))).toEqual(Object.fromEntries(verdicts.map((v) => [v.id, entry.expected[v.id] ?? 'held'])));
    });
  }
});

describe('describeBackend on every shared case: the same verdicts as the command', () => {
  for (const entry of cases.backends) {
    // A correct backend runs the suites too (they must hold); a broken one is judged on its
    // clauses, whose verdicts do not depend on how many suite runs fit in the time limits.
    describeBackend(`case ${entry.module}`, new URL(`../fixtures/cases/${entry.module}`, import.meta.url), { expect: entry.expected, suites: entry.exitCode === 0 });
  }
  for (const entry of cases.policies) describePolicy(`case ${entry.module}`, new URL(`../fixtures/cases/${entry.module}`, import.meta.url), { expect: entry.expected });
});
