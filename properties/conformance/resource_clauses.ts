import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Bytes } from '../../src/bytes.js';
import type { BytesFetch } from '../../src/spill.js';
import type { BackendLab, LabInstance } from './backend_lab.js';
import { ClauseBroken, ClauseNotApplicable, type ClauseSpec } from './clause.js';
import { describeFds, type FdSnapshot, fdSnapshot, fdsStillOpen, newFds } from './fd_probe.js';
import type { FsFaultPlan } from './fault_fs.js';
import { byteDiff, makeRng, sameBytes, sampleChunks } from './sample_chunks.js';

type BackendClause = ClauseSpec<BackendLab>;

/** Chunks in the run the resource clauses check after: small and varied, zero-length ones included. */
const RUN_LENGTHS_BYTES = [0, 40, 300, 7, 0, 1200, 64, 5, 900, 33, 0, 250, 18, 77, 410, 2, 96, 0, 640, 12, 3000, 1, 150, 0];
/** Chunks offered per spill call in that run. */
const RUN_CHUNKS_PER_CALL = 6;

/** Batches left outstanding (spilled, not fetched) while descriptors are counted. */
const OUTSTANDING_BATCHES = 1024;
/** Spill calls after which a backend that opened nothing and wrote no file is not applicable for the descriptor bound. */
const OUTSTANDING_PROBE_CALLS = 256;
/** The documented cap: descriptors a backend may hold open at once, however many batches are outstanding. */
export const OPEN_FDS_MAX = 256;

/** The volume call: this many chunks in one spill call (several MiB in all). */
const VOLUME_CHUNKS = 12_288;
const VOLUME_CHUNK_BYTES_MAX = 1024;
/** Handles of the volume call fetched and checked: both ends and a seeded sample (a slow backend answers each in turn). */
const VOLUME_HANDLES_CHECKED = 256;

/** Chunks the consumer holds while many MiB more pass through the backend. */
const HELD_CHUNK_BYTES = 256 * 1024;
const HELD_CHUNKS = 16;
/** Bytes spilled and fetched after the held chunks were fetched: more than any ring up to 64 MiB. */
const HELD_THEN_BYTES = 80 * 1024 * 1024;
const HELD_THEN_CHUNKS_PER_CALL = 8;

/** What a fetched chunk may keep alive: its buffer may be at most this many times its length… */
const PIN_FACTOR_MAX = 2;
/** …or its length plus this much (Node's pool hands out 8 KiB slabs for small buffers). */
const PIN_SLACK_BYTES = 8 * 1024;

/**
 * Run the part of a resource clause that only sets the scene: a breach found there (wrong bytes,
 * a panic) belongs to the clause about it, so here it makes this clause not applicable.
 */
function scene<T>(body: () => T): T {
  try {
    return body();
  } catch (error) {
    if (error instanceof ClauseBroken) throw new ClauseNotApplicable(`the run it checks after failed first (${error.message}); the clause about that reports it`);
    throw error;
  }
}

/** Run a small workload: spill in calls of a few chunks, fetch every handle; with declared capabilities, failed writes and reads along the way. */
function runWithFaults(lab: BackendLab, instance: LabInstance, seed: number): void {
  const sample = sampleChunks(seed, RUN_LENGTHS_BYTES);
  const handles = spillInCalls(lab, instance, sample.chunks.slice(), RUN_CHUNKS_PER_CALL, () => {
    if (lab.supports.partialSpill) instance.faults.failNthWrite(2);
  });
  handles.forEach((handle, k) => {
    if (lab.supports.failingFetch && k % 3 === 0) instance.faults.failNextReads(1);
    lab.expectChunk(lab.fetchBytes(handle, `handle ${k}`), k, sample.expected);
  });
}

