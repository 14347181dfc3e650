// The property suites: run them, replay their failures, keep failures as fixtures.
export { SUITE_NAMES, RUNS_DEFAULT, runSuite, replaySeed, replayCommand, type RunSuiteOptions, type SuiteResult, type SuiteFailure, type ReplayResult } from './run_suite.js';
export { makeFixture, fixtureFileName, replayFixture, readFixtureJson, modelHash, FIXTURE_FORMAT, type Fixture, type FixtureReplay, type FixtureVerdict } from './fixture.js';
export { ExampleDb, EXAMPLE_DB_DIR } from './example_db.js';
export { formatCommandTrace } from './command_trace.js';
export { SUITES, findSuite } from './suites/index.js';
export type { CommandData } from './command_data.js';
export type { RuleId, Violation } from './violation.js';
