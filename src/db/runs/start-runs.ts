import type { Queryable } from "../queryable.js";

/** Arguments of `rowflow.start_runs`. */
export interface StartRunsArgs {
  workflow: string;
  inputs: readonly Record<string, unknown>[];
  idempotencyKeys?: readonly (string | null)[] | null;
  priority?: number;
  now?: Date | null;
  /** The W3C trace context every run continues (`trace_context`); a malformed one is ignored. (Default: none) */
  traceContext?: { traceparent: string; tracestate?: string | undefined } | null;
}

/** Calls `rowflow.start_runs`; returns one run id per input, in input order. */
export async function startRuns(db: Queryable, args: StartRunsArgs): Promise<string[]> {
  // One JSON array parameter, split in SQL: a jsonb[] parameter would need
  // every element serialised as a Postgres array literal.
  const { rows } = await db.query<{ id: string }>(
    `select id from rowflow.start_runs(
        workflow => $1,
        inputs => array(select e from jsonb_array_elements($2::jsonb) with ordinality as t(e, o) order by o),
        idempotency_keys => $3::text[], priority => $4, now => $5, trace_context => $6::jsonb)
       with ordinality as t(id, o)
     order by o`,
    [
      args.workflow,
      JSON.stringify(args.inputs),
      args.idempotencyKeys ?? null,
      args.priority ?? 0,
      args.now ?? null,
      args.traceContext ? JSON.stringify(args.traceContext) : null,
    ],
  );
  return rows.map((row) => String(row.id));
}
