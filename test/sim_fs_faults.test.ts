import { describe, expect, it } from 'vitest';
import type { SpillFs } from '../src/backends/spill_fs.js';
import { Buzzer } from '../src/buzzer.js';
import { Bytes } from '../src/bytes.js';
import { PoisonedError } from '../src/errors.js';
import { MergeQueue, type MergeQueueOptions } from '../src/merge_queue.js';
import type { BytesFetch, BytesSpill, FetchResult } from '../src/spill.js';
import type { SpillPolicy } from '../src/spill_policy.js';
import { type FaultKind, FS_FAULT_KINDS } from '../sim/faults.js';
import { FaultyFs } from '../sim/faulty_fs.js';
import { SimRng } from '../sim/rng.js';
import { runSimulation, type SimOptions } from '../sim/run.js';
import { SimFs } from '../sim/sim_fs.js';
import type { SimRunResult } from '../sim/trace.js';
import type { SimQueue } from '../sim/tracked_queue.js';

/**
 * Each new fault kind catches a file backend broken on purpose in the one way that kind
 * exposes, while the same backend written carefully, and the library's own file backend,
 * hold under it. The panic kind and its liveness invariant catch a queue whose reader never
 * observes the poisoning, and pass one that wakes it (the reference's drop-while-unwinding).
 */

/** The mistakes a hand-written file backend makes, one per fault kind. */
type Mistake = 'none' | 'ignores-short-write' | 'ignores-short-read' | 'treats-eintr-as-written' | 'keeps-chunk-on-enospc' | 'lets-emfile-escape';

const RETRIES_MAX = 8;

/** A file per chunk, over the run's (faulty) fs; `mistake` picks the bug. */
class OneFilePerChunkSpill implements BytesSpill {
  readonly #fs: SpillFs;
  readonly #mistake: Mistake;
  /** Keep each chunk's descriptor open until its fetch (so stored chunks use up descriptors). */
  readonly #holdFds: boolean;
  readonly #held = new Map<string, number>();
  #seq = 0;

  constructor(fs: SpillFs, mistake: Mistake, holdFds = false) {
    this.#fs = fs;
    this.#mistake = mistake;
    this.#holdFds = holdFds;
    fs.mkdirSync('/mine', { recursive: true });
  }

