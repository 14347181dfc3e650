import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { describeBackend, describePolicy } from '../properties/vitest.js';
import { BACKEND_CLAUSE_IDS } from '../properties/conformance/backend_clauses.js';
import { runBackendClause } from '../properties/conformance/run_backend_clauses.js';
import { BACKEND_CLAUSES } from '../properties/conformance/backend_clauses.js';
import { MemorySpill } from '../src/index.js';
// @ts-expect-error plain JavaScript fixtures, no type declarations
import createCopyingSpill, { supports as copyingSupports } from '../fixtures/backends/copying.mjs';
// @ts-expect-error plain JavaScript fixtures, no type declarations
import createBufferReuser from '../fixtures/backends/reuses-read-buffer.mjs';
// @ts-expect-error plain JavaScript fixtures, no type declarations
import createHanging from '../fixtures/backends/hangs.mjs';

// Every catalog entry through the vitest helper, the way a backend author's own suite uses it.
interface CatalogEntry {
  module: string;
  breaks: string | null;
  expected: Record<string, 'held' | 'broken' | 'not-applicable' | 'timeout'>;
  timeoutMs?: number;
}
const catalog = JSON.parse(readFileSync(new URL('../fixtures/backends/catalog.json', import.meta.url), 'utf8')) as {
  backends: CatalogEntry[];
  policies: CatalogEntry[];
};

describe('describeBackend(module path) on every backend in fixtures/backends', () => {
  for (const entry of catalog.backends) {
    // The clauses only: catalog.json records the clauses' verdicts (the suites are checked in validate_command.test.ts).
    describeBackend(entry.module, new URL(`../fixtures/backends/${entry.module}`, import.meta.url), {
      expect: entry.expected,
      suites: false,
      ...(entry.timeoutMs === undefined ? {} : { timeoutMs: entry.timeoutMs }),
    });
  }
});

describe('describePolicy on every policy in fixtures/policies', () => {
  for (const entry of catalog.policies) describePolicy(entry.module, new URL(`../fixtures/policies/${entry.module}`, import.meta.url), { expect: entry.expected });
});

// A factory passed as a function runs in this thread.
describeBackend('copying (factory in this thread)', createCopyingSpill, { supports: copyingSupports });
describeBackend('reuses-read-buffer (factory in this thread)', createBufferReuser, {
  suites: false,
  expect: catalog.backends.find((b) => b.module === 'reuses-read-buffer.mjs')!.expected,
});

describe('in-thread runs', () => {
  it('an async hang is cut off at the time limit and named', async () => {
    const clause = BACKEND_CLAUSES.find((c) => c.id === 'fetch.exact-bytes')!;
    const verdict = await runBackendClause({ factory: createHanging, supports: {} }, clause, { seed: 42, timeoutMs: 200 });
    expect(verdict).toMatchObject({ status: 'timeout', detail: 'no answer within 200 ms (waiting for the factory to resolve)' });
  });

  it('an async hang in dispose is cut off at the time limit and named', async () => {
    const clause = BACKEND_CLAUSES.find((c) => c.id === 'fetch.exact-bytes')!;
    const module = { factory: () => new MemorySpill(), supports: {}, dispose: () => new Promise<void>(() => undefined) };
    const verdict = await runBackendClause(module, clause, { seed: 42, timeoutMs: 200 });
    expect(verdict).toMatchObject({ status: 'timeout', detail: "no answer within 200 ms (waiting for the backend's dispose(spill) to return)" });
  });

  it('a factory that throws, or returns no BytesSpill, breaks the clause with the reason', async () => {
    const clause = BACKEND_CLAUSES.find((c) => c.id === 'spill.empty-list')!;
    const throwsNumber = await runBackendClause({ factory: () => { throw 7; }, supports: {} }, clause, { seed: 42, timeoutMs: 1000 });
    expect(throwsNumber).toMatchObject({ status: 'broken', detail: 'the factory threw a non-Error value number 7' });
    const garbage = await runBackendClause({ factory: () => ({ put() {} }) as never, supports: {} }, clause, { seed: 42, timeoutMs: 1000 });
    expect(garbage.status).toBe('broken');
    expect(garbage.detail).toContain('not a BytesSpill');
  });

  it('every clause id is stable and unique', () => {
    expect(new Set(BACKEND_CLAUSE_IDS).size).toBe(BACKEND_CLAUSE_IDS.length);
    for (const id of BACKEND_CLAUSE_IDS) expect(id).toMatch(/^[a-z]+\.[a-z-]+$/);
  });
});
