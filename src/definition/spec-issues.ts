/**
 * Turns zod issues into spec issues: one RF code and one message a person can
 * act on per issue, with the JSON path of the offending value.
 */
import type { z } from "zod";

import { isSpecErrorCode, type SpecErrorCode, SpecErrorCodes } from "./error-codes.js";

/** One rule violation in a spec. */
export interface SpecIssue {
  /** The RF code, identical to the SQLSTATE the SQL engine raises for the same mistake. */
  readonly code: SpecErrorCode;
  /** Where in the spec, e.g. `["steps", 1, "attempts"]`; empty for the spec itself. */
  readonly path: readonly (string | number)[];
  /** What is wrong and how to fix it, prefixed with the path (`steps[1].attempts: …`). */
  readonly message: string;
}

/** Formats a path as `steps[1].backoff.base` (`spec` for the root). */
export function formatPath(path: readonly PropertyKey[]): string {
  let text = "";
  for (const segment of path) {
    if (typeof segment === "number") text += `[${segment}]`;
    else text += text === "" ? String(segment) : `.${String(segment)}`;
  }
  return text === "" ? "spec" : text;
}

/** Converts zod issues (parsed with `reportInput: true`) to spec issues. */
export function toSpecIssues(
  issues: readonly z.core.$ZodIssue[],
  prefix: readonly PropertyKey[] = [],
): SpecIssue[] {
  return issues.flatMap((issue) => {
    const path = [...prefix, ...issue.path];
    if (issue.code === "invalid_union") {
      const branch = matchingBranch(issue);
      if (branch !== undefined) return toSpecIssues(branch, path);
    }
    return [toSpecIssue(issue, path)];
  });
}

function toSpecIssue(issue: z.core.$ZodIssue, path: readonly PropertyKey[]): SpecIssue {
  const last = path[path.length - 1];
  const message =
    issue.code === "invalid_type" && issue.input === undefined && typeof last === "string"
      ? `missing required field "${last}"`
      : issue.message;
  return {
    code: codeOf(issue),
    path: path.filter((s): s is string | number => typeof s !== "symbol"),
    message: `${formatPath(path)}: ${message}`,
  };
}

function codeOf(issue: z.core.$ZodIssue): SpecErrorCode {
  if (issue.code === "unrecognized_keys") return SpecErrorCodes.unknownOption;
  if (issue.code === "custom") {
    const code: unknown = issue.params?.["rfCode"];
    if (isSpecErrorCode(code)) return code;
  }
  return SpecErrorCodes.invalidSpec;
}

/**
 * zod already reports the inner issues of a union when exactly one branch
 * accepts the value's type; when it does not (e.g. `{ "name": "q" }` for a
 * queue, where the string branch fails on type and the object branch on a
 * missing key), pick the one branch that did not fail on the value's own type.
 */
function matchingBranch(issue: z.core.$ZodIssueInvalidUnion): z.core.$ZodIssue[] | undefined {
  const candidates = issue.errors.filter(
    (branch) =>
      branch.length > 0 &&
      !branch.some((inner) => inner.code === "invalid_type" && inner.path.length === 0),
  );
  return candidates.length === 1 ? candidates[0] : undefined;
}
