/**
 * Validation entry points for workflow specs: `validateSpec` returns a result,
 * `parseSpec` throws a `SpecValidationError`. Both apply the rules of
 * `rowflow.define_workflow` and report the same RF code first.
 */
import { describeValue } from "./describe-value.js";
import { SpecErrorCodes } from "./error-codes.js";
import { jsonTextSize } from "./json-text-size.js";
import { SpecValidationError } from "./spec-error.js";
import { graphProblems, type GraphStep } from "./spec-graph.js";
import { sortIssuesLikeSql } from "./spec-issue-order.js";
import { formatPath, type SpecIssue, toSpecIssues } from "./spec-issues.js";
import { type WorkflowSpec, workflowSpecSchema } from "./spec-schema.js";

/** Options of `validateSpec` and `parseSpec`. */
export interface ValidateSpecOptions {
  /**
   * The name the spec is defined under (`define_workflow`'s first argument): it must
   * match the name pattern (RF004) and equal the spec's own `name` when that is
   * present (RF001). (Default: none; then only the spec's own `name` is checked)
   */
  name?: string | undefined;
}

/** Result of `validateSpec`. */
export type ValidateSpecResult =
  | { readonly ok: true; readonly spec: WorkflowSpec }
  | { readonly ok: false; readonly error: SpecValidationError };

/** The largest spec `rowflow.define_workflow` accepts: 1 MiB of JSON text. */
export const MAX_SPEC_BYTES = 1024 * 1024;

/** Validates `spec` with the rules of `rowflow.define_workflow`. Never throws. */
export function validateSpec(spec: unknown, options: ValidateSpecOptions = {}): ValidateSpecResult {
  const size = isRecord(spec) ? jsonTextSize(spec) : 0;
  if (size > MAX_SPEC_BYTES) {
    // SQL checks the size right after the spec's type, and stops there.
    const issues = sortIssuesLikeSql([
      {
        code: SpecErrorCodes.invalidSpec,
        path: [],
        message: `spec: the spec is ${size} bytes of JSON; the limit is 1 MiB (${MAX_SPEC_BYTES} bytes)`,
      },
      ...(options.name === undefined ? [] : nameArgumentIssues(spec, options.name)),
    ]);
    const workflow = options.name ?? ownName(spec);
    return {
      ok: false,
      error: new SpecValidationError(issues as [SpecIssue, ...SpecIssue[]], { workflow }),
    };
  }
  const result = workflowSpecSchema.safeParse(spec, { reportInput: true });
  let issues: SpecIssue[] = [];
  if (!result.success) {
    issues = toSpecIssues(result.error.issues);
    // The schema skips the graph rules when anything else is wrong; SQL checks
    // some of them (duplicate step, self-dependency) before other rules.
    const lenient = graphProblems(lenientSteps(spec), { cycles: false });
    issues.push(...lenient.map((p) => ({ ...p, message: `${formatPath(p.path)}: ${p.message}` })));
  }
  if (options.name !== undefined) {
    // SQL compares spec.name with the argument instead of checking its pattern.
    issues = [
      ...nameArgumentIssues(spec, options.name),
      ...issues.filter((i) => i.path[0] !== "name"),
    ];
  }
  const [first, ...rest] = sortIssuesLikeSql(dedupe(issues));
  if (first !== undefined) {
    const workflow = options.name ?? ownName(spec);
    return { ok: false, error: new SpecValidationError([first, ...rest], { workflow }) };
  }
  if (!result.success) throw new Error("unreachable: zod failed without issues");
  return { ok: true, spec: result.data };
}

/**
 * Validates `spec` like `validateSpec` and returns it typed. Throws a
 * `SpecValidationError` whose `code` is the RF code SQL would raise.
 */
export function parseSpec(spec: unknown, options: ValidateSpecOptions = {}): WorkflowSpec {
  const result = validateSpec(spec, options);
  if (!result.ok) throw result.error;
  return result.spec;
}

/** The schema's own graph check and the lenient one may report the same problem. */
function dedupe(issues: readonly SpecIssue[]): SpecIssue[] {
  const seen = new Set<string>();
  return issues.filter((issue) => {
    const key = `${issue.code} ${JSON.stringify(issue.path)} ${issue.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function ownName(spec: unknown): string | undefined {
  return isRecord(spec) && typeof spec["name"] === "string" ? spec["name"] : undefined;
}

/** The steps whose name is a string, with their string dependencies. */
function lenientSteps(spec: unknown): GraphStep[] {
  if (!isRecord(spec) || !Array.isArray(spec["steps"])) return [];
  return spec["steps"].flatMap((step: unknown, index): GraphStep[] => {
    if (!isRecord(step) || typeof step["name"] !== "string") return [];
    const deps: unknown = step["dependsOn"];
    const dependsOn = Array.isArray(deps)
      ? deps.filter((d): d is string => typeof d === "string")
      : [];
    return [{ name: step["name"], dependsOn, index }];
  });
}

function nameArgumentIssues(spec: unknown, name: string): SpecIssue[] {
  const issues: SpecIssue[] = [];
  const check = workflowSpecSchema.shape.name.safeParse(name, { reportInput: true });
  if (!check.success) {
    for (const issue of toSpecIssues(check.error.issues)) {
      issues.push({ ...issue, path: [], message: issue.message.replace(/^spec: /, "") });
    }
  }
  if (isRecord(spec) && "name" in spec && spec["name"] !== name) {
    issues.push({
      code: SpecErrorCodes.invalidSpec,
      path: ["name"],
      message: `name: spec.name is ${describeValue(spec["name"])}, which differs from the name ${describeValue(name)} it is defined under; remove it or make them equal`,
    });
  }
  return issues;
}
