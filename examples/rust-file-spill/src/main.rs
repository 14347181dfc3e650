//! rust-file-spill: a file-backed spill backend for spillsim's process protocol.
//!
//!     cargo build --release
//!     npx spillsim validate --exec examples/rust-file-spill/target/release/rust-file-spill
//!
//! `--bug NAME` (or SPILL_BUG=NAME) turns on a known bug: drains-back, one-handle-per-batch, no-retry.
//! `--memory` serves an in-memory backend instead of the file one (no I/O but the protocol's).

mod file_spill;
mod memory_spill;
mod protocol;

use file_spill::{Bug, FileSpill};
use memory_spill::MemorySpill;
use protocol::Supports;
use std::process::ExitCode;

const USAGE: &str = "usage: rust-file-spill [--bug NAME | --memory]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let supports = Supports { partial_spill: true, failing_fetch: true, stats: true };
    let bug_name = match args.as_slice() {
        [] => std::env::var("SPILL_BUG").ok().filter(|s| !s.is_empty()),
        [flag, name] if flag == "--bug" => Some(name.clone()),
        [flag] if flag == "--memory" => return finish(protocol::serve("rust-file-spill --memory", supports, |_dir| Ok(MemorySpill::default()))),
        _ => {
            eprintln!("{}   (NAME: {})", USAGE, Bug::NAMES);
            return ExitCode::from(2);
        }
    };
    let bug = match bug_name.as_deref().map(|name| (name, Bug::parse(name))) {
        None => None,
        Some((_, Some(bug))) => Some(bug),
        Some((name, None)) => {
            eprintln!("rust-file-spill: unknown bug {:?}; known: {}", name, Bug::NAMES);
            return ExitCode::from(2);
        }
    };
    let name = match bug {
        None => "rust-file-spill".to_string(),
        Some(bug) => format!("rust-file-spill (bug: {:?})", bug),
    };
    finish(protocol::serve(&name, supports, |dir| FileSpill::open(dir, bug)))
}

fn finish(served: std::io::Result<()>) -> ExitCode {
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("rust-file-spill: {}", error);
            ExitCode::from(1)
        }
    }
}
