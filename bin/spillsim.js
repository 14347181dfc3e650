#!/usr/bin/env node
// The command's entry point: the compiled CLI lives in dist/ (built by `npm ci` / `npm install`).
// runCli handles what only a whole process may: signals, an output that cannot be written, and
// the removal of the command's temporary directories.
import { runCli } from '../dist/cli/run_cli.js';

process.exitCode = await runCli(process.argv);
