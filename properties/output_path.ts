import { accessSync, constants, mkdirSync, mkdtempSync, realpathSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UsageError } from '../src/errors.js';
import { describeFsError } from './json_file.js';

/**
 * Where a command writes (`--save-failures`, `--report`, `-o`, `--emit-test`), checked before
 * the run and created without `mkdirSync({ recursive: true })`: that call spins forever on a
 * path under `/proc`, so directories are made one level at a time, a bounded loop.
 */

/** Deepest path a command will create; deeper is a typo more often than a plan. */
const PATH_LEVELS_MAX = 64;

/** The missing directories of `dir`, outermost first, and the deepest one that exists. */
function splitExisting(dir: string): { existing: string; missing: string[] } {
  const missing: string[] = [];
  let current = resolve(dir);
  for (let level = 0; level <= PATH_LEVELS_MAX; level += 1) {
    let stat;
    try {
      stat = statSync(current);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // ENOTDIR: a part of the path is a file; walking up finds it and names it.
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw new PathProblem(`${current}: ${describeFsError(error)}`);
      const parent = dirname(current);
      if (parent === current) throw new PathProblem(`${current}: ${describeFsError(error)}`);
      missing.unshift(current);
      current = parent;
      continue;
    }
    if (!stat.isDirectory()) throw new PathProblem(`${current} is a file, not a directory`);
    return { existing: current, missing };
  }
  throw new PathProblem(`more than ${PATH_LEVELS_MAX} directories to create`);
}

class PathProblem extends Error {}

/** `stat` of `path`, or undefined when it or a part of it is missing (the walk up names which). */
function statOrUndefined(path: string): ReturnType<typeof statSync> | undefined {
  try {
    return statSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw error;
  }
}

/** Can a file or directory be made inside `dir`? Tried for real (a probe directory, removed at once). */
function probeWritable(dir: string): void {
  let probe: string;
  try {
    probe = mkdtempSync(join(dir, '.spillsim-probe-'));
  } catch (error) {
    throw new PathProblem(`cannot create anything in ${dir}: ${describeFsError(error)}`);
  }
  rmdirSync(probe);
}

/**
 * Why nothing can be written at `path`, or undefined. `kind` says what goes there: a `file`
 * (an existing directory there is a problem) or a `dir` (an existing file there is).
 */
export function outputPathProblem(path: string, kind: 'file' | 'dir'): string | undefined {
  if (path.length === 0) return 'empty path';
  try {
    const target = resolve(path);
    const existing = statOrUndefined(target);
    if (existing !== undefined) {
      if (kind === 'file' && existing.isDirectory()) return `${path} is a directory; give a file name`;
      if (kind === 'dir' && !existing.isDirectory()) return `${path} is a file, not a directory`;
    }
    const { existing: deepest } = splitExisting(kind === 'dir' ? target : dirname(target));
    probeWritable(deepest);
    if (existing !== undefined && kind === 'file') accessSync(target, constants.W_OK);
    return undefined;
  } catch (error) {
    if (error instanceof PathProblem) return error.message;
    return `${path}: ${describeFsError(error)}`;
  }
}

/** Create `dir` and its missing parents, one level at a time (bounded; see the module comment). */
export function makeDirs(dir: string): void {
  const { missing } = splitExistingOrThrow(dir);
  for (const level of missing) {
    try {
      mkdirSync(level);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST' && statSync(level).isDirectory()) continue;
      throw new UsageError(`cannot create directory ${level}: ${describeFsError(error)}`);
    }
  }
}

function splitExistingOrThrow(dir: string): { existing: string; missing: string[] } {
  try {
    return splitExisting(dir);
  } catch (error) {
    if (error instanceof PathProblem) throw new UsageError(`cannot create directory ${dir}: ${error.message}`);
    throw error;
  }
}

/** Check an output file location before a run: a one-line `UsageError` naming the flag when it cannot be written. */
export function checkOutputFile(flag: string, path: string): void {
  const problem = outputPathProblem(path, 'file');
  if (problem !== undefined) throw new UsageError(`${flag} ${path}: cannot write there: ${problem}`);
}

/**
 * Refuse an output file that is one of the command's own inputs (`merge s1.jsonl -o s1.jsonl`):
 * writing it would replace the input. Two paths are one file when their resolved real paths
 * match or they share device and inode (a hard link). An output that does not exist yet is no
 * input. A one-line `UsageError` naming the flag, before anything is read or written.
 */
export function checkNotAnInput(flag: string, output: string, inputs: readonly string[]): void {
  const out = fileIdentity(output);
  if (out === undefined) return;
  for (const input of inputs) {
    const other = fileIdentity(input);
    if (other !== undefined && (other.real === out.real || (other.dev === out.dev && other.ino === out.ino))) {
      throw new UsageError(`${flag} ${output}: that is the input ${input}; writing it would overwrite the input, so give another file`);
    }
  }
}

/** Resolved real path, device and inode of an existing path; undefined when it cannot be resolved. */
function fileIdentity(path: string): { real: string; dev: number; ino: number } | undefined {
  if (path.length === 0) return undefined;
  try {
    const real = realpathSync(path);
    const stat = statSync(real);
    return { real, dev: stat.dev, ino: stat.ino };
  } catch {
    return undefined;
  }
}

/** Check an output directory location before a run, the same way. */
export function checkOutputDir(flag: string, path: string): void {
  const problem = outputPathProblem(path, 'dir');
  if (problem !== undefined) throw new UsageError(`${flag} ${path}: cannot write there: ${problem}`);
}

/** Write `text` to `path`, creating its directory; a failure is a one-line `UsageError` naming the flag. */
export function writeOutputFile(flag: string, path: string, text: string): void {
  makeDirs(dirname(resolve(path)));
  try {
    writeFileSync(path, text);
  } catch (error) {
    throw new UsageError(`${flag} ${path}: cannot write: ${describeFsError(error)}`);
  }
}
