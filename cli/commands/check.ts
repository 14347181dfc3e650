import { extname, relative } from 'node:path';
import type { Command } from 'commander';
import { backendArgument, checkCommandLine, execSpecifier, isExecSpecifier } from '../../properties/process_backend/exec_specifier.js';
import { modulePath, moduleUrl } from '../../properties/conformance/backend_module.js';
import { checkIsolated, ISOLATED_STUCK_MS_DEFAULT } from '../../properties/conformance/isolated_commands.js';
import { type CheckedSuite, checkSelection, checkSuites, FAILURES_DIR_DEFAULT, plannedCheckRuns } from '../../properties/check_suites.js';
import { makeFixture } from '../../properties/fixture.js';
import { RUNS_DEFAULT, SUITE_NAMES } from '../../properties/run_suite.js';
import { SUITES } from '../../properties/suites/index.js';
import { collectList, milliseconds, positiveNumber, positiveWhole, whole } from '../flags.js';
import { colors, formatDuration } from '../format.js';
import type { CommandResult } from '../command_result.js';
import { Progress } from '../progress.js';
import { writeReport } from '../report/index.js';
import { EXIT_BROKEN, EXIT_OK, UsageError } from '../usage_error.js';
import { checkNotAnInput, checkOutputDir, checkOutputFile } from '../../properties/output_path.js';

/** A safety net so the default check always ends well under two minutes, even on a loaded machine. */
const TIME_LIMIT_SECONDS_DEFAULT = 100;

interface CheckFlags {
  runs?: number;
  seed?: number;
  timeLimit: number;
  suite?: string[];
  variant?: string;
  backend?: string;
  exec?: string;
  timeoutMs?: number;
  json?: boolean;
  quiet?: boolean;
  saveFailures?: string | boolean;
  exampleDb: boolean;
  list?: boolean;
  report?: string | boolean;
}

const REPORT_PATH_DEFAULT = 'spillsim-report.html';

export function registerCheck(program: Command, result: CommandResult): void {
  program
    .command('check')
    .description('Run every property suite (or some) with a default budget; a failure prints its shrunk trace and a replay command')
    .option('--runs <n>', `generated runs per sampled suite (default ${RUNS_DEFAULT}; the exhaustive suite always runs every case)`, positiveWhole)
    .option('--seed <n>', 'fast-check seed for every suite (default: random, printed)', whole)
    .option('--time-limit <seconds>', 'stop generating new runs after this long in all; suites share it evenly', positiveNumber, TIME_LIMIT_SECONDS_DEFAULT)
    .option('--suite <names>', `run only these suites (comma-separated or repeated; default all): ${SUITE_NAMES.join(', ')}`, collectList)
    .option('--variant <name>', 'run a reference-* or broken-* variant of the selected suites, or of every suite that has it (see --list)')
    .option('--backend <module>', 'spill through your backend module (default export (ctx) => BytesSpill), under the scripted faults')
    .option('--exec <command line>', 'spill through a backend in another language: a program speaking docs/backend-protocol.md')
    .option('--timeout-ms <ms>', `with --backend/--exec: a suite is stuck when no backend call returns for this long (default ${ISOLATED_STUCK_MS_DEFAULT})`, milliseconds('--timeout-ms'))
    .option('--save-failures [dir]', `write each failure as a replayable fixture (default dir ${FAILURES_DIR_DEFAULT})`)
    .option('--no-example-db', 'do not replay or record failures in .spillsim/examples')
    .option('--json', 'print one JSON report on stdout and nothing else')
    .option('--quiet', 'no progress; only failures and the table')
    .option('--list', 'list the suites and their variants, then exit')
    .option('--report [file]', `write an HTML report of each failure (default ${REPORT_PATH_DEFAULT}; one file per failing suite, named after it when several fail)`)
    .action(async (flags: CheckFlags) => {
      result.exitCode = await runCheck(flags);
    });
}