  spill(chunks: Bytes[], handles: BytesFetch[]): void {
    let kept = 0;
    for (const chunk of chunks) {
      const path = `/mine/chunk-${this.#seq++}`;
      if (!this.#write(path, chunk.data)) break;
      handles.push(this.#handle(path, chunk.length));
      kept += 1;
    }
    chunks.splice(0, kept);
  }

  /** True when the whole chunk is in its file (the careful way), or when the mistake says so. */
  #write(path: string, data: Uint8Array): boolean {
    let fd: number;
    try {
      fd = this.#fs.openSync(path, 'wx');
    } catch (error) {
      if (this.#mistake === 'lets-emfile-escape') throw error;
      return false;
    }
    let done = 0;
    let ok = true;
    for (let attempt = 0; done < data.length; ) {
      try {
        const n = this.#fs.writeSync(fd, data, done, data.length - done, done);
        if (this.#mistake === 'ignores-short-write') break;
        done += n;
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (code === 'EAGAIN' || code === 'EINTR') {
          if (this.#mistake === 'treats-eintr-as-written') break;
          if ((attempt += 1) < RETRIES_MAX) continue;
        }
        ok = code === 'ENOSPC' && this.#mistake === 'keeps-chunk-on-enospc';
        break;
      }
    }
    if (ok && this.#holdFds) this.#held.set(path, fd);
    else this.#fs.closeSync(fd);
    if (!ok) this.#fs.unlinkSync(path);
    return ok;
  }

  #handle(path: string, lengthBytes: number): BytesFetch {
    const handle: BytesFetch = { fetch: (): FetchResult => this.#read(path, lengthBytes, handle) };
    return handle;
  }

  #read(path: string, lengthBytes: number, handle: BytesFetch): FetchResult {
    const held = this.#held.get(path);
    if (held !== undefined) {
      this.#held.delete(path);
      this.#fs.closeSync(held);
    }
    const data = new Uint8Array(lengthBytes);
    let done = 0;
    try {
      const fd = this.#fs.openSync(path, 'r');
      try {
        while (done < lengthBytes) {
          const n = this.#fs.readSync(fd, data, done, lengthBytes - done, done);
          done += n;
          if (n === 0 || this.#mistake === 'ignores-short-read') break;
        }
      } finally {
        this.#fs.closeSync(fd);
      }
    } catch {
      return { ok: false, handle };
    }
    this.#fs.unlinkSync(path);
    return { ok: true, chunks: [Bytes.from(data.subarray(0, done))] };
  }
}

const SEEDS = 40;

function runs(options: Omit<SimOptions, 'seed'>, seeds = SEEDS): SimRunResult[] {
  return Array.from({ length: seeds }, (_, k) => runSimulation({ ...options, seed: k + 1, pattern: 'interleaved' }));
}

function failures(results: readonly SimRunResult[]): string[] {
  return results.filter((r) => !r.ok).map((r) => `${r.seed}: ${r.violation?.invariant}: ${r.violation?.message}`);
}

const CASES: ReadonlyArray<{ kind: FaultKind; mistake: Mistake; caughtBy: readonly string[] }> = [
  { kind: 'short-write', mistake: 'ignores-short-write', caughtBy: ['no-reorder', 'no-loss', 'no-duplicate', 'storage-released'] },
  { kind: 'short-read', mistake: 'ignores-short-read', caughtBy: ['no-reorder', 'no-loss', 'no-duplicate', 'storage-released'] },
  { kind: 'interrupted', mistake: 'treats-eintr-as-written', caughtBy: ['no-reorder', 'no-loss', 'no-duplicate', 'storage-released'] },
  { kind: 'disk-full', mistake: 'keeps-chunk-on-enospc', caughtBy: ['no-reorder', 'no-loss', 'no-duplicate', 'storage-released'] },
  // A backend that holds a descriptor per stored chunk runs out of them; letting EMFILE escape from `spill` breaks the contract.
  { kind: 'fd-limit', mistake: 'lets-emfile-escape', caughtBy: ['queue-error'] },
];

describe('file-system faults under the file backend', () => {
  for (const { kind, mistake, caughtBy } of CASES) {
    it(`${kind}: catches a backend that ${mistake.replaceAll('-', ' ')}; the careful one and the library's hold`, () => {
      const holdFds = kind === 'fd-limit';
      const broken = runs({ faults: [kind], backendFactory: ({ fs }) => new OneFilePerChunkSpill(fs, mistake, holdFds) });
      const caught = broken.filter((r) => !r.ok);
      expect(caught.length).toBeGreaterThan(0);
      for (const r of caught) expect(caughtBy).toContain(r.violation!.invariant);
      expect(failures(runs({ faults: [kind], backendFactory: ({ fs }) => new OneFilePerChunkSpill(fs, 'none', holdFds) }))).toEqual([]);
      expect(failures(runs({ faults: [kind] }))).toEqual([]);
      expect(failures(runs({ faults: [kind], variant: 'reference' }))).toEqual([]);
    });
  }

  it('every file-system kind, all at once, on every workload: the library holds', () => {
    expect(failures(runs({ faults: FS_FAULT_KINDS, workload: 'any' }, 60))).toEqual([]);
  });
});

describe('FaultyFs and SimFs', () => {
  it('a short write returns a prefix and no error; a short read returns part of the bytes', () => {
    const disk = new SimFs();
    disk.mkdirSync('/d', { recursive: true });
    const fs = new FaultyFs(disk, new SimRng(3), { writeFailChance: 0, readFailChance: 0, shortWriteChance: 1, shortReadChance: 1 });
    const fd = fs.openSync('/d/f', 'wx');
    const n = fs.writeSync(fd, new Uint8Array(100).fill(7), 0, 100, 0);
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThan(100);
    fs.closeSync(fd);
    const rd = fs.openSync('/d/f', 'r');
    const got = fs.readSync(rd, new Uint8Array(n), 0, n, 0);
    expect(n === 1 ? got : got < n).toBeTruthy();
    fs.heal();
    expect(fs.readSync(rd, new Uint8Array(n), 0, n, 0)).toBe(n);
  });

  it('EMFILE past the descriptor limit, ENOSPC past the disk size (after a short write), EAGAIN/EINTR with nothing done', () => {
    const disk = new SimFs();
    disk.mkdirSync('/d', { recursive: true });
    const fs = new FaultyFs(disk, new SimRng(1), { writeFailChance: 0, readFailChance: 0, openFilesMax: 1, diskBytes: 10 });
    const fd = fs.openSync('/d/a', 'wx');
    expect(() => fs.openSync('/d/b', 'wx')).toThrow(/^EMFILE/);
    expect(fs.writeSync(fd, new Uint8Array(16), 0, 16, 0)).toBe(10);
    expect(() => fs.writeSync(fd, new Uint8Array(6), 0, 6, 10)).toThrow(/^ENOSPC/);
    fs.closeSync(fd);
    const interrupting = new FaultyFs(disk, new SimRng(1), { writeFailChance: 0, readFailChance: 0, interruptChance: 1 });
    const rd = interrupting.openSync('/d/a', 'r');
    expect(() => interrupting.readSync(rd, new Uint8Array(4), 0, 4, 0)).toThrow(/^(EAGAIN|EINTR)/);
  });

  it('SimFs answers like POSIX where a backend looks: EEXIST, ENOENT, EBADF, lowest free descriptor, unlinked files readable while open', () => {
    const fs = new SimFs();
    expect(() => fs.openSync('/nowhere/f', 'wx')).toThrow(/^ENOENT/);
    fs.mkdirSync('/a/b', { recursive: true });
    const fd = fs.openSync('/a/b/f', 'wx');
    expect(fd).toBe(3);
    expect(() => fs.openSync('/a/b/f', 'wx')).toThrow(/^EEXIST/);
    fs.writevSync(fd, [Uint8Array.of(1, 2), Uint8Array.of(3)], 0);
    fs.closeSync(fd);
    expect(() => fs.closeSync(fd)).toThrow(/^EBADF/);
    const rd = fs.openSync('/a/b/f', 'r');
    fs.unlinkSync('/a/b/f');
    expect(fs.storedBytes).toBe(0);
    const out = new Uint8Array(3);
    expect(fs.readSync(rd, out, 0, 3, 0)).toBe(3);
    expect([...out]).toEqual([1, 2, 3]);
    expect(() => fs.unlinkSync('/a/b/f')).toThrow(/^ENOENT/);
  });

  it('SimFs keeps every file whole while files come and go in any order, grow, move and share its segments', () => {
    const rng = new SimRng('simfs-churn');
    const fs = new SimFs();
    fs.mkdirSync('/d', { recursive: true });
    // Each live file's expected bytes; `held` are unlinked files still open for reading.
    const live = new Map<string, Uint8Array>();
    const held: Array<{ fd: number; bytes: Uint8Array }> = [];
    const fill = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (seed * 37 + i * 11) & 0xff);
    const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
    for (let step = 0; step < 3000; step += 1) {
      const roll = rng.next();
      if (roll < 0.45 || live.size === 0) {
        // A new file, written in one writev or in a few pieces (the later ones grow it, maybe moving it).
        const path = `/d/f${step}`;
        const fd = fs.openSync(path, 'wx');
        const bytes = fill(rng.pick([0, 1, 40, 300, 5000, 70_000]), step);
        if (rng.chance(0.5)) fs.writevSync(fd, [bytes.subarray(0, 10), bytes.subarray(10)], 0);
        else for (let at = 0; at < bytes.length; at += 4999) fs.writeSync(fd, bytes, at, Math.min(4999, bytes.length - at), at);
        fs.closeSync(fd);
        live.set(path, bytes);
      } else if (roll < 0.9) {
        // Remove a file; now and then keep it open first, so its bytes must outlive its name.
        const path = rng.pick([...live.keys()]);
        if (rng.chance(0.2)) held.push({ fd: fs.openSync(path, 'r'), bytes: live.get(path)! });
        fs.unlinkSync(path);
        live.delete(path);
      } else if (held.length > 0) {
        const { fd, bytes } = held.splice(Math.floor(rng.next() * held.length), 1)[0]!;
        const out = new Uint8Array(bytes.length);
        expect(fs.readSync(fd, out, 0, bytes.length, 0)).toBe(bytes.length);
        expect(same(out, bytes)).toBe(true);
        fs.closeSync(fd);
      }
      if (step % 100 === 0 || step === 2999) {
        let stored = 0;
        for (const [path, bytes] of live) {
          const fd = fs.openSync(path, 'r');
          const out = new Uint8Array(bytes.length + 1);
          expect(fs.readSync(fd, out, 0, bytes.length + 1, 0), path).toBe(bytes.length);
          expect(same(out.subarray(0, bytes.length), bytes), path).toBe(true);
          fs.closeSync(fd);
          stored += bytes.length;
        }
        expect(fs.storedBytes).toBe(stored);
        expect(fs.fileCount).toBe(live.size);
        expect(fs.openFiles).toBe(held.length);
      }
    }
  });

  it('SimFs finds a file by any name: numbered like batch files (in order, out of order, far apart, with leading zeros) or not', () => {
    const rng = new SimRng('simfs-names');
    const fs = new SimFs();
    for (const dir of ['/q0', '/q1', '/q2/sub']) fs.mkdirSync(dir, { recursive: true });
    const live = new Set<string>();
    let next = 0;
    // Mostly the backend's pattern (counting up, removed roughly in order), mixed with names that
    // fall outside a numbered family: other dirs and suffixes, leading zeros, huge or far numbers.
    const name = (): string => {
      const roll = rng.next();
      if (roll < 0.6) return `/q${rng.int(0, 1)}/batch-${(next += rng.int(0, 2))}.spill`;
      if (roll < 0.7) return `/q0/batch-${rng.int(0, next + 10)}.spill`;
      if (roll < 0.75) return `/q0/batch-${rng.pick(['0', '00', '07', '7', `${next + 5000}`, '123456789012345678'])}.spill`;
      if (roll < 0.85) return `/q2/sub/f${rng.int(0, 30)}x${rng.int(0, 3)}`;
      if (roll < 0.9) return `/q1/batch-${rng.int(0, 40)}.other`;
      return rng.pick(['/q0/plain', '/q1/a-b', '/q2/sub/9', '/q0/batch-.spill', '/q0/batch-1x.spill']);
    };
    for (let step = 0; step < 6000; step += 1) {
      const roll = rng.next();
      const path = roll < 0.5 || live.size === 0 ? name() : rng.chance(0.7) ? [...live][Math.min(live.size - 1, rng.int(0, 3))]! : rng.pick([...live]);
      if (roll < 0.5) {
        if (live.has(path)) {
          expect(() => fs.openSync(path, 'wx'), path).toThrow(/^EEXIST/);
        } else {
          fs.closeSync(fs.openSync(path, 'wx'));
          live.add(path);
        }
      } else if (rng.chance(0.5)) {
        fs.closeSync(fs.openSync(path, 'r'));
      } else {
        fs.unlinkSync(path);
        live.delete(path);
        expect(() => fs.openSync(path, 'r'), path).toThrow(/^ENOENT/);
        expect(() => fs.unlinkSync(path), path).toThrow(/^ENOENT/);
      }
      expect(fs.fileCount).toBe(live.size);
    }
    for (const path of live) fs.closeSync(fs.openSync(path, 'r'));
  });
});

/** The library's queue pair, with the reader's drainInto and the writer's drop changed as `change` says. */
function queueFactory(change: 'reader-swallows-poison' | 'drop-buzzes-while-unwinding') {
  return (buzzer: Buzzer, writerPolicy: SpillPolicy | undefined, readerPolicy: SpillPolicy | undefined, options: MergeQueueOptions): [SimQueue, SimQueue] => {
    const [writer, reader] = MergeQueue.newPair(buzzer, writerPolicy, readerPolicy, options);
    if (change === 'reader-swallows-poison') {
      const drainInto = reader.drainInto.bind(reader);
      reader.drainInto = (out: Bytes[]): void => {
        try {
          drainInto(out);
        } catch (error) {
          if (!(error instanceof PoisonedError)) throw error;
        }
      };
      const isComplete = reader.isComplete.bind(reader);
      reader.isComplete = (): boolean => {
        try {
          return isComplete();
        } catch (error) {
          if (error instanceof PoisonedError) return false;
          throw error;
        }
      };
    } else {
      // The reference: a handle dropped while its thread unwinds still buzzes the reader.
      const drop = writer.drop.bind(writer);
      writer.drop = (): void => {
        const unwinding = writer.isPoisoned;
        drop();
        if (unwinding) buzzer.buzz();
      };
    }
    return [writer, reader];
  };
}

describe('panics and the panic-liveness invariant', () => {
  it('a panic inside extend or drainInto poisons the queue; a reader that never observes it breaks panic-liveness', () => {
    const broken = runs({ faults: ['panic'], queueFactory: queueFactory('reader-swallows-poison') }, 60);
    const caught = broken.filter((r) => !r.ok);
    expect(caught.length).toBeGreaterThan(0);
    for (const r of caught) expect(r.violation!.invariant).toBe('panic-liveness');
    expect(caught.some((r) => /poisoned by a panic at step \d+/.test(r.violation!.message))).toBe(true);
  });

  it('with a drop that buzzes while unwinding (the reference), every side observes E_POISONED in time', () => {
    const results = runs({ faults: ['panic'], queueFactory: queueFactory('drop-buzzes-while-unwinding') }, 60);
    expect(failures(results)).toEqual([]);
  });

  it('a panic is a fault of the single workload; the panicking storage panics once', () => {
    expect(() => runSimulation({ seed: 1, workload: 'mesh', faults: ['panic'] })).toThrow(/panic/);
    const panicked = runs({ faults: ['panic'], queueFactory: queueFactory('drop-buzzes-while-unwinding'), recordTrace: 'full' }, 30);
    const unwinding = panicked.flatMap((r) => (r.trace ?? []).filter((s) => s.detail?.includes('unwinding: dropped') === true));
    expect(unwinding.length).toBeGreaterThan(0);
    for (const r of panicked) expect((r.trace ?? []).filter((s) => s.detail?.includes('injected panic') === true).length).toBeLessThanOrEqual(1);
  });
});
