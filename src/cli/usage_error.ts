import { SpillsimError } from '../errors.js';

/** Bad usage or bad input: the command prints the one-line message and exits 2. */
export class UsageError extends SpillsimError {
  constructor(message: string) {
    super('E_BAD_INPUT', message);
    this.name = 'UsageError';
  }
}

/** Exit codes of the command (SPEC Part B). */
export const EXIT_OK = 0;
export const EXIT_BROKEN = 1;
export const EXIT_USAGE = 2;