/** Offer `perCall` chunks at a time until all are drained; `beforeCall` arms faults. Handles in chunk order. */
function spillInCalls(lab: BackendLab, instance: LabInstance, chunks: Bytes[], perCall: number, beforeCall: () => void = () => undefined): BytesFetch[] {
  const handles: BytesFetch[] = [];
  let idle = 0;
  while (chunks.length > 0) {
    const offer = chunks.slice(0, perCall);
    beforeCall();
    const answer = lab.spillOnce(instance, offer);
    handles.push(...answer.handles);
    chunks.splice(0, answer.drained);
    idle = answer.drained === 0 ? idle + 1 : 0;
    if (idle >= 3) throw new ClauseNotApplicable(`spill drained nothing in 3 calls in a row with ${chunks.length} chunks left: storage full, so this clause could not run`);
  }
  return handles;
}

/** Regular files under `dir`, as paths relative to it. */
function filesIn(dir: string): string[] {
  try {
    return (readdirSync(dir, { recursive: true, withFileTypes: true }) as import('node:fs').Dirent[])
      .filter((e) => !e.isDirectory())
      .map((e) => join((e as { parentPath?: string; path?: string }).parentPath ?? (e as { path?: string }).path ?? dir, e.name).slice(dir.length + 1));
  } catch {
    return [];
  }
}

function listOf(files: readonly string[]): string {
  return `${files.length} file${files.length === 1 ? '' : 's'} (${files.slice(0, 3).join(', ')}${files.length > 3 ? ', …' : ''})`;
}

const storageReleasedAfterFaults: BackendClause = {
  id: 'storage.released-after-faults',
  level: 'optional',
  requires: 'stats',
  title: 'stats() is back to its start after partial spills, failed fetches and retries, once every handle is fetched',
  notApplicable: (supports) => (supports.partialSpill || supports.failingFetch ? undefined : 'the module declares no failure path (partialSpill or failingFetch); storage.released covers the plain run'),
  async check(lab, { seed }) {
    const instance = await lab.open();
    const before = lab.stats(instance);
    const writeAsks = instance.faults.writeAsks;
    scene(() => runWithFaults(lab, instance, seed));
    const after = lab.stats(instance);
    if (after.storedBytes !== before.storedBytes || after.storedChunks !== before.storedChunks) {
      const failed = instance.faults.writeAsks > writeAsks ? 'with writes failing along the way' : 'with reads failing along the way';
      throw new ClauseBroken(
        `after spilling ${RUN_LENGTHS_BYTES.length} chunks ${failed} and fetching every handle (retrying failed fetches), stats() reports ${after.storedBytes} bytes in ${after.storedChunks} chunks (it started at ${before.storedBytes} bytes in ${before.storedChunks} chunks): usage charged on a failure path was never given back`,
      );
    }
  },
};

const filesRemoved: BackendClause = {
  id: 'files.removed',
  level: 'required',
  title: 'no file is left in ctx.dir once every handle is fetched, nor after dispose with handles left unfetched',
  async check(lab, { seed }) {
    const instance = await lab.open();
    const sample = sampleChunks(seed, RUN_LENGTHS_BYTES);
    const handles = scene(() => spillInCalls(lab, instance, sample.chunks.slice(), RUN_CHUNKS_PER_CALL));
    scene(() => handles.forEach((handle, k) => lab.expectChunk(lab.fetchBytes(handle, `handle ${k}`), k, sample.expected)));
    const afterFetch = filesIn(instance.dir);
    if (afterFetch.length > 0) throw new ClauseBroken(`after every handle was fetched, ${listOf(afterFetch)} still in ctx.dir: spill files are never removed on the normal completion path`);
    // The second half: dispose with handles outstanding must remove what they hold.
    const second = await lab.open();
    const more = scene(() => spillInCalls(lab, second, sampleChunks(seed + 1, RUN_LENGTHS_BYTES).chunks, RUN_CHUNKS_PER_CALL));
    scene(() => more.slice(0, more.length / 2).forEach((handle, k) => lab.fetchBytes(handle, `handle ${k}`)));
    const problem = await lab.closeInstance(second, { keepDir: true });
    if (problem !== undefined) throw new ClauseBroken(problem);
    const afterDispose = filesIn(second.dir);
    if (afterDispose.length > 0) {
      const how = lab.module.dispose === undefined ? 'the module exports no dispose(spill), so nothing removed what the unfetched handles held' : 'dispose(spill) did not remove them';
      throw new ClauseBroken(`with ${more.length - Math.floor(more.length / 2)} handles left unfetched, ${listOf(afterDispose)} still in ctx.dir at the end: ${how}`);
    }
  },
};

