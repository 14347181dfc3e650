import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  Allocator,
  Buzzer,
  Bytes,
  bytesEntry,
  type BytesFetch,
  type BytesSpill,
  type ClusterOptions,
  type Communication,
  Config,
  type EntryDeque,
  FrameAssembler,
  HEADER_BYTES,
  Hooks,
  MemorySpill,
  MergeQueue,
  type Message,
  NetworkLink,
  RecvLoop,
  PrefetchPolicy,
  SendLoop,
  type SpillPolicy,
  type SpillPolicyFn,
  SpillsimError,
  type LinkLatency,
  type LinkWrite,
  type SplitWriteFn,
  Threshold,
  encodeFrame,
  runUntilQuiet,
  tryReadHeader,
} from '../src/index.js';
import { TypedChannel } from '../src/allocator/typed_channel.js';
import { propertySeeds } from './support/seeds.js';

// ---------------------------------------------------------------------------------------------
// Helpers: payloads that name their own place, a counting spill factory, a traffic driver.

/** Byte k of message `sequence` from `source` to `target` on `channel`: any mix-up shows. */
function payloadOf(source: number, target: number, channel: number, sequence: number, payloadBytes: number): Uint8Array {
  const payload = new Uint8Array(payloadBytes);
  for (let k = 0; k < payloadBytes; k += 1) payload[k] = (source * 31 + target * 17 + channel * 7 + sequence * 13 + k) & 0xff;
  return payload;
}

interface Send {
  source: number;
  target: number;
  channel: number;
  payloadBytes: number;
}

/** A policy that remembers every deque it was applied to, around an optional inner policy. */
class RecordingPolicy implements SpillPolicy {
  readonly deques = new Set<EntryDeque>();
  constructor(readonly inner?: SpillPolicy) {}
  apply(deque: EntryDeque): void {
    this.deques.add(deque);
    this.inner?.apply(deque);
  }
}

/** A BytesSpill that counts what it spills, over MemorySpill. */
class CountingSpill implements BytesSpill {
  readonly memory = new MemorySpill();
  spilledChunks = 0;
  spill(chunks: Bytes[], handles: BytesFetch[]): void {
    const before = chunks.length;
    this.memory.spill(chunks, handles);
    this.spilledChunks += before - chunks.length;
  }
}

interface SpillFactory {
  spill: SpillPolicyFn;
  pairs: [RecordingPolicy, RecordingPolicy][];
  storage: CountingSpill;
}

/** Threshold 0 / reserve 0 (spill everything but the tail) and a prefetch budget; every pair recorded. */
function aggressiveSpill(prefetchBudgetBytes = 1 << 30): SpillFactory {
  const storage = new CountingSpill();
  const pairs: [RecordingPolicy, RecordingPolicy][] = [];
  const spill: SpillPolicyFn = () => {
    const pair: [RecordingPolicy, RecordingPolicy] = [
      new RecordingPolicy(new Threshold(storage, { thresholdBytes: 0, headReserveBytes: 0 })),
      new RecordingPolicy(new PrefetchPolicy(prefetchBudgetBytes)),
    ];
    pairs.push(pair);
    return pair;
  };
  return { spill, pairs, storage };
}

/**
 * Send everything, each sender flushing after every send (so its queue grows by one entry per
 * send and the writer policy has something to spill), and let every worker and network loop
 * run to quiet after each `flushEvery` sends; then finish all and run to quiet.
 */
function runTraffic(communication: Communication, sends: readonly Send[], flushEvery = 3): Map<number, Message[]> {
  const received = new Map<number, Message[]>();
  const onReceive = (allocator: Allocator, messages: Message[]): void => {
    const list = received.get(allocator.index) ?? [];
    for (const message of messages) list.push({ ...message, payload: message.payload.slice() });
    received.set(allocator.index, list);
  };
  const sequences = new Map<string, number>();
  sends.forEach((send, i) => {
    const key = `${send.source}/${send.target}/${send.channel}`;
    const sequence = sequences.get(key) ?? 0;
    sequences.set(key, sequence + 1);
    const allocator = communication.allocators[send.source]!;
    allocator.send(send.target, payloadOf(send.source, send.target, send.channel, sequence, send.payloadBytes), { channel: send.channel });
    allocator.flush();
    if (i % flushEvery === flushEvery - 1) runUntilQuiet(communication, { onReceive });
  });
  for (const allocator of communication.allocators) allocator.finish();
  runUntilQuiet(communication, { onReceive });
  return received;
}

/** Every send arrived once, byte-exact, in order per (source, target, channel). */
function expectDelivered(sends: readonly Send[], received: Map<number, Message[]>): void {
  const expected = new Map<string, Send[]>();
  for (const send of sends) {
    const key = `${send.source}/${send.target}/${send.channel}`;
    expected.set(key, [...(expected.get(key) ?? []), send]);
  }
  const got = new Map<string, Message[]>();
  for (const messages of received.values()) {
    for (const message of messages) {
      const key = `${message.source}/${message.target}/${message.channel}`;
      got.set(key, [...(got.get(key) ?? []), message]);
    }
  }
  expect([...got.keys()].sort()).toEqual([...expected.keys()].sort());
  for (const [key, list] of expected) {
    const messages = got.get(key)!;
    expect(messages.map((m) => m.sequence)).toEqual(list.map((_, i) => i));
    list.forEach((send, i) => {
      const want = payloadOf(send.source, send.target, send.channel, i, send.payloadBytes);
      expect({ key, sequence: i, payloadBytes: messages[i]!.payload.byteLength, firstDifference: firstDifference(messages[i]!.payload, want) }).toEqual({
        key,
        sequence: i,
        payloadBytes: send.payloadBytes,
        firstDifference: -1,
      });
    });
  }
}

/** Index of the first differing byte, or -1 (a byte-by-byte toEqual on big arrays is slow). */
function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.byteLength, b.byteLength);
  for (let i = 0; i < n; i += 1) if (a[i] !== b[i]) return i;
  return a.byteLength === b.byteLength ? -1 : n;
}

