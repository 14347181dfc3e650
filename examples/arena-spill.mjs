// examples/arena-spill.mjs: the backend of the README's validate walk-through, as first written.
// Packs chunks into a 64 KiB arena instead of allocating per chunk; recycles it once emptied.
import { Bytes } from 'spillsim';

const ARENA_BYTES = 64 * 1024;

export const supports = { stats: true };

class ArenaSpill {
  #arena = new Uint8Array(ARENA_BYTES);
  #usedBytes = 0;
  #liveChunks = 0;
  #liveBytes = 0;

  spill(chunks, handles) {
    while (chunks.length > 0) {
      const chunk = chunks[0];
      if (this.#usedBytes + chunk.length > this.#arena.length) return; // full: the rest stays resident
      const offset = this.#usedBytes;
      this.#arena.set(chunk.data, offset);
      this.#usedBytes += chunk.length;
      this.#liveChunks += 1;
      this.#liveBytes += chunk.length;
      handles.push(this.#handle(offset, chunk.length));
      chunks.shift();
    }
  }

  #handle(offset, length) {
    let fetched = false;
    return {
      fetch: () => {
        if (fetched) throw new Error('handle already fetched');
        fetched = true;
        this.#liveChunks -= 1;
        this.#liveBytes -= length;
        if (this.#liveChunks === 0) this.#usedBytes = 0; // all fetched: recycle the arena
        return { ok: true, chunks: [Bytes.from(this.#arena.subarray(offset, offset + length))] };
      },
    };
  }

  stats() {
    return { storedBytes: this.#liveBytes, storedChunks: this.#liveChunks };
  }
}

export default () => new ArenaSpill();
