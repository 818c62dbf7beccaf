import { describe, expect, test } from "vitest";
import { z } from "zod";

import {
  defineTask,
  defineWorkflow,
  type HandlerContext,
  SpecValidationError,
} from "../../src/definition/index.js";

function thrown(fn: () => unknown): SpecValidationError {
  try {
    fn();
  } catch (error) {
    if (error instanceof SpecValidationError) return error;
    throw error;
  }
  throw new Error("expected a SpecValidationError");
}

const input = z.object({ orderId: z.number(), total: z.number() });

describe("defineWorkflow", () => {
  test("builds exactly the spec written, task defaulting to the step name", () => {
    const refund = defineTask("refund-card", () => null);
    const wf = defineWorkflow({
      name: "order-fulfilment",
      input,
      description: "Charge and ship an order",
      onFailure: "notify-ops",
    })
      .step("validate", { task: "validate-order" }, async () => ({ ok: true }))
      .step(
        "charge",
        {
          task: "charge-card",
          dependsOn: ["validate"],
          attempts: 5,
          backoff: { type: "fixed", base: "5 seconds", jitter: 0 },
          timeout: "30 seconds",
          priority: -10,
          queue: { name: "payments", key: "$.input.orderId" },
          delay: 1000,
          compensate: refund,
        },
        async () => ({ chargeId: "c1" }),
      )
      .step(
        "ship",
        { dependsOn: ["charge"], if: "$.input.total > 0", queue: "shipping" },
        () => "shipped",
      );

    expect(wf.spec).toStrictEqual({
      name: "order-fulfilment",
      description: "Charge and ship an order",
      onFailure: "notify-ops",
      steps: [
        { name: "validate", task: "validate-order" },
        {
          name: "charge",
          task: "charge-card",
          dependsOn: ["validate"],
          attempts: 5,
          backoff: { type: "fixed", base: "5 seconds", jitter: 0 },
          timeout: "30 seconds",
          priority: -10,
          queue: { name: "payments", key: "$.input.orderId" },
          delay: 1000,
          compensate: "refund-card",
        },
        {
          name: "ship",
          task: "ship",
          dependsOn: ["charge"],
          queue: "shipping",
          if: "$.input.total > 0",
        },
      ],
    });
    expect(Object.keys(wf.tasks)).toEqual(["validate-order", "charge-card", "refund-card", "ship"]);
    expect(wf.tasks["refund-card"]).toEqual(refund);
    expect(wf.tasks["ship"]).toMatchObject({ name: "ship", input });
    expect(wf.name).toBe("order-fulfilment");
    expect(wf.input).toBe(input);
    expect(wf.attachments).toEqual([]);
  });

  test("the spec is frozen plain JSON", () => {
    const wf = defineWorkflow({ name: "wf" }).step("a", { dependsOn: [] }, () => 1);
    expect(Object.isFrozen(wf.spec)).toBe(true);
    expect(Object.isFrozen(wf.spec.steps[0]?.dependsOn)).toBe(true);
    expect(JSON.parse(JSON.stringify(wf.spec))).toStrictEqual(wf.spec);
  });

  test("is immutable: .step() returns a new workflow", () => {
    const base = defineWorkflow({ name: "wf" }).step("a", () => 1);
    const longer = base.step("b", () => 2);
    expect(base.spec.steps.map((s) => s.name)).toEqual(["a"]);
    expect(longer.spec.steps.map((s) => s.name)).toEqual(["a", "b"]);
    expect(Object.keys(base.tasks)).toEqual(["a"]);
  });

  test("the task handlers are the step handlers", async () => {
    const handler = async (ctx: HandlerContext<{ orderId: number }>) => ({ id: ctx.input.orderId });
    const wf = defineWorkflow({ name: "wf", input }).step("a", handler);
    expect(wf.tasks["a"]?.handler).toBe(handler);
  });

  test("two steps may share a task with the same handler, not with different ones", () => {
    const handler = () => 1;
    const wf = defineWorkflow({ name: "wf" })
      .step("a", { task: "shared" }, handler)
      .step("b", { task: "shared" }, handler);
    expect(Object.keys(wf.tasks)).toEqual(["shared"]);
    const error = thrown(() => wf.step("c", { task: "shared" }, () => 2));
    expect(error.code).toBe("RF001");
    expect(error.message).toContain('steps[2].task: task "shared" already has a different handler');
  });

  test("onFailure may be a task definition", () => {
    const notify = defineTask("notify-ops", () => null);
    const wf = defineWorkflow({ name: "wf", onFailure: notify }).step("a", () => 1);
    expect(wf.spec.onFailure).toBe("notify-ops");
    expect(wf.tasks["notify-ops"]).toEqual(notify);
  });

  test("stores attachments, not in the spec", () => {
    const wf = defineWorkflow({
      name: "wf",
      on: [
        { table: "orders", events: ["insert"], when: "new.total > 0" },
        { table: "shop.orders", events: ["update", "delete"] },
      ],
    }).step("a", () => 1);
    expect(wf.attachments).toEqual([
      { table: "orders", events: ["insert"], when: "new.total > 0" },
      { table: "shop.orders", events: ["update", "delete"] },
    ]);
    expect(wf.spec).not.toHaveProperty("on");
    expect(
      defineWorkflow({ name: "wf", on: { table: "t", events: ["insert"] } }).attachments,
    ).toHaveLength(1);
  });

  test.each([
    [{ table: "", events: ["insert"] }, "on[0].table"],
    [{ table: "t", events: [] }, "on[0].events"],
    [{ table: "t", events: ["insert", "insert"] }, "on[0].events"],
    [{ table: "t", events: ["truncate"] }, "on[0].events[0]"],
    [{ table: "t", events: ["insert"], when: " " }, "on[0].when"],
  ])("rejects the attachment %j", (attachment, path) => {
    const error = thrown(() => defineWorkflow({ name: "wf", on: attachment as never }));
    expect(error.code).toBe("RF001");
    expect(error.issues[0]?.message.startsWith(`${path}:`)).toBe(true);
  });
});

