// `rowflow schedules` (src/cli/commands/schedules.ts): each schedule with
// its last tick fired and its next one, as a table or --json; a schedule
// defined from SQL whose cron croner rejects shows why instead of a next tick.
import { describe, expect, it } from "vitest";

import { useTestDatabase } from "../helpers/db.js";
import { runCli } from "../helpers/run-cli.js";
import { define } from "../sql/support.js";

const db = useTestDatabase();
const cli = (...args: string[]) => runCli([...args, "--database-url", db.url]);

describe("rowflow schedules", () => {
  it("lists name, cron, timezone, workflow, paused, last and next tick", async () => {
    await define(db.pool, "report", { steps: [{ name: "a", task: "t" }] });
    await db.query(`select rowflow.define_schedule('morning', '0 9 * * *', 'report', timezone => 'America/New_York');
                    select rowflow.define_schedule('often', '*/30 * * * * *', 'report', catch_up => 'all');
                    select rowflow.define_schedule('broken', '61 * * * *', 'report');
                    select rowflow.pause_schedule('often');
                    select rowflow.fire_schedule('morning', '2026-01-05 09:00 America/New_York')`);
    const before = Date.now();
    const result = await cli("schedules", "--json");
    expect(result, result.stderr).toMatchObject({ code: 0, stderr: "" });
    const rows = JSON.parse(result.stdout) as Array<Record<string, unknown>>;
    expect(rows).toEqual([
      {
        name: "broken",
        cron: "61 * * * *",
        timezone: "UTC",
        workflow: "report",
        catchUp: "latest",
        paused: false,
        lastTick: null,
        nextTick: null,
        error:
          'schedule "broken": invalid cron expression "61 * * * *": CronPattern: Invalid value for minute: 61',
      },
      {
        name: "morning",
        cron: "0 9 * * *",
        timezone: "America/New_York",
        workflow: "report",
        catchUp: "latest",
        paused: false,
        lastTick: "2026-01-05T14:00:00.000Z",
        nextTick: expect.stringMatching(/T1[34]:00:00\.000Z$/),
      },
      {
        name: "often",
        cron: "*/30 * * * * *",
        timezone: "UTC",
        workflow: "report",
        catchUp: "all",
        paused: true,
        lastTick: null,
        nextTick: expect.stringMatching(/:[03]0\.000Z$/),
      },
    ]);
    const next = Date.parse(rows[1]!.nextTick as string);
    expect(next).toBeGreaterThan(before);
    expect(next - before).toBeLessThanOrEqual(24 * 3_600_000);

    const table = await cli("schedules");
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(
      /morning .*0 9 \* \* \* .*America\/New_York .*report .*latest .*no .*2026-01-05 14:00:00/,
    );
    expect(table.stdout).toContain("Invalid value for minute: 61");
  });
});

