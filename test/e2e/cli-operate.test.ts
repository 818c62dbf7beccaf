// The operator's commands (src/cli/commands/operate.ts) against a real
// database: each prints its line or table, --json parses, errors exit 1
// with one line and their RF code, usage errors exit 2.
import { describe, expect, it } from "vitest";

import { useTestDatabase } from "../helpers/db.js";
import { runCli } from "../helpers/run-cli.js";
import { begin, define, fail, queueRun, runStep, startRun } from "../sql/support.js";

const db = useTestDatabase();

const cli = (...args: string[]) => runCli([...args, "--database-url", db.url]);

async function failedRun(): Promise<number> {
  const run = await startRun(db.pool, "shop");
  await runStep(db.pool, run, "reserve", { reserved: true });
  await begin(db.pool, run, "charge", 1);
  await fail(db.pool, run, "charge", 1, { retryable: false });
  return run;
}

describe("rowflow operator commands", () => {
  it("runs, show, explain, retry, skip: a failed run brought to success", async () => {
    await define(db.pool, "shop", {
      steps: [
        { name: "reserve", task: "t" },
        { name: "charge", task: "t", dependsOn: ["reserve"], attempts: 1 },
        { name: "ship", task: "t", dependsOn: ["charge"] },
      ],
    });
    const run = await failedRun();

    const listed = await cli("runs", "--status", "failed", "--json");
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual([
      expect.objectContaining({ id: String(run), workflow: "shop", status: "failed" }),
    ]);
    const table = await cli("runs", "--workflow", "shop");
    expect(table.stdout).toMatch(new RegExp(`${run}.*shop.*failed.*charge failed`));

    const shown = await cli("show", String(run));
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(new RegExp(`^run ${run}: shop v1, failed\\n`));
    // Indented by depth: reserve, then charge, then ship.
    expect(shown.stdout).toMatch(
      /│ reserve +│ succeeded[\s\S]*│ {3}charge +│ failed[\s\S]*│ {5}ship +│ cancelled/,
    );

    const explained = await cli("explain", String(run), "--json");
    expect(JSON.parse(explained.stdout)).toEqual([
      expect.objectContaining({ step: null, code: "run_finished", status: "failed" }),
    ]);

    const retried = await cli("retry", String(run), "--reason", "card fixed");
    expect(retried).toMatchObject({
      code: 0,
      stdout: `run ${run}: failed → running; again: charge, ship\n`,
    });
    const again = await cli("retry", String(run));
    expect(again.stdout).toBe(`run ${run} is running: nothing to retry\n`);

    const why = await cli("explain", String(run));
    expect(why.stdout).toMatch(/charge +│ queued +│ no_worker_for_task/);
    expect(why.stdout).toMatch(/ship +│ pending +│ waiting_on_dependencies │ waiting on charge/);

    const skipped = await cli(
      "skip",
      String(run),
      "charge",
      "--output",
      '{"paid": "by hand"}',
      "--json",
    );
    expect(JSON.parse(skipped.stdout)).toMatchObject({
      skipped: true,
      status: "succeeded",
      released: ["ship"],
    });

    const rerun = await cli("rerun", String(run), "--from", "ship", "--json");
    expect(JSON.parse(rerun.stdout)).toMatchObject({
      rerunOf: run,
      copied: ["charge", "reserve"],
      queued: ["ship"],
    });
    const { rows } = await db.query(
      "select action, reason from rowflow.audit where run_id = $1 order by id",
      [run],
    );
    expect(rows).toEqual([
      { action: "retry_run", reason: "card fixed" },
      { action: "skip_step", reason: null },
    ]);
  });

  it("pause, resume, cancel and purge", async () => {
    await define(db.pool, "mail", { steps: [{ name: "send", task: "t" }] });
    expect((await cli("pause", "mail", "--reason", "deploy")).stdout).toBe(
      "workflow mail paused (0 queued run(s))\n",
    );
    expect((await cli("pause", "mail")).stdout).toBe("workflow mail was already paused\n");
    const queued = await queueRun(db.pool, "mail");
    expect((await cli("resume", "mail")).stdout).toBe("workflow mail resumed (1 queued run(s))\n");
    expect((await cli("cancel", String(queued))).stdout).toBe(`run ${queued} cancelled\n`);
    expect((await cli("cancel", String(queued))).stdout).toBe(`run ${queued} had already ended\n`);

    await db.query(
      "update rowflow.runs set finished_at = finished_at - interval '2 days' where id = $1",
      [queued],
    );
    const dry = await cli(
      "purge",
      "--older-than",
      "1d",
      "--workflow",
      "mail",
      "--dry-run",
      "--json",
    );
    expect(JSON.parse(dry.stdout)).toEqual({ wouldDelete: 1 });
    expect((await cli("purge", "--older-than", "1d", "--workflow", "mail")).stdout).toBe(
      "deleted 1 run(s)\n",
    );
    expect((await cli("purge", "--older-than", "1d", "--workflow", "mail")).stdout).toBe(
      "deleted 0 run(s)\n",
    );
    expect((await cli("retention", "mail", "30d")).stdout).toBe(
      "workflow mail: finished runs kept for 30 days\n",
    );
    expect((await cli("retention", "mail", "forever")).stdout).toBe(
      "workflow mail: finished runs kept forever\n",
    );
  });

  it("errors exit 1 with one line and the RF code; usage errors exit 2", async () => {
    expect(await cli("retry", "999999")).toMatchObject({
      code: 1,
      stderr: "rowflow: unknown run 999999 [RF023]\n",
    });
    expect(await cli("pause", "nope")).toMatchObject({
      code: 1,
      stderr: "rowflow: unknown workflow nope [RF020]\n",
    });
    // An interval the CLI refuses before it opens the database, or that
    // Postgres cannot read, is a usage error too.
    expect(await cli("purge", "--older-than", "-1 day")).toMatchObject({
      code: 2,
      stderr: "rowflow: a negative interval: '-1 day' (an interval here is 0 or more)\n",
    });
    expect(await cli("purge", "--older-than", "abc")).toMatchObject({
      code: 2,
      stderr:
        "rowflow: not an interval: 'abc' (expected 30d, 12h, 15m, 45s, 2w or a Postgres interval such as '2 hours 30 minutes')\n",
    });
    expect(await cli("purge", "--older-than", "5 dayz")).toMatchObject({
      code: 2,
      stderr:
        "rowflow: invalid input syntax for type interval: \"5 dayz\" (expected 30d, 12h, 15m, 45s, 2w or a Postgres interval such as '2 hours 30 minutes')\n",
    });
    expect(await cli("runs", "--since", "1 hour ago")).toMatchObject({ code: 2 });
    // commander takes "-1d" for an option; the error says what it is.
    const negative = await cli("retention", "mail", "-1d");
    expect(negative.code).toBe(2);
    expect(negative.stderr).toMatch(
      /^error: '-1d' is not an option, and no argument takes a negative value\n/,
    );
    // What the CLI passes on, Postgres's function still checks: zero retention.
    expect(await cli("retention", "mail", "0d")).toMatchObject({ code: 1 });
    const usage = await cli("retry", "abc");
    expect(usage.code).toBe(2);
    expect(usage.stderr).toBe("rowflow: not a run id: abc\n");
    expect((await runCli(["purge"])).code).toBe(2);
    const version = await runCli(["--version"]);
    expect(version).toMatchObject({ code: 0, stdout: expect.stringMatching(/^\d+\.\d+\.\d+\n$/) });
  });
});
