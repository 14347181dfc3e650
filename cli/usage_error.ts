export { UsageError } from '../src/errors.js';

/** Exit codes of the command (SPEC Part B). */
export const EXIT_OK = 0;
export const EXIT_BROKEN = 1;
export const EXIT_USAGE = 2;
