//! rust-file-spill: a file-backed spill backend for spillsim's process protocol.
//!
//!     cargo build --release
//!     npx spillsim validate --exec examples/rust-file-spill/target/release/rust-file-spill
//!
//! `--bug NAME` (or SPILL_BUG=NAME) turns on a known bug: drains-back, one-handle-per-batch, no-retry.

mod file_spill;
mod protocol;

use file_spill::{Bug, FileSpill};
use protocol::Supports;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let bug_name = match args.as_slice() {
        [] => std::env::var("SPILL_BUG").ok().filter(|s| !s.is_empty()),
        [flag, name] if flag == "--bug" => Some(name.clone()),
        _ => {
            eprintln!("usage: rust-file-spill [--bug NAME]   (NAME: {})", Bug::NAMES);
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
    let supports = Supports { partial_spill: true, failing_fetch: true, stats: true };
    match protocol::serve(&name, supports, |dir| FileSpill::open(dir, bug)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("rust-file-spill: {}", error);
            ExitCode::from(1)
        }
    }
}
