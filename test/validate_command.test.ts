import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runMain } from './support/run_main.js';
import { POLICY_CLAUSE_IDS } from '../properties/conformance/policy_clauses.js';
import { checkBackendClause } from '../properties/vitest.js';
import { BACKEND_CLAUSE_IDS } from '../properties/conformance/backend_clauses.js';

interface CatalogEntry {
  module: string;
  breaks: string | null;
  expected: Record<string, string>;
}
const catalog = JSON.parse(readFileSync(new URL('../fixtures/backends/catalog.json', import.meta.url), 'utf8')) as {
  backends: CatalogEntry[];
  policies: CatalogEntry[];
  badInput: { module: string; reason: string }[];
};

interface JsonReport {
  seed: number;
  exitCode: number;
  reports: {
    kind: string;
    module: string;
    verdicts: { id: string; status: string; level: string; detail?: string; replay?: string; example?: unknown }[];
    result?: { status: string; detail?: string; steps: number };
  }[];
}

const run = runMain;

describe('spillsim validate --policy on every policy in fixtures/policies', () => {
  for (const entry of catalog.policies) {
    it(`${entry.module}: ${entry.breaks ?? 'every clause held'}`, async () => {
      const { code, stdout } = await run(['validate', '--policy', `fixtures/policies/${entry.module}`, '--json']);
      const report = JSON.parse(stdout) as JsonReport;
      const verdicts = report.reports[0]!.verdicts;
      const statuses = Object.fromEntries(verdicts.map((v) => [v.id, v.status]));
      expect(statuses).toEqual(Object.fromEntries(POLICY_CLAUSE_IDS.map((id) => [id, entry.expected[id] ?? 'held'])));
      expect(code).toBe(entry.breaks === null ? 0 : 1);
      for (const v of verdicts.filter((x) => x.status === 'broken')) expect(v.detail).toMatch(/^run with seed \d+: /);
    });
  }
});

describe('modules that cannot be used are bad input', () => {
  for (const entry of catalog.badInput) {
    it(`${entry.module}: exit 2, one line naming the reason`, async () => {
      const { code, stdout, stderr } = await run(['validate', `fixtures/backends/${entry.module}`]);
      expect(code).toBe(2);
      expect(stdout).toBe('');
      expect(stderr.trim().split('\n')).toHaveLength(1);
      expect(stderr).toContain(entry.module);
      expect(stderr).toContain(entry.reason);
    });
  }

  it('a policy module whose default export is not a factory: exit 2', async () => {
    const { code, stderr } = await run(['validate', '--policy', 'fixtures/policies/not-a-factory.mjs']);
    expect(code).toBe(2);
    expect(stderr).toContain('not a factory function');
  });

  it('bad flags and missing arguments: exit 2 with a reason', async () => {
    const cases: [string[], RegExp][] = [
      [['validate'], /give a backend module/],
      [['validate', 'fixtures/backends/memory.mjs', '--clause', 'spill.nope'], /unknown clause spill\.nope; known clauses: spill\.makes-progress, spill\.drains-front/],
      [['validate', 'fixtures/backends/memory.mjs', '--seed', 'abc'], /--seed/],
      [['validate', 'fixtures/backends/memory.mjs', '--example', '{}'], /--example replays one stochastic clause/],
      [['validate', 'fixtures/backends/memory.mjs', '--clause', 'fetch.any-order', '--example', '{oops'], /--example must be the JSON/],
      [['validate', 'fixtures/backends/memory.mjs', 'fixtures/backends/file.mjs', '--emit-test', 'x.test.ts'], /--emit-test needs exactly one backend/],
    ];
    for (const [args, reason] of cases) {
      const { code, stderr } = await run(args);
      expect(code, args.join(' ')).toBe(2);
      expect(stderr, args.join(' ')).toMatch(reason);
    }
  });
});

