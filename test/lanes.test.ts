import { describe, expect, it } from 'vitest';
import { BACKEND_CLAUSES } from '../properties/conformance/backend_clauses.js';
import { balance, CLAUSE_THREAD_LANES, planLanes, SUITE_LANES, UNIT_COST_CALLS, USE_HEAVY_CLAUSES } from '../properties/conformance/lanes.js';
import { SUITE_UNITS } from '../properties/conformance/suite_units.js';

// How `spillsim validate` spreads a run over lanes: fixed by the plan, never by timing.
describe('the lanes of a validate run', () => {
  const lanes = planLanes(BACKEND_CLAUSES, SUITE_UNITS);

  it('runs every clause and suite exactly once', () => {
    const units = lanes.flatMap((lane) => lane.units);
    expect(units.slice().sort()).toEqual([...BACKEND_CLAUSES.map((c) => c.id), ...SUITE_UNITS].sort());
    expect(lanes).toHaveLength(1 + CLAUSE_THREAD_LANES + SUITE_LANES);
  });

  it('runs the descriptor clauses in a child process, and the clauses that look for hidden state there last, after the use-heavy ones', () => {
    const [own, ...threads] = lanes;
    expect(own).toMatchObject({ host: 'process', kind: 'backend-clauses' });
    expect(threads.every((lane) => lane.host === 'thread')).toBe(true);
    expect(own!.units).toEqual(['fds.closed', 'fds.bounded', ...USE_HEAVY_CLAUSES, 'determinism.no-hidden-state', 'fetch.any-order']);
    // Nothing else that counts the process's descriptors runs beside them in a thread.
    const ownProcess = BACKEND_CLAUSES.filter((c) => c.ownProcess === true).map((c) => c.id);
    expect(ownProcess).toEqual(['fds.closed', 'fds.bounded']);
    for (const lane of threads) expect(lane.units.filter((u) => ownProcess.includes(u))).toEqual([]);
  });

  it('keeps catalog order inside a lane and the same plan on every call', () => {
    const order = BACKEND_CLAUSES.map((c) => c.id);
    for (const lane of lanes.filter((l) => l.kind === 'backend-clauses' && l.host === 'thread')) {
      expect(lane.units).toEqual(lane.units.slice().sort((a, b) => order.indexOf(a) - order.indexOf(b)));
    }
    expect(planLanes(BACKEND_CLAUSES, SUITE_UNITS)).toEqual(lanes);
  });

  it('balances by the measured calls: no thread lane carries much more than its share', () => {
    const cost = (units: string[]): number => units.reduce((sum, u) => sum + (UNIT_COST_CALLS[u] ?? 10), 0);
    const clauseLanes = lanes.filter((l) => l.kind === 'backend-clauses' && l.host === 'thread').map((l) => cost(l.units));
    const heaviest = Math.max(...lanes.filter((l) => l.host === 'thread').flatMap((l) => l.units.map((u) => UNIT_COST_CALLS[u] ?? 10)));
    // Longest-first greedy: a lane exceeds the average by at most the heaviest single unit.
    const average = clauseLanes.reduce((a, b) => a + b, 0) / clauseLanes.length;
    for (const load of clauseLanes) expect(load).toBeLessThanOrEqual(average + heaviest);
    expect(balance(['a', 'b', 'c'], 2)).toEqual([['a', 'c'], ['b']]);
  });

  it('a clause subset leaves out lanes with nothing to run', () => {
    expect(planLanes(BACKEND_CLAUSES.filter((c) => c.id === 'fds.closed'), [])).toEqual([{ kind: 'backend-clauses', units: ['fds.closed'], host: 'process' }]);
    expect(planLanes(BACKEND_CLAUSES.filter((c) => c.id === 'spill.empty-list'), [])).toEqual([{ kind: 'backend-clauses', units: ['spill.empty-list'], host: 'thread' }]);
  });
});
