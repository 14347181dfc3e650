import { beforeAll, describe, expect, it } from 'vitest';
import { BACKEND_CLAUSE_IDS } from '../properties/conformance/backend_clauses.js';
import { SUITE_UNITS } from '../properties/conformance/suite_units.js';
import { runMain } from './support/run_main.js';
import { buildRustExample, RUST_EXAMPLE } from './support/rust_example.js';

interface JsonReport {
  exitCode: number;
  reports: { verdicts: { id: string; status: string; detail?: string; replay?: string }[] }[];
}

async function validate(commandLine: string, extra: string[] = []): Promise<{ code: number; verdicts: JsonReport['reports'][0]['verdicts'] }> {
  const { code, stdout } = await runMain(['validate', '--exec', commandLine, '--json', ...extra]);
  return { code, verdicts: (JSON.parse(stdout) as JsonReport).reports[0]!.verdicts };
}

beforeAll(buildRustExample, 300_000);

describe('examples/rust-file-spill: a backend in Rust over the process protocol', () => {
  it('holds on every clause and every property suite (the fs.* clauses do not apply: a child does not use ctx.fs)', async () => {
    const { code, verdicts } = await validate(RUST_EXAMPLE);
    const expected = (id: string): string => (id.startsWith('fs.') ? 'not-applicable' : 'held');
    expect(Object.fromEntries(verdicts.map((v) => [v.id, v.status]))).toEqual(Object.fromEntries([...BACKEND_CLAUSE_IDS, ...SUITE_UNITS].map((id) => [id, expected(id)])));
    expect(code).toBe(0);
  });

  // Each bug switch is caught by the clause that names the bug, with a replay that reruns the same command.
  it.each([
    ['drains-back', 'spill.drains-front', 'spill of 8 chunks left chunks [0, 1, 2, 3] undrained; draining from the front would leave [4, 5, 6, 7]'],
    ['one-handle-per-batch', 'spill.one-handle-per-chunk', 'spill drained 5 of 5 chunks but pushed 1 handles; the contract is one handle per drained chunk'],
    ['no-retry', 'fetch.retry-after-failure', 'after a failed fetch of handle 0: fetch of the handle returned by the failed fetch panicked: threw BackendPanic: handle 0 was already fetched or never existed; fetch consumes a handle'],
  ])('--bug %s is caught by %s', async (bug, clause, counterexample) => {
    const { code, verdicts } = await validate(`${RUST_EXAMPLE} --bug ${bug}`, ['--no-suites']);
    const verdict = verdicts.find((v) => v.id === clause)!;
    expect(verdict.status).toBe('broken');
    expect(verdict.detail!.split('\n')[0]).toBe(counterexample);
    expect(verdict.replay).toBe(`spillsim validate --exec '${RUST_EXAMPLE} --bug ${bug}' --clause ${clause} --seed 42`);
    expect(code).toBe(1);
  });

  it('an unknown --bug: the load failure shows the reason the backend gave on stderr', async () => {
    const { code, stderr } = await runMain(['validate', '--exec', `${RUST_EXAMPLE} --bug nope`]);
    expect(code).toBe(2);
    expect(stderr.trim().split('\n').slice(1)).toEqual(['  child stderr:', '    rust-file-spill: unknown bug "nope"; known: drains-back, one-handle-per-batch, no-retry']);
  });

  it('check --exec and replay --exec run the property suites over it', async () => {
    const check = await runMain(['check', '--exec', RUST_EXAMPLE, '--suite', 'ordering,differential', '--runs', '30', '--seed', '7', '--quiet', '--no-example-db']);
    expect(check.stdout).toContain(`backend --exec ${RUST_EXAMPLE}`);
    expect(check.stdout).toContain('all suites held');
    expect(check.code).toBe(0);
    const replay = await runMain(['replay', '--property', 'ordering', '--seed', '7', '--path', '0', '--exec', RUST_EXAMPLE]);
    expect(replay.stdout).toMatch(/^ordering, seed 7, path 0\n/);
    expect(replay.code).toBe(0);
  });

  it('a bug switch the example does not know is a usage error of the child, reported at load', async () => {
    const { code, stderr } = await runMain(['validate', '--exec', `${RUST_EXAMPLE} --bug nonsense`]);
    expect(code).toBe(2);
    expect(stderr).toContain('exited with code 2 before answering');
  });
});
