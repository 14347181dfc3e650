import fc from 'fast-check';
import type { Bytes } from '../../src/bytes.js';
import type { BytesFetch } from '../../src/spill.js';
import { type BackendLab, checkDrainedPrefix, checkOneHandlePerChunk } from './backend_lab.js';
import { describeThrown } from './backend_module.js';
import { ClauseBroken, ClauseBrokenWithExample, ClauseNotApplicable, type ClauseSpec } from './clause.js';
import { RESOURCE_CLAUSES } from './resource_clauses.js';
import { concatBytes, makeRng, sampleChunks } from './sample_chunks.js';

export type BackendClause = ClauseSpec<BackendLab>;

/** Spill calls the drain-order clause makes before it stops looking (each drains at least one chunk). */
const DRAIN_CALLS_MAX = 16;
const HUGE_LIST_CHUNKS = 2000;
/** Handles of the huge list fetched and checked: both ends and a seeded sample (a slow backend answers each in turn). */
const HUGE_LIST_CHECKED = 200;
const LARGE_CHUNK_BYTES = 1024 * 1024;
const ANY_ORDER_RUNS = 30;

const drainsFront: BackendClause = {
  id: 'spill.drains-front',
  level: 'required',
  title: 'spill drains chunks from the front of the list, leaving the undrained tail in place and in order',
  async check(lab, { seed }) {
    const instance = await lab.open();
    const chunks = sampleChunks(seed, [5, 9, 3, 17, 1, 8, 12, 6]).chunks;
    // Only the drain order is judged here; handle counts have their own clause.
    for (let calls = 0; chunks.length > 0 && calls < DRAIN_CALLS_MAX; calls += 1) {
      const call = lab.spillRaw(instance, chunks);
      checkDrainedPrefix(call);
      if (call.offered.length === call.remaining.length) return;
    }
  },
};

const makesProgress: BackendClause = {
  id: 'spill.makes-progress',
  level: 'required',
  title: 'a fresh, empty backend drains a small chunk (stopping is for full storage, not the normal case)',
  async check(lab, { seed }) {
    const instance = await lab.open();
    const chunks = sampleChunks(seed, [16]).chunks;
    for (let calls = 0; calls < 3; calls += 1) {
      if (lab.spillOnce(instance, chunks).drained > 0) return;
    }
    throw new ClauseBroken('a fresh backend drained nothing of one 16-byte chunk in 3 spill calls; the queue would keep everything resident');
  },
};

const oneHandlePerChunk: BackendClause = {
  id: 'spill.one-handle-per-chunk',
  level: 'required',
  title: 'spill pushes exactly one handle per drained chunk, in the order the chunks were drained',
  async check(lab, { seed }) {
    const instance = await lab.open();
    const sample = sampleChunks(seed, [1, 2, 3, 4, 5]);
    const chunks = sample.chunks.slice();
    const call = lab.spillRaw(instance, chunks);
    const handles = checkOneHandlePerChunk(call);
    // Pair handles with the chunks actually drained, so a wrong drain order is not blamed here.
    const drainedIndices = call.offered.map((c, k) => (call.remaining.includes(c) ? -1 : k)).filter((k) => k >= 0);
    handles.forEach((handle, k) => {
      const index = drainedIndices[k]!;
      lab.expectChunk(lab.fetchBytes(handle, `handle ${k}`), index, sample.expected, `handle ${k} (for chunk ${index})`);
    });
  },
};

const partialConsistent: BackendClause = {
  id: 'spill.partial-consistent',
  level: 'optional',
  requires: 'partialSpill',
  title: 'a spill that stops partway (a write failed) leaves both lists consistent, and the rest spills on a later call',
  async check(lab, { seed }) {
    const instance = await lab.open();
    const sample = sampleChunks(seed, [11, 12, 13, 14]);
    const chunks = sample.chunks.slice();
    instance.faults.failNthWrite(3);
    let first;
    try {
      first = lab.spillOnce(instance, chunks);
    } catch (error) {
      throw new ClauseBroken(`with the 3rd write failing: ${(error as Error).message}`);
    }
    const rest = lab.spillAll(instance, { chunks, expected: sample.expected.slice(first.drained) });
    [...first.handles, ...rest].forEach((handle, k) => lab.expectChunk(lab.fetchBytes(handle, `handle ${k}`), k, sample.expected));
  },
};

