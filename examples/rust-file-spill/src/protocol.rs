//! The child side of spillsim's backend process protocol, version 1 (docs/backend-protocol.md).
//!
//! Standard library only: copy this file next to your backend, implement [`Backend`] and call
//! [`serve`] from `main`. Frames are read from stdin and written to stdout; stderr is yours (your
//! log: spillsim shows it with a verdict). Never print anything else to stdout.
//!
//! A `panic!` inside your backend becomes a PANIC answer (the contract's panic, which spillsim
//! reports as a thrown error); the child keeps serving.

use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, BufWriter, IoSlice, Read, Write};
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};

/// The protocol version this file speaks.
pub const VERSION: u32 = 1;
const MAGIC: u8 = 0xF5;
const HEADER_BYTES: usize = 8;
const BODY_BYTES_MAX: usize = 1 << 30;
const OUTPUT_BUFFER_BYTES: usize = 1 << 21;

mod request {
    pub const HELLO: u8 = 0x01;
    pub const OPEN: u8 = 0x02;
    pub const SPILL: u8 = 0x03;
    pub const FETCH: u8 = 0x04;
    pub const STATS: u8 = 0x05;
    pub const CLOSE: u8 = 0x06;
    pub const BYE: u8 = 0x07;
}

mod answer {
    pub const OK: u8 = 0x80;
    pub const READY: u8 = 0x81;
    pub const SPILLED: u8 = 0x83;
    pub const FETCHED: u8 = 0x84;
    pub const FETCH_FAILED: u8 = 0x85;
    pub const STATS: u8 = 0x86;
    pub const PANIC: u8 = 0xE0;
    pub const ERROR: u8 = 0xE1;
}

/// What the backend declares in the handshake (the `supports` manifest).
#[derive(Clone, Copy, Debug, Default)]
pub struct Supports {
    /// `spill` honours `Chunk::fail_write` and stops partway at that chunk.
    pub partial_spill: bool,
    /// `fetch` honours `fail_read` and returns `Err(handle)` for a retry.
    pub failing_fetch: bool,
    /// `stats` tells what the backend holds.
    pub stats: bool,
}

/// One chunk of a spill call.
pub struct Chunk {
    pub data: Vec<u8>,
    /// spillsim's fault switch: treat the write of this chunk as an I/O error.
    pub fail_write: bool,
    /// Where the chunk stood in the call (the protocol reports drained chunks by this index).
    index: u32,
}

/// A backend instance: `BytesSpill` and `BytesFetch` of timely's spill module, with handles as ids.
pub trait Backend {
    /// Drain `chunks` **from the front**, pushing **one handle id per drained chunk, in order**.
    /// Stopping partway (storage full, a write failed) is allowed; the rest is retried later.
    fn spill(&mut self, chunks: &mut Vec<Chunk>, handles: &mut Vec<u64>);
    /// Consume `handle`: its chunks, or `Err(handle)` (usually the same id) to be retried later.
    /// `fail_read` is spillsim's fault switch: treat the read as an I/O error.
    fn fetch(&mut self, handle: u64, fail_read: bool) -> Result<Vec<Vec<u8>>, u64>;
    /// Bytes and chunks stored and not yet released (only asked when `Supports::stats`).
    fn stats(&self) -> (u64, u64) {
        (0, 0)
    }
}