async function runCheck(options: CheckFlags): Promise<number> {
  const flags = withExecBackend(options);
  if (flags.list) {
    process.stdout.write(listSuites());
    return EXIT_OK;
  }
  // Without a backend the suites spill to built-in storage, which has no calls to wait for.
  if (flags.timeoutMs !== undefined && flags.backend === undefined) throw new UsageError('--timeout-ms limits the calls of a backend: give it with --backend or --exec');
  // A variant without --suite means: every suite that has that variant.
  let suites =
    flags.suite !== undefined ? flags.suite : flags.variant === undefined ? [...SUITE_NAMES] : SUITES.filter((s) => s.variants[flags.variant!] !== undefined).map((s) => s.name);
  if (flags.backend !== undefined) {
    // determinism and end-to-end build their own storage: with a backend, their "held" would vouch
    // for storage they never called (validate leaves them out for the same reason).
    const ownStorage = SUITES.filter((s) => s.kind === 'sampled' && !s.usesBackend).map((s) => s.name);
    const named = suites.filter((name) => ownStorage.includes(name));
    if (flags.suite !== undefined && named.length > 0) {
      throw new UsageError(`--suite ${named.join(', ')}: ${named.length === 1 ? 'it builds its' : 'they build their'} own storage and never call${named.length === 1 ? 's' : ''} the backend; run ${named.length === 1 ? 'it' : 'them'} without --backend/--exec`);
    }
    suites = suites.filter((name) => !ownStorage.includes(name));
  }
  if (suites.length === 0) throw new UsageError(`no suite has a variant ${JSON.stringify(flags.variant)}; spillsim check --list shows them`);
  try {
    checkSelection(suites, flags.variant);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const saveFailuresDir = flags.saveFailures === undefined || flags.saveFailures === false ? undefined : flags.saveFailures === true ? FAILURES_DIR_DEFAULT : flags.saveFailures;
  const reportPath = flags.report === undefined || flags.report === false ? undefined : flags.report === true ? REPORT_PATH_DEFAULT : flags.report;
  // Output locations are checked before the run, so a long run cannot end in a lost failure.
  if (saveFailuresDir !== undefined) checkOutputDir('--save-failures', saveFailuresDir);
  if (reportPath !== undefined) checkOutputFile('--report', reportPath);
  if (reportPath !== undefined && flags.backend !== undefined) checkNotAnInput('--report', reportPath, [modulePath(flags.backend) ?? []].flat());
  if (flags.backend !== undefined && !isExecSpecifier(flags.backend)) moduleUrl(flags.backend);
  const seed = flags.seed ?? Math.floor(Math.random() * 0x7fffffff);
  const paint = colors();
  const out = (text: string): void => {
    if (!flags.json) process.stdout.write(`${text}\n`);
  };
  const header = paint.dim(`spillsim check: ${suites.length} suite(s), seed ${seed}${flags.variant === undefined ? '' : `, variant ${flags.variant}`}${flags.backend === undefined ? '' : `, backend ${backendArgument(flags.backend)}`}`);
  // With a backend, the header waits until the module has loaded: a module that fails to import
  // or has no factory is bad input, one line on stderr and nothing on stdout.
  let headerShown = false;
  const showHeader = (): void => {
    if (headerShown) return;
    headerShown = true;
    out(header);
  };
  if (flags.backend === undefined) showHeader();
  const progress = new Progress({ label: 'runs', total: plannedCheckRuns({ suites, runs: flags.runs, variant: flags.variant }), quiet: Boolean(flags.quiet || flags.json) });
  const started = performance.now();
  let results: CheckedSuite[];
  const onResult = (r: CheckedSuite): void => {
    showHeader();
    if (flags.json) return;
    if (r.cutOff !== undefined) {
      progress.stop();
      out(paint.red(`FAILED ${r.suite}: ${r.cutOff}`));
      return;
    }
    if (r.failure === undefined) return;
    progress.stop();
    out(formatFailure(r, paint));
  };
  try {
    // A user's backend runs isolated in a worker, exactly as `validate` runs it: a hang, a loop,
    // process.exit, running out of memory or an output flood is a one-line reason, not a hang.
    const budget = {
      seed,
      exampleDb: flags.exampleDb,
      ...(flags.runs === undefined ? {} : { runs: flags.runs }),
      ...(flags.variant === undefined ? {} : { variant: flags.variant }),
      timeLimitMs: flags.timeLimit * 1000,
      ...(saveFailuresDir === undefined ? {} : { saveFailuresDir }),
    };
    results =
      flags.backend !== undefined
        ? await checkIsolated(flags.backend, suites, {
            ...budget,
            ...(flags.timeoutMs === undefined ? {} : { stuckMs: flags.timeoutMs }),
            onLoaded: showHeader,
            // Runs happen in the worker: the bar moves a suite at a time.
            onResult: (r) => {
              progress.tick(r.runs);
              onResult(r);
              if (r.savedFixture !== undefined && !flags.json) out(`${paint.bold('saved:')} ${relative(process.cwd(), r.savedFixture)}`);
            },
          })
        : await checkSuites({
            suites,
            ...budget,
            onRun: () => progress.tick(),
            onResult,
            onSaved: (_r, path) => out(`${paint.bold('saved:')} ${relative(process.cwd(), path)}`),
          });
  } finally {
    progress.stop();
  }
  const timeMs = performance.now() - started;
  // A suite the time limit kept from running at all judged nothing: the run is no pass.
  const ok = results.every((r) => r.ok) && !results.some(notRun);
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ ok, seed, timeMs: Math.round(timeMs), suites: results }, null, 2)}\n`);
  } else {
    showHeader();
    out(formatTable(results, paint));
    out(`${summaryLine(results, paint)} in ${formatDuration(timeMs)} (seed ${seed})`);
  }
  // Reports are written after every failure and the table are printed.
  if (reportPath !== undefined) {
    for (const path of writeFailureReports(results, reportPath, flags.backend)) out(`report: ${relative(process.cwd(), path)}`);
  }
  return ok ? EXIT_OK : EXIT_BROKEN;
}

type Paint = ReturnType<typeof colors>;

/** One HTML report per failing suite: `base` itself when one failed, `base-<suite>.html` when several did. */
function writeFailureReports(results: CheckedSuite[], base: string, backendPath: string | undefined): string[] {
  const failed = results.filter((r) => r.failure !== undefined);
  const stem = base.slice(0, base.length - extname(base).length);
  return failed.map((r) =>
    writeReport(makeFixture(r.suite, r.variant, r.failure!, backendPath), failed.length === 1 ? base : `${stem}-${r.suite}.html`),
  );
}

function formatFailure(result: CheckedSuite, paint: Paint): string {
  const failure = result.failure!;
  const lines = [
    '',
    paint.red(paint.bold(`FAILED ${result.suite}${result.variant === 'default' ? '' : ` (${result.variant})`}: rule ${failure.violation.rule}`)) +
      (result.fromExampleDb === undefined ? '' : paint.dim(` (remembered in ${relative(process.cwd(), result.fromExampleDb)})`)),
    paint.bold('shrunk counterexample:'),
    ...failure.shrunk.map((line) => `  ${line}`),
  ];
  if (failure.explanation.length > 0) lines.push(paint.bold('what could vary and still fail:'), ...failure.explanation.map((line) => `  ${line}`));
  if (result.notReproduced !== undefined) lines.push(paint.yellow(result.notReproduced));
  lines.push(`${paint.bold('replay:')} ${failure.replay}`);
  return lines.join('\n');
}

/**
 * `all suites held`, `2 suite(s) broke`, and how many judged nothing of the backend (not
 * applicable) or the time limit kept from running at all: "held" only for suites that were judged.
 */
function summaryLine(results: CheckedSuite[], paint: Paint): string {
  const broke = results.filter((r) => !r.ok).length;
  const notRunCount = results.filter(notRun).length;
  const notApplicable = results.filter((r) => r.ok && r.notApplicable !== undefined).length;
  const notChecked = paint.red(`NOT CHECKED: ${notRunCount} suite(s) not run (time limit; raise --time-limit)`);
  if (notRunCount === results.length) return notChecked;
  const held = results.length - broke - notRunCount - notApplicable;
  const head =
    broke > 0
      ? paint.red(`${broke} suite(s) broke`)
      : held === 0
        ? paint.yellow('no suite applied to the backend')
        : notRunCount + notApplicable === 0
          ? paint.green('all suites held')
          : paint.green(notApplicable === 0 ? 'every suite that ran held' : 'every suite that applied held');
  const tail = [...(notApplicable === 0 ? [] : [`${notApplicable} not applicable`]), ...(notRunCount === 0 ? [] : [notChecked])];
  return [head, ...tail].join(', ');
}

/** A suite the time limit kept from running at all (no run, so nothing judged). */
function notRun(r: CheckedSuite): boolean {
  return r.ok && r.runs === 0 && r.interrupted === true;
}

function formatTable(results: CheckedSuite[], paint: Paint): string {
  const rows = results.map((r) => [
    r.suite + (r.variant === 'default' ? '' : ` (${r.variant})`),
    String(r.runs),
    r.commands === 0 ? '-' : String(r.commands),
    formatDuration(r.timeMs),
    r.ok
      ? r.notApplicable !== undefined
        ? `not applicable (${r.notApplicable})`
        : notRun(r)
          ? 'not run (time limit)'
          : r.interrupted
            ? 'held (time limit)'
          : 'held'
      : r.cutOff !== undefined
        ? 'FAILED: cut off'
        : `FAILED: ${r.failure?.violation.rule ?? '?'}`,
  ]);
  const header = ['suite', 'runs', 'commands', 'time', 'result'];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c]!.length)));
  const line = (cells: string[]): string => cells.map((cell, c) => (c === 1 || c === 2 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd();
  const body = rows.map((row, k) => {
    const text = line(row);
    return results[k]!.ok ? text : paint.red(text);
  });
  return ['', paint.bold(line(header)), ...body].join('\n');
}

function listSuites(): string {
  const lines: string[] = [];
  for (const suite of SUITES) {
    lines.push(`${suite.name}: ${suite.description}`);
    for (const [name, variant] of Object.entries(suite.variants)) lines.push(`  --variant ${name}: ${variant.description}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * `--exec "<command line>"` is the backend `exec:<command line>` from here on (replay commands
 * and fixtures carry it); it excludes `--backend`, and its program must exist.
 */
export function withExecBackend<F extends { backend?: string; exec?: string }>(flags: F): F {
  if (flags.exec === undefined) return flags;
  if (flags.backend !== undefined) throw new UsageError('give --backend or --exec, not both');
  checkCommandLine(flags.exec);
  return { ...flags, backend: execSpecifier(flags.exec) };
}
