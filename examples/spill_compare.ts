// spill_compare: each worker sends N messages of M bytes to the next worker, under
// ProcessBinary and under Cluster, with and without spilling; every byte is checked on arrival.
//
//   npx tsc -p tsconfig.build.json && node dist/examples/spill_compare.js [--workers N] [--messages N] [--bytes N]
import { parseArgs } from 'node:util';
import {
  type Bytes,
  type BytesFetch,
  type BytesSpill,
  type Communication,
  Config,
  Hooks,
  MemorySpill,
  PrefetchPolicy,
  type SpillPolicyFn,
  SpillsimError,
  Threshold,
  runUntilQuiet,
} from '../src/index.js';
import { formatBytes } from '../src/format_bytes.js';

/** Spilling knobs, small enough that a few MiB of traffic spills: reserve 64 KiB, threshold 256 KiB. */
const HEAD_RESERVE_BYTES = 64 * 1024;
const THRESHOLD_BYTES = 256 * 1024;
const PREFETCH_BUDGET_BYTES = 128 * 1024;
/** Sends between flushes: consecutive flushes share a slab, so the queue coalesces them. */
const SENDS_PER_FLUSH = 16;

interface Args {
  workers: number;
  messages: number;
  payloadBytes: number;
}

interface Outcome {
  mode: string;
  deliveredMessages: number;
  deliveredBytes: number;
  spilledChunks: number;
  spilledBytes: number;
  residentBytesPeak: number;
}

/** Counts what goes to storage; MemorySpill holds it. */
class CountingSpill implements BytesSpill {
  readonly #memory = new MemorySpill();
  spilledChunks = 0;
  spilledBytes = 0;

  spill(chunks: Bytes[], handles: BytesFetch[]): void {
    const offered = chunks.slice();
    this.#memory.spill(chunks, handles);
    const drained = offered.length - chunks.length;
    this.spilledChunks += drained;
    for (let k = 0; k < drained; k += 1) this.spilledBytes += offered[k]!.length;
  }
}

/**
 * Message `sequence` from `source`: a window of a 0, 1, …, 255, 0, 1, … ramp that starts at a
 * byte picked by both, so a mix-up, a shift or a lost byte shows. Windows are views (no copy).
 */
function payloadOf(ramp: Uint8Array, source: number, sequence: number, payloadBytes: number): Uint8Array {
  const start = (source * 131 + sequence * 7) & 0xff;
  return ramp.subarray(start, start + payloadBytes);
}

function rampOf(payloadBytes: number): Uint8Array {
  return Uint8Array.from({ length: payloadBytes + 256 }, (_, k) => k & 0xff);
}

function run(mode: string, config: Config, storage: CountingSpill | undefined, args: Args): Outcome {
  const spill: SpillPolicyFn | undefined =
    storage === undefined
      ? undefined
      : () => [new Threshold(storage, { thresholdBytes: THRESHOLD_BYTES, headReserveBytes: HEAD_RESERVE_BYTES }), new PrefetchPolicy(PREFETCH_BUDGET_BYTES)];
  const communication = config.tryBuildWith(new Hooks({ spill }));
  const peers = communication.allocators.length;
  const nextSequence = new Array<number>(peers).fill(0);
  const ramp = rampOf(args.payloadBytes);
  let deliveredMessages = 0;
  let deliveredBytes = 0;
  const onReceive = (_: unknown, messages: { source: number; sequence: number; payload: Uint8Array }[]): void => {
    for (const message of messages) {
      const expected = payloadOf(ramp, message.source, nextSequence[message.source]!, args.payloadBytes);
      if (message.sequence !== nextSequence[message.source] || !sameBytes(message.payload, expected)) {
        throw new SpillsimError('E_BACKEND_CONTRACT', `${mode}: message ${message.sequence} from worker ${message.source} arrived wrong`);
      }
      nextSequence[message.source]! += 1;
      deliveredMessages += 1;
      deliveredBytes += message.payload.byteLength;
    }
  };
  // Everyone sends everything first, so queues grow and the writer policy has something to spill.
  for (let sequence = 0; sequence < args.messages; sequence += 1) {
    for (const worker of communication.allocators) {
      worker.send((worker.index + 1) % peers, payloadOf(ramp, worker.index, sequence, args.payloadBytes));
      if (sequence % SENDS_PER_FLUSH === SENDS_PER_FLUSH - 1) worker.flush();
    }
    // The network moves bytes along as they come, as its threads would.
    if (communication.network !== undefined && sequence % SENDS_PER_FLUSH === SENDS_PER_FLUSH - 1) stepNetwork(communication);
  }
  for (const worker of communication.allocators) worker.flush();
  if (communication.network !== undefined) stepNetwork(communication);
  const residentBytesPeak = communication.queues.reduce((sum, site) => sum + site.reader.deque.residentBytes, 0);
  for (const worker of communication.allocators) worker.finish();
  runUntilQuiet(communication, { onReceive });
  const complete = communication.allocators.every((worker) => worker.isComplete());
  if (!complete || deliveredMessages !== peers * args.messages) {
    throw new SpillsimError('E_BACKEND_CONTRACT', `${mode}: ${deliveredMessages} of ${peers * args.messages} messages arrived`);
  }
  for (const worker of communication.allocators) worker.drop();
  return {
    mode,
    deliveredMessages,
    deliveredBytes,
    spilledChunks: storage?.spilledChunks ?? 0,
    spilledBytes: storage?.spilledBytes ?? 0,
    residentBytesPeak,
  };
}

