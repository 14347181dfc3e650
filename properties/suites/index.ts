import type { Suite } from '../suite.js';
import { DIFFERENTIAL } from './differential.js';
import { EXHAUSTIVE } from './exhaustive.js';
import { MEMORY_BOUND } from './memory_bound.js';
import { NO_STALL } from './no_stall.js';
import { ORDERING } from './ordering.js';
import { PARTIAL_SPILL } from './partial_spill.js';
import { TRANSPARENCY } from './transparency.js';

/** Every suite, in the order `spillsim check` runs them. */
export const SUITES: readonly Suite[] = [ORDERING, NO_STALL, PARTIAL_SPILL, MEMORY_BOUND, DIFFERENTIAL, TRANSPARENCY, EXHAUSTIVE];

export function findSuite(name: string): Suite | undefined {
  return SUITES.find((suite) => suite.name === name);
}
