import { readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Command } from 'commander';
import { FIXTURE_FORMAT, type FixtureReplay, fixtureProblem, readFixtureJson, replayFixture } from '../../properties/fixture.js';
import { replaySeed, SUITE_NAMES, suiteOrThrow } from '../../properties/run_suite.js';
import { colors } from '../format.js';
import type { CommandResult } from '../command_result.js';
import { EXIT_BROKEN, EXIT_OK, EXIT_USAGE, UsageError } from '../usage_error.js';
import { whole } from '../flags.js';
import { describeFsError } from '../../properties/json_file.js';
import { withExecBackend } from './check.js';
import { isExecSpecifier } from '../../properties/process_backend/exec_specifier.js';
import { moduleUrl } from '../../properties/conformance/backend_module.js';
import { replayIsolated } from '../../properties/conformance/isolated_commands.js';

/** The backend was stopped (or misbehaved outside any call): one line, exit 1. */
function cutOff(reason: string): number {
  process.stderr.write(`spillsim replay: ${reason}\n`);
  return EXIT_BROKEN;
}

/** The suite name is checked before any worker starts. */
function replaySeedArgsCheck(property: string): void {
  suiteOrThrow(property);
}

interface ReplayFlags {
  property?: string;
  seed?: number;
  path?: string;
  variant?: string;
  backend?: string;
  exec?: string;
  json?: boolean;
}

export function registerReplay(program: Command, result: CommandResult): void {
  program
    .command('replay')
    .description('Reproduce a failure exactly, as a numbered trace: from its replay command (--property --seed --path) or from fixture files')
    .argument('[fixtures...]', 'fixture files (or directories of them) written by check --save-failures')
    .option('--property <suite>', `the suite that failed: ${SUITE_NAMES.join(', ')}`)
    .option('--seed <n>', 'the seed the failure printed', whole)
    .option('--path <path>', 'the path the failure printed')
    .option('--variant <name>', 'the variant to run (a fixture: override the saved one, e.g. default to see a fix hold)')
    .option('--backend <module>', 'the backend module the failure ran with')
    .option('--exec <command line>', 'the backend program the failure ran with (docs/backend-protocol.md)')
    .option('--json', 'print one JSON report on stdout')
    .action(async (fixtures: string[], options: ReplayFlags) => {
      const flags = withExecBackend(options);
      result.exitCode = fixtures.length > 0 ? await replayFixtures(fixtures, flags) : await replayFromSeed(flags);
    });
}

