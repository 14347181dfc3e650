/**
 * The I/O thread behind a synchronous process channel. The spill traits are synchronous, so the
 * thread that calls `spill` blocks in `Atomics.wait`; this worker does the child's I/O with
 * Node's ordinary async streams meanwhile: it writes a request frame to the child's stdin, reads
 * stdout until one whole answer frame is there, posts it back and wakes the caller.
 *
 * Kept as source text (only `node:` built-ins) so the same worker starts from the build and from
 * the TypeScript sources without a loader.
 *
 * Messages in: `{ seq, op: 'spawn', argv }`, `{ seq, op: 'call', child, frame }`,
 * `{ seq, op: 'end', child, graceMs }`, `{ seq, op: 'kill', child }`, `{ seq, op: 'log', child }`.
 * Every one is answered with `{ seq, ok, ... }`; a failure carries a one-line `message`, and
 * every answer about a child carries `log` (the tail of its stderr).
 */
export const IO_HOST_SOURCE = `
const { spawn } = require('node:child_process');
const { workerData } = require('node:worker_threads');
const { port, flag } = workerData;
const MAGIC = 0xf5;
const HEADER = 8;
const BODY_MAX = 1 << 30;
const LOG_BYTES_MAX = 8192;
const children = new Map();
let nextChild = 1;

function reply(message, transfer) {
  port.postMessage(message, transfer || []);
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
}

function hex(bytes) {
  const shown = bytes.subarray(0, 8);
  const h = Array.from(shown, (b) => b.toString(16).padStart(2, '0')).join(' ');
  const t = Array.from(shown, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
  return h + (bytes.length > 8 ? ' …' : '') + ' ("' + t + '")';
}

function logOf(c) {
  return Buffer.concat(c.log).toString('utf8');
}

function exitText(c) {
  if (c.signal) return 'was killed by ' + c.signal;
  if (c.code !== null && c.code !== undefined) return 'exited with code ' + c.code;
  return 'closed its stdout';
}

function fail(c, message) {
  if (c.broken === undefined) c.broken = message;
  const pending = c.pending;
  c.pending = undefined;
  if (pending !== undefined) reply({ seq: pending, ok: false, message: c.broken, log: logOf(c) });
}

// Parse what stdout has delivered: at most one frame per pending call; bytes nobody asked for are a
// fault. A frame is copied once, into a buffer of its announced size, as its pieces arrive.
function pump(c) {
  if (c.broken !== undefined) return;
  if (c.pending === undefined) {
    if (c.bytes > 0) fail(c, 'wrote ' + c.bytes + ' bytes to stdout when no answer was due: ' + hex(Buffer.concat(c.chunks)));
    return;
  }
  if (c.frame === undefined) {
    if (c.bytes < HEADER) return;
    if (c.chunks[0].length < HEADER) c.chunks = [Buffer.concat(c.chunks)];
    const head = c.chunks[0];
    if (head[0] !== MAGIC) return fail(c, 'wrote garbage where a frame should start: ' + hex(Buffer.concat(c.chunks)) + ' (a frame starts with 0xf5)');
    const body = head.readUInt32LE(4);
    if (body > BODY_MAX) return fail(c, 'announced a ' + body + '-byte frame body, over the ' + BODY_MAX + '-byte limit');
    c.frame = new Uint8Array(HEADER + body);
    c.filled = 0;
  }
  const frame = c.frame;
  while (c.chunks.length > 0 && c.filled < frame.length) {
    const piece = c.chunks[0];
    const take = Math.min(piece.length, frame.length - c.filled);
    frame.set(take === piece.length ? piece : piece.subarray(0, take), c.filled);
    c.filled += take;
    c.bytes -= take;
    if (take === piece.length) c.chunks.shift();
    else c.chunks[0] = piece.subarray(take);
  }
  if (c.filled < frame.length) return;
  c.frame = undefined;
  const seq = c.pending;
  c.pending = undefined;
  reply({ seq, ok: true, frame }, [frame.buffer]);
  if (c.bytes > 0) fail(c, 'wrote ' + c.bytes + ' bytes after its answer frame: ' + hex(Buffer.concat(c.chunks)));
}

function progress(c) {
  if (c.frame !== undefined) return (c.filled + c.bytes) + ' of the ' + c.frame.length + ' bytes of a frame';
  if (c.bytes === 0) return 'nothing of an answer';
  if (c.bytes < HEADER) return c.bytes + ' bytes of an 8-byte frame header';
  const data = Buffer.concat(c.chunks);
  return c.bytes + ' of the ' + (HEADER + data.readUInt32LE(4)) + ' bytes of a frame';
}

function start(seq, argv) {
  let child;
  try {
    child = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (error) {
    reply({ seq, ok: false, message: 'cannot start ' + argv[0] + ': ' + error.message });
    return;
  }
  const id = nextChild++;
  const c = { id, child, chunks: [], bytes: 0, frame: undefined, filled: 0, log: [], logBytes: 0, pending: undefined, broken: undefined, code: undefined, signal: undefined, exited: false, onExit: [] };
  children.set(id, c);
  child.on('spawn', () => reply({ seq, ok: true, child: id, pid: child.pid }));
  child.on('error', (error) => {
    if (child.pid === undefined) {
      children.delete(id);
      reply({ seq, ok: false, message: 'cannot start ' + argv[0] + ': ' + error.message });
    }
  });
  child.stdin.on('error', () => {});
  child.stdout.on('data', (data) => {
    c.chunks.push(data);
    c.bytes += data.length;
    pump(c);
  });
  child.stderr.on('data', (data) => {
    c.log.push(data);
    c.logBytes += data.length;
    while (c.logBytes > LOG_BYTES_MAX && c.log.length > 1) c.logBytes -= c.log.shift().length;
  });
  child.on('exit', (code, signal) => {
    c.code = code;
    c.signal = signal;
  });
  child.on('close', (code, signal) => {
    c.exited = true;
    if (c.code === undefined) { c.code = code; c.signal = signal; }
    const partial = c.bytes > 0 || c.frame !== undefined ? ' after ' + progress(c) : ' before answering';
    fail(c, exitText(c) + partial);
    for (const done of c.onExit.splice(0)) done();
  });
  child.stdout.on('end', () => {
    // A child that closes stdout but keeps running is as gone as one that exited.
    setTimeout(() => {
      if (!c.exited) fail(c, 'closed its stdout' + (c.bytes > 0 || c.frame !== undefined ? ' after ' + progress(c) : ' before answering'));
    }, 200).unref();
  });
}

port.on('message', (m) => {
  if (m.op === 'spawn') return start(m.seq, m.argv);
  const c = children.get(m.child);
  if (c === undefined) return reply({ seq: m.seq, ok: false, message: 'no such child', log: '' });
  switch (m.op) {
    case 'call':
      if (c.broken !== undefined) return reply({ seq: m.seq, ok: false, message: c.broken, log: logOf(c) });
      c.pending = m.seq;
      c.child.stdin.write(m.frame);
      return pump(c);
    case 'log':
      return reply({ seq: m.seq, ok: true, log: logOf(c) });
    case 'kill': {
      const where = progress(c);
      c.broken ??= 'was killed';
      c.pending = undefined;
      const answer = () => { children.delete(c.id); reply({ seq: m.seq, ok: true, progress: where, log: logOf(c) }); };
      if (c.exited) return answer();
      c.onExit.push(answer);
      c.child.kill('SIGKILL');
      return;
    }
    case 'end': {
      const answer = () => { children.delete(c.id); reply({ seq: m.seq, ok: true, code: c.code, signal: c.signal, log: logOf(c) }); };
      if (c.exited) return answer();
      c.onExit.push(answer);
      c.broken ??= 'was asked to exit';
      c.child.stdin.end();
      setTimeout(() => { if (!c.exited) c.child.kill('SIGKILL'); }, m.graceMs).unref();
      return;
    }
  }
});
`;
