import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

export default defineConfig({
  resolve: {
    // Backend and policy modules import `spillsim`, and a test `validate --emit-test` wrote imports
    // `spillsim/vitest`; inside our own tests both must be the TypeScript source, so a class check
    // sees one `Bytes`, not a built copy and a source copy. Exact matches: a plain string key
    // would also rewrite `spillsim/vitest` into a path under src/index.ts.
    alias: [
      { find: /^spillsim$/, replacement: fileURLToPath(new URL('./src/index.ts', import.meta.url)) },
      { find: /^spillsim\/vitest$/, replacement: fileURLToPath(new URL('./properties/vitest.ts', import.meta.url)) },
    ],
  },
  test: {
    // `*.repro.test.ts`: files `spillsim validate --emit-test` writes, wherever in the tree.
    include: ['test/**/*.test.ts', '**/*.repro.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**', '**/.git/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // One temp dir per run, removed at its end: `os.tmpdir()` in every worker and child process.
    globalSetup: ['test/support/temp_root.ts'],
  },
});
