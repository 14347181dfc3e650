import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

// The test files `npm run mutate` runs against each mutant: the ones that reach src/ in this
// process (per-test coverage can only see those). Suites that the conformance kit runs in a
// worker thread do see the mutant: test/stryker/active_mutant_env.ts hands it on through the
// environment. The command-line tests (built dist/ in a child process) are left out: they
// would test the unmutated build.
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: [
      'test/merge_queue.test.ts',
      'test/policies.test.ts',
      'test/bytes.test.ts',
      'test/entry_deque.test.ts',
      'test/backends.test.ts',
      'test/threshold_differential.test.ts',
      'test/config.test.ts',
      'test/sim_invariants.test.ts',
      'test/sim_faults.test.ts',
      'test/sim_findings.test.ts',
      'test/mutation_gaps.test.ts',
    ],
    setupFiles: ['test/stryker/active_mutant_env.ts'],
  },
});
