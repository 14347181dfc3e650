import type { Command } from 'commander';
import type { CommandResult } from '../main.js';
import { UsageError } from '../usage_error.js';

// Placeholder until the issue that owns `spillsim merge` lands; it fails loudly, never passes.
export function registerMerge(program: Command, _result: CommandResult): void {
  program
    .command('merge')
    .description('(not built yet)')
    .action(() => {
      throw new UsageError('spillsim merge is not built yet');
    });
}
