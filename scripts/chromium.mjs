// Where the browser test finds Chromium. Plain JavaScript, so `npm test`'s pretest step can use
// it before anything is built; test/report.test.ts imports the same function.
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Environment variables that name a Chromium (or Chrome) binary, most specific first. */
export const CHROMIUM_ENV_VARS = ['SPILLSIM_CHROMIUM', 'CHROME_PATH'];

/** Where Debian, Ubuntu and the usual packages put it, then every directory on PATH. */
const KNOWN_PATHS = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable', '/snap/bin/chromium'];
const NAMES_ON_PATH = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];

function isExecutableFile(path) {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The Chromium to run: `{ path }`, or `{ problem }`, one sentence on what is wrong. A variable
 * that is set must point at an executable (it is never silently ignored); without one, the
 * usual paths and PATH are searched.
 */
export function findChromium(env = process.env) {
  for (const name of CHROMIUM_ENV_VARS) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    if (isExecutableFile(value)) return { path: value };
    return { problem: `${name}=${value} is not an executable file`, fromEnv: name };
  }
  const onPath = (env.PATH ?? '').split(delimiter).filter(Boolean).flatMap((dir) => NAMES_ON_PATH.map((name) => join(dir, name)));
  // SPILLSIM_CHROMIUM_KNOWN_PATHS replaces the usual paths: how a test plays a machine without Chromium.
  const known = env.SPILLSIM_CHROMIUM_KNOWN_PATHS === undefined ? KNOWN_PATHS : env.SPILLSIM_CHROMIUM_KNOWN_PATHS.split(delimiter).filter(Boolean);
  for (const candidate of [...known, ...onPath]) {
    if (isExecutableFile(candidate)) return { path: candidate };
  }
  return { problem: `no Chromium in ${KNOWN_PATHS[0]}, the usual paths or PATH` };
}

/** The one line that says how to get going when Chromium is missing. */
export function chromiumHowTo(problem) {
  return `the browser test needs Chromium: ${problem}; install it (Debian/Ubuntu: sudo apt-get install chromium) or set SPILLSIM_CHROMIUM=/path/to/chromium`;
}