/** Where the backend's descriptors are counted: its module says (a child process), else this process. */
function descriptorsOf(lab: BackendLab): () => FdSnapshot | undefined {
  const own = lab.module.descriptors;
  return own === undefined ? () => fdSnapshot() : () => own();
}

const fdsClosed: BackendClause = {
  id: 'fds.closed',
  level: 'required',
  ownProcess: true,
  title: 'no file descriptor the backend opened is still open once every handle is fetched (after failures and retries too), nor after dispose',
  async check(lab, { seed }) {
    const snapshot = descriptorsOf(lab);
    const before = snapshot();
    if (before === undefined) throw new ClauseNotApplicable('open descriptors cannot be counted here (no /proc/self/fd)');
    const instance = await lab.open();
    scene(() => runWithFaults(lab, instance, seed));
    const afterFetch = await fdsStillOpen(before, snapshot);
    if (afterFetch.length > 0) throw new ClauseBroken(`after every handle was fetched, ${describeFds(afterFetch)} the backend opened are still open`);
    const second = await lab.open();
    const handles = scene(() => spillInCalls(lab, second, sampleChunks(seed + 1, RUN_LENGTHS_BYTES).chunks, RUN_CHUNKS_PER_CALL));
    scene(() => handles.slice(0, handles.length / 2).forEach((handle, k) => lab.fetchBytes(handle, `handle ${k}`)));
    const problem = await lab.closeInstance(second);
    if (problem !== undefined) throw new ClauseBroken(problem);
    const afterDispose = await fdsStillOpen(before, snapshot);
    if (afterDispose.length > 0) throw new ClauseBroken(`after dispose with handles unfetched, ${describeFds(afterDispose)} the backend opened are still open`);
    // The error paths: ctx.fs failing under the backend (a write or read that throws after the
    // open), then dispose. What the backend does with the bytes is the fs.* clauses' business;
    // here only what stays open counts, so this clause alone names a descriptor an error leaks.
    const third = await lab.open();
    try {
      await judgeUnderFsPlan(lab, third, seed, { plan: FD_ERROR_PATH_PLAN.plan, legal: false, what: FD_ERROR_PATH_PLAN.what });
    } catch {
      // Judged by fs.hard-errors; the descriptors are still counted below.
    }
    third.fs.heal();
    const usedFs = third.fs.calls > 0;
    await lab.closeInstance(third);
    const afterErrors = await fdsStillOpen(before, snapshot);
    if (usedFs && afterErrors.length > 0) {
      throw new ClauseBroken(`after spills and fetches with ${FD_ERROR_PATH_PLAN.what}, then dispose, ${describeFds(afterErrors)} the backend opened are still open: a descriptor is not closed when a read or write on it fails`);
    }
  },
};

/** The faults `fds.closed` runs its error-path phase under: reads and writes fail after their open succeeded. */
const FD_ERROR_PATH_PLAN: { plan: FsFaultPlan; what: string } = {
  plan: { throwing: { codes: ['EIO'], kinds: ['read', 'write'], everyCalls: 3 } },
  what: 'every 3rd read or write through ctx.fs throwing EIO',
};

