import { Bytes, BytesMut } from '../../src/bytes.js';

/** Chunks to spill, with a private copy of what each must come back as. */
export interface SampleChunks {
  /** Adjacent views of one slab, as the queue's targets are. */
  chunks: Bytes[];
  /** The expected content of chunk k, copied so a backend cannot alter it. */
  expected: Uint8Array[];
}

/**
 * Chunks of the given lengths cut from one slab filled with bytes that are a pure function of
 * `seed`: two chunks of equal length still differ, so a crossed handle shows up.
 */
export function sampleChunks(seed: number, lengthsBytes: readonly number[]): SampleChunks {
  const totalBytes = lengthsBytes.reduce((sum, n) => sum + n, 0);
  const slab = BytesMut.alloc(totalBytes);
  fillBytes(seed, slab.data);
  const chunks = lengthsBytes.map((n) => slab.extractTo(n));
  return { chunks, expected: chunks.map((c) => c.data.slice()) };
}

/** xorshift32: a tiny deterministic generator, so runs repeat exactly for a seed. */
export function makeRng(seed: number): () => number {
  let state = (seed ^ 0x9e3779b9) >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state;
  };
}

function fillBytes(seed: number, out: Uint8Array): void {
  const next = makeRng(seed);
  // Four bytes per draw: large chunks are megabytes, and this runs for every clause.
  for (let i = 0; i < out.length; i += 4) {
    const word = next();
    for (let b = 0; b < 4 && i + b < out.length; b += 1) out[i + b] = (word >>> (8 * b)) & 0xff;
  }
}

/** The chunks' bytes laid end to end. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i += 1) if (a[i] !== b[i]) return false;
  return true;
}

const DIFF_WINDOW_BYTES = 4;

/**
 * Where two byte strings first differ, as one line with a few bytes of hex either side and the
 * differing byte bracketed; `undefined` when they are equal.
 */
export function byteDiff(expected: Uint8Array, actual: Uint8Array): string | undefined {
  const common = Math.min(expected.length, actual.length);
  let at = 0;
  while (at < common && expected[at] === actual[at]) at += 1;
  if (at === common && expected.length === actual.length) return undefined;
  const lengths = expected.length === actual.length ? `${expected.length} bytes` : `expected ${expected.length} bytes, got ${actual.length}`;
  return `first difference at byte ${at} (${lengths}): expected ${hexWindow(expected, at)}, got ${hexWindow(actual, at)}`;
}

function hexWindow(bytes: Uint8Array, at: number): string {
  const from = Math.max(0, at - DIFF_WINDOW_BYTES);
  const to = Math.min(bytes.length, at + DIFF_WINDOW_BYTES + 1);
  const cells: string[] = [];
  for (let i = from; i < to; i += 1) {
    const hex = bytes[i]!.toString(16).padStart(2, '0');
    cells.push(i === at ? `[${hex}]` : hex);
  }
  if (at >= bytes.length) cells.push('[end]');
  return `${from > 0 ? '… ' : ''}${cells.join(' ')}${to < bytes.length ? ' …' : ''}`;
}