function expectBadArgument(build: () => unknown, message: RegExp): void {
  let thrown: unknown;
  try {
    build();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(SpillsimError);
  expect((thrown as SpillsimError).code).toBe('E_BAD_ARGUMENT');
  expect((thrown as SpillsimError).message).toMatch(message);
}

/** Every ordered pair of workers, with a few sizes, on two channels. */
function allToAll(peers: number, sizes: readonly number[]): Send[] {
  const sends: Send[] = [];
  for (const payloadBytes of sizes) {
    for (let source = 0; source < peers; source += 1) {
      for (let target = 0; target < peers; target += 1) sends.push({ source, target, channel: payloadBytes % 2, payloadBytes });
    }
  }
  return sends;
}

const SIZES = [0, 1, 19, 20, 21, 100, 4096, 70_000];
const cluster = (options: Partial<ClusterOptions> = {}): ClusterOptions => ({ threads: 2, process: 0, addresses: ['a:1', 'b:2'], ...options });

// ---------------------------------------------------------------------------------------------

describe('Config: building each kind', () => {
  it('Thread builds one worker that can message itself', () => {
    const communication = Config.thread().tryBuild();
    expect(communication.kind).toBe('thread');
    expect(communication.allocators.map((a) => [a.index, a.peers])).toEqual([[0, 1]]);
    const sends = [{ source: 0, target: 0, channel: 0, payloadBytes: 5 }];
    expectDelivered(sends, runTraffic(communication, sends));
  });

  it('Process, ProcessBinary and Cluster build one allocator per worker with the right indices', () => {
    expect(Config.process(3).tryBuild().allocators.map((a) => a.index)).toEqual([0, 1, 2]);
    const binary = Config.processBinary(3).tryBuild();
    expect(binary.allocators.map((a) => a.peers)).toEqual([3, 3, 3]);
    expect(binary.queues).toHaveLength(9);
    const built = Config.cluster(cluster({ addresses: ['a', 'b', 'c'], process: 1 })).tryBuild();
    expect(built.allocators).toHaveLength(6);
    expect(built.local.map((a) => a.index)).toEqual([2, 3]);
    expect(built.network?.processes).toBe(3);
  });

  it('rejects bad configurations with E_BAD_ARGUMENT and a message naming the problem', () => {
    expectBadArgument(() => Config.process(0), /Process workers must be a whole number in 1\.\.\d+, got 0/);
    expectBadArgument(() => Config.processBinary(0), /ProcessBinary workers .* got 0/);
    expectBadArgument(() => Config.processBinary(2.5), /got 2\.5/);
    expectBadArgument(() => Config.process(-1), /got -1/);
    expectBadArgument(() => Config.process('2' as unknown as number), /got 2/);
    expectBadArgument(() => Config.processBinary(100_000), /whole number in 1\.\.1024/);
    expectBadArgument(() => Config.cluster(cluster({ threads: 0 })), /Cluster threads .* got 0/);
    expectBadArgument(() => Config.cluster(cluster({ threads: 1.5 })), /Cluster threads .* got 1\.5/);
    expectBadArgument(() => Config.cluster(cluster({ process: 2 })), /Cluster process must be a whole number in 0\.\.1, got 2/);
    expectBadArgument(() => Config.cluster(cluster({ process: -1 })), /Cluster process .* got -1/);
    expectBadArgument(() => Config.cluster(cluster({ processes: 3 })), /3 processes but 2 addresses/);
    expectBadArgument(() => Config.cluster(cluster({ addresses: [] })), /addresses must be a non-empty array/);
    expectBadArgument(() => Config.cluster(cluster({ addresses: ['a', 'a'] })), /addresses must be distinct/);
    expectBadArgument(() => Config.cluster(cluster({ zerocopy: 'yes' as unknown as boolean })), /zerocopy must be true or false/);
    expectBadArgument(() => Config.cluster(undefined as unknown as ClusterOptions), /Cluster needs/);
    expectBadArgument(() => Config.processBinary(2, { slabBytes: 0 }), /slabBytes must be a positive/);
    expectBadArgument(() => Config.processBinary(2, { stallGuard: 'never' as 'produced' }), /stallGuard must be/);
    expectBadArgument(() => Config.processBinary(2).tryBuildWith(null as unknown as Hooks), /tryBuildWith needs hooks/);
    expectBadArgument(() => Config.processBinary(2).tryBuildWith({ refill: 'big' as unknown as () => never }), /hooks\.refill must be a function/);
    expectBadArgument(() => new Hooks({ spill: 3 as unknown as SpillPolicyFn }), /hooks\.spill must be a function/);
    const badFactory = (() => [{}, {}]) as unknown as SpillPolicyFn;
    expectBadArgument(() => Config.processBinary(2).tryBuildWith(new Hooks({ spill: badFactory })), /must return \[writerPolicy, readerPolicy\]/);
  });

  it('rejects bad sends: unknown target, bad channel, after finish', () => {
    const [worker] = Config.processBinary(2).tryBuild().allocators;
    expectBadArgument(() => worker!.send(2, new Uint8Array(1)), /target must be a worker index in 0\.\.1, got 2/);
    expectBadArgument(() => worker!.send(0, new Uint8Array(1), { channel: -1 }), /channel must be a whole number/);
    worker!.finish();
    expect(() => worker!.send(1, new Uint8Array(1))).toThrow(expect.objectContaining({ code: 'E_DROPPED' }));
  });
});

describe('Hooks', () => {
  it('tryBuildWith takes plain hook options too: the factory is called once per queue', () => {
    const factory = aggressiveSpill();
    expect(Config.processBinary(2).tryBuildWith({ spill: factory.spill }).queues).toHaveLength(4);
    expect(factory.pairs).toHaveLength(4);
  });

  it('default has no spill, so a growing queue stays resident; with a spill hook the same queue pages out', () => {
    expect(Hooks.default().spill).toBeUndefined();
    const pagedAfterTenSends = (communication: Communication): number => {
      const [sender, receiver] = communication.allocators;
      for (let i = 0; i < 10; i += 1) (sender!.send(1, new Uint8Array(100_000)), sender!.flush());
      const queue = receiver!.receiveQueues[0]!;
      expect(queue.deque.length).toBe(10);
      return queue.deque.pagedCount;
    };
    expect(pagedAfterTenSends(Config.processBinary(2).tryBuild())).toBe(0);
    expect(pagedAfterTenSends(Config.processBinary(2).tryBuildWith(Hooks.default()))).toBe(0);
    expect(pagedAfterTenSends(Config.processBinary(2).tryBuildWith(new Hooks({ spill: aggressiveSpill().spill })))).toBe(9);
  });

  it('logFn sees every queue built, every message sent and received, and Cluster links when report is on', () => {
    const events: string[] = [];
    const hooks = new Hooks({ logFn: (event) => events.push(event.kind === 'message' ? `message:${event.isSend ? 'send' : 'recv'}` : event.kind) });
    const communication = Config.cluster(cluster({ threads: 1, report: true })).tryBuildWith(hooks);
    const sends = [{ source: 0, target: 1, channel: 0, payloadBytes: 3 }];
    expectDelivered(sends, runTraffic(communication, sends));
    expect(events.filter((e) => e === 'queue')).toHaveLength(communication.queues.length);
    expect(events.filter((e) => e === 'connected')).toHaveLength(1);
    expect(events.filter((e) => e.startsWith('message'))).toEqual(['message:send', 'message:recv']);
  });

  it('refill supplies the slabs senders batch frames in', () => {
    const asked: number[] = [];
    const hooks = new Hooks({ refill: (byteLength) => (asked.push(byteLength), new Hooks().refill(byteLength)) });
    const communication = Config.processBinary(2, { slabBytes: 256 }).tryBuildWith(hooks);
    const sends = [
      { source: 0, target: 1, channel: 0, payloadBytes: 10 },
      { source: 0, target: 1, channel: 0, payloadBytes: 1000 },
    ];
    expectDelivered(sends, runTraffic(communication, sends, 1));
    expect(asked).toEqual([256, 1000 + HEADER_BYTES]);
  });
});

describe('Config: the spill factory is called once per MergeQueue, each pair fresh', () => {
  const cases: [string, () => Config, number][] = [
    ['ProcessBinary(3): n×n', () => Config.processBinary(3, { slabBytes: 64 }), 9],
    ['Cluster 3×2, zerocopy: intra meshes + send and receive queues', () => Config.cluster(cluster({ addresses: ['a', 'b', 'c'], zerocopy: true }), { slabBytes: 64 }), 3 * 2 * 2 + 2 * 3 * 2 * 2],
    ['Cluster 2×2, typed intra-process: send and receive queues only', () => Config.cluster(cluster(), { slabBytes: 64 }), 2 * 2 * 1 * 2],
  ];
  for (const [name, config, queueCount] of cases) {
    it(name, () => {
      const factory = aggressiveSpill();
      const communication = config().tryBuildWith(new Hooks({ spill: factory.spill }));
      expect(factory.pairs).toHaveLength(queueCount);
      expect(communication.queues).toHaveLength(queueCount);
      // Distinct objects: no pair and no policy is shared between queues.
      expect(new Set(factory.pairs.flat()).size).toBe(2 * queueCount);
      const peers = communication.allocators.length;
      const sends = allToAll(peers, [1, 300, 2, 301]);
      expectDelivered(sends, runTraffic(communication, sends, peers * peers * 2));
      // Each pair worked on exactly one deque, both halves on the same one, and no deque had two pairs.
      const deques = factory.pairs.map(([writer, reader]) => {
        expect(writer.deques.size).toBe(1);
        expect([...reader.deques]).toEqual([...writer.deques]);
        return [...writer.deques][0];
      });
      expect(new Set(deques).size).toBe(queueCount);
      expect(factory.storage.spilledChunks).toBeGreaterThan(0);
    });
  }

  it('Process(n) ignores spill: no queue is built and the factory is never called', () => {
    const factory = aggressiveSpill();
    const communication = Config.process(3).tryBuildWith(new Hooks({ spill: factory.spill }));
    expect(communication.queues).toHaveLength(0);
    const sends = allToAll(3, SIZES);
    expectDelivered(sends, runTraffic(communication, sends));
    expect(factory.pairs).toHaveLength(0);
  });

  it('Cluster without zerocopy keeps intra-process traffic off byte queues, and spills only network queues', () => {
    const factory = aggressiveSpill();
    const communication = Config.cluster(cluster()).tryBuildWith(new Hooks({ spill: factory.spill }));
    expect(new Set(communication.queues.map((q) => q.kind))).toEqual(new Set(['cluster-send', 'cluster-recv']));
    const sends = allToAll(4, [10]);
    expectDelivered(sends, runTraffic(communication, sends));
  });
});

describe('Framed messages round-trip in order per channel', () => {
  const configs: [string, () => Config][] = [
    ['ProcessBinary(3)', () => Config.processBinary(3, { slabBytes: 512 })],
    ['Cluster 2×2 zerocopy', () => Config.cluster(cluster({ zerocopy: true }), { slabBytes: 512 })],
    ['Cluster 3×1 typed intra, reference stall guard', () => Config.cluster(cluster({ threads: 1, addresses: ['a', 'b', 'c'] }), { stallGuard: 'accumulator', slabBytes: 64 })],
  ];

  for (const [name, config] of configs) {
    it(`${name}: many sizes, aggressive spill (threshold 0 bytes)`, () => {
      const factory = aggressiveSpill();
      const communication = config().tryBuildWith(new Hooks({ spill: factory.spill }));
      const sends = allToAll(communication.allocators.length, SIZES);
      expectDelivered(sends, runTraffic(communication, sends, 3 * communication.allocators.length ** 2));
      expect(factory.storage.spilledChunks).toBeGreaterThan(0);
    });

    it(`${name}: a prefetch budget of 1 byte pages one entry back per drain and still delivers everything`, () => {
      const factory = aggressiveSpill(1);
      const communication = config().tryBuildWith(new Hooks({ spill: factory.spill }));
      const sends = allToAll(communication.allocators.length, [7, 33]);
      expectDelivered(sends, runTraffic(communication, sends, 2));
    });
  }

  it('property: any sends, any flush points, aggressive spill, random network splits', () => {
    const sendArb = (peers: number) =>
      fc.record({
        source: fc.nat(peers - 1),
        target: fc.nat(peers - 1),
        channel: fc.nat(2),
        payloadBytes: fc.oneof(fc.nat(40), fc.nat(3000)),
      });
    const scenario = fc.record({
      zerocopy: fc.boolean(),
      sends: fc.array(sendArb(4), { maxLength: 40 }),
      flushEvery: fc.integer({ min: 1, max: 6 }),
      cutSeed: fc.nat(),
    });
    for (const seed of propertySeeds()) {
      fc.assert(
        fc.property(scenario, ({ zerocopy, sends, flushEvery, cutSeed }) => {
          // A pure function of the write: cuts every `stride` bytes, stride from the seed and the write index.
          const splitWrite: SplitWriteFn = (write) => {
            const stride = 1 + ((cutSeed + write.writeIndex * 7) % 50);
            const cuts: number[] = [];
            for (let cut = stride; cut < write.byteLength; cut += stride) cuts.push(cut);
            return cuts;
          };
          const factory = aggressiveSpill();
          const communication = Config.cluster(cluster({ zerocopy }), { splitWrite, slabBytes: 128 }).tryBuildWith(new Hooks({ spill: factory.spill }));
          expectDelivered(sends, runTraffic(communication, sends, flushEvery));
          expect(communication.allocators.every((a) => a.isComplete())).toBe(true);
        }),
        { seed, numRuns: 40 },
      );
    }
  });
});

describe('Any interleaving of worker and network steps', () => {
  type Action =
    | { kind: 'send'; worker: number; target: number; channel: number; payloadBytes: number }
    | { kind: 'flush' | 'receive' | 'finish'; worker: number }
    | { kind: 'sendStep' | 'recvStep'; process: number };
  const describeAction = (a: Action): string => ('process' in a ? `${a.kind}(${a.process})` : `${a.kind}(${a.worker})`);

  it('property: a seeded script of sends, flushes, receives, finishes and network steps, then a drain, delivers everything', () => {
    const processes = 3;
    const threads = 2;
    const peers = processes * threads;
    const action: fc.Arbitrary<Action> = fc.oneof(
      fc.record({ kind: fc.constant('send' as const), worker: fc.nat(peers - 1), target: fc.nat(peers - 1), channel: fc.nat(1), payloadBytes: fc.nat(300) }),
      fc.record({ kind: fc.constantFrom('flush' as const, 'receive' as const), worker: fc.nat(peers - 1) }),
      fc.record({ kind: fc.constant('finish' as const), worker: fc.nat(peers - 1) }),
      fc.record({ kind: fc.constantFrom('sendStep' as const, 'recvStep' as const), process: fc.nat(processes - 1) }),
    ).map((a) => Object.assign(a, { toString: () => describeAction(a) }));
    for (const seed of propertySeeds()) {
      fc.assert(
        fc.property(fc.array(action, { maxLength: 80 }), fc.boolean(), fc.constantFrom('produced' as const, 'accumulator' as const), (script, zerocopy, stallGuard) => {
          const communication = Config.cluster({ threads, process: 0, addresses: ['a', 'b', 'c'], zerocopy }, { stallGuard, slabBytes: 128 }).tryBuildWith(
            new Hooks({ spill: aggressiveSpill(100).spill }),
          );
          const network = communication.network!;
          const sent: Send[] = [];
          const received = new Map<number, Message[]>();
          const keep = (allocator: Allocator, messages: Message[]): void => {
            received.set(allocator.index, [...(received.get(allocator.index) ?? []), ...messages.map((m) => ({ ...m, payload: m.payload.slice() }))]);
          };
          const sequences = new Map<string, number>();
          for (const step of script) {
            if ('process' in step) {
              if (step.kind === 'sendStep') network.sendStep(step.process);
              else network.recvStep(step.process);
            } else {
              const allocator = communication.allocators[step.worker]!;
              if (step.kind === 'send') {
                if (allocator.isFinished) continue;
                const key = `${step.worker}/${step.target}/${step.channel}`;
                const sequence = sequences.get(key) ?? 0;
                sequences.set(key, sequence + 1);
                allocator.send(step.target, payloadOf(step.worker, step.target, step.channel, sequence, step.payloadBytes), { channel: step.channel });
                sent.push({ source: step.worker, target: step.target, channel: step.channel, payloadBytes: step.payloadBytes });
              } else if (step.kind === 'flush') allocator.flush();
              else if (step.kind === 'receive') keep(allocator, allocator.receive());
              else allocator.finish();
            }
          }
          for (const allocator of communication.allocators) allocator.finish();
          runUntilQuiet(communication, { onReceive: keep });
          expectDelivered(sent, received);
          expect(network.isDone).toBe(true);
          expect(communication.allocators.every((a) => a.isComplete())).toBe(true);
        }),
        { seed, numRuns: 60 },
      );
    }
  });
});

describe('The network splits writes at arbitrary boundaries', () => {
  const sends: Send[] = [
    { source: 0, target: 1, channel: 0, payloadBytes: 0 },
    { source: 0, target: 1, channel: 1, payloadBytes: 3 },
    { source: 1, target: 0, channel: 0, payloadBytes: 25 },
    { source: 0, target: 1, channel: 0, payloadBytes: 1 },
  ];

  it('every write cut at every byte position (1-byte pieces)', () => {
    const splitWrite: SplitWriteFn = (write) => Array.from({ length: write.byteLength - 1 }, (_, i) => i + 1);
    const factory = aggressiveSpill();
    const communication = Config.cluster(cluster({ threads: 1 }), { splitWrite }).tryBuildWith(new Hooks({ spill: factory.spill }));
    expectDelivered(sends, runTraffic(communication, sends, 4));
    expect(communication.network!.link(0, 1).bytesRead).toBe(communication.network!.link(0, 1).bytesWritten);
  });

  it('the first write cut once, at each byte position in turn', () => {
    const written = 3 * HEADER_BYTES + 0 + 3 + 1;
    for (let cut = 1; cut < written; cut += 1) {
      const splitWrite: SplitWriteFn = (write) => (write.writeIndex === 0 && write.source === 0 && cut < write.byteLength ? [cut] : []);
      const communication = Config.cluster(cluster({ threads: 1 }), { splitWrite }).tryBuildWith(new Hooks({ spill: aggressiveSpill().spill }));
      expectDelivered(sends, runTraffic(communication, sends, 4));
    }
  });

  it('rejects a split function that returns offsets outside the write', () => {
    const link = new NetworkLink(0, 1, new Buzzer(), () => [0]);
    expectBadArgument(() => link.write(new Uint8Array(4)), /offsets must ascend strictly inside \(0, 4\)/);
  });
});

/** A caller's clock for `linkLatency`: ticks move only when the test says, and every wake-up is logged. */
class TestClock implements LinkLatency {
  now = 0;
  readonly wakes: Array<{ at: number; write: LinkWrite }> = [];
  constructor(readonly ticks: (write: LinkWrite) => number) {}
  nowTicks(): number {
    return this.now;
  }
  ticksOf(write: LinkWrite): number {
    return this.ticks(write);
  }
  wakeAt(at: number, write: LinkWrite): void {
    this.wakes.push({ at, write });
  }
}

describe('The network delays writes by the caller\'s latency', () => {
  it('a write is readable only from its arrival tick on, never before the write ahead of it', () => {
    const delays = [5, 1, 0];
    const clock = new TestClock((write) => delays[write.writeIndex]!);
    const buzzer = new Buzzer();
    const link = new NetworkLink(0, 1, buzzer, (write) => (write.byteLength > 2 ? [2] : []), clock);
    link.write(new Uint8Array([1, 2, 3]));
    clock.now = 1;
    link.write(new Uint8Array([4]));
    expect(clock.wakes).toEqual([
      { at: 5, write: { source: 0, target: 1, writeIndex: 0, byteLength: 3 } },
      // Sent at 1 with 1 tick of latency, but it may not overtake the first write: 5, not 2.
      { at: 5, write: { source: 0, target: 1, writeIndex: 1, byteLength: 1 } },
    ]);
    expect(buzzer.count).toBe(0);
    expect([link.piecesPending, link.piecesArrived]).toEqual([3, 0]);
    clock.now = 4;
    expect(link.read()).toBeUndefined();
    clock.now = 5;
    expect(link.piecesArrived).toBe(3);
    expect([...link.read()!, ...link.read()!, ...link.read()!]).toEqual([1, 2, 3, 4]);
    expect(link.read()).toBeUndefined();
    // A write that arrives at once buzzes the receiver, as without latency.
    link.write(new Uint8Array([5]));
    expect(clock.wakes).toHaveLength(2);
    expect(buzzer.count).toBe(1);
    expect([...link.read()!]).toEqual([5]);
  });

  it('a link closed with writes in flight reaches EOF only once they have been read', () => {
    const clock = new TestClock(() => 3);
    const link = new NetworkLink(0, 1, new Buzzer(), undefined, clock);
    link.write(new Uint8Array([9]));
    link.close();
    expect(link.isDrained).toBe(false);
    clock.now = 3;
    expect([...link.read()!]).toEqual([9]);
    expect(link.isDrained).toBe(true);
  });

  it('a Cluster with latency delivers everything; its receive loops park while bytes are in flight and wake at the ticks asked for', () => {
    const clock = new TestClock((write) => 1 + ((write.writeIndex * 7 + write.source) % 9));
    const communication = Config.cluster(cluster({ threads: 2 }), { linkLatency: clock, slabBytes: 128 }).tryBuildWith(new Hooks({ spill: aggressiveSpill().spill }));
    const network = communication.network!;
    const sends = allToAll(4, [0, 1, 21, 300]);
    const received = new Map<number, Message[]>();
    const onReceive = (allocator: Allocator, messages: Message[]): void => {
      received.set(allocator.index, [...(received.get(allocator.index) ?? []), ...messages.map((m) => ({ ...m, payload: m.payload.slice() }))]);
    };
    const sequences = new Map<string, number>();
    for (const send of sends) {
      const key = `${send.source}/${send.target}/${send.channel}`;
      const sequence = sequences.get(key) ?? 0;
      sequences.set(key, sequence + 1);
      communication.allocators[send.source]!.send(send.target, payloadOf(send.source, send.target, send.channel, sequence, send.payloadBytes), { channel: send.channel });
    }
    for (const allocator of communication.allocators) allocator.finish();
    let parkedInFlight = 0;
    for (let tick = 0; !network.isDone; tick += 1) {
      expect(tick).toBeLessThan(1000);
      clock.now = tick;
      runUntilQuiet(communication, { onReceive });
      // Quiet yet not done: only bytes still in flight can be what it waits for.
      const inFlight = [network.link(0, 1), network.link(1, 0)].reduce((n, link) => n + link.piecesPending - link.piecesArrived, 0);
      if (!network.isDone) expect(inFlight).toBeGreaterThan(0);
      if (network.recvStep(0).status === 'park' && network.link(1, 0).piecesPending > 0) parkedInFlight += 1;
    }
    runUntilQuiet(communication, { onReceive });
    expectDelivered(sends, received);
    expect(parkedInFlight).toBeGreaterThan(0);
    expect(clock.wakes.length).toBeGreaterThan(0);
    expect(clock.wakes.every(({ at, write }) => at > 0 && write.source !== write.target)).toBe(true);
  });

  it('rejects a latency that is not a whole number of ticks, and a linkLatency without its functions', () => {
    const link = new NetworkLink(0, 1, new Buzzer(), undefined, new TestClock(() => 1.5));
    expectBadArgument(() => link.write(new Uint8Array(1)), /ticksOf must return a whole number of ticks ≥ 0, got 1\.5/);
    expectBadArgument(() => Config.cluster(cluster(), { linkLatency: { nowTicks: () => 0 } as unknown as LinkLatency }), /linkLatency must be an object with the functions nowTicks\(\), ticksOf\(write\) and wakeAt/);
  });
});

describe('Receivers reassemble frames split across Bytes chunks', () => {
  it('FrameAssembler: a stream of frames cut at every position yields the same frames', () => {
    const frames = [0, 5, 1, 30].map((payloadBytes, sequence) =>
      encodeFrame({ channel: 0, source: 0, target: 1, sequence, payloadBytes }, payloadOf(0, 1, 0, sequence, payloadBytes)),
    );
    const stream = new Uint8Array(frames.reduce((sum, f) => sum + f.length, 0));
    let offset = 0;
    for (const frame of frames) (stream.set(frame.data, offset), (offset += frame.length));
    for (let a = 0; a <= stream.length; a += 1) {
      for (let b = a; b <= stream.length; b += 7) {
        const assembler = new FrameAssembler();
        const out: Bytes[] = [];
        for (const [from, to] of [[0, a], [a, b], [b, stream.length]] as const) assembler.push(Bytes.from(stream.slice(from, to)), out);
        expect(out.map((f) => [...f.data])).toEqual(frames.map((f) => [...f.data]));
        expect(assembler.carriedBytes).toBe(0);
      }
    }
  });

  it('FrameAssembler: frames whole inside one piece come out as adjacent views of it, which merge again', () => {
    const frames = [3, 0, 2].map((payloadBytes, sequence) => encodeFrame({ channel: 1, source: 0, target: 1, sequence, payloadBytes }, payloadOf(0, 1, 1, sequence, payloadBytes)));
    const stream = new Uint8Array(frames.reduce((sum, f) => sum + f.length, 0));
    let offset = 0;
    for (const frame of frames) (stream.set(frame.data, offset), (offset += frame.length));
    const piece = Bytes.from(stream);
    const out: Bytes[] = [];
    new FrameAssembler().push(piece, out);
    expect(out.map((f) => [f.buffer === stream.buffer, f.offset, f.length])).toEqual([
      [true, 0, HEADER_BYTES + 3],
      [true, HEADER_BYTES + 3, HEADER_BYTES],
      [true, 2 * HEADER_BYTES + 3, HEADER_BYTES + 2],
    ]);
    expect(out[0]!.tryMerge(out[1]!)).toBe(true);
  });

  it('FrameAssembler: a header cut twice, with a payload length of more than one byte, still gives the whole frame', () => {
    // 300 payload bytes: the length field's second byte is 1, so a header read before all of
    // it arrived would see a frame of 44 payload bytes.
    const frames = [300, 1].map((payloadBytes, sequence) => encodeFrame({ channel: 0, source: 1, target: 0, sequence, payloadBytes }, payloadOf(1, 0, 0, sequence, payloadBytes)));
    const stream = new Uint8Array(frames[0]!.length + frames[1]!.length);
    stream.set(frames[0]!.data, 0);
    stream.set(frames[1]!.data, frames[0]!.length);
    for (let a = 0; a <= 2 * HEADER_BYTES; a += 1) {
      for (let b = a; b <= 2 * HEADER_BYTES; b += 1) {
        const assembler = new FrameAssembler();
        const out: Bytes[] = [];
        for (const [from, to] of [[0, a], [a, b], [b, stream.length]] as const) assembler.push(Bytes.from(stream.slice(from, to)), out);
        expect(out.map((f) => f.length)).toEqual([HEADER_BYTES + 300, HEADER_BYTES + 1]);
        expect(out.map((f) => [...f.data])).toEqual(frames.map((f) => [...f.data]));
      }
    }
  });

  it('a reader policy that re-chunks every entry into 1..3-byte pieces changes nothing the worker sees', () => {
    // Cuts each resident entry into small adjacent views, as a backend that returns a chunk in parts would.
    const rechunk: SpillPolicy = {
      apply(deque: EntryDeque): void {
        for (let i = 0; i < deque.length; i += 1) {
          const entry = deque.get(i);
          if (entry.kind !== 'bytes' || entry.bytes.length <= 3) continue;
          const head = entry.bytes.extractTo(1 + (i % 3));
          deque.insert(i, bytesEntry(head));
        }
      },
    };
    const identity: SpillPolicy = { apply: () => undefined };
    const communication = Config.processBinary(2).tryBuildWith(new Hooks({ spill: () => [identity, rechunk] }));
    const sends = allToAll(2, [0, 2, 45, 300]);
    expectDelivered(sends, runTraffic(communication, sends, 8));
  });

  it('a reader policy that loses an entry is caught: E_BACKEND_CONTRACT, not silently missing data', () => {
    let dropped = false;
    const lose: SpillPolicy = {
      apply(deque: EntryDeque): void {
        if (!dropped && deque.length > 1) ((dropped = true), deque.remove(0));
      },
    };
    const communication = Config.processBinary(2, { slabBytes: 64 }).tryBuildWith(new Hooks({ spill: () => [{ apply: () => undefined }, lose] }));
    const [sender] = communication.allocators;
    for (let i = 0; i < 4; i += 1) (sender!.send(1, new Uint8Array(40)), sender!.flush());
    expect(() => communication.allocators[1]!.receive()).toThrow(expect.objectContaining({ code: 'E_BACKEND_CONTRACT' }));
  });
});

describe('Senders batch frames so they coalesce', () => {
  it("a worker's consecutive flushes to one peer become one queue entry", () => {
    const communication = Config.processBinary(2).tryBuild();
    const [sender, receiver] = communication.allocators;
    for (let i = 0; i < 5; i += 1) (sender!.send(1, new Uint8Array(10)), sender!.flush());
    const queueFrom0 = receiver!.receiveQueues[0]!;
    expect(queueFrom0.deque.length).toBe(1);
    expect(queueFrom0.deque.residentBytes).toBe(5 * (HEADER_BYTES + 10));
    expect(receiver!.receive()).toHaveLength(5);
  });
});

describe('The network send loop', () => {
  it('does not park when one source is empty-but-not-complete and another has data', () => {
    const buzzer = new Buzzer();
    const [emptyWriter, emptyReader] = MergeQueue.newPair(buzzer);
    const [fullWriter, fullReader] = MergeQueue.newPair(buzzer, undefined, undefined, { stallGuard: 'accumulator' });
    const recvBuzzer = new Buzzer();
    const link = new NetworkLink(0, 1, recvBuzzer);
    const loop = new SendLoop(0, buzzer, [{ queue: emptyReader, remote: 1 }, { queue: fullReader, remote: 1 }], [undefined, link]);
    fullWriter.extend([Bytes.from(new Uint8Array([1, 2, 3]))]);
    expect(loop.step()).toEqual({ status: 'progress', bytes: 3 });
    expect(recvBuzzer.count).toBe(1);
    // A full round with nothing, and both sources still open: now it parks.
    expect(loop.step().status).toBe('park');
    emptyWriter.drop();
    expect(loop.step().status).toBe('park');
    expect(loop.sourcesLeft).toBe(1);
    fullWriter.drop();
    const last = loop.step();
    expect(last.status).toBe('done');
    expect(last.bytes).toBe(HEADER_BYTES);
    expect(link.isClosed).toBe(true);
    expect(loop.step()).toEqual({ status: 'done', bytes: 0 });
  });

  it('inside a Cluster: a worker that sent to one remote only leaves the other source empty, and the loop still writes', () => {
    const communication = Config.cluster(cluster({ threads: 1, addresses: ['a', 'b', 'c'] })).tryBuild();
    const network = communication.network!;
    const sendBuzzer = network.sendLoop(0).buzzer;
    communication.allocators[0]!.send(1, new Uint8Array(8));
    communication.allocators[0]!.flush();
    expect(sendBuzzer.count).toBe(1);
    expect(network.sendStep(0)).toEqual({ status: 'progress', bytes: HEADER_BYTES + 8 });
    expect(network.sendStep(0).status).toBe('park');
    expect(network.recvStep(1).status).toBe('progress');
    expect(network.recvStep(2).status).toBe('park');
  });

  it('buzzerFor hands out the buzzer of every worker and loop by name', () => {
    const names: string[] = [];
    const buzzers = new Map<string, Buzzer>();
    const buzzerFor = (name: string): Buzzer => (names.push(name), buzzers.set(name, new Buzzer()).get(name)!);
    const communication = Config.cluster(cluster({ threads: 1 }), { buzzerFor }).tryBuild();
    expect(names).toEqual(['worker:0', 'worker:1', 'send:0', 'send:1', 'recv:0', 'recv:1']);
    expect(communication.allocators[1]!.buzzer).toBe(buzzers.get('worker:1'));
    communication.allocators[0]!.send(1, new Uint8Array(1));
    communication.allocators[0]!.flush();
    communication.network!.sendStep(0);
    expect(buzzers.get('recv:1')!.count).toBe(1);
    communication.network!.recvStep(1);
    expect(buzzers.get('worker:1')!.count).toBeGreaterThan(0);
  });
});

describe('Completion', () => {
  const configs: [string, () => Config][] = [
    ['ProcessBinary(3)', () => Config.processBinary(3)],
    ['Cluster 2×2 zerocopy', () => Config.cluster(cluster({ zerocopy: true }))],
    ['Cluster 3×1', () => Config.cluster(cluster({ threads: 1, addresses: ['a', 'b', 'c'] }))],
    ['Process(2)', () => Config.process(2)],
  ];
  for (const [name, config] of configs) {
    it(`${name}: after every worker finishes, every queue is complete on its last handle`, () => {
      const communication = config().tryBuildWith(new Hooks({ spill: aggressiveSpill().spill }));
      const peers = communication.allocators.length;
      const sends = allToAll(peers, [5, 500]);
      for (const send of sends) communication.allocators[send.source]!.send(send.target, new Uint8Array(send.payloadBytes), { channel: send.channel });
      runUntilQuiet(communication);
      // Writers still held: nothing is complete yet.
      expect(communication.allocators.some((a) => a.isComplete())).toBe(false);
      for (const allocator of communication.allocators) allocator.finish();
      runUntilQuiet(communication);
      const traffic = communication.allocators.map((a) => a.traffic);
      const payloadBytes = sends.reduce((sum, send) => sum + send.payloadBytes, 0);
      expect(traffic.reduce((sum, t) => sum + t.sentMessages, 0)).toBe(sends.length);
      expect(traffic.reduce((sum, t) => sum + t.receivedMessages, 0)).toBe(sends.length);
      expect(traffic.reduce((sum, t) => sum + t.receivedPayloadBytes, 0)).toBe(payloadBytes);
      for (const allocator of communication.allocators) {
        expect(allocator.isComplete()).toBe(true);
        for (const queue of allocator.receiveQueues) expect(queue.isComplete()).toBe(true);
      }
      const network = communication.network;
      if (network !== undefined) {
        expect(network.isDone).toBe(true);
        for (let p = 0; p < network.processes; p += 1) expect(network.sendLoop(p).sourcesLeft).toBe(0);
      }
      const sendSides = communication.queues.filter((q) => q.kind === 'cluster-send');
      // The send loop checked each source complete and dropped it: no handle is left to ask.
      for (const site of sendSides) expect(() => site.reader.isComplete()).toThrow(expect.objectContaining({ code: 'E_DROPPED' }));
      for (const allocator of communication.allocators) allocator.drop();
    });
  }
});

describe('Determinism', () => {
  it('the same sends and step order give the same buzzes, link bytes and messages', () => {
    const run = (): string => {
      const counts: Buzzer[] = [];
      const buzzerFor = (): Buzzer => {
        const buzzer = new Buzzer();
        counts.push(buzzer);
        return buzzer;
      };
      const splitWrite: SplitWriteFn = (write) => (write.byteLength > 10 ? [3, 10] : []);
      const communication = Config.cluster(cluster({ zerocopy: true }), { buzzerFor, splitWrite }).tryBuildWith(new Hooks({ spill: aggressiveSpill(64).spill }));
      const received = runTraffic(communication, allToAll(4, [3, 90, 700]));
      return JSON.stringify({
        buzzes: counts.map((b) => b.count),
        link: communication.network!.link(1, 0).bytesWritten,
        received: [...received.entries()].map(([index, messages]) => [index, messages.map((m) => [m.source, m.channel, m.sequence])]),
      });
    };
    expect(run()).toBe(run());
  });
});

describe('Config, Hooks and build options: every check names the problem exactly', () => {
  it('Config checks', () => {
    expectBadArgument(() => Config.cluster(null as unknown as ClusterOptions), /^Cluster needs \{ threads, process, addresses \}, got null$/);
    expectBadArgument(() => Config.cluster(5 as unknown as ClusterOptions), /got 5$/);
    for (const addresses of [undefined, 'a', [], ['a', ''], ['a', 3]]) {
      expectBadArgument(() => Config.cluster(cluster({ addresses: addresses as never })), /^Cluster addresses must be a non-empty array of non-empty strings, one per process$/);
    }
    expectBadArgument(() => Config.cluster(cluster({ addresses: ['x', 'y', 'x'] })), /^Cluster addresses must be distinct, got \[x, y, x\]$/);
    expectBadArgument(() => Config.cluster(cluster({ processes: 1 })), /^Cluster has 1 processes but 2 addresses; give one address per process$/);
    expect(Config.cluster(cluster({ processes: 2 })).kind).toBe('cluster');
    expectBadArgument(() => Config.cluster(cluster({ threads: 513 })), /^Cluster of 2 processes × 513 threads exceeds 1024 workers$/);
    expect(Config.cluster(cluster({ threads: 512 })).kind).toBe('cluster');
    expectBadArgument(() => Config.cluster(cluster({ report: 1 as never })), /^Cluster report must be true or false, got 1$/);
    expect(Config.cluster(cluster({ report: false, zerocopy: true })).kind).toBe('cluster');
    expectBadArgument(() => Config.process(1025), /^Process workers must be a whole number in 1\.\.1024, got 1025$/);
    expect(Config.process(1024).kind).toBe('process');
    expect(Config.process(1).kind).toBe('process');
    expect([Config.thread().kind, Config.processBinary(1).kind]).toEqual(['thread', 'process-binary']);
    expectBadArgument(() => Config.process(Number.NaN), /got NaN$/);
    expectBadArgument(() => Config.processBinary(2).tryBuildWith(7 as never), /^tryBuildWith needs hooks, such as new Hooks\(\{ spill \}\) or Hooks\.default\(\), got 7$/);
  });

  it('build option checks', () => {
    expectBadArgument(() => Config.thread(null as never), /^build options must be an object such as \{ slabBytes: 65536 \}, got null$/);
    expectBadArgument(() => Config.thread(3 as never), /got number 3$/);
    expectBadArgument(() => Config.thread({ slabBytes: 1.5 }), /^slabBytes must be a positive whole number of bytes, got 1\.5$/);
    expectBadArgument(() => Config.thread({ slabBytes: -4 }), /got -4$/);
    expect(Config.processBinary(2, { slabBytes: 1 }).tryBuild().allocators).toHaveLength(2);
    expectBadArgument(() => Config.thread({ buzzerFor: {} as never }), /^buzzerFor must be a function, got an empty object$/);
    expectBadArgument(() => Config.thread({ splitWrite: 'x' as never }), /^splitWrite must be a function, got the string "x"$/);
    expectBadArgument(() => Config.thread({ stallGuard: 'x' as never }), /^stallGuard must be 'produced' or 'accumulator', got x$/);
    const stallGuards = (stallGuard?: 'produced' | 'accumulator') => Config.processBinary(2, stallGuard === undefined ? {} : { stallGuard }).tryBuild().queues.map((q) => q.reader.stallGuard);
    expect(new Set(stallGuards('accumulator'))).toEqual(new Set(['accumulator']));
    expect(new Set(stallGuards('produced'))).toEqual(new Set(['produced']));
    expect(new Set(stallGuards())).toEqual(new Set(['produced']));
  });

  it('Hooks checks and defaults', () => {
    expectBadArgument(() => new Hooks(null as never), /^Hooks options must be an object such as \{ spill \}, got null$/);
    expectBadArgument(() => new Hooks('x' as never), /got the string "x"$/);
    expectBadArgument(() => new Hooks({ logFn: 1 as never }), /^hooks\.logFn must be a function, got number 1$/);
    expectBadArgument(() => new Hooks({ refill: null as never }), /^hooks\.refill must be a function, got null$/);
    const hooks = new Hooks();
    expect([hooks.logFn, hooks.spill]).toEqual([undefined, undefined]);
    const slab = hooks.refill(12);
    expect([slab.length, [...slab.data].every((b) => b === 0)]).toEqual([12, true]);
    const logFn = () => {};
    expect(new Hooks({ logFn }).logFn).toBe(logFn);
  });

  it('the spill factory must return two policies', () => {
    const policy = { apply: () => {} };
    for (const pair of [undefined, [policy], [policy, policy, policy], [policy, null], [policy, {}], [policy, 'p'], { 0: policy, 1: policy, length: 2 }]) {
      expectBadArgument(
        () => Config.processBinary(2).tryBuildWith(new Hooks({ spill: (() => pair) as never })),
        /^hooks\.spill\(\) must return \[writerPolicy, readerPolicy\], two objects with an apply\(deque\) method$/,
      );
    }
    expect(Config.processBinary(2).tryBuildWith(new Hooks({ spill: () => [policy, policy] })).queues).toHaveLength(4);
  });

  it('logFn sees each queue with its site, source and target', () => {
    const events: unknown[] = [];
    Config.processBinary(2).tryBuildWith({ logFn: (event) => events.push(event) });
    expect(events).toEqual(
      expect.arrayContaining([
        { kind: 'queue', site: 'process-binary', source: 0, target: 1 },
        { kind: 'queue', site: 'process-binary', source: 1, target: 0 },
      ]),
    );
    const connected: unknown[] = [];
    Config.cluster(cluster({ addresses: ['a', 'b', 'c'], process: 1, threads: 1, report: true })).tryBuildWith({ logFn: (e) => { if (e.kind === 'connected') connected.push(e); } });
    expect(connected).toEqual([
      { kind: 'connected', process: 1, remote: 0, address: 'a' },
      { kind: 'connected', process: 1, remote: 2, address: 'c' },
    ]);
  });
});

describe('Allocator: checks, counters and corrupt frames, exactly', () => {
  it('send checks target, payload and channel, naming the worker', () => {
    const [worker] = Config.processBinary(2).tryBuild().allocators;
    expectBadArgument(() => worker!.send(-1, new Uint8Array(1)), /^worker 0: send target must be a worker index in 0\.\.1, got -1$/);
    expectBadArgument(() => worker!.send(0.5, new Uint8Array(1)), /got 0\.5$/);
    expectBadArgument(() => worker!.send(1, [1, 2] as never), /^worker 0: payload must be a Uint8Array shorter than 4 GiB$/);
    expectBadArgument(() => worker!.send(1, new Uint8Array(1), { channel: 0xffff_ffff }), /^worker 0: channel must be a whole number in 0\.\.4294967294, got 4294967295$/);
    expectBadArgument(() => worker!.send(1, new Uint8Array(1), { channel: 1.5 }), /got 1\.5$/);
    worker!.send(1, new Uint8Array(3), { channel: 0xffff_fffe });
    worker!.send(0, new Uint8Array(2));
    expect(worker!.traffic).toEqual({ sentMessages: 2, sentPayloadBytes: 5, receivedMessages: 0, receivedPayloadBytes: 0 });
    expect(worker!.flush()).toBe(2 * HEADER_BYTES + 5);
    expect(worker!.flush()).toBe(0);
  });

  it('finish, drop and use after them', () => {
    const communication = Config.processBinary(2).tryBuild();
    const [a, b] = communication.allocators;
    a!.send(1, new Uint8Array(4));
    expect(a!.isFinished).toBe(false);
    a!.finish();
    a!.finish();
    expect(a!.isFinished).toBe(true);
    expect(() => a!.send(1, new Uint8Array(1))).toThrow(expect.objectContaining({ code: 'E_DROPPED', message: 'worker 0: send after finish()' }));
    // finish flushed the pending frame
    expect(b!.receive().map((m) => m.payload.byteLength)).toEqual([4]);
    b!.drop();
    b!.drop();
    expect(b!.isDropped).toBe(true);
    for (const [what, call] of [['send', () => b!.send(0, new Uint8Array(1))], ['flush', () => b!.flush()], ['receive', () => b!.receive()], ['finish', () => b!.finish()], ['isComplete', () => b!.isComplete()]] as const) {
      expect(call).toThrow(expect.objectContaining({ code: 'E_DROPPED', message: `worker 1: ${what} after drop()` }));
    }
    a![Symbol.dispose]();
    expect(a!.isDropped).toBe(true);
  });

  it('counts what it receives and reports it to logFn with the header', () => {
    const events: unknown[] = [];
    const communication = Config.processBinary(2).tryBuildWith({ logFn: (e) => { if (e.kind === 'message') events.push(e); } });
    const [a, b] = communication.allocators;
    a!.send(1, new Uint8Array(7), { channel: 3 });
    a!.flush();
    expect(b!.receive()).toHaveLength(1);
    expect(b!.traffic).toEqual({ sentMessages: 0, sentPayloadBytes: 0, receivedMessages: 1, receivedPayloadBytes: 7 });
    expect(events).toEqual([
      { kind: 'message', isSend: true, header: { channel: 3, source: 0, target: 1, sequence: 0, payloadBytes: 7 } },
      { kind: 'message', isSend: false, header: { channel: 3, source: 0, target: 1, sequence: 0, payloadBytes: 7 } },
    ]);
  });

  const corrupt = (frames: Bytes[]): (() => unknown) => {
    const communication = Config.processBinary(2).tryBuild();
    const queue = communication.queues.find((q) => q.source === 0 && q.target === 1)!;
    queue.writer.extend(frames);
    return () => communication.allocators[1]!.receive();
  };
  const header = (h: Partial<{ channel: number; source: number; target: number; sequence: number; payloadBytes: number }>) => ({ channel: 0, source: 0, target: 1, sequence: 0, payloadBytes: 0, ...h });

  it('a frame for another worker, from an unknown worker, or out of sequence is E_BACKEND_CONTRACT naming it', () => {
    const cases: [Bytes[], string][] = [
      [[encodeFrame(header({ target: 0 }))], 'message for worker 0 arrived here'],
      [[encodeFrame(header({ source: 2 }))], 'message from unknown worker 2'],
      [[encodeFrame(header({ sequence: 1 }))], 'message 1 from worker 0 on channel 0 arrived where 0 was next'],
      [[encodeFrame(header({})), encodeFrame(header({}))], 'message 0 from worker 0 on channel 0 arrived where 1 was next'],
      [[encodeFrame(header({ channel: 5, sequence: 0 })), encodeFrame(header({ channel: 5, sequence: 2 }))], 'message 2 from worker 0 on channel 5 arrived where 1 was next'],
    ];
    for (const [frames, what] of cases) {
      expect(corrupt(frames), what).toThrow(
        expect.objectContaining({
          code: 'E_BACKEND_CONTRACT',
          message: `corrupt frame at worker 1: ${what}; bytes between sender and receiver were lost, reordered or altered (check the spill backend and policies)`,
        }),
      );
    }
    // Sequences are kept per channel: channel 1 starts at 0 whatever channel 0 did.
    expect(corrupt([encodeFrame(header({})), encodeFrame(header({ channel: 1 }))])()).toHaveLength(2);
  });

  it('encodeFrame refuses a payload of another length than its header says', () => {
    expectBadArgument(() => encodeFrame(header({ payloadBytes: 3 }), new Uint8Array(2)), /^frame header says 3 payload bytes but 2 were given$/);
    const frame = encodeFrame(header({ channel: 0x01020304, source: 0xfffffffe, target: 7, sequence: 9, payloadBytes: 2 }), new Uint8Array([5, 6]));
    expect(frame.length).toBe(HEADER_BYTES + 2);
    expect(tryReadHeader(frame.data)).toEqual({ channel: 0x01020304, source: 0xfffffffe, target: 7, sequence: 9, payloadBytes: 2 });
    expect(tryReadHeader(frame.data, 3)).toBeUndefined();
    expect(tryReadHeader(frame.data.subarray(0, HEADER_BYTES))).toEqual(expect.objectContaining({ payloadBytes: 2 }));
    expect(tryReadHeader(frame.data.subarray(0, HEADER_BYTES - 1))).toBeUndefined();
    expect([...frame.data.subarray(0, 4)]).toEqual([4, 3, 2, 1]);
  });

  it('a refill that returns something other than a big enough BytesMut is refused', () => {
    for (const refill of [() => null, () => ({}), (n: number) => new Hooks().refill(n - 1)]) {
      const communication = Config.processBinary(2, { slabBytes: 32 }).tryBuildWith({ refill: refill as never });
      expectBadArgument(() => communication.allocators[0]!.send(1, new Uint8Array(1)), /^hooks\.refill\(32\) must return a BytesMut of at least 32 bytes$/);
    }
  });

  it('a frame larger than the slab gets a slab of its own size', () => {
    const asked: number[] = [];
    const communication = Config.processBinary(2, { slabBytes: 32 }).tryBuildWith({ refill: (n) => (asked.push(n), new Hooks().refill(n)) });
    const [a, b] = communication.allocators;
    a!.send(1, new Uint8Array(12)); // exactly 32
    a!.send(1, new Uint8Array(13)); // 33: does not fit
    a!.send(1, new Uint8Array(0)); // the 33-byte slab is full: a fresh one of 32
    a!.flush();
    expect(asked).toEqual([32, 33, 32]);
    expect(b!.receive().map((m) => m.payload.byteLength)).toEqual([12, 13, 0]);
  });
});

describe('The network receive loop refuses a byte stream that cannot be right', () => {
  /** A RecvLoop for process 1 of 2 (one thread each), fed by a link from process 0. */
  const loopOf = () => {
    const link = new NetworkLink(0, 1, new Buzzer());
    const [writer, reader] = MergeQueue.newPair(new Buzzer());
    const loop = new RecvLoop(1, new Buzzer(), [{ link, targets: [writer] }], 1);
    return { link, loop, reader };
  };
  const frame = (h: Partial<{ channel: number; source: number; target: number; sequence: number; payloadBytes: number }>, payload?: Uint8Array) =>
    encodeFrame({ channel: 0, source: 0, target: 1, sequence: 0, payloadBytes: payload?.byteLength ?? 0, ...h }, payload).data;
  const shutdown = (h: Partial<{ source: number; target: number; payloadBytes: number }> = {}) =>
    frame({ channel: 0xffff_ffff, source: 0, target: 1, ...h }, h.payloadBytes ? new Uint8Array(h.payloadBytes) : undefined);
  const expectCorrupt = (run: () => unknown, what: string) =>
    expect(run).toThrow(expect.objectContaining({ code: 'E_BACKEND_CONTRACT', message: expect.stringContaining(`corrupt frame at network link 0→1: ${what}`) }));

  it('delivers frames to the right worker queue, then closes at the shutdown frame', () => {
    const { link, loop, reader } = loopOf();
    link.write(frame({}, new Uint8Array([1, 2])));
    expect(loop.step()).toEqual({ status: 'progress', bytes: HEADER_BYTES + 2 });
    expect(reader.deque.residentBytes).toBe(HEADER_BYTES + 2);
    expect(loop.step()).toEqual({ status: 'park', bytes: 0 });
    link.write(shutdown());
    expect(loop.step()).toEqual({ status: 'done', bytes: HEADER_BYTES });
    expect(loop.isDone).toBe(true);
    expect(loop.step()).toEqual({ status: 'done', bytes: 0 });
    reader.drainInto([]);
    expect(reader.isComplete()).toBe(true);
  });

  it('a malformed shutdown frame, data after it, a frame for another link or a cut frame at EOF', () => {
    for (const bad of [shutdown({ source: 1 }), shutdown({ target: 0 }), shutdown({ payloadBytes: 1 })]) {
      const { link, loop } = loopOf();
      link.write(bad);
      expectCorrupt(() => loop.step(), 'malformed shutdown frame');
    }
    {
      const { link, loop } = loopOf();
      const both = new Uint8Array(2 * HEADER_BYTES);
      both.set(shutdown(), 0);
      both.set(frame({}), HEADER_BYTES);
      link.write(both);
      expectCorrupt(() => loop.step(), 'data after the shutdown frame');
    }
    {
      const { link, loop } = loopOf();
      link.write(shutdown());
      link.write(frame({}));
      expectCorrupt(() => loop.step(), 'data after the shutdown frame');
    }
    for (const h of [{ target: 0 }, { target: 2 }, { source: 1 }]) {
      const { link, loop } = loopOf();
      link.write(frame(h));
      expectCorrupt(() => loop.step(), `frame from worker ${h.source ?? 0} to worker ${h.target ?? 1} does not belong on this link`);
    }
    {
      const { link, loop } = loopOf();
      link.write(frame({}, new Uint8Array(4)).subarray(0, 10));
      link.close();
      expect(loop.step().status).toBe('progress');
      expectCorrupt(() => loop.step(), 'link closed inside a frame (10 bytes of it held)');
    }
    {
      // EOF without a shutdown frame but on a frame boundary closes the link quietly.
      const { link, loop, reader } = loopOf();
      link.write(frame({}));
      link.close();
      expect(loop.step().status).toBe('progress');
      expect(loop.step()).toEqual({ status: 'done', bytes: 0 });
      reader.drainInto([]);
      expect(reader.isComplete()).toBe(true);
    }
  });
});

describe('SimulatedNetwork: the step API checks its process indexes', () => {
  it('names a bad process, refuses a link to itself, and is done only when every loop is', () => {
    const communication = Config.cluster(cluster({ threads: 1 })).tryBuild();
    const network = communication.network!;
    for (const p of [-1, 2, 0.5, Number.NaN]) {
      for (const call of [() => network.sendStep(p), () => network.recvStep(p), () => network.sendLoop(p), () => network.recvLoop(p), () => network.link(p, 0), () => network.link(0, p)]) {
        expectBadArgument(call, new RegExp(`^process must be an index in 0\\.\\.1, got ${String(p).replace('.', '\\.')}$`));
      }
    }
    expectBadArgument(() => network.link(1, 1), /^there is no network link from process 1 to itself$/);
    expect(network.link(0, 1).source).toBe(0);
    expect(network.link(1, 0).target).toBe(0);
    expect(network.isDone).toBe(false);
    for (const allocator of communication.allocators) allocator.finish();
    // Send loops done first: the receive loops still have the shutdown frames to read.
    while (!network.sendLoop(0).isDone || !network.sendLoop(1).isDone) (network.sendStep(0), network.sendStep(1));
    expect(network.isDone).toBe(false);
    network.recvStep(0);
    expect(network.isDone).toBe(false);
    network.recvStep(1);
    expect(network.isDone).toBe(true);
  });
});

describe('runUntilQuiet: rounds, bounds and what counts as movement', () => {
  it('counts its rounds, the quiet one included, and stops at roundsMax with a clear error', () => {
    const quiet = Config.processBinary(2).tryBuild();
    expect(runUntilQuiet(quiet)).toEqual({ rounds: 1 });
    const communication = Config.processBinary(2).tryBuild();
    communication.allocators[0]!.send(1, new Uint8Array(3));
    // Round 1 flushes and delivers; round 2 is quiet.
    const seen: number[] = [];
    expect(runUntilQuiet(communication, { onReceive: (a, m) => seen.push(a.index, m.length) })).toEqual({ rounds: 2 });
    expect(seen).toEqual([1, 1]);
    const again = Config.processBinary(2).tryBuild();
    again.allocators[0]!.send(1, new Uint8Array(3));
    expect(() => runUntilQuiet(again, { roundsMax: 1 })).toThrow(
      expect.objectContaining({ code: 'E_BAD_ARGUMENT', message: 'runUntilQuiet was still moving after 1 rounds; raise roundsMax or look for a livelock' }),
    );
    for (const roundsMax of [0, -1, 1.5]) {
      expectBadArgument(() => runUntilQuiet(quiet, { roundsMax }), new RegExp(`^roundsMax must be a positive whole number, got ${String(roundsMax).replace('.', '\\.')}$`));
    }
  });

  it('a network shutting down counts as movement, and dropped workers are skipped', () => {
    const communication = Config.cluster(cluster({ threads: 1 })).tryBuild();
    for (const allocator of communication.allocators) allocator.finish();
    const { rounds } = runUntilQuiet(communication);
    expect(rounds).toBeGreaterThan(1);
    expect(communication.network!.isDone).toBe(true);
    communication.allocators[0]!.drop();
    expect(runUntilQuiet(communication)).toEqual({ rounds: 1 });
  });
});

describe('NetworkLink: one ordered byte stream, exactly', () => {
  it('copies writes, cuts them where splitWrite says, counts bytes and pieces, and buzzes only when it was empty', () => {
    const buzzer = new Buzzer();
    const asked: unknown[] = [];
    const link = new NetworkLink(2, 3, buzzer, (write) => (asked.push(write), write.byteLength > 4 ? [1, 3] : []));
    const data = new Uint8Array([1, 2, 3, 4, 5, 6]);
    link.write(data);
    data.fill(0);
    expect(asked).toEqual([{ source: 2, target: 3, writeIndex: 0, byteLength: 6 }]);
    expect([link.piecesPending, link.piecesArrived, link.bytesWritten, link.bytesRead, buzzer.count]).toEqual([3, 3, 6, 0, 1]);
    link.write(new Uint8Array([7, 8]));
    expect(buzzer.count).toBe(1); // not empty before
    link.write(new Uint8Array(0)); // nothing to send: no piece, no write index used
    expect(link.piecesPending).toBe(4);
    expect([...link.read()!]).toEqual([1]);
    expect([...link.read()!]).toEqual([2, 3]);
    expect([...link.read()!]).toEqual([4, 5, 6]);
    expect([...link.read()!]).toEqual([7, 8]);
    expect(link.read()).toBeUndefined();
    expect([link.piecesPending, link.bytesRead]).toEqual([0, 8]);
    link.write(new Uint8Array([9]));
    expect(asked.at(-1)).toEqual({ source: 2, target: 3, writeIndex: 2, byteLength: 1 });
    expect(buzzer.count).toBe(2); // empty again before this write
    expect(link.isDrained).toBe(false);
    link.close();
    link.close();
    expect(buzzer.count).toBe(3);
    expect([link.isClosed, link.isDrained]).toEqual([true, false]);
    expect([...link.read()!]).toEqual([9]);
    expect(link.isDrained).toBe(true);
    expect(() => link.write(new Uint8Array(1))).toThrow(expect.objectContaining({ code: 'E_DROPPED', message: 'network link 2→3: write after close' }));
  });

  it('rejects cuts that are not strictly ascending offsets inside the write', () => {
    for (const cuts of [[0], [4], [2, 2], [3, 1], [1.5], [-1]]) {
      const link = new NetworkLink(0, 1, new Buzzer(), () => cuts);
      expectBadArgument(() => link.write(new Uint8Array(4)), new RegExp(`^splitWrite returned \\[${cuts.join(', ')}\\] for a 4-byte write; offsets must ascend strictly inside \\(0, 4\\)$`));
      expect(link.piecesPending).toBe(0);
    }
    const notArray = new NetworkLink(0, 1, new Buzzer(), (() => 3) as never);
    expectBadArgument(() => notArray.write(new Uint8Array(4)), /^splitWrite must return an array of offsets, got 3$/);
    const fine = new NetworkLink(0, 1, new Buzzer(), () => [1, 2, 3]);
    fine.write(new Uint8Array(4));
    expect(fine.piecesPending).toBe(4);
  });
});

describe('TypedChannel: a channel between two workers of one process', () => {
  const message = (sequence: number): Message => ({ channel: 0, source: 0, target: 1, sequence, payload: new Uint8Array([sequence]) });

  it('buzzes the receiver once per push and once at close (a second close is quiet); complete once closed and drained', () => {
    const buzzer = new Buzzer();
    const channel = new TypedChannel(0, 1, buzzer);
    channel.push(message(0));
    channel.push(message(1));
    expect([buzzer.count, channel.length, channel.isClosed, channel.isComplete]).toEqual([2, 2, false, false]);
    channel.close();
    channel.close();
    expect([buzzer.count, channel.isClosed, channel.isComplete]).toEqual([3, true, false]);
    const out: Message[] = [];
    channel.drainInto(out);
    expect(out).toEqual([message(0), message(1)]);
    expect([channel.length, channel.isComplete, buzzer.count]).toEqual([0, true, 3]);
  });

  it('a push after close is E_DROPPED naming both workers, and queues nothing', () => {
    const buzzer = new Buzzer();
    const channel = new TypedChannel(2, 3, buzzer);
    channel.close();
    expect(() => channel.push(message(0))).toThrow(expect.objectContaining({ code: 'E_DROPPED', message: 'send from worker 2 to 3 after finish()' }));
    expect([channel.length, buzzer.count]).toEqual([0, 1]);
  });
});
