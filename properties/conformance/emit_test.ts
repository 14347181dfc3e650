import { existsSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { backendArgument, commandLineOf, isExecSpecifier, shellQuote, splitCommandLine } from '../process_backend/exec_specifier.js';
import type { ClauseVerdict } from './clause.js';

export interface EmitTestInput {
  /** The backend module as the user named it. */
  moduleSpecifier: string;
  /** Where the test file will be written (its directory anchors the module's relative path). */
  outPath: string;
  seed: number;
  verdicts: readonly ClauseVerdict[];
}

/**
 * A vitest file that replays every clause the backend broke, with the same seed and (for a
 * stochastic clause) the shrunk case, and expects it to hold: it fails until the backend is
 * fixed, then stays as a regression test. It needs only vitest, spillsim and the backend.
 */
export function emitTestSource(input: EmitTestInput): string {
  const failing = replayableFailures(input.verdicts);
  const exec = isExecSpecifier(input.moduleSpecifier);
  let modulePath = exec ? '' : relative(dirname(resolve(input.outPath)), resolve(input.moduleSpecifier)).split('\\').join('/');
  if (!exec && !modulePath.startsWith('.')) modulePath = `./${modulePath}`;
  const cases = failing.map((v) => {
    const options = v.example === undefined ? `{ seed: ${input.seed} }` : `{ seed: ${input.seed}, example: ${JSON.stringify(v.example)} }`;
    return [
      `  it(${JSON.stringify(`${v.id} holds`)}, async () => {`,
      ...commentLines(`When written: ${v.status}: ${v.detail ?? ''}`),
      `    const verdict = await checkBackendClause(backend, ${JSON.stringify(v.id)}, ${options});`,
      `    expect(verdict.status, verdict.detail).toBe('held');`,
      `  });`,
    ].join('\n');
  });
  return [
    `// Written by spillsim validate ${backendArgument(input.moduleSpecifier)} --emit-test (seed ${input.seed}).`,
    `// Each test replays one clause the backend broke; it fails until the backend is fixed.`,
    `import { describe, expect, it } from 'vitest';`,
    `import { checkBackendClause } from 'spillsim/vitest';`,
    ``,
    exec ? execBackendSource(commandLineOf(input.moduleSpecifier), input.outPath) : `const backend = new URL(${JSON.stringify(modulePath)}, import.meta.url).href;`,
    ``,
    `describe(${JSON.stringify(`${backendArgument(input.moduleSpecifier)} conformance`)}, () => {`,
    cases.join('\n\n'),
    `});`,
    ``,
  ].join('\n');
}

/**
 * The `backend` of an emitted test for a program: the command line as validate ran it, with each
 * relative path in it that names a file (the program, a script it runs) made relative to the test
 * file and resolved when the test runs, so the test runs from any working directory.
 */
function execBackendSource(commandLine: string, outPath: string): string {
  const words = inputWordsOf(commandLine);
  if (!words.some((w) => w.file)) return `const backend = { exec: ${JSON.stringify(commandLine)} };`;
  const parts = words.map(({ word, file }) => {
    if (!file) return JSON.stringify(shellQuote(word));
    let fromTest = relative(dirname(resolve(outPath)), resolve(word)).split('\\').join('/');
    if (!fromTest.startsWith('.')) fromTest = `./${fromTest}`;
    return `path(${JSON.stringify(fromTest)})`;
  });
  return [
    `import { fileURLToPath } from 'node:url';`,
    ``,
    `// The command line validate ran; its paths are relative to this file, so the test runs from any directory.`,
    `const path = (relative) => \`'\${fileURLToPath(new URL(relative, import.meta.url)).replace(/'/g, "'\\\\''")}'\`;`,
    `const backend = { exec: [${parts.join(', ')}].join(' ') };`,
  ].join('\n');
}

/** The words of a command line, each marked when it is a relative path naming an existing file or directory (resolved against the working directory). */
export function inputWordsOf(commandLine: string): { word: string; file: boolean }[] {
  // The program is looked up on PATH unless it has a slash, as a shell does.
  return splitCommandLine(commandLine).map((word, k) => ({ word, file: !isAbsolute(word) && !word.startsWith('-') && (word.includes('/') || (k > 0 && word.includes('.'))) && existsSync(word) }));
}

/**
 * The broken clauses a test can replay through `checkBackendClause`; a property suite's failure
 * has its own replay command (`spillsim replay …`) and is left to that.
 */
export function replayableFailures(verdicts: readonly ClauseVerdict[]): ClauseVerdict[] {
  return verdicts.filter((v) => (v.status === 'broken' || v.status === 'timeout') && v.replay === undefined && !v.id.startsWith('suite.'));
}

function commentLines(text: string): string[] {
  const words = text.split(' ');
  const lines: string[] = [];
  let line = '';
  for (const word of words) {
    if (line.length + word.length > 90 && line.length > 0) {
      lines.push(`    // ${line}`);
      line = '';
    }
    line = line.length === 0 ? word : `${line} ${word}`;
  }
  if (line.length > 0) lines.push(`    // ${line}`);
  return lines;
}
