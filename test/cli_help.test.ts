import { beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLES } from '../cli/help.js';
import { ensureBuilt, runBuiltCli } from './support/built_cli.js';

/** The lines of one section of a commander help page (`Options:`, `Commands:`), up to the next blank line. */
function section(help: string, title: string): string[] {
  const lines = help.split('\n');
  const start = lines.indexOf(`${title}:`);
  if (start < 0) return [];
  const end = lines.findIndex((line, i) => i > start && line.trim() === '');
  return lines.slice(start + 1, end < 0 ? undefined : end);
}

/** Long flags a help page declares in its Options section. */
function declaredFlags(help: string): Set<string> {
  return new Set(section(help, 'Options').flatMap((line) => [...line.matchAll(/^\s+(?:-\w, )?(--[a-z][a-z0-9-]*)/g)].map((m) => m[1]!)));
}

/** A flag with one letter from its middle dropped: the kind of typo people make. */
function typo(flag: string): string {
  const middle = 2 + Math.floor((flag.length - 2) / 2);
  return flag.slice(0, middle) + flag.slice(middle + 1);
}

let commandNames: string[] = [];

beforeAll(async () => {
  await ensureBuilt();
  const top = await runBuiltCli(['--help']);
  commandNames = section(top.stdout, 'Commands')
    .map((line) => /^\s{2}([a-z][a-z-]*)\b/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined && name !== 'help');
}, 180_000);

describe('spillsim --help', () => {
  it('lists the commands, the three jobs as examples, and the exit codes', async () => {
    const { code, stdout } = await runBuiltCli(['--help']);
    expect(code).toBe(0);
    expect(commandNames).toEqual(expect.arrayContaining(['check', 'sim', 'replay', 'validate', 'report', 'merge']));
    expect(stdout).toContain('Examples:');
    expect(stdout).toMatch(/Exit codes: 0 .*; 1 .*; 2 /s);
  });
});

describe('each command', () => {
  it('has examples for every command the program has', () => {
    expect(commandNames.filter((name) => EXAMPLES[name] === undefined)).toEqual([]);
  });

  it.each(Object.keys(EXAMPLES))('%s --help shows its examples, and they use only flags it declares', async (name) => {
    const { code, stdout } = await runBuiltCli([name, '--help']);
    expect(code).toBe(0);
    expect(stdout).toContain(`Usage: spillsim ${name}`);
    expect(stdout).toContain('Examples:');
    const declared = declaredFlags(stdout);
    for (const example of EXAMPLES[name]!) {
      expect(stdout).toContain(`$ ${example.command}`);
      expect(example.command.startsWith(`spillsim ${name}`)).toBe(true);
      const used = [...example.command.matchAll(/\s(--[a-z][a-z0-9-]*)/g)].map((m) => m[1]!);
      expect({ example: example.command, unknown: used.filter((flag) => !declared.has(flag)) }).toEqual({ example: example.command, unknown: [] });
    }
  });
});

describe('mistakes get a suggestion and exit 2', () => {
  it.each([
    ['chek', 'check'],
    ['reprot', 'report'],
    ['valdate', 'validate'],
  ])('a mistyped command: %s → %s', async (typed, meant) => {
    const { code, stderr } = await runBuiltCli([typed]);
    expect(code).toBe(2);
    expect(stderr).toContain(`Did you mean ${meant}?`);
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('a mistyped flag of every command', async () => {
    const misses: string[] = [];
    for (const name of commandNames) {
      const help = (await runBuiltCli([name, '--help'])).stdout;
      const flags = [...declaredFlags(help)].filter((flag) => flag !== '--help');
      const flag = flags.sort((a, b) => b.length - a.length)[0] ?? '--help';
      const wrong = typo(flag);
      const { code, stderr } = await runBuiltCli([name, wrong]);
      if (code !== 2 || !stderr.includes(`Did you mean ${flag}?`)) misses.push(`${name} ${wrong}: exit ${code}, ${stderr.trim()}`);
    }
    expect(misses).toEqual([]);
  }, 60_000);
});
