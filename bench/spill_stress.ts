import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { BenchOptions, BenchResult, Figure } from './report.js';
import type { StressCase, StressOutcome, StressPattern } from './spill_stress_case.js';

/**
 * Benchmark 4, the change's own: push 512 MB in 256 KiB chunks through the file backend with
 * threshold 32 MB and reserve 16 MB, push-all-then-drain and interleaved, and the same without
 * spilling. Each case runs in a fresh child process so its RSS baseline is its own.
 */

const MiB = 1024 * 1024;
/** Allowance for the runtime, GC lag and read buffers on top of threshold + reserve (the target). */
const RSS_SLACK_BYTES = 64 * MiB;
/** A case that takes longer than this is stuck; say so rather than hang the benchmark run. */
const CASE_TIMEOUT_MS = 10 * 60 * 1000;

function stressCase(quick: boolean, spill: boolean, pattern: StressPattern): StressCase {
  const chunkBytes = 256 * 1024;
  const thresholdBytes = quick ? 8 * MiB : 32 * MiB;
  const headReserveBytes = quick ? 4 * MiB : 16 * MiB;
  return {
    spill,
    pattern,
    totalBytes: quick ? 64 * MiB : 512 * MiB,
    chunkBytes,
    thresholdBytes,
    headReserveBytes,
    prefetchBudgetBytes: 4 * chunkBytes,
    // A drain takes every resident chunk at the head, so a reader that drained after every few
    // chunks would keep the queue empty; draining once per twice (threshold + reserve) makes it spill.
    chunksPerRound: (2 * (thresholdBytes + headReserveBytes)) / chunkBytes,
  };
}

/** Run one case in `node --expose-gc` of its own; the child prints its outcome as one JSON line. */
export function runCaseInChild(c: StressCase, childFile = fileURLToPath(new URL('./spill_stress_case.js', import.meta.url))): StressOutcome {
  const child = spawnSync(process.execPath, ['--expose-gc', childFile, JSON.stringify(c)], { encoding: 'utf8', timeout: CASE_TIMEOUT_MS, maxBuffer: 1024 * 1024 });
  if (child.status !== 0) {
    const stderrLines = child.stderr.split('\n').filter((line) => line.trim() !== '');
    const why = child.error?.message ?? (stderrLines.find((line) => /Error/.test(line)) ?? stderrLines[0] ?? `signal ${child.signal}`);
    throw new Error(`spill stress case (${c.spill ? 'spill' : 'no spill'}, ${c.pattern}) failed with status ${child.status}: ${why}`);
  }
  const lines = child.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as StressOutcome;
}

export async function runSpillStress(options: BenchOptions, runCase: (c: StressCase) => StressOutcome = runCaseInChild): Promise<BenchResult> {
  const cases: Array<[label: string, c: StressCase]> = [
    ['file spill, push all then drain', stressCase(options.quick, true, 'push-all-then-drain')],
    ['file spill, interleaved', stressCase(options.quick, true, 'interleaved')],
    ['no spill, push all then drain', stressCase(options.quick, false, 'push-all-then-drain')],
  ];
  const outcomes: Array<[string, StressOutcome]> = [];
  for (const [label, c] of cases) {
    options.log(`spill-stress: ${label}, ${c.totalBytes / MiB} MiB in ${c.chunkBytes / 1024} KiB chunks (child process)`);
    outcomes.push([label, runCase(c)]);
  }
  const rows = outcomes.map(([label, o]) => ({
    case: label,
    'peak RSS over baseline': o.peakRssAboveBaselineBytes / MiB,
    'peak queue resident': o.peakQueueResidentBytes / MiB,
    'peak ArrayBuffers': o.peakArrayBuffersBytes / MiB,
    'peak heap used': o.peakHeapUsedBytes / MiB,
    'ArrayBuffers after drain+gc': o.afterDrainArrayBuffersBytes / MiB,
    'spilled': o.spilledBytes / MiB,
    'bytes back': o.checksumMatches ? 'all (crc32 ok)' : `MISMATCH ${o.deliveredBytes}/${o.pushedBytes}`,
  }));
  const figures: Figure[] = [];
  for (const [label, o] of outcomes) {
    if (!o.checksumMatches) throw new Error(`spill stress (${label}): delivered bytes differ from pushed bytes (${o.deliveredBytes} of ${o.pushedBytes}); every byte must come back`);
    if (o.storedBytesAfter !== 0) throw new Error(`spill stress (${label}): ${o.storedBytesAfter} bytes still in storage after the drain`);
    if (!o.case.spill) continue;
    const boundBytes = o.case.thresholdBytes + o.case.headReserveBytes + RSS_SLACK_BYTES;
    figures.push({
      name: `rss-${o.case.pattern}`,
      description: `peak RSS over baseline (${label}), target below threshold + reserve + 64 MiB = ${boundBytes / MiB} MiB`,
      value: o.peakRssAboveBaselineBytes,
      unit: 'bytes',
      target: { op: '<=', value: boundBytes },
    });
    const residentBoundBytes = o.case.thresholdBytes + o.case.headReserveBytes + o.case.prefetchBudgetBytes + o.case.chunkBytes;
    figures.push({
      name: `queue-resident-${o.case.pattern}`,
      description: `peak resident bytes in the queue (${label}), bound threshold + reserve + prefetch budget + one chunk`,
      value: o.peakQueueResidentBytes,
      unit: 'bytes',
      target: { op: '<=', value: residentBoundBytes },
    });
  }
  const noSpill = outcomes[2]![1];
  const pushAll = outcomes[0]![1];
  figures.push(
    { name: 'rss-no-spill', description: 'peak RSS over baseline without spilling (the same push-all-then-drain)', value: noSpill.peakRssAboveBaselineBytes, unit: 'bytes' },
    { name: 'rss-spill-vs-no-spill', description: 'peak RSS over baseline, file spill / no spill (push all then drain)', value: pushAll.peakRssAboveBaselineBytes / noSpill.peakRssAboveBaselineBytes, unit: 'ratio' },
    { name: 'array-buffers-after-drain', description: 'ArrayBuffer bytes still allocated after the spilling drain and a full GC (spilled bytes released)', value: pushAll.afterDrainArrayBuffersBytes, unit: 'bytes', target: { op: '<=', value: 4 * MiB } },
  );
  const c0 = cases[0]![1];
  return {
    name: 'spill-stress',
    title: `4. spill stress: ${c0.totalBytes / MiB} MiB in ${c0.chunkBytes / 1024} KiB chunks, threshold ${c0.thresholdBytes / MiB} MiB, reserve ${c0.headReserveBytes / MiB} MiB (MiB)`,
    columns: ['case', 'peak RSS over baseline', 'peak queue resident', 'peak ArrayBuffers', 'peak heap used', 'ArrayBuffers after drain+gc', 'spilled', 'bytes back'],
    rows,
    figures,
    notes: [
      'each case runs in its own `node --expose-gc` child; RSS baseline is taken after a full GC before the first push; RSS is sampled after every extend and drain (heap and ArrayBuffers every 8 steps); no GC is forced while pushing.',
      `interleaved: one drain call per ${c0.chunksPerRound} chunks pushed (twice threshold + reserve), prefetch budget ${c0.prefetchBudgetBytes / 1024} KiB, so the queue spills and grows while the reader works; the rest is drained at the end.`,
      'every byte is checked: a crc32 over the pushed stream must equal the one over the delivered stream, and storage must be empty afterwards.',
    ],
  };
}
