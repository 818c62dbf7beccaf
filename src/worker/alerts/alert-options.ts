/**
 * The worker's `alerts` option: where run.failed events are POSTed, and how
 * deliveries are retried. The URLs live only here, in the worker's
 * configuration (an environment variable, typically): chat and paging
 * webhooks carry their secret in the URL, and the database, which viewers
 * read, never sees them. docs/observability.md, "Failure webhook".
 */
import { positiveInt } from "../option-checks.js";

/** Options of the failure webhook (`createWorker({ alerts })`). */
export interface AlertOptions {
  /** URL (http or https) that receives a POST of every failed run's event. (Default: none: only the workflows in `workflows` are sent) */
  webhook?: string | undefined;
  /**
   * Per workflow name, the URL its events go to instead of `webhook`. A
   * worker without `webhook` claims only these workflows' events; the
   * others' stay pending for a worker that has one. (Default: none)
   */
  workflows?: Readonly<Record<string, string>> | undefined;
  /** Headers added to every POST, e.g. `{ authorization: "Bearer …" }`. (Default: none) */
  headers?: Readonly<Record<string, string>> | undefined;
  /**
   * A shared secret: every POST carries `Rowflow-Signature: t=<unix seconds>,v1=<hex>`,
   * the HMAC-SHA256 of `<t>.<body>` under it, so the receiver can tell the
   * events are rowflow's. (Default: none: no signature)
   */
  secret?: string | undefined;
  /** Timeout of one POST in ms; a timeout is a failed attempt. (Default: 10000) */
  timeout?: number | undefined;
  /** How often the worker looks for due alerts, in ms. (Default: 1000) */
  pollInterval?: number | undefined;
  /** Delay before the second attempt in ms, doubling with each attempt up to `maxRetryDelay`. (Default: 1000) */
  retryDelay?: number | undefined;
  /** Upper bound of the delay between attempts, in ms. (Default: 300000, 5 minutes) */
  maxRetryDelay?: number | undefined;
  /** How long after the failure an alert is retried before it is given up (status `failed`), in ms. (Default: 86400000, 24 hours) */
  giveUpAfter?: number | undefined;
  /** The dashboard's base URL: events then carry `links.dashboard` = `<dashboardUrl>/runs/<run id>`. (Default: none) */
  dashboardUrl?: string | undefined;
}

/** `AlertOptions` with defaults applied. */
export interface ResolvedAlertOptions {
  webhook: string | undefined;
  workflows: ReadonlyMap<string, string>;
  /** What claim_alerts is asked for: null (every workflow) when `webhook` is set. */
  claimWorkflows: readonly string[] | null;
  headers: Readonly<Record<string, string>>;
  secret: string | undefined;
  timeout: number;
  pollInterval: number;
  retryDelay: number;
  maxRetryDelay: number;
  giveUpAfter: number;
  dashboardUrl: string | undefined;
  /** How long a claim leases an alert: a worker that dies posting gives it back after this. */
  leaseMs: number;
}

/** Applies the defaults and checks the URLs and numbers; throws a `TypeError` naming a bad option. */
export function resolveAlertOptions(options: AlertOptions): ResolvedAlertOptions {
  const webhook = options.webhook === undefined ? undefined : httpUrl("webhook", options.webhook);
  const workflows = new Map(
    Object.entries(options.workflows ?? {}).map(([name, url]) => [
      name,
      httpUrl(`workflows.${name}`, url),
    ]),
  );
  if (webhook === undefined && workflows.size === 0) {
    throw new TypeError("createWorker: alerts needs a webhook URL, or workflows with theirs");
  }
  const timeout = positiveInt("alerts.timeout", options.timeout ?? 10_000);
  return {
    webhook,
    workflows,
    claimWorkflows: webhook === undefined ? [...workflows.keys()] : null,
    headers: { ...options.headers },
    secret: options.secret,
    timeout,
    pollInterval: positiveInt("alerts.pollInterval", options.pollInterval ?? 1_000),
    retryDelay: positiveInt("alerts.retryDelay", options.retryDelay ?? 1_000),
    maxRetryDelay: positiveInt("alerts.maxRetryDelay", options.maxRetryDelay ?? 300_000),
    giveUpAfter: positiveInt("alerts.giveUpAfter", options.giveUpAfter ?? 86_400_000),
    dashboardUrl: options.dashboardUrl?.replace(/\/+$/, ""),
    // The POST's timeout bounds an attempt; twice that and a margin for the
    // round trips that record it.
    leaseMs: 2 * timeout + 5_000,
  };
}

/**
 * When to try again after attempt `attempt` failed at `now`: the delay
 * doubles from `retryDelay` up to `maxRetryDelay`; null (give up) once that
 * time is past `giveUpAfter` from `since`.
 */
export function nextRetry(
  options: ResolvedAlertOptions,
  attempt: number,
  since: Date,
  now: Date,
): Date | null {
  const delay = Math.min(
    options.retryDelay * 2 ** Math.min(attempt - 1, 30),
    options.maxRetryDelay,
  );
  const at = new Date(now.getTime() + delay);
  return at.getTime() - since.getTime() > options.giveUpAfter ? null : at;
}

function httpUrl(name: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(`createWorker: alerts.${name} is not a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new TypeError(
      `createWorker: alerts.${name} must be an http or https URL, got ${url.protocol}`,
    );
  }
  return url.href;
}
