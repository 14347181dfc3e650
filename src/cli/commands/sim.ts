import type { Command } from 'commander';
import type { CommandResult } from '../main.js';
import { UsageError } from '../usage_error.js';

// Placeholder until the issue that owns `spillsim sim` lands; it fails loudly, never passes.
export function registerSim(program: Command, _result: CommandResult): void {
  program
    .command('sim')
    .description('(not built yet)')
    .action(() => {
      throw new UsageError('spillsim sim is not built yet');
    });
}
