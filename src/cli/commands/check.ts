import type { Command } from 'commander';
import type { CommandResult } from '../main.js';
import { UsageError } from '../usage_error.js';

// Placeholder until the issue that owns `spillsim check` lands; it fails loudly, never passes.
export function registerCheck(program: Command, _result: CommandResult): void {
  program
    .command('check')
    .description('(not built yet)')
    .action(() => {
      throw new UsageError('spillsim check is not built yet');
    });
}
