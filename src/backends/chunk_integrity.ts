import { crc32 } from 'node:zlib';
import { SpillsimError } from '../errors.js';

/** Where a chunk lives in its batch file and what it must read back as. */
export interface ChunkRecord {
  readonly offsetBytes: number;
  readonly lengthBytes: number;
  readonly crc32: number;
}

/** Taken when a chunk is spilled: one half of the pair that `verifyChunk` completes on fetch. */
export function recordChunk(offsetBytes: number, data: Uint8Array): ChunkRecord {
  return { offsetBytes, lengthBytes: data.length, crc32: crc32(data) };
}

/**
 * Check fetched bytes against what was spilled. Storage that hands back other bytes than it
 * was given must fail loudly here; delivered to the queue, the damage would be silent.
 */
export function verifyChunk(path: string, record: ChunkRecord, data: Uint8Array): void {
  const where = `${path} at offset ${record.offsetBytes}`;
  if (data.length !== record.lengthBytes) {
    throw new SpillsimError('E_STORAGE', `spilled chunk in ${where} is truncated: expected ${record.lengthBytes} bytes, read ${data.length}; the file was changed behind the backend's back`);
  }
  const actual = crc32(data);
  if (actual !== record.crc32) {
    throw new SpillsimError(
      'E_STORAGE',
      `spilled chunk in ${where} is corrupted: expected crc32 ${hex32(record.crc32)}, actual ${hex32(actual)} over ${record.lengthBytes} bytes; the file was changed behind the backend's back`,
    );
  }
}

function hex32(value: number): string {
  return `0x${value.toString(16).padStart(8, '0')}`;
}