describe("defineWorkflow validation, with SQL's codes", () => {
  test.each([
    ["RF004", 'invalid workflow name "Orders"', () => defineWorkflow({ name: "Orders" })],
    [
      "RF004",
      'onFailure: invalid task name "bad task"',
      () => defineWorkflow({ name: "wf", onFailure: "bad task" }),
    ],
    [
      "RF001",
      "description: must be a string, got 5",
      () => defineWorkflow({ name: "wf", description: 5 as never }),
    ],
    [
      "RF004",
      'steps[0].name: invalid step name "Bad"',
      () => defineWorkflow({ name: "wf" }).step("Bad", () => 1),
    ],
    [
      "RF004",
      'steps[0].task: invalid task name "9"',
      () => defineWorkflow({ name: "wf" }).step("a", { task: "9" }, () => 1),
    ],
    [
      "RF001",
      "steps[0].attempts",
      () => defineWorkflow({ name: "wf" }).step("a", { attempts: 0 }, () => 1),
    ],
    [
      "RF010",
      "steps[0].timeout",
      () => defineWorkflow({ name: "wf" }).step("a", { timeout: "soon" as never }, () => 1),
    ],
    [
      "RF009",
      "steps[0].if",
      () => defineWorkflow({ name: "wf" }).step("a", { if: "$.input.x > (" }, () => 1),
    ],
    [
      "RF002",
      'unknown option "retries"',
      () => defineWorkflow({ name: "wf" }).step("a", { retries: 3 } as never, () => 1),
    ],
    [
      "RF005",
      'duplicate step name "a"',
      () =>
        defineWorkflow({ name: "wf" })
          .step("a", () => 1)
          .step("a" as never, () => 1),
    ],
    [
      "RF006",
      'unknown dependency "b"',
      () => defineWorkflow({ name: "wf" }).step("a", { dependsOn: ["b"] as never }, () => 1),
    ],
    [
      "RF007",
      "cannot depend on itself",
      () => defineWorkflow({ name: "wf" }).step("a", { dependsOn: ["a"] as never }, () => 1),
    ],
  ] as const)("%s: %s", (code, message, define) => {
    const error = thrown(define);
    expect(error.code).toBe(code);
    expect(error.message).toContain(message);
  });

  test("a step without a handler is a TypeError", () => {
    expect(() => defineWorkflow({ name: "wf" }).step("a", {} as never)).toThrow(
      new TypeError('workflow "wf", step "a": a handler function is required'),
    );
  });
});

describe("defineTask", () => {
  test("with and without an input schema", () => {
    const schema = z.object({ amount: z.number() });
    const handler = () => ({ charged: true });
    expect(defineTask("charge-card", { input: schema }, handler)).toEqual({
      name: "charge-card",
      input: schema,
      handler,
    });
    expect(defineTask("charge-card", handler)).toEqual({
      name: "charge-card",
      input: undefined,
      handler,
    });
  });

  test("rejects an invalid task name with RF004", () => {
    const error = thrown(() => defineTask("charge card", () => 1));
    expect(error.code).toBe("RF004");
    expect(error.message).toBe(
      'invalid workflow spec: [RF004] task: invalid task name "charge card": use 1-128 characters: a letter first, then letters, digits, "_", ".", ":" or "-"',
    );
  });
});
