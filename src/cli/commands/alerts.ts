// `rowflow alerts`: the failure alerts not delivered yet
// (rowflow.undelivered_alerts: pending, or failed when given up), and with
// --retry, failed ones sent again (rowflow.retry_alerts, operators). A table,
// or with --json one JSON array (or answer) on stdout; exit codes as the
// other operate commands (operate-reads.ts): 0 ok, 1 error, 2 usage.
import type { Command } from "commander";

import { retryAlerts } from "../../db/alerts/retry-alerts.js";
import { listUndeliveredAlerts } from "../../db/alerts/undelivered-alerts.js";
import {
  databaseOption,
  type DbOptions,
  positiveId,
  print,
  render,
  time,
  withDatabase,
} from "../operate-support.js";

interface AlertsOptions extends DbOptions {
  json?: boolean;
  retry?: string[] | boolean;
  reason?: string;
}

export function registerAlerts(program: Command): void {
  program
    .command("alerts")
    .description(
      "list the failure alerts not delivered yet (pending, or failed: given up); --retry sends failed ones again",
    )
    .option("--retry [ids...]", "send failed alerts again: these ids, or every failed one")
    .option("--reason <text>", "why, for the audit (with --retry)")
    .option("--json", "print JSON")
    .option(...databaseOption)
    .action(async (options: AlertsOptions) => {
      if (options.retry !== undefined) {
        const ids = Array.isArray(options.retry)
          ? options.retry.map((id) => Number(positiveId(id, "alert")))
          : null;
        const n = await withDatabase(options, (c) =>
          retryAlerts(c, { ids, reason: options.reason ?? null }),
        );
        print(options.json ?? false, { retried: n }, () =>
          n === 0 ? "no failed alert to retry" : `${n} alert(s) pending again`,
        );
        return;
      }
      const alerts = await withDatabase(options, (c) => listUndeliveredAlerts(c));
      print(options.json ?? false, alerts, () =>
        alerts.length === 0
          ? "no undelivered alerts"
          : render(
              [
                "alert",
                "status",
                "run",
                "workflow",
                "step",
                "attempts",
                "last outcome",
                "next attempt",
                "failed at",
              ],
              alerts.map((a) => [
                a.id,
                a.leased ? "sending" : a.status,
                a.runId,
                a.workflow,
                a.step,
                a.attempts,
                a.lastError ?? a.lastStatus ?? (a.attempts === 0 ? "(never tried)" : null),
                a.status === "pending" ? time(a.nextAttemptAt) : null,
                time(a.createdAt),
              ]),
            ),
      );
    });
}
