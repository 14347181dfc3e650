import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { SpillsimError } from '../../src/errors.js';

/**
 * A backend that runs as a child process travels through the kit (worker jobs, fixtures, replay
 * commands) as the specifier `exec:<command line>`, beside module paths, so every place that
 * names a backend names this one too. People type it as `--exec "<command line>"`.
 */
export const EXEC_PREFIX = 'exec:';

export function execSpecifier(commandLine: string): string {
  return `${EXEC_PREFIX}${commandLine}`;
}

export function isExecSpecifier(specifier: string): boolean {
  return specifier.startsWith(EXEC_PREFIX);
}

export function commandLineOf(specifier: string): string {
  return specifier.slice(EXEC_PREFIX.length);
}

/** How a command names this backend: the module path as typed (shell-quoted when it needs it), or `--exec '<command line>'`. */
export function backendArgument(specifier: string): string {
  return isExecSpecifier(specifier) ? `--exec ${shellQuote(commandLineOf(specifier))}` : shellQuote(specifier);
}

/** Quote a word for a POSIX shell (single quotes; a quote inside becomes '\''). */
export function shellQuote(word: string): string {
  if (/^[\w@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * Split a command line into words the way a POSIX shell does for quotes and backslashes, and
 * nothing more: no variables, globs, pipes or redirections (use `sh -c '…'` for those). The
 * first word is the program; a relative path is resolved against the working directory.
 */
export function splitCommandLine(commandLine: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < commandLine.length; i += 1) {
    const ch = commandLine[i]!;
    if (quote === "'") {
      if (ch === "'") quote = undefined;
      else word += ch;
    } else if (quote === '"') {
      if (ch === '"') quote = undefined;
      else if (ch === '\\' && i + 1 < commandLine.length && '"\\$`'.includes(commandLine[i + 1]!)) word += commandLine[++i];
      else word += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      inWord = true;
    } else if (ch === '\\' && i + 1 < commandLine.length) {
      word += commandLine[++i];
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (quote !== undefined) throw new SpillsimError('E_BAD_INPUT', `--exec ${JSON.stringify(commandLine)}: a ${quote} quote is not closed`);
  if (inWord) words.push(word);
  if (words.length === 0) throw new SpillsimError('E_BAD_INPUT', '--exec needs a command line, such as --exec "./target/release/my-backend"');
  return words;
}

/**
 * Check a command line before anything starts: it splits, and its program exists and is
 * executable (a path as given, or a name found on PATH). Every problem is one `E_BAD_INPUT` line.
 */
export function checkCommandLine(commandLine: string): string[] {
  const argv = splitCommandLine(commandLine);
  const program = argv[0]!;
  const candidates = program.includes('/') ? [isAbsolute(program) ? program : resolve(process.cwd(), program)] : (process.env.PATH ?? '').split(delimiter).filter((d) => d !== '').map((d) => join(d, program));
  const found = candidates.find((path) => {
    try {
      accessSync(path, constants.X_OK);
      return statSync(path).isFile();
    } catch {
      return false;
    }
  });
  if (found === undefined) {
    const where = program.includes('/') ? 'no such executable file' : 'not found on PATH';
    throw new SpillsimError('E_BAD_INPUT', `cannot use --exec ${JSON.stringify(commandLine)}: ${program}: ${where}`);
  }
  return argv;
}
