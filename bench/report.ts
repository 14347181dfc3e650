/** What one benchmark hands back: a table for people and figures (ratios, counts) for machines. */

export interface Target {
  /** The figure must be at least (`>=`) or at most (`<=`) `value`. */
  op: '>=' | '<=';
  value: number;
}

export interface Figure {
  /** Stable id, e.g. `fast-100k-vs-100`. */
  name: string;
  /** What it compares, in one phrase. */
  description: string;
  value: number;
  /** `ratio` (dimensionless, same run), `count`, or `bytes` (a measured amount). */
  unit: 'ratio' | 'count' | 'bytes';
  target?: Target;
}

export interface BenchResult {
  name: string;
  title: string;
  /** Column order for the table. */
  columns: string[];
  rows: Array<Record<string, string | number>>;
  figures: Figure[];
  /** Sentences on how it was measured (sizes, rounds), printed under the table. */
  notes: string[];
}

export interface BenchOptions {
  /** Small sizes and few rounds: a quick look, or the smoke test. */
  quick: boolean;
  /** Progress lines go here (never stdout, which carries the tables or the JSON). */
  log: (line: string) => void;
}

export function holds(figure: Figure): boolean | undefined {
  if (figure.target === undefined) return undefined;
  return figure.target.op === '>=' ? figure.value >= figure.target.value : figure.value <= figure.target.value;
}

/** By how much a figure misses its target, as a factor (1 when it holds). */
export function missFactor(figure: Figure): number {
  if (figure.target === undefined || holds(figure)) return 1;
  return figure.target.op === '>=' ? figure.target.value / figure.value : figure.value / figure.target.value;
}

export function formatFigureValue(figure: Figure): string {
  if (figure.unit === 'ratio') return `${figure.value.toFixed(2)}×`;
  if (figure.unit === 'bytes') return `${(figure.value / (1024 * 1024)).toFixed(1)} MiB`;
  return String(Math.round(figure.value));
}

/** A plain-text table: header, rule, rows; numbers right-aligned. */
export function formatTable(columns: readonly string[], rows: ReadonlyArray<Record<string, string | number>>): string {
  const cells = rows.map((row) => columns.map((c) => formatCell(row[c])));
  const widths = columns.map((c, k) => Math.max(c.length, ...cells.map((r) => r[k]!.length)));
  const line = (values: readonly string[], numeric: readonly boolean[]) =>
    values.map((v, k) => (numeric[k] ? v.padStart(widths[k]!) : v.padEnd(widths[k]!))).join('  ').trimEnd();
  const numericColumns = columns.map((c) => rows.length > 0 && rows.every((row) => typeof row[c] === 'number'));
  return [line(columns, numericColumns), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map((r) => line(r, numericColumns))].join('\n');
}

function formatCell(value: string | number | undefined): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value;
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  return Math.abs(value) >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(2);
}

export function formatResult(result: BenchResult): string {
  const lines = [`## ${result.title}`, '', formatTable(result.columns, result.rows), ''];
  for (const figure of result.figures) {
    const verdict = holds(figure);
    const target = figure.target === undefined ? '' : `  target ${figure.target.op} ${formatFigureValue({ ...figure, value: figure.target.value })}`;
    const mark = verdict === undefined ? '' : verdict ? '  HOLDS' : `  MISSED (by ${missFactor(figure).toFixed(2)}×)`;
    lines.push(`${figure.name}: ${formatFigureValue(figure)}  ${figure.description}${target}${mark}`);
  }
  for (const note of result.notes) lines.push(`note: ${note}`);
  return `${lines.join('\n')}\n`;
}
