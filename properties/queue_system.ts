import type { Bytes } from '../src/bytes.js';
import { formatBytes } from '../src/format_bytes.js';
import { Buzzer } from '../src/buzzer.js';
import { MergeQueue, type StallGuard } from '../src/merge_queue.js';
import type { BytesFetch, BytesSpill } from '../src/spill.js';
import type { SpillPolicy } from '../src/spill_policy.js';
import type { CommandData } from './command_data.js';
import { firstMismatch, StreamWriter } from './pattern.js';
import { ScriptedSpill } from './scripted_spill.js';
import type { RuleId, Violation } from './violation.js';

/** The knobs of one run: generated with the commands and stored in fixtures. */
export interface RunOptions {
  queues: number;
  stallGuard: StallGuard;
  thresholdBytes: number;
  headReserveBytes: number;
  budgetBytes: number;
  /** Seed of the random policy (policy transparency). */
  policySeed: number;
}

/** How one system under test is put together: which policies, which storage, which bugs. */
export interface SystemSpec {
  /** Shown in traces when a suite runs several systems side by side. */
  label: string;
  makeWriter: (strategy: BytesSpill, options: RunOptions) => SpillPolicy | undefined;
  makeReader: (options: RunOptions) => SpillPolicy | undefined;
  /** The storage under the scripted faults; in-memory when absent. */
  inner?: BytesSpill;
  /** Broken variant: storage that skips the failing chunk and writes the rest. */
  stopMode?: 'stop' | 'skip';
  /** Broken variant: the reader's drain never buzzes (a queue without a stall guard). */
  muteDrainBuzz?: boolean;
  /**
   * A consumer that keeps its accumulator across rounds until it holds this many bytes (like a
   * batching send loop); 0 processes it every round, as timely does.
   */
  holdBytes?: number;
  /** Force a stall guard instead of the generated one. */
  stallGuard?: StallGuard;
}

/** What one command did to one system, for the numbered trace. */
export interface StepReport {
  events: string[];
  violation?: Omit<Violation, 'step'>;
  /** A spill stopped partway during this step (the memory bound is then not promised). */
  spillStopped: boolean;
}

/**
 * The real system a suite drives: `queues` MergeQueue pairs built like the host builds them
 * (one policy pair per queue, all spilling through one storage), a writer per queue cutting a
 * known byte stream, and one consumer draining every queue into one shared accumulator.
 */
export class QueueSystem {
  readonly label: string;
  readonly options: RunOptions;
  readonly strategy: ScriptedSpill;
  readonly pairs: [writer: MergeQueue, reader: MergeQueue][] = [];
  readonly writers: StreamWriter[] = [];
  readonly deliveredBytes: number[] = [];
  /** FNV-1a hash of every byte delivered, per queue: what policy transparency compares. */
  readonly deliveredHash: number[] = [];
  #buzzes = 0;
  #muted = false;
  readonly #muteDrainBuzz: boolean;
  readonly #holdBytes: number;
  /** What the writers and the consumer did during the current command, for the trace. */
  #events: string[] = [];
  /** The consumer's accumulator; empty after every round unless the consumer holds data. */
  #accumulator: Bytes[] = [];

  readonly #rules: ReadonlySet<RuleId>;

