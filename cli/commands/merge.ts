import type { Command } from 'commander';
import type { SimRunResult } from '../../sim/trace.js';
import { colors } from '../format.js';
import { parseJsonText, readTextFile } from '../../properties/json_file.js';
import { checkRun } from '../run_file.js';
import { checkNotAnInput, checkOutputFile, writeOutputFile } from '../../properties/output_path.js';
import type { CommandResult } from '../command_result.js';
import { EXIT_BROKEN, EXIT_OK, UsageError } from '../usage_error.js';

/** Failures listed one by one on the terminal; the JSON summary always holds all of them. */
const FAILURES_SHOWN_MAX = 20;
/** Missing seeds listed as ranges; past this many ranges the summary says how many more. */
const MISSING_RANGES_MAX = 50;

/** What `spillsim merge` reports about a set of shard results. */
export interface CampaignSummary {
  files: string[];
  /** Distinct seeds with a result. */
  seedsRun: number;
  passed: number;
  failed: number;
  failures: Array<{ seed: number; invariant?: string; message?: string; step?: number; replay?: string; file: string }>;
  /** Seeds that appear more than once; `conflicting` when their results disagree. */
  duplicates: Array<{ seed: number; count: number; files: string[]; conflicting: boolean }>;
  /** Seeds expected (from `--expect`, else the gaps between the lowest and highest seed) but absent. */
  missing: Array<[first: number, last: number]>;
  missingCount: number;
  expected: { first: number; last: number; source: 'flag' | 'gaps' } | undefined;
  ok: boolean;
}

interface MergeFlags {
  output?: string;
  expect?: string;
  json?: boolean;
}

export function registerMerge(program: Command, result: CommandResult): void {
  program
    .command('merge')
    .description(
      'Combine the JSON-lines results of campaign shards (spillsim sim --json) into one report; exits 1 when a run failed, a seed is missing or two shards disagree about a seed.',
    )
    .argument('<files...>', 'result files: one JSON run per line, as `spillsim sim --json` prints them')
    .option('-o, --output <file>', 'write the merged summary as JSON to this file')
    .option('--expect <A..B>', 'the seed range the campaign covered, to report seeds no shard ran')
    .option('--json', 'print the merged summary as JSON instead of text')
    .action((files: string[], flags: MergeFlags) => {
      // Every input is checked before anything is read, and the output location before anything is written.
      const expected = flags.expect === undefined ? undefined : parseSeedRange(flags.expect);
      if (flags.output !== undefined) checkOutputFile('-o', flags.output);
      if (flags.output !== undefined) checkNotAnInput('-o', flags.output, files);
      const shards = files.map((file) => ({ file, runs: readRuns(file) }));
      // One shard may hold no seeds (more shards than seeds), but a merge with no run at all is
      // a wrong file or a campaign that never ran, not a campaign that passed.
      if (shards.every((s) => s.runs.length === 0)) {
        throw new UsageError(`no runs in ${files.length === 1 ? files[0] : `any of the ${files.length} files`}: nothing to merge; expected the output of spillsim sim --json`);
      }
      const summary = mergeRuns(shards, expected);
      // The summary is printed before it is written, so a failed write never hides a failed campaign.
      process.stdout.write(flags.json ? `${JSON.stringify(summary)}\n` : formatSummary(summary));
      result.exitCode = summary.ok ? EXIT_OK : EXIT_BROKEN;
      if (flags.output !== undefined) writeOutputFile('-o', flags.output, `${JSON.stringify(summary, null, 2)}\n`);
    });
}

/**
 * Read one shard's results: JSON lines (or one JSON array) of runs as `spillsim sim --json`
 * prints them, each checked as data. An empty file is a shard that ran no seeds (a campaign
 * split into more shards than seeds), not an error; `--expect` still finds seeds no shard ran.
 */
export function readRuns(file: string): SimRunResult[] {
  const text = readTextFile(file);
  const run = (value: unknown, where: string): SimRunResult => {
    const checked = checkRun(value, where);
    if (!checked.ok) throw new UsageError(`${checked.reason}; expected the output of spillsim sim --json`);
    return checked.run;
  };
  if (text.trimStart().startsWith('[')) {
    const parsed = parseJsonText(text, file);
    if (!Array.isArray(parsed)) throw new UsageError(`${file} is not a JSON array of runs`);
    return parsed.map((value, k) => run(value, `${file} item ${k + 1}`));
  }
  const runs: SimRunResult[] = [];
  const lines = text.split('\n');
  for (let k = 0; k < lines.length; k += 1) {
    const line = lines[k]!.trim();
    if (line === '') continue;
    runs.push(run(parseJsonText(line, `${file} line ${k + 1}`), `${file} line ${k + 1}`));
  }
  return runs;
}

/** Parse `A..B` (inclusive, A ≤ B). */
export function parseSeedRange(text: string): { first: number; last: number } {
  // A minus sign is read only to say the range: a negative seed is out of it, not malformed.
  const match = /^\s*(-?\d+)\s*\.\.\s*(-?\d+)\s*$/.exec(text);
  const first = Number(match?.[1]);
  const last = Number(match?.[2]);
  if (match !== null && (`${match[1]}${match[2]}`.includes('-') || !Number.isSafeInteger(first) || !Number.isSafeInteger(last))) {
    throw new UsageError(`--expect must be a seed range A..B of whole numbers from 0 to ${Number.MAX_SAFE_INTEGER}, got '${text}'`);
  }
  if (match === null) throw new UsageError(`--expect must be a seed range A..B of whole numbers such as 1..1000, got '${text}'`);
  if (first > last) throw new UsageError(`--expect must be a seed range A..B with A ≤ B, got '${text}'`);
  return { first, last };
}

