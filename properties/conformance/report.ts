import type { ClauseVerdict, VerdictStatus } from './clause.js';
import { replayCommand, unjudged } from './clause.js';
import { backendArgument } from '../process_backend/exec_specifier.js';
import type { DifferentialResult } from './differential.js';

/** One module's verdicts, as `--json` prints them. */
export interface ClauseReport {
  kind: 'backend' | 'policy';
  module: string;
  verdicts: (ClauseVerdict & { replay?: string })[];
  counts: Record<VerdictStatus, number>;
}

export interface DifferentialReport {
  kind: 'differential';
  module: string;
  result: DifferentialResult;
}

export type ValidateReport = ClauseReport | DifferentialReport;

/** The verdicts with counts, and a replay command on each one that did not hold. */
export function clauseReport(kind: 'backend' | 'policy', module: string, verdicts: readonly ClauseVerdict[], seed: number): ClauseReport {
  const counts: Record<VerdictStatus, number> = { held: 0, broken: 0, 'not-applicable': 0, timeout: 0 };
  for (const v of verdicts) counts[v.status] += 1;
  return {
    kind,
    module,
    counts,
    verdicts: verdicts.map((v) => (v.status === 'broken' || v.status === 'timeout' ? { ...v, replay: replayOf(kind, module, v, seed) } : { ...v })),
  };
}

function replayOf(kind: 'backend' | 'policy', module: string, verdict: ClauseVerdict, seed: number): string {
  if (verdict.replay !== undefined) return verdict.replay;
  if (kind === 'policy') return `spillsim validate --policy ${module} --seed ${seed}`;
  const base = replayCommand(module, verdict.id, seed);
  return verdict.example === undefined ? base : `${base} --example '${JSON.stringify(verdict.example)}'`;
}

const STATUS_LABEL: Record<VerdictStatus, string> = {
  held: 'held',
  broken: 'BROKEN',
  'not-applicable': 'not applicable',
  timeout: 'TIMEOUT',
};

export interface Paint {
  green(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

/** One line per clause; under each broken one its counterexample and replay command. */
export function formatClauseReport(report: ClauseReport, paint: Paint): string {
  const lines = [paint.bold(`${report.kind === 'policy' ? 'policy' : 'backend'} ${backendArgument(report.module)}`)];
  const idWidth = Math.max(...report.verdicts.map((v) => v.id.length));
  for (const v of report.verdicts) {
    const label = STATUS_LABEL[v.status].padEnd(14);
    const colored = v.status === 'held' ? paint.green(label) : v.status === 'not-applicable' ? paint.dim(label) : v.status === 'timeout' ? paint.yellow(label) : paint.red(label);
    // A held unit with a detail did less than all of its work (a suite cut short by its time share).
    const reason = (v.status === 'not-applicable' || v.status === 'held') && v.detail !== undefined ? paint.dim(`  (${v.detail})`) : '';
    lines.push(`  ${colored} ${v.id.padEnd(idWidth)}  ${paint.dim(reason === '' ? v.level : v.level.padEnd(10))}${reason}`);
    if (v.status === 'broken' || v.status === 'timeout') {
      lines.push(`      ${v.status === 'broken' ? 'counterexample' : 'why'}: ${v.detail ?? '(none)'}`);
      lines.push(`      replay: ${v.replay}`);
    }
  }
  const c = report.counts;
  lines.push(`  ${c.held} held, ${c.broken} broken, ${c['not-applicable']} not applicable, ${c.timeout} timeout`);
  const unrun = report.verdicts.filter(unjudged).length;
  if (unrun > 0) lines.push(paint.red(`  NOT VALIDATED: the time budget was spent before ${unrun} clause${unrun === 1 ? '' : 's'} of the contract (raise --budget-ms)`));
  return lines.join('\n');
}

/** The differential verdict for one backend: same bytes all the way, or the first differing step. */
export function formatDifferentialReport(report: DifferentialReport, paint: Paint): string {
  const { result } = report;
  if (result.status === 'same') return `  ${paint.green('same'.padEnd(8))} ${backendArgument(report.module)}  (${result.steps} steps, same bytes as MemorySpill)`;
  const label = result.status === 'timeout' ? paint.yellow('TIMEOUT ') : paint.red('DIFFERS ');
  const lines = [`  ${label} ${backendArgument(report.module)}`, `      ${result.detail ?? ''}`];
  const shown = result.trace.slice(-5);
  if (shown.length > 0) lines.push(`      last steps:`, ...shown.map((s) => `        ${s}`));
  return lines.join('\n');
}
