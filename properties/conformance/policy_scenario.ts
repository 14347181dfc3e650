import { Buzzer } from '../../src/buzzer.js';
import { Bytes, BytesMut } from '../../src/bytes.js';
import { MergeQueue } from '../../src/merge_queue.js';
import { MemorySpill } from '../../src/backends/memory_spill.js';
import type { SpillPolicy } from '../../src/spill_policy.js';
import type { BytesFetch, BytesSpill, FetchResult } from '../../src/spill.js';
import { PrefetchPolicy } from '../../src/prefetch_policy.js';
import { Threshold } from '../../src/threshold.js';
import { describeThrown, describeValue, type PolicyFactory } from './backend_module.js';
import { ClauseBroken } from './clause.js';
import { concatBytes, makeRng } from './sample_chunks.js';

const EXTENDS_PER_RUN = 240;
const SLAB_BYTES = 4096;
const PIECE_BYTES_MAX = 300;
const DRAIN_ONE_IN = 32;
/** Every this-many-th fetch through the scenario's storage fails (a real disk or store does, now and then). */
export const FETCH_FAILS_EVERY = 5;
/** Fetches of one paged entry the harness tries when it pulls a stalled reader's leftovers out itself. */
const RESCUE_ATTEMPTS_MAX = 8;

/** Drains in a row that deliver nothing, with entries left, before the reader counts as stalled. */
const IDLE_DRAINS_MAX = 3;
/** Drains after the writer is done before the run gives up on the reader. */
const FINAL_DRAINS_MAX = 10_000;

/** What one run of the queue under a policy pair showed. */
export interface PolicyRun {
  /** Every byte the writer extended, in order. */
  writtenBytes: Uint8Array;
  /** What the reader drained, then (if it stalled) what the harness pulled out of the queue itself. */
  deliveredBytes: Uint8Array;
  /** How many bytes the harness had to pull out because the reader stalled. */
  rescuedBytes: number;
  /** The first extend after which the last entry was paged: the merge target was gone. */
  mergeTargetProblem?: string;
  /** Set when the reader stopped making progress. */
  stall?: string;
  /** Fetches that failed (and handed their handle back) during the run. */
  fetchFailures: number;
  /** The most bytes resident after any writer step while the reader was idle. */
  residentMaxBytes: number;
}

/**
 * `MemorySpill` whose every `FETCH_FAILS_EVERY`-th fetch fails and hands its handle back, as
 * the contract allows: a reader policy must put that handle back, not drop the entry.
 */
class FlakyFetchSpill implements BytesSpill {
  readonly #inner = new MemorySpill();
  fetches = 0;
  failures = 0;