/** Bound on the steps one loop takes in a row; every step moves bytes, so a loop parks long before. */
const LOOP_STEPS_MAX = 1_000_000;

/** Let every send loop, then every receive loop, run until it stops making progress. */
function stepNetwork(communication: Communication): void {
  const network = communication.network!;
  for (let p = 0; p < network.processes; p += 1) {
    for (const step of [() => network.sendStep(p), () => network.recvStep(p)]) {
      let steps = 0;
      while (step().status === 'progress') {
        steps += 1;
        if (steps === LOOP_STEPS_MAX) throw new SpillsimError('E_BAD_ARGUMENT', `a network loop of process ${p} was still moving after ${LOOP_STEPS_MAX} steps`);
      }
    }
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

/** Cluster shape for `workers`: two processes when it divides evenly, else one worker per process. */
function clusterOf(workers: number): Config {
  const processes = workers % 2 === 0 && workers > 2 ? 2 : workers;
  const threads = workers / processes;
  const addresses = Array.from({ length: processes }, (_, p) => `localhost:${2101 + p}`);
  return Config.cluster({ threads, process: 0, addresses, zerocopy: true });
}

function parse(argv: string[]): Args {
  const { values } = parseArgs({
    args: argv,
    options: { workers: { type: 'string' }, messages: { type: 'string' }, bytes: { type: 'string' } },
    strict: true,
  });
  return {
    workers: wholeNumber('--workers', values.workers ?? '4', 1, 64),
    messages: wholeNumber('--messages', values.messages ?? '1000', 1, 1_000_000),
    payloadBytes: wholeNumber('--bytes', values.bytes ?? '1024', 0, 16 * 1024 * 1024),
  };
}

function wholeNumber(flag: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) throw new UsageError(`${flag} must be a whole number in ${min}..${max}, got '${text}'`);
  return value;
}

class UsageError extends Error {}

function main(): number {
  let args: Args;
  try {
    args = parse(process.argv.slice(2));
  } catch (error) {
    console.error(`spill_compare: ${(error as Error).message.split('\n')[0]}`);
    console.error('usage: node dist/examples/spill_compare.js [--workers N] [--messages N] [--bytes N]');
    return 2;
  }
  const totalBytes = args.workers * args.messages * args.payloadBytes;
  console.log(`spill_compare: ${args.workers} workers, each sends ${args.messages} messages of ${formatBytes(args.payloadBytes)} to the next (${formatBytes(totalBytes)} in all)`);
  console.log(`spilling: Threshold(MemorySpill, threshold ${formatBytes(THRESHOLD_BYTES)}, reserve ${formatBytes(HEAD_RESERVE_BYTES)}) + PrefetchPolicy(${formatBytes(PREFETCH_BUDGET_BYTES)})`);
  const modes: [string, () => Config, boolean][] = [
    [`ProcessBinary(${args.workers})`, () => Config.processBinary(args.workers), false],
    [`ProcessBinary(${args.workers}) + spill`, () => Config.processBinary(args.workers), true],
    ['Cluster', () => clusterOf(args.workers), false],
    ['Cluster + spill', () => clusterOf(args.workers), true],
  ];
  const rows: string[][] = [['mode', 'delivered', 'bytes delivered', 'spilled chunks', 'spilled bytes', 'resident before drain']];
  try {
    for (const [mode, config, spilling] of modes) {
      const outcome = run(mode, config(), spilling ? new CountingSpill() : undefined, args);
      rows.push([
        outcome.mode,
        `${outcome.deliveredMessages} msgs`,
        formatBytes(outcome.deliveredBytes),
        String(outcome.spilledChunks),
        formatBytes(outcome.spilledBytes),
        formatBytes(outcome.residentBytesPeak),
      ]);
    }
  } catch (error) {
    console.error(`spill_compare: FAILED: ${(error as Error).message}`);
    return 1;
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  for (const row of rows) console.log(row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  '));
  console.log('every message arrived, byte-exact and in order per sender');
  return 0;
}

process.exitCode = main();
