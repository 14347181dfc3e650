import { Volume } from 'memfs';
import { BatchFileSpill, type ReadMode, type WriteMode } from './batch_file_spill.js';
import type { SpillFs } from './spill_fs.js';

export interface MemfsSpillOptions {
  /** The in-memory file system to use. Default: a fresh `Volume` of its own. */
  volume?: Volume;
  /** Where batch files go inside the volume. Default `'/spill'`. */
  dir?: string;
  /** Default `'chunk'`; `'batch'` is the reference. */
  readMode?: ReadMode;
  /** Default `'partial'`; `'all-or-nothing'` is the reference. */
  writeMode?: WriteMode;
  /** Default 64: batch files kept open for chunk reads between fetches (least recently used closed first); 0 reopens at every fetch. */
  openReadFilesMax?: number;
  /** Default: `volume` itself; pass `{ ...volume, readSync: failing }` to inject failures. */
  fs?: SpillFs;
}

/**
 * `FileSpill`'s exact logic over a memfs `Volume`: real file semantics with no disk, so
 * simulations and tests stay fast, hermetic and deterministic.
 */
export class MemfsSpill extends BatchFileSpill {
  /** The volume holding the batch files, for inspection (and corruption) by tests. */
  readonly volume: Volume;

  constructor(options: MemfsSpillOptions = {}) {
    const volume = options?.volume ?? new Volume();
    super('MemfsSpill', { ...options, dir: options?.dir ?? '/spill', fs: options?.fs ?? volume });
    this.volume = volume;
  }
}
