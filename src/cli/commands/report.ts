import type { Command } from 'commander';
import type { CommandResult } from '../main.js';
import { UsageError } from '../usage_error.js';

// Placeholder until the issue that owns `spillsim report` lands; it fails loudly, never passes.
export function registerReport(program: Command, _result: CommandResult): void {
  program
    .command('report')
    .description('(not built yet)')
    .action(() => {
      throw new UsageError('spillsim report is not built yet');
    });
}
