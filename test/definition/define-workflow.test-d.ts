import type pg from "pg";
import { describe, expectTypeOf, test } from "vitest";
import { z } from "zod";

import {
  type AnyWorkflow,
  defineTask,
  defineWorkflow,
  type HandlerContext,
  type SqlQueryable,
  type StepOptions,
  type StepSpec,
  type WorkflowInput,
  type WorkflowOutputs,
  type WorkflowStartInput,
} from "../../src/definition/index.js";

const input = z.object({ orderId: z.number(), total: z.number(), note: z.string().default("") });

describe("defineWorkflow types", () => {
  test("ctx.input is the output of the workflow's zod schema", () => {
    defineWorkflow({ name: "wf", input }).step("a", (ctx) => {
      expectTypeOf(ctx.input).toEqualTypeOf<{ orderId: number; total: number; note: string }>();
      return null;
    });
  });

  test("without an input schema, ctx.input is any JSON object", () => {
    defineWorkflow({ name: "wf" }).step("a", (ctx) => {
      expectTypeOf(ctx.input).toEqualTypeOf<Readonly<Record<string, unknown>>>();
    });
  });

  test("ctx.deps holds exactly the outputs of the steps in dependsOn", () => {
    defineWorkflow({ name: "wf", input })
      .step("validate", async () => ({ ok: true }))
      .step("other", async () => ({ n: 1 }))
      .step("charge", { dependsOn: ["validate"] }, async (ctx) => {
        expectTypeOf(ctx.deps).toEqualTypeOf<{ readonly validate: { ok: boolean } }>();
        expectTypeOf(ctx.deps.validate.ok).toEqualTypeOf<boolean>();
        // @ts-expect-error "other" is defined but not a dependency of "charge"
        void ctx.deps.other;
        return { chargeId: "c1" };
      });
  });

  test("a step without dependsOn has no deps at all", () => {
    defineWorkflow({ name: "wf" })
      .step("a", () => 1)
      .step("b", {}, (ctx) => {
        // @ts-expect-error "a" is not a dependency
        void ctx.deps.a;
      });
  });

  test("dependsOn accepts only steps defined earlier", () => {
    const wf = defineWorkflow({ name: "wf" }).step("a", () => 1);
    // @ts-expect-error "b" is not defined (yet)
    wf.step("c", { dependsOn: ["b"] }, () => 1);
    // @ts-expect-error a step cannot depend on itself: "c" is not defined before it
    wf.step("c", { dependsOn: ["c"] }, () => 1);
    wf.step("c", { dependsOn: ["a"] }, () => 1);
  });

  test("a step name can be used once", () => {
    const wf = defineWorkflow({ name: "wf" }).step("a", () => 1);
    // @ts-expect-error "a" is already defined
    wf.step("a", () => 2);
  });

  test("unknown options are type errors", () => {
    const wf = defineWorkflow({ name: "wf" });
    // @ts-expect-error "retries" is not an option
    wf.step("a", { retries: 3 }, () => 1);
    // @ts-expect-error intervals are milliseconds or "<number> <unit>"
    wf.step("a", { timeout: "5 secnds" }, () => 1);
    wf.step(
      "a",
      { timeout: "5 seconds", delay: 500, backoff: { type: "fixed", base: "2s" } },
      () => 1,
    );
  });

  test("a dependency with an `if` may be null (skipped)", () => {
    defineWorkflow({ name: "wf" })
      .step("maybe", { if: "$.input.total > 0" }, () => ({ n: 1 }))
      .step("always", () => ({ m: 2 }))
      .step("join", { dependsOn: ["maybe", "always"] }, (ctx) => {
        expectTypeOf(ctx.deps.maybe).toEqualTypeOf<{ n: number } | null>();
        expectTypeOf(ctx.deps.always).toEqualTypeOf<{ m: number }>();
      });
  });

  test("outputs arrive as JSON: Date becomes string, undefined properties optional, void null", () => {
    defineWorkflow({ name: "wf" })
      .step("a", async () => ({
        at: new Date(),
        maybe: undefined as string | undefined,
        fn: () => 1,
      }))
      .step("b", () => {})
      .step("c", { dependsOn: ["a", "b"] }, (ctx) => {
        expectTypeOf(ctx.deps.a).toEqualTypeOf<{ at: string; maybe?: string }>();
        expectTypeOf(ctx.deps.b).toEqualTypeOf<null>();
      });
  });

  test("the runtime fields of the handler context", () => {
    defineWorkflow({ name: "wf" }).step("a", (ctx) => {
      expectTypeOf(ctx.run).toEqualTypeOf<{
        readonly id: string;
        readonly workflow: string;
        readonly version: number;
      }>();
      expectTypeOf(ctx.step.kind).toEqualTypeOf<
        "step" | "compensation" | "on_failure" | "element"
      >();
      expectTypeOf(ctx.attempt).toEqualTypeOf<number>();
      expectTypeOf(ctx.idempotencyKey).toEqualTypeOf<string>();
      expectTypeOf(ctx.signal).toEqualTypeOf<AbortSignal>();
      expectTypeOf(ctx.logger.info).parameters.toEqualTypeOf<[string, Record<string, unknown>?]>();
    });
  });

  test("helper types expose input and outputs", () => {
    const wf = defineWorkflow({ name: "order", input })
      .step("validate", async () => ({ ok: true }))
      .step(
        "ship",
        { dependsOn: ["validate"], if: "$.input.total > 0" },
        async () => "shipped" as const,
      );
    expectTypeOf(wf.name).toEqualTypeOf<"order">();
    expectTypeOf<WorkflowInput<typeof wf>>().toEqualTypeOf<{
      orderId: number;
      total: number;
      note: string;
    }>();
    expectTypeOf<WorkflowStartInput<typeof wf>>().toEqualTypeOf<{
      orderId: number;
      total: number;
      note?: string | undefined;
    }>();
    expectTypeOf<WorkflowOutputs<typeof wf>>().toEqualTypeOf<{
      readonly validate: { ok: boolean };
      readonly ship: "shipped" | null;
    }>();
    expectTypeOf(wf).toExtend<AnyWorkflow>();
  });

  test("DSL step options are valid spec steps", () => {
    type DslStep = Omit<StepOptions, "compensate"> & {
      name: string;
      task: string;
      compensate?: string;
    };
    expectTypeOf<DslStep>().toExtend<StepSpec>();
  });
});

