import { killDescendants } from '../properties/process_backend/child_pipes.js';
import { closeRunDir, forgetInheritedRunDir, onRunDirMade } from '../properties/run_dir.js';
import { main } from './main.js';
import { EXIT_USAGE } from './usage_error.js';

/** Exit codes of a command stopped by a signal: 128 + the signal's number, as a shell reports it. */
const SIGNAL_EXIT_CODES = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 } as const;
/** A command whose reader went away before it had its verdict: as if killed by SIGPIPE (13). */
const EXIT_SIGPIPE = 141;
/** `main` has returned its exit code (output written after that may still meet a closed pipe). */
let mainDone = false;

/**
 * The command as `bin/spillsim.js` runs it: `main`, plus what only a whole process may do. Every
 * temporary directory lives in one run directory of this process (`properties/run_dir.ts`),
 * removed when the command ends, however it ends: normally, stopped by SIGINT, SIGTERM or
 * SIGHUP (exit 130, 143, 129), or because its output cannot be written (exit 2). Stopped, it
 * first kills every process it started (backends run with `--exec`, the processes that count
 * descriptors) with their own children. Returns the exit code.
 *
 * The signals are caught only once the run directory is made, which happens before the first
 * worker or process starts: a command with nothing to clean up (`sim`, `check` without a
 * backend) keeps the default action, which ends even a long synchronous loop at once, where a
 * handler would wait for the loop to yield.
 */
export async function runCli(argv: string[]): Promise<number> {
  forgetInheritedRunDir();
  let caught = false;
  onRunDirMade(() => {
    if (caught) return;
    caught = true;
    for (const [signal, code] of Object.entries(SIGNAL_EXIT_CODES)) process.once(signal, () => endNow(code));
  });
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    // A reader that stops early (`spillsim sim --json | head`) is not an error of ours; but a
    // command cut off before its verdict has none, so it ends as a process killed by SIGPIPE.
    if (error.code === 'EPIPE') endNow(pipeClosedCode());
    writeLastWords(`spillsim: cannot write to standard output: ${describeWriteError(error)}\n`);
    endNow(EXIT_USAGE);
  });
  // Nowhere left to say why.
  process.stderr.on('error', (error: NodeJS.ErrnoException) => endNow(error.code === 'EPIPE' ? pipeClosedCode() : EXIT_USAGE));
  try {
    const code = await main(argv);
    process.exitCode = code;
    mainDone = true;
    return code;
  } finally {
    closeRunDir();
  }
}

/** Kill what this process started, remove its run directory, and exit with `code` (never returns). */
function endNow(code: number): never {
  // The progress bar hides the cursor while it runs; a stop must not leave the terminal without one.
  if (process.stderr.isTTY) writeLastWords('\x1b[?25h');
  killDescendants(process.pid);
  try {
    closeRunDir();
  } catch {
    // A directory that cannot be removed must not turn a stop into a stack trace.
  }
  // A worker thread may have started a process while the directory was being removed.
  killDescendants(process.pid);
  process.exit(code);
}

/** A reader went away: the verdict if `main` had returned it, else as a process killed by SIGPIPE. */
function pipeClosedCode(): number {
  return mainDone && typeof process.exitCode === 'number' ? process.exitCode : EXIT_SIGPIPE;
}

/** Node's message without the system call it names: `ENOSPC: no space left on device, write` -> `ENOSPC: no space left on device`. */
function describeWriteError(error: NodeJS.ErrnoException): string {
  return error.message.replace(/, write$/, '');
}

/** Write to stderr synchronously if it still works; the process is about to exit. */
function writeLastWords(line: string): void {
  try {
    process.stderr.write(line);
  } catch {
    // stderr is gone too.
  }
}
