import { beforeEach } from 'vitest';

// Only loaded by vitest.stryker.config.ts. Stryker activates a mutant through a global of this
// thread; worker threads and child processes start with their own globals, but instrumented
// code also reads __STRYKER_ACTIVE_MUTANT__ from the environment, which they inherit. Copy the
// active mutant there before each test (after Stryker's own beforeAll has set it).
const ENV = '__STRYKER_ACTIVE_MUTANT__';
beforeEach(() => {
  const active = (globalThis as { __stryker__?: { activeMutant?: string } }).__stryker__?.activeMutant;
  if (active === undefined) delete process.env[ENV];
  else process.env[ENV] = active;
});