describe('reports', () => {
  it('text: one line per clause, counterexample and replay under each broken one', async () => {
    const { code, stdout } = await run(['validate', 'fixtures/backends/reuses-read-buffer.mjs', '--no-suites']);
    expect(code).toBe(1);
    const lines = stdout.split('\n');
    expect(lines[0]).toBe('backend fixtures/backends/reuses-read-buffer.mjs');
    expect(lines.filter((l) => /^ {2}(held|BROKEN|not applicable|TIMEOUT) /.test(l))).toHaveLength(BACKEND_CLAUSE_IDS.length);
    const at = lines.findIndex((l) => l.includes('BROKEN') && l.includes('fetch.after-buffer-reuse'));
    expect(lines[at + 1]).toMatch(/^ {6}counterexample: handle 0, re-read after fetching the other handles and spilling and fetching 3 more chunks returned the wrong bytes: first difference at byte 0/);
    expect(lines[at + 2]).toBe('      replay: spillsim validate fixtures/backends/reuses-read-buffer.mjs --clause fetch.after-buffer-reuse --seed 42');
    expect(stdout).toContain('not applicable spill.partial-consistent');
    const expected = Object.values(catalog.backends.find((b) => b.module === 'reuses-read-buffer.mjs')!.expected);
    const count = (status: string): number => expected.filter((x) => x === status).length;
    const held = BACKEND_CLAUSE_IDS.length - expected.length;
    expect(stdout).toContain(`${held} held, ${count('broken')} broken, ${count('not-applicable')} not applicable, 0 timeout`);
  });

  it('--clause runs only the named clauses, and the replay command reproduces the verdict', async () => {
    const { code, stdout } = await run(['validate', 'fixtures/backends/drains-back.mjs', '--clause', 'spill.drains-front', '--clause', 'spill.empty-list', '--json']);
    const report = JSON.parse(stdout) as JsonReport;
    expect(report.reports[0]!.verdicts.map((v) => [v.id, v.status])).toEqual([
      ['spill.drains-front', 'broken'],
      ['spill.empty-list', 'held'],
    ]);
    expect(code).toBe(1);
  });

  it('a stochastic clause reports its shrunk case, and --example replays exactly that case', async () => {
    const first = JSON.parse((await run(['validate', 'fixtures/backends/sequential-reader.mjs', '--clause', 'fetch.any-order', '--json'])).stdout) as JsonReport;
    const verdict = first.reports[0]!.verdicts[0]!;
    expect(verdict.status).toBe('broken');
    const example = verdict.example as { lengthsBytes: number[]; fetchOrder: number[] };
    // Shrunk: fetching out of order needs two chunks at least, and no more than a few.
    expect(example.fetchOrder.length).toBeGreaterThanOrEqual(2);
    expect(example.fetchOrder.length).toBeLessThanOrEqual(4);
    expect(example.fetchOrder).not.toEqual([...example.fetchOrder].sort((a, b) => a - b));
    expect(verdict.replay).toContain(`--example '${JSON.stringify(example)}'`);
    const again = await run(['validate', 'fixtures/backends/sequential-reader.mjs', '--clause', 'fetch.any-order', '--example', JSON.stringify(example), '--json']);
    expect(again.code).toBe(1);
    expect((JSON.parse(again.stdout) as JsonReport).reports[0]!.verdicts[0]!.detail).toBe(verdict.detail);
    // The same case against a correct backend holds.
    const good = await run(['validate', 'fixtures/backends/copying.mjs', '--clause', 'fetch.any-order', '--example', JSON.stringify(example)]);
    expect(good.code).toBe(0);
  });
});

