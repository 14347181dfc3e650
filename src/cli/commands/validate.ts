import type { Command } from 'commander';
import type { CommandResult } from '../main.js';
import { UsageError } from '../usage_error.js';

// Placeholder until the issue that owns `spillsim validate` lands; it fails loudly, never passes.
export function registerValidate(program: Command, _result: CommandResult): void {
  program
    .command('validate')
    .description('(not built yet)')
    .action(() => {
      throw new UsageError('spillsim validate is not built yet');
    });
}
