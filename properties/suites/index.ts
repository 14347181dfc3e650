import type { Suite } from '../suite.js';
import { DETERMINISM } from './determinism.js';
import { DIFFERENTIAL } from './differential.js';
import { END_TO_END } from './end_to_end.js';
import { EXHAUSTIVE } from './exhaustive.js';
import { MEMORY_BOUND } from './memory_bound.js';
import { NO_STALL } from './no_stall.js';
import { ORDERING } from './ordering.js';
import { PARTIAL_SPILL } from './partial_spill.js';
import { TRANSPARENCY } from './transparency.js';

/** Every suite, in the order `spillsim check` runs them. */
export const SUITES: readonly Suite[] = [ORDERING, NO_STALL, PARTIAL_SPILL, MEMORY_BOUND, DIFFERENTIAL, DETERMINISM, TRANSPARENCY, EXHAUSTIVE, END_TO_END];

export function findSuite(name: string): Suite | undefined {
  return SUITES.find((suite) => suite.name === name);
}