async function replayFromSeed(flags: ReplayFlags): Promise<number> {
  if (flags.property === undefined || flags.seed === undefined || flags.path === undefined) {
    throw new UsageError('give fixture files, or --property NAME --seed S --path P as a failure printed them');
  }
  const args = { seed: flags.seed, path: flags.path, ...(flags.variant === undefined ? {} : { variant: flags.variant }) };
  let replay;
  if (flags.backend === undefined) {
    replay = await replaySeed(flags.property, args);
  } else {
    // A user's backend runs isolated in a worker, exactly as `validate` runs it.
    if (!isExecSpecifier(flags.backend)) moduleUrl(flags.backend);
    replaySeedArgsCheck(flags.property);
    const isolated = await replayIsolated(flags.backend, { mode: 'seed', property: flags.property, ...args });
    if (!isolated.ok) return cutOff(isolated.cutOff);
    replay = isolated.result;
  }
  const violation = replay.outcome.violation;
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ suite: replay.suite, variant: replay.variant, ok: violation === undefined, violation, options: replay.options, commands: replay.commands, trace: replay.shrunk }, null, 2)}\n`);
  } else {
    const paint = colors();
    process.stdout.write(`${paint.bold(`${replay.suite}${replay.variant === 'default' ? '' : ` (${replay.variant})`}, seed ${flags.seed}, path ${flags.path}`)}\n`);
    for (const line of replay.shrunk) process.stdout.write(`  ${paintTraceLine(line, paint)}\n`);
  }
  return violation === undefined ? EXIT_OK : EXIT_BROKEN;
}

async function replayFixtures(specs: string[], flags: ReplayFlags): Promise<number> {
  if (flags.property !== undefined || flags.seed !== undefined || flags.path !== undefined) {
    throw new UsageError('give either fixture files or --property/--seed/--path, not both');
  }
  const files = specs.flatMap(expandFixturePaths);
  if (flags.backend !== undefined && !isExecSpecifier(flags.backend)) moduleUrl(flags.backend);
  const replays: FixtureReplay[] = [];
  // Files that never were fixtures (not JSON, or no fixture format): said so, not "no longer valid".
  const notFixtures = new Set<FixtureReplay>();
  for (const file of files) {
    let value: unknown;
    try {
      value = readFixtureJson(file);
    } catch (error) {
      replays.push({ name: basename(file), verdict: 'no-longer-valid', summary: (error as Error).message, modelChanged: false });
      notFixtures.add(replays.at(-1)!);
      continue;
    }
    if ((value as { format?: unknown } | null)?.format !== FIXTURE_FORMAT) {
      replays.push({ name: basename(file), verdict: 'no-longer-valid', summary: fixtureProblem(value) ?? `format is not ${FIXTURE_FORMAT}`, modelChanged: false });
      notFixtures.add(replays.at(-1)!);
      continue;
    }
    // A fixture saved over a user's backend names it; --backend overrides. A backend runs isolated.
    const saved = (value as { backend?: unknown } | null)?.backend;
    const backend = flags.backend ?? (typeof saved === 'string' ? saved : undefined);
    const variant = flags.variant === undefined ? {} : { variant: flags.variant };
    if (backend === undefined) {
      replays.push(await replayFixture(basename(file), value, variant));
      continue;
    }
    const isolated = await replayIsolated(backend, { mode: 'fixture', name: basename(file), value, ...variant });
    if (!isolated.ok) return cutOff(`${basename(file)}: ${isolated.cutOff}`);
    replays.push(isolated.result);
  }
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ fixtures: replays }, null, 2)}\n`);
  } else {
    const paint = colors();
    for (const replay of replays) {
      // Saved with reproducedAlone: false (check --backend found it did not fail again in a
      // fresh instance): passing now is no news, never "now passes".
      if (replay.verdict === 'not-reproduced') {
        process.stdout.write(`${paint.bold(replay.name)}: ${paint.yellow('did not reproduce')}: as when it was saved, it does not fail alone in a fresh instance; what made it fail was state outside the replayed commands, not a fix\n`);
        continue;
      }
      const invalidMark = notFixtures.has(replay) ? 'not a fixture' : 'no longer valid';
      const mark = replay.verdict === 'now-passes' ? paint.green('now passes') : replay.verdict === 'no-longer-valid' ? paint.yellow(invalidMark) : paint.red(replay.verdict.replace('-', ' '));
      process.stdout.write(`${paint.bold(replay.name)}: ${mark}: ${replay.summary}${replay.modelChanged ? paint.dim(' (saved under another model or command set)') : ''}\n`);
      for (const line of replay.trace ?? []) process.stdout.write(`  ${paintTraceLine(line, paint)}\n`);
    }
  }
  if (replays.some((r) => r.verdict === 'no-longer-valid')) return EXIT_USAGE;
  return replays.some((r) => r.verdict === 'same-failure' || r.verdict === 'different-failure' || r.verdict === 'not-reproduced') ? EXIT_BROKEN : EXIT_OK;
}

/** A file, or every `.json` in a directory; a missing path or a directory with no fixtures is bad input. */
function expandFixturePaths(spec: string): string[] {
  let stat;
  try {
    stat = statSync(spec);
  } catch (error) {
    throw new UsageError(`cannot read fixture ${spec}: ${describeFsError(error)}`);
  }
  if (stat.isFile()) return [spec];
  // A device or FIFO is refused unread: reading /dev/zero never ends, a FIFO with no writer blocks.
  if (!stat.isDirectory()) throw new UsageError(`cannot read fixture ${spec}: not a regular file (a device, pipe or socket)`);
  let names: string[];
  try {
    names = readdirSync(spec);
  } catch (error) {
    throw new UsageError(`cannot read fixture directory ${spec}: ${describeFsError(error)}`);
  }
  const files = names.filter((name) => name.endsWith('.json')).sort();
  if (files.length === 0) throw new UsageError(`no fixtures in ${spec} (a fixture is a .json file written by check --save-failures)`);
  return files.map((name) => join(spec, name));
}

function paintTraceLine(line: string, paint: ReturnType<typeof colors>): string {
  return line.startsWith('BROKE') ? paint.red(line) : line.startsWith('held') ? paint.green(line) : line;
}
