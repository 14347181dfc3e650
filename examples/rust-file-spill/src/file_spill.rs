//! A file-backed spill backend: one file per spill call in the instance's directory, one handle
//! per chunk. Each fetch reads only its own chunk (the reference reads the whole file at its first
//! fetch); a file is deleted when its last chunk has been fetched.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::protocol::{Backend, Chunk};

/// Known bugs, switched on with `--bug NAME`, so the validator can be seen catching them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bug {
    /// Spills at most 4 chunks per call (a batch limit) but takes them from the **back** of the
    /// list, so the chunks left for the retry are not the undrained tail.
    DrainsBack,
    /// One handle for the whole batch; its fetch returns every chunk of the batch.
    OneHandlePerBatch,
    /// A failed read has already forgotten the chunk, so the retry can never succeed.
    NoRetry,
}

impl Bug {
    pub fn parse(name: &str) -> Option<Bug> {
        match name {
            "drains-back" => Some(Bug::DrainsBack),
            "one-handle-per-batch" => Some(Bug::OneHandlePerBatch),
            "no-retry" => Some(Bug::NoRetry),
            _ => None,
        }
    }

    pub const NAMES: &'static str = "drains-back, one-handle-per-batch, no-retry";
}

/// How many chunks the drains-back bug takes per call.
const DRAINS_BACK_CHUNKS_MAX: usize = 4;

/// Where one handle's bytes are: a file and the chunks in it (one chunk, unless batched by a bug).
struct Slot {
    file: u64,
    extents: Vec<(u64, u64)>,
}

pub struct FileSpill {
    dir: PathBuf,
    bug: Option<Bug>,
    next_file: u64,
    next_handle: u64,
    slots: HashMap<u64, Slot>,
    /// Live handles per file; the file goes when this reaches zero.
    files: HashMap<u64, usize>,
    stored_bytes: u64,
    stored_chunks: u64,
}

impl FileSpill {
    pub fn open(dir: &Path, bug: Option<Bug>) -> io::Result<FileSpill> {
        fs::create_dir_all(dir)?;
        Ok(FileSpill { dir: dir.to_path_buf(), bug, next_file: 0, next_handle: 0, slots: HashMap::new(), files: HashMap::new(), stored_bytes: 0, stored_chunks: 0 })
    }

    fn path(&self, file: u64) -> PathBuf {
        self.dir.join(format!("spill-{}.bin", file))
    }

    /// Write chunks in order until one is set to fail (or a write really fails); returns their extents.
    fn write_in_order(&mut self, file: u64, chunks: &[Chunk]) -> Vec<(u64, u64)> {
        let mut extents = Vec::new();
        let mut out = match OpenOptions::new().create_new(true).write(true).open(self.path(file)) {
            Ok(out) => out,
            Err(error) => {
                eprintln!("rust-file-spill: cannot create {}: {}", self.path(file).display(), error);
                return extents;
            }
        };
        let mut offset = 0u64;
        for chunk in chunks {
            if chunk.fail_write {
                eprintln!("rust-file-spill: write of chunk {} set to fail; stopping after {} chunks", extents.len(), extents.len());
                break;
            }
            if let Err(error) = out.write_all(&chunk.data) {
                eprintln!("rust-file-spill: write failed: {}; stopping after {} chunks", error, extents.len());
                break;
            }
            extents.push((offset, chunk.data.len() as u64));
            offset += chunk.data.len() as u64;
        }
        extents
    }

    fn release(&mut self, file: u64) {
        let live = self.files.get_mut(&file).expect("a slot names a file we track");
        *live -= 1;
        if *live == 0 {
            self.files.remove(&file);
            let _ = fs::remove_file(self.path(file));
        }
    }
}

impl Backend for FileSpill {
    fn spill(&mut self, chunks: &mut Vec<Chunk>, handles: &mut Vec<u64>) {
        if chunks.is_empty() {
            return;
        }
        let file = self.next_file;
        self.next_file += 1;
        // The bug writes the last few chunks; a correct spill writes from the front.
        let first = if self.bug == Some(Bug::DrainsBack) { chunks.len().saturating_sub(DRAINS_BACK_CHUNKS_MAX) } else { 0 };
        let extents = self.write_in_order(file, &chunks[first..]);
        let written = extents.len();
        if written == 0 {
            let _ = fs::remove_file(self.path(file));
            return;
        }
        self.stored_bytes += extents.iter().map(|e| e.1).sum::<u64>();
        self.stored_chunks += written as u64;
        if self.bug == Some(Bug::OneHandlePerBatch) {
            self.files.insert(file, 1);
            self.slots.insert(self.next_handle, Slot { file, extents });
            handles.push(self.next_handle);
            self.next_handle += 1;
        } else {
            self.files.insert(file, written);
            for extent in extents {
                self.slots.insert(self.next_handle, Slot { file, extents: vec![extent] });
                handles.push(self.next_handle);
                self.next_handle += 1;
            }
        }
        if self.bug == Some(Bug::DrainsBack) {
            chunks.drain(first..first + written);
        } else {
            chunks.drain(..written);
        }
    }

    fn fetch(&mut self, handle: u64, fail_read: bool) -> Result<Vec<Vec<u8>>, u64> {
        if self.bug == Some(Bug::NoRetry) && fail_read {
            // The bug: the slot is forgotten before the read is known to have worked.
            self.slots.remove(&handle);
            return Err(handle);
        }
        let slot = match self.slots.get(&handle) {
            Some(slot) => slot,
            None => panic!("handle {} was already fetched or never existed; fetch consumes a handle", handle),
        };
        if fail_read {
            eprintln!("rust-file-spill: read of handle {} set to fail; the handle is kept for a retry", handle);
            return Err(handle);
        }
        let mut chunks = Vec::with_capacity(slot.extents.len());
        let read = (|| -> io::Result<()> {
            let mut input = File::open(self.path(slot.file))?;
            for &(offset, length) in &slot.extents {
                input.seek(SeekFrom::Start(offset))?;
                let mut data = vec![0u8; length as usize];
                input.read_exact(&mut data)?;
                chunks.push(data);
            }
            Ok(())
        })();
        if let Err(error) = read {
            eprintln!("rust-file-spill: read of handle {} failed: {}; kept for a retry", handle, error);
            return Err(handle);
        }
        let slot = self.slots.remove(&handle).expect("looked up above");
        self.stored_bytes -= slot.extents.iter().map(|e| e.1).sum::<u64>();
        self.stored_chunks -= slot.extents.len() as u64;
        self.release(slot.file);
        Ok(chunks)
    }

    fn stats(&self) -> (u64, u64) {
        (self.stored_bytes, self.stored_chunks)
    }
}

impl Drop for FileSpill {
    fn drop(&mut self) {
        for file in self.files.keys() {
            let _ = fs::remove_file(self.path(*file));
        }
    }
}
