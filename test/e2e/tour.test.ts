// The README's five-minute tour, run as written: examples/tour/setup.sql (SQL
// definition and attachment), examples/tour/rowflow.config.ts (handlers), then
// examples/tour/try.sql (a plain INSERT and the queries to look at the run).
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

import { describe, expect, it } from "vitest";

import { createClient } from "../../src/client/create-client.js";
import { loadConfig } from "../../src/config/config.js";
import { useTestDatabase } from "../helpers/db.js";
import { startTestWorker } from "../helpers/worker.js";

const db = useTestDatabase();
const tour = (file: string) =>
  fileURLToPath(new URL(`../../examples/tour/${file}`, import.meta.url));

describe("README tour", () => {
  it("a plain INSERT runs the welcome workflow through the TypeScript handlers", async () => {
    await db.query(await readFile(tour("setup.sql"), "utf8"));
    const config = await loadConfig(tour("rowflow.config.ts"));
    const worker = await startTestWorker(db.url, { tasks: config.tasks });
    const client = createClient({ connectionString: db.url });
    try {
      const statements = (await readFile(tour("try.sql"), "utf8"))
        .split(/;\n/)
        .filter((s) => s.trim());
      const [insert, ...queries] = statements;
      await db.query(insert as string);
      const { rows: runs } = await db.query<{ id: string }>(
        "select id::text from rowflow.runs where workflow = 'welcome'",
      );
      expect(runs).toHaveLength(1);
      const run = await client.waitForRun(runs[0]?.id as string, { timeout: 20_000 });
      expect(run.status).toBe("succeeded");
      const results = [];
      for (const query of queries) results.push((await db.query(query)).rows);
      expect(results[0]).toEqual([{ id: runs[0]?.id, workflow: "welcome", status: "succeeded" }]);
      expect(results[1]).toEqual([
        { step: "mark-welcomed", status: "succeeded", attempt: 1, output: { welcomed: 1 } },
        {
          step: "send-email",
          status: "succeeded",
          attempt: 1,
          output: { sentTo: "ada@example.com" },
        },
      ]);
      expect(results[2]).toEqual([{ email: "ada@example.com", welcomed: true }]);
    } finally {
      await client.close();
      await worker.stop();
    }
  });
});