describe('the time budget (--budget-ms)', () => {
  it('a run whose budget is spent before clauses of the contract is not a pass: they are not applicable (skipped), never held, and the exit code is 1', async () => {
    const { code, stdout } = await run(['validate', 'fixtures/backends/memory.mjs', '--budget-ms', '1', '--json']);
    const report = JSON.parse(stdout) as JsonReport;
    const verdicts = report.reports[0]!.verdicts;
    const skipped = verdicts.filter((v) => v.detail?.startsWith('skipped: the time budget of this run was spent'));
    expect(skipped.filter((v) => v.level === 'required').length).toBeGreaterThan(0);
    for (const v of skipped) expect(v.status).toBe('not-applicable');
    expect(verdicts.filter((v) => v.status === 'held')).toEqual([]);
    expect(report.exitCode).toBe(1);
    expect(code).toBe(1);
    const text = await run(['validate', 'fixtures/backends/memory.mjs', '--budget-ms', '1', '--no-suites']);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/NOT VALIDATED: the time budget was spent before \d+ clauses of the contract \(raise --budget-ms\)/);
  });

  it('an optional clause the budget skipped was not judged either (it may well apply): exit 1', async () => {
    const { code, stdout } = await run(['validate', 'fixtures/backends/drops-on-partial.mjs', '--clause', 'spill.partial-consistent', '--budget-ms', '1']);
    expect(stdout).toContain('NOT VALIDATED: the time budget was spent before 1 clause of the contract');
    expect(code).toBe(1);
  });

  it('--policy and the comparison of several backends keep the budget too (they ignored it)', async () => {
    const policy = await run(['validate', '--policy', 'fixtures/policies/duplicates.mjs', '--budget-ms', '1']);
    expect(policy.stdout).toContain('NOT VALIDATED: the time budget was spent before 6 clauses of the contract');
    expect(policy.code).toBe(1);
    const several = await run(['validate', 'fixtures/backends/memory.mjs', 'fixtures/backends/copying.mjs', '--budget-ms', '1']);
    expect(several.stdout).toMatch(/TIMEOUT {2}fixtures\/backends\/memory\.mjs\n {6}skipped: the time budget of this run was spent/);
    expect(several.code).toBe(1);
  });

  it('a module that cannot be used is bad input whatever the budget: exit 2, not a run cut short', async () => {
    for (const module of ['import-throws.mjs', 'no-default.mjs']) {
      const { code, stdout, stderr } = await run(['validate', `fixtures/backends/bad/${module}`, '--budget-ms', '1']);
      expect(code).toBe(2);
      expect(stdout).toBe('');
      expect(stderr).toContain(`cannot use module fixtures/backends/bad/${module}`);
    }
  });

  it('the longest --timeout-ms a timer can hold (2147483647) waits, it does not time out at once', async () => {
    const { code, stdout } = await run(['validate', 'fixtures/backends/memory.mjs', '--timeout-ms', '2147483647', '--clause', 'spill.empty-list']);
    expect(stdout).toContain('held           spill.empty-list');
    expect(code).toBe(0);
  });

  it('a budget that covers the clauses passes a correct backend', async () => {
    const { code, stdout } = await run(['validate', 'fixtures/backends/memory.mjs', '--no-suites']);
    expect(code).toBe(0);
    expect(stdout).not.toContain('NOT VALIDATED');
  });
});

describe('property suites after the clauses', () => {
  it('a correct backend passes every suite with it under the queue', async () => {
    // 8 runs: with 5, no run of no-stall spills at seed 42, and a suite that never reached the backend is not applicable.
    const { code, stdout } = await run(['validate', 'fixtures/backends/copying.mjs', '--runs', '8', '--json']);
    const verdicts = (JSON.parse(stdout) as JsonReport).reports[0]!.verdicts;
    const suites = verdicts.filter((v) => v.id.startsWith('suite.'));
    expect(suites.length).toBeGreaterThanOrEqual(5);
    expect(suites.filter((v) => v.status !== 'held')).toEqual([]);
    expect(code).toBe(0);
  });

  it('a backend that reuses its read buffer breaks a suite, with the suite\'s shrunk trace and replay', async () => {
    const { code, stdout } = await run(['validate', 'fixtures/backends/reuses-read-buffer.mjs', '--runs', '5', '--json']);
    const verdicts = (JSON.parse(stdout) as JsonReport).reports[0]!.verdicts;
    const broken = verdicts.filter((v) => v.id.startsWith('suite.') && v.status === 'broken');
    expect(broken.length).toBeGreaterThan(0);
    expect(broken[0]!.detail).toMatch(/\n\s+1\. \w+Command/);
    expect(broken[0]!.replay).toMatch(/^spillsim replay --property [\w-]+ .*--backend fixtures\/backends\/reuses-read-buffer\.mjs$/);
    expect(code).toBe(1);
  });

  it('the suites run beside the clauses: one suite cut off skips the other suites, and the clauses go on', async () => {
    // loops-on-empty spins on an empty list: spill.empty-list hangs, and so does a suite whose queue spills one.
    const { stdout } = await run(['validate', 'fixtures/backends/loops-on-empty.mjs', '--timeout-ms', '1000', '--json']);
    const verdicts = (JSON.parse(stdout) as JsonReport).reports[0]!.verdicts;
    const suites = verdicts.filter((v) => v.id.startsWith('suite.'));
    const cut = suites.filter((v) => v.status === 'timeout' && v.detail?.startsWith('no answer within 1000 ms'));
    expect(cut).toHaveLength(1);
    for (const v of suites.filter((x) => x !== cut[0] && x.status !== 'held')) expect(v).toMatchObject({ status: 'timeout', detail: `skipped: the backend was already cut off in ${cut[0]!.id}` });
    // One clause cut off is not the two that stop the clause lanes: the others keep their verdicts.
    expect(verdicts.find((v) => v.id === 'spill.empty-list')).toMatchObject({ status: 'timeout' });
    expect(verdicts.filter((v) => !v.id.startsWith('suite.') && v.status === 'timeout').map((v) => v.id)).toEqual(['spill.empty-list']);
    expect(verdicts.find((v) => v.id === 'spill.large-chunk')).toMatchObject({ status: 'held' });
  });
});

