import { writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { describeFsError } from '../../properties/json_file.js';
import { makeDirs } from '../../properties/output_path.js';
import type { SimRunResult } from '../../sim/trace.js';
import { UsageError } from '../usage_error.js';
import { classifyReportSource, loadReportSource, type FixtureInput, type ReportSource } from './report_input.js';
import { buildReportModel } from './report_model.js';
import { renderReportHtml } from './report_html.js';

export { buildReportModel, type ReportModel } from './report_model.js';
export { renderReportHtml } from './report_html.js';
export { renderPlotSvg } from './plot_svg.js';
export { classifyReportSource, loadReportSource, type FixtureInput, type ReportSource } from './report_input.js';

/** What a report can be drawn from: a run or fixture in memory, or the path of its JSON file. */
export type ReportInput = SimRunResult | FixtureInput | ReportSource | string;

/** The report page for `input`, as a string (pure apart from reading `input` when it is a path). */
export function renderReport(input: ReportInput): string {
  return renderReportHtml(buildReportModel(toSource(input)));
}

/**
 * Write the self-contained HTML report of a run or fixture to `outPath` (missing directories
 * are created, one level at a time) and return its absolute path. `spillsim sim --report` and `spillsim check --report`
 * call this with the failing run or fixture they hold; bad input throws a `UsageError`.
 */
export function writeReport(input: ReportInput, outPath: string): string {
  const html = renderReport(input);
  const target = resolve(outPath);
  try {
    makeDirs(dirname(target));
    writeFileSync(target, html);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`cannot write the report to ${outPath}: ${describeFsError(error)}`);
  }
  return target;
}

function toSource(input: ReportInput): ReportSource {
  if (typeof input === 'string') return loadReportSource(input);
  if ('kind' in input && (input.kind === 'run' || input.kind === 'fixture') && 'name' in input) return input as ReportSource;
  const name = 'seed' in input && typeof input.seed === 'number' ? `seed ${input.seed}` : 'input';
  return classifyReportSource(input, name);
}
