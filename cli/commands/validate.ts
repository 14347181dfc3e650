import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { BACKEND_CLAUSE_IDS, exampleProblem } from '../../properties/conformance/backend_clauses.js';
import { modulePath, moduleUrl } from '../../properties/conformance/backend_module.js';
import { backendArgument, checkCommandLine, commandLineOf, execSpecifier, isExecSpecifier } from '../../properties/process_backend/exec_specifier.js';
import { emitTestSource, inputWordsOf, replayableFailures } from '../../properties/conformance/emit_test.js';
import {
  clauseReport,
  formatClauseReport,
  formatDifferentialReport,
  type ValidateReport,
} from '../../properties/conformance/report.js';
import {
  CLAUSE_TIMEOUT_MS_DEFAULT,
  exitCodeOf,
  SEED_DEFAULT,
  RUN_BUDGET_MS_DEFAULT,
  validateDifferential,
  validateModule,
  validatePolicy,
} from '../../properties/conformance/validate.js';
import { SUITE_RUNS_DEFAULT, SUITE_UNITS } from '../../properties/conformance/suite_units.js';
import type { ClauseVerdict } from '../../properties/conformance/clause.js';
import { collectList, milliseconds, positiveWhole, whole } from '../flags.js';
import { colors } from '../format.js';
import { Progress } from '../progress.js';
import type { CommandResult } from '../command_result.js';
import { EXIT_BROKEN, EXIT_OK, UsageError } from '../usage_error.js';
import { checkNotAnInput, checkOutputFile } from '../../properties/output_path.js';
import { stripByteOrderMark } from '../../properties/json_file.js';

interface ValidateFlags {
  policy?: string;
  exec: string[];
  clause: string[];
  seed: number;
  timeoutMs: number;
  budgetMs: number;
  json?: boolean;
  emitTest?: string;
  example?: string;
  differential?: boolean;
  suites: boolean;
  runs: number;
  quiet?: boolean;
}

export function registerValidate(program: Command, result: CommandResult): void {
  program
    .command('validate')
    .description('Check a spill backend (or a policy) against the BytesSpill contract, clause by clause; with several backends, compare them byte for byte with MemorySpill')
    .argument('[backends...]', 'backend modules: default export (ctx) => BytesSpill')
    .option('--exec <command line>', 'also a backend in another language: a program speaking docs/backend-protocol.md on stdin/stdout (repeatable)', collect, [])
    .option('--policy <module>', 'also check a policy module: default export (ctx) => [writerPolicy, readerPolicy]')
    .option('--clause <id>', `run only this clause (repeatable): ${BACKEND_CLAUSE_IDS.join(', ')}`, collectList, [])
    .option('--seed <n>', 'seed for chunk contents and random cases', whole, SEED_DEFAULT)
    .option('--timeout-ms <ms>', 'a clause is stuck when no backend call returns for this long (it may take twice this in all)', milliseconds('--timeout-ms'), CLAUSE_TIMEOUT_MS_DEFAULT)
    .option('--budget-ms <ms>', 'the whole run (clauses, suites, replays); what is left when it is spent is skipped', milliseconds('--budget-ms'), RUN_BUDGET_MS_DEFAULT)
    .option('--json', 'print one JSON report on stdout')
    .option('--emit-test <file>', 'write a vitest file that replays every broken clause against the backend')
    .option('--example <json>', 'replay a recorded stochastic case (from a report) instead of searching')
    .option('--differential', 'compare with MemorySpill on one trace, even for a single backend')
    .option('--no-suites', 'skip the property suites that run after the clauses')
    .option('--runs <n>', 'runs per property suite', positiveWhole, SUITE_RUNS_DEFAULT)
    .option('--quiet', 'no progress output')
    .action(async (modules: string[], flags: ValidateFlags) => {
      // A child process backend travels as exec:<command line>, beside module paths.
      result.exitCode = await runValidate([...modules, ...flags.exec.map(execSpecifier)], flags);
    });
}

