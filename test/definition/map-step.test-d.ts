// Types of `.map()` (src/definition/map-options.ts): the handler's input is
// the element, dependents see an array of outputs.
import { describe, expectTypeOf, test } from "vitest";
import { z } from "zod";

import {
  defineWorkflow,
  type MapOutcome,
  type WorkflowOutputs,
} from "../../src/definition/index.js";

const input = z.object({ items: z.array(z.object({ id: z.number() })) });

describe("map step types", () => {
  test("the element type of a dependency's array is the handler's input", () => {
    const _wf = defineWorkflow({ name: "wf" })
      .step("load", () => ({ lines: [{ sku: "a", cents: 1 }] }))
      .map("charge", { dependsOn: ["load"], over: "$.steps.load.lines" }, (ctx) => {
        expectTypeOf(ctx.input).toEqualTypeOf<{ sku: string; cents: number }>();
        expectTypeOf(ctx.deps).toEqualTypeOf<Readonly<Record<never, never>>>();
        expectTypeOf(ctx.step.index).toEqualTypeOf<number | undefined>();
        return { charged: ctx.input.cents };
      })
      .step("sum", { dependsOn: ["charge"] }, (ctx) => {
        expectTypeOf(ctx.deps.charge).toEqualTypeOf<{ charged: number }[]>();
        return ctx.deps.charge.length;
      });
    expectTypeOf<WorkflowOutputs<typeof _wf>["charge"]>().toEqualTypeOf<{ charged: number }[]>();
  });

  test("the element type of an input array, and collect's outcomes", () => {
    defineWorkflow({ name: "wf", input })
      .map("each", { over: "$.input.items", mapErrors: "collect" }, (ctx) => {
        expectTypeOf(ctx.input).toEqualTypeOf<{ id: number }>();
        return ctx.input.id;
      })
      .step("after", { dependsOn: ["each"] }, (ctx) => {
        expectTypeOf(ctx.deps.each).toEqualTypeOf<MapOutcome<number>[]>();
        return null;
      });
  });

  test("an element schema types the input; a path the types cannot follow gives unknown", () => {
    defineWorkflow({ name: "wf" })
      .step("load", () => ({ deep: { lines: [1, 2] } }))
      .map(
        "typed",
        { dependsOn: ["load"], over: "$.steps.load.deep.lines", element: z.number() },
        (ctx) => {
          expectTypeOf(ctx.input).toEqualTypeOf<number>();
          return null;
        },
      )
      .map("untyped", { dependsOn: ["load"], over: "$.steps.load.deep.lines" }, (ctx) => {
        expectTypeOf(ctx.input).toEqualTypeOf<unknown>();
        return null;
      });
  });

  test("with if, dependents may see null", () => {
    defineWorkflow({ name: "wf", input })
      .map("each", { over: "$.input.items", if: "$.input.items.size() > 0" }, () => "x")
      .step("after", { dependsOn: ["each"] }, (ctx) => {
        expectTypeOf(ctx.deps.each).toEqualTypeOf<string[] | null>();
        return null;
      });
  });
});
