import { SpillsimError } from '../src/errors.js';
import { type CommandData, describeCommand } from './command_data.js';
import { QueueSystem, type RunOptions } from './queue_system.js';
import type { BuildContext, Suite } from './suite.js';
import type { RunOutcome, TraceEntry } from './run_outcome.js';
import type { RuleId, Violation } from './violation.js';

/**
 * Run one command list against fresh systems built by `variant`, checking the suite's rules
 * after every command, then heal storage and drain to the end. Both fast-check and fixture
 * replay go through here, so a saved fixture fails exactly as the generated run did.
 */
export async function executeRun(
  suite: Suite,
  variantName: string,
  options: RunOptions,
  commands: readonly CommandData[],
  context: BuildContext = {},
): Promise<RunOutcome> {
  const variant = suite.variants[variantName];
  if (variant?.systems === undefined && variant !== undefined) throw new SpillsimError('E_BAD_INPUT', `suite ${suite.name} does not run command lists`);
  if (variant?.systems === undefined) throw new SpillsimError('E_BAD_INPUT', `suite ${suite.name} has no variant ${variantName}; it has ${Object.keys(suite.variants).join(', ')}`);
  const rules = new Set<RuleId>(suite.rules);
  const systems: QueueSystem[] = [];
  for (const spec of variant.systems(options)) {
    const inner = spec.inner ?? (await context.makeInner?.());
    systems.push(new QueueSystem({ ...spec, inner }, options, rules));
  }
  const trace: TraceEntry[] = [];
  const many = systems.length > 1;
  for (let i = 0; i < commands.length; i += 1) {
    const command = commands[i]!;
    const step = i + 1;
    const events: string[] = [];
    for (const system of systems) {
      const prefix = many ? `[${system.label}] ` : '';
      let found: Omit<Violation, 'step'> | undefined;
      try {
        const report = system.apply(command);
        events.push(...report.events.map((e) => prefix + e));
        found = report.violation ?? checkRules(system, rules, command, report.spillStopped);
      } catch (error) {
        events.push(...system.takeEvents().map((e) => prefix + e));
        found = thrown(system, command, error, many);
      }
      if (found !== undefined) {
        trace.push({ step, command: describeCommand(command), events, state: describeStates(systems) });
        return { violation: { ...found, step }, trace };
      }
    }
    const compared = suite.compare?.(systems, false);
    trace.push({ step, command: describeCommand(command), events, state: describeStates(systems) });
    if (compared !== undefined) return { violation: { ...compared, step }, trace };
  }
  return finish(suite, systems, rules, trace);
}

async function finish(suite: Suite, systems: QueueSystem[], rules: Set<RuleId>, trace: TraceEntry[]): Promise<RunOutcome> {
  const step = trace.length + 1;
  const events: string[] = [];
  for (const system of systems) {
    if (!rules.has('delivery') && suite.compare === undefined) continue;
    let found: Omit<Violation, 'step'> | undefined;
    try {
      found = system.finish();
    } catch (error) {
      found = thrown(system, { op: 'drain' }, error, systems.length > 1);
    }
    events.push(...system.takeEvents().map((e) => (systems.length > 1 ? `[${system.label}] ${e}` : e)));
    if (found !== undefined && (rules.has('delivery') || found.rule !== 'delivery')) {
      trace.push({ step, command: 'HealStorageAndDrainToEnd()', events, state: describeStates(systems) });
      return { violation: { ...found, step }, trace };
    }
  }
  const compared = suite.compare?.(systems, true);
  if (compared !== undefined) {
    trace.push({ step, command: 'HealStorageAndDrainToEnd()', events, state: describeStates(systems) });
    return { violation: { ...compared, step }, trace };
  }
  return { trace };
}

function checkRules(system: QueueSystem, rules: Set<RuleId>, command: CommandData, spillStopped: boolean): Omit<Violation, 'step'> | undefined {
  if (rules.has('accounting')) {
    const found = system.checkAccounting();
    if (found !== undefined) return found;
  }
  if (rules.has('memory-bound') && command.op === 'extend' && !spillStopped) return system.checkMemoryBound(command.queue);
  return undefined;
}

function thrown(system: QueueSystem, command: CommandData, error: unknown, many: boolean): Omit<Violation, 'step'> {
  const code = error instanceof SpillsimError ? `${error.code}: ` : '';
  const message = error instanceof Error ? error.message : String(error);
  const who = many ? ` under ${system.label}` : '';
  return { rule: 'threw', message: `${describeCommand(command)} threw${who}: ${code}${message}` };
}

function describeStates(systems: QueueSystem[]): string {
  if (systems.length === 1) return systems[0]!.describeState();
  return systems.map((s) => `[${s.label}] ${s.describeState()}`).join(' | ');
}