async function runValidate(backends: string[], flags: ValidateFlags): Promise<number> {
  checkInput(backends, flags);
  const paint = colors();
  const print = (text: string): void => {
    if (!flags.json) process.stdout.write(`${text}\n`);
  };
  const reports: ValidateReport[] = [];
  const options = { seed: flags.seed, timeoutMs: flags.timeoutMs };
  if (flags.differential || backends.length > 1) {
    const deadline = Date.now() + flags.budgetMs;
    print(paint.bold(`differential: ${backends.length} backend(s) against MemorySpill, one trace, seed ${flags.seed}`));
    for (const module of backends) {
      const report = { kind: 'differential' as const, module, result: await validateDifferential(module, { ...options, deadline }) };
      reports.push(report);
      print(formatDifferentialReport(report, paint));
    }
  } else if (backends.length === 1) {
    const module = backends[0]!;
    const example = flags.example === undefined ? undefined : parseExample(flags.example);
    const withSuites = flags.suites && flags.clause.length === 0;
    const progress = new Progress({
      label: 'clauses',
      total: (flags.clause.length > 0 ? flags.clause.length : BACKEND_CLAUSE_IDS.length) + (withSuites ? SUITE_UNITS.length : 0),
      quiet: Boolean(flags.quiet || flags.json),
    });
    const onVerdict = (verdict: ClauseVerdict): void => progress.tick(1, verdict.status === 'broken' || verdict.status === 'timeout' ? 1 : 0);
    let verdicts: ClauseVerdict[];
    try {
      // The suites judge the backend as the queue uses it; a --clause replay wants just the clause.
      verdicts = await validateModule(module, {
        ...options,
        clauseIds: flags.clause,
        suites: withSuites,
        runs: flags.runs,
        budgetMs: flags.budgetMs,
        onVerdict,
        ...(example === undefined ? {} : { example }),
      });
    } finally {
      progress.stop();
    }
    const report = clauseReport('backend', module, verdicts, flags.seed);
    reports.push(report);
    print(formatClauseReport(report, paint));
    if (flags.emitTest !== undefined) print(emitTest(module, flags.emitTest, flags.seed, verdicts));
  }
  if (flags.policy !== undefined) {
    const report = clauseReport('policy', flags.policy, await validatePolicy(flags.policy, { ...options, budgetMs: flags.budgetMs }), flags.seed);
    reports.push(report);
    print(formatClauseReport(report, paint));
  }
  const exitCode = reports.some((r) => (r.kind === 'differential' ? r.result.status !== 'same' : exitCodeOf(r.verdicts) !== 0)) ? EXIT_BROKEN : EXIT_OK;
  if (flags.json) process.stdout.write(`${JSON.stringify({ seed: flags.seed, reports, exitCode }, null, 2)}\n`);
  return exitCode;
}

/** Everything wrong with the command line is found before any worker starts. */
function checkInput(backends: string[], flags: ValidateFlags): void {
  if (backends.length === 0 && flags.policy === undefined) {
    throw new UsageError('give a backend module (spillsim validate ./my-backend.mjs), a program (--exec ./my-backend) or a policy (--policy ./my-policy.mjs)');
  }
  for (const module of [...backends, ...(flags.policy === undefined ? [] : [flags.policy])]) {
    if (isExecSpecifier(module)) checkCommandLine(commandLineOf(module));
    else moduleUrl(module);
  }
  if (flags.clause.length > 0 && backends.length === 0) {
    throw new UsageError('--clause selects clauses of a backend, and no backend is given; --policy runs every policy clause');
  }
  const unknown = flags.clause.filter((id) => !BACKEND_CLAUSE_IDS.includes(id));
  if (unknown.length > 0) throw new UsageError(`unknown clause ${unknown.join(', ')}; known clauses: ${BACKEND_CLAUSE_IDS.join(', ')}`);
  if (flags.emitTest !== undefined && backends.length !== 1) throw new UsageError('--emit-test needs exactly one backend module');
  if (flags.emitTest !== undefined) {
    checkOutputFile('--emit-test', flags.emitTest);
    // A program's command line names its inputs too: the program, a script it runs.
    const inputs = [...backends, ...(flags.policy === undefined ? [] : [flags.policy])].flatMap((m) =>
      isExecSpecifier(m) ? inputWordsOf(commandLineOf(m)).filter((w) => w.file || w.word.includes('/')).map((w) => w.word) : (modulePath(m) ?? []),
    );
    checkNotAnInput('--emit-test', flags.emitTest, inputs);
  }
  if (flags.example !== undefined && flags.clause.length !== 1) throw new UsageError('--example replays one stochastic clause: give it with --clause ID');
  if (flags.example !== undefined) {
    const problem = exampleProblem(flags.clause[0]!, parseExample(flags.example));
    if (problem !== undefined) throw new UsageError(`--example: ${problem}`);
  }
  if (flags.differential && backends.length === 0) throw new UsageError('--differential needs at least one backend module');
  if ((flags.differential || backends.length > 1) && (flags.clause.length > 0 || flags.example !== undefined)) {
    // The comparison runs one trace through every backend; the clauses judge one backend at a time.
    throw new UsageError(`${flags.clause.length > 0 ? '--clause' : '--example'} judges one backend; with ${flags.differential ? '--differential' : 'several backends'} validate compares them byte for byte instead: validate each backend on its own`);
  }
}

function emitTest(module: string, outPath: string, seed: number, verdicts: Parameters<typeof emitTestSource>[0]['verdicts']): string {
  const failing = replayableFailures(verdicts);
  const stray = verdicts.filter((v) => v.reproduced === false).map((v) => v.id);
  const note = stray.length === 0 ? '' : `\n--emit-test: ${stray.join(', ')} did not fail again alone in a fresh instance (state outside the replayed commands), so no test replays them; the whole run does: spillsim validate ${backendArgument(module)} --seed ${seed}`;
  if (failing.length === 0) return `--emit-test: no broken clause to replay; no test written${note}`;
  try {
    writeFileSync(outPath, emitTestSource({ moduleSpecifier: module, outPath, seed, verdicts }));
  } catch (error) {
    throw new UsageError(`cannot write ${outPath}: ${(error as Error).message}`);
  }
  return `wrote ${outPath}: ${failing.length} test(s) replaying ${failing.map((v) => v.id).join(', ')}${note}`;
}

function parseExample(text: string): unknown {
  try {
    return JSON.parse(stripByteOrderMark(text)) as unknown;
  } catch {
    throw new UsageError(`--example must be the JSON a report printed, got ${text.slice(0, 40)}`);
  }
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
