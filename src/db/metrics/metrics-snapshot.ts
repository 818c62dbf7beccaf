import { onlyRow, type Queryable } from "../queryable.js";

/** What `rowflow.metrics_snapshot` answers (sql/schema/85_operate/metrics_snapshot.sql). */
export interface MetricsSnapshot {
  /** The clock the answer was computed with (ISO text). */
  now: string;
  /** Every run row: [workflow, status, count]. */
  runs: [workflow: string, status: string, count: number][];
  /** Steps ready to run that no handler runs yet: [task, queue ('' for none), count, age of the oldest in seconds]. */
  ready: [task: string, queue: string, count: number, oldestSeconds: number][];
  /** Each registered worker: [id, seconds since its heartbeat, alive (heartbeat within the timeout)]. */
  workers: [id: string, heartbeatAgeSeconds: number, alive: boolean][];
}

/** Arguments of `rowflow.metrics_snapshot`. */
export interface MetricsSnapshotCall {
  /** A worker silent for longer is not counted as live, in ms. */
  heartbeatTimeoutMs: number;
  now?: Date | null;
}

/** Calls `rowflow.metrics_snapshot`: every database-derived metric in one query. */
export async function metricsSnapshot(
  db: Queryable,
  args: MetricsSnapshotCall,
): Promise<MetricsSnapshot> {
  const { rows } = await db.query<{ snapshot: MetricsSnapshot }>(
    `select rowflow.metrics_snapshot(heartbeat_timeout => $1 * interval '1 millisecond', now => $2) as snapshot`,
    [args.heartbeatTimeoutMs, args.now ?? null],
  );
  return onlyRow(rows, "rowflow.metrics_snapshot").snapshot;
}
