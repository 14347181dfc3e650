import { beforeAll, describe, expect, it } from 'vitest';
import type { BytesSpill } from '../src/spill.js';
import { BACKEND_CLAUSES, type BackendClause } from './conformance/backend_clauses.js';
import type { BackendFactory, BackendModule, Supports } from './conformance/backend_module.js';
import { type ClauseVerdict, skippedByBudget, unjudged, type VerdictStatus } from './conformance/clause.js';
import { runBackendClause } from './conformance/run_backend_clauses.js';
import { POLICY_CLAUSE_IDS } from './conformance/policy_clauses.js';
import { CLAUSE_TIMEOUT_MS_DEFAULT, isTimerMs, RUN_BUDGET_MS_DEFAULT, SEED_DEFAULT, TIMEOUT_MS_MAX, validateBackend, validateModule, validatePolicy } from './conformance/validate.js';
import { BUDGET_SKIP_DETAIL } from './conformance/isolated_runner.js';
import { badArgument, describeValue } from '../src/arguments.js';
import { runSuiteUnit, SUITE_RUNS_DEFAULT, SUITE_UNITS, suiteVerdictBase } from './conformance/suite_units.js';
import { execSpecifier } from './process_backend/exec_specifier.js';

/**
 * A backend in a child process that speaks docs/backend-protocol.md: its command line, split into
 * words like a shell does for quotes (`{ exec: './target/release/my-backend --flag' }`).
 */
export interface ExecBackend {
  exec: string;
}

export type { BackendContext, BackendFactory, FaultSwitches, PolicyContext, PolicyFactory, Supports } from './conformance/backend_module.js';
export type { ClauseLevel, ClauseVerdict, VerdictStatus } from './conformance/clause.js';
export { BACKEND_CLAUSE_IDS } from './conformance/backend_clauses.js';
export { POLICY_CLAUSE_IDS } from './conformance/policy_clauses.js';

export interface DescribeBackendOptions {
  /** Capabilities of a factory passed as a function (a module path declares its own `supports`). */
  supports?: Supports;
  /** Releases a backend's resources after each clause (a module path exports its own). */
  dispose?: (spill: BytesSpill) => void | Promise<void>;
  /** Default 42. */
  seed?: number;
  /** Per clause, default 10 000 ms. */
  timeoutMs?: number;
  /** Register only these clause ids (then no property suite runs). */
  clauses?: readonly string[];
  /** Also run the property suites, one test each, as `spillsim validate` does (default true). */
  suites?: boolean;
  /** Runs per property suite (default 20, as the command). */
  runs?: number;
  /** The whole run in ms (default 50 000, as the command); what is left when it is spent is skipped. */
  budgetMs?: number;
  /**
   * Verdicts you expect other than held, by clause id (e.g. a known bug, like `it.fails`). A clause
   * not listed must hold; one that does not apply is registered as skipped.
   */
  expect?: Readonly<Record<string, VerdictStatus>>;
}

/**
 * Register the conformance clauses as vitest tests, one `it` per clause, in a `describe` named
 * `name`. Pass a factory `(ctx) => BytesSpill` to run the clauses in this thread (an async hang is
 * cut off; a synchronous infinite loop is not), or a module path / URL, or `{ exec: 'command line' }`
 * for a backend in another language, to run them isolated in a worker, exactly as `spillsim validate` does.
 */
export function describeBackend(name: string, backend: BackendFactory | string | URL | ExecBackend, options: DescribeBackendOptions = {}): void {
  const clauses = BACKEND_CLAUSES.filter((c) => options.clauses === undefined || options.clauses.includes(c.id));
  const withSuites = (options.suites ?? true) && options.clauses === undefined;
  const units = [...clauses.map((c) => ({ id: c.id, title: c.title })), ...(withSuites ? SUITE_UNITS.map((id) => ({ id, title: suiteVerdictBase(id).title })) : [])];
  const seed = options.seed ?? SEED_DEFAULT;
  const timeoutMs = checkMilliseconds('timeoutMs', options.timeoutMs, CLAUSE_TIMEOUT_MS_DEFAULT);
  const budgetMs = checkMilliseconds('budgetMs', options.budgetMs, RUN_BUDGET_MS_DEFAULT);
  const runAll =
    typeof backend === 'function'
      ? () => inThread(backend, options, clauses, withSuites, seed, timeoutMs, budgetMs)
      : () =>
          validateModule(specifierOf(backend), {
            seed,
            timeoutMs,
            suites: withSuites,
            ...(options.clauses === undefined ? {} : { clauseIds: clauses.map((c) => c.id) }),
            ...(options.runs === undefined ? {} : { runs: options.runs }),
            budgetMs,
          });
  describe(name, () => {
    // One run for the whole block, as the command makes it (clauses, suites, then every failure
    // replayed in a fresh worker); each test then reads its own verdict.
    let verdicts: ClauseVerdict[] = [];
    beforeAll(async () => {
      verdicts = await runAll();
    }, WHOLE_RUN_TIMEOUT_MS);
    for (const unit of units) {
      it(unit.id, async (context) => {
        const verdict = verdicts.find((v) => v.id === unit.id);
        expect(verdict, `no verdict for ${unit.id}`).toBeDefined();
        const expected = options.expect?.[unit.id];
        // A clause the budget left unrun was not judged: that is no pass (as the command's exit 1).
        if (expected === undefined && unjudged(verdict!)) expect.fail(`${unit.id} was not judged: ${verdict!.detail ?? ''}`);
        if (expected === undefined && verdict!.status === 'not-applicable') {
          context.skip(`not applicable: ${verdict!.detail ?? ''}`);
          return;
        }
        expect(verdict!.status, `${unit.title}\n${verdict!.detail ?? ''}`).toBe(expected ?? 'held');
      });
    }
  });
}

