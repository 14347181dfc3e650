import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CheckedSuite } from '../check_suites.js';
import { EXAMPLE_DB_DIR } from '../example_db.js';
import { type FixtureReplay, fixtureFileName, makeFixture } from '../fixture.js';
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
  check: IsolatedCheckOptions & { stuckMs?: number; onResult?: (result: CheckedSuite) => void; onLoaded?: () => void },
): Promise<CheckedSuite[]> {
  const { stuckMs, onResult, onLoaded, ...options } = check;
  const share = options.timeLimitMs === undefined ? undefined : options.timeLimitMs / Math.max(1, suites.length);
  const results = await runIsolated<CheckedSuite>(
    {
      kind: 'check',
      module: backendPath,
      units: suites.slice(),
      seed: options.seed,
      timeoutMs: stuckMs ?? ISOLATED_STUCK_MS_DEFAULT,
      ...(share === undefined ? {} : { unitCapMs: share + SHRINK_ALLOWANCE_MS }),
      // The worker checks one suite at a time: each gets its share of the limit, not all of it.
      check: share === undefined ? options : { ...options, timeLimitMs: share },
    },
    {
      cutOffsMax: 1,
      ...(onLoaded === undefined ? {} : { onLoaded }),
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
    },
  );
  const out = suites.map((s) => results.get(s)!);
  // Before a failure is printed or kept, it must fail again in a fresh worker with a fresh
  // instance of the module; one that does not depends on state outside its commands.
  for (const result of out) {
    if (result.failure !== undefined && result.cutOff === undefined && result.fromExampleDb === undefined) {
      const again = await replayIsolated(
        backendPath,
        {
          mode: 'seed',
          property: result.suite,
          seed: result.failure.seed,
          path: result.failure.path,
          ...(options.variant === undefined ? {} : { variant: options.variant }),
        },
        stuckMs,
      ).catch(() => undefined);
      if (again?.ok === true && again.result.outcome.violation === undefined) {
        result.notReproduced = `NOT REPRODUCED: replayed alone in a fresh worker with a fresh instance of ${backendPath}, it did not fail; what made it fail is state outside the replayed commands (a process-wide counter, a timer, files left behind), so its replay command passes`;
        markNotReproduced(result, backendPath, options.exampleDb !== false);
      }
    }
    onResult?.(result);
  }
  return out;
}

/** Record in the saved fixtures (example database, --save-failures) that this failure did not reproduce alone. */
function markNotReproduced(result: CheckedSuite, backendPath: string, inExampleDb: boolean): void {
  const paths = [result.savedFixture];
  if (inExampleDb) paths.push(join(EXAMPLE_DB_DIR, fixtureFileName(makeFixture(result.suite, result.variant, result.failure!, backendPath))));
  for (const path of paths) {
    if (path === undefined || !existsSync(path)) continue;
    const fixture = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    writeFileSync(path, `${JSON.stringify({ ...fixture, reproducedAlone: false, note: result.notReproduced }, null, 2)}\n`);
  }
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
