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

/** How a command names this backend: the module path as typed, or `--exec '<command line>'`. */
export function backendArgument(specifier: string): string {
  return isExecSpecifier(specifier) ? `--exec ${shellQuote(commandLineOf(specifier))}` : specifier;
}

/** What a report calls this backend: the module path, or `exec <command line>`. */
export function backendName(specifier: string): string {
  return isExecSpecifier(specifier) ? `exec ${commandLineOf(specifier)}` : specifier;
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
