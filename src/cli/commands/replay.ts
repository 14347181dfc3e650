import type { Command } from 'commander';
import type { CommandResult } from '../main.js';
import { UsageError } from '../usage_error.js';

// Placeholder until the issue that owns `spillsim replay` lands; it fails loudly, never passes.
export function registerReplay(program: Command, _result: CommandResult): void {
  program
    .command('replay')
    .description('(not built yet)')
    .action(() => {
      throw new UsageError('spillsim replay is not built yet');
    });
}
