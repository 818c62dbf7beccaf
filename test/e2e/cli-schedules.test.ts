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
