import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { emitTestSource } from '../properties/conformance/emit_test.js';
import { validateBackend } from '../properties/conformance/validate.js';
import { backendArgument, checkCommandLine, shellQuote, splitCommandLine } from '../properties/process_backend/exec_specifier.js';
import { BodyReader, FrameWriter, ProtocolError, parseHeader, Request } from '../properties/process_backend/protocol.js';
import { describeBackend } from '../properties/vitest.js';
import { ensureBuilt } from './support/built_cli.js';
import { runMain } from './support/run_main.js';

// The children import `spillsim`, which resolves to dist/: build it before any child starts.
beforeAll(ensureBuilt, 180_000);

/** Whether a process still runs: a killed child nobody has reaped yet is a zombie, which counts as gone. */
function runningState(pid: number): 'running' | 'gone' {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z') ? 'gone' : 'running';
  } catch {
    return 'gone';
  }
}

/** SIGKILL is delivered asynchronously: poll until the process is gone, for at most `ms`. */
async function stateAfterKill(pid: number, ms = 5_000): Promise<'running' | 'gone'> {
  const until = performance.now() + ms;
  while (runningState(pid) === 'running' && performance.now() < until) await new Promise((resolve) => setTimeout(resolve, 50));
  return runningState(pid);
}

const NODE_ADAPTER = 'node examples/node-memory-spill/serve.mjs';
const misbehaving = (mode: string): string => `node fixtures/backends/exec/misbehaving.mjs ${mode}`;

// The Node adapter serves MemorySpill and honours the fault words, so every clause applies and holds.
describeBackend('the Node adapter (MemorySpill in a child process)', { exec: NODE_ADAPTER });

describe('a child that misbehaves mid-call gets a one-line verdict, never a crash or hang of spillsim', () => {
  const verdictOf = async (mode: string, timeoutMs = 10_000) => {
    const [verdict] = await validateBackend(`exec:${misbehaving(mode)}`, { clauseIds: ['spill.makes-progress'], timeoutMs });
    return verdict!;
  };

  it('exits mid-call: broken, with the exit code and its stderr', async () => {
    const verdict = await verdictOf('exit-mid-call');
    expect(verdict.status).toBe('broken');
    expect(verdict.detail!.split('\n')[0]).toBe('spill of 1 chunks: the child (node) exited with code 3 before answering');
    expect(verdict.detail).toContain('misbehaving: exiting in the middle of a spill');
  });

  it('sends a short frame: broken, saying how much of the frame came', async () => {
    const verdict = await verdictOf('short-frame');
    expect(verdict.status).toBe('broken');
    expect(verdict.detail!.split('\n')[0]).toBe('spill of 1 chunks: the child (node) exited with code 0 after 18 of the 108 bytes of a frame');
  });

  it('sends a frame whose length does not fit its fields: broken', async () => {
    const verdict = await verdictOf('wrong-length');
    expect(verdict.status).toBe('broken');
    expect(verdict.detail).toBe('spill of 1 chunks: the child (node) sent a SPILLED frame of 4 body bytes whose fields need at least 8; its length is wrong');
  });

  it('writes text where a frame should be: broken, showing the bytes', async () => {
    const verdict = await verdictOf('garbage');
    expect(verdict.status).toBe('broken');
    expect(verdict.detail).toMatch(/^spill of 1 chunks: the child \(node\) wrote garbage where a frame should start: 68 65 6c 6c 6f 20 66 72 … \("hello fr"\)/);
  });

  it('hangs: timeout, and the child is killed', async () => {
    const started = performance.now();
    const verdict = await verdictOf('hang', 1500);
    expect(verdict.status).toBe('timeout');
    expect(verdict.detail!.split('\n')[0]).toMatch(/^spill of 1 chunks: the child \(node, pid \d+\) did not answer within 1500 ms \(it sent nothing of an answer\); it was killed$/);
    expect(performance.now() - started).toBeLessThan(15_000);
    const pid = Number(/pid (\d+)/.exec(verdict.detail!)![1]);
    expect(await stateAfterKill(pid)).toBe('gone');
  });

  it('is stuck past the clause limit: the runner stops the worker and kills the child it left', async () => {
    const token = `token-${process.pid}-${Date.now()}`;
    const [verdict] = await validateBackend(`exec:${misbehaving('slow-stuck')} ${token}`, { clauseIds: ['spill.makes-progress'], timeoutMs: 2000 });
    expect(verdict!.status).toBe('timeout');
    expect(verdict!.detail).toMatch(/the worker was stopped/);
    // The kill is asynchronous: look for up to 5 s.
    const stillRunning = (): string[] => execFileSync('ps', ['-eo', 'stat,args'], { encoding: 'utf8' }).split('\n').filter((line) => line.includes(token) && !line.startsWith('Z'));
    const until = performance.now() + 5_000;
    while (stillRunning().length > 0 && performance.now() < until) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(stillRunning()).toEqual([]);
  });

  it('run through a shell that starts the real program: the program the shell started is killed too, not left to init', async () => {
    // A unique sleep length marks the grandchild; `; true` keeps sh as its parent (a lone command would be exec'd in its place).
    const seconds = `97.${process.pid}`;
    const { code } = await runMain(['validate', '--exec', `sh -c "sleep ${seconds}; true"`, '--quiet', '--timeout-ms', '1000']);
    expect(code).toBe(2);
    const stillRunning = (): string[] => execFileSync('ps', ['-eo', 'stat,args'], { encoding: 'utf8' }).split('\n').filter((line) => line.includes(`sleep ${seconds}`) && !line.startsWith('Z'));
    const until = performance.now() + 5_000;
    while (stillRunning().length > 0 && performance.now() < until) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(stillRunning()).toEqual([]);
  });

  it('never answers the CLOSE that disposes an instance: timeout, naming dispose and the request', async () => {
    const verdict = await verdictOf('hang-close', 1500);
    expect(verdict.status).toBe('timeout');
    // The child's own limit (CLOSE) or the runner's (the worker waiting in dispose) ends it, whichever comes first.
    expect(verdict.detail).toMatch(/^(waiting for the backend's dispose\(spill\) to return: CLOSE of instance \d+: the child \(node, pid \d+\) did not answer within 1500 ms|no answer within 1500 ms: waiting for the backend's dispose\(spill\) to return)/);
  });

  it('logs more than a pipe holds while it works: spillsim keeps reading its stderr, and the clause holds', async () => {
    const verdict = await verdictOf('chatty');
    expect(verdict.status).toBe('held');
  });

  it('the command prints the verdict with a replay that carries --exec, and exits 1', async () => {
    const { code, stdout } = await runMain(['validate', '--exec', misbehaving('exit-mid-call'), '--clause', 'spill.makes-progress', '--json']);
    expect(code).toBe(1);
    const verdict = (JSON.parse(stdout) as { reports: { verdicts: { status: string; replay: string }[] }[] }).reports[0]!.verdicts[0]!;
    expect(verdict.status).toBe('broken');
    expect(verdict.replay).toBe(`spillsim validate --exec 'node fixtures/backends/exec/misbehaving.mjs exit-mid-call' --clause spill.makes-progress --seed 42`);
  });
});

