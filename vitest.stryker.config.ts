import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

// The test files `npm run mutate` runs against each mutant: the unit and model tests that reach
// src/ in this process, since per-test coverage only sees this process. Left out to keep a run
// affordable: the simulator campaigns (sim_findings, sim_swarm), the API model test (api_model,
// 6 s), the property-suite and conformance runs, and the command-line tests (the built dist/ in a
// child process, which would test the unmutated build); the library behaviour they rely on has
// direct tests in this list. Should a listed test start a worker thread or a child process that
// loads src/, it still sees the mutant: test/stryker/active_mutant_env.ts hands the active
// mutant on through the environment.
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    // SPILLSIM_MUTATE_TESTS=a.test.ts,b.test.ts narrows the list while iterating on one file.
    include: process.env.SPILLSIM_MUTATE_TESTS?.split(',').map((name) => `test/${name.trim()}`) ?? [
      'test/merge_queue.test.ts',
      'test/policies.test.ts',
      'test/bytes.test.ts',
      'test/entry_deque.test.ts',
      'test/backends.test.ts',
      'test/threshold_differential.test.ts',
      'test/config.test.ts',
      'test/sim_invariants.test.ts',
      'test/sim_faults.test.ts',
      'test/errors.test.ts',
      'test/argument_errors.test.ts',
      'test/argument_messages.test.ts',
      'test/behaviour_edges.test.ts',
      'test/panic_paths.test.ts',
    ],
    // SPILLSIM_MUTATE_SKIP=<regex> leaves out the tests whose names match (slow property tests, on
    // a loaded machine): the score is then a lower bound.
    testNamePattern: process.env.SPILLSIM_MUTATE_SKIP === undefined ? undefined : new RegExp(`^(?!.*(?:${process.env.SPILLSIM_MUTATE_SKIP}))`),
    // `...base.test` keeps the global setup (test/support/temp_root.ts): a mutation run's tests
    // and the commands they start write temporary files under one directory, removed at its end.
    setupFiles: ['test/stryker/active_mutant_env.ts'],
  },
});
