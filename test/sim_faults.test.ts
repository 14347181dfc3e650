import { describe, expect, it } from 'vitest';
import { MemfsSpill } from '../src/backends/memfs_spill.js';
import { Bytes } from '../src/bytes.js';
import type { BytesFetch, BytesSpill, FetchResult } from '../src/spill.js';
import { chooseFaultProfile, type FaultEvent, faultKindsOf, FaultySpill, NO_FAULTS, parseFaultMode, SWARM_FAULT_KINDS } from '../sim/faults.js';
import { FaultyFs } from '../sim/faulty_fs.js';
import { SimRng } from '../sim/rng.js';
import { Volume } from 'memfs';

function chunks(...lengths: number[]): Bytes[] {
  return lengths.map((n, i) => Bytes.from(new Uint8Array(n).fill(i + 1)));
}

function fetchAll(handle: BytesFetch, triesMax: number): { result: FetchResult; tries: number } {
  let h = handle;
  for (let tries = 1; tries <= triesMax; tries += 1) {
    const result = h.fetch();
    if (result.ok) return { result, tries };
    h = result.handle;
  }
  return { result: { ok: false, handle: h }, tries: triesMax };
}

describe('FaultySpill wraps any BytesSpill', () => {
  it('without faults it is transparent: front-draining, one handle per chunk, bytes back in order', () => {
    const spill = new FaultySpill(new MemfsSpill(), NO_FAULTS, new SimRng(1));
    const list = chunks(3, 5, 7);
    const handles: BytesFetch[] = [];
    spill.spill(list, handles);
    expect(list).toEqual([]);
    expect(handles).toHaveLength(3);
    expect(spill.stats().storedBytes).toBe(15);
    const back = handles.map((h) => h.fetch());
    expect(back.map((r) => (r.ok ? r.chunks[0]!.data[0] : -1))).toEqual([1, 2, 3]);
    expect(spill.stats().storedBytes).toBe(0);
  });

  it('spill-stop drains only a prefix and keeps both lists consistent', () => {
    const events: FaultEvent[] = [];
    const spill = new FaultySpill(new MemfsSpill(), { ...NO_FAULTS, spillStopChance: 1 }, new SimRng(5), { onEvent: (e) => events.push(e) });
    for (let round = 0; round < 20; round += 1) {
      const list = chunks(1, 2, 3, 4);
      const offered = list.slice();
      const handles: BytesFetch[] = [];
      spill.spill(list, handles);
      expect(handles.length).toBeLessThan(4);
      expect(list).toEqual(offered.slice(handles.length));
      expect(events.at(-1)?.fault).toMatch(/^spill stopped after \d of 4 chunks \((no space|I\/O error)\)$/);
    }
  });

  it('eventReused: the listener gets one object refilled per event, with the same fields as the fresh events of a twin', () => {
    const fresh: FaultEvent[] = [];
    const seen: FaultEvent[] = [];
    const copies: FaultEvent[] = [];
    const twin = new FaultySpill(new MemfsSpill(), { ...NO_FAULTS, spillStopChance: 0.5 }, new SimRng(9), { onEvent: (e) => fresh.push(e) });
    const reused = new FaultySpill(new MemfsSpill(), { ...NO_FAULTS, spillStopChance: 0.5 }, new SimRng(9), {
      eventReused: true,
      onEvent: (e) => {
        seen.push(e);
        copies.push({ ...e });
      },
    });
    for (const spill of [twin, reused]) {
      for (let round = 0; round < 10; round += 1) {
        const handles: BytesFetch[] = [];
        spill.spill(chunks(1, 2, 3), handles);
        for (const handle of handles) handle.fetch();
      }
    }
    expect(copies).toEqual(fresh);
    expect(new Set(seen).size).toBe(1);
    expect(new Set(fresh).size).toBe(fresh.length);
  });

  it('capacity stops at the first chunk that does not fit, and room comes back when fetched', () => {
    const spill = new FaultySpill(new MemfsSpill(), { ...NO_FAULTS, capacityBytes: 10 }, new SimRng(1));
    const handles: BytesFetch[] = [];
    const list = chunks(4, 4, 4);
    spill.spill(list, handles);
    expect(handles).toHaveLength(2);
    expect(list).toHaveLength(1);
    expect(handles[0]!.fetch().ok).toBe(true);
    spill.spill(list, handles);
    expect(list).toHaveLength(0);
    expect(spill.stats().storedBytes).toBe(8);
  });

  it('fetch-n fails a handle a few times, then delivers; heal() stops every recoverable fault', () => {
    const spill = new FaultySpill(new MemfsSpill(), { ...NO_FAULTS, fetchFailNChance: 1, fetchFailTriesMax: 3 }, new SimRng(2));
    const handles: BytesFetch[] = [];
    spill.spill(chunks(8, 8), handles);
    const { result, tries } = fetchAll(handles[0]!, 10);
    expect(result.ok).toBe(true);
    expect(tries).toBeGreaterThan(1);
    expect(tries).toBeLessThanOrEqual(4);
    spill.heal();
    expect(handles[1]!.fetch().ok).toBe(true);
  });

  it('fetch-forever never delivers, even after heal(), and says so', () => {
    const spill = new FaultySpill(new MemfsSpill(), { ...NO_FAULTS, fetchForeverChance: 1 }, new SimRng(3));
    const handles: BytesFetch[] = [];
    spill.spill(chunks(8), handles);
    spill.heal();
    expect(fetchAll(handles[0]!, 50).result.ok).toBe(false);
    expect(spill.outlook(handles[0]!)).toBe('permanent');
  });

  it('latency holds a handle back until the clock reaches its ready tick', () => {
    const clock = { nowTicks: 0 };
    const spill = new FaultySpill(new MemfsSpill(), { ...NO_FAULTS, latencyTicksMax: 5 }, new SimRng(4), { clock });
    const handles: BytesFetch[] = [];
    spill.spill(chunks(8), handles);
    const ready = spill.readyTick(handles[0]!)!;
    expect(ready).toBeGreaterThan(0);
    expect(handles[0]!.fetch().ok).toBe(false);
    expect(spill.outlook(handles[0]!)).toBe('waiting');
    clock.nowTicks = ready;
    expect(handles[0]!.fetch().ok).toBe(true);
    expect(spill.outlook(handles[0]!)).toBe('fetched');
  });

  it('passes an inner backend\'s contract breach through unchanged (so the queue can catch it)', () => {
    const backDraining: BytesSpill = {
      spill(list: Bytes[], handles: BytesFetch[]) {
        const last = list.pop()!;
        handles.push({ fetch: () => ({ ok: true, chunks: [last] }) });
      },
    };
    const spill = new FaultySpill(backDraining, NO_FAULTS, new SimRng(1));
    const list = chunks(1, 2, 3);
    const [a, b] = list;
    const handles: BytesFetch[] = [];
    spill.spill(list, handles);
    expect(list).toEqual([a, b]);
    expect(handles).toHaveLength(1);
  });

  it('counts a second fetch of a consumed handle', () => {
    let fetched = 0;
    const inner: BytesSpill = {
      spill(list: Bytes[], handles: BytesFetch[]) {
        for (const c of list.splice(0)) handles.push({ fetch: () => ((fetched += 1), { ok: true, chunks: [c] }) });
      },
    };
    const spill = new FaultySpill(inner, NO_FAULTS, new SimRng(1));
    const handles: BytesFetch[] = [];
    spill.spill(chunks(4), handles);
    handles[0]!.fetch();
    handles[0]!.fetch();
    expect(fetched).toBe(2);
    expect(spill.stats().doubleFetches).toBe(1);
    expect(spill.stats().storedBytes).toBe(0);
  });
});

