import type { Queryable } from "../queryable.js";
import type { RunStatus } from "./get-run.js";

/** A run as `runsFor` lists it: the run row without its steps. */
export interface RunSummary {
  /** Run id (bigint as a decimal string). */
  id: string;
  workflow: string;
  version: number;
  status: RunStatus;
  input: Record<string, unknown>;
  error: unknown;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

/**
 * `rowflow.runs_for`: the runs a business row's changes started (any
 * attachment of `table`), oldest first, as this role may see them. `key` is
 * the row's primary key, one value per key column in key order; each is sent
 * as text and read as its column's type by the server.
 */
export async function runsFor(
  db: Queryable,
  table: string,
  key: ReadonlyArray<string | number | bigint>,
): Promise<RunSummary[]> {
  const { rows } = await db.query<{
    id: string;
    workflow: string;
    version: number;
    status: RunStatus;
    input: Record<string, unknown>;
    error: unknown;
    created_at: Date;
    started_at: Date | null;
    finished_at: Date | null;
  }>(
    `select id::text, workflow, version, status, input, error, created_at, started_at, finished_at
     from rowflow.runs_for($1::text::regclass, variadic $2::text[])`,
    [table, key.map(String)],
  );
  return rows.map((r) => ({
    id: r.id,
    workflow: r.workflow,
    version: r.version,
    status: r.status,
    input: r.input,
    error: r.error,
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
  }));
}
