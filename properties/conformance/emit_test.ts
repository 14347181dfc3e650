import { dirname, relative, resolve } from 'node:path';
import { backendArgument, commandLineOf, isExecSpecifier } from '../process_backend/exec_specifier.js';
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
    exec
      ? `// The command runs from the working directory of the test run.\nconst backend = { exec: ${JSON.stringify(commandLineOf(input.moduleSpecifier))} };`
      : `const backend = new URL(${JSON.stringify(modulePath)}, import.meta.url).href;`,
    ``,
    `describe(${JSON.stringify(`${backendArgument(input.moduleSpecifier)} conformance`)}, () => {`,
    cases.join('\n\n'),
    `});`,
    ``,
  ].join('\n');
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
