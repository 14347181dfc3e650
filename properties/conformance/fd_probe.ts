import { readdirSync, readlinkSync } from 'node:fs';

/** Open descriptors of this process: number -> what it refers to (a path, `pipe:[…]`, `socket:[…]`). */
export type FdSnapshot = Map<number, string>;

const FD_DIR = '/proc/self/fd';
/** How long a descriptor that looks new may take to close on its own before it counts. */
export const FD_SETTLE_MS = 20;

/**
 * The process's open descriptors, read from `/proc/self/fd` (Linux); `undefined` where that
 * cannot be read, so a clause says "not applicable" instead of "held". Descriptors are
 * process-wide: the `fds.*` clauses run in a child process of their own
 * (`ownProcess`), so what this counts is the backend's, not that of lanes running beside them.
 */
export function fdSnapshot(fdDir: string = FD_DIR): FdSnapshot | undefined {
  let names: string[];
  try {
    names = readdirSync(fdDir);
  } catch {
    return undefined;
  }
  const out: FdSnapshot = new Map();
  for (const name of names) {
    try {
      out.set(Number(name), readlinkSync(`${fdDir}/${name}`));
    } catch {
      // Closed between the listing and the look (the listing's own descriptor, for one).
    }
  }
  return out;
}

/** Descriptors in `after` that were not open (to the same target) in `before`. */
export function newFds(before: FdSnapshot, after: FdSnapshot): [number, string][] {
  return [...after].filter(([fd, target]) => before.get(fd) !== target && !target.startsWith(FD_DIR) && !target.startsWith('/proc/'));
}

/**
 * Descriptors opened since `before` and still open after a short pause (so one another thread of
 * this process opened for a moment is not blamed on the backend).
 */
export async function fdsStillOpen(before: FdSnapshot, snapshot: () => FdSnapshot | undefined = fdSnapshot): Promise<[number, string][]> {
  const first = snapshot();
  if (first === undefined) return [];
  const suspects = newFds(before, first);
  if (suspects.length === 0) return [];
  await new Promise((resolve) => setTimeout(resolve, FD_SETTLE_MS));
  const second = snapshot() ?? new Map<number, string>();
  return suspects.filter(([fd, target]) => second.get(fd) === target);
}

/** `3 descriptors still open: 21 -> /tmp/x/b0.spill (deleted), …` */
export function describeFds(fds: readonly [number, string][]): string {
  const shown = fds.slice(0, 3).map(([fd, target]) => `fd ${fd} -> ${target}`).join(', ');
  return `${fds.length} descriptor${fds.length === 1 ? '' : 's'} (${shown}${fds.length > 3 ? ', …' : ''})`;
}
