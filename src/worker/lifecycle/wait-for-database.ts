import type pg from "pg";

import {
  connectionFailure,
  isConnectionFailure,
  parseConnectionTarget,
} from "../../db/connection.js";
import { ping } from "../../db/session/ping.js";
import type { Logger } from "../../definition/logger.js";

/**
 * Connection failures that waiting does not cure: the database does not
 * exist, the password is wrong, pg_hba.conf has no entry for us. They are
 * thrown at once, naming the target, instead of being retried forever.
 */
const fatalCodes = new Set(["3D000", "28P01", "28000"]);

/**
 * Waits until the database answers, retrying with exponential backoff and
 * logging one line per failed attempt (the server is down or starting).
 * A missing database, a bad password and any other error are thrown, as a
 * `ConnectionError` naming host, port, database and user. Resolves false
 * when `signal` aborts first.
 */
export async function waitForDatabase(
  pool: pg.Pool,
  options: {
    connectionString: string;
    logger: Logger;
    firstDelay: number;
    maxDelay: number;
    signal: AbortSignal;
  },
): Promise<boolean> {
  const target = parseConnectionTarget(options.connectionString);
  let delay = options.firstDelay;
  for (let attempt = 1; ; attempt++) {
    if (options.signal.aborted) return false;
    try {
      await ping(pool);
      if (attempt > 1) options.logger.info(`connected to Postgres after ${attempt} attempts`);
      return true;
    } catch (error) {
      const code = (error as { code?: unknown } | null)?.code;
      if (typeof code === "string" && fatalCodes.has(code)) throw connectionFailure(target, error);
      if (!isConnectionFailure(error)) throw error;
      options.logger.warn(
        `${connectionFailure(target, error).message} (attempt ${attempt}); retrying in ${delay} ms`,
      );
    }
    if (!(await sleep(delay, options.signal))) return false;
    delay = Math.min(delay * 2, options.maxDelay);
  }
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
