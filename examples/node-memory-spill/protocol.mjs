// The child side of docs/backend-protocol.md (version 1) in plain Node: read request frames from
// stdin, call a spillsim-shaped backend, write answer frames to stdout. Copy it next to your own
// backend; serve() is the whole API.
//
// serve({ name, supports, open, hooks }):
//   open(dir)  -> a BytesSpill (spill(chunks, handles)), optionally with stats() and close();
//                 its ctx.faults is built from each request's fault words, so a backend that asks
//                 ctx.faults.failWrite() / failRead() sees exactly what spillsim decided.
//   supports   -> { partialSpill, failingFetch, stats } as the READY answer declares them.
//   hooks      -> test-only: onRequest(kind, body, out) may answer a request itself (return true).
import { Bytes } from 'spillsim';

export const MAGIC = 0xf5;
export const VERSION = 1;
export const Request = { hello: 0x01, open: 0x02, spill: 0x03, fetch: 0x04, stats: 0x05, close: 0x06, bye: 0x07 };
export const Answer = { ok: 0x80, ready: 0x81, spilled: 0x83, fetched: 0x84, fetchFailed: 0x85, stats: 0x86, panic: 0xe0, error: 0xe1 };

/** One frame: 8-byte header (magic, kind, reserved u16, body length u32 LE), then the body. */
export function frame(kind, body = new Uint8Array(0)) {
  const out = Buffer.alloc(8 + body.length);
  out[0] = MAGIC;
  out[1] = kind;
  out.writeUInt32LE(body.length, 4);
  out.set(body, 8);
  return out;
}

function u32(n) {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}

function u64(n) {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
}

function text(kind, message) {
  return frame(kind, Buffer.from(message, 'utf8'));
}

export function serve({ name, supports, open, hooks = {} }, { input = process.stdin, output = process.stdout } = {}) {
  const instances = new Map();
  let pending = Buffer.alloc(0);
  const out = (bytes) => output.write(bytes);

  const handle = (kind, body) => {
    if (hooks.onRequest?.(kind, body, out)) return;
    try {
      out(answer(kind, body));
    } catch (error) {
      // A throw from the backend is its panic: say so, and keep serving other instances.
      out(text(Answer.panic, error instanceof Error ? `${error.name}: ${error.message}` : String(error)));
    }
  };

  const answer = (kind, body) => {
    switch (kind) {
      case Request.hello: {
        const min = body.readUInt32LE(0);
        const max = body.readUInt32LE(4);
        if (VERSION < min || VERSION > max) return text(Answer.error, `this child speaks protocol version ${VERSION} only`);
        const bits = (supports.partialSpill ? 1 : 0) | (supports.failingFetch ? 2 : 0) | (supports.stats ? 4 : 0);
        return frame(Answer.ready, Buffer.concat([u32(VERSION), u32(bits), Buffer.from(name, 'utf8')]));
      }
      case Request.open: {
        const id = body.readUInt32LE(0);
        const faults = { write: [], read: false, writeAsks: 0 };
        const ctx = {
          dir: body.subarray(4).toString('utf8'),
          faults: {
            failWrite: () => Boolean(faults.write[faults.writeAsks++]),
            failRead: () => faults.read,
          },
        };
        instances.set(id, { spill: open(ctx), faults, handles: new Map(), nextHandle: 1n });
        return frame(Answer.ok);
      }
      case Request.spill: {
        const instance = instanceOf(body);
        const count = body.readUInt32LE(4);
        const chunks = [];
        instance.faults.write = [];
        instance.faults.writeAsks = 0;
        let at = 8;
        for (let k = 0; k < count; k += 1) {
          const length = body.readUInt32LE(at);
          instance.faults.write.push((body.readUInt32LE(at + 4) & 1) !== 0);
          // A copy: the request buffer is reused for the next frame.
          chunks.push(Bytes.from(new Uint8Array(body.subarray(at + 8, at + 8 + length))));
          at += 8 + length;
        }
        const offered = chunks.slice();
        const handles = [];
        instance.spill.spill(chunks, handles);
        const drained = offered.map((c, k) => (chunks.includes(c) ? -1 : k)).filter((k) => k >= 0);
        const ids = handles.map((h) => {
          const id = instance.nextHandle++;
          instance.handles.set(id, h);
          return id;
        });
        return frame(Answer.spilled, Buffer.concat([u32(drained.length), ...drained.map(u32), u32(ids.length), ...ids.map(u64)]));
      }
      case Request.fetch: {
        const instance = instanceOf(body);
        instance.faults.read = (body.readUInt32LE(4) & 1) !== 0;
        const id = body.readBigUInt64LE(8);
        const h = instance.handles.get(id);
        if (h === undefined) return text(Answer.panic, `handle ${id} was already fetched or never existed`);
        instance.handles.delete(id);
        const result = h.fetch();
        if (!result.ok) {
          instance.handles.set(id, result.handle);
          return frame(Answer.fetchFailed, u64(id));
        }
        return frame(Answer.fetched, Buffer.concat([u32(result.chunks.length), ...result.chunks.flatMap((c) => [u32(c.length), c.data])]));
      }
      case Request.stats: {
        const s = instanceOf(body).spill.stats();
        return frame(Answer.stats, Buffer.concat([u64(s.storedBytes), u64(s.storedChunks)]));
      }
      case Request.close: {
        const id = body.readUInt32LE(0);
        instances.get(id)?.spill.close?.();
        instances.delete(id);
        return frame(Answer.ok);
      }
      case Request.bye:
        return frame(Answer.ok);
      default:
        return text(Answer.error, `unknown request kind 0x${kind.toString(16)}`);
    }
  };

  const instanceOf = (body) => {
    const id = body.readUInt32LE(0);
    const instance = instances.get(id);
    if (instance === undefined) throw new Error(`no open instance ${id}`);
    return instance;
  };

  input.on('data', (data) => {
    pending = pending.length === 0 ? data : Buffer.concat([pending, data]);
    while (pending.length >= 8) {
      const length = pending.readUInt32LE(4);
      if (pending.length < 8 + length) break;
      const kind = pending[1];
      const body = pending.subarray(8, 8 + length);
      pending = pending.subarray(8 + length);
      handle(kind, body);
    }
  });
}