/** How long one describeBackend block may take to run everything (the command's own limits stop a hostile backend far sooner). */
const WHOLE_RUN_TIMEOUT_MS = 600_000;

/**
 * Run one clause against a backend module in a worker (with its time limit) and return the
 * verdict. This is what a file written by `spillsim validate --emit-test` calls.
 */
export async function checkBackendClause(module: string | URL | ExecBackend, clauseId: string, options: { seed?: number; timeoutMs?: number; example?: unknown } = {}): Promise<ClauseVerdict> {
  const [verdict] = await validateBackend(specifierOf(module), { ...options, clauseIds: [clauseId] });
  return verdict!;
}

function specifierOf(backend: string | URL | ExecBackend): string {
  if (typeof backend === 'object' && 'exec' in backend) return execSpecifier(backend.exec);
  return String(backend);
}

async function inThread(
  factory: BackendFactory,
  options: DescribeBackendOptions,
  clauses: readonly BackendClause[],
  withSuites: boolean,
  seed: number,
  timeoutMs: number,
  budgetMs: number,
): Promise<ClauseVerdict[]> {
  const module: BackendModule = { factory, supports: options.supports ?? {}, ...(options.dispose === undefined ? {} : { dispose: options.dispose }) };
  const deadline = Date.now() + budgetMs;
  const verdicts: ClauseVerdict[] = [];
  // The budget as the command keeps it: what is left when it is spent is skipped (a clause so is not judged).
  for (const clause of clauses) {
    if (Date.now() >= deadline) verdicts.push(skippedByBudget(clause, BUDGET_SKIP_DETAIL));
    else verdicts.push(await runBackendClause(module, clause, { seed, timeoutMs }));
  }
  if (withSuites) {
    for (const unit of SUITE_UNITS) {
      if (Date.now() >= deadline) verdicts.push({ ...suiteVerdictBase(unit), status: 'not-applicable', detail: BUDGET_SKIP_DETAIL });
      else verdicts.push(await runSuiteUnit(module, '(factory)', unit, { seed, runs: options.runs ?? SUITE_RUNS_DEFAULT, timeLimitMs: 4_000 }));
    }
  }
  return verdicts;
}

/** A limit in ms, as the command's `--timeout-ms`/`--budget-ms` take it: a whole number from 1 to TIMEOUT_MS_MAX. */
function checkMilliseconds(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!isTimerMs(value)) {
    throw badArgument(`describeBackend: ${name} must be a whole number of milliseconds from 1 to ${TIMEOUT_MS_MAX} (the longest a timer can wait), got ${describeValue(value)}`);
  }
  return value;
}

export interface DescribePolicyOptions {
  /** Default 42. */
  seed?: number;
  timeoutMs?: number;
  /** Verdicts you expect other than held, by clause id. */
  expect?: Readonly<Record<string, VerdictStatus>>;
}

/**
 * Register the policy clauses (no loss, no duplication, order kept, merge target resident,
 * reader progress) as vitest tests for a policy module, run isolated like `spillsim validate --policy`.
 */
export function describePolicy(name: string, module: string | URL, options: DescribePolicyOptions = {}): void {
  let all: Promise<ClauseVerdict[]> | undefined;
  const timeoutMs = options.timeoutMs ?? CLAUSE_TIMEOUT_MS_DEFAULT;
  describe(name, () => {
    for (const id of POLICY_CLAUSE_IDS) {
      it(id, { timeout: timeoutMs * POLICY_CLAUSE_IDS.length + 15_000 }, async () => {
        all ??= validatePolicy(String(module), { seed: options.seed ?? SEED_DEFAULT, timeoutMs });
        const verdict = (await all).find((v) => v.id === id)!;
        expect(verdict.status, `${verdict.title}\n${verdict.detail ?? ''}`).toBe(options.expect?.[id] ?? 'held');
      });
    }
  });
}
