import type { Command } from 'commander';

/** One line of a help page's examples: what to type, and what it does. */
interface Example {
  command: string;
  what: string;
}

/**
 * Examples shown under each command's `--help`. They use only flags the command declares
 * (test/cli_help.test.ts checks that), so a renamed flag cannot leave a stale example behind.
 */
export const EXAMPLES: Readonly<Record<string, readonly Example[]>> = {
  check: [
    { command: 'spillsim check', what: 'run every property suite with the default budget' },
    { command: 'spillsim check --suite ordering --runs 500', what: 'one suite, more runs' },
    { command: 'spillsim check --seed 42 --json', what: 'a repeatable run, one JSON result per suite' },
    { command: 'spillsim check --save-failures', what: 'keep each failure as a fixture under fixtures/failures/' },
    { command: 'spillsim check --backend ./my-backend.mjs --timeout-ms 30000', what: 'your storage under the suites; a call may take 30 s before the suite counts as stuck' },
  ],
  sim: [
    { command: 'spillsim sim --seed 7', what: 'simulate one seed and check every invariant' },
    { command: 'spillsim sim --seeds 1..200', what: 'a range of seeds, with progress' },
    { command: 'spillsim sim --seed 7 --prefetch-budget 0 --trace', what: 'a reader that never fetches: reported as a livelock, with its trace' },
    { command: 'spillsim sim --seeds 1..50 --json > runs.jsonl', what: 'one JSON object per run, for merge or report' },
    { command: 'spillsim sim --seeds 1..1000 --workload any --workers 2 --quiet', what: 'a campaign on two worker threads, every workload' },
  ],
  replay: [
    { command: 'spillsim replay fixtures/failures/ordering--default--0123456789.json', what: 'replay a saved failure and sort it' },
    { command: 'spillsim replay --property ordering --seed 42 --path 3:1', what: 'replay the command a failure printed' },
  ],
  validate: [
    { command: 'spillsim validate ./my-backend.mjs', what: 'check a spill backend against every clause of the contract' },
    { command: 'spillsim validate ./my-backend.mjs --json', what: 'the verdicts as JSON, for CI' },
    { command: 'spillsim validate --policy ./my-policy.mjs', what: 'check a spill policy' },
  ],
  report: [
    { command: 'spillsim report run.json -o report.html', what: 'draw a run from `spillsim sim --json` as one HTML page' },
    { command: 'spillsim report runs.jsonl', what: 'several runs: the first failing one is drawn' },
    { command: 'spillsim report fixtures/failures/ordering--default--0123456789.json --text', what: 'a fixture, also as a readable trace in the terminal' },
  ],
  merge: [
    { command: 'spillsim merge shard-*.jsonl', what: 'merge the results of sharded campaigns' },
    { command: 'spillsim merge shard-*.jsonl --expect 1..10000 --json', what: 'and report seeds no shard ran' },
  ],
};

/** What every page ends with: the exit codes, the contract scripts rely on. */
const EXIT_CODES = [
  'Exit codes: 0 nothing broke (what was judged held, the rest did not apply); 1 a',
  'property or contract broke (the output says how to replay it), or a suite or',
  'clause was left unjudged by the time limit (NOT CHECKED, NOT VALIDATED); 2 bad',
  'usage or bad input.',
].join('\n');

/** Each example as a comment line and a command line, so neither is wrapped on an 80-column terminal. */
export function formatExamples(examples: readonly Example[]): string {
  return ['', 'Examples:', ...examples.flatMap((e) => [`  # ${e.what}`, `  $ ${e.command}`])].join('\n');
}

/** Append the examples to each command's help and an overview to the program's. */
export function addExamples(program: Command): void {
  for (const command of program.commands) {
    const examples = EXAMPLES[command.name()];
    if (examples) command.addHelpText('after', `${formatExamples(examples)}\n\n${EXIT_CODES}`);
  }
  const overview = [
    { command: 'spillsim check', what: 'job 1: run the property suites' },
    { command: 'spillsim replay --property ordering --seed 42 --path 3:1', what: 'job 2: replay a failing seed' },
    { command: 'spillsim validate ./my-backend.mjs', what: 'job 3: validate your spill backend' },
    { command: 'spillsim <command> --help', what: 'flags and examples of one command' },
  ];
  program.addHelpText('after', `${formatExamples(overview)}\n\n${EXIT_CODES}`);
}