describe("rowflow schedule define|pause|resume|drop", () => {
  const row = async (name: string) =>
    (
      await db.query<{ cron: string; timezone: string; input: unknown; paused: boolean }>(
        `select cron, timezone, input, paused, catch_up from rowflow.schedules where name = $1`,
        [name],
      )
    ).rows;

  it("defines, changes, pauses, resumes and drops a schedule, each audited", async () => {
    await define(db.pool, "nightly", { steps: [{ name: "a", task: "t" }] });
    const created = await cli(
      "schedule",
      "define",
      "cleanup",
      "--cron",
      "0 3 * * *",
      "--workflow",
      "nightly",
      "--input",
      '{"keep":"30d"}',
      "--timezone",
      "Europe/Paris",
      "--json",
    );
    expect(created, created.stderr).toMatchObject({ code: 0, stderr: "" });
    expect(JSON.parse(created.stdout)).toEqual({
      schedule: "cleanup",
      created: true,
      changed: true,
    });
    expect(await row("cleanup")).toEqual([
      {
        cron: "0 3 * * *",
        timezone: "Europe/Paris",
        input: { keep: "30d" },
        paused: false,
        catch_up: "latest",
      },
    ]);
    const again = await cli(
      ...["schedule", "define", "cleanup", "--cron", "0 3 * * *", "--workflow", "nightly"],
      ...["--input", '{"keep":"30d"}', "--timezone", "Europe/Paris"],
    );
    expect(again.stdout.trim()).toBe(
      "schedule cleanup: unchanged (0 3 * * * Europe/Paris → nightly)",
    );
    const changed = await cli(
      ...["schedule", "define", "cleanup", "--cron", "0 4 * * *", "--workflow", "nightly"],
      ...["--catch-up", "none"],
    );
    expect(changed.stdout.trim()).toBe("schedule cleanup: changed (0 4 * * * UTC → nightly)");
    expect(await row("cleanup")).toMatchObject([
      { cron: "0 4 * * *", timezone: "UTC", input: {}, catch_up: "none" },
    ]);

    const paused = await cli("schedule", "pause", "cleanup", "--reason", "maintenance");
    expect(paused, paused.stderr).toMatchObject({ code: 0, stdout: "schedule cleanup: paused\n" });
    expect((await cli("schedule", "pause", "cleanup")).stdout).toBe(
      "schedule cleanup: already paused\n",
    );
    expect((await row("cleanup"))[0]?.paused).toBe(true);
    const resumed = await cli("schedule", "resume", "cleanup", "--json");
    expect(JSON.parse(resumed.stdout)).toEqual({
      schedule: "cleanup",
      paused: false,
      changed: true,
    });
    const dropped = await cli("schedule", "drop", "cleanup", "--reason", "obsolete");
    expect(dropped).toMatchObject({ code: 0, stdout: "schedule cleanup: dropped\n" });
    expect(await row("cleanup")).toEqual([]);
    expect((await cli("schedule", "drop", "cleanup")).stdout).toBe(
      "schedule cleanup: no such schedule\n",
    );
    const { rows: audit } = await db.query<{ action: string; reason: string | null }>(
      `select action, reason from rowflow.audit
       where action like '%schedule' and data->>'schedule' = 'cleanup' order by id`,
    );
    expect(audit).toEqual([
      { action: "define_schedule", reason: null },
      { action: "define_schedule", reason: null },
      { action: "pause_schedule", reason: "maintenance" },
      { action: "resume_schedule", reason: null },
      { action: "drop_schedule", reason: "obsolete" },
    ]);
  });

  it("refuses bad input with its RF code and writes nothing; usage errors exit 2", async () => {
    await define(db.pool, "weekly", { steps: [{ name: "a", task: "t" }] });
    const bad = (...args: string[]) => cli("schedule", "define", "w", ...args);
    const cases: Array<[string[], RegExp]> = [
      [["--cron", "61 * * * *", "--workflow", "weekly"], /Invalid value for minute: 61.*\[RF050\]/],
      [["--cron", "@daily", "--workflow", "weekly", "--timezone", "Mars/Olympus"], /\[RF051\]/],
      [["--cron", "@daily", "--workflow", "weekly", "--catch-up", "some"], /\[RF052\]/],
      [["--cron", "@daily", "--workflow", "nope"], /\[RF020\]/],
    ];
    for (const [args, message] of cases) {
      const r = await bad(...args);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(message);
    }
    expect(await row("w")).toEqual([]);
    const unknown = await cli("schedule", "pause", "ghost");
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/unknown schedule "ghost".*\[RF053\]/);
    for (const args of [
      ["--cron", "@daily", "--workflow", "weekly", "--input", "{"],
      ["--cron", "@daily", "--workflow", "weekly", "--input", "[1]"],
      ["--workflow", "weekly"],
    ]) {
      const r = await bad(...args);
      expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(2);
    }
    expect(await row("w")).toEqual([]);
  });
});
