//! An in-memory spill backend (`--memory`): each chunk kept in a map, one handle per chunk. It
//! does no I/O of its own, so a benchmark of it measures the protocol, not a disk.

use std::collections::HashMap;

use crate::protocol::{Backend, Chunk};

#[derive(Default)]
pub struct MemorySpill {
    next_handle: u64,
    stored: HashMap<u64, Vec<u8>>,
    stored_bytes: u64,
}

impl Backend for MemorySpill {
    fn spill(&mut self, chunks: &mut Vec<Chunk>, handles: &mut Vec<u64>) {
        // Stop at a write set to fail; everything before it is stored.
        let written = chunks.iter().position(|c| c.fail_write).unwrap_or(chunks.len());
        for chunk in chunks.drain(..written) {
            self.stored_bytes += chunk.data.len() as u64;
            self.stored.insert(self.next_handle, chunk.data);
            handles.push(self.next_handle);
            self.next_handle += 1;
        }
    }

    fn fetch(&mut self, handle: u64, fail_read: bool) -> Result<Vec<Vec<u8>>, u64> {
        if !self.stored.contains_key(&handle) {
            panic!("handle {} was already fetched or never existed; fetch consumes a handle", handle);
        }
        if fail_read {
            return Err(handle);
        }
        let data = self.stored.remove(&handle).expect("checked above");
        self.stored_bytes -= data.len() as u64;
        Ok(vec![data])
    }

    fn stats(&self) -> (u64, u64) {
        (self.stored_bytes, self.stored.len() as u64)
    }
}
