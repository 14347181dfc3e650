/**
 * The commands of the model-based suites, as plain data. Fixtures store these values (not only
 * a seed), so a saved counterexample stays replayable when the generators change; `parseCommand`
 * says exactly why an old one no longer applies.
 */
export type CommandData =
  | { op: 'extend'; queue: number; sizes: number[]; fresh: boolean }
  | { op: 'drain' }
  | { op: 'stop-spill-after'; chunks: number }
  | { op: 'fail-next-fetch'; count: number }
  | { op: 'fail-fetch-after'; okFetches: number }
  | { op: 'fail-fetch-forever' }
  | { op: 'heal' };

export type CommandOp = CommandData['op'];

/** Bounds on generated values; a fixture beyond them is still accepted if it parses. */
export const CHUNK_BYTES_MAX = 96;
export const CHUNKS_PER_EXTEND_MAX = 4;
export const FETCH_FAILURES_MAX = 4;
export const QUEUES_MAX = 3;

/**
 * Bounds on what a stored command may ask for. They sit far above what the generators draw (so
 * a hand-edited fixture still replays) and far below what would exhaust memory or the stack: a
 * value beyond them makes the fixture "no longer valid" with the bound in the reason.
 */
export const FIXTURE_CHUNK_BYTES_MAX = 1024 * 1024;
export const FIXTURE_CHUNKS_PER_EXTEND_MAX = 1024;
export const FIXTURE_COUNT_MAX = 1_000_000;

/** Field names per op: part of the command-set hash, so a changed shape is detected. */
export const COMMAND_SHAPES: Record<CommandOp, readonly string[]> = {
  extend: ['queue', 'sizes', 'fresh'],
  drain: [],
  'stop-spill-after': ['chunks'],
  'fail-next-fetch': ['count'],
  'fail-fetch-after': ['okFetches'],
  'fail-fetch-forever': [],
  heal: [],
};

/** How a command reads in a shrunk counterexample, e.g. `ExtendCommand(q0, [32, 8], same slab)`. */
export function describeCommand(command: CommandData): string {
  switch (command.op) {
    case 'extend':
      return `ExtendCommand(q${command.queue}, [${command.sizes.join(', ')}] B, ${command.fresh ? 'fresh slab' : 'same slab'})`;
    case 'drain':
      return 'DrainCommand()';
    case 'stop-spill-after':
      return `StopSpillAfterCommand(${command.chunks})`;
    case 'fail-next-fetch':
      return `FailNextFetchCommand(${command.count})`;
    case 'fail-fetch-after':
      return `FailFetchAfterCommand(${command.okFetches} ok)`;
    case 'fail-fetch-forever':
      return 'FailFetchForeverCommand()';
    case 'heal':
      return 'HealStorageCommand()';
  }
}

/** Parse one stored command; returns the reason when it does not apply any more. */
export function parseCommand(value: unknown, queues: number): { ok: true; command: CommandData } | { ok: false; reason: string } {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { ok: false, reason: 'not an object' };
  const v = value as Record<string, unknown>;
  const op = v.op;
  if (typeof op !== 'string' || !(op in COMMAND_SHAPES)) return { ok: false, reason: `unknown op ${JSON.stringify(op)}` };
  const expected = COMMAND_SHAPES[op as CommandOp];
  const extra = Object.keys(v).filter((k) => k !== 'op' && !expected.includes(k));
  if (extra.length > 0) return { ok: false, reason: `${op} has unknown field ${extra.join(', ')}` };
  const isWhole = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
  const isCount = (x: unknown): x is number => isWhole(x) && x <= FIXTURE_COUNT_MAX;
  switch (op as CommandOp) {
    case 'extend': {
      if (!isCount(v.queue) || v.queue >= queues) return { ok: false, reason: `extend names queue ${String(v.queue)}, but the run has ${queues} queue(s)` };
      if (!Array.isArray(v.sizes) || !v.sizes.every(isWhole)) return { ok: false, reason: 'extend sizes must be a list of byte counts' };
      if (v.sizes.length > FIXTURE_CHUNKS_PER_EXTEND_MAX) return { ok: false, reason: `extend has ${v.sizes.length} chunks, more than the ${FIXTURE_CHUNKS_PER_EXTEND_MAX} a stored extend may hold` };
      const tooLarge = (v.sizes as number[]).find((size) => size > FIXTURE_CHUNK_BYTES_MAX);
      if (tooLarge !== undefined) return { ok: false, reason: `extend size ${tooLarge} B is more than the ${FIXTURE_CHUNK_BYTES_MAX} B a stored chunk may hold` };
      if (typeof v.fresh !== 'boolean') return { ok: false, reason: 'extend fresh must be true or false' };
      return { ok: true, command: { op: 'extend', queue: v.queue, sizes: v.sizes as number[], fresh: v.fresh } };
    }
    case 'stop-spill-after':
      if (!isCount(v.chunks)) return { ok: false, reason: `stop-spill-after chunks must be a whole number up to ${FIXTURE_COUNT_MAX}, got ${JSON.stringify(v.chunks)}` };
      return { ok: true, command: { op: 'stop-spill-after', chunks: v.chunks } };
    case 'fail-next-fetch':
      if (!isCount(v.count)) return { ok: false, reason: `fail-next-fetch count must be a whole number up to ${FIXTURE_COUNT_MAX}, got ${JSON.stringify(v.count)}` };
      return { ok: true, command: { op: 'fail-next-fetch', count: v.count } };
    case 'fail-fetch-after':
      if (!isCount(v.okFetches)) return { ok: false, reason: `fail-fetch-after okFetches must be a whole number up to ${FIXTURE_COUNT_MAX}, got ${JSON.stringify(v.okFetches)}` };
      return { ok: true, command: { op: 'fail-fetch-after', okFetches: v.okFetches } };
    case 'drain':
    case 'fail-fetch-forever':
    case 'heal':
      return { ok: true, command: { op } as CommandData };
  }
}