describe('FaultyFs: disk faults inside the memfs backend', () => {
  function spillThrough(writeMode: 'partial' | 'all-or-nothing'): { drained: number[]; storedBytes: number } {
    const volume = new Volume();
    const fs = new FaultyFs(volume, new SimRng(7), { writeFailChance: 0.3, readFailChance: 0 });
    const spill = new MemfsSpill({ volume, fs, writeMode });
    const drained: number[] = [];
    for (let round = 0; round < 30; round += 1) {
      const list = chunks(5, 5, 5, 5);
      const handles: BytesFetch[] = [];
      spill.spill(list, handles);
      expect(handles.length + list.length).toBe(4);
      drained.push(handles.length);
      for (const h of handles) expect(h.fetch().ok).toBe(true);
    }
    return { drained, storedBytes: spill.stats().storedBytes };
  }

  it('a failed write drains the chunks written before it (partial) or none (all-or-nothing)', () => {
    const partial = spillThrough('partial');
    expect(partial.drained.some((n) => n > 0 && n < 4)).toBe(true);
    const reference = spillThrough('all-or-nothing');
    expect(reference.drained.every((n) => n === 0 || n === 4)).toBe(true);
    expect(reference.drained).toContain(0);
    expect(partial.storedBytes + reference.storedBytes).toBe(0);
  });

  it('a failed read hands the handle back; after heal() it reads', () => {
    const volume = new Volume();
    const fs = new FaultyFs(volume, new SimRng(1), { writeFailChance: 0, readFailChance: 1 });
    const spill = new MemfsSpill({ volume, fs });
    const handles: BytesFetch[] = [];
    spill.spill(chunks(9), handles);
    const failed = handles[0]!.fetch();
    expect(failed.ok).toBe(false);
    fs.heal();
    expect(failed.ok ? undefined : failed.handle.fetch().ok).toBe(true);
  });
});

describe('fault profiles', () => {
  it('swarm switches each kind on or off per seed, never fetch-forever, and some seeds have none', () => {
    const seen = new Map<string, number>();
    let none = 0;
    for (let seed = 0; seed < 400; seed += 1) {
      const kinds = faultKindsOf(chooseFaultProfile(new SimRng(seed), 'swarm', 1024));
      if (kinds.length === 0) none += 1;
      for (const k of kinds) seen.set(k, (seen.get(k) ?? 0) + 1);
    }
    expect([...seen.keys()].sort()).toEqual([...SWARM_FAULT_KINDS].sort());
    expect(none).toBeGreaterThan(40);
    // Each kind is on for about 0.85 × 0.35 of the seeds (about 119 of 400).
    for (const count of seen.values()) expect(count).toBeGreaterThan(70);
  });

  it('an explicit list turns on exactly those kinds; none turns every one off', () => {
    expect(faultKindsOf(chooseFaultProfile(new SimRng(1), ['capacity', 'latency'], 1024))).toEqual(['capacity', 'latency']);
    expect(faultKindsOf(chooseFaultProfile(new SimRng(1), 'none', 1024))).toEqual([]);
    expect(parseFaultMode('fetch-n,latency')).toEqual(['fetch-n', 'latency']);
    expect(() => parseFaultMode('fetch-sometimes')).toThrow(/unknown fault kind 'fetch-sometimes'/);
  });
});
