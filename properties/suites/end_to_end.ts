import fc from 'fast-check';
import type { Allocator } from '../../src/allocator/allocator.js';
import type { NetworkStepResult } from '../../src/allocator/network_step.js';
import { Config, type Communication } from '../../src/config.js';
import { PrefetchPolicy } from '../../src/prefetch_policy.js';
import type { SpillPolicy } from '../../src/spill_policy.js';
import { Threshold } from '../../src/threshold.js';
import { BrokenPrefetch } from '../broken/broken_prefetch.js';
import type { RunOutcome, TraceEntry } from '../run_outcome.js';
import { patternByte } from '../pattern.js';
import { ScriptedSpill } from '../scripted_spill.js';
import type { BuildContext, SampledSuite } from '../suite.js';

interface Send {
  source: number;
  target: number;
  channel: number;
  payloadBytes: number;
}

/** One mesh or cluster and the messages its workers send: plain JSON, stored as is in fixtures. */
interface EndToEndInput {
  kind: 'process-binary' | 'cluster';
  /** Mesh: workers; cluster: workers per process (two processes). */
  workers: number;
  zerocopy: boolean;
  /** Sender slab size: small slabs end coalescing, so queues hold many entries and spill. */
  slabBytes: number;
  thresholdBytes: number;
  headReserveBytes: number;
  budgetBytes: number;
  /** Step the system after every this many sends. */
  stepEverySends: number;
  /** Workers receive only every this many rounds, so queues grow and spill. */
  receiveEveryRounds: number;
  /** Every this many rounds, each queue's next fetch fails once (0: never). */
  fetchFailEveryRounds: number;
  sends: Send[];
}

const SENDS_MAX = 24;
const ROUNDS_MAX = 20_000;

const inputArb: fc.Arbitrary<unknown> = fc
  .record({
    kind: fc.constantFrom<EndToEndInput['kind']>('process-binary', 'cluster'),
    workers: fc.integer({ min: 2, max: 3 }),
    zerocopy: fc.boolean(),
    slabBytes: fc.integer({ min: 1, max: 256 }),
    thresholdBytes: fc.integer({ min: 0, max: 128 }),
    headReserveBytes: fc.integer({ min: 0, max: 64 }),
    budgetBytes: fc.integer({ min: 1, max: 256 }),
    stepEverySends: fc.integer({ min: 1, max: 6 }),
    receiveEveryRounds: fc.integer({ min: 1, max: 4 }),
    fetchFailEveryRounds: fc.constantFrom(0, 2, 3),
    sends: fc.array(
      fc.record({ source: fc.nat({ max: 5 }), target: fc.nat({ max: 5 }), channel: fc.nat({ max: 1 }), payloadBytes: fc.integer({ min: 1, max: 160 }) }),
      { minLength: 1, maxLength: SENDS_MAX },
    ),
  })
  .map((input) => {
    // Fold worker numbers into the build's size, so shrinking the size keeps sends valid.
    const total = input.kind === 'cluster' ? input.workers * 2 : input.workers;
    return { ...input, sends: input.sends.map((s) => ({ ...s, source: s.source % total, target: s.target % total })) };
  });

function parseInput(value: unknown): { ok: true; input: unknown } | { ok: false; reason: string } {
  const v = value as Partial<EndToEndInput> | null;
  if (v === null || typeof v !== 'object') return { ok: false, reason: 'input is not an object' };
  if (v.kind !== 'process-binary' && v.kind !== 'cluster') return { ok: false, reason: `input.kind ${JSON.stringify(v.kind)} is not process-binary or cluster` };
  const counts = ['workers', 'slabBytes', 'thresholdBytes', 'headReserveBytes', 'budgetBytes', 'stepEverySends', 'receiveEveryRounds', 'fetchFailEveryRounds'] as const;
  for (const key of counts) if (!Number.isSafeInteger(v[key]) || (v[key] as number) < 0) return { ok: false, reason: `input.${key} must be a whole number` };
  if (!Array.isArray(v.sends)) return { ok: false, reason: 'input.sends is not a list' };
  const total = v.kind === 'cluster' ? (v.workers as number) * 2 : (v.workers as number);
  const bad = v.sends.findIndex((s: Partial<Send>) => !(Number.isSafeInteger(s.source) && Number.isSafeInteger(s.target) && (s.source as number) < total && (s.target as number) < total && Number.isSafeInteger(s.payloadBytes) && Number.isSafeInteger(s.channel)));
  if (bad >= 0) return { ok: false, reason: `send ${bad + 1} names a worker outside 0..${total - 1} or lacks a field` };
  return { ok: true, input: v };
}

