// `rowflow show` and `rowflow explain` of a child step and its child run
// (src/cli/commands/operate-reads.ts; docs/cli.md): the parent's step names
// its child run while it waits and after, the child names its parent. The
// rows are put in place with the SQL functions (no worker); each command is
// a child process, so they run together.
import { describe, expect, it } from "vitest";

import { useTestDatabase } from "../helpers/db.js";
import { type CliResult, runCli } from "../helpers/run-cli.js";
import { claimAll, define, runStep, startRun } from "../sql/support.js";
import { arm } from "../sql/waits/wait-support.js";

const db = useTestDatabase();
const cli = (...args: string[]) => runCli([...args, "--database-url", db.url]);
const all = (...commands: string[][]) => Promise.all(commands.map((args) => cli(...args)));
const ok = (result: CliResult) => {
  expect(result, result.stderr).toMatchObject({ code: 0, stderr: "" });
  return result.stdout;
};

describe("rowflow show and explain of child workflows", () => {
  it("show the link both ways", async () => {
    await define(db.pool, "shipping", { steps: [{ name: "label", task: "t" }] });
    await define(db.pool, "order", {
      steps: [
        { name: "pack", task: "t" },
        {
          name: "ship",
          dependsOn: ["pack"],
          child: { workflow: "shipping", input: "$.steps.pack" },
        },
      ],
    });
    const run = await startRun(db.pool, "order", {});
    await runStep(db.pool, run, "pack", { box: "B1" });
    const child = Number((await arm(db.pool, run, "ship", new Date().toISOString())).child);
    await claimAll(db.pool);

    const [parentShown, childShown, explained, json] = await all(
      ["show", String(run)],
      ["show", String(child)],
      ["explain", String(run)],
      ["show", String(run), "--json"],
    );
    expect(ok(parentShown!)).toMatch(new RegExp(`ship +│ waiting for child run ${child} `));
    expect(ok(childShown!)).toContain(
      `run ${child}: shipping v1, running, child of run ${run} step ship\n`,
    );
    expect(ok(explained!)).toMatch(
      new RegExp(
        `ship +│ queued +│ waiting_for_child +│ waiting for child run ${child} \\(shipping, running\\)`,
      ),
    );
    expect(JSON.parse(ok(json!)).steps).toContainEqual(
      expect.objectContaining({
        step: "ship",
        child_run: String(child),
        waiting_for: `child run ${child}`,
      }),
    );

    // Once the child succeeded and the parent step took its output, show names the child still.
    await runStep(db.pool, child, "label", { id: "L" });
    const { rows } = await db.query<{ r: { ok: boolean } }>(
      "select rowflow.settle_child(run_id => $1, step => 'ship', attempt => 1) as r",
      [run],
    );
    expect(rows[0]!.r.ok).toBe(true);
    expect(ok(await cli("show", String(run)))).toMatch(
      new RegExp(`ship +│ succeeded \\(child run ${child}\\) `),
    );
  });
});
