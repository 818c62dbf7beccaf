// A handler whose output is over rowflow.max_output_bytes (docs/sql-api.md):
// complete_steps refuses it, the worker rolls back the handler's writes and
// fails the step without retrying (RF026, naming the step and the sizes).
import { expect, it } from "vitest";

import { createClient } from "../../src/client/create-client.js";
import { defineWorkflow } from "../../src/definition/index.js";
import { useTestDatabase } from "../helpers/db.js";
import { startTestWorker } from "../helpers/worker.js";

const db = useTestDatabase();

it("fails the step (RF026, not retried) and keeps none of its writes", async () => {
  const { rows } = await db.query<{ d: string }>("select current_database() as d");
  await db.query(`alter database "${rows[0]!.d}" set rowflow.max_output_bytes = 1000`);
  await db.query("create table written (n int)");
  let calls = 0;
  const workflow = defineWorkflow({ name: "too-big" }).step(
    "dump",
    { task: "ol.dump", attempts: 3 },
    async (ctx) => {
      calls++;
      await ctx.tx
        .insertInto("written" as never)
        .values({ n: 1 } as never)
        .execute();
      return { blob: "x".repeat(2000) };
    },
  );
  const worker = await startTestWorker(db.url, { workflows: [workflow] });
  const client = createClient({ connectionString: db.url });
  try {
    const run = await client.waitForRun(await client.startRun("too-big", {}), { timeout: 20_000 });
    expect(run.status).toBe("failed");
    expect(run.steps[0]).toMatchObject({
      step: "dump",
      status: "failed",
      attempt: 1,
      error: {
        kind: "output_too_large",
        code: "RF026",
        message: expect.stringMatching(
          /^step "dump" returned 2012 bytes of JSON; the limit is 1000 bytes \(rowflow.max_output_bytes\)/,
        ),
      },
    });
    expect(calls).toBe(1);
    const { rows: written } = await db.query("select count(*)::int as n from written");
    expect(written).toEqual([{ n: 0 }]);
  } finally {
    await client.close();
    await worker.stop();
  }
});
