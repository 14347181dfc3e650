import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chromiumHowTo, findChromium } from '../scripts/chromium.mjs';
import { REPO_ROOT } from './support/built_cli.js';

/** Run `npm test`'s pretest step the way npm does, with `env` added. */
function ensureChromium(env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(REPO_ROOT, 'scripts/ensure-chromium.mjs')], { env: { ...process.env, ...env }, timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

describe('finding Chromium on a fresh machine', () => {
  it('npm test runs the Chromium check first, and no script downloads a browser', () => {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string>; dependencies: Record<string, string>; devDependencies: Record<string, string> };
    expect(pkg.scripts.pretest).toBe('node scripts/ensure-chromium.mjs');
    // playwright-core never downloads browsers; the `playwright` package would on install.
    expect({ ...pkg.dependencies, ...pkg.devDependencies }).not.toHaveProperty('playwright');
    expect(Object.values(pkg.scripts).join(' ')).not.toMatch(/playwright install/);
  });

  it('a variable that names Chromium wins, and one that points nowhere is an error, not ignored', () => {
    expect(findChromium({ SPILLSIM_CHROMIUM: process.execPath, PATH: '' })).toEqual({ path: process.execPath });
    expect(findChromium({ CHROME_PATH: process.execPath, PATH: '' })).toEqual({ path: process.execPath });
    expect(findChromium({ SPILLSIM_CHROMIUM: '/nowhere/chromium', CHROME_PATH: process.execPath })).toEqual({
      problem: 'SPILLSIM_CHROMIUM=/nowhere/chromium is not an executable file',
      fromEnv: 'SPILLSIM_CHROMIUM',
    });
  });

  it('pretest passes silently when Chromium is there', async () => {
    expect(await ensureChromium({ SPILLSIM_CHROMIUM: process.execPath })).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('pretest stops with one line that says how when Chromium is missing', async () => {
    const run = await ensureChromium({ SPILLSIM_CHROMIUM: '/nowhere/chromium' });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`npm test: ${chromiumHowTo('SPILLSIM_CHROMIUM=/nowhere/chromium is not an executable file')}\n`);
    expect(run.stderr).toContain('sudo apt-get install chromium');
    expect(run.stderr).toContain('SPILLSIM_CHROMIUM=/path/to/chromium');
  });
});
