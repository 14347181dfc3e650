import { execFileSync } from 'node:child_process';
import { linkSync, mkdirSync, mkdtempSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkSuites } from '../properties/check_suites.js';
import { runCampaign } from '../sim/campaign.js';
import { workerCount } from '../cli/flags.js';
import { JSON_FILE_BYTES_MAX, readTextFile } from '../properties/json_file.js';
import { ensureBuilt, REPO_ROOT, runBuiltCli } from './support/built_cli.js';
import { runMain } from './support/run_main.js';

// Issue 12: every bad file, folder, output location and flag gets one line and exit 2 (or a
// "no longer valid" verdict), never a stack trace, "unexpected error", a hang or a lost failure.

const SAVED = JSON.parse(readFileSync(join(REPO_ROOT, 'fixtures/failures/ordering--broken-prefetch-out-of-order--2306aed1ec.json'), 'utf8')) as Record<string, unknown>;

const dir = mkdtempSync(join(tmpdir(), 'spillsim-bad-input-'));
/** A regular file, for paths that run "through" it. */
const aFile = join(dir, 'a-file');
writeFileSync(aFile, 'not a directory\n');

function write(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

/** The lines a command printed on one stream, without the trailing newline. */
function lines(text: string): string[] {
  return text.split('\n').filter((line) => line.length > 0);
}

/** One line on stderr, exit 2, no trace: the contract for bad input. */
function expectOneLine(run: { code: number; stdout: string; stderr: string }, reason: RegExp): void {
  expect({ code: run.code, stderr: lines(run.stderr) }).toEqual({ code: 2, stderr: [expect.stringMatching(reason)] });
  expect(run.stderr).not.toMatch(/unexpected error|\n\s+at /);
}

const BAD_FIXTURES: Array<[name: string, fixture: Record<string, unknown>, reason: RegExp]> = [
  ['size-1e12.json', { ...SAVED, commands: [{ op: 'extend', queue: 0, sizes: [1e12], fresh: true }] }, /command 1 no longer applies: extend size 1000000000000 B is more than the 1048576 B a stored chunk may hold/],
  ['broke-null.json', { ...SAVED, broke: null }, /broke must be \{ rule, message, step \} .*got null/],
  ['commands-200000.json', { ...SAVED, commands: Array.from({ length: 200_000 }, (_, i) => ({ op: 'extend', queue: 0, sizes: [1], fresh: i % 2 === 0 })) }, /200000 commands, more than the 10000 a fixture may hold/],
  ['trace-garbage.json', { ...SAVED, trace: 'garbage' }, /trace must be a list of lines, got "garbage"/],
  ['options-garbage.json', { ...SAVED, options: 'garbage' }, /options is not an object/],
];

describe('a fixture is checked as data before it is replayed or drawn', () => {
  it.each(BAD_FIXTURES)('replay %s: "no longer valid" with the reason, exit 2', async (name, fixture, reason) => {
    const run = await runMain(['replay', write(name, fixture)]);
    expect(run.code).toBe(2);
    expect(lines(run.stdout)).toEqual([expect.stringMatching(new RegExp(`^${name}: no longer valid: ${reason.source}`))]);
    expect(run.stderr).toBe('');
  });

  it('a file that never was a fixture (not JSON, or no fixture format) is "not a fixture", exit 2', async () => {
    for (const [name, content, reason] of [
      ['garbage.jsonl', 'garbage\n', /garbage\.jsonl is not valid JSON/],
      ['object.json', { a: 1 }, /format is undefined, expected spillsim-fixture\/1/],
    ] as const) {
      const run = await runMain(['replay', write(name, content)]);
      expect(run.code).toBe(2);
      expect(lines(run.stdout)).toEqual([expect.stringMatching(new RegExp(`^${name.replace('.', '\\.')}: not a fixture: ${reason.source}`))]);
    }
  });

  it.each(BAD_FIXTURES)('report %s: one line, exit 2', async (name, fixture, reason) => {
    expectOneLine(await runMain(['report', write(name, fixture), '-o', join(dir, `${name}.html`)]), new RegExp(`^spillsim: .*${name} is not a valid fixture: ${reason.source}`));
  });

  it('a byte-order mark is accepted by replay, report, merge and the example database alike', async () => {
    const fixture = write('bom-fixture.json', `\uFEFF${JSON.stringify(SAVED)}`);
    const replay = await runMain(['replay', fixture]);
    expect({ code: replay.code, first: lines(replay.stdout)[0] }).toEqual({ code: 1, first: 'bom-fixture.json: same failure: rule order breaks at step 5, as saved' });
    const report = await runMain(['report', fixture, '-o', join(dir, 'bom.html')]);
    expect({ code: report.code, last: lines(report.stdout).at(-1) }).toEqual({ code: 0, last: `wrote ${join(dir, 'bom.html')} (5 steps, 1 queue plotted)` });
    const runs = write('bom-runs.jsonl', `\uFEFF${JSON.stringify({ seed: 1, ok: true, traceHash: 'ab', steps: 3 })}\n`);
    const merge = await runMain(['merge', runs]);
    expect({ code: merge.code, first: lines(merge.stdout)[0] }).toEqual({ code: 0, first: 'merged 1 file(s): 1 seeds run, 1 passed, 0 failed' });
    // The example database reads its files with the same reader: a remembered failure with a mark still replays first.
    const root = mkdtempSync(join(dir, 'db-'));
    mkdirSync(join(root, '.spillsim/examples'), { recursive: true });
    writeFileSync(join(root, '.spillsim/examples', 'ordering--broken-prefetch-out-of-order--2306aed1ec.json'), `\uFEFF${JSON.stringify(SAVED)}`);
    const [result] = await checkSuites({ suites: ['ordering'], variant: 'broken-prefetch-out-of-order', seed: 1, runs: 1, exampleDbRoot: root });
    expect(result!.fromExampleDb).toContain('2306aed1ec');
  });
});

describe('run files are checked as data by merge and report alike', () => {
  const good = { seed: 3, ok: false, traceHash: 'ab', steps: 1, violation: { invariant: 'no-loss', message: 'lost', step: 0 }, trace: [{ step: 0, timeTicks: 0, actor: 'writer', op: 'extend' }] };
  it.each([
    ['negative-seed.jsonl', { ...good, seed: -1 }, /seed must be a whole number, 0 or more, got -1/],
    ['ok-string.jsonl', { ...good, ok: 'yes' }, /ok must be true or false, got "yes"/],
    ['violation-null.jsonl', { ...good, violation: null }, /violation must be \{ invariant, message, step \}, got null/],
    ['trace-garbage.jsonl', { ...good, trace: 'garbage' }, /trace must be a list of steps, got "garbage"/],
    ['step-bytes.jsonl', { ...good, trace: [{ ...good.trace[0], bytes: 'lots' }] }, /trace item 0 is not a step: bytes must be a number/],
  ])('%s: merge and report each say why in one line, exit 2', async (name, run, reason) => {
    const path = write(name, `${JSON.stringify(run)}\n`);
    expectOneLine(await runMain(['merge', path]), new RegExp(`${name} line 1 is not a run result: ${reason.source}`));
    expectOneLine(await runMain(['report', path, '-o', join(dir, `${name}.html`)]), new RegExp(`${name} is not a valid run: ${reason.source}`));
  });

  it('merge refuses a negative --expect range', async () => {
    expectOneLine(await runMain(['merge', write('one.jsonl', `${JSON.stringify(good)}\n`), '--expect', '-5..3']), /^spillsim: --expect must be a seed range A\.\.B of whole numbers from 0 to 9007199254740991, got '-5\.\.3'$/);
  });
});

describe('folders and shards', () => {
  it('replay of a folder with no fixtures exits 2: "no fixtures in DIR"', async () => {
    const empty = mkdtempSync(join(dir, 'empty-'));
    writeFileSync(join(empty, 'notes.txt'), 'not a fixture');
    expectOneLine(await runMain(['replay', empty]), new RegExp(`^spillsim: no fixtures in ${empty} `));
  });

  it('a path through a regular file is reported as "not a directory" (ENOTDIR), not as missing', async () => {
    expectOneLine(await runMain(['replay', join(aFile, 'x.json')]), /^spillsim: cannot read fixture .*a-file\/x\.json: not a directory/);
    expectOneLine(await runMain(['report', join(aFile, 'x.json')]), /^spillsim: cannot read .*a-file\/x\.json: not a directory/);
    expectOneLine(await runMain(['merge', join(aFile, 'x.jsonl')]), /^spillsim: cannot read .*a-file\/x\.jsonl: not a directory/);
    expectOneLine(await runMain(['validate', join(aFile, 'x.mjs')]), /^spillsim: cannot use module .*a-file\/x\.mjs: not a directory/);
    expectOneLine(await runMain(['check', '--backend', join(aFile, 'x.mjs')]), /^spillsim: cannot use module .*a-file\/x\.mjs: not a directory/);
  });

  it('a shard with no seeds (more shards than seeds) writes a file merge accepts', async () => {
    const shards = [];
    for (const k of [1, 2, 3, 4]) shards.push(await runMain(['sim', '--seeds', '1..2', '--shard', `${k}/4`, '--json']));
    expect(shards.map((r) => r.code)).toEqual([0, 0, 0, 0]);
    // Two seeds over four shards: two shards run none and print nothing.
    expect(shards.filter((r) => r.stdout === '')).toHaveLength(2);
    const emptyIndex = shards.findIndex((r) => r.stdout === '') + 1;
    const text = await runMain(['sim', '--seeds', '1..2', '--shard', `${emptyIndex}/4`]);
    expect({ code: text.code, stdout: text.stdout }).toEqual({ code: 0, stdout: `shard ${emptyIndex}/4 holds no seeds: nothing to run\n` });
    const files = shards.map((r, k) => write(`shard-${k + 1}.jsonl`, r.stdout));
    const merged = await runMain(['merge', ...files, '--expect', '1..2']);
    expect({ code: merged.code, lines: lines(merged.stdout) }).toEqual({
      code: 0,
      lines: ['merged 4 file(s): 2 seeds run, 2 passed, 0 failed', 'seed range 1..2 (expected): 0 missing', 'campaign passed'],
    });
  });
});

describe('output locations are checked before the run', () => {
  beforeAll(async () => {
    await ensureBuilt();
  }, 180_000);

  const failing = ['check', '--suite', 'ordering', '--variant', 'broken-prefetch-out-of-order', '--seed', '42', '--quiet', '--no-example-db'];
  // Under /proc a recursive mkdir spins forever: the built command runs with a timeout, so a regression fails instead of hanging.
  it.each([
    [[...failing, '--save-failures', '/proc/spillsim/failures'], /^spillsim: --save-failures \/proc\/spillsim\/failures: cannot write there: /],
    [[...failing, '--save-failures', `${aFile}/failures`], /^spillsim: --save-failures .*a-file\/failures: cannot write there: .*a-file is a file, not a directory$/],
    [[...failing, '--report', '/proc/spillsim/r.html'], /^spillsim: --report \/proc\/spillsim\/r\.html: cannot write there: /],
    [['sim', '--seed', '8', '--prefetch-budget', '0', '--report', `${aFile}/r.html`], /^spillsim: --report .*a-file\/r\.html: cannot write there: .*a-file is a file, not a directory$/],
    [['report', join(REPO_ROOT, 'fixtures/failures/ordering--broken-prefetch-out-of-order--2306aed1ec.json'), '-o', '/proc/spillsim/r.html'], /^spillsim: -o \/proc\/spillsim\/r\.html: cannot write there: /],
    [['merge', join(REPO_ROOT, 'package.json'), '-o', `${aFile}/m.json`], /^spillsim: -o .*a-file\/m\.json: cannot write there: .*a-file is a file, not a directory$/],
    [['validate', 'fixtures/backends/drains-back.mjs', '--emit-test', '/proc/spillsim/t.test.ts'], /^spillsim: --emit-test \/proc\/spillsim\/t\.test\.ts: cannot write there: /],
  ])('%j: one line, exit 2, before any run', async (args, reason) => {
    const run = await runBuiltCli(args, { timeoutMs: 30_000 });
    expectOneLine(run, reason);
    expect(run.stdout).toBe('');
  }, 40_000);

  it('a failure is reported before any write of it, so a write that fails cannot hide it', async () => {
    const reported: string[] = [];
    const run = checkSuites({
      suites: ['ordering'],
      variant: 'broken-prefetch-out-of-order',
      seed: 42,
      exampleDb: false,
      saveFailuresDir: join(aFile, 'failures'),
      onResult: (r) => reported.push(`${r.suite}: ${r.failure?.violation.rule}`),
    });
    await expect(run).rejects.toThrow(/cannot create directory .*a-file is a file, not a directory/);
    expect(reported).toEqual(['ordering: order']);
  });
});

describe('the time limit', () => {
  it('a suite the time limit kept from running says "not run (time limit)", and the run is not a pass (it judged nothing)', async () => {
    const run = await runMain(['check', '--suite', 'ordering,determinism', '--time-limit', '0.000001', '--seed', '1', '--quiet', '--no-example-db']);
    expect(run.code).toBe(1);
    const rows = lines(run.stdout).filter((line) => /^(ordering|determinism) /.test(line));
    expect(rows).toEqual([expect.stringMatching(/ 0 .* not run \(time limit\)$/), expect.stringMatching(/ 0 .* not run \(time limit\)$/)]);
    expect(lines(run.stdout).at(-1)).toMatch(/^NOT CHECKED: 2 suite\(s\) not run \(time limit; raise --time-limit\) in .* \(seed 1\)$/);
    expect(run.stdout).not.toContain('FAILED');
    const json = await runMain(['check', '--suite', 'ordering', '--time-limit', '0.000001', '--seed', '1', '--json', '--no-example-db']);
    expect(json.code).toBe(1);
    expect((JSON.parse(json.stdout) as { ok: boolean }).ok).toBe(false);
  });
});

describe('usage errors', () => {
  it.each([
    [['chek'], /^spillsim: unknown command 'chek' \(Did you mean check\?\)$/],
    [['check', '--runz', '5'], /^spillsim: unknown option '--runz' \(Did you mean --runs\?\)$/],
    [['sim', '--seed'], /^spillsim: option '--seed <n>' argument missing$/],
    [['check', '--suite', 'ordering,,no-stall'], /^spillsim: option '--suite <names>' argument 'ordering,,no-stall' is invalid\. an item is empty/],
    [['check', '--suite', 'ordering,'], /is invalid\. an item is empty/],
    [['check', '--suite', 'ordering', '--suite', 'ordering'], /^spillsim: option '--suite <names>' argument 'ordering' is invalid\. ordering is given twice$/],
    [['sim', '--seeds', '1..4', '--workers', '65'], /^spillsim: --workers must be a whole number from 1 to 64, got '65'$/],
  ])('%j: one line, exit 2', async (args, reason) => {
    expectOneLine(await runMain(args), reason);
  });

  it('--workers has one range: the campaign refuses what the flag refuses, in the same words', async () => {
    await expect(runCampaign({ seeds: [1], workers: 65, simOptions: {} })).rejects.toThrow("--workers must be a whole number from 1 to 64, got 65");
    expect(workerCount('64')).toBe(64);
    expect(() => workerCount('65')).toThrow("--workers must be a whole number from 1 to 64, got '65'");
  });

  it.each(['check', 'sim', 'replay', 'validate', 'report', 'merge'])('%s --help: each option states its default at most once, and there is one Examples block', async (command) => {
    const { code, stdout } = await runMain([command, '--help']);
    expect(code).toBe(0);
    // An option's entry runs from its flag line to the next flag line (descriptions wrap).
    const entries = stdout.split(/\n(?= {2}-)/).filter((entry) => entry.startsWith('  -'));
    expect(entries.length).toBeGreaterThan(2);
    const twice = entries.filter((entry) => (entry.replace(/default export/g, '').match(/\bdefault\b/g) ?? []).length > 1);
    expect(twice).toEqual([]);
    expect(stdout.match(/^Examples:$/gm)).toHaveLength(1);
  });
});

describe('an output that is one of the command\'s own inputs is refused before anything is written', () => {
  const shardText = `${JSON.stringify({ seed: 1, ok: true, traceHash: 'ab', steps: 3 })}\n`;
  const fixtureText = JSON.stringify(SAVED);
  const backendText = readFileSync(join(REPO_ROOT, 'fixtures/backends/drains-back.mjs'), 'utf8');

  it.each([
    ['merge s1.jsonl -o s1.jsonl', 's1.jsonl', shardText, (p: string) => ['merge', p, '-o', p], /^spillsim: -o .*s1\.jsonl: that is the input .*s1\.jsonl; writing it would overwrite the input/],
    ['report fixture.json -o fixture.json', 'fixture.json', fixtureText, (p: string) => ['report', p, '-o', p], /^spillsim: -o .*fixture\.json: that is the input .*fixture\.json; writing it would overwrite the input/],
    ['validate --emit-test b.mjs b.mjs', 'b.mjs', backendText, (p: string) => ['validate', '--emit-test', p, p, '--quiet'], /^spillsim: --emit-test .*b\.mjs: that is the input .*b\.mjs; writing it would overwrite the input/],
    ['check --backend b2.mjs --report b2.mjs', 'b2.mjs', backendText, (p: string) => ['check', '--suite', 'ordering', '--backend', p, '--report', p], /^spillsim: --report .*b2\.mjs: that is the input .*b2\.mjs; writing it would overwrite the input/],
  ])('%s: one line, exit 2, and the input is unchanged', async (_name, file, content, args, reason) => {
    const path = write(`same-${file}`, content);
    const run = await runMain(args(path));
    expectOneLine(run, reason);
    expect(run.stdout).toBe('');
    expect(readFileSync(path, 'utf8')).toBe(content);
  });

  it('the same file under another name (./, a hard link) is the same input', async () => {
    const shard = write('linked.jsonl', shardText);
    const link = join(dir, 'hard-link.jsonl');
    linkSync(shard, link);
    expectOneLine(await runMain(['merge', shard, '-o', link]), /^spillsim: -o .*hard-link\.jsonl: that is the input .*linked\.jsonl;/);
    expectOneLine(await runMain(['merge', shard, '-o', `${dir}/./linked.jsonl`]), /that is the input .*linked\.jsonl;/);
    expect(readFileSync(shard, 'utf8')).toBe(shardText);
  });
});

describe('every input file must be a regular file: a device or FIFO is refused unread', () => {
  const fifo = join(dir, 'no-writer.fifo');
  beforeAll(() => {
    execFileSync('mkfifo', [fifo]);
  });

  it.each([
    [['replay', '/dev/zero'], /^spillsim: cannot read fixture \/dev\/zero: not a regular file \(a device, pipe or socket\)$/],
    [['report', '/dev/zero', '-o', join(dir, 'zero.html')], /^spillsim: cannot read \/dev\/zero: not a regular file \(a device, pipe or socket\)$/],
    [['merge', '/dev/zero'], /^spillsim: cannot read \/dev\/zero: not a regular file \(a device, pipe or socket\)$/],
    [['validate', '/dev/zero'], /^spillsim: cannot use module \/dev\/zero: not a regular file \(a device, pipe or socket\)$/],
    [['validate', '--policy', '/dev/zero'], /^spillsim: cannot use module \/dev\/zero: not a regular file/],
    [['check', '--backend', '/dev/zero'], /^spillsim: cannot use module \/dev\/zero: not a regular file/],
    [['validate', 'file:///dev/zero'], /^spillsim: cannot use module file:\/\/\/dev\/zero: not a regular file/],
    [['merge', fifo], /^spillsim: cannot read .*no-writer\.fifo: not a regular file \(a device, pipe or socket\)$/],
    [['replay', fifo], /^spillsim: cannot read fixture .*no-writer\.fifo: not a regular file/],
    [['report', fifo, '-o', join(dir, 'fifo.html')], /^spillsim: cannot read .*no-writer\.fifo: not a regular file/],
    [['validate', fifo], /^spillsim: cannot use module .*no-writer\.fifo: not a regular file/],
    [['validate', dir], /^spillsim: cannot use module .*: it is a directory; give the module file$/],
  ])('%j: one line, exit 2, nothing read', async (args, reason) => {
    expectOneLine(await runMain(args), reason);
  });

  it('a JSON input over the documented cap is refused from its size, unread', () => {
    const big = join(dir, 'big.jsonl');
    writeFileSync(big, '');
    truncateSync(big, JSON_FILE_BYTES_MAX + 1);
    expect(() => readTextFile(big)).toThrow(/big\.jsonl is larger than 512 MiB/);
  });
});

describe('a merge with no run at all', () => {
  // Decision: one empty shard merged with others is a shard that held no seeds (kept working
  // above); when no file holds a run, even with --expect, it is bad input, not a campaign.
  it.each([
    ['empty.json', ''],
    ['empty-array.json', '[]'],
  ])('merge %s: one line, exit 2, never "campaign passed"', async (name, content) => {
    const run = await runMain(['merge', write(name, content)]);
    expectOneLine(run, new RegExp(`^spillsim: no runs in .*${name}: nothing to merge; expected the output of spillsim sim --json$`));
    expect(run.stdout).toBe('');
  });

  it('several files and --expect, none with a run: one line, exit 2', async () => {
    expectOneLine(await runMain(['merge', write('e1.jsonl', ''), write('e2.json', '[]'), '--expect', '1..4']), /^spillsim: no runs in any of the 2 files: nothing to merge/);
  });
});

describe('counts, lists and paths have one range and one message everywhere', () => {
  const backend = join(REPO_ROOT, 'fixtures/backends/drains-back.mjs');
  it.each([
    [['validate', backend, '--runs', '0'], /^spillsim: option '--runs <n>' argument '0' is invalid\. expected at least 1$/],
    [['check', '--runs', '0'], /^spillsim: option '--runs <n>' argument '0' is invalid\. expected at least 1$/],
    [['validate', backend, '--timeout-ms', '0'], /^spillsim: --timeout-ms must be from 1 to 2147483647/],
    [['validate', '--policy', 'fixtures/policies/duplicates.mjs', '--clause', 'spill.empty-list'], /^spillsim: --clause selects clauses of a backend, and no backend is given; --policy runs every policy clause$/],
    [['validate', backend, '--budget-ms', '0'], /^spillsim: --budget-ms must be from 1 to 2147483647/],
    // A whole number out of range names the range; text that is no whole number says so.
    [['check', '--runs', '-1'], /^spillsim: option '--runs <n>' argument '-1' is invalid\. expected at least 1$/],
    [['check', '--runs', '99999999999999999999'], /^spillsim: option '--runs <n>' argument '99999999999999999999' is invalid\. expected a whole number from 1 to 9007199254740991$/],
    [['check', '--runs', '1e3'], /^spillsim: option '--runs <n>' argument '1e3' is invalid\. expected a whole number$/],
    [['check', '--seed', '-1'], /^spillsim: option '--seed <n>' argument '-1' is invalid\. expected a whole number from 0 to 9007199254740991$/],
    [['replay', '--property', 'ordering', '--seed', '9007199254740992', '--path', '0'], /^spillsim: option '--seed <n>' argument '9007199254740992' is invalid\. expected a whole number from 0 to 9007199254740991$/],
    [['validate', backend, '--seed', '+5'], /^spillsim: option '--seed <n>' argument '\+5' is invalid\. expected a whole number$/],
    [['validate', backend, '--timeout-ms', '-5'], /^spillsim: --timeout-ms must be from 1 to 2147483647 \(about 24\.8 days, the most a timer can hold\), got -5$/],
    [['validate', backend, '--budget-ms', '99999999999999999999'], /^spillsim: --budget-ms must be from 1 to 2147483647 \(about 24\.8 days, the most a timer can hold\), got 99999999999999999999$/],
    [['sim', '--seeds', '-5..3'], /^spillsim: --seeds must be a range A\.\.B of whole numbers from 0 to 9007199254740991, got '-5\.\.3'$/],
    [['sim', '--seeds', '0..99999999999999999999'], /^spillsim: --seeds must be a range A\.\.B of whole numbers from 0 to 9007199254740991, got '0\.\.99999999999999999999'$/],
    [['sim', '--seeds', '5..1'], /^spillsim: --seeds must be a range A\.\.B with A ≤ B, got '5\.\.1'$/],
    [['sim', '--seeds', '1..1e20'], /^spillsim: --seeds must be a range A\.\.B of whole numbers such as 1\.\.1000, got '1\.\.1e20'$/],
    [['merge', 'x.jsonl', '--expect', '9..3'], /^spillsim: --expect must be a seed range A\.\.B with A ≤ B, got '9\.\.3'$/],
    [['sim', '--shard', '1/9007199254740993'], /^spillsim: --shard 1\/9007199254740993: N must be a whole number from 1 to 9007199254740991$/],
    [['sim', '--shard', '1/0'], /^spillsim: --shard 1\/0: N must be at least 1$/],
    [['sim', '--threshold', '-1'], /^spillsim: --threshold must be a whole number of bytes from 0 to 9007199254740991, got '-1'$/],
    [['sim', '--reserve', '99999999999GiB'], /^spillsim: --reserve must be a whole number of bytes from 0 to 9007199254740991, got '99999999999GiB'$/],
    [['sim', '--prefetch-budget', '1.5'], /^spillsim: --prefetch-budget must be a whole number of bytes such as 4096, 64KiB or 1MiB, got '1\.5'$/],
    [['merge', 'x.jsonl', '--expect', '0..99999999999999999999'], /^spillsim: --expect must be a seed range A\.\.B of whole numbers from 0 to 9007199254740991, got '0\.\.99999999999999999999'$/],
    // check --timeout-ms: validate's option, parser and message.
    [['check', '--backend', backend, '--timeout-ms', '0'], /^spillsim: --timeout-ms must be from 1 to 2147483647 \(about 24\.8 days, the most a timer can hold\), got 0$/],
    [['check', '--backend', backend, '--timeout-ms', '2147483648'], /^spillsim: --timeout-ms must be from 1 to 2147483647 \(about 24\.8 days, the most a timer can hold\), got 2147483648$/],
    [['check', '--backend', backend, '--timeout-ms', '1.5'], /^spillsim: option '--timeout-ms <ms>' argument '1\.5' is invalid\. expected a whole number$/],
    [['check', '--timeout-ms', '300'], /^spillsim: --timeout-ms limits the calls of a backend: give it with --backend or --exec$/],
    [['report', 'x.json', '--max-steps', '1e3'], /^spillsim: --max-steps must be a whole number from 1 to \d+, got '1e3'$/],
    [['validate', backend, '--clause', 'fds.closed', '--clause', 'fds.closed'], /^spillsim: option '--clause <id>' argument 'fds\.closed' is invalid\. fds\.closed is given twice$/],
    [['sim', '--faults', 'spill-stop,'], /^spillsim: --faults: an item of 'spill-stop,' is empty \(a stray comma\?\)$/],
    [['sim', '--faults', 'latency,io-error,latency'], /^spillsim: --faults: latency is given twice$/],
    [['help', 'nope'], /^spillsim: help: unknown command 'nope'; commands: check, sim, replay, validate, report, merge$/],
    [['merge', 'x.jsonl', '-o', ''], /^spillsim: -o : cannot write there: empty path$/],
    [['validate', ''], /^spillsim: cannot use module : empty module path$/],
    [['validate', backend, backend, '--clause', 'fds.closed'], /^spillsim: --clause judges one backend; with several backends validate compares them byte for byte instead: validate each backend on its own$/],
    [['validate', backend, '--differential', '--clause', 'fds.closed'], /^spillsim: --clause judges one backend; with --differential validate compares them byte for byte instead: validate each backend on its own$/],
    [['check', '--backend', backend, '--suite', 'ordering,determinism,end-to-end'], /^spillsim: --suite determinism, end-to-end: they build their own storage and never call the backend; run them without --backend\/--exec$/],
    [
      ['validate', write('throwing-getter.mjs', "export const supports = { get stats() { throw new Error('boom getter'); } };\nexport default () => ({ spill() {} });\n")],
      /^spillsim: cannot use module .*throwing-getter\.mjs: reading its named export supports threw Error: boom getter$/,
    ],
  ])('%j: one line, exit 2', async (args, reason) => {
    const run = await runMain(args);
    expectOneLine(run, reason);
    expect(run.stdout).toBe('');
  });
});

describe('a backend whose factory throws', () => {
  beforeAll(async () => {
    await ensureBuilt();
  }, 180_000);

  it('check --backend: a per-suite verdict naming the backend, exit 1, not "unexpected error" or a hang', async () => {
    const backend = write('throw_factory.mjs', 'export default () => { throw new Error("factory boom"); };\n');
    const run = await runBuiltCli(['check', '--backend', backend, '--suite', 'ordering,no-stall', '--runs', '2', '--seed', '1', '--quiet', '--no-example-db'], { timeoutMs: 30_000 });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('');
    expect(lines(run.stdout).filter((line) => line.startsWith('FAILED'))).toEqual([
      `FAILED ordering: the factory of ${backend} threw Error: factory boom`,
      `FAILED no-stall: the factory of ${backend} threw Error: factory boom`,
    ]);
    expect(lines(run.stdout).at(-1)).toMatch(/^2 suite\(s\) broke in /);
  }, 40_000);
});