  spill(chunks: Bytes[], handles: BytesFetch[]): void {
    const inner: BytesFetch[] = [];
    this.#inner.spill(chunks, inner);
    handles.push(...inner.map((h) => this.#flaky(h)));
  }

  #flaky(handle: BytesFetch): BytesFetch {
    return {
      fetch: (): FetchResult => {
        this.fetches += 1;
        if (this.fetches % FETCH_FAILS_EVERY === 0) {
          this.failures += 1;
          return { ok: false, handle: this.#flaky(handle) };
        }
        return handle.fetch();
      },
    };
  }
}

/**
 * One seeded run: a writer extends pieces of a few slabs (neighbours merge), the reader
 * drains now and then, then the writer drops and the reader drains to the end. The writer's
 * policy spills through an in-memory `MemorySpill`.
 */
export function runPolicyScenario(factory: PolicyFactory, seed: number): PolicyRun {
  const strategy = new FlakyFetchSpill();
  const [writerPolicy, readerPolicy] = policyPair(factory, strategy);
  const [writer, reader] = MergeQueue.newPair(new Buzzer(), writerPolicy, readerPolicy);
  const next = makeRng(seed);
  const written: Uint8Array[] = [];
  const out: Bytes[] = [];
  let slab = BytesMut.alloc(SLAB_BYTES);
  let mergeTargetProblem: string | undefined;
  let residentMaxBytes = 0;
  for (let step = 0; step < EXTENDS_PER_RUN; step += 1) {
    const pieceBytes = 1 + (next() % PIECE_BYTES_MAX);
    if (slab.length < pieceBytes || next() % 8 === 0) slab = BytesMut.alloc(SLAB_BYTES);
    for (let i = 0; i < pieceBytes; i += 1) slab.data[i] = next() & 0xff;
    const piece = slab.extractTo(pieceBytes);
    written.push(piece.data.slice());
    guarded('the writer policy', () => writer.extend([piece]));
    residentMaxBytes = Math.max(residentMaxBytes, writer.deque.residentBytes);
    const last = writer.deque.length > 0 ? writer.deque.get(writer.deque.length - 1) : undefined;
    if (mergeTargetProblem === undefined && last?.kind === 'paged') {
      mergeTargetProblem = `after extend #${step + 1} the last entry of ${writer.deque.length} is paged, so the next extend cannot merge into it`;
    }
    // The reader drains in rare bursts, so the queue grows past a policy's threshold between them.
    if (next() % DRAIN_ONE_IN === 0) guarded('the reader policy', () => reader.drainInto(out));
  }
  writer.drop();
  let stall: string | undefined;
  let idle = 0;
  for (let round = 0; round < FINAL_DRAINS_MAX && reader.deque.length > 0; round += 1) {
    const before = out.length;
    guarded('the reader policy', () => reader.drainInto(out));
    idle = out.length === before ? idle + 1 : 0;
    if (idle >= IDLE_DRAINS_MAX) {
      const paged = [...reader.deque].filter((e) => e.kind === 'paged').length;
      stall = `after the writer finished, ${IDLE_DRAINS_MAX} drains in a row delivered nothing with ${reader.deque.length} entries left (${paged} paged)`;
      break;
    }
  }
  const rescued = rescueLeftovers(reader);
  return {
    writtenBytes: concatBytes(written),
    deliveredBytes: concatBytes([...out.map((b) => b.data), ...rescued]),
    rescuedBytes: rescued.reduce((n, r) => n + r.length, 0),
    fetchFailures: strategy.failures,
    residentMaxBytes,
    ...(mergeTargetProblem === undefined ? {} : { mergeTargetProblem }),
    ...(stall === undefined ? {} : { stall }),
  };
}

function policyPair(factory: PolicyFactory, strategy: BytesSpill): [SpillPolicy, SpillPolicy] {
  let pair: unknown;
  try {
    pair = factory({ strategy });
  } catch (thrown) {
    throw new ClauseBroken(`the policy factory threw ${describeThrown(thrown)}`);
  }
  const isPolicy = (p: unknown): boolean => p !== null && typeof p === 'object' && typeof (p as SpillPolicy).apply === 'function';
  if (!Array.isArray(pair) || pair.length !== 2 || !isPolicy(pair[0]) || !isPolicy(pair[1])) {
    throw new ClauseBroken(`the policy factory returned ${describeValue(pair)}, not [writerPolicy, readerPolicy] (two objects with apply(deque))`);
  }
  return pair as [SpillPolicy, SpillPolicy];
}

function guarded(who: string, body: () => void): void {
  try {
    body();
  } catch (thrown) {
    throw new ClauseBroken(`${who} panicked: threw ${describeThrown(thrown)}`);
  }
}

/** Pull what a stalled reader left, in queue order, fetching paged entries directly. */
function rescueLeftovers(reader: MergeQueue): Uint8Array[] {
  const rescued: Uint8Array[] = [];
  for (const entry of reader.deque) {
    if (entry.kind === 'bytes') {
      rescued.push(entry.bytes.data);
      continue;
    }
    let handle = entry.handle;
    for (let attempt = 0; attempt < RESCUE_ATTEMPTS_MAX; attempt += 1) {
      const result = handle.fetch();
      if (result.ok) {
        rescued.push(...result.chunks.map((c) => c.data));
        break;
      }
      handle = result.handle;
    }
  }
  return rescued;
}

/** The knobs of a writer (and reader) policy, read off its public properties, when it has them. */
export interface PairKnobs {
  thresholdBytes: number;
  headReserveBytes: number;
  budgetBytes: number;
}

/** Threshold's and PrefetchPolicy's knobs as a policy pair exposes them, or `undefined` when its writer has none. */
export function knobsOf(factory: PolicyFactory): PairKnobs | undefined {
  let pair: unknown;
  try {
    pair = factory({ strategy: new MemorySpill() });
  } catch {
    return undefined;
  }
  if (!Array.isArray(pair)) return undefined;
  const [writer, reader] = pair as [Record<string, unknown> | undefined, Record<string, unknown> | undefined];
  const bytes = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
  if (!bytes(writer?.thresholdBytes) || !bytes(writer?.headReserveBytes)) return undefined;
  const budget = reader?.budget;
  return { thresholdBytes: writer.thresholdBytes, headReserveBytes: writer.headReserveBytes, budgetBytes: bytes(budget) ? budget : 0 };
}

/** The shipped pair (Threshold + PrefetchPolicy) with the given knobs, as a policy factory. */
export function shippedPair(knobs: PairKnobs): PolicyFactory {
  return ({ strategy }) => [
    new Threshold(strategy, { thresholdBytes: knobs.thresholdBytes, headReserveBytes: knobs.headReserveBytes }),
    new PrefetchPolicy(knobs.budgetBytes),
  ];
}

/** The largest piece the scenario extends: the slack a bound allows for the entry just written. */
export const SCENARIO_PIECE_BYTES_MAX = PIECE_BYTES_MAX;
