import type { CheckedSuite } from '../check_suites.js';
import type { FixtureReplay } from '../fixture.js';
import type { ReplayResult } from '../run_suite.js';
import { runIsolated } from './isolated_runner.js';
import type { IsolatedCheckOptions, IsolatedReplayRequest } from './worker_protocol.js';

/** No backend call for this long: stuck (the same default as `validate`'s clauses). */
export const ISOLATED_STUCK_MS_DEFAULT = 10_000;
/** Shrinking a failure may take this long on top of a suite's share of the time limit. */
const SHRINK_ALLOWANCE_MS = 120_000;

/**
 * `spillsim check --backend MODULE`, run the way `validate` runs a backend: each suite in a
 * worker thread, a backend that hangs, loops, exits, runs out of memory, floods its output or
 * leaves an unhandled rejection or a throwing timer behind cut off with a one-line reason
 * (`cutOff`), and the rest of the suites skipped after the first such cut-off.
 */
export async function checkIsolated(
  backendPath: string,
  suites: readonly string[],
  check: IsolatedCheckOptions & { stuckMs?: number; onResult?: (result: CheckedSuite) => void },
): Promise<CheckedSuite[]> {
  const { stuckMs, onResult, ...options } = check;
  const share = options.timeLimitMs === undefined ? undefined : options.timeLimitMs / Math.max(1, suites.length);
  const results = await runIsolated<CheckedSuite>(
    {
      kind: 'check',
      module: backendPath,
      units: suites.slice(),
      seed: options.seed,
      timeoutMs: stuckMs ?? ISOLATED_STUCK_MS_DEFAULT,
      ...(share === undefined ? {} : { unitCapMs: share + SHRINK_ALLOWANCE_MS }),
      check: options,
    },
    {
      cutOffsMax: 1,
      timeoutResult: (suite, detail) => ({
        suite,
        variant: options.variant ?? 'default',
        ok: false,
        runs: 0,
        commands: 0,
        interrupted: false,
        timeMs: 0,
        cutOff: detail,
      }),
      ...(onResult === undefined ? {} : { onResult: (_unit: string, result: CheckedSuite) => onResult(result) }),
    },
  );
  return suites.map((s) => results.get(s)!);
}

/** What an isolated replay gives back: the replay, or why the worker had to be stopped. */
export type IsolatedReplay<R> = { ok: true; result: R } | { ok: false; cutOff: string };

/** `spillsim replay --backend`, isolated like `validate`: a misbehaving backend is a one-line reason, not a hang or a crash. */
export async function replayIsolated(backendPath: string, request: Extract<IsolatedReplayRequest, { mode: 'seed' }>, stuckMs?: number): Promise<IsolatedReplay<ReplayResult>>;
export async function replayIsolated(backendPath: string, request: Extract<IsolatedReplayRequest, { mode: 'fixture' }>, stuckMs?: number): Promise<IsolatedReplay<FixtureReplay>>;
export async function replayIsolated(backendPath: string, request: IsolatedReplayRequest, stuckMs = ISOLATED_STUCK_MS_DEFAULT): Promise<IsolatedReplay<unknown>> {
  const results = await runIsolated<IsolatedReplay<unknown>>(
    { kind: 'replay', module: backendPath, units: ['replay'], seed: request.mode === 'seed' ? request.seed : 0, timeoutMs: stuckMs, replay: request },
    { timeoutResult: (_unit, detail) => ({ ok: false, cutOff: detail }) },
  );
  return results.get('replay')!;
}
