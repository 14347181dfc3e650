import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { SpillsimError } from '../src/errors.js';
import { registerCheck } from './commands/check.js';
import { registerMerge } from './commands/merge.js';
import { registerReplay } from './commands/replay.js';
import { registerReport } from './commands/report.js';
import { registerSim } from './commands/sim.js';
import { registerValidate } from './commands/validate.js';
import { addExamples } from './help.js';
import { EXIT_USAGE } from './usage_error.js';
import type { CommandResult } from './command_result.js';

/** The package's version, found by walking up from this file: works from src/ (tests) and dist/src/ alike. */
function packageVersion(): string {
  let dir = new URL('.', import.meta.url);
  for (let depth = 0; depth < 6; depth += 1) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'spillsim' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // Not here: keep walking up.
    }
    dir = new URL('..', dir);
  }
  return '0.0.0';
}

const version = packageVersion();

/**
 * commander's own usage errors as one line, like every other usage error: `spillsim: ` instead
 * of `error: `, and a suggestion on the same line (`(Did you mean check?)`).
 */
export function oneLineError(message: string): string {
  return `${message.trim().replace(/^error: /, 'spillsim: ').replace(/\s*\n\s*/g, ' ')}\n`;
}

export function buildProgram(result: CommandResult): Command {
  const program = new Command('spillsim')
    .description('Property suites, deterministic simulation and backend validation for the spilling MergeQueue.')
    .version(version)
    .showSuggestionAfterError(true)
    .configureOutput({ outputError: (message, write) => write(oneLineError(message)) })
    .exitOverride();
  registerCheck(program, result);
  registerSim(program, result);
  registerReplay(program, result);
  registerValidate(program, result);
  registerReport(program, result);
  registerMerge(program, result);
  for (const command of program.commands) command.exitOverride().showSuggestionAfterError(true);
  addExamples(program);
  return program;
}

/** Run the command line; returns the exit code instead of exiting, so tests can call it. */
export async function main(argv: string[]): Promise<number> {
  const result: CommandResult = { exitCode: 0 };
  const program = buildProgram(result);
  // `spillsim help NAME` of a command that does not exist is one line, like any unknown command,
  // not the whole help page.
  const [first, second] = argv.slice(2);
  if (first === 'help' && second !== undefined && !program.commands.some((c) => c.name() === second)) {
    process.stderr.write(`spillsim: help: unknown command '${second}'; commands: ${program.commands.map((c) => c.name()).join(', ')}\n`);
    return EXIT_USAGE;
  }
  try {
    await program.parseAsync(argv);
    return result.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // commander has already printed its one-line message (and a suggestion, if any).
      return error.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    if (error instanceof SpillsimError) {
      process.stderr.write(`spillsim: ${error.message}\n`);
      return EXIT_USAGE;
    }
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`spillsim: unexpected error: ${message}\n`);
    if (process.env.SPILLSIM_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
    return EXIT_USAGE;
  }
}