const exactBytes: BackendClause = {
  id: 'fetch.exact-bytes',
  level: 'required',
  title: 'each handle returns exactly the bytes it was given, content and length',
  async check(lab, { seed }) {
    const instance = await lab.open();
    lab.roundTrip(instance, sampleChunks(seed, [3, 7, 7, 12, 1, 300]));
  },
};

const afterBufferReuse: BackendClause = {
  id: 'fetch.after-buffer-reuse',
  level: 'required',
  title: 'bytes a fetch returned stay intact after other handles are fetched and more chunks are spilled (no reused buffer)',
  async check(lab, { seed }) {
    const instance = await lab.open();
    const sample = sampleChunks(seed, [64, 65, 66]);
    const later = sampleChunks(seed + 1, [67, 68, 69]);
    // Keep the returned views themselves, not copies: a reused buffer shows through them.
    const views = lab.spillAll(instance, sample).map((handle, k) => fetchViews(lab, handle, k));
    const laterViews = lab.spillAll(instance, later).map((handle, k) => fetchViews(lab, handle, k + 3));
    views.forEach((chunks, k) => {
      lab.expectChunk(concatBytes(chunks.map((c) => c.data)), k, sample.expected, `handle ${k}, re-read after fetching the other handles and spilling and fetching 3 more chunks`);
    });
    laterViews.forEach((chunks, k) => lab.expectChunk(concatBytes(chunks.map((c) => c.data)), k, later.expected, `handle ${k + 3}`));
  },
};

function fetchViews(lab: BackendLab, handle: BytesFetch, k: number): Bytes[] {
  const result = lab.fetchOnce(handle, `handle ${k}`);
  if (!result.ok) throw new ClauseBroken(`fetch of handle ${k} failed with no fault armed`);
  return result.chunks;
}

const retryAfterFailure: BackendClause = {
  id: 'fetch.retry-after-failure',
  level: 'optional',
  requires: 'failingFetch',
  title: 'a failed fetch returns a handle that can be retried and then delivers the bytes',
  async check(lab, { seed }) {
    const instance = await lab.open();
    const sample = sampleChunks(seed, [10, 20]);
    const handles = lab.spillAll(instance, sample);
    instance.faults.failNextReads(1);
    const failed = lab.fetchOnce(handles[0]!, 'handle 0 (read set to fail)');
    if (failed.ok) throw new ClauseBroken('fetch of handle 0 succeeded although its read was set to fail');
    let retry: BytesFetch = failed.handle;
    try {
      lab.expectChunk(lab.fetchBytes(retry, 'the handle returned by the failed fetch'), 0, sample.expected, 'the retried handle 0');
    } catch (error) {
      throw new ClauseBroken(`after a failed fetch of handle 0: ${(error as Error).message}`);
    }
    retry = handles[1]!;
    lab.expectChunk(lab.fetchBytes(retry, 'handle 1'), 1, sample.expected);
  },
};

const consumedOnce: BackendClause = {
  id: 'fetch.consumed-once',
  level: 'required',
  title: 'a fetched handle is consumed: fetching it again never delivers its bytes a second time, nor disturbs other handles',
  async check(lab, { seed }) {
    const instance = await lab.open();
    const sample = sampleChunks(seed, [8, 9]);
    const handles = lab.spillAll(instance, sample);
    lab.expectChunk(lab.fetchBytes(handles[0]!, 'handle 0'), 0, sample.expected);
    let again;
    try {
      again = handles[0]!.fetch() as unknown;
    } catch {
      again = undefined; // Refusing loudly is the right answer; the panic clause judges how.
    }
    const r = again as { ok?: unknown; chunks?: unknown } | undefined;
    if (r !== null && typeof r === 'object' && r.ok === true) {
      throw new ClauseBroken('the second fetch of handle 0 succeeded again; a queue that fetched twice would deliver the chunk twice');
    }
    lab.expectChunk(lab.fetchBytes(handles[1]!, 'handle 1'), 1, sample.expected, 'handle 1, fetched after handle 0 was fetched twice');
  },
};

