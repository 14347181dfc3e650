import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, ensureBuilt } from './support/built_cli.js';

/** One `spillsim` command shown in a README, the exit code it says it has, and the output it shows. */
interface ReadmeCommand {
  /** As written, without the `$ ` prompt. */
  line: string;
  /** `# exit N` at the end of the line; no annotation means 0. */
  exitCode: number;
  /** The lines shown under a `$ ` command, up to the next `$ ` line or the end of its block. */
  shown: string[];
  /** Whether `shown` is compared with what the command prints (see `COMPARE_MARKER`). */
  compared: boolean;
  /** Why not, when the block opted out. */
  reason?: string;
  /** 0-based line of the command in the markdown; its shown output is the lines right after it. */
  at: number;
}

const COMMAND = /^\s*(?:\$\s+)?(npx spillsim\b.*)$/;
const EXIT_ANNOTATION = /\s#\s*exit\s+(\d+)\s*$/;
/**
 * The shown output of every `$ npx spillsim` command is compared with what it prints, unless
 * its block is preceded by `<!-- readme-test: exit code only: REASON -->` (an HTML comment, so
 * readers do not see it): for output that depends on a random seed or a time budget.
 */
const COMPARE_MARKER = /^\s*<!--\s*readme-test:\s*exit code only:\s*(.*?)\s*-->\s*$/;

