import { describe, expect, test } from "vitest";

import {
  parseSpec,
  SpecErrorCodes,
  SpecValidationError,
  validateSpec,
  workflowSpecSchema,
} from "../../src/definition/index.js";
import { RowflowError } from "../../src/errors.js";
import { invalidCases, oneStep, sqlOnlyPathCases, step, validCases } from "./spec-cases.js";

describe("validateSpec: each rule with its RF code and message", () => {
  test.each(invalidCases)("$code $title", ({ spec, code, message, path, name }) => {
    const result = validateSpec(spec, { name: name ?? "wf" });
    if (result.ok) throw new Error("expected a rejection");
    const [first] = result.error.issues;
    expect(result.error.code).toBe(code);
    expect(first?.code).toBe(code);
    expect(first?.path).toEqual(path);
    expect(first?.message).toContain(message);
    expect(result.error.message).toContain(`[${code}] ${first?.message ?? ""}`);
  });

  test.each(validCases)("accepts: $title", ({ spec }) => {
    const result = validateSpec(spec, { name: "wf" });
    expect(result.ok ? "ok" : result.error.message).toBe("ok");
  });

  test.each(sqlOnlyPathCases)("light path check lets %s through (SQL rejects it)", (expression) => {
    expect(validateSpec(oneStep({ if: expression })).ok).toBe(true);
  });
});

describe("validateSpec results", () => {
  test("returns the spec unchanged (defaults are applied by SQL)", () => {
    const spec = { steps: [step("a", { backoff: { type: "fixed" } })] };
    const result = validateSpec(spec);
    expect(result).toEqual({ ok: true, spec });
  });

  test("lists every problem, in SQL's order, and names the workflow", () => {
    const result = validateSpec(
      { steps: [step("a", { attempts: 0, timeout: "x" }), step("a", { dependsOn: ["zz"] })] },
      { name: "orders" },
    );
    if (result.ok) throw new Error("expected a rejection");
    expect(result.error.workflow).toBe("orders");
    expect(result.error.issues.map((issue) => [issue.code, issue.path])).toEqual([
      ["RF001", ["steps", 0, "attempts"]],
      ["RF010", ["steps", 0, "timeout"]],
      ["RF005", ["steps", 1, "name"]],
      ["RF006", ["steps", 1, "dependsOn", 0]],
    ]);
    expect(result.error.message).toBe(
      'invalid workflow "orders": [RF001] steps[0].attempts: must be an integer from 1 to 1000, got 0\n' +
        '  - [RF010] steps[0].timeout: must be a non-negative integer (milliseconds) or a string "<number> <unit>" with unit ms, s, m, h or d (e.g. "30 seconds"), got "x"\n' +
        '  - [RF005] steps[1].name: duplicate step name "a" (also steps[0]); step names must be unique\n' +
        '  - [RF006] steps[1].dependsOn[0]: step "a": unknown dependency "zz"; known steps: a',
    );
  });

  test("without a name, spec.name is checked against the name pattern", () => {
    const result = validateSpec({ name: "Orders", steps: [step("a")] });
    expect(result.ok ? undefined : result.error.code).toBe("RF004");
  });

  test("a cycle is named from where SQL starts its walk", () => {
    const result = validateSpec({
      steps: [
        step("root"),
        step("b", { dependsOn: ["c"] }),
        step("c", { dependsOn: ["d"] }),
        step("d", { dependsOn: ["b"] }),
      ],
    });
    expect(result.ok ? undefined : result.error.issues[0]?.message).toBe(
      'steps[1].dependsOn: dependency cycle b -> d -> c -> b ("x -> y" means y depends on x); remove one of these dependsOn entries',
    );
  });
});

describe("parseSpec", () => {
  test("throws a SpecValidationError, a RowflowError with the RF code", () => {
    let caught: unknown;
    try {
      parseSpec({ steps: [] }, { name: "wf" });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(SpecValidationError);
    expect(caught).toBeInstanceOf(RowflowError);
    expect(caught).toMatchObject({
      name: "SpecValidationError",
      code: SpecErrorCodes.emptyWorkflow,
      message:
        'invalid workflow "wf": [RF003] steps: the workflow has no steps; add at least one step',
    });
  });

  test("returns a valid spec", () => {
    const spec = { steps: [step("a")] };
    expect(parseSpec(spec)).toEqual(spec);
  });
});

describe("workflowSpecSchema", () => {
  test("carries the RF code in params for custom rules", () => {
    const result = workflowSpecSchema.safeParse({ steps: [step("a", { timeout: "soon" })] });
    expect(result.error?.issues).toMatchObject([
      { code: "custom", path: ["steps", 0, "timeout"], params: { rfCode: "RF010" } },
    ]);
  });

  test("reports unknown keys as zod's unrecognized_keys (RF002)", () => {
    const result = workflowSpecSchema.safeParse({ steps: [step("a")], extra: true });
    expect(result.error?.issues).toMatchObject([{ code: "unrecognized_keys", keys: ["extra"] }]);
  });
});