const emptyList: BackendClause = {
  id: 'spill.empty-list',
  level: 'required',
  title: 'spill of an empty chunk list returns at once, pushes no handle, and leaves the backend usable',
  async check(lab, { seed }) {
    const instance = await lab.open();
    const answer = lab.spillOnce(instance, []);
    if (answer.handles.length !== 0) throw new ClauseBroken(`spill of an empty list pushed ${answer.handles.length} handles`);
    const sample = sampleChunks(seed, [5]);
    const handles = lab.spillAll(instance, sample);
    lab.expectChunk(lab.fetchBytes(handles[0]!, 'handle 0'), 0, sample.expected, 'handle 0, spilled after an empty spill');
  },
};

const zeroLengthChunks: BackendClause = {
  id: 'spill.zero-length-chunks',
  level: 'required',
  title: 'zero-length chunks get a handle each and come back as zero-length chunks',
  async check(lab, { seed }) {
    const instance = await lab.open();
    lab.roundTrip(instance, sampleChunks(seed, [0, 0, 6, 0]));
  },
};

const hugeList: BackendClause = {
  id: 'spill.huge-list',
  level: 'required',
  title: `a list of ${HUGE_LIST_CHUNKS} small chunks spills, and its handles return the right bytes (both ends and a seeded sample of ${HUGE_LIST_CHECKED} checked)`,
  async check(lab, { seed }) {
    const instance = await lab.open();
    const next = makeRng(seed);
    const lengths = Array.from({ length: HUGE_LIST_CHUNKS }, () => 1 + (next() % 32));
    const sample = sampleChunks(seed, lengths);
    const handles = lab.spillAll(instance, sample);
    const picked = new Set<number>([0, 1, HUGE_LIST_CHUNKS - 2, HUGE_LIST_CHUNKS - 1]);
    while (picked.size < HUGE_LIST_CHECKED) picked.add(next() % HUGE_LIST_CHUNKS);
    for (const k of [...picked].sort((a, b) => a - b)) lab.expectChunk(lab.fetchBytes(handles[k]!, `handle ${k}`), k, sample.expected);
  },
};

const largeChunk: BackendClause = {
  id: 'spill.large-chunk',
  level: 'required',
  title: `a chunk of ${LARGE_CHUNK_BYTES / (1024 * 1024)} MiB spills and comes back whole`,
  async check(lab, { seed }) {
    const instance = await lab.open();
    lab.roundTrip(instance, sampleChunks(seed, [LARGE_CHUNK_BYTES, 17]));
  },
};

const panicIsReported: BackendClause = {
  id: 'panic.is-reported',
  level: 'required',
  title: 'when the backend panics (here: a consumed handle fetched again) it throws an Error, not a bare value',
  async check(lab, { seed }) {
    const instance = await lab.open();
    const sample = sampleChunks(seed, [4]);
    const handles = lab.spillAll(instance, sample);
    lab.fetchBytes(handles[0]!, 'handle 0');
    try {
      handles[0]!.fetch();
    } catch (thrown) {
      if (thrown instanceof Error) return;
      throw new ClauseBroken(`fetching a consumed handle threw ${describeThrown(thrown)}; a panic must be an Error so the queue can poison and report it`);
    }
    throw new ClauseNotApplicable('fetching a consumed handle did not panic, so there was no panic to judge');
  },
};

const storageReleased: BackendClause = {
  id: 'storage.released',
  level: 'optional',
  requires: 'stats',
  title: 'storage is released once every handle has been fetched (stats() back to where it started)',
  async check(lab, { seed }) {
    const instance = await lab.open();
    const before = lab.stats(instance);
    const sample = sampleChunks(seed, [100, 200, 300]);
    const handles = lab.spillAll(instance, sample);
    handles.forEach((handle, k) => lab.fetchBytes(handle, `handle ${k}`));
    const after = lab.stats(instance);
    if (after.storedBytes !== before.storedBytes || after.storedChunks !== before.storedChunks) {
      throw new ClauseBroken(
        `after spilling 3 chunks (600 bytes) and fetching all of them, stats() reports ${after.storedBytes} bytes in ${after.storedChunks} chunks (it started at ${before.storedBytes} bytes in ${before.storedChunks} chunks)`,
      );
    }
  },
};

