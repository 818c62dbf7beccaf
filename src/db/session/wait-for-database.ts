import pg from "pg";

import { ConnectionError } from "../../errors.js";
import { connectionFailure, isConnectionFailure, parseConnectionTarget } from "../connection.js";

/**
 * Connection failures that waiting does not cure: the database does not
 * exist, the password is wrong, pg_hba.conf has no entry for us. They are
 * thrown at once, naming the target, instead of being retried forever.
 */
const fatalCodes = new Set(["3D000", "28P01", "28000"]);

/** Options of `waitForDatabase`. */
export interface WaitForDatabaseOptions {
  connectionString: string;
  /** `application_name` of the probing connections. (Default: "rowflow") */
  applicationName?: string;
  /** Gets one warning per failed attempt. */
  /** Where the attempts are logged (a rowflow Logger fits). */
  logger: { info(message: string): void; warn(message: string): void };
  /** Delay before the second attempt, in ms; it doubles up to `maxDelay`. */
  firstDelay: number;
  maxDelay: number;
  /** Stops waiting (resolving false). */
  signal: AbortSignal;
  /**
   * Gives up after this many ms of failed attempts, throwing a
   * `ConnectionError` with the last failure. (Default: undefined, wait until
   * `signal` aborts)
   */
  timeoutMs?: number | undefined;
}

/**
 * Waits until the database answers, retrying with exponential backoff and
 * logging one line per failed attempt (the server is down or starting).
 * A missing database, a bad password and any other error are thrown, as a
 * `ConnectionError` naming host, port, database and user; so is the last
 * failure when `timeoutMs` runs out. Resolves false when `signal` aborts first.
 *
 * Each attempt is a connection of its own, not one of the caller's pool: its
 * connect timeout is what is left of `timeoutMs`, so a host that drops
 * packets (where a TCP connect waits two minutes) cannot overrun the bound,
 * and no half-open connect is left in the pool to delay its `end()`.
 */
export async function waitForDatabase(options: WaitForDatabaseOptions): Promise<boolean> {
  const target = parseConnectionTarget(options.connectionString);
  const started = Date.now();
  const deadline = options.timeoutMs === undefined ? Infinity : started + options.timeoutMs;
  let delay = options.firstDelay;
  // The last attempt's connect timeout is what is left of the bound, often
  // a few ms: its "timeout expired" says less than the refusal before it.
  let earlier: ReturnType<typeof connectionFailure> | undefined;
  for (let attempt = 1; ; attempt++) {
    if (options.signal.aborted) return false;
    try {
      await probe(options, deadline - Date.now());
      if (attempt > 1) options.logger.info(`connected to Postgres after ${attempt} attempts`);
      return true;
    } catch (error) {
      const code = (error as { code?: unknown } | null)?.code;
      if (typeof code === "string" && fatalCodes.has(code)) throw connectionFailure(target, error);
      if (!isConnectionFailure(error)) throw error;
      let failure = connectionFailure(target, error);
      const left = deadline - Date.now();
      if (left <= 0) {
        if (earlier && /timeout expired/.test(failure.message)) failure = earlier;
        throw new ConnectionError(
          `${failure.message} (gave up after ${formatDuration(Date.now() - started)} and ${attempt} attempt${attempt === 1 ? "" : "s"})`,
          { cause: error },
        );
      }
      if (!/timeout expired/.test(failure.message)) earlier = failure;
      delay = Math.min(delay, left);
      options.logger.warn(`${failure.message} (attempt ${attempt}); retrying in ${delay} ms`);
    }
    if (!(await sleep(delay, options.signal))) return false;
    delay = Math.min(delay * 2, options.maxDelay);
  }
}

async function probe(options: WaitForDatabaseOptions, left: number): Promise<void> {
  const client = new pg.Client({
    connectionString: options.connectionString,
    application_name: options.applicationName ?? "rowflow",
    // 0: no timeout (pg's default).
    connectionTimeoutMillis: Number.isFinite(left) ? Math.max(1, left) : 0,
  });
  client.on("error", () => {}); // a failure is what connect() or query() reject with
  try {
    await client.connect();
    await client.query("select 1");
  } finally {
    await client.end().catch(() => {});
  }
}

function formatDuration(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
