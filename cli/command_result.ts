/** What a command's action reports back: its exit code (0 held, 1 broken, 2 bad input). */
export interface CommandResult {
  exitCode: number;
}
