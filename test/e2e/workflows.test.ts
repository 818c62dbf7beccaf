import { afterEach, describe, expect, it } from "vitest";

import { createClient } from "../../src/client/create-client.js";
import type { HandlerContext } from "../../src/definition/handler-context.js";
import { useTestDatabase } from "../helpers/db.js";
import { startTestWorker } from "../helpers/worker.js";

const db = useTestDatabase();
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()?.();
});

async function setup(
  tasks: Record<string, (ctx: HandlerContext) => unknown>,
  workflows: { name: string; spec: object }[],
) {
  const worker = await startTestWorker(db.url, { tasks, workflows });
  const client = createClient({ connectionString: db.url, pollInterval: 200 });
  cleanup.push(
    () => client.close(),
    () => worker.stop(),
  );
  return { worker, client };
}

describe("workflows run end to end", () => {
  it("runs a sequence, passing outputs from step to step", async () => {
    const { client } = await setup(
      {
        "seq.double": (ctx) => ({ value: (ctx.input.n as number) * 2 }),
        "seq.add-one": (ctx) => ({ value: (ctx.deps.double as { value: number }).value + 1 }),
        "seq.square": (ctx) => ({ value: (ctx.deps.add as { value: number }).value ** 2 }),
      },
      [
        {
          name: "sequence",
          spec: {
            steps: [
              { name: "double", task: "seq.double" },
              { name: "add", task: "seq.add-one", dependsOn: ["double"] },
              { name: "square", task: "seq.square", dependsOn: ["add"] },
            ],
          },
        },
      ],
    );
    const id = await client.startRun("sequence", { n: 3 });
    const run = await client.waitForRun(id, { timeout: 20_000 });
    expect(run.status).toBe("succeeded");
    expect(Object.fromEntries(run.steps.map((s) => [s.step, s.output]))).toEqual({
      double: { value: 6 },
      add: { value: 7 },
      square: { value: 49 },
    });
    expect(run.steps.map((s) => [s.status, s.attempt])).toEqual([
      ["succeeded", 1],
      ["succeeded", 1],
      ["succeeded", 1],
    ]);
  });

  it("runs a diamond: the join sees both branches and runs once", async () => {
    const joins: string[] = [];
    const { client } = await setup(
      {
        "d.a": () => ({ a: 1 }),
        "d.b": (ctx) => ({ b: (ctx.deps.a as { a: number }).a + 10 }),
        "d.c": (ctx) => ({ c: (ctx.deps.a as { a: number }).a + 100 }),
        "d.d": (ctx) => {
          joins.push(ctx.run.id);
          return {
            sum: (ctx.deps.b as { b: number }).b + (ctx.deps.c as { c: number }).c,
            keys: Object.keys(ctx.deps).sort(),
          };
        },
      },
      [
        {
          name: "diamond",
          spec: {
            steps: [
              { name: "a", task: "d.a" },
              { name: "b", task: "d.b", dependsOn: ["a"] },
              { name: "c", task: "d.c", dependsOn: ["a"] },
              { name: "d", task: "d.d", dependsOn: ["b", "c"] },
            ],
          },
        },
      ],
    );
    const ids = await client.startRuns(
      "diamond",
      Array.from({ length: 20 }, (_, i) => ({ i })),
    );
    const runs = await Promise.all(ids.map((id) => client.waitForRun(id, { timeout: 30_000 })));
    expect(runs.map((r) => r.status)).toEqual(ids.map(() => "succeeded"));
    for (const run of runs) {
      expect(run.steps.find((s) => s.step === "d")?.output).toEqual({ sum: 112, keys: ["b", "c"] });
    }
    expect(joins.sort()).toEqual([...ids].sort());
  });

  it("fans out and in: ten parallel steps feed one join", async () => {
    const branches = Array.from({ length: 10 }, (_, i) => `p${i}`);
    const { client } = await setup(
      {
        "f.start": (ctx) => ({ base: ctx.input.base }),
        "f.branch": (ctx) => ({
          step: ctx.step.name,
          v: (ctx.deps.start as { base: number }).base + Number(ctx.step.name.slice(1)),
        }),
        "f.join": (ctx) => ({
          total: Object.values(ctx.deps).reduce(
            (sum: number, d) => sum + (d as { v: number }).v,
            0,
          ),
        }),
      },
      [
        {
          name: "fan",
          spec: {
            steps: [
              { name: "start", task: "f.start" },
              ...branches.map((name) => ({ name, task: "f.branch", dependsOn: ["start"] })),
              { name: "join", task: "f.join", dependsOn: branches },
            ],
          },
        },
      ],
    );
    const id = await client.startRun("fan", { base: 100 });
    const run = await client.waitForRun(id, { timeout: 20_000 });
    expect(run.status).toBe("succeeded");
    expect(run.steps.find((s) => s.step === "join")?.output).toEqual({ total: 1045 });
    expect(run.steps.filter((s) => s.status === "succeeded")).toHaveLength(12);
  });
});
