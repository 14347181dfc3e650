import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { basename, dirname } from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, inject, it } from 'vitest';

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
});
