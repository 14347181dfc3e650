import type { Command } from 'commander';
import { relative } from 'node:path';
import type { CommandResult } from '../command_result.js';
import { colors } from '../format.js';
import { buildReportModel, loadReportSource, writeReport } from '../report/index.js';
import { formatTrace, formatViolation } from '../trace_format.js';
import { EXIT_OK } from '../usage_error.js';
import { wholeInRange } from '../flags.js';
import { checkNotAnInput, checkOutputFile } from '../../properties/output_path.js';

interface ReportOptions {
  output: string;
  text?: boolean;
  maxSteps?: string;
}

/** Steps the terminal trace shows by default; the HTML report has room for more. */
const TEXT_STEPS_DEFAULT = 40;

export function registerReport(program: Command, result: CommandResult): void {
  program
    .command('report')
    .description('Draw a run (spillsim sim --json) or a failure fixture as one self-contained HTML page: plot, markers and trace.')
    .argument('<input>', 'a run.json (one run, or JSON lines of runs: the first failing one is drawn) or a fixtures/failures/*.json')
    .option('-o, --output <file>', 'where to write the HTML report', 'report.html')
    .option('--text', 'also print the readable trace in the terminal')
    .option('--max-steps <n>', `steps of the terminal trace to show, around the broken one (default ${TEXT_STEPS_DEFAULT})`)
    .action((input: string, options: ReportOptions) => {
      // Check the flags and the output location before reading anything, so a typo is reported as a typo.
      const maxSteps = parseMaxSteps(options.maxSteps);
      checkOutputFile('-o', options.output);
      checkNotAnInput('-o', options.output, [input]);
      const source = loadReportSource(input);
      const model = buildReportModel(source);
      if (options.text) {
        const color = colors(process.stdout).isColorSupported;
        process.stdout.write(`${formatTrace(model.steps, { color, highlightStep: model.violation?.step, maxSteps })}\n`);
      }
      // What broke is printed before the page is written, so a failed write cannot hide it.
      process.stdout.write(`${model.violation ? formatViolation(model.violation) : 'No invariant broke.'}\n`);
      const written = writeReport(source, options.output);
      const shown = relative(process.cwd(), written);
      const where = shown.startsWith('..') || shown === '' ? written : shown;
      const queues = `${model.series.length} queue${model.series.length === 1 ? '' : 's'} plotted`;
      process.stdout.write(`wrote ${where} (${model.steps.length} steps, ${queues})\n`);
      result.exitCode = EXIT_OK;
    });
}

function parseMaxSteps(text: string | undefined): number {
  if (text === undefined) return TEXT_STEPS_DEFAULT;
  return wholeInRange('--max-steps', text, 1, Number.MAX_SAFE_INTEGER);
}
