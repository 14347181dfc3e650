// Mutation testing of the library (src/): `npm run mutate`. Not part of CI (tens of minutes).
// See README "Mutation testing". Equivalent mutants are marked in the source with
// `// Stryker disable next-line <mutator>: <reason>`, never by excluding files.
// SPILLSIM_MUTATE_NAME=x keeps a partial run's incremental file and reports apart
// (reports/mutation/x.*), so runs over different files do not overwrite each other.
const name = process.env.SPILLSIM_MUTATE_NAME ?? 'src';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.stryker.config.ts', related: false },
  mutate: ['src/**/*.ts', '!src/index.ts'],
  // Per-test coverage: each mutant runs only the tests that reached it in-process.
  coverageAnalysis: 'perTest',
  concurrency: 1,
  incremental: true,
  incrementalFile: `reports/mutation/${name}.incremental.json`,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: `reports/mutation/${name}.html` },
  jsonReporter: { fileName: `reports/mutation/${name}.json` },
  clearTextReporter: { allowColor: false, logTests: false, reportMutants: true, reportScoreTable: true },
  thresholds: { high: 95, low: 90, break: null },
  // Added to 1.5 × a test's own time; a mutant that only makes a test slow (O(n²) growth) is a
  // timeout, which Stryker counts as detected.
  timeoutMS: 5_000,
  tempDirName: '.stryker-tmp',
  // Only the library gets @ts-nocheck; fixtures' first lines are checked by tests.
  disableTypeChecks: 'src/**/*.ts',
  cleanTempDir: 'always',
};
