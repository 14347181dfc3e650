import { checkOptions } from '../arguments.js';
import { BatchFileSpill, type ReadMode, type WriteMode } from './batch_file_spill.js';
import { nodeSpillFs, type SpillFs } from './spill_fs.js';

export interface FileSpillOptions {
  /** Where batch files go (created if missing); give each backend a directory of its own. */
  dir: string;
  /** Default `'chunk'` (one chunk read at its offset per fetch); `'batch'` is the reference. */
  readMode?: ReadMode;
  /** Default `'partial'` (keep the chunks written before a failure); `'all-or-nothing'` is the reference. */
  writeMode?: WriteMode;
  /** Default 64: batch files kept open for chunk reads between fetches (least recently used closed first); 0 reopens at every fetch. */
  openReadFilesMax?: number;
  /** Default `node:fs`; pass a copy with methods replaced to inject failures (writes use `writevSync` when it has one). */
  fs?: SpillFs;
}

/**
 * Spill storage on the real file system: one file per `spill` call in `dir`, removed once
 * every chunk of it has been fetched. See `BatchFileSpill` for the failure rules.
 */
export class FileSpill extends BatchFileSpill {
  /** Throws `E_BAD_ARGUMENT` on a missing `dir`, an unknown option name or an `fs` without the methods; `E_BAD_KNOB` on a bad mode or count. */
  constructor(options: FileSpillOptions) {
    const checked = checkOptions('FileSpill', options, ['dir', 'readMode', 'writeMode', 'openReadFilesMax', 'fs'], "{ dir: '/path/for/spill/files' }");
    super('FileSpill', { ...checked, fs: checked.fs ?? nodeSpillFs });
  }
}
