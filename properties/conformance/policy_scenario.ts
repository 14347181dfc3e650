import { Buzzer } from '../../src/buzzer.js';
import { Bytes, BytesMut } from '../../src/bytes.js';
import { MergeQueue } from '../../src/merge_queue.js';
import { MemorySpill } from '../../src/backends/memory_spill.js';
import type { SpillPolicy } from '../../src/spill_policy.js';
import { describeThrown, describeValue, type PolicyFactory } from './backend_module.js';
import { ClauseBroken } from './clause.js';
import { concatBytes, makeRng } from './sample_chunks.js';

const EXTENDS_PER_RUN = 240;
const SLAB_BYTES = 4096;
const PIECE_BYTES_MAX = 300;
const DRAIN_ONE_IN = 32;
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
}

/**
 * One seeded run: a writer extends pieces of a few slabs (neighbours merge), the reader
 * drains now and then, then the writer drops and the reader drains to the end. The writer's
 * policy spills through an in-memory `MemorySpill`.
 */
export function runPolicyScenario(factory: PolicyFactory, seed: number): PolicyRun {
  const strategy = new MemorySpill();
  const [writerPolicy, readerPolicy] = policyPair(factory, strategy);
  const [writer, reader] = MergeQueue.newPair(new Buzzer(), writerPolicy, readerPolicy);
  const next = makeRng(seed);
  const written: Uint8Array[] = [];
  const out: Bytes[] = [];
  let slab = BytesMut.alloc(SLAB_BYTES);
  let mergeTargetProblem: string | undefined;
  for (let step = 0; step < EXTENDS_PER_RUN; step += 1) {
    const pieceBytes = 1 + (next() % PIECE_BYTES_MAX);
    if (slab.length < pieceBytes || next() % 8 === 0) slab = BytesMut.alloc(SLAB_BYTES);
    for (let i = 0; i < pieceBytes; i += 1) slab.data[i] = next() & 0xff;
    const piece = slab.extractTo(pieceBytes);
    written.push(piece.data.slice());
    guarded('the writer policy', () => writer.extend([piece]));
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
    ...(mergeTargetProblem === undefined ? {} : { mergeTargetProblem }),
    ...(stall === undefined ? {} : { stall }),
  };
}

function policyPair(factory: PolicyFactory, strategy: MemorySpill): [SpillPolicy, SpillPolicy] {
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
    const result = entry.handle.fetch();
    if (result.ok) rescued.push(...result.chunks.map((c) => c.data));
  }
  return rescued;
}
