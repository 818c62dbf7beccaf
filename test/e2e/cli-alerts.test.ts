// `rowflow alerts` (src/cli/commands/alerts.ts): the failure alerts not
// delivered yet, as a table or --json, and --retry for given-up ones.
import { describe, expect, it } from "vitest";

import { useTestDatabase } from "../helpers/db.js";
import { runCli } from "../helpers/run-cli.js";
import { begin, define, fail, startRun } from "../sql/support.js";

const db = useTestDatabase();
const cli = (...args: string[]) => runCli([...args, "--database-url", db.url]);

describe("rowflow alerts", () => {
  it("lists pending and failed alerts and sends failed ones again", async () => {
    await define(db.pool, "billing", { steps: [{ name: "charge", task: "t", attempts: 1 }] });
    const runs: number[] = [];
    for (const _ of [1, 2, 3]) {
      const run = await startRun(db.pool, "billing");
      await begin(db.pool, run, "charge", 1);
      await fail(db.pool, run, "charge", 1);
      runs.push(run);
    }
    // The first delivered, the second given up, the third never tried.
    const { rows: claimed } = await db.query<{ id: string; lease: string }>(
      "select id, lease from rowflow.claim_alerts(max => 2)",
    );
    await db.query(
      "select rowflow.record_alert_attempt(id => $1, lease => $2, status_code => 200, duration_ms => 3)",
      [claimed[0]!.id, claimed[0]!.lease],
    );
    await db.query(
      "select rowflow.record_alert_attempt(id => $1, lease => $2, status_code => 410, error => 'HTTP 410: gone', duration_ms => 3)",
      [claimed[1]!.id, claimed[1]!.lease],
    );

    const listed = await cli("alerts", "--json");
    expect(listed, listed.stderr).toMatchObject({ code: 0, stderr: "" });
    const rows = JSON.parse(listed.stdout) as Array<Record<string, unknown>>;
    expect(rows.map((r) => [r.runId, r.status, r.attempts, r.lastError, r.step])).toEqual([
      [runs[1], "failed", 1, "HTTP 410: gone", "charge"],
      [runs[2], "pending", 0, null, "charge"],
    ]);
    const table = await cli("alerts");
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/failed .*HTTP 410: gone/);
    expect(table.stdout).toMatch(/pending .*\(never tried\)/);

    const retried = await cli("alerts", "--retry", String(rows[0]!.id), "--json");
    expect(retried, retried.stderr).toMatchObject({ code: 0 });
    expect(JSON.parse(retried.stdout)).toEqual({ retried: 1 });
    const after = JSON.parse((await cli("alerts", "--json")).stdout) as Array<
      Record<string, unknown>
    >;
    expect(after.map((r) => r.status)).toEqual(["pending", "pending"]);
    expect((await cli("alerts", "--retry")).stdout.trim()).toBe("no failed alert to retry");
    expect((await cli("alerts", "--retry", "x")).code).toBe(2);
  });
});
