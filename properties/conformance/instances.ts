import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { BytesSpill } from '../../src/spill.js';
import type { BackendModule } from './backend_module.js';
import { makeTempDir } from '../run_dir.js';

/**
 * Directories for the backend instances a suite makes: one directory under the command's run
 * directory (`run_dir.ts`), made with the first instance and reported through `onDir` (a worker stopped in the
 * middle of a suite never reaches its own clean-up, so whoever stopped it removes that one
 * directory), and a numbered subdirectory in it per instance.
 */
export class InstanceDirs {
  readonly #prefix: string;
  readonly #onDir: ((dir: string) => void) | undefined;
  #parent: string | undefined;
  #count = 0;

  constructor(prefix: string, onDir?: (dir: string) => void) {
    this.#prefix = prefix;
    this.#onDir = onDir;
  }

  /** A fresh, empty directory for the next instance. */
  next(): string {
    if (this.#parent === undefined) {
      this.#parent = makeTempDir(this.#prefix);
      this.#onDir?.(this.#parent);
    }
    const dir = join(this.#parent, String(this.#count++));
    mkdirSync(dir);
    return dir;
  }

  /** Remove every instance's directory (nothing, when no instance was made). */
  remove(): void {
    if (this.#parent !== undefined) rmSync(this.#parent, { recursive: true, force: true });
  }
}

/**
 * Hand each instance to the module's `dispose`, one after another, telling `onDispose` while one
 * is pending (so a dispose that hangs is named). A dispose that throws is the clauses' business
 * (`validate` judges it); here it is passed over and the suite's verdict stands.
 */
export async function disposeEach(module: BackendModule, spills: readonly BytesSpill[], onDispose?: (waiting: boolean) => void): Promise<void> {
  if (module.dispose === undefined) return;
  for (const spill of spills) {
    onDispose?.(true);
    try {
      await module.dispose(spill);
    } catch {
      // Judged by validate's clauses, not here.
    } finally {
      onDispose?.(false);
    }
  }
}