/** Every `npx spillsim …` line of the fenced shell (or bare) blocks of a markdown text, in order, with the output shown under it. */
function extractCommands(markdown: string): ReadmeCommand[] {
  const commands: ReadmeCommand[] = [];
  let inBlock = false;
  let inShell = false;
  let pending = '';
  let optOut: string | undefined;
  let blockOptOut: string | undefined;
  let current: ReadmeCommand | undefined;
  const all = markdown.split('\n');
  for (let at = 0; at < all.length; at += 1) {
    const raw = all[at]!;
    const fence = /^\s*```(\w*)/.exec(raw);
    if (fence) {
      // A fence opens a block or closes the open one. A bare block counts too: a command a
      // reader sees is a command a reader runs.
      inBlock = !inBlock;
      inShell = inBlock && ['', 'sh', 'bash', 'shell', 'console'].includes(fence[1] ?? '');
      blockOptOut = inBlock ? optOut : undefined;
      optOut = undefined;
      pending = '';
      current = undefined;
      continue;
    }
    if (!inBlock) {
      const marker = COMPARE_MARKER.exec(raw);
      if (marker) optOut = marker[1];
      else if (raw.trim() !== '') optOut = undefined;
      continue;
    }
    if (!inShell) continue;
    // A command continued with a trailing backslash is one command.
    const line = pending ? `${pending} ${raw.trim()}` : raw;
    if (line.trimEnd().endsWith('\\') && (pending || COMMAND.test(line))) {
      pending = line.trimEnd().slice(0, -1).trimEnd();
      continue;
    }
    pending = '';
    const match = COMMAND.exec(line);
    if (!match) {
      // Output lines belong to the last `$ ` command; another `$ ` line (npm, node) ends them.
      if (/^\s*\$\s/.test(line)) current = undefined;
      else current?.shown.push(line.trimEnd());
      continue;
    }
    const text = match[1]!.trim();
    const exit = EXIT_ANNOTATION.exec(text);
    const prompted = /^\s*\$\s/.test(line);
    const command: ReadmeCommand = { line: text, exitCode: exit ? Number(exit[1]) : 0, shown: [], compared: prompted && blockOptOut === undefined, ...(blockOptOut === undefined ? {} : { reason: blockOptOut }), at };
    commands.push(command);
    current = prompted ? command : undefined;
  }
  for (const command of commands) {
    while (command.shown.length > 0 && command.shown.at(-1)!.trim() === '') command.shown.pop();
  }
  return commands;
}

/**
 * What a README block should show after a change, for `SPILLSIM_UPDATE_README=1`: the printed
 * output, with the README's one elision kept where it was (as many lines before and after it
 * as the README showed), so curated excerpts stay excerpts. Review the diff before committing.
 */
function updatedShown(shown: readonly string[], printed: readonly string[]): string[] {
  const elisions = shown.flatMap((line, k) => (isElision(line) ? [k] : []));
  if (elisions.length !== 1) return [...printed];
  const before = elisions[0]!;
  const after = shown.length - before - 1;
  if (before + after >= printed.length) return [...printed];
  return [...printed.slice(0, before), shown[before]!, ...printed.slice(printed.length - after)];
}

/**
 * Output as compared: durations and rates (which vary run to run) become placeholders, and
 * runs of spaces (table padding, which follows the width of a duration) become one space.
 */
export function normaliseOutput(line: string): string {
  return line
    .replace(/\b\d+(?:\.\d+)? ?(?:ms|s|min)\b/g, '<time>')
    .replace(/\b\d+ per second\b/g, '<rate> per second')
    .replace(/ {2,}/g, ' ')
    .trimEnd();
}

/** A shown line that stands for any number of printed lines: one that starts with `…`. */
function isElision(line: string): boolean {
  return line.trim().startsWith('…');
}

/**
 * Does the printed output match what the README shows? Line for line after `normaliseOutput`;
 * a shown `…` line matches any run of printed lines (the README elides long traces).
 */
export function matchesShown(shown: readonly string[], printed: readonly string[]): boolean {
  const want = shown.map(normaliseOutput);
  const got = printed.map(normaliseOutput);
  // match[i][j]: want[i..] matches got[j..]; filled from the end, bounded by the two lengths.
  const match: boolean[][] = Array.from({ length: want.length + 1 }, () => new Array<boolean>(got.length + 1).fill(false));
  match[want.length]![got.length] = true;
  for (let i = want.length - 1; i >= 0; i -= 1) {
    for (let j = got.length; j >= 0; j -= 1) {
      match[i]![j] = isElision(want[i]!) ? match[i + 1]![j]! || (j < got.length && match[i]![j + 1]!) : j < got.length && want[i] === got[j] && match[i + 1]![j + 1]!;
    }
  }
  return match[0]![0]!;
}

/**
 * A scratch copy of the repository to run README commands in: everything is linked, except
 * `fixtures/failures`, which is copied, so `check --save-failures` and the files a tutorial
 * writes (run.json, report.html) never land in the real tree.
 */
function scratchRepo(): string {
  const dir = mkdtempSync(join(tmpdir(), 'spillsim-readme-'));
  for (const name of readdirSync(REPO_ROOT)) {
    if (name === '.git' || name === 'fixtures' || name === '.spillsim') continue;
    symlinkSync(join(REPO_ROOT, name), join(dir, name));
  }
  mkdirSync(join(dir, 'fixtures'));
  for (const name of existsSync(join(REPO_ROOT, 'fixtures')) ? readdirSync(join(REPO_ROOT, 'fixtures')) : []) {
    if (name === 'failures') cpSync(join(REPO_ROOT, 'fixtures', name), join(dir, 'fixtures', name), { recursive: true });
    else symlinkSync(join(REPO_ROOT, 'fixtures', name), join(dir, 'fixtures', name));
  }
  return dir;
}

interface ShellRun {
  code: number;
  /** stdout, then stderr without progress lines (a terminal shows a bar there, which goes away). */
  output: string;
}

const PROGRESS_LINE = /^\w+: \d+\/\d+ done, \d+ failed$/;

/** Run a README line the way a reader pastes it into a shell, with `npx spillsim` being the built command. */
function runLine(line: string, cwd: string): Promise<ShellRun> {
  const command = line.replace(/^npx spillsim\b/, `node ${JSON.stringify(join(REPO_ROOT, 'bin/spillsim.js'))}`);
  return new Promise((resolve) => {
    execFile('sh', ['-c', command], { cwd, env: { ...process.env, NO_COLOR: '1' }, timeout: 170_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      const errors = stderr.split('\n').filter((l) => !PROGRESS_LINE.test(l)).join('\n');
      resolve({ code, output: `${stdout}${errors}` });
    });
  });
}

/** README.md: every command a reader can see is run. */
function documents(): Array<{ name: string; commands: ReadmeCommand[] }> {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  return [{ name: 'README.md', commands: extractCommands(readme) }];
}

describe('extractCommands', () => {
  it('takes npx spillsim lines of shell and bare blocks only, with their annotated exit codes and shown output', () => {
    const markdown = [
      'npx spillsim outside-a-block',
      '```sh',
      '$ npx spillsim sim --seed 8 --prefetch-budget 0   # exit 1',
      'FAILED seed 8: output, not a command',
      '',
      '```',
      '```sh',
      'npm ci && npx spillsim check',
      'npx spillsim check --runs 50',
      'npx spillsim sim --seeds 1..3 \\',
      '  --json > runs.jsonl',
      '```',
      '```ts',
      'npx spillsim in-typescript',
      '```',
      '<!-- readme-test: exit code only: the seed is random -->',
      '```',
      '$ npx spillsim replay x.json      # exit 1',
      'x.json: same failure',
      '$ npm run other',
      'not spillsim output',
      '```',
    ].join('\n');
    expect(extractCommands(markdown)).toEqual([
      { line: 'npx spillsim sim --seed 8 --prefetch-budget 0   # exit 1', exitCode: 1, shown: ['FAILED seed 8: output, not a command'], compared: true, at: 2 },
      { line: 'npx spillsim check --runs 50', exitCode: 0, shown: [], compared: false, at: 8 },
      { line: 'npx spillsim sim --seeds 1..3 --json > runs.jsonl', exitCode: 0, shown: [], compared: false, at: 10 },
      { line: 'npx spillsim replay x.json      # exit 1', exitCode: 1, shown: ['x.json: same failure'], compared: false, reason: 'the seed is random', at: 17 },
    ]);
  });
});

