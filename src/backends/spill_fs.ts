import * as nodeFs from 'node:fs';
import { SpillsimError } from '../errors.js';

/**
 * The synchronous file operations a batch-file backend uses: the subset that both `node:fs`
 * and a memfs `Volume` provide, so one engine serves both. Tests and fault injectors pass a
 * copy with one method replaced (`{ ...nodeFs, readSync: failing }`) to fail at chosen points.
 *
 * Writes go through `writevSync` when the fs has it (one call per batch) and through
 * `writeSync` (one call per chunk) when it does not. `node:fs` and memfs have both, so a copy
 * that fails writes must replace `writevSync`, or leave it out to fail `writeSync` calls.
 */
export interface SpillFs {
  openSync(path: string, flags: string): number;
  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number;
  /** Optional: writes `buffers` back to back from `position`; returns the bytes written (a short count is allowed). */
  writevSync?(fd: number, buffers: Uint8Array[], position: number): number;
  readSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number;
  closeSync(fd: number): void;
  unlinkSync(path: string): void;
  mkdirSync(path: string, options: { recursive: true }): unknown;
}

export const nodeSpillFs: SpillFs = nodeFs;

const SPILL_FS_METHODS = ['openSync', 'writeSync', 'readSync', 'closeSync', 'unlinkSync', 'mkdirSync'] as const;

/** A missing method would otherwise surface as a TypeError deep inside a spill. */
export function checkSpillFs(fs: unknown, owner: string): SpillFs {
  const missing = SPILL_FS_METHODS.filter((name) => typeof (fs as Record<string, unknown> | null | undefined)?.[name] !== 'function');
  if (missing.length > 0) {
    throw new SpillsimError('E_BAD_ARGUMENT', `${owner} option fs lacks ${missing.join(', ')}; pass node:fs, a memfs Volume, or a copy of one with methods replaced`);
  }
  return fs as SpillFs;
}

/** Close `fd`; returns the error instead of throwing it, for callers that decide what a failed close means. */
export function closeQuietly(fs: SpillFs, fd: number): unknown {
  try {
    fs.closeSync(fd);
    return undefined;
  } catch (error) {
    return error;
  }
}

/** Whether `error` is a node or memfs fs error with this `code`; anything thrown may be asked, `null` too. */
export function isFsError(error: unknown, code: string): boolean {
  return (error as { code?: unknown } | null | undefined)?.code === code;
}
