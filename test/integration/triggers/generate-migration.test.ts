// `rowflow generate-migration`: the rendered SQL quotes every value, applies
// cleanly, and the CLI writes it from a config module.
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { renderWorkflowMigration, sqlLiteral } from "../../../src/triggers/render-migration.js";
import { useTestDatabase } from "../../helpers/db.js";
import { runCli } from "../../helpers/run-cli.js";

const db = useTestDatabase();

const hostileWhen = `new.note = 'it''s; drop table orders; --' and old.note is distinct from '\\%s'`;
const workflows = [
  {
    name: "order-paid",
    spec: { description: "quote ' and backslash \\ survive", steps: [{ name: "a", task: "t" }] },
    attachments: [
      { table: "orders", events: ["insert", "update"], when: hostileWhen, supersede: true },
      { table: `public."odd ""name"""`, events: ["delete"], excludeColumns: [`it's`] },
      { table: "notes", events: ["insert"], columns: ["id"], onDelete: "compensate" as const },
    ],
  },
];

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "rowflow-genmig-"));
  await db.query(`
    create table orders (id int primary key, note text);
    create table "odd ""name""" (id int primary key, "it's" text);
    create table notes (id int primary key, body text);
  `);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("generate-migration", () => {
  it("sqlLiteral doubles quotes and refuses NUL", () => {
    expect(sqlLiteral(`a'b\\c`)).toBe(`'a''b\\c'`);
    expect(() => sqlLiteral("a\u0000")).toThrow(/NUL/);
  });

  it("renders define_workflow and attach calls that apply as written", async () => {
    const sql = renderWorkflowMigration(workflows, {
      name: "add_orders",
      generatedAt: new Date(0),
    });
    await db.rollback(async (c) => {
      await c.query(sql);
      const { rows } = await c.query(
        `select table_name::text as t, workflow, events, when_sql, columns, exclude_columns, on_delete, supersede
         from rowflow.attachments order by id`,
      );
      expect(rows).toEqual([
        {
          t: "orders",
          workflow: "order-paid",
          events: ["insert", "update"],
          when_sql: hostileWhen,
          columns: null,
          exclude_columns: null,
          on_delete: "ignore",
          supersede: true,
        },
        {
          t: `"odd ""name"""`,
          workflow: "order-paid",
          events: ["delete"],
          when_sql: null,
          columns: null,
          exclude_columns: [`it's`],
          on_delete: "ignore",
          supersede: false,
        },
        {
          t: "notes",
          workflow: "order-paid",
          events: ["insert"],
          when_sql: null,
          columns: ["id"],
          exclude_columns: null,
          on_delete: "compensate",
          supersede: false,
        },
      ]);
      await c.query("insert into notes values (1, 'private')");
      const { rows: inputs } = await c.query(
        "select input->'row' as row from rowflow.runs where workflow = 'order-paid'",
      );
      expect(inputs).toEqual([{ row: { id: 1 } }]);
      const { rows: spec } = await c.query(
        "select spec->>'description' as d from rowflow.workflow_versions where workflow = 'order-paid'",
      );
      expect(spec[0]!.d).toBe("quote ' and backslash \\ survive");
      expect((await c.query("select to_regclass('orders') is not null as ok")).rows[0]!.ok).toBe(
        true,
      );
    });
  });

  it("renders the config's schedules as define_schedule calls, after the workflows", async () => {
    const sql = renderWorkflowMigration(workflows, {
      name: "add_orders",
      generatedAt: new Date(0),
      schedules: [
        {
          name: "nightly",
          cron: "0 3 * * *",
          workflow: "order-paid",
          input: { note: "it's" },
          timezone: "Europe/Berlin",
          catchUp: "none",
        },
      ],
    });
    await db.rollback(async (c) => {
      await c.query(sql);
      const { rows } = await c.query(
        "select name, cron, workflow, input, timezone, catch_up from rowflow.schedules",
      );
      expect(rows).toEqual([
        {
          name: "nightly",
          cron: "0 3 * * *",
          workflow: "order-paid",
          input: { note: "it's" },
          timezone: "Europe/Berlin",
          catch_up: "none",
        },
      ]);
    });
  });

  it("the CLI loads the config module and writes <timestamp>_<name>.sql into --out", async () => {
    const config = path.join(dir, "rowflow.config.mjs");
    await writeFile(config, `export default { workflows: ${JSON.stringify(workflows)} };\n`);
    const out = path.join(dir, "migrations");
    const result = await runCli([
      "generate-migration",
      "add_orders",
      "--config",
      config,
      "--out",
      out,
    ]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/wrote .*_add_orders\.sql: 1 workflow\(s\), 3 attachment\(s\)/);
    const files = await readdir(out);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^\d{14}_add_orders\.sql$/);
    const text = await readFile(path.join(out, files[0]!), "utf8");
    expect(text).toContain(
      `select rowflow.attach('orders', 'order-paid', events => array['insert', 'update']::text[], "when" => ${sqlLiteral(hostileWhen)}, supersede => true);`,
    );
    expect(text).toContain(
      `select rowflow.attach('notes', 'order-paid', events => array['insert']::text[], columns => array['id']::text[], on_delete => 'compensate');`,
    );

    const bad = await runCli(["generate-migration", "Bad-Name", "--config", config, "--out", out]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/migration name must match/);
  });
});
