import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { REPO_ROOT } from './built_cli.js';

/** The Rust example backend, as a command line relative to the repository (what a reader types). */
export const RUST_EXAMPLE = 'examples/rust-file-spill/target/release/rust-file-spill';
const MANIFEST = join(REPO_ROOT, 'examples/rust-file-spill/Cargo.toml');

/** cargo on PATH, or where rustup and Debian put it; undefined when the machine has none. */
export function findCargo(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), join(homedir(), '.cargo', 'bin'), '/usr/bin'];
  for (const dir of dirs.filter((d) => d !== '')) {
    const path = join(dir, 'cargo');
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // Not here.
    }
  }
  return undefined;
}

/**
 * Build the example (`cargo build --release --offline`: it has no dependencies; cargo skips the
 * work when nothing changed and locks its target directory, so parallel test files are safe).
 * No cargo is a failure with the fix in its message, not a skipped test.
 */
export function buildRustExample(): void {
  const cargo = findCargo();
  if (cargo === undefined) throw new Error('cargo not found (PATH, ~/.cargo/bin, /usr/bin): install it (apt-get install cargo) or run .ci/run, which does');
  execFileSync(cargo, ['build', '--release', '--offline', '--quiet', '--manifest-path', MANIFEST], { cwd: REPO_ROOT, stdio: 'pipe' });
}
