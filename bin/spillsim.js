#!/usr/bin/env node
// The command's entry point: the compiled CLI lives in dist/ (built by `npm ci` / `npm install`).
import { main } from '../dist/src/cli/main.js';

process.exitCode = await main(process.argv);
