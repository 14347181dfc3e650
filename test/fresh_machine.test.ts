import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

  it("pretest installs Debian's chromium with apt-get when it is missing and the machine allows it", async () => {
    // A machine without Chromium: no usual path holds one, and PATH holds only sh and an apt-get
    // that records its calls and, on install, puts a `chromium` on PATH as the real one would.
    const bin = mkdtempSync(join(tmpdir(), 'spillsim-no-chromium-'));
    symlinkSync('/bin/sh', join(bin, 'sh'));
    const log = join(bin, 'apt-get.log');
    writeFileSync(join(bin, 'apt-get'), `#!/bin/sh\necho "$DEBIAN_FRONTEND apt-get $*" >> ${log}\nif [ "$1" = install ]; then printf '#!/bin/sh\\n' > ${bin}/chromium; /bin/chmod +x ${bin}/chromium; fi\n`);
    chmodSync(join(bin, 'apt-get'), 0o755);
    const run = await ensureChromium({ PATH: bin, SPILLSIM_CHROMIUM: '', CHROME_PATH: '', SPILLSIM_CHROMIUM_KNOWN_PATHS: '' });
    const root = typeof process.getuid === 'function' && process.getuid() === 0;
    const debian = (() => {
      try {
        readFileSync('/etc/debian_version');
        return true;
      } catch {
        return false;
      }
    })();
    if (root && debian) {
      expect(run).toEqual({ code: 0, stdout: '', stderr: `npm test: Chromium is missing; installing Debian's chromium with apt-get (once)\nnpm test: using ${join(bin, 'chromium')}\n` });
      expect(readFileSync(log, 'utf8')).toBe('noninteractive apt-get update -qq\nnoninteractive apt-get install -y -qq chromium\n');
    } else {
      // Not allowed to install here: the one line that says how, and apt-get never ran.
      expect(run.code).toBe(1);
      expect(run.stderr).toBe(`npm test: ${chromiumHowTo(`no Chromium in /usr/bin/chromium, the usual paths or PATH`)}\n`);
    }
  });

  it('pretest does not install when told not to (SPILLSIM_INSTALL_CHROMIUM=0), and says how in one line', async () => {
    const bin = mkdtempSync(join(tmpdir(), 'spillsim-no-chromium-'));
    symlinkSync('/bin/sh', join(bin, 'sh'));
    const run = await ensureChromium({ PATH: bin, SPILLSIM_CHROMIUM: '', CHROME_PATH: '', SPILLSIM_CHROMIUM_KNOWN_PATHS: '', SPILLSIM_INSTALL_CHROMIUM: '0' });
    expect(run).toEqual({ code: 1, stdout: '', stderr: `npm test: ${chromiumHowTo('no Chromium in /usr/bin/chromium, the usual paths or PATH')}\n` });
  });
});
