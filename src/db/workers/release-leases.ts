import type { Queryable } from "../queryable.js";

/** Arguments of `rowflow.release_leases`. */
export interface ReleaseLeasesCall {
  workerId: string;
  keep: readonly string[];
  olderThanMs: number;
  /** `workerId`'s token (register_worker's answer). */
  token: string | null;
}

/**
 * `rowflow.release_leases`: ends this worker's leases on step runs it is not
 * using (`keep` lists the ones it runs or has queued locally, as
 * `<run id>:<step>`) that are older than `olderThanMs`: running ones are
 * recorded as lost attempts, reserved ones get jobs. Returns how many.
 */
export async function releaseLeases(db: Queryable, args: ReleaseLeasesCall): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `select rowflow.release_leases(worker_id => $1, keep => $2::text[],
              older_than => pg_catalog.make_interval(secs => $3::double precision / 1000),
              token => $4) as n`,
    [args.workerId, args.keep, args.olderThanMs, args.token],
  );
  return rows[0]?.n ?? 0;
}
