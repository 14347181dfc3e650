#!/usr/bin/env node
// The command's entry point: the compiled CLI lives in dist/ (built by `npm ci` / `npm install`).
import { main } from '../dist/cli/main.js';

// A reader that stops early (`spillsim sim --json | head`) is not an error of ours.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

process.exitCode = await main(process.argv);