/** The payload of the `sequence`-th message on (source, target, channel): known, so receipt can check it. */
function payloadOf(send: Send, sequence: number): Uint8Array {
  const stream = send.source * 31 + send.target * 7 + send.channel;
  const payload = new Uint8Array(send.payloadBytes);
  for (let i = 0; i < payload.length; i += 1) payload[i] = patternByte(stream, sequence * 4099 + i);
  return payload;
}

const key = (s: { source: number; target: number; channel: number }): string => `${s.source}->${s.target} ch${s.channel}`;

/** Build, send in batches with steps between, finish, run to completion, and check every channel. */
async function run(value: unknown, variant: string, _context: BuildContext): Promise<RunOutcome> {
  const input = value as EndToEndInput;
  const strategies: ScriptedSpill[] = [];
  const spill = (): [SpillPolicy, SpillPolicy] => {
    const strategy = new ScriptedSpill();
    strategies.push(strategy);
    const reader = variant === 'broken-prefetch-out-of-order' ? new BrokenPrefetch(input.budgetBytes, 'out-of-order') : new PrefetchPolicy(input.budgetBytes);
    return [new Threshold(strategy, { thresholdBytes: input.thresholdBytes, headReserveBytes: input.headReserveBytes }), reader];
  };
  const config =
    input.kind === 'cluster'
      ? Config.cluster({ threads: input.workers, process: 0, addresses: ['p0', 'p1'], zerocopy: input.zerocopy }, { slabBytes: Math.max(1, input.slabBytes) })
      : Config.processBinary(input.workers, { slabBytes: Math.max(1, input.slabBytes) });
  const trace: TraceEntry[] = [];
  const label = input.kind === 'cluster' ? `cluster of 2 processes x ${input.workers} workers${input.zerocopy ? ' (zerocopy)' : ''}` : `process-binary mesh of ${input.workers} workers`;
  let communication: Communication;
  try {
    communication = config.tryBuildWith({ spill });
  } catch (error) {
    return { trace, violation: { rule: 'end-to-end', step: 1, message: `building the ${label} threw: ${(error as Error).message}` } };
  }
  trace.push({ step: 1, command: `Build ${label}, threshold ${input.thresholdBytes} B, reserve ${input.headReserveBytes} B, budget ${input.budgetBytes} B`, events: [], state: `${strategies.length} spilling queues` });
  const sentSequence = new Map<string, number>();
  const received = new Map<string, number>();
  let receivedCount = 0;
  let round = 0;
  const check = (allocator: Allocator, messages: { source: number; target: number; channel: number; sequence: number; payload: Uint8Array }[]): string | undefined => {
    for (const message of messages) {
      const k = key(message);
      const expected = received.get(k) ?? 0;
      if (message.target !== allocator.index) return `worker ${allocator.index} received a message meant for worker ${message.target} (${k})`;
      if (message.sequence !== expected) return `${k}: message ${message.sequence} arrived where ${expected} was due (out of order, lost or duplicated)`;
      const want = payloadOf({ ...message, payloadBytes: message.payload.length }, expected);
      if (!message.payload.every((b, i) => b === want[i])) return `${k}: message ${expected} arrived with the wrong bytes`;
      received.set(k, expected + 1);
      receivedCount += 1;
    }
    return undefined;
  };
  const step = (finishing = false): string | undefined => {
    round += 1;
    if (input.fetchFailEveryRounds > 0 && round % input.fetchFailEveryRounds === 0) for (const s of strategies) s.failNextFetches(1);
    return oneRound(communication, check, finishing || round % Math.max(1, input.receiveEveryRounds) === 0);
  };
  const storageEvents = (): string[] => summarize(strategies.flatMap((s) => s.takeEvents()));
  // What the step under way is, so a throw is reported against it.
  let doing = 'Finish every worker; run rounds until complete';
  try {
    for (let i = 0; i < input.sends.length; i += input.stepEverySends) {
      const batch = input.sends.slice(i, i + input.stepEverySends);
      doing = `Send ${batch.map((s) => `${key(s)} ${s.payloadBytes} B`).join(', ')}; one round`;
      for (const send of batch) {
        const k = key(send);
        const sequence = sentSequence.get(k) ?? 0;
        sentSequence.set(k, sequence + 1);
        const sender = communication.allocators[send.source]!;
        sender.send(send.target, payloadOf(send, sequence), { channel: send.channel });
        // Flushing each send makes one queue entry per message, so a lagging receiver's queue spills.
        sender.flush();
      }
      const broke = step();
      trace.push({ step: trace.length + 1, command: doing, events: storageEvents(), state: `received ${receivedCount} of ${sentTotal(sentSequence)} messages` });
      if (broke !== undefined) return { trace, violation: { rule: 'end-to-end', step: trace.length, message: broke } };
    }
    doing = 'Finish every worker; run rounds until complete';
    for (const allocator of communication.allocators) allocator.finish();
    let broke: string | undefined;
    // Transient fetch failures keep coming while rounds run; they stop once everything has arrived.
    while (broke === undefined && round < ROUNDS_MAX && !allComplete(communication)) broke = step(true);
    trace.push({ step: trace.length + 1, command: 'Finish every worker; run rounds until complete', events: storageEvents(), state: `received ${receivedCount} of ${sentTotal(sentSequence)} messages after ${round} rounds` });
    if (broke !== undefined) return { trace, violation: { rule: 'end-to-end', step: trace.length, message: broke } };
    if (!allComplete(communication)) {
      return { trace, violation: { rule: 'end-to-end', step: trace.length, message: `not complete after ${ROUNDS_MAX} rounds: ${receivedCount} of ${sentTotal(sentSequence)} messages arrived` } };
    }
    for (const [k, count] of sentSequence) {
      if ((received.get(k) ?? 0) !== count) return { trace, violation: { rule: 'end-to-end', step: trace.length, message: `${k}: ${received.get(k) ?? 0} of ${count} messages arrived` } };
    }
  } catch (error) {
    trace.push({ step: trace.length + 1, command: doing, events: storageEvents(), state: `received ${receivedCount} of ${sentTotal(sentSequence)} messages` });
    return { trace, violation: { rule: 'end-to-end', step: trace.length, message: `the system threw: ${(error as Error).message}` } };
  }
  return { trace };
}