/// Serve backends on stdin/stdout until stdin ends or BYE; `open(dir)` makes one instance.
pub fn serve<B, F>(name: &str, supports: Supports, mut open: F) -> io::Result<()>
where
    B: Backend,
    F: FnMut(&Path) -> io::Result<B>,
{
    let mut input = BufReader::with_capacity(1 << 16, raw_stdin());
    // Large enough that a frame usually leaves in one write: a frame split across writes costs the reader a wake-up.
    let mut output = BufWriter::with_capacity(OUTPUT_BUFFER_BYTES, raw_stdout());
    let mut instances: HashMap<u32, B> = HashMap::new();
    // Reused for every request but SPILL, whose chunks are read straight into their own buffers.
    let mut body_buffer = Vec::new();
    loop {
        let (kind, length) = match read_header(&mut input)? {
            Some(header) => header,
            None => return Ok(()),
        };
        if kind == request::SPILL {
            let (id, mut chunks) = read_spill(&mut input, length)?;
            let answer = match instances.get_mut(&id) {
                None => text(answer::ERROR, &format!("no open instance {}", id)),
                Some(backend) => spilled(backend, &mut chunks),
            };
            write_frame(&mut output, answer.0, &answer.1)?;
            output.flush()?;
            continue;
        }
        body_buffer.resize(length, 0);
        input.read_exact(&mut body_buffer)?;
        let mut body = Body { bytes: &body_buffer, at: 0 };
        let (answer_kind, answer_body) = match kind {
            request::HELLO => {
                let (min, max) = (body.u32()?, body.u32()?);
                if VERSION < min || VERSION > max {
                    text(answer::ERROR, &format!("this child speaks protocol version {} only", VERSION))
                } else {
                    let bits = (supports.partial_spill as u32) | (supports.failing_fetch as u32) << 1 | (supports.stats as u32) << 2;
                    let mut out = Vec::new();
                    put_u32(&mut out, VERSION);
                    put_u32(&mut out, bits);
                    out.extend_from_slice(name.as_bytes());
                    (answer::READY, out)
                }
            }
            request::OPEN => {
                let id = body.u32()?;
                let dir = PathBuf::from(String::from_utf8_lossy(body.rest()).into_owned());
                match guarded(|| open(&dir)) {
                    Ok(Ok(backend)) => {
                        instances.insert(id, backend);
                        (answer::OK, Vec::new())
                    }
                    Ok(Err(error)) => text(answer::PANIC, &format!("opening an instance in {} failed: {}", dir.display(), error)),
                    Err(message) => text(answer::PANIC, &message),
                }
            }
            request::FETCH => {
                let id = body.u32()?;
                let faults = body.u32()?;
                let handle = body.u64()?;
                match instances.get_mut(&id) {
                    None => text(answer::ERROR, &format!("no open instance {}", id)),
                    Some(backend) => match guarded(|| backend.fetch(handle, faults & 1 != 0)) {
                        Err(message) => text(answer::PANIC, &message),
                        Ok(Err(retry)) => (answer::FETCH_FAILED, retry.to_le_bytes().to_vec()),
                        Ok(Ok(chunks)) => {
                            // Written straight from the chunks with one gathering write: no copy in
                            // this process, and the frame leaves in one piece.
                            let body_bytes = 4 + chunks.iter().map(|c| 4 + c.len()).sum::<usize>();
                            let mut prefixes = Vec::with_capacity(HEADER_BYTES + 4 + 4 * chunks.len());
                            write_header(&mut prefixes, answer::FETCHED, body_bytes)?;
                            put_u32(&mut prefixes, chunks.len() as u32);
                            let prefix_at = HEADER_BYTES + 4;
                            let mut slices = Vec::with_capacity(1 + 2 * chunks.len());
                            slices.push(&prefixes[..prefix_at]);
                            let lengths: Vec<[u8; 4]> = chunks.iter().map(|c| (c.len() as u32).to_le_bytes()).collect();
                            for (chunk, length) in chunks.iter().zip(&lengths) {
                                slices.push(length);
                                slices.push(chunk);
                            }
                            output.flush()?;
                            write_all_gathered(output.get_mut(), &slices)?;
                            continue;
                        }
                    },
                }
            }
            request::STATS => {
                let id = body.u32()?;
                match instances.get(&id) {
                    None => text(answer::ERROR, &format!("no open instance {}", id)),
                    Some(backend) => {
                        let (bytes, chunks) = backend.stats();
                        let mut out = bytes.to_le_bytes().to_vec();
                        out.extend_from_slice(&chunks.to_le_bytes());
                        (answer::STATS, out)
                    }
                }
            }
            request::CLOSE => {
                // Dropping the instance releases its storage.
                instances.remove(&body.u32()?);
                (answer::OK, Vec::new())
            }
            request::BYE => {
                write_frame(&mut output, answer::OK, &[])?;
                output.flush()?;
                return Ok(());
            }
            other => text(answer::ERROR, &format!("unknown request kind 0x{:02x}", other)),
        };
        write_frame(&mut output, answer_kind, &answer_body)?;
        output.flush()?;
    }
}

