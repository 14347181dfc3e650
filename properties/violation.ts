/** The rules the suites check; a failure names one, and fixtures compare on it. */
export type RuleId =
  | 'order'
  | 'accounting'
  | 'memory-bound'
  | 'no-stall'
  | 'delivery'
  | 'differential'
  | 'transparency'
  | 'determinism'
  | 'end-to-end'
  | 'threw';

export interface Violation {
  rule: RuleId;
  /** One sentence a person can read. */
  message: string;
  /** 1-based number of the command after which it broke (0: during setup, or at the end). */
  step: number;
}

/**
 * Thrown inside a property to tell fast-check a rule broke. Not a `SpillsimError`: it never
 * reaches a user as an error, it is turned into a report with a replay command.
 */
export class PropertyViolation extends Error {
  readonly violation: Violation;
  constructor(violation: Violation) {
    super(`${violation.rule}: ${violation.message}`);
    this.name = 'PropertyViolation';
    this.violation = violation;
  }
}
