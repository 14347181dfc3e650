import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, inject, it } from 'vitest';
import { sweepDeadRuns } from './support/temp_root.js';

// test/support/temp_root.ts gives each run its own temp root; these check that what the tests
// start really writes there, so a leaked directory goes away with the run.
describe('the run temp root', () => {
  const root = inject('tempRoot');

  it('is a fresh directory under the system temp dir, and os.tmpdir() of this worker', () => {
    expect(basename(root)).toMatch(new RegExp(`^spillsim-test-run-\\d+-[A-Za-z0-9]{6}$`));
    expect(dirname(root)).not.toBe(root);
    expect(tmpdir()).toBe(root);
  });

  it('is os.tmpdir() of a child process and of a worker thread', async () => {
    const child = execFileSync(process.execPath, ['-e', 'process.stdout.write(require("node:os").tmpdir())'], { encoding: 'utf8' });
    expect(child).toBe(root);
    const worker = new Worker('require("node:worker_threads").parentPort.postMessage(require("node:os").tmpdir())', { eval: true });
    const seen = await new Promise<unknown>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    expect(seen).toBe(root);
  });

  it('of a run killed before its teardown is removed by the next run; a live run keeps its own', () => {
    const systemTemp = mkdtempSync(join(tmpdir(), 'system-'));
    // The pid of a process that has exited: nothing runs under it now.
    const deadPid = spawnSync(process.execPath, ['-e', '']).pid!;
    const dead = join(systemTemp, `spillsim-test-run-${deadPid}-AbC123`);
    const live = join(systemTemp, `spillsim-test-run-${process.pid}-AbC123`);
    const other = join(systemTemp, `spillsim-test-run-${deadPid}-not-ours`);
    for (const dir of [dead, live, other]) mkdirSync(join(dir, 'leftover'), { recursive: true });
    sweepDeadRuns(systemTemp);
    expect([dead, live, other].map(existsSync)).toEqual([false, true, true]);
  });
});
