import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bytes, type BytesFetch } from '../src/index.js';
import { loadExecBackend } from '../properties/process_backend/exec_backend.js';
import type { BenchOptions, BenchResult, Figure } from './report.js';

/**
 * Benchmark 7: the process protocol. 64 KiB chunks go through `spill` and `fetch` of a backend
 * in a child process (SPILL of a batch, FETCH per handle, each a synchronous request over the
 * I/O thread), against a plain pipe round trip of the same bytes through `cat` in the same run:
 * every byte crosses the pipe twice in both. The figure is protocol bytes/s over pipe bytes/s.
 */

const KiB = 1024;
const MiB = 1024 * KiB;
const CHUNK_BYTES = 64 * KiB;
/** Chunks per spill call (1 MiB): the size of a threshold's batch of small entries. */
const CHUNKS_PER_SPILL = 16;
// From dist/bench/ when built, from bench/ under vitest.
const ROOT = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? '../' : '../../', import.meta.url));

interface Child {
  name: string;
  commandLine: string;
  /**
   * `all-then-fetch`: every chunk spilled, then every handle fetched (the child holds all the
   * bytes at once). `batch-by-batch`: each batch fetched right after its spill (the child holds
   * one batch), the same requests and bytes without the cost of growing the child's memory.
   */
  order: 'all-then-fetch' | 'batch-by-batch';
}

/**
 * The Rust example when it is built: in memory (the protocol's own cost: the target) and on
 * files (what a user's file backend adds); and the Node adapter, always.
 */
function children(): Child[] {
  const rustBinary = join(ROOT, 'examples/rust-file-spill/target/release/rust-file-spill');
  const list: Child[] = [];
  if (existsSync(rustBinary)) {
    list.push({ name: 'rust-memory', commandLine: `${rustBinary} --memory`, order: 'all-then-fetch' });
    list.push({ name: 'rust-memory-batch-by-batch', commandLine: `${rustBinary} --memory`, order: 'batch-by-batch' });
    list.push({ name: 'rust-file', commandLine: rustBinary, order: 'all-then-fetch' });
  }
  list.push({ name: 'node-memory', commandLine: `${process.execPath} ${join(ROOT, 'examples/node-memory-spill/serve.mjs')}`, order: 'all-then-fetch' });
  return list;
}

function sampleChunks(totalBytes: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let k = 0; k < totalBytes / CHUNK_BYTES; k += 1) out.push(new Uint8Array(CHUNK_BYTES).fill(k & 0xff));
  return out;
}

/** Write every chunk to `cat` and read the same number of bytes back; ms. */
function pipeRoundTripMs(chunks: readonly Uint8Array[]): Promise<number> {
  const totalBytes = chunks.length * CHUNK_BYTES;
  return new Promise((resolve, reject) => {
    const child = spawn('cat', [], { stdio: ['pipe', 'pipe', 'inherit'] });
    let receivedBytes = 0;
    const started = performance.now();
    child.on('error', reject);
    child.stdout.on('data', (data: Buffer) => {
      receivedBytes += data.length;
      if (receivedBytes === totalBytes) {
        const ms = performance.now() - started;
        child.stdin.end();
        resolve(ms);
      }
    });
    for (const chunk of chunks) child.stdin.write(chunk);
  });
}

/** Send each chunk to `cat` and wait for it to come back before sending the next; ms. */
function pipeChunkRoundTripsMs(chunks: readonly Uint8Array[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('cat', [], { stdio: ['pipe', 'pipe', 'inherit'] });
    let next = 0;
    let pendingBytes = 0;
    const started = performance.now();
    const send = (): void => {
      if (next === chunks.length) {
        const ms = performance.now() - started;
        child.stdin.end();
        resolve(ms);
        return;
      }
      pendingBytes = CHUNK_BYTES;
      child.stdin.write(chunks[next]!);
      next += 1;
    };
    child.on('error', reject);
    child.stdout.on('data', (data: Buffer) => {
      pendingBytes -= data.length;
      if (pendingBytes === 0) send();
    });
    send();
  });
}

