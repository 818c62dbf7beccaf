/**
 * The error thrown when a workflow spec (or a DSL definition) breaks a rule.
 * Its `code` is the RF SQLSTATE the SQL engine would raise for the first issue.
 */
import { RowflowError } from "../errors.js";
import type { SpecErrorCode } from "./error-codes.js";
import type { SpecIssue } from "./spec-issues.js";

/** A spec failed validation. `issues` lists every problem found; `code` is the first one's. */
export class SpecValidationError extends RowflowError {
  declare readonly code: SpecErrorCode;
  /** Every problem found, in spec order (structural problems first, then graph problems). */
  readonly issues: readonly SpecIssue[];
  /** The workflow concerned, when known. */
  readonly workflow: string | undefined;

  constructor(
    issues: readonly [SpecIssue, ...SpecIssue[]],
    options: { workflow?: string | undefined } = {},
  ) {
    const [first, ...rest] = issues;
    const subject =
      options.workflow === undefined
        ? "invalid workflow spec"
        : `invalid workflow "${options.workflow}"`;
    const more =
      rest.length === 0
        ? ""
        : `\n${rest.map((issue) => `  - [${issue.code}] ${issue.message}`).join("\n")}`;
    super(`${subject}: [${first.code}] ${first.message}${more}`, { code: first.code });
    this.issues = issues;
    this.workflow = options.workflow;
  }
}
