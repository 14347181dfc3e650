import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runMain } from './support/run_main.js';
import { BACKEND_CLAUSE_IDS } from '../properties/conformance/backend_clauses.js';
import { POLICY_CLAUSE_IDS } from '../properties/conformance/policy_clauses.js';

// Every catalog entry through the command, as a user runs it: `spillsim validate <module> --json`.
interface CatalogEntry {
  module: string;
  breaks: string | null;
  expected: Record<string, string>;
  timeoutMs?: number;
  timeoutNames?: string;
}
const catalog = JSON.parse(readFileSync(new URL('../fixtures/backends/catalog.json', import.meta.url), 'utf8')) as {
  backends: CatalogEntry[];
  policies: CatalogEntry[];
  badInput: { module: string; reason: string }[];
};

interface JsonReport {
  exitCode: number;
  reports: { kind: string; module: string; verdicts: { id: string; status: string; detail?: string; replay?: string }[] }[];
}

const run = runMain;

describe('spillsim validate on every backend in fixtures/backends', () => {
  it('the catalog has the shipped backends and at least ten broken ones, each naming the clause it breaks', () => {
    const broken = catalog.backends.filter((b) => b.breaks !== null);
    expect(broken.length).toBeGreaterThanOrEqual(10);
    for (const name of ['memory.mjs', 'file.mjs', 'memfs.mjs']) expect(catalog.backends.find((b) => b.module === name)?.breaks).toBeNull();
    for (const b of broken) {
      const header = readFileSync(new URL(`../fixtures/backends/${b.module}`, import.meta.url), 'utf8').split('\n')[0];
      expect(header, b.module).toMatch(/^\/\/ BROKEN: /);
      if (!b.breaks!.startsWith('*')) {
        expect(header).toContain(b.breaks!);
        expect(['broken', 'timeout']).toContain(b.expected[b.breaks!]);
      }
    }
  });

  for (const entry of catalog.backends) {
    it(`${entry.module}: ${entry.breaks ?? 'every clause held or not applicable'}`, async () => {
      // The direct clauses only: the suites that follow are checked in validate_command.test.ts.
      const args = ['validate', `fixtures/backends/${entry.module}`, '--json', '--no-suites', ...(entry.timeoutMs === undefined ? [] : ['--timeout-ms', String(entry.timeoutMs)])];
      const { code, stdout, stderr } = await run(args);
      expect(stderr).toBe('');
      const report = JSON.parse(stdout) as JsonReport;
      const verdicts = report.reports[0]!.verdicts;
      expect(verdicts.map((v) => v.id)).toEqual(BACKEND_CLAUSE_IDS);
      const statuses = Object.fromEntries(verdicts.map((v) => [v.id, v.status]));
      const expected = Object.fromEntries(BACKEND_CLAUSE_IDS.map((id) => [id, entry.expected[id] ?? 'held']));
      expect(statuses).toEqual(expected);
      const failing = verdicts.filter((v) => v.status === 'broken' || v.status === 'timeout');
      expect(code).toBe(failing.length > 0 ? 1 : 0);
      expect(report.exitCode).toBe(code);
      for (const v of failing) {
        expect(v.detail, v.id).toBeTruthy();
        expect(v.replay).toContain(`spillsim validate fixtures/backends/${entry.module} --clause ${v.id} --seed 42`);
      }
      // A timeout names the call the run was waiting for (a skip names the unit that hung).
      if (entry.timeoutNames !== undefined) {
        const cutOff = verdicts.filter((v) => v.status === 'timeout' && !v.detail!.startsWith('skipped: '));
        expect(cutOff.length).toBeGreaterThan(0);
        for (const v of cutOff) expect(v.detail, v.id).toContain(entry.timeoutNames);
      }
    });
  }
});