/** Each worker flushes and receives, then each process's network loops step once (like `runUntilQuiet`'s round). */
function oneRound(
  communication: Communication,
  check: (allocator: Allocator, messages: ReturnType<Allocator['receive']>) => string | undefined,
  receiving: boolean,
): string | undefined {
  for (const allocator of communication.allocators) {
    if (allocator.isDropped) continue;
    allocator.flush();
    if (!receiving) continue;
    const broke = check(allocator, allocator.receive());
    if (broke !== undefined) return broke;
  }
  const network = communication.network;
  for (let p = 0; network !== undefined && p < network.processes; p += 1) {
    stepLoop(network.sendLoop(p));
    stepLoop(network.recvLoop(p));
  }
  return undefined;
}

function stepLoop(loop: { step(): NetworkStepResult }): void {
  loop.step();
}

function allComplete(communication: Communication): boolean {
  return communication.allocators.every((a) => a.isComplete()) && (communication.network === undefined || communication.network.isDone);
}

function sentTotal(sent: Map<string, number>): number {
  let total = 0;
  for (const count of sent.values()) total += count;
  return total;
}

/** Storage events of a round, counted: `spilled 3 chunks in 2 calls, 1 fetch failed, 4 fetched`. */
function summarize(events: string[]): string[] {
  const spills = events.filter((e) => e.startsWith('spilled'));
  const failed = events.filter((e) => e.startsWith('fetch failed')).length;
  const fetched = events.filter((e) => e.startsWith('fetched')).length;
  const parts: string[] = [];
  if (spills.length > 0) parts.push(`${spills.length} spill call(s)`);
  if (fetched > 0) parts.push(`${fetched} fetch(es)`);
  if (failed > 0) parts.push(`${failed} failed fetch(es)`);
  return parts.length === 0 ? [] : [parts.join(', ')];
}

/** The process-binary mesh and the cluster deliver every message, in order per channel, with spilling on. */
export const END_TO_END: SampledSuite = {
  kind: 'sampled',
  name: 'end-to-end',
  description: 'the process-binary mesh and the cluster deliver every message in order per channel, with spilling and failing fetches',
  rules: ['end-to-end'],
  inputArb,
  runsDefault: 5000,
  run,
  parseInput,
  // Its storage is the simulator's (determinism) or a scripted store per queue (end-to-end).
  usesBackend: false,
  variants: {
    default: { description: 'Threshold + PrefetchPolicy on every queue' },
    'broken-prefetch-out-of-order': { description: 'a reader policy that puts fetched chunks back one entry too late' },
  },
};
