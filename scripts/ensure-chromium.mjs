#!/usr/bin/env node
// `npm test`'s pretest step: the browser test renders a report in Chromium. Find it; when it is
// missing and this machine allows it (root, Debian's apt-get), install Debian's `chromium`;
// otherwise stop with one line that says how. A browser downloaded by a tool is never used.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chromiumHowTo, findChromium } from './chromium.mjs';

function fail(line) {
  process.stderr.write(`npm test: ${line}\n`);
  process.exit(1);
}

function hasAptGet() {
  return spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0;
}

const found = findChromium();
if (found.path !== undefined) process.exit(0);
// A variable the user set is what they meant: say it is wrong rather than install something else.
if (found.fromEnv !== undefined) fail(chromiumHowTo(found.problem));

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const allowed = process.env.SPILLSIM_INSTALL_CHROMIUM !== '0';
if (!(isRoot && allowed && hasAptGet() && existsSync('/etc/debian_version'))) fail(chromiumHowTo(found.problem));

process.stderr.write("npm test: Chromium is missing; installing Debian's chromium with apt-get (once)\n");
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
for (const args of [['update', '-qq'], ['install', '-y', '-qq', 'chromium']]) {
  const step = spawnSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'], env });
  if (step.status !== 0) fail(chromiumHowTo(`apt-get ${args.join(' ')} failed (exit ${step.status ?? step.signal})`));
}
const installed = findChromium();
if (installed.path === undefined) fail(chromiumHowTo(`apt-get installed chromium, but ${installed.problem}`));
process.stderr.write(`npm test: using ${installed.path}\n`);