it('fds.closed counts the child\'s descriptors: a child that leaks one per fetch is caught, the pipes spillsim talks over are not blamed', async () => {
  const [leaks] = await validateBackend('exec:node fixtures/backends/exec/leaks-fd.mjs', { clauseIds: ['fds.closed'] });
  expect(leaks!.status).toBe('broken');
  expect(leaks!.detail!.split('\n')[0]).toMatch(/^after every handle was fetched, \d+ descriptors \(fd \d+ -> \/dev\/null, /);
  const [adapter] = await validateBackend(`exec:${NODE_ADAPTER}`, { clauseIds: ['fds.closed', 'fds.bounded'] });
  expect(adapter!.status).toBe('held');
});

describe('--exec input is checked before anything starts', () => {
  it('a program that does not exist is bad input (exit 2, one line)', async () => {
    const { code, stderr } = await runMain(['validate', '--exec', './no-such-backend --flag']);
    expect(code).toBe(2);
    expect(stderr.trim()).toBe('spillsim: cannot use --exec "./no-such-backend --flag": ./no-such-backend: no such executable file');
  });

  it('a correct program that starts slower than --timeout-ms is not bad input: the handshake waits at least 10 s', async () => {
    // Node starts in tens of milliseconds at best; 1 ms per call used to fail the handshake (exit 2).
    const { code, stdout, stderr } = await runMain(['validate', '--exec', NODE_ADAPTER, '--timeout-ms', '1', '--clause', 'spill.empty-list', '--quiet']);
    expect(stderr).not.toContain('cannot use --exec');
    expect(code).not.toBe(2);
    expect(stdout).toMatch(/^ {2}(held|TIMEOUT) +spill\.empty-list/m);
  });

  it('a program that does not speak the protocol is bad input at the handshake', async () => {
    const { code, stderr } = await runMain(['validate', '--exec', 'cat', '--quiet']);
    expect(code).toBe(2);
    expect(stderr.trim()).toBe('spillsim: cannot use --exec "cat": the handshake (HELLO): the child (cat) answered unknown kind 0x01 instead of READY');
  });

  it("a child that exits before the handshake: the reason, then the child's own stderr (its first lines)", async () => {
    const { code, stderr } = await runMain(['validate', '--exec', `${misbehaving('nope')}`, '--quiet']);
    expect(code).toBe(2);
    expect(stderr.trim().split('\n')).toEqual([
      `spillsim: cannot use --exec "${misbehaving('nope')}": the handshake (HELLO): the child (node) exited with code 2 before answering`,
      '  child stderr:',
      '    usage: misbehaving.mjs exit-mid-call|short-frame|wrong-length|garbage|hang|stuck|slow-stuck|chatty|hang-close',
    ]);
  });

  it('the stderr shown under a load failure is bounded: its first 8 lines, each cut at 200 characters', async () => {
    const { code, stderr } = await runMain(['validate', '--exec', misbehaving('refuse-loudly'), '--quiet']);
    expect(code).toBe(2);
    const lines = stderr.trim().split('\n');
    expect(lines[0]).toMatch(/exited with code 2 before answering$/);
    expect(lines[1]).toBe('  child stderr (first 8 of 20 lines):');
    expect(lines.slice(2)).toEqual([
      '    refusing: line 1',
      `    line 2: ${'x'.repeat(192)}…`,
      ...[3, 4, 5, 6, 7, 8].map((n) => `    refusing: line ${n}`),
    ]);
  });

  it('check takes --exec or --backend, not both', async () => {
    const { code, stderr } = await runMain(['check', '--exec', NODE_ADAPTER, '--backend', 'fixtures/backends/memory.mjs']);
    expect(code).toBe(2);
    expect(stderr).toContain('give --backend or --exec, not both');
  });

  it('splits a command line like a shell does for quotes, and quotes it back', () => {
    expect(splitCommandLine(`./x --bug "drains back" 'a b' c\\ d`)).toEqual(['./x', '--bug', 'drains back', 'a b', 'c d']);
    expect(() => splitCommandLine(`./x "open`)).toThrow(/quote is not closed/);
    expect(() => splitCommandLine('   ')).toThrow(/needs a command line/);
    expect(shellQuote('./x')).toBe('./x');
    expect(shellQuote("it's a b")).toBe(`'it'\\''s a b'`);
    expect(checkCommandLine('node -e 1')).toEqual(['node', '-e', '1']);
  });

  it('a replay line names a module path with a space so a shell can run it', () => {
    expect(backendArgument('fixtures/backends/memory.mjs')).toBe('fixtures/backends/memory.mjs');
    expect(backendArgument('my dir/c.mjs')).toBe(`'my dir/c.mjs'`);
    expect(backendArgument('exec:./x --bug a')).toBe(`--exec './x --bug a'`);
  });
});

it('--emit-test writes a test that replays the broken clauses against the same command line', () => {
  const source = emitTestSource({
    moduleSpecifier: `exec:${misbehaving('garbage')}`,
    outPath: 'test/replay.test.ts',
    seed: 42,
    verdicts: [{ id: 'spill.makes-progress', level: 'required', status: 'broken', title: 't', detail: 'garbage' }],
  });
  // The script's path is made relative to the test file, so the test runs from any directory.
  expect(source).toContain(`const backend = { exec: ["node", path("../fixtures/backends/exec/misbehaving.mjs"), "garbage"].join(' ') };`);
  expect(source).toContain(`await checkBackendClause(backend, "spill.makes-progress", { seed: 42 })`);
  // A command line naming no file of ours is kept as it is.
  const plain = emitTestSource({ moduleSpecifier: 'exec:node -e 1', outPath: 'test/replay.test.ts', seed: 42, verdicts: [{ id: 'spill.makes-progress', level: 'required', status: 'broken', title: 't' }] });
  expect(plain).toContain(`const backend = { exec: "node -e 1" };`);
});

it('--emit-test refuses to write over the script a command line runs', async () => {
  for (const [commandLine, target] of [
    ['node fixtures/backends/exec/leaks-fd.mjs', 'fixtures/backends/exec/leaks-fd.mjs'],
    ['node ./fixtures/backends/exec/leaks-fd.mjs --verbose', 'fixtures/backends/exec/../exec/leaks-fd.mjs'],
  ]) {
    const before = readFileSync(target!, 'utf8');
    const { code, stdout, stderr } = await runMain(['validate', '--exec', commandLine!, '--no-suites', '--emit-test', target!]);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.trim()).toMatch(/^spillsim: --emit-test .*leaks-fd\.mjs: that is the input .*leaks-fd\.mjs; writing it would overwrite the input, so give another file$/);
    expect(readFileSync(target!, 'utf8')).toBe(before);
  }
});