describe("defineTask types", () => {
  test("ctx.input comes from the task's schema", () => {
    const task = defineTask("charge-card", { input: z.object({ amount: z.number() }) }, (ctx) => {
      expectTypeOf(ctx.input).toEqualTypeOf<{ amount: number }>();
      return { charged: true };
    });
    expectTypeOf(task.handler).returns.toEqualTypeOf<
      { charged: boolean } | Promise<{ charged: boolean }>
    >();
  });

  test("a task without schema gets any JSON object", () => {
    defineTask("notify", (ctx: HandlerContext) => {
      expectTypeOf(ctx.input).toEqualTypeOf<Readonly<Record<string, unknown>>>();
    });
  });

  test("a task can be a compensation or onFailure", () => {
    const refund = defineTask("refund-card", () => null);
    defineWorkflow({ name: "wf", onFailure: refund }).step(
      "charge",
      { compensate: refund },
      () => 1,
    );
  });
});

describe("syncWorkflows types", () => {
  test("pg pools and clients are SqlQueryable", () => {
    expectTypeOf<pg.Pool>().toExtend<SqlQueryable>();
    expectTypeOf<pg.PoolClient>().toExtend<SqlQueryable>();
    expectTypeOf<pg.Client>().toExtend<SqlQueryable>();
  });
});

describe("wait step types", () => {
  test("a signal's payload, a task's answer and a row reach dependents' ctx.deps, nullable when they may be skipped", () => {
    defineWorkflow({ name: "waits" })
      .wait("pay", { signal: "paid", payload: z.object({ amount: z.number() }) })
      .human("ok", {
        assignee: "ann",
        title: "Approve",
        answer: z.object({ approved: z.boolean() }),
        due: "1 day",
        onTimeout: "skip",
      })
      .waitFor("row", {
        table: "shop.payments",
        where: "true",
        row: z.object({ id: z.number() }),
        timeout: "1 day",
        onTimeout: { output: { id: 0, late: true } },
      })
      .wait("any", { signal: "s", if: "$.input.x == 1" })
      .step("ship", { dependsOn: ["pay", "ok", "row", "any"] }, (ctx) => {
        expectTypeOf(ctx.deps.pay).toEqualTypeOf<{ amount: number }>();
        expectTypeOf(ctx.deps.ok).toEqualTypeOf<{ approved: boolean } | null>();
        // The row's type, or the onTimeout output's.
        expectTypeOf(ctx.deps.row.id).toEqualTypeOf<number>();
        expectTypeOf(ctx.deps.row).toExtend<{ readonly id: number }>();
        expectTypeOf(ctx.deps.any).toExtend<unknown>();
        return null;
      });
  });

  test("a child step's output is typed by `output`, null when it may be skipped", () => {
    const shipping = defineWorkflow({ name: "shipping" }).step("send", () => ({ tracking: "T" }));
    defineWorkflow({ name: "order" })
      .step("pack", () => ({ box: "B" }))
      .child("ship", shipping, {
        dependsOn: ["pack"],
        input: "$.steps.pack",
        attempts: 2,
        output: z.object({ send: z.object({ tracking: z.string() }) }),
      })
      .child("maybe", "shipping", { if: "$.input.big == true" })
      .step("notify", { dependsOn: ["ship", "maybe"] }, (ctx) => {
        expectTypeOf(ctx.deps.ship).toEqualTypeOf<{ send: { tracking: string } }>();
        expectTypeOf(ctx.deps.maybe).toExtend<unknown>();
        return null;
      });
    // @ts-expect-error dependsOn names only earlier steps
    defineWorkflow({ name: "x" }).child("c", "shipping", { dependsOn: ["later"] });
  });
});
