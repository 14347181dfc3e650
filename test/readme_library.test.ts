import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, REPO_ROOT } from './support/built_cli.js';

/** The README's "library in ten lines" block and the output it claims, read from README.md itself. */
function readmeExample(): { code: string; output: string } {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## The library in ten lines'));
  const blocks = [...section.matchAll(/```(\w*)\n([\s\S]*?)```/g)];
  const code = blocks.find((b) => b[1] === 'js')![2]!;
  const output = blocks.find((b) => b[1] === '')![2]!;
  return { code, output };
}

describe('README: the library in ten lines', () => {
  beforeAll(() => ensureBuilt(), 240_000);

  it('runs against the built package and prints what the README says', () => {
    const { code, output } = readmeExample();
    const dir = mkdtempSync(join(tmpdir(), 'spillsim-readme-lib-'));
    const file = join(dir, 'example.mjs');
    const entry = pathToFileURL(join(REPO_ROOT, 'dist', 'src', 'index.js')).href;
    writeFileSync(file, code.replace("from 'spillsim'", `from ${JSON.stringify(entry)}`));
    expect(execFileSync(process.execPath, [file], { encoding: 'utf8' })).toBe(output);
  });
});
