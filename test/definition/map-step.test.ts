// `.map()` at run time (src/definition/define-workflow.ts, map-step.ts): the
// spec it writes, the task it registers, and the rules it shares with SQL.
import { describe, expect, test } from "vitest";
import { z } from "zod";

import { defineWorkflow, SpecValidationError } from "../../src/definition/index.js";

function thrown(fn: () => unknown): SpecValidationError {
  try {
    fn();
  } catch (error) {
    if (error instanceof SpecValidationError) return error;
    throw error;
  }
  throw new Error("expected a SpecValidationError");
}

describe(".map()", () => {
  test("writes map and mapErrors into the spec, and the task parses each element with `element`", () => {
    const element = z.object({ sku: z.string() });
    const wf = defineWorkflow({ name: "orders", input: z.object({ id: z.number() }) })
      .step("load", () => ({ lines: [{ sku: "a" }] }))
      .map(
        "charge-lines",
        {
          dependsOn: ["load"],
          over: "$.steps.load.lines",
          element,
          mapErrors: "collect",
          task: "charge-line",
          attempts: 5,
        },
        (ctx) => ctx.input.sku,
      );
    expect(wf.spec.steps[1]).toEqual({
      name: "charge-lines",
      task: "charge-line",
      dependsOn: ["load"],
      attempts: 5,
      map: "$.steps.load.lines",
      mapErrors: "collect",
    });
    expect(wf.tasks["charge-line"]?.input).toBe(element);
    expect(wf.tasks.load?.input).toBe(wf.input);
  });

  test("rejects a map over a step that is not a dependency (RF013) and a map with a queue (RF001)", () => {
    const base = defineWorkflow({ name: "orders" }).step("load", () => ({ lines: [] }));
    const notDep = thrown(() => base.map("each", { over: "$.steps.load.lines" }, () => null));
    expect(notDep.code).toBe("RF013");
    expect(notDep.message).toContain(
      'map reads the output of step "load", which is not in its dependsOn',
    );
    const queued = thrown(() =>
      base.map("each", { over: "$.input.items", queue: "q" } as never, () => null),
    );
    expect(queued.code).toBe("RF001");
    expect(queued.message).toContain("a map step cannot have queue");
  });
});
