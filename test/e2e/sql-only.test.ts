// The README's SQL-only example (examples/sql-only/orders.sql), run as pasted into psql.
import { readFile } from "node:fs/promises";

import { describe, expect, it } from "vitest";

import { useTestDatabase } from "../helpers/db.js";

const db = useTestDatabase();

describe("README SQL-only example", () => {
  it("defines, attaches and starts runs from a plain INSERT and UPDATE", async () => {
    const sql = await readFile(
      new URL("../../examples/sql-only/orders.sql", import.meta.url),
      "utf8",
    );
    await db.query(sql);
    const { rows } = await db.query<{ workflow: string; input: unknown; status: string }>(
      "select workflow, input, status from rowflow.runs order by id",
    );
    expect(rows).toEqual([
      { workflow: "order-paid", input: { orderId: 2, total: 25 }, status: "running" },
      { workflow: "order-paid", input: { orderId: 1, total: 10 }, status: "running" },
    ]);
    const jobs = await db.query<{ n: number }>(
      "select count(*)::int as n from graphile_worker.jobs",
    );
    expect(jobs.rows[0]?.n).toBe(2);
  });
});
