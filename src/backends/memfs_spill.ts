import { Volume } from 'memfs';
import { badArgument, checkOptions, describeValue } from '../arguments.js';
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

  /** Throws `E_BAD_ARGUMENT` on an unknown option name or a `volume`/`fs` without the file methods; `E_BAD_KNOB` on a bad mode or count. */
  constructor(options?: MemfsSpillOptions) {
    const { volume: given, ...rest } = checkOptions('MemfsSpill', options, ['volume', 'dir', 'readMode', 'writeMode', 'openReadFilesMax', 'fs'], "{ dir: '/spill' }");
    if (given !== undefined && (given === null || typeof given !== 'object' || typeof (given as { openSync?: unknown }).openSync !== 'function')) {
      throw badArgument(`MemfsSpill option volume must be a memfs Volume, got ${describeValue(given)}`);
    }
    const volume = given ?? new Volume();
    super('MemfsSpill', { ...rest, dir: rest.dir ?? '/spill', fs: rest.fs ?? volume });
    this.volume = volume;
  }
}