describe('matchesShown', () => {
  it('compares line for line, with durations, rates and padding normalised', () => {
    expect(matchesShown(['ordering   50   864  72 ms   held', 'in 3.0 s: 3595 per second'], ['ordering  50  864  2.1 s  held', 'in 655 ms: 16325 per second'])).toBe(true);
    expect(matchesShown(['ordering 50 864 72 ms held'], ['ordering 51 864 72 ms held'])).toBe(false);
    expect(matchesShown(['a', 'b'], ['a'])).toBe(false);
    expect(matchesShown(['a'], ['a', 'b'])).toBe(false);
  });

  it('lets a shown … line stand for any run of printed lines, none included', () => {
    expect(matchesShown(['1. first', '  …', 'BROKE at 5'], ['1. first', '2. x', '3. y', 'BROKE at 5'])).toBe(true);
    expect(matchesShown(['1. first', '  …', 'BROKE at 5'], ['1. first', 'BROKE at 5'])).toBe(true);
    expect(matchesShown(['1. first', '  …', 'BROKE at 5'], ['1. first', '2. x', 'BROKE at 6'])).toBe(false);
  });
});

const docs = documents();

/** `SPILLSIM_UPDATE_README=1 npx vitest run test/readme.test.ts` rewrites the shown output that drifted. */
const UPDATE = process.env.SPILLSIM_UPDATE_README === '1';
const updates = new Map<number, { count: number; lines: string[] }>();

afterAll(() => {
  if (!UPDATE || updates.size === 0) return;
  const path = join(REPO_ROOT, 'README.md');
  const lines = readFileSync(path, 'utf8').split('\n');
  // From the bottom up, so earlier positions stay valid.
  for (const at of [...updates.keys()].sort((a, b) => b - a)) {
    const { count, lines: replacement } = updates.get(at)!;
    lines.splice(at + 1, count, ...replacement);
  }
  writeFileSync(path, lines.join('\n'));
});

describe.each(docs.map((d) => [d.name, d] as const))('%s', (_name, doc) => {
  let cwd: string;
  beforeAll(async () => {
    await ensureBuilt();
    cwd = scratchRepo();
  }, 180_000);

  // In order, in one directory: a tutorial's later commands read what earlier ones wrote.
  it.each(doc.commands.map((c) => [c.line, c] as const))('%s', async (_line, command) => {
    const { code, output } = await runLine(command.line, cwd);
    expect({ exitCode: code, tail: code === command.exitCode ? '' : output.slice(-2000) }).toEqual({ exitCode: command.exitCode, tail: '' });
    expect(output).not.toMatch(/\n\s+at .*\.js:\d+/);
    if (command.compared && command.shown.length > 0) {
      const printed = output.replace(/\n+$/, '').split('\n');
      // On a mismatch, the whole printed output is shown beside what the README shows.
      if (!matchesShown(command.shown, printed)) {
        if (UPDATE) updates.set(command.at, { count: command.shown.length, lines: updatedShown(command.shown, printed) });
        else expect(printed.join('\n')).toBe(command.shown.join('\n'));
      }
    }
  }, 180_000);
});

it('finds commands to run', () => {
  expect(docs.flatMap((d) => d.commands).length).toBeGreaterThan(0);
});
