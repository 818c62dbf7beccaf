/**
 * One delivery attempt: a POST of the event's JSON with its id as
 * `Idempotency-Key`, under a timeout. Redirects are not followed (a 3xx is a
 * failed attempt): the URL is the operator's, and an event should not be
 * forwarded somewhere it did not name. Answers the status or the error;
 * never throws.
 */
import { createHmac } from "node:crypto";

/** What one POST came to. */
export interface PostOutcome {
  /** The HTTP status, when a response came. */
  statusCode: number | null;
  /** Why it is not a 2xx: the error (refused, timed out), or the status with the start of the body. */
  error: string | null;
  durationMs: number;
}

export interface PostOptions {
  url: string;
  eventId: string;
  body: string;
  headers: Readonly<Record<string, string>>;
  secret: string | undefined;
  timeoutMs: number;
  /** Aborts the POST (the worker's shutdown). */
  signal: AbortSignal;
}

/** Posts the event; resolves with its outcome. */
export async function postWebhook(options: PostOptions): Promise<PostOutcome> {
  const started = performance.now();
  const headers: Record<string, string> = {
    ...options.headers,
    "content-type": "application/json",
    "user-agent": "rowflow",
    "idempotency-key": options.eventId,
    "rowflow-event-id": options.eventId,
  };
  if (options.secret !== undefined) {
    const t = Math.floor(Date.now() / 1000);
    const mac = createHmac("sha256", options.secret).update(`${t}.${options.body}`).digest("hex");
    headers["rowflow-signature"] = `t=${t},v1=${mac}`;
  }
  const elapsed = () => Math.round(performance.now() - started);
  try {
    const response = await fetch(options.url, {
      method: "POST",
      headers,
      body: options.body,
      redirect: "manual",
      signal: AbortSignal.any([options.signal, AbortSignal.timeout(options.timeoutMs)]),
    });
    const ok = response.status >= 200 && response.status < 300;
    // Read (a little of) the body so the connection is free again.
    const text = await response.text().catch(() => "");
    return {
      statusCode: response.status,
      error: ok ? null : `HTTP ${response.status}${text ? `: ${text.slice(0, 200)}` : ""}`,
      durationMs: elapsed(),
    };
  } catch (caught) {
    const error = caught as Error & { cause?: { code?: string; message?: string } };
    const message =
      error.name === "TimeoutError"
        ? `timed out after ${options.timeoutMs} ms`
        : error.cause?.message
          ? `${error.message}: ${error.cause.message}`
          : error.message;
    return { statusCode: null, error: message, durationMs: elapsed() };
  }
}