/// SPILL's body, read field by field: each chunk straight into a buffer of its own, past the
/// input buffer (a chunk's bytes are copied once, by the kernel; only what the buffer already
/// held is copied from it).
fn read_spill<R: Read>(input: &mut BufReader<R>, length: usize) -> io::Result<(u32, Vec<Chunk>)> {
    // Two u32 fields at a time: the instance and count, then each chunk's length and fault word.
    let mut pair = [0u8; 8];
    let mut u32_pair = |input: &mut BufReader<R>| -> io::Result<(u32, u32)> {
        read_exact_past_buffer(input, &mut pair)?;
        Ok((u32::from_le_bytes([pair[0], pair[1], pair[2], pair[3]]), u32::from_le_bytes([pair[4], pair[5], pair[6], pair[7]])))
    };
    let (id, count) = u32_pair(input)?;
    let mut used = 8usize;
    let mut chunks = Vec::with_capacity(count.min(1 << 16) as usize);
    for index in 0..count {
        let (length_bytes, faults) = u32_pair(input)?;
        let length_bytes = length_bytes as usize;
        used += 8 + length_bytes;
        if used > length {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "a SPILL body is shorter than its chunks"));
        }
        let mut data = vec![0u8; length_bytes];
        read_exact_past_buffer(input, &mut data)?;
        chunks.push(Chunk { data, fail_write: faults & 1 != 0, index });
    }
    if used != length {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "a SPILL body is longer than its chunks"));
    }
    Ok((id, chunks))
}

/// Fill `out` from what `input` has buffered, then straight from its source: reading a chunk
/// through the buffer would copy it twice.
fn read_exact_past_buffer<R: Read>(input: &mut BufReader<R>, out: &mut [u8]) -> io::Result<()> {
    let buffered = input.buffer().len().min(out.len());
    out[..buffered].copy_from_slice(&input.buffer()[..buffered]);
    input.consume(buffered);
    input.get_mut().read_exact(&mut out[buffered..])
}

/// Call `spill` and describe what it did: the drained chunk indices and the handles pushed.
fn spilled<B: Backend>(backend: &mut B, chunks: &mut Vec<Chunk>) -> (u8, Vec<u8>) {
    let count = chunks.len() as u32;
    let mut handles = Vec::new();
    match guarded(|| backend.spill(chunks, &mut handles)) {
        Err(message) => text(answer::PANIC, &message),
        Ok(()) => {
            let left: Vec<u32> = chunks.iter().map(|c| c.index).collect();
            let drained: Vec<u32> = (0..count).filter(|i| !left.contains(i)).collect();
            let mut out = Vec::with_capacity(8 + 4 * drained.len() + 8 * handles.len());
            put_u32(&mut out, drained.len() as u32);
            drained.iter().for_each(|&i| put_u32(&mut out, i));
            put_u32(&mut out, handles.len() as u32);
            handles.iter().for_each(|&h| out.extend_from_slice(&h.to_le_bytes()));
            (answer::SPILLED, out)
        }
    }
}

/// Run a backend call; a panic becomes its message (the default hook has already logged it to stderr).
fn guarded<T>(call: impl FnOnce() -> T) -> Result<T, String> {
    panic::catch_unwind(AssertUnwindSafe(call)).map_err(|payload| {
        if let Some(text) = payload.downcast_ref::<&str>() {
            text.to_string()
        } else if let Some(text) = payload.downcast_ref::<String>() {
            text.clone()
        } else {
            "the backend panicked".to_string()
        }
    })
}

fn text(kind: u8, message: &str) -> (u8, Vec<u8>) {
    (kind, message.as_bytes().to_vec())
}

fn put_u32(out: &mut Vec<u8>, value: u32) {
    out.extend_from_slice(&value.to_le_bytes());
}