const supportsHonest: BackendClause = {
  id: 'supports.honest',
  level: 'required',
  title: 'every capability the supports manifest declares is really there',
  notApplicable: (supports) => (Object.values(supports).some((on) => on) ? undefined : 'the module declares no optional capability'),
  async check(lab, { seed }) {
    if (lab.supports.stats) {
      const instance = await lab.open();
      const before = lab.stats(instance);
      lab.spillAll(instance, sampleChunks(seed, [40, 50, 60]));
      const after = lab.stats(instance);
      if (after.storedChunks - before.storedChunks !== 3 || after.storedBytes <= before.storedBytes) {
        throw new ClauseBroken(
          `supports.stats: after spilling 3 chunks (150 bytes) stats() went from ${before.storedBytes} bytes in ${before.storedChunks} chunks to ${after.storedBytes} bytes in ${after.storedChunks} chunks`,
        );
      }
    }
    if (lab.supports.partialSpill) {
      // Every write fails, however the backend groups them (one per chunk, or one writev per
      // batch): it must ask, and must not drain chunks it could not write.
      const instance = await lab.open();
      instance.faults.failAllWrites();
      const chunks = sampleChunks(seed, [7, 8, 9]).chunks;
      try {
        lab.spillRaw(instance, chunks);
      } catch {
        // How it fails (a panic instead of a partial spill) is spill.partial-consistent's to judge.
      }
      if (instance.faults.writeAsks === 0) throw new ClauseBroken('supports.partialSpill: spill never asked ctx.faults.failWrite()');
      if (chunks.length === 0) throw new ClauseBroken('supports.partialSpill: spill drained all 3 chunks although every write was set to fail');
    }
    if (lab.supports.failingFetch) {
      const instance = await lab.open();
      const handles = lab.spillAll(instance, sampleChunks(seed, [7]));
      instance.faults.failNextReads(1);
      const result = lab.fetchOnce(handles[0]!, 'handle 0 (read set to fail)');
      if (instance.faults.readAsks === 0) throw new ClauseBroken('supports.failingFetch: fetch never asked ctx.faults.failRead()');
      if (result.ok) throw new ClauseBroken('supports.failingFetch: fetch succeeded although its read was set to fail');
    }
  },
};

const noHiddenState: BackendClause = {
  id: 'determinism.no-hidden-state',
  level: 'required',
  title: 'two instances used in turn keep their data apart (no global state, no clock-based names)',
  async check(lab, { seed }) {
    const a = await lab.open();
    const b = await lab.open();
    const sampleA = sampleChunks(seed, [21, 22, 23]);
    const sampleB = sampleChunks(seed + 1, [21, 22, 23]);
    const handlesA = lab.spillAll(a, sampleA);
    const handlesB = lab.spillAll(b, sampleB);
    for (let k = 0; k < 3; k += 1) {
      lab.expectChunk(lab.fetchBytes(handlesB[k]!, `instance B handle ${k}`), k, sampleB.expected, `instance B handle ${k}`);
      lab.expectChunk(lab.fetchBytes(handlesA[k]!, `instance A handle ${k}`), k, sampleA.expected, `instance A handle ${k} (A spilled first, B second)`);
    }
  },
};

/** The case a stochastic run draws: chunk lengths, and the order in which the handles are fetched. */
export interface AnyOrderExample {
  lengthsBytes: number[];
  fetchOrder: number[];
}

const anyOrder: BackendClause = {
  id: 'fetch.any-order',
  level: 'stochastic',
  title: `handles can be fetched in any order (${ANY_ORDER_RUNS} random cases from the seed, shrunk on failure)`,
  async check(lab, { seed, example }) {
    const trial = async (c: AnyOrderExample): Promise<string | undefined> => {
      const instance = await lab.open();
      try {
        const sample = sampleChunks(seed, c.lengthsBytes);
        const handles = lab.spillAll(instance, sample);
        for (const k of c.fetchOrder) lab.expectChunk(lab.fetchBytes(handles[k]!, `handle ${k}`), k, sample.expected);
        return undefined;
      } catch (error) {
        if (error instanceof ClauseBroken) return error.message;
        throw error;
      } finally {
        await lab.closeInstance(instance);
      }
    };
    if (example !== undefined) {
      const message = await trial(example as AnyOrderExample);
      if (message !== undefined) throw new ClauseBrokenWithExample(`${describeExample(example as AnyOrderExample)}: ${message}`, example);
      return;
    }
    const arbitrary = fc
      .array(fc.tuple(fc.integer({ min: 0, max: 40 }), fc.nat()), { minLength: 1, maxLength: 12 })
      .map((pairs): AnyOrderExample => ({
        lengthsBytes: pairs.map(([n]) => n),
        fetchOrder: pairs.map(([, key], k) => [key, k] as const).sort((x, y) => x[0] - y[0] || x[1] - y[1]).map(([, k]) => k),
      }));
    const details = await fc.check(
      fc.asyncProperty(arbitrary, async (c) => (await trial(c)) === undefined),
      { seed, numRuns: ANY_ORDER_RUNS },
    );
    if (details.failed && details.counterexample !== null) {
      const shrunk = details.counterexample[0];
      const message = (await trial(shrunk)) ?? 'failed only inside the search';
      throw new ClauseBrokenWithExample(`${describeExample(shrunk)}: ${message}`, shrunk);
    }
    if (details.failed) throw new ClauseBroken(`the search itself failed: ${String(details.errorInstance)}`);
  },
};