/**
 * Combine shard results. A seed run twice with the same outcome and trace hash is a harmless
 * overlap (reported); with different outcomes it is a conflict (fails the merge), because a
 * deterministic simulator must give one answer per seed.
 */
export function mergeRuns(
  shards: ReadonlyArray<{ file: string; runs: readonly SimRunResult[] }>,
  expectedRange?: { first: number; last: number },
): CampaignSummary {
  const bySeed = new Map<number, Array<{ run: SimRunResult; file: string }>>();
  for (const { file, runs } of shards) {
    for (const run of runs) {
      const seen = bySeed.get(run.seed);
      if (seen === undefined) bySeed.set(run.seed, [{ run, file }]);
      else seen.push({ run, file });
    }
  }
  const seeds = [...bySeed.keys()].sort((a, b) => a - b);
  const summary: CampaignSummary = {
    files: shards.map((s) => s.file),
    seedsRun: seeds.length,
    passed: 0,
    failed: 0,
    failures: [],
    duplicates: [],
    missing: [],
    missingCount: 0,
    expected: undefined,
    ok: true,
  };
  for (const seed of seeds) {
    const entries = bySeed.get(seed)!;
    // A seed counts as failed if any of its runs failed, so an overlap cannot hide a failure.
    const { run, file } = entries.find((e) => !e.run.ok) ?? entries[0]!;
    if (entries.length > 1) {
      const conflicting = entries.some((e) => e.run.ok !== run.ok || e.run.traceHash !== run.traceHash);
      summary.duplicates.push({ seed, count: entries.length, files: entries.map((e) => e.file), conflicting });
    }
    if (run.ok) {
      summary.passed += 1;
    } else {
      summary.failed += 1;
      summary.failures.push({
        seed,
        invariant: run.violation?.invariant,
        message: run.violation?.message,
        step: run.violation?.step,
        replay: run.replay ?? `spillsim sim --seed ${seed}`,
        file,
      });
    }
  }
  if (expectedRange !== undefined) summary.expected = { ...expectedRange, source: 'flag' };
  else if (seeds.length > 0) summary.expected = { first: seeds[0]!, last: seeds[seeds.length - 1]!, source: 'gaps' };
  if (summary.expected !== undefined) {
    const { first, last } = summary.expected;
    const inRange = seeds.filter((s) => s >= first && s <= last);
    summary.missing = missingRanges(inRange, first, last);
    summary.missingCount = summary.missing.reduce((n, [a, b]) => n + b - a + 1, 0);
  }
  summary.ok = summary.failed === 0 && summary.missingCount === 0 && summary.duplicates.every((d) => !d.conflicting);
  return summary;
}

/** Gaps of sorted distinct `seeds` within `[first, last]`, as inclusive ranges. */
function missingRanges(seeds: readonly number[], first: number, last: number): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  let next = first;
  for (const seed of seeds) {
    if (seed > next) ranges.push([next, seed - 1]);
    next = seed + 1;
  }
  if (next <= last) ranges.push([next, last]);
  return ranges;
}

export function formatSummary(summary: CampaignSummary, stream: NodeJS.WriteStream = process.stdout): string {
  const c = colors(stream);
  const lines: string[] = [];
  lines.push(`merged ${summary.files.length} file(s): ${summary.seedsRun} seeds run, ${summary.passed} passed, ${summary.failed} failed`);
  if (summary.expected !== undefined) {
    const how = summary.expected.source === 'flag' ? 'expected' : 'between lowest and highest seed';
    lines.push(`seed range ${summary.expected.first}..${summary.expected.last} (${how}): ${summary.missingCount} missing`);
  }
  for (const f of summary.failures.slice(0, FAILURES_SHOWN_MAX)) {
    const what = f.invariant === undefined ? 'failed' : `${f.invariant} at step ${f.step}: ${f.message ?? ''}`;
    lines.push(`${c.red('FAIL')} seed ${f.seed} (${f.file}) ${what}`);
    lines.push(`     replay: ${f.replay}`);
  }
  if (summary.failures.length > FAILURES_SHOWN_MAX) {
    lines.push(`     … and ${summary.failures.length - FAILURES_SHOWN_MAX} more failures (all of them are in the JSON summary)`);
  }
  if (summary.missing.length > 0) {
    const shown = summary.missing.slice(0, MISSING_RANGES_MAX).map(([a, b]) => (a === b ? `${a}` : `${a}..${b}`));
    const more = summary.missing.length > MISSING_RANGES_MAX ? ` and ${summary.missing.length - MISSING_RANGES_MAX} more ranges` : '';
    lines.push(`${c.red('MISSING')} seeds ${shown.join(', ')}${more}: was a shard lost or cut short?`);
  }
  for (const d of summary.duplicates.slice(0, FAILURES_SHOWN_MAX)) {
    const label = d.conflicting ? c.red('CONFLICT') : c.yellow('DUPLICATE');
    const why = d.conflicting ? 'results differ: the run is not deterministic or the shards ran different code' : 'same result';
    lines.push(`${label} seed ${d.seed} ran ${d.count} times (${[...new Set(d.files)].join(', ')}): ${why}`);
  }
  if (summary.duplicates.length > FAILURES_SHOWN_MAX) lines.push(`… and ${summary.duplicates.length - FAILURES_SHOWN_MAX} more duplicate seeds`);
  lines.push(summary.ok ? c.green('campaign passed') : c.red('campaign FAILED'));
  return `${lines.join('\n')}\n`;
}