const fdsBounded: BackendClause = {
  id: 'fds.bounded',
  level: 'required',
  ownProcess: true,
  title: `with ${OUTSTANDING_BATCHES} batches outstanding (spilled, not fetched) the backend holds at most ${OPEN_FDS_MAX} descriptors open`,
  async check(lab, { seed }) {
    const snapshot = descriptorsOf(lab);
    const before = snapshot();
    if (before === undefined) throw new ClauseNotApplicable('open descriptors cannot be counted here (no /proc/self/fd)');
    const instance = await lab.open();
    const sample = sampleChunks(seed, [8, 8]);
    const batches: BytesFetch[][] = [];
    let peak = 0;
    const measure = (when: string): void => {
      const now = snapshot();
      const open = now === undefined ? 0 : newFds(before, now).length;
      peak = Math.max(peak, open);
      if (open > OPEN_FDS_MAX) throw new ClauseBroken(`${when}, the backend holds ${open} descriptors open (at most ${OPEN_FDS_MAX}): one per outstanding batch, so a long spill runs out of descriptors`);
    };
    for (let call = 0; call < OUTSTANDING_BATCHES; call += 1) {
      const chunks = sample.chunks.slice();
      const handles = scene(() => spillInCalls(lab, instance, chunks, 2));
      batches.push(handles);
      if ((call + 1) % OUTSTANDING_PROBE_CALLS === 0) measure(`with ${call + 1} batches outstanding`);
      // A backend that holds neither descriptors nor files for outstanding batches keeps none
      // however many there are: no need to make a slow one answer a thousand more calls.
      if (call + 1 === OUTSTANDING_PROBE_CALLS && peak === 0 && filesIn(instance.dir).length === 0) return;
    }
    // Half-read batches are where a read cache keeps descriptors: fetch the first chunk of each.
    batches.forEach((handles, k) => {
      scene(() => lab.expectChunk(lab.fetchBytes(handles[0]!, `batch ${k} handle 0`), 0, sample.expected, `batch ${k} handle 0`));
      if ((k + 1) % 256 === 0) measure(`with the first chunk of ${k + 1} of ${OUTSTANDING_BATCHES} batches fetched`);
    });
    scene(() => batches.forEach((handles, k) => lab.fetchBytes(handles[1]!, `batch ${k} handle 1`)));
  },
};

const emptyBatches: BackendClause = {
  id: 'spill.empty-batches',
  level: 'required',
  title: 'spill calls made only of zero-length chunks ([0], [0, 0]) and zero-length chunks at either end of a call come back, at every seed',
  async check(lab, { seed }) {
    const instance = await lab.open();
    // Fixed shapes, not drawn: every seed checks them.
    const calls: number[][] = [[0], [0, 0], [0, 13, 0], [0, 0, 5], [9, 0, 0]];
    const made = calls.map((lengths, c) => ({ lengths, sample: sampleChunks(seed + c, lengths) }));
    const fetched = made.map(({ lengths, sample }) => ({ lengths, sample, handles: lab.spillAll(instance, sample) }));
    // Newest first, then each call's handles in order: no reliance on fetching in spill order.
    for (const { lengths, sample, handles } of fetched.reverse()) {
      handles.forEach((handle, k) => lab.expectChunk(lab.fetchBytes(handle, `handle ${k} of the call [${lengths.join(', ')}]`), k, sample.expected, `handle ${k} of the call of chunks [${lengths.join(', ')}] bytes`));
    }
  },
};

const volume: BackendClause = {
  id: 'spill.volume',
  level: 'required',
  title: `one spill call of ${VOLUME_CHUNKS} chunks (about 6 MiB) drains and its handles return the right bytes (both ends and a seeded sample of ${VOLUME_HANDLES_CHECKED} checked)`,
  async check(lab, { seed }) {
    const instance = await lab.open();
    const next = makeRng(seed);
    const lengths = Array.from({ length: VOLUME_CHUNKS }, (_, k) => (k === 0 || k === VOLUME_CHUNKS - 1 ? 0 : next() % VOLUME_CHUNK_BYTES_MAX));
    const sample = sampleChunks(seed, lengths);
    const handles = lab.spillAll(instance, sample);
    const picked = new Set<number>([0, 1, 2, VOLUME_CHUNKS - 3, VOLUME_CHUNKS - 2, VOLUME_CHUNKS - 1]);
    while (picked.size < VOLUME_HANDLES_CHECKED) picked.add(next() % VOLUME_CHUNKS);
    for (const k of [...picked].sort((a, b) => a - b)) lab.expectChunk(lab.fetchBytes(handles[k]!, `handle ${k}`), k, sample.expected, `handle ${k} of ${VOLUME_CHUNKS} (one call of ${sample.chunks.reduce((n, c) => n + c.length, 0)} bytes)`);
  },
};

