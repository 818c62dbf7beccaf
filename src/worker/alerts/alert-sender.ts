/**
 * The failure webhook's delivery loop, run by a worker that has `alerts`:
 * every `pollInterval` it leases the due alerts (rowflow.claim_alerts; at
 * once again while it takes full batches), POSTs each (post-webhook.ts) and
 * records the attempt (rowflow.record_alert_attempt) with the retry time
 * from its backoff, or none once the retry window is over. The database
 * holds all the state: a worker that dies mid-POST leaves the lease to
 * expire and another worker (or this one restarted) posts the event again
 * with the same event id — delivery is at least once. docs/observability.md,
 * "Failure webhook".
 */
import { claimAlerts, type ClaimedAlert } from "../../db/alerts/claim-alerts.js";
import { recordAlertAttempt } from "../../db/alerts/record-alert-attempt.js";
import type { Queryable } from "../../db/queryable.js";
import type { Logger } from "../../definition/logger.js";
import { nextRetry, type ResolvedAlertOptions } from "./alert-options.js";
import { postWebhook } from "./post-webhook.js";

/** Alerts leased per claim. */
const batch = 10;

export interface AlertSenderOptions {
  db: Queryable;
  options: ResolvedAlertOptions;
  logger: Logger;
  /** This worker's id for the attempt rows (once it has one). */
  workerId: () => string | undefined;
  /** The injected clock, if any (then the SQL calls get it too). */
  now: (() => Date) | undefined;
  /** Aborts POSTs in flight (the end of the shutdown grace period). */
  signal: AbortSignal;
}

/** A running delivery loop. */
export interface AlertSender {
  /** Stops polling and waits for the deliveries in flight. */
  stop(): Promise<void>;
}

/** Starts the loop; the first look is at once. */
export function startAlertSender(sender: AlertSenderOptions): AlertSender {
  const { options, logger } = sender;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<void> = Promise.resolve();
  let failing = false;

  const deliver = async (alert: ClaimedAlert): Promise<void> => {
    const url = options.workflows.get(alert.workflow) ?? options.webhook;
    if (url === undefined) return; // not claimed: claim_alerts asked only for ours
    const links = (alert.body.links ?? {}) as Record<string, unknown>;
    const body = options.dashboardUrl
      ? {
          ...alert.body,
          links: { ...links, dashboard: `${options.dashboardUrl}/runs/${alert.runId}` },
        }
      : alert.body;
    const outcome = await postWebhook({
      url,
      eventId: alert.eventId,
      body: JSON.stringify(body),
      headers: options.headers,
      secret: options.secret,
      timeoutMs: options.timeout,
      signal: sender.signal,
    });
    const delivered = outcome.error === null; // post-webhook.ts: null exactly on a 2xx
    const now = sender.now?.() ?? new Date();
    const retryAt = delivered ? null : nextRetry(options, alert.attempt, alert.retrySince, now);
    const result = await recordAlertAttempt(sender.db, {
      id: alert.id,
      lease: alert.lease,
      statusCode: outcome.statusCode,
      error: outcome.error,
      durationMs: outcome.durationMs,
      retryAt,
      workerId: sender.workerId() ?? null,
      now: sender.now ? now : null,
    });
    const what = `alert ${alert.id} (run ${alert.runId}, ${alert.workflow})`;
    if (!result.ok) {
      logger.warn(`${what}: attempt ${alert.attempt} not recorded: its lease ended meanwhile`);
    } else if (result.status === "delivered") {
      logger.info(`${what} delivered (attempt ${alert.attempt}, HTTP ${outcome.statusCode})`);
    } else if (result.status === "failed") {
      logger.error(
        `${what}: given up after attempt ${alert.attempt}: ${outcome.error ?? ""}; rowflow alerts --retry sends it again`,
      );
    } else {
      logger.warn(
        `${what}: attempt ${alert.attempt} failed (${outcome.error ?? ""}); next at ${retryAt?.toISOString() ?? "?"}`,
      );
    }
  };

  // Answers whether a full batch came (then look again at once).
  const once = async (): Promise<boolean> => {
    try {
      const alerts = await claimAlerts(sender.db, {
        workflows: options.claimWorkflows,
        max: batch,
        leaseMs: options.leaseMs,
        now: sender.now?.() ?? null,
      });
      const results = await Promise.allSettled(alerts.map(deliver));
      for (const r of results) {
        // A record that failed (the database is away): the lease expires and the alert is posted again.
        if (r.status === "rejected") {
          logger.warn(`alert delivery not recorded: ${(r.reason as Error).message}`);
        }
      }
      if (failing) logger.info("alert delivery recovered");
      failing = false;
      return alerts.length === batch;
    } catch (error) {
      if (!failing) logger.warn(`could not claim alerts: ${(error as Error).message}`);
      failing = true;
      return false;
    }
  };

  const schedule = (delay: number) => {
    if (stopped) return;
    timer = setTimeout(() => {
      current = once().then((full) => schedule(full ? 0 : options.pollInterval));
    }, delay);
    timer.unref();
  };
  schedule(0);

  return {
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await current;
    },
  };
}
