// A business row's runs from the client (runsFor) and the CLI
// (`rowflow runs --table … --key …`), both through rowflow.runs_for.
import { beforeAll, describe, expect, it } from "vitest";

import { createClient } from "../../src/client/create-client.js";
import { RowflowSqlError } from "../../src/errors.js";
import { useTestDatabase } from "../helpers/db.js";
import { runCli } from "../helpers/run-cli.js";
import { define } from "../sql/support.js";

const db = useTestDatabase();
const cli = (...args: string[]) => runCli([...args, "--database-url", db.url]);

beforeAll(async () => {
  await define(db.pool, "fulfil", { steps: [{ name: "a", task: "t" }] });
  await db.query(`
    create table orders (id bigint primary key, n int);
    create table lines (o bigint, s text, primary key (o, s));
    create table keyless (n int);
    select rowflow.attach('orders', 'fulfil', '{insert,update}', supersede => true);
    select rowflow.attach('lines', 'fulfil');
    insert into orders values (1, 0), (2, 0);
    update orders set n = 1 where id = 1;
    insert into lines values (7, 'x');
  `);
});

describe("a row's runs", () => {
  it("client.runsFor lists them oldest first; refusals are errors with their SQLSTATE", async () => {
    const client = createClient({ connectionString: db.url });
    try {
      const runs = await client.runsFor("orders", 1);
      expect(runs.map((r) => [r.workflow, r.status, r.input.op])).toEqual([
        ["fulfil", "cancelled", "insert"],
        ["fulfil", "queued", "update"],
      ]);
      expect(runs[0]!.finishedAt).toBeInstanceOf(Date);
      expect(await client.runsFor("lines", 7, "x")).toHaveLength(1);
      expect(await client.runsFor("orders", 3n)).toEqual([]);
      const keyless = await client.runsFor("keyless", 1).catch((e: unknown) => e);
      expect(keyless).toBeInstanceOf(RowflowSqlError);
      expect(keyless).toMatchObject({ code: "RF032" });
      const refused = await client.runsFor("lines", 7).catch((e: unknown) => e);
      expect(refused).toMatchObject({ code: "22023", message: expect.stringMatching(/pass 2/) });
    } finally {
      await client.close();
    }
  });

  it("rowflow runs --table --key prints them (newest first, like every runs listing); a lone --table is a usage error", async () => {
    const listed = await cli("runs", "--table", "orders", "--key", "1", "--json");
    expect(listed.code).toBe(0);
    expect((JSON.parse(listed.stdout) as Array<{ status: string }>).map((r) => r.status)).toEqual([
      "queued",
      "cancelled",
    ]);
    const composite = await cli("runs", "--table", "lines", "--key", "7", "--key", "x");
    expect(composite.code).toBe(0);
    expect(composite.stdout).toMatch(/fulfil.*queued/);
    const bad = await cli("runs", "--table", "lines", "--key", "7");
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/primary key is \(o, s\); pass 2/);
    const usage = await cli("runs", "--table", "orders");
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/--table and --key go together/);
  });
});