/// A frame's kind and body length, or `None` at a clean end of stdin (between frames).
fn read_header(input: &mut impl Read) -> io::Result<Option<(u8, usize)>> {
    let mut header = [0u8; HEADER_BYTES];
    let mut got = 0;
    while got < HEADER_BYTES {
        match input.read(&mut header[got..])? {
            0 if got == 0 => return Ok(None),
            0 => return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "stdin ended inside a frame header")),
            n => got += n,
        }
    }
    if header[0] != MAGIC {
        return Err(io::Error::new(io::ErrorKind::InvalidData, format!("a frame must start with 0xf5, got 0x{:02x}", header[0])));
    }
    let length = u32::from_le_bytes([header[4], header[5], header[6], header[7]]) as usize;
    if length > BODY_BYTES_MAX {
        return Err(io::Error::new(io::ErrorKind::InvalidData, format!("a {}-byte frame body is over the limit", length)));
    }
    Ok(Some((header[1], length)))
}

fn write_header(output: &mut impl Write, kind: u8, body_bytes: usize) -> io::Result<()> {
    let mut header = [0u8; HEADER_BYTES];
    header[0] = MAGIC;
    header[1] = kind;
    header[4..8].copy_from_slice(&(body_bytes as u32).to_le_bytes());
    output.write_all(&header)
}

/// Write every byte of `parts`, in order, with as few `write` calls as the pipe allows.
fn write_all_gathered(output: &mut impl Write, parts: &[&[u8]]) -> io::Result<()> {
    let (mut part, mut at) = (0, 0);
    while part < parts.len() {
        let slices: Vec<IoSlice> = std::iter::once(IoSlice::new(&parts[part][at..])).chain(parts[part + 1..].iter().map(|p| IoSlice::new(p))).collect();
        let mut written = match output.write_vectored(&slices) {
            Ok(0) => return Err(io::Error::new(io::ErrorKind::WriteZero, "stdout took no bytes")),
            Ok(n) => n,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        // Step past what was written.
        while part < parts.len() && written >= parts[part].len() - at {
            written -= parts[part].len() - at;
            part += 1;
            at = 0;
        }
        at += written;
    }
    Ok(())
}

/// Stdout as a plain file where there are descriptors: Rust's `Stdout` is line-buffered and
/// would split a frame at every newline byte of a chunk.
#[cfg(unix)]
fn raw_stdout() -> &'static std::fs::File {
    use std::os::unix::io::FromRawFd;
    // Leaked, so never closed: descriptor 1 stays stdout's.
    Box::leak(Box::new(unsafe { std::fs::File::from_raw_fd(1) }))
}

/// Stdin as a plain file where there are descriptors: Rust's `Stdin` has a buffer of its own,
/// which would copy every chunk once more.
#[cfg(unix)]
fn raw_stdin() -> &'static std::fs::File {
    use std::os::unix::io::FromRawFd;
    // Leaked, so never closed: descriptor 0 stays stdin's.
    Box::leak(Box::new(unsafe { std::fs::File::from_raw_fd(0) }))
}

#[cfg(not(unix))]
fn raw_stdin() -> io::StdinLock<'static> {
    io::stdin().lock()
}

#[cfg(not(unix))]
fn raw_stdout() -> io::StdoutLock<'static> {
    io::stdout().lock()
}

fn write_frame(output: &mut impl Write, kind: u8, body: &[u8]) -> io::Result<()> {
    write_header(output, kind, body.len())?;
    output.write_all(body)
}

/// Reads a request body field by field; running past its end is a broken request.
struct Body<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Body<'a> {
    fn bytes(&mut self, length: usize) -> io::Result<&'a [u8]> {
        if self.at + length > self.bytes.len() {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "a request body is shorter than its fields"));
        }
        let out = &self.bytes[self.at..self.at + length];
        self.at += length;
        Ok(out)
    }

    fn u32(&mut self) -> io::Result<u32> {
        let b = self.bytes(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self) -> io::Result<u64> {
        let b = self.bytes(8)?;
        let mut out = [0u8; 8];
        out.copy_from_slice(b);
        Ok(u64::from_le_bytes(out))
    }

    fn rest(&mut self) -> &'a [u8] {
        let out = &self.bytes[self.at..];
        self.at = self.bytes.len();
        out
    }
}