/** Chunks a recorded any-order case may have, and bytes each: more is no case this clause draws. */
const EXAMPLE_CHUNKS_MAX = 1000;
const EXAMPLE_CHUNK_BYTES_MAX = 16 * 1024 * 1024;

/**
 * Why `example` cannot be a recorded case of clause `clauseId` (wrong types, impossible sizes,
 * a fetch order that is not a permutation), or `undefined` when it can. Checked before any
 * backend runs: a bad `--example` is bad input, not a verdict on the backend.
 */
export function exampleProblem(clauseId: string, example: unknown): string | undefined {
  if (clauseId !== anyOrder.id) return `${clauseId} draws no random cases, so it takes no --example (only ${anyOrder.id} does)`;
  const e = example as Partial<AnyOrderExample> | null;
  if (e === null || typeof e !== 'object' || Array.isArray(e)) return 'it must be an object { "lengthsBytes": [...], "fetchOrder": [...] }';
  const { lengthsBytes, fetchOrder } = e;
  if (!Array.isArray(lengthsBytes) || lengthsBytes.length === 0) return 'lengthsBytes must be a non-empty array of chunk lengths';
  if (lengthsBytes.length > EXAMPLE_CHUNKS_MAX) return `lengthsBytes has ${lengthsBytes.length} chunks; a case has at most ${EXAMPLE_CHUNKS_MAX}`;
  const bad = lengthsBytes.findIndex((n) => !(typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 && n <= EXAMPLE_CHUNK_BYTES_MAX));
  if (bad >= 0) return `lengthsBytes[${bad}] is ${JSON.stringify(lengthsBytes[bad])}; each length is a whole number of bytes from 0 to ${EXAMPLE_CHUNK_BYTES_MAX}`;
  if (!Array.isArray(fetchOrder) || fetchOrder.length !== lengthsBytes.length) return `fetchOrder must list each of the ${lengthsBytes.length} handles once`;
  const seen = new Set<number>();
  for (const k of fetchOrder) {
    if (!(typeof k === 'number' && Number.isSafeInteger(k) && k >= 0 && k < lengthsBytes.length)) return `fetchOrder has ${JSON.stringify(k)}; handles are numbered 0 to ${lengthsBytes.length - 1}`;
    if (seen.has(k)) return `fetchOrder names handle ${k} twice; each handle is fetched once`;
    seen.add(k);
  }
  return undefined;
}

function describeExample(c: AnyOrderExample): string {
  return `chunks of [${c.lengthsBytes.join(', ')}] bytes fetched in order [${c.fetchOrder.join(', ')}]`;
}

/** Every backend clause, in the order they run and are reported. */
export const BACKEND_CLAUSES: readonly BackendClause[] = [
  makesProgress,
  drainsFront,
  oneHandlePerChunk,
  partialConsistent,
  exactBytes,
  afterBufferReuse,
  retryAfterFailure,
  consumedOnce,
  emptyList,
  zeroLengthChunks,
  hugeList,
  largeChunk,
  panicIsReported,
  storageReleased,
  supportsHonest,
  ...RESOURCE_CLAUSES,
  noHiddenState,
  anyOrder,
];

export const BACKEND_CLAUSE_IDS: readonly string[] = BACKEND_CLAUSES.map((c) => c.id);