const heldAfterVolume: BackendClause = {
  id: 'fetch.held-after-volume',
  level: 'required',
  title: `chunks the consumer holds stay intact while ${HELD_THEN_BYTES / (1024 * 1024)} MiB more are spilled and fetched (no storage recycled under them, at any ring size up to 64 MiB)`,
  async check(lab, { seed }) {
    const instance = await lab.open();
    const sample = sampleChunks(seed, Array.from({ length: HELD_CHUNKS }, () => HELD_CHUNK_BYTES));
    const held = lab.spillAll(instance, sample).map((handle, k) => {
      const result = lab.fetchOnce(handle, `handle ${k}`);
      if (!result.ok) throw new ClauseBroken(`fetch of handle ${k} failed with no fault armed`);
      return result.chunks;
    });
    const rounds = HELD_THEN_BYTES / (HELD_CHUNK_BYTES * HELD_THEN_CHUNKS_PER_CALL);
    const later = sampleChunks(seed + 1, Array.from({ length: HELD_THEN_CHUNKS_PER_CALL }, () => HELD_CHUNK_BYTES));
    for (let round = 0; round < rounds; round += 1) {
      lab.spillAll(instance, { chunks: later.chunks, expected: later.expected }).forEach((handle, k) => lab.fetchBytes(handle, `later handle ${k}`));
    }
    held.forEach((chunks, k) => {
      const bytes = concat(chunks);
      const diff = byteDiff(sample.expected[k]!, bytes);
      if (diff !== undefined) {
        throw new ClauseBroken(`chunk ${k} (${HELD_CHUNK_BYTES} bytes), held by the consumer since its fetch, changed after ${HELD_THEN_BYTES / (1024 * 1024)} MiB more were spilled and fetched: ${diff}; fetch handed out a view of storage it later reused`);
      }
    });
  },
};

function concat(chunks: readonly Bytes[]): Uint8Array {
  if (chunks.length === 1) return chunks[0]!.data;
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c.data, at);
    at += c.length;
  }
  return out;
}

const noPinning: BackendClause = {
  id: 'fetch.no-pinning',
  level: 'required',
  title: `a fetched chunk keeps no much larger allocation alive: its buffer is at most ${PIN_FACTOR_MAX}× its length or its length + ${PIN_SLACK_BYTES / 1024} KiB`,
  async check(lab, { seed }) {
    const instance = await lab.open();
    const lengths = [...Array.from({ length: 64 }, () => 16 * 1024), 100, 3];
    const sample = sampleChunks(seed, lengths);
    // What a backend with little room drains is judged too: storage full only ends the spilling.
    const chunks = sample.chunks.slice();
    const handles: BytesFetch[] = [];
    for (let idle = 0; chunks.length > 0 && idle < 3; ) {
      const answer = lab.spillOnce(instance, chunks);
      handles.push(...answer.handles);
      idle = answer.drained === 0 ? idle + 1 : 0;
    }
    if (handles.length === 0) throw new ClauseNotApplicable('spill drained nothing of 64 chunks of 16 KiB in 3 calls: storage full, so this clause could not run');
    handles.forEach((handle, k) => {
      const result = lab.fetchOnce(handle, `handle ${k}`);
      if (!result.ok) throw new ClauseBroken(`fetch of handle ${k} failed with no fault armed`);
      for (const chunk of result.chunks) {
        const held = chunk.data.buffer.byteLength;
        const allowed = Math.max(chunk.length * PIN_FACTOR_MAX, chunk.length + PIN_SLACK_BYTES);
        if (held > allowed) {
          throw new ClauseBroken(
            `handle ${k} returned a ${chunk.length}-byte chunk whose buffer is ${held} bytes (allowed: ${allowed}): the consumer holding it keeps ${held - chunk.length} bytes more alive than it was given (a view into a whole-batch read, or into the slab it was spilled from; return a copy)`,
          );
        }
      }
    });
  },
};