describe('frames', () => {
  it('a request frame has the 8-byte header (0xf5, kind, 0, length LE) and reads back field by field', () => {
    const frame = new FrameWriter(Request.fetch).u32(7).u32(1).u64(2n ** 40n).finish();
    expect(Array.from(frame.subarray(0, 8))).toEqual([0xf5, Request.fetch, 0, 0, 16, 0, 0, 0]);
    expect(parseHeader(frame)).toEqual({ kind: Request.fetch, bodyBytes: 16 });
    const body = new BodyReader({ kind: 0x84, body: frame.subarray(8) });
    expect([body.u32(), body.u32(), body.u64()]).toEqual([7, 1, 2n ** 40n]);
    body.end();
  });

  it('a header with the wrong magic or an oversized length is garbage; leftover body bytes are a wrong length', () => {
    expect(() => parseHeader(new TextEncoder().encode('hello wo'))).toThrow(ProtocolError);
    expect(() => parseHeader(Uint8Array.from([0xf5, 0x83, 0, 0, 0xff, 0xff, 0xff, 0x7f]))).toThrow(/over the 1073741824-byte limit/);
    const reader = new BodyReader({ kind: 0x86, body: new Uint8Array(20) });
    reader.u64();
    reader.u64();
    expect(() => reader.end()).toThrow('sent a STATS frame of 20 body bytes whose fields use 16; its length is wrong');
  });
});

