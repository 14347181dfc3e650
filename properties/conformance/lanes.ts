import type { BackendClause } from './backend_clauses.js';
import { NO_HIDDEN_STATE_ID } from './clause.js';

/**
 * One lane of a run: units of one kind run one after another in one isolated worker (a fresh
 * one after a cut-off), beside the other lanes. Which units share a lane is fixed by the plan,
 * never by timing, so a whole run repeats exactly (a failure from state kept across units
 * reproduces with the same command).
 */
export interface Lane {
  kind: 'backend-clauses' | 'suites';
  units: string[];
  /** `process`: a child process of its own (the clauses that count the process's descriptors). */
  host: 'thread' | 'process';
}

/** Thread lanes the clauses not pinned to the process lane are spread over. */
export const CLAUSE_THREAD_LANES = 3;
/** Thread lanes the property suites are spread over. */
export const SUITE_LANES = 2;

/**
 * Roughly how many backend calls a unit makes, measured with the 10 ms-per-call control
 * (`fixtures/cases/backends/slow-correct.mjs`, seed 42: its time in ms / 10). The plan balances
 * the lanes by it; an estimate that is off costs wall time, never a verdict. Unlisted: 10.
 */
export const UNIT_COST_CALLS: Readonly<Record<string, number>> = {
  'spill.huge-list': 207,
  'fds.bounded': 264,
  'fds.closed': 46,
  'files.removed': 47,
  'spill.volume': 305,
  'fetch.held-after-volume': 400,
  'fetch.no-pinning': 70,
  'fs.short-writes': 29,
  'fs.short-reads': 29,
  'fs.transient-errors': 29,
  'fs.hard-errors': 29,
  'spill.empty-batches': 18,
  'fetch.any-order': 237,
  'suite.ordering': 88,
  'suite.no-stall': 12,
  'suite.partial-spill': 200,
  'suite.memory-bound': 69,
  'suite.differential': 99,
  'suite.transparency': 167,
  'suite.exhaustive': 420,
};
const UNIT_COST_DEFAULT = 10;

/**
 * Clauses that make many spill calls on one instance (see `UNIT_COST_CALLS`' measurement): they
 * run in the process lane before the clauses that look for state kept outside an instance.
 */
export const USE_HEAVY_CLAUSES: readonly string[] = ['spill.empty-batches', 'fs.short-writes', 'fs.short-reads', 'fs.transient-errors', 'fs.hard-errors'];

/**
 * The lanes of a run over `clauses` (catalog order) and `suites`:
 *
 * - one lane in a child process: the clauses that count the process's descriptors
 *   (`ownProcess`), the other clauses that make many spill calls (`USE_HEAVY_CLAUSES`), then
 *   `determinism.no-hidden-state` and the stochastic clauses. Those two look for state kept
 *   outside an instance (a counter in the module) and so come after the clauses that use one
 *   module instance the most: 287 spill calls before them on a plain backend (`fds.bounded`
 *   alone makes 256 to 1024), where one worker running every clause in turn made 352;
 * - the other clauses over `CLAUSE_THREAD_LANES` threads and the suites over `SUITE_LANES`,
 *   balanced by `UNIT_COST_CALLS` (longest first, each to the least loaded lane), each lane in
 *   catalog order.
 *
 * Lanes with no unit are left out.
 */
export function planLanes(clauses: readonly Pick<BackendClause, 'id' | 'level' | 'ownProcess'>[], suites: readonly string[]): Lane[] {
  const stateful = (c: Pick<BackendClause, 'id' | 'level'>): boolean => c.id === NO_HIDDEN_STATE_ID || c.level === 'stochastic';
  const pinned = (c: Pick<BackendClause, 'id' | 'level' | 'ownProcess'>): boolean => c.ownProcess === true || USE_HEAVY_CLAUSES.includes(c.id) || stateful(c);
  const first = clauses.filter((c) => pinned(c) && !stateful(c));
  const last = clauses.filter(stateful);
  const lanes: Lane[] = [{ kind: 'backend-clauses', units: [...first, ...last].map((c) => c.id), host: 'process' }];
  for (const units of balance(clauses.filter((c) => !pinned(c)).map((c) => c.id), CLAUSE_THREAD_LANES)) lanes.push({ kind: 'backend-clauses', units, host: 'thread' });
  for (const units of balance(suites, SUITE_LANES)) lanes.push({ kind: 'suites', units, host: 'thread' });
  return lanes.filter((lane) => lane.units.length > 0);
}

/** Longest first, each unit to the least loaded of `count` lanes; each lane keeps the order of `units`. */
export function balance(units: readonly string[], count: number): string[][] {
  const cost = (u: string): number => UNIT_COST_CALLS[u] ?? UNIT_COST_DEFAULT;
  const loads = Array.from({ length: count }, () => 0);
  const laneOf = new Map<string, number>();
  for (const unit of units.slice().sort((a, b) => cost(b) - cost(a) || units.indexOf(a) - units.indexOf(b))) {
    const lane = loads.indexOf(Math.min(...loads));
    laneOf.set(unit, lane);
    loads[lane]! += cost(unit);
  }
  return loads.map((_, lane) => units.filter((u) => laneOf.get(u) === lane));
}
