import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Fixture, fixtureFileName, readFixtureJson } from './fixture.js';
import { makeDirs } from './output_path.js';

/** Where `spillsim check` keeps failures it found, like Hypothesis's example database (git-ignored). */
export const EXAMPLE_DB_DIR = '.spillsim/examples';

/**
 * A local database of failures: every failure `check` finds is saved here and replayed first
 * on the next `check`, before any new generation, and removed once it passes.
 */
export class ExampleDb {
  readonly dir: string;

  constructor(root: string = process.cwd()) {
    this.dir = join(root, EXAMPLE_DB_DIR);
  }

  save(fixture: Fixture): string {
    makeDirs(this.dir);
    const path = join(this.dir, fixtureFileName(fixture));
    writeFileSync(path, `${JSON.stringify(fixture, null, 2)}\n`);
    return path;
  }

  /** Saved failures of one suite and variant, oldest first by name. */
  entries(suite: string, variant: string): { path: string; value: unknown }[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return [];
    }
    const prefix = `${suite}--${variant}--`;
    return names
      .filter((name) => name.startsWith(prefix) && name.endsWith('.json'))
      .sort()
      .map((name) => {
        const path = join(this.dir, name);
        try {
          return { path, value: readFixtureJson(path) };
        } catch {
          return { path, value: undefined };
        }
      });
  }

  remove(path: string): void {
    rmSync(path, { force: true });
  }
}
