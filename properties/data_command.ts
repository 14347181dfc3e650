import type fc from 'fast-check';
import { type CommandData, describeCommand } from './command_data.js';

/**
 * A fast-check command that only records its data: the run itself happens afterwards in
 * `executeRun`, so fast-check's view (every command ran) is the same on replay, and a shrunk
 * list reads as `ExtendCommand(...)`, `StopSpillAfterCommand(1)`, ...
 */
export class DataCommand implements fc.Command<object, CommandData[]> {
  readonly data: CommandData;

  constructor(data: CommandData) {
    this.data = data;
  }

  check(): boolean {
    return true;
  }

  run(_model: object, collected: CommandData[]): void {
    collected.push(this.data);
  }

  toString(): string {
    return describeCommand(this.data);
  }
}
