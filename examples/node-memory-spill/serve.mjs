#!/usr/bin/env node
// A backend in a child process, in Node: spillsim's MemorySpill served over the process
// protocol (docs/backend-protocol.md), so the protocol can be tested without a compiler:
//
//   npx spillsim validate --exec "node examples/node-memory-spill/serve.mjs"
//
// MemorySpill never fails a write or a read by itself; this adapter honours the fault words of
// each request (a write set to fail stops the spill there; a read set to fail hands the handle
// back for a retry, the chunk still stored), so it declares every optional capability.
import { MemorySpill } from 'spillsim';
import { serve } from './protocol.mjs';

class FaultHonouringMemorySpill {
  constructor(faults) {
    this.faults = faults;
    this.memory = new MemorySpill();
  }

  spill(chunks, handles) {
    // Ask before each write, as a storage backend would, and stop at the first that fails.
    let writable = 0;
    while (writable < chunks.length && !this.faults.failWrite()) writable += 1;
    const batch = chunks.slice(0, writable);
    const stored = [];
    this.memory.spill(batch, stored);
    chunks.splice(0, stored.length);
    for (const handle of stored) handles.push(this.#retryable(handle));
  }

  stats() {
    return this.memory.stats();
  }

  close() {
    this.memory.close();
  }

  #retryable(handle) {
    const wrapped = { fetch: () => (this.faults.failRead() ? { ok: false, handle: wrapped } : handle.fetch()) };
    return wrapped;
  }
}

serve({
  name: 'MemorySpill (spillsim) over the Node adapter',
  supports: { partialSpill: true, failingFetch: true, stats: true },
  open: (ctx) => new FaultHonouringMemorySpill(ctx.faults),
});