const inputUntouched: BackendClause = {
  id: 'spill.input-untouched',
  level: 'required',
  title: 'spill and fetch never write into the chunk bytes the backend was given (the queue still owns them)',
  async check(lab, { seed }) {
    const instance = await lab.open();
    const sample = sampleChunks(seed, [30, 0, 200, 17, 64]);
    const given = sample.chunks.slice();
    const scribbled = (when: string): void => {
      given.forEach((chunk, k) => {
        if (sameBytes(chunk.data, sample.expected[k]!)) return;
        throw new ClauseBroken(`${when}, the bytes of chunk ${k} the backend was given had changed (${byteDiff(sample.expected[k]!, chunk.data) ?? ''}): the backend wrote into memory it was only lent`);
      });
    };
    const handles = scene(() => lab.spillAll(instance, sample));
    scribbled('after spill');
    // Wrong bytes from a fetch are fetch.exact-bytes' to report; here only the lent bytes count.
    handles.forEach((handle, k) => {
      try {
        lab.fetchBytes(handle, `handle ${k}`);
      } catch {
        // see above
      }
    });
    scribbled('after every handle was fetched');
  },
};

/** What the fs-level clauses accept from a backend under the plan: a panic (a thrown Error) is a report, not a loss. */
interface FsRunRules {
  plan: FsFaultPlan;
  /** Short reads and writes are legal fs behaviour: no panic, no failed fetch, no stop allowed. */
  legal: boolean;
  what: string;
}

/**
 * Spill and fetch a run through `ctx.fs` under `plan`; then heal the fs, spill what is left and
 * retry what failed. Every chunk must come back exactly once with its bytes. A backend that never
 * calls `ctx.fs` is not applicable.
 */
async function runUnderFsPlan(lab: BackendLab, seed: number, rules: FsRunRules): Promise<void> {
  const instance = await lab.open();
  try {
    await judgeUnderFsPlan(lab, instance, seed, rules);
  } catch (error) {
    // Whatever happened, a backend that never touched ctx.fs was not judged by these faults.
    if (instance.fs.calls === 0) throw new ClauseNotApplicable('the backend never called ctx.fs (it does its file I/O some other way)');
    throw error;
  }
  if (instance.fs.calls === 0) throw new ClauseNotApplicable('the backend never called ctx.fs (it does its file I/O some other way)');
}

async function judgeUnderFsPlan(lab: BackendLab, instance: LabInstance, seed: number, rules: FsRunRules): Promise<void> {
  const sample = sampleChunks(seed, RUN_LENGTHS_BYTES);
  const chunks = sample.chunks.slice();
  instance.fs.setPlan(rules.plan);
  const handles = new Map<number, BytesFetch>();
  let next = 0;
  const panics: string[] = [];
  // Spill in calls of a few chunks; a stop (storage refused) is fine, the rest is spilled after healing.
  for (let call = 0; chunks.length > 0 && call < RUN_LENGTHS_BYTES.length; call += 1) {
    const offer = chunks.slice(0, RUN_CHUNKS_PER_CALL);
    let answer;
    try {
      answer = lab.spillOnce(instance, offer);
    } catch (error) {
      if (!(error instanceof ClauseBroken) || !error.message.includes('panicked')) throw withWhat(error, rules);
      if (rules.legal) throw new ClauseBroken(`with ${rules.what}: ${error.message}; a short count is legal behaviour of a real fs, not an error`);
      panics.push(error.message);
      break;
    }
    answer.handles.forEach((h) => handles.set(next++, h));
    chunks.splice(0, answer.drained);
    // Stopping is legal even here (storage full); what was drained is judged at fetch.
    if (answer.drained === 0) break;
  }
  // Fetch under the plan: a failed fetch keeps its (returned) handle for a retry after healing.
  for (const [k, handle] of handles) {
    let result;
    try {
      result = lab.fetchOnce(handle, `handle ${k}`);
    } catch (error) {
      if (!(error instanceof ClauseBroken) || !error.message.includes('panicked') || rules.legal) throw withWhat(error, rules);
      panics.push(error.message);
      handles.delete(k);
      continue;
    }
    if (!result.ok) {
      if (rules.legal) throw new ClauseBroken(`with ${rules.what}, fetch of handle ${k} failed although nothing failed`);
      handles.set(k, result.handle);
      continue;
    }
    expectBytes(lab, result.chunks, k, sample.expected, rules);
    handles.delete(k);
  }
  instance.fs.heal();
  if (panics.length > 0 && next === 0) return; // it refused loudly from the start: nothing stored, nothing lost
  for (const [k, handle] of handles) lab.expectChunk(lab.fetchBytes(handle, `handle ${k} (retried after the fs healed)`), k, sample.expected, `handle ${k}, retried after the fs healed`);
  if (panics.length === 0) {
    const rest = lab.spillAll(instance, { chunks, expected: sample.expected.slice(next) });
    rest.forEach((handle, j) => lab.expectChunk(lab.fetchBytes(handle, `handle ${next + j}`), next + j, sample.expected, `handle ${next + j}, spilled after the fs healed`));
  }
}

