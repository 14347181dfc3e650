import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

export default defineConfig({
  resolve: {
    // Backend and policy modules import `spillsim`; inside our own tests that must be the
    // TypeScript source, so a class check sees one `Bytes`, not a built copy and a source copy.
    alias: { spillsim: fileURLToPath(new URL('./src/index.ts', import.meta.url)) },
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
