import { describe, expect, it } from 'vitest';
import { captureOpScript, OP_DRAIN, OP_DROP_READER, OP_DROP_WRITER, OpScriptReplay } from '../bench/op_script.js';
import captureOpScripts from '../bench/op_script_worker.js';
import { runSimulation, type SimOptions, type SimRunStats } from '../sim/run.js';
import type { SimRunResult } from '../sim/trace.js';
import type { PolicyKnobs } from '../sim/workload.js';

// Benchmark 5 times a deep run against the same queue operations replayed outside the simulator.
// The comparison is only fair if the script is the run's own operations and the replay does what
// the queue did in the run: checked here without faults, where both must move the same bytes.

const memory = new Uint8Array(4 << 20);

function knobs(result: SimRunResult): PolicyKnobs {
  return result.knobs as PolicyKnobs;
}

function stats(result: SimRunResult): SimRunStats {
  return result.stats as SimRunStats;
}

function replayMatches(options: SimOptions): void {
  const { result, script } = captureOpScript(options);
  expect(result.ok, `seed ${options.seed}: ${result.violation?.message}`).toBe(true);
  // Recording only forwards: the run is the same run.
  expect(result.traceHash).toBe(runSimulation(options).traceHash);
  const counted = stats(result);
  expect({ extends: script.extendCalls, drains: script.drainCalls }).toEqual({ extends: counted.extendCalls, drains: counted.drainCalls });
  expect(script.ops.filter((op) => op === OP_DROP_WRITER).length).toBe(1);
  expect(script.ops.filter((op) => op === OP_DROP_READER).length).toBe(1);
  const replayed = new OpScriptReplay(script, knobs(result), memory).run();
  // The same bytes delivered, and the same bytes spilled: the replayed queue merged and spilled as the simulated one did.
  expect({ seed: options.seed, delivered: replayed.deliveredBytes, spilled: replayed.spilledBytes, calls: replayed.calls }).toEqual({
    seed: options.seed,
    delivered: counted.deliveredBytes,
    spilled: counted.spilledBytes,
    calls: counted.extendCalls + counted.drainCalls,
  });
}

describe('operation scripts (benchmark 5: the same operations outside the simulator)', () => {
  it('replaying a short seed without faults delivers and spills what the simulation did', () => {
    let spilled = 0;
    for (let seed = 1; seed <= 12; seed += 1) {
      replayMatches({ seed, faults: 'none' });
      spilled += stats(runSimulation({ seed, faults: 'none' })).spilledBytes;
    }
    // Not a vacuous match: the seeds spill.
    expect(spilled).toBeGreaterThan(0);
  });

  it('replaying an --ops 5000 run without faults delivers and spills what the simulation did', () => {
    const options: SimOptions = { seed: 7, faults: 'none', ops: 5000 };
    replayMatches(options);
    const { script } = captureOpScript(options);
    expect(script.extendCalls + script.drainCalls).toBeGreaterThan(4000);
    expect(script.ops.includes(OP_DRAIN)).toBe(true);
  });

  it('capturing with faults on leaves the run as it was, and the worker body captures the same scripts', () => {
    const seeds = [1, 2, 3, 4, 5];
    const captured = captureOpScripts({ seeds });
    expect(captured.map((c) => c.result.traceHash)).toEqual(seeds.map((seed) => runSimulation({ seed, workload: 'single' }).traceHash));
    expect(captured.map((c) => [...c.script.ops])).toEqual(seeds.map((seed) => [...captureOpScript({ seed }).script.ops]));
  });

  it('a replay runs once, and a merging run longer than its memory is refused', () => {
    const { result, script } = captureOpScript({ seed: 1, faults: 'none' });
    const replay = new OpScriptReplay(script, knobs(result), memory);
    replay.run();
    expect(() => replay.run()).toThrow(/runs once/);
    expect(() => new OpScriptReplay(script, knobs(result), new Uint8Array(4))).toThrow(/does not fit in the 4-byte replay memory/);
  });
});