  constructor(spec: SystemSpec, options: RunOptions, rules: ReadonlySet<RuleId>) {
    this.label = spec.label;
    this.#rules = rules;
    this.options = options;
    this.strategy = new ScriptedSpill(spec.inner);
    this.strategy.stopMode = spec.stopMode ?? 'stop';
    this.#muteDrainBuzz = spec.muteDrainBuzz ?? false;
    this.#holdBytes = spec.holdBytes ?? 0;
    // One buzzer: the consumer is one thread, woken by any of its queues.
    const buzzer = new Buzzer(() => {
      if (!this.#muted) this.#buzzes += 1;
    });
    for (let q = 0; q < options.queues; q += 1) {
      const writer = spec.makeWriter(this.strategy, options);
      const reader = spec.makeReader(options);
      this.pairs.push(MergeQueue.newPair(buzzer, writer, reader, { stallGuard: spec.stallGuard ?? options.stallGuard }));
      this.writers.push(new StreamWriter(q));
      this.deliveredBytes.push(0);
      this.deliveredHash.push(FNV_OFFSET);
    }
  }

  /** Apply one command. Throws only what the queue itself throws (the caller reports it). */
  apply(command: CommandData): StepReport {
    const stopPending = this.strategy.spillFaultPending;
    this.strategy.takeInnerStopped();
    let violation: Omit<Violation, 'step'> | undefined;
    switch (command.op) {
      case 'extend': {
        const chunks = this.writers[command.queue]!.next(command.sizes, command.fresh);
        const pushedBytes = command.sizes.reduce((n, size) => n + size, 0);
        this.#events.push(`pushed ${chunks.length} chunk${chunks.length === 1 ? '' : 's'} (${formatBytes(pushedBytes)}) to q${command.queue}`);
        this.pairs[command.queue]![0].extend(chunks);
        this.#events.push(...this.strategy.takeEvents());
        break;
      }
      case 'drain':
        violation = this.drainRound();
        break;
      case 'stop-spill-after':
        this.strategy.stopNextSpillAfter(command.chunks);
        break;
      case 'fail-next-fetch':
        this.strategy.failNextFetches(command.count);
        break;
      case 'fail-fetch-after':
        this.strategy.failFetchAfter(command.okFetches);
        break;
      case 'fail-fetch-forever':
        this.strategy.failFetchForever();
        break;
      case 'heal':
        this.strategy.heal();
        break;
    }
    // Stopped by a scripted fault, or by the backend itself (storage full): both are legal.
    const spillStopped = (stopPending && !this.strategy.spillFaultPending) || this.strategy.takeInnerStopped();
    return { events: this.takeEvents(), violation, spillStopped };
  }

  /** Trace lines since the last call: ours and storage's, in the order they happened. */
  takeEvents(): string[] {
    const events = [...this.#events, ...this.strategy.takeEvents()];
    this.#events = [];
    return events;
  }

  /**
   * One consumer round: drain every queue into one accumulator, check what came out, then
   * park if nothing came out and nobody buzzed. Parking while a queue holds data the writer
   * will not buzz about again is a stall.
   */
  drainRound(finishing = false): Omit<Violation, 'step'> | undefined {
    const out = this.#accumulator;
    const heldBefore = out.length;
    const buzzesBefore = this.#buzzes;
    for (let q = 0; q < this.pairs.length; q += 1) {
      const start = out.length;
      this.#muted = this.#muteDrainBuzz;
      try {
        this.pairs[q]![1].drainInto(out);
      } finally {
        this.#muted = false;
        this.#events.push(...this.strategy.takeEvents());
      }
      const drainedBytes = out.slice(start).reduce((n, chunk) => n + chunk.length, 0);
      if (out.length > start) this.#events.push(`drained ${out.length - start} chunk${out.length - start === 1 ? '' : 's'} (${formatBytes(drainedBytes)}) from q${q}`);
      for (let k = start; k < out.length; k += 1) {
        const chunk = out[k]!;
        const at = this.deliveredBytes[q]!;
        const bad = firstMismatch(chunk.data, q, at);
        if (this.#rules.has('order') && (bad >= 0 || at + chunk.length > this.writers[q]!.writtenBytes)) {
          return {
            rule: 'order',
            message: `q${q} drained ${chunk.length} B at stream offset ${at}, but they are not the bytes written there (first wrong byte at offset ${at + Math.max(bad, 0)}): data was reordered, duplicated or lost`,
          };
        }
        this.deliveredBytes[q] = at + chunk.length;
        this.deliveredHash[q] = fnv1a(this.deliveredHash[q]!, chunk.data);
      }
    }
    const parked = out.length === heldBefore && this.#buzzes === buzzesBefore;
    if (out.length === heldBefore) this.#events.push(parked ? 'drained nothing and no buzz: the consumer parks' : 'drained nothing; buzzed, so the consumer retries');
    const heldBytes = out.reduce((n, chunk) => n + chunk.length, 0);
    if (finishing || heldBytes >= this.#holdBytes) this.#accumulator = [];
    const stuck = this.pairs.findIndex(([, reader]) => reader.deque.length > 0);
    if (this.#rules.has('no-stall') && parked && stuck >= 0) {
      const holding = heldBefore > 0 ? ` (it holds ${heldBefore} chunk(s) it waits to batch)` : '';
      return {
        rule: 'no-stall',
        message: `the consumer drained nothing and was not buzzed, so it parks${holding}, but q${stuck} still holds ${this.pairs[stuck]![1].deque.length} entries the writer will never buzz about again`,
      };
    }
    return undefined;
  }

  /** Total bytes written and not yet delivered, over all queues. */
  get undeliveredBytes(): number {
    let bytes = 0;
    for (let q = 0; q < this.writers.length; q += 1) bytes += this.writers[q]!.writtenBytes - this.deliveredBytes[q]!;
    return bytes;
  }

  /** `q0: 3 entries (2 resident 96 B, 1 paged 32 B), delivered 40/168 B`. */
  describeState(): string {
    return this.pairs
      .map(([, reader], q) => {
        const deque = reader.deque;
        const entries = `${deque.length} entr${deque.length === 1 ? 'y' : 'ies'}`;
        return `q${q}: ${entries} (${deque.residentCount} resident ${formatBytes(deque.residentBytes)}, ${deque.pagedCount} paged), delivered ${formatBytes(this.deliveredBytes[q]!)} of ${formatBytes(this.writers[q]!.writtenBytes)}`;
      })
      .join('; ');
  }

  /**
   * Every written, undelivered byte is in exactly one entry, resident or paged, in stream order;
   * the deque's resident counter is exact; storage holds nothing no entry refers to.
   */
  checkAccounting(): Omit<Violation, 'step'> | undefined {
    const referenced = new Set<BytesFetch>();
    for (let q = 0; q < this.pairs.length; q += 1) {
      const deque = this.pairs[q]![1].deque;
      let offset = this.deliveredBytes[q]!;
      let residentBytes = 0;
      for (let i = 0; i < deque.length; i += 1) {
        const entry = deque.get(i);
        let pieces: Bytes[];
        if (entry.kind === 'bytes') {
          residentBytes += entry.bytes.length;
          pieces = [entry.bytes];
        } else {
          if (referenced.has(entry.handle)) return fail('accounting', `q${q} entry ${i} is paged through a handle another entry already uses: its bytes would be delivered twice`);
          referenced.add(entry.handle);
          const held = this.strategy.live.get(entry.handle);
          if (held === undefined) return fail('accounting', `q${q} entry ${i} is paged through a handle storage does not hold`);
          pieces = held;
        }
        for (const piece of pieces) {
          const bad = firstMismatch(piece.data, q, offset);
          if (bad >= 0 || offset + piece.length > this.writers[q]!.writtenBytes) {
            return fail('accounting', `q${q} entry ${i} (${entry.kind}, ${piece.length} B) should hold the bytes at stream offset ${offset}, but holds other bytes: an entry was lost, duplicated or paired with the wrong handle`);
          }
          offset += piece.length;
        }
      }
      if (residentBytes !== deque.residentBytes) return fail('accounting', `q${q} counts ${deque.residentBytes} resident bytes but its resident entries hold ${residentBytes} B`);
      const writtenBytes = this.writers[q]!.writtenBytes;
      if (offset !== writtenBytes) return fail('accounting', `q${q} accounts for bytes up to offset ${offset}, but ${writtenBytes} B were written: ${writtenBytes - offset} B are lost`);
    }
    const leaked = [...this.strategy.live.keys()].filter((handle) => !referenced.has(handle)).length;
    if (leaked > 0) return fail('accounting', `storage holds ${leaked} handle(s) no queue entry refers to: their chunks were drained by spill but never paired with an entry`);
    return undefined;
  }

  /**
   * After a writer step whose spill was not cut short, resident bytes stay within
   * `max(headReserve + threshold, head-reserve span + the last entry)`: the head reserve is kept,
   * the last entry stays as the merge target, everything between is paged.
   */
  checkMemoryBound(queue: number): Omit<Violation, 'step'> | undefined {
    const deque = this.pairs[queue]![1].deque;
    const { headReserveBytes, thresholdBytes } = this.options;
    if (deque.residentBytes <= headReserveBytes + thresholdBytes) return undefined;
    let spanBytes = 0;
    for (let i = 0; i + 1 < deque.length && spanBytes < headReserveBytes; i += 1) {
      const entry = deque.get(i);
      if (entry.kind === 'bytes') spanBytes += entry.bytes.length;
    }
    const last = deque.back();
    const lastBytes = last?.kind === 'bytes' ? last.bytes.length : 0;
    const boundBytes = Math.max(headReserveBytes + thresholdBytes, spanBytes + lastBytes);
    if (deque.residentBytes <= boundBytes) return undefined;
    return fail('memory-bound', `q${queue} holds ${deque.residentBytes} B resident after a writer step, above the bound ${boundBytes} B (head reserve ${headReserveBytes} B, threshold ${thresholdBytes} B, last entry ${lastBytes} B)`);
  }

  /** Heal storage and drain until everything is delivered, within a bound on rounds. */
  finish(): Omit<Violation, 'step'> | undefined {
    this.strategy.heal();
    const entries = this.pairs.reduce((n, [, reader]) => n + reader.deque.length, 0);
    const roundsMax = entries + 4;
    for (let round = 0; round < roundsMax && this.undeliveredBytes > 0; round += 1) {
      const eventsBefore = this.#events.length;
      const violation = this.drainRound(true);
      for (let i = eventsBefore; i < this.#events.length; i += 1) this.#events[i] = `round ${round + 1}: ${this.#events[i]}`;
      if (violation !== undefined) return violation;
    }
    if (this.undeliveredBytes > 0) {
      return fail('delivery', `after healing storage, ${roundsMax} drain rounds left ${this.undeliveredBytes} B undelivered (${this.describeState()})`);
    }
    return undefined;
  }
}

const FNV_OFFSET = 0x811c9dc5;

function fnv1a(hash: number, data: Uint8Array): number {
  let h = hash;
  for (let i = 0; i < data.length; i += 1) h = Math.imul(h ^ data[i]!, 0x01000193) >>> 0;
  return h;
}

function fail(rule: RuleId, message: string): Omit<Violation, 'step'> {
  return { rule, message };
}
