import { type CommandData, describeCommand } from './command_data.js';
import { executeRun } from './execute_run.js';
import type { RunOptions } from './queue_system.js';
import type { BuildContext, Suite } from './suite.js';
import type { Violation } from './violation.js';

/** Cheap re-runs only: a bound on how many variations one explanation may try. */
const RERUNS_MAX = 48;

interface Variation {
  /** What was changed, e.g. `sizes x2`, `moved 1 earlier`, `threshold 0`. */
  label: string;
  options: RunOptions;
  commands: CommandData[];
}

/**
 * Say which parts of a counterexample could vary and still break the same rule: chunk sizes
 * of each write, position and count of each fault, the knobs. One line per part.
 */
export async function explainFailure(
  suite: Suite,
  variant: string,
  options: RunOptions,
  commands: CommandData[],
  violation: Violation,
  context: BuildContext,
): Promise<string[]> {
  const groups = variationGroups(options, commands, violation.step === 0 ? commands.length : violation.step);
  const lines: string[] = [];
  let reruns = 0;
  for (const group of groups) {
    const still: string[] = [];
    const passes: string[] = [];
    const original = JSON.stringify([options, commands]);
    for (const variation of group.variations) {
      if (reruns >= RERUNS_MAX) break;
      // A change that changes nothing (half of 1 byte is still 1 byte) teaches nothing.
      if (JSON.stringify([variation.options, variation.commands]) === original) continue;
      reruns += 1;
      const outcome = await executeRun(suite, variant, variation.options, variation.commands, context);
      (outcome.violation?.rule === violation.rule ? still : passes).push(variation.label);
    }
    if (still.length + passes.length === 0) continue;
    if (passes.length === 0) lines.push(`${group.part}: can vary (${still.join(', ')} still break ${violation.rule})`);
    else if (still.length === 0) lines.push(`${group.part}: must stay as is (${passes.join(', ')} do not break ${violation.rule})`);
    else lines.push(`${group.part}: partly (${still.join(', ')} still break it; ${passes.join(', ')} do not)`);
  }
  if (reruns >= RERUNS_MAX) lines.push(`(stopped after ${RERUNS_MAX} re-runs)`);
  return lines;
}

function variationGroups(options: RunOptions, commands: CommandData[], violationStep: number): { part: string; variations: Variation[] }[] {
  const groups: { part: string; variations: Variation[] }[] = [];
  const replace = (i: number, command: CommandData): CommandData[] => commands.map((c, k) => (k === i ? command : c));
  const move = (i: number, to: number): CommandData[] => {
    const copy = commands.slice();
    const [moved] = copy.splice(i, 1);
    copy.splice(to, 0, moved!);
    return copy;
  };
  commands.forEach((command, i) => {
    // Commands after the breaking step never ran: nothing to learn from varying them.
    if (i >= violationStep) return;
    const part = `step ${i + 1} ${describeCommand(command)}`;
    const variations: Variation[] = [{ label: 'removed', options, commands: commands.filter((_, k) => k !== i) }];
    if (command.op === 'extend') {
      const resize = (label: string, f: (n: number) => number): void => {
        variations.push({ label, options, commands: replace(i, { ...command, sizes: command.sizes.map((n) => Math.max(1, f(n))) }) });
      };
      resize('sizes x2', (n) => n * 2);
      resize('sizes /2', (n) => Math.floor(n / 2));
      resize('sizes +1', (n) => n + 1);
      variations.push({ label: command.fresh ? 'same slab' : 'fresh slab', options, commands: replace(i, { ...command, fresh: !command.fresh }) });
    } else if (command.op !== 'drain' && command.op !== 'heal') {
      if (i > 0) variations.push({ label: 'one step earlier', options, commands: move(i, i - 1) });
      if (i + 1 < commands.length) variations.push({ label: 'one step later', options, commands: move(i, i + 1) });
      const count = countOf(command);
      if (count !== undefined) {
        if (count.value > count.min) variations.push({ label: `${count.value - 1} instead`, options, commands: replace(i, count.with(count.value - 1)) });
        variations.push({ label: `${count.value + 1} instead`, options, commands: replace(i, count.with(count.value + 1)) });
      }
    }
    groups.push({ part, variations });
  });
  const knob = (label: string, change: Partial<RunOptions>): Variation => ({ label, options: { ...options, ...change }, commands });
  groups.push({
    part: `knobs (threshold ${options.thresholdBytes} B, head reserve ${options.headReserveBytes} B, budget ${options.budgetBytes} B)`,
    variations: [
      knob('threshold x2', { thresholdBytes: options.thresholdBytes * 2 }),
      knob('threshold 0', { thresholdBytes: 0 }),
      knob('reserve x2', { headReserveBytes: options.headReserveBytes * 2 }),
      knob('reserve 0', { headReserveBytes: 0 }),
      knob('budget x2', { budgetBytes: options.budgetBytes * 2 }),
    ],
  });
  return groups;
}

function countOf(command: CommandData): { value: number; min: number; with: (n: number) => CommandData } | undefined {
  switch (command.op) {
    case 'stop-spill-after':
      return { value: command.chunks, min: 0, with: (chunks) => ({ ...command, chunks }) };
    case 'fail-next-fetch':
      return { value: command.count, min: 1, with: (count) => ({ ...command, count }) };
    case 'fail-fetch-after':
      return { value: command.okFetches, min: 0, with: (okFetches) => ({ ...command, okFetches }) };
    default:
      return undefined;
  }
}