/** Spill every chunk in batches and fetch every handle (in `order`), checking each first byte; ms. */
async function protocolRoundTripMs(child: Child, chunks: readonly Uint8Array[]): Promise<number> {
  const module = await loadExecBackend(child.commandLine);
  const dir = mkdtempSync(join(tmpdir(), 'spillsim-bench-protocol-'));
  const faults = { failWrite: () => false, failRead: () => false };
  try {
    const spill = await module.factory({ dir, faults });
    const started = performance.now();
    const handles: BytesFetch[] = [];
    let fetched = 0;
    const fetchAll = (): void => {
      for (; fetched < handles.length; fetched += 1) {
        const result = handles[fetched]!.fetch();
        if (!result.ok || result.chunks[0]!.data[0] !== (fetched & 0xff)) throw new Error(`handle ${fetched} failed or came back with the wrong first byte`);
      }
    };
    for (let at = 0; at < chunks.length; at += CHUNKS_PER_SPILL) {
      const batch = chunks.slice(at, at + CHUNKS_PER_SPILL).map((c) => Bytes.from(c));
      spill.spill(batch, handles);
      if (batch.length > 0) throw new Error(`the child drained only part of a batch (${batch.length} left)`);
      if (child.order === 'batch-by-batch') fetchAll();
    }
    fetchAll();
    const ms = performance.now() - started;
    await module.dispose?.(spill);
    module.endClause?.();
    return ms;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function runProcessProtocol(options: BenchOptions): Promise<BenchResult> {
  const totalBytes = options.quick ? 8 * MiB : 64 * MiB;
  const rounds = options.quick ? 2 : 5;
  const chunks = sampleChunks(totalBytes);
  const rows: Array<Record<string, string | number>> = [];
  const figures: Figure[] = [];
  const mibPerSecond = (ms: number): string => (totalBytes / MiB / (ms / 1000)).toFixed(0);
  const list = children();
  // Interleaved rounds, best of each: the pipe and every child see the same machine load, and
  // every child is compared with the same pipe figures.
  let streamMs = Infinity;
  let roundTripMs = Infinity;
  const protocolMs = list.map(() => Infinity);
  for (let round = 0; round < rounds; round += 1) {
    options.log(`process-protocol: round ${round + 1}/${rounds}`);
    streamMs = Math.min(streamMs, await pipeRoundTripMs(chunks));
    roundTripMs = Math.min(roundTripMs, await pipeChunkRoundTripsMs(chunks));
    for (const [k, child] of list.entries()) protocolMs[k] = Math.min(protocolMs[k]!, await protocolRoundTripMs(child, chunks));
  }
  rows.push({ child: '(pipe)', 'protocol MiB/s': '', 'pipe, chunk by chunk MiB/s': mibPerSecond(roundTripMs), 'pipe, streamed MiB/s': mibPerSecond(streamMs) });
  for (const [k, child] of list.entries()) {
    const ms = protocolMs[k]!;
    rows.push({
      child: child.name,
      'protocol MiB/s': mibPerSecond(ms),
      'protocol / chunk by chunk': `${(roundTripMs / ms).toFixed(2)}×`,
      'protocol / streamed': `${(streamMs / ms).toFixed(2)}×`,
    });
    figures.push({
      name: `protocol-vs-pipe-${child.name}`,
      description: `spill+fetch of 64 KiB chunks over the protocol (${child.name}) vs a plain pipe round trip of each chunk`,
      value: roundTripMs / ms,
      unit: 'ratio',
      // The target is the protocol's: a compiled child that does nothing but answer. The file
      // backend's disk I/O and the Node adapter's own frame handling are shown beside it.
      ...(child.name === 'rust-memory' ? { target: { op: '>=' as const, value: 0.5 } } : {}),
    });
    figures.push({
      name: `protocol-vs-stream-${child.name}`,
      description: `the same, vs the bytes streamed through the pipe with no round trips (an upper bound)`,
      value: streamMs / ms,
      unit: 'ratio',
    });
  }
  return {
    name: 'process-protocol',
    title: 'A backend in a child process: spill + fetch over the protocol vs plain pipe round trips of the same bytes',
    columns: ['child', 'protocol MiB/s', 'pipe, chunk by chunk MiB/s', 'pipe, streamed MiB/s', 'protocol / chunk by chunk', 'protocol / streamed'],
    rows,
    figures,
    notes: [
      `${totalBytes / MiB} MiB in 64 KiB chunks. Protocol: SPILL ${CHUNKS_PER_SPILL} chunks per call, then one FETCH per handle, each a synchronous request. Pipe, chunk by chunk: each chunk written to cat and read back before the next (the like-for-like round trip; the target is against it). Pipe, streamed: every chunk written at once and read back (no round trips at all). Best of ${rounds} interleaved rounds.`,
      'rust-memory is examples/rust-file-spill --memory (chunks kept in a map: no I/O but the protocol); it holds all 64 MiB before the first fetch, so its figure includes faulting in that much fresh memory. rust-memory-batch-by-batch is the same child with each batch fetched right after its spill (the same requests and bytes; it holds one batch at a time): the protocol alone. rust-file writes each batch to a file in a temporary directory and reads each chunk back, so its figure includes that file I/O. The Rust rows are measured only when built (cargo build --release in examples/rust-file-spill); node-memory is the Node adapter serving MemorySpill.',
    ],
  };
}
