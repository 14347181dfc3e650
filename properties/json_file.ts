import { readFileSync, statSync } from 'node:fs';
import { UsageError } from '../src/errors.js';

/**
 * Reading the JSON files spillsim writes (fixtures, run results, shard results) the same way in
 * every command: a byte-order mark is accepted and dropped (editors on Windows add one), a file
 * error names its cause in words (ENOTDIR is "not a directory", not "no such file"), and every
 * failure is a one-line `SpillsimError('E_BAD_INPUT')`, which the command line prints with exit 2.
 */

/** Largest JSON file any command reads; a bigger one is almost surely not what spillsim wrote. */
export const JSON_FILE_BYTES_MAX = 512 * 1024 * 1024;

const BYTE_ORDER_MARK = '\uFEFF';

/** `text` without a leading byte-order mark. */
export function stripByteOrderMark(text: string): string {
  return text.startsWith(BYTE_ORDER_MARK) ? text.slice(BYTE_ORDER_MARK.length) : text;
}

/** A file-system error code in words, for a one-line message. */
export function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  switch (code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'ENOTDIR':
      return 'not a directory (a part of the path is a file)';
    case 'EISDIR':
      return 'it is a directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'read-only file system';
    case 'ENOSPC':
      return 'no space left on the device';
    case 'ENAMETOOLONG':
      return 'the name is too long';
    default:
      return code ?? (error instanceof Error ? error.message : String(error));
  }
}

/**
 * Why `path` cannot be read as an input file, or undefined: it must be a regular file. It is
 * checked with `stat` before any open, because opening a FIFO with no writer blocks forever and
 * reading `/dev/zero` never ends (it fills memory instead).
 */
export function inputFileProblem(path: string): string | undefined {
  if (path.length === 0) return 'empty path';
  let stat;
  try {
    stat = statSync(path);
  } catch (error) {
    return describeFsError(error);
  }
  if (stat.isDirectory()) return 'it is a directory';
  if (!stat.isFile()) return 'not a regular file (a device, pipe or socket)';
  return undefined;
}

/**
 * The text of a regular file of at most `JSON_FILE_BYTES_MAX` bytes, or a one-line
 * `UsageError` naming the file and why it cannot be read (a device or FIFO is refused unread).
 */
export function readTextFile(path: string): string {
  const problem = inputFileProblem(path);
  if (problem !== undefined) throw new UsageError(`cannot read ${path}: ${problem}`);
  if (statSync(path).size > JSON_FILE_BYTES_MAX) throw new UsageError(`${path} is larger than 512 MiB; spillsim never writes a file that large`);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${describeFsError(error)}`);
  }
  return stripByteOrderMark(text);
}

/** Parse JSON text (a byte-order mark is accepted); `name` says where it came from in the one-line error. */
export function parseJsonText(text: string, name: string): unknown {
  try {
    return JSON.parse(stripByteOrderMark(text)) as unknown;
  } catch (error) {
    throw new UsageError(`${name} is not valid JSON: ${(error as Error).message.split('\n')[0]}`);
  }
}

/** Read and parse one JSON file. */
export function readJsonFile(path: string): unknown {
  return parseJsonText(readTextFile(path), path);
}
