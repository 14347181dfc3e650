import { crc32 } from 'node:zlib';
import { SpillsimError } from '../errors.js';

/**
 * Check fetched bytes against what was spilled: the `readBytes` bytes at `data[at..]`, for a
 * chunk spilled at `offsetBytes` of `path` with `lengthBytes` bytes and checksum
 * `expectedCrc32` (taken with `crc32Of` when it was spilled). Storage that hands back other
 * bytes than it was given must fail loudly here (`E_STORAGE`); delivered to the queue, the
 * damage would be silent.
 */
export function verifyChunkAt(path: string, offsetBytes: number, lengthBytes: number, expectedCrc32: number, data: Uint8Array, at: number, readBytes: number): void {
  if (readBytes !== lengthBytes) {
    throw new SpillsimError('E_STORAGE', `spilled chunk in ${path} at offset ${offsetBytes} is truncated: expected ${lengthBytes} bytes, read ${readBytes}; the file was changed behind the backend's back`);
  }
  const actual = crc32Of(data, at, readBytes);
  if (actual !== expectedCrc32) {
    throw new SpillsimError(
      'E_STORAGE',
      `spilled chunk in ${path} at offset ${offsetBytes} is corrupted: expected crc32 ${hex32(expectedCrc32)}, actual ${hex32(actual)} over ${lengthBytes} bytes; the file was changed behind the backend's back`,
    );
  }
}

/** Chunks up to this long are summed in JavaScript: below it, the call into zlib costs more than the sum. */
const CRC_INLINE_BYTES_MAX = 64;

/** The CRC-32 (IEEE, as zlib's) byte table. */
const CRC_TABLE: Int32Array = (() => {
  const table = new Int32Array(256);
  for (let n = 0; n < 256; n += 1) {
    let c = n;
    for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb8_8320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  return table;
})();

/** zlib's `crc32` of `data[at, at + length)`, as an unsigned 32-bit number; short runs without a view or a native call. */
export function crc32Of(data: Uint8Array, at: number, length: number): number {
  if (length > CRC_INLINE_BYTES_MAX) return crc32(at === 0 && length === data.length ? data : data.subarray(at, at + length));
  let c = -1;
  const end = at + length;
  for (let i = at; i < end; i += 1) c = CRC_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

function hex32(value: number): string {
  return `0x${value.toString(16).padStart(8, '0')}`;
}