describe('differential mode', () => {
  it('backends that deliver the same bytes as MemorySpill: exit 0', async () => {
    const { code, stdout } = await run(['validate', 'fixtures/backends/memory.mjs', 'fixtures/backends/memfs.mjs', 'fixtures/backends/copying.mjs']);
    expect(code).toBe(0);
    expect(stdout.match(/^ {2}same {5}/gm)).toHaveLength(3);
  });

  it('reports the first differing step with a byte diff, and a hang as a timeout', async () => {
    const { code, stdout } = await run(['validate', 'fixtures/backends/memory.mjs', 'fixtures/backends/crossed-by-length.mjs', 'fixtures/backends/hangs.mjs', '--json', '--timeout-ms', '1000']);
    expect(code).toBe(1);
    const [same, crossed, hangs] = (JSON.parse(stdout) as JsonReport).reports;
    expect(same!.result!.status).toBe('same');
    expect(crossed!.result!.status).toBe('differs');
    expect(crossed!.result!.detail).toMatch(/^step \d+: fetch of chunk #\d+ delivered different bytes: first difference at byte \d+ .*expected .*\[[0-9a-f]{2}\].*, got .*\[[0-9a-f]{2}\]/);
    expect(hangs!.result!.status).toBe('timeout');
    expect(hangs!.result!.detail).toContain('the factory never returned');
  });
});

describe('--emit-test', () => {
  it('writes a vitest file that replays each broken clause against the backend', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spillsim-emit-'));
    const out = join(dir, 'repro.test.ts');
    const { code, stdout } = await run(['validate', 'fixtures/backends/sequential-reader.mjs', '--no-suites', '--emit-test', out]);
    expect(code).toBe(1);
    expect(stdout).toContain(`wrote ${out}: `);
    expect(stdout).toMatch(/ test\(s\) replaying .*fetch\.any-order/);
    const source = readFileSync(out, 'utf8');
    expect(source).toContain("import { checkBackendClause } from 'spillsim/vitest';");
    const moduleMatch = /new URL\("([^"]+)", import\.meta\.url\)/.exec(source);
    const callMatch = /checkBackendClause\(backend, "fetch\.any-order", (\{.*\})\);/.exec(source);
    expect(moduleMatch).not.toBeNull();
    expect(callMatch).not.toBeNull();
    // What the emitted test runs: the module it names, the clause, seed and shrunk case it pins.
    const backendUrl = new URL(moduleMatch![1]!, `file://${out}`).href;
    expect(backendUrl).toBe(new URL('../fixtures/backends/sequential-reader.mjs', import.meta.url).href);
    const options = (0, eval)(`(${callMatch![1]})`) as { seed: number; example: unknown };
    expect(options.seed).toBe(42);
    const verdict = await checkBackendClause(backendUrl, 'fetch.any-order', options);
    expect(verdict.status).toBe('broken');
  });

  it('writes nothing when every clause held', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spillsim-emit-'));
    const { code, stdout } = await run(['validate', 'fixtures/backends/copying.mjs', '--clause', 'fetch.exact-bytes', '--emit-test', join(dir, 'x.test.ts')]);
    expect(code).toBe(0);
    expect(stdout).toContain('no broken clause to replay; no test written');
  });
});
