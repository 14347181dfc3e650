import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, ensureBuilt } from './support/built_cli.js';
import { buildRustExample } from './support/rust_example.js';

/** One `spillsim` command shown in a README, and the exit code the README says it has. */
interface ReadmeCommand {
  /** As written, without the `$ ` prompt. */
  line: string;
  /** `# exit N` at the end of the line; no annotation means 0. */
  exitCode: number;
}

const COMMAND = /^\s*(?:\$\s+)?(npx spillsim\b.*)$/;
const EXIT_ANNOTATION = /\s#\s*exit\s+(\d+)\s*$/;

/** Every `npx spillsim …` line of the fenced shell (or bare) blocks of a markdown text, in order. */
function extractCommands(markdown: string): ReadmeCommand[] {
  const commands: ReadmeCommand[] = [];
  let inBlock = false;
  let inShell = false;
  let pending = '';
  for (const raw of markdown.split('\n')) {
    const fence = /^\s*```(\w*)/.exec(raw);
    if (fence) {
      // A fence opens a block or closes the open one. A bare block counts too: a command a
      // reader sees is a command a reader runs.
      inBlock = !inBlock;
      inShell = inBlock && ['', 'sh', 'bash', 'shell', 'console'].includes(fence[1] ?? '');
      pending = '';
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
    if (!match) continue;
    const text = match[1]!.trim();
    const exit = EXIT_ANNOTATION.exec(text);
    commands.push({ line: text, exitCode: exit ? Number(exit[1]) : 0 });
  }
  return commands;
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
  output: string;
}

/** Run a README line the way a reader pastes it into a shell, with `npx spillsim` being the built command. */
function runLine(line: string, cwd: string): Promise<ShellRun> {
  const command = line.replace(/^npx spillsim\b/, `node ${JSON.stringify(join(REPO_ROOT, 'bin/spillsim.js'))}`);
  return new Promise((resolve) => {
    execFile('sh', ['-c', command], { cwd, env: { ...process.env, NO_COLOR: '1' }, timeout: 170_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}

/** README.md: every command a reader can see is run. */
function documents(): Array<{ name: string; commands: ReadmeCommand[] }> {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  return [{ name: 'README.md', commands: extractCommands(readme) }];
}

describe('extractCommands', () => {
  it('takes npx spillsim lines of shell and bare blocks only, with their annotated exit codes', () => {
    const markdown = [
      'npx spillsim outside-a-block',
      '```sh',
      '$ npx spillsim sim --seed 8 --prefetch-budget 0   # exit 1',
      'FAILED seed 8: output, not a command',
      'npm ci && npx spillsim check',
      'npx spillsim check --runs 50',
      'npx spillsim sim --seeds 1..3 \\',
      '  --json > runs.jsonl',
      '```',
      '```ts',
      'npx spillsim in-typescript',
      '```',
      '```',
      '$ npx spillsim replay x.json      # exit 1',
      '```',
    ].join('\n');
    expect(extractCommands(markdown)).toEqual([
      { line: 'npx spillsim sim --seed 8 --prefetch-budget 0   # exit 1', exitCode: 1 },
      { line: 'npx spillsim check --runs 50', exitCode: 0 },
      { line: 'npx spillsim sim --seeds 1..3 --json > runs.jsonl', exitCode: 0 },
      { line: 'npx spillsim replay x.json      # exit 1', exitCode: 1 },
    ]);
  });
});

const docs = documents();

describe.each(docs.map((d) => [d.name, d] as const))('%s', (_name, doc) => {
  let cwd: string;
  beforeAll(async () => {
    await ensureBuilt();
    // The README validates the Rust example backend; cargo skips the build when it is current.
    buildRustExample();
    cwd = scratchRepo();
  }, 180_000);

  // In order, in one directory: a tutorial's later commands read what earlier ones wrote.
  it.each(doc.commands.map((c) => [c.line, c] as const))('%s', async (_line, command) => {
    const { code, output } = await runLine(command.line, cwd);
    expect({ exitCode: code, tail: code === command.exitCode ? '' : output.slice(-2000) }).toEqual({ exitCode: command.exitCode, tail: '' });
    expect(output).not.toMatch(/\n\s+at .*\.js:\d+/);
  }, 180_000);
});

it('finds commands to run', () => {
  expect(docs.flatMap((d) => d.commands).length).toBeGreaterThan(0);
});
