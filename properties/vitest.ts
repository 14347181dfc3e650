import { describe, expect, it } from 'vitest';
import type { BytesSpill } from '../src/spill.js';
import { BACKEND_CLAUSES } from './conformance/backend_clauses.js';
import type { BackendFactory, BackendModule, Supports } from './conformance/backend_module.js';
import type { ClauseVerdict, VerdictStatus } from './conformance/clause.js';
import { runBackendClause } from './conformance/run_backend_clauses.js';
import { POLICY_CLAUSE_IDS } from './conformance/policy_clauses.js';
import { CLAUSE_TIMEOUT_MS_DEFAULT, SEED_DEFAULT, validateBackend, validatePolicy } from './conformance/validate.js';
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
  /** Register only these clause ids. */
  clauses?: readonly string[];
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
  const seed = options.seed ?? SEED_DEFAULT;
  const timeoutMs = options.timeoutMs ?? CLAUSE_TIMEOUT_MS_DEFAULT;
  const verdictOf = typeof backend === 'function' ? inThread(backend, options, seed, timeoutMs) : isolated(specifierOf(backend), clauses, seed, timeoutMs);
  describe(name, () => {
    for (const clause of clauses) {
      // Room for the clause's own limit plus starting a worker and loading the module.
      it(clause.id, { timeout: timeoutMs * 2 + 15_000 }, async (context) => {
        const verdict = await verdictOf(clause.id);
        const expected = options.expect?.[clause.id];
        if (expected === undefined && verdict.status === 'not-applicable') {
          context.skip(`not applicable: ${verdict.detail ?? ''}`);
          return;
        }
        expect(verdict.status, `${clause.title}\n${verdict.detail ?? ''}`).toBe(expected ?? 'held');
      });
    }
  });
}

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

function inThread(factory: BackendFactory, options: DescribeBackendOptions, seed: number, timeoutMs: number): (id: string) => Promise<ClauseVerdict> {
  const module: BackendModule = { factory, supports: options.supports ?? {}, ...(options.dispose === undefined ? {} : { dispose: options.dispose }) };
  return (id) => runBackendClause(module, BACKEND_CLAUSES.find((c) => c.id === id)!, { seed, timeoutMs });
}

function isolated(module: string, clauses: readonly { id: string }[], seed: number, timeoutMs: number): (id: string) => Promise<ClauseVerdict> {
  // One worker run for the whole describe block, started by the first test that asks.
  let all: Promise<ClauseVerdict[]> | undefined;
  return async (id) => {
    all ??= validateBackend(module, { seed, timeoutMs, clauseIds: clauses.map((c) => c.id) });
    return (await all).find((v) => v.id === id)!;
  };
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
