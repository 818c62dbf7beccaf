// The README's five-minute tour and its SQL-only snippet, run block by block
// in the README's order against one database, as a user pastes them: the
// first terminal's `rowflow dev --no-demo` (given this file's database
// instead of the embedded one, which the test cannot share with a developer's
// .rowflow/), the SQL blocks through the psql URL it prints, the shell blocks
// as commands of the second terminal. Each outcome the README states is
// asserted. test/repo/readme.test.ts keeps the blocks equal to the files.
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";

import { useTestDatabase } from "../helpers/db.js";
import { type CliProcess, runCli, startCli } from "../helpers/run-cli.js";
import { waitFor } from "../helpers/wait-for.js";

const db = useTestDatabase();
const root = fileURLToPath(new URL("../../", import.meta.url));
const readme = await readFile(new URL("README.md", `file://${root}`), "utf8");
const tour = readme.slice(readme.indexOf("## A five-minute tour"), readme.indexOf("## Concepts"));
const blocks = [...tour.matchAll(/(?:<!-- from: (\S+) -->\n\n?)?```(\w*)\n([\s\S]*?)```/g)].map(
  (m) => ({ from: m[1], lang: m[2] ?? "", body: m[3] ?? "" }),
);

/** The commands of a shell block: `npx rowflow` lines, comments dropped. */
function rowflowCommands(body: string): string[][] {
  return body
    .split("\n")
    .map((line) => line.replace(/#.*/, "").trim())
    .filter(Boolean)
    .map((line) => {
      const words = line.split(/\s+/);
      expect(words.slice(0, 2), `a shell line of the tour: ${line}`).toEqual(["npx", "rowflow"]);
      return words.slice(2);
    });
}

let dev: CliProcess | undefined;
let psql: pg.Client | undefined;
afterAll(async () => {
  await psql?.end();
  if (dev && dev.child.exitCode === null) dev.child.kill("SIGKILL");
});

const query = <R extends pg.QueryResultRow>(text: string) => {
  if (!psql) throw new Error("psql is connected after the tour's first block");
  return psql.query<R>(text);
};

describe("README tour, block by block", () => {
  it("has the blocks this test knows, in this order", () => {
    expect(blocks.map((b) => b.from ?? b.lang)).toEqual([
      "sh",
      "examples/tour/setup.sql",
      "examples/tour/rowflow.config.ts",
      "examples/tour/insert.sql",
      "examples/tour/look.sql",
      "sh",
      "examples/sql-only/orders.sql",
    ]);
  });

  it("1. rowflow dev --no-demo starts a worker and prints the psql line", async () => {
    const [command, ...more] = rowflowCommands(blocks[0]!.body);
    expect(more).toEqual([]);
    expect(command!.slice(0, 2)).toEqual(["dev", "--no-demo"]);
    dev = startCli([...command!, "--database-url", db.url], { cwd: root });
    const url = await waitFor(() => /^ {2}psql "([^"]+)"$/m.exec(dev!.out.stdout)?.[1], {
      timeoutMs: 30_000,
      message: () => `no psql line; stdout:\n${dev!.out.stdout}\nstderr:\n${dev!.out.stderr}`,
    });
    expect(url).toBe(db.url);
    expect(dev.out.stdout).toContain("(tasks: mark-welcomed, send-welcome-email)");
    psql = new pg.Client({ connectionString: url });
    await psql.connect();
  });

  it("2. setup.sql defines the workflow and attaches it (the config of step 3 is the worker's); pasted twice, it changes nothing", async () => {
    await query(blocks[1]!.body);
    await query(blocks[1]!.body);
    const { rows } = await query("select table_name, workflow from rowflow.attachments");
    expect(rows).toEqual([{ table_name: "signups", workflow: "welcome" }]);
    const versions = await query("select workflow, version from rowflow.workflow_versions");
    expect(versions.rows).toEqual([{ workflow: "welcome", version: 1 }]);
  });

  it("4. the INSERT starts a run the worker finishes, as the queries show", async () => {
    await query(blocks[3]!.body);
    await waitFor(
      async () =>
        (
          await query(
            "select 1 from rowflow.runs where workflow = 'welcome' and status = 'succeeded'",
          )
        ).rowCount === 1,
      {
        timeoutMs: 30_000,
        message: () => `the welcome run succeeded; dev printed:\n${dev?.out.stdout}`,
      },
    );
    const results = [];
    for (const statement of blocks[4]!.body.split(/;\n/).filter((s) => s.trim()))
      results.push((await query(statement)).rows);
    expect(results).toEqual([
      [{ id: "1", workflow: "welcome", status: "succeeded" }],
      [
        { step: "mark-welcomed", status: "succeeded", attempt: 1, output: { welcomed: 1 } },
        {
          step: "send-email",
          status: "succeeded",
          attempt: 1,
          output: { sentTo: "ada@example.com" },
        },
      ],
      [{ email: "ada@example.com", welcomed: true }],
    ]);
  });

  it("5. the second terminal's rowflow runs lists the run, and nothing failed", async () => {
    const outputs = [];
    for (const command of rowflowCommands(blocks[5]!.body)) {
      const result = await runCli(command, { cwd: root, env: { DATABASE_URL: db.url } });
      expect(result.code, result.stderr).toBe(0);
      outputs.push(result.stdout);
    }
    expect(outputs).toHaveLength(2);
    expect(outputs[0]).toMatch(/│ 1 +│ welcome +│ +1 │ succeeded │/);
    expect(outputs[1]).toBe("no runs\n");
  });

  it("SQL only: the snippet starts two runs; the tour's worker fails them with unknown_task", async () => {
    // One query of many statements: one implicit transaction, one result each.
    const results = (await query(blocks[6]!.body)) as unknown as pg.QueryResult[];
    // The snippet's SELECTs see the runs before the worker can: both queued.
    expect(results.at(-2)?.rows).toEqual([
      { id: "2", workflow: "order-paid", input: { orderId: 2, total: 25 }, status: "queued" },
      { id: "3", workflow: "order-paid", input: { orderId: 1, total: 10 }, status: "queued" },
    ]);
    expect(results.at(-1)?.rows).toEqual([
      {
        table_name: "orders",
        workflow: "order-paid",
        events: ["insert", "update"],
        when_sql: "new.status = 'paid' and old.status is distinct from 'paid'",
      },
    ]);
    const failed = await waitFor(
      async () => {
        const { rows } = await query<{ status: string; kind: string }>(
          `select status, error->'error'->>'kind' as kind from rowflow.runs
            where workflow = 'order-paid' order by id`,
        );
        return rows.length === 2 && rows.every((r) => r.status === "failed") ? rows : undefined;
      },
      { timeoutMs: 30_000, message: "both order-paid runs failed" },
    );
    expect(failed).toEqual([
      { status: "failed", kind: "unknown_task" },
      { status: "failed", kind: "unknown_task" },
    ]);
    const listed = await runCli(["runs", "--status", "failed", "--json"], {
      cwd: root,
      env: { DATABASE_URL: db.url },
    });
    expect((JSON.parse(listed.stdout) as { workflow: string }[]).map((r) => r.workflow)).toEqual([
      "order-paid",
      "order-paid",
    ]);
  });

  it("Ctrl-C in the first terminal drains the worker and ends dev by SIGINT", async () => {
    dev!.child.kill("SIGINT");
    expect(await dev!.exited).toEqual({ code: null, signal: "SIGINT" });
    expect(dev!.out.stdout).toContain("stopping: draining the worker");
  });
});