function withWhat(error: unknown, rules: FsRunRules): unknown {
  if (!(error instanceof ClauseBroken)) return error;
  return new ClauseBroken(`with ${rules.what}: ${error.message}`);
}

function expectBytes(lab: BackendLab, chunks: readonly Bytes[], k: number, expected: readonly Uint8Array[], rules: FsRunRules): void {
  try {
    lab.expectChunk(concat(chunks), k, expected, `handle ${k}`);
  } catch (error) {
    throw new ClauseBroken(`with ${rules.what}, ${(error as Error).message}: the fetch succeeded with bytes that were never stored whole`);
  }
}

const shortWrites: BackendClause = {
  id: 'fs.short-writes',
  level: 'optional',
  title: 'through ctx.fs with every write short (half the bytes asked, no error), every chunk still comes back whole',
  check: (lab, { seed }) => runUnderFsPlan(lab, seed, { plan: { shortWrites: true }, legal: true, what: 'every write through ctx.fs writing only half of what it was asked (a legal short count)' }),
};

const shortReads: BackendClause = {
  id: 'fs.short-reads',
  level: 'optional',
  title: 'through ctx.fs with every read short (half the bytes asked, no error), every chunk still comes back whole',
  check: (lab, { seed }) => runUnderFsPlan(lab, seed, { plan: { shortReads: true }, legal: true, what: 'every read through ctx.fs returning only half of what it was asked (a legal short count)' }),
};

const transientErrors: BackendClause = {
  id: 'fs.transient-errors',
  level: 'optional',
  title: 'through ctx.fs with every write short and every 3rd read or write throwing EAGAIN or EINTR (so an error can land partway through a batch): nothing lost, nothing corrupted, partial spills consistent',
  check: (lab, { seed }) =>
    runUnderFsPlan(lab, seed, { plan: { shortWrites: true, throwing: { codes: ['EAGAIN', 'EINTR'], kinds: ['read', 'write'], everyCalls: 3 } }, legal: false, what: 'every write through ctx.fs short and every 3rd read or write throwing EAGAIN or EINTR' }),
};

const hardErrors: BackendClause = {
  id: 'fs.hard-errors',
  level: 'optional',
  title: 'through ctx.fs with every 4th open, read, write or unlink throwing ENOSPC, EIO or EMFILE: nothing lost, nothing corrupted, partial spills consistent',
  check: (lab, { seed }) =>
    runUnderFsPlan(lab, seed, {
      plan: { throwing: { codes: ['ENOSPC', 'EIO', 'EMFILE'], kinds: ['open', 'read', 'write', 'unlink'], everyCalls: 4 } },
      legal: false,
      what: 'every 4th open, read, write or unlink through ctx.fs throwing ENOSPC, EIO or EMFILE',
    }),
};

/** The clauses added for resources, volume, pinning and fs-level faults, in report order. */
export const RESOURCE_CLAUSES: readonly BackendClause[] = [
  storageReleasedAfterFaults,
  filesRemoved,
  fdsClosed,
  fdsBounded,
  emptyBatches,
  volume,
  heldAfterVolume,
  noPinning,
  inputUntouched,
  shortWrites,
  shortReads,
  transientErrors,
  hardErrors,
];
