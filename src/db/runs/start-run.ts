import { onlyRow, type Queryable } from "../queryable.js";

/** Arguments of `rowflow.start_run`. */
export interface StartRunArgs {
  workflow: string;
  input?: Record<string, unknown>;
  idempotencyKey?: string | null;
  priority?: number;
  now?: Date | null;
  /** The W3C trace context the run continues (`trace_context`); a malformed one is ignored. (Default: none) */
  traceContext?: { traceparent: string; tracestate?: string | undefined } | null;
}

/** Calls `rowflow.start_run`; returns the run id (bigint as a string). */
export async function startRun(db: Queryable, args: StartRunArgs): Promise<string> {
  const { rows } = await db.query<{ id: string }>(
    `select rowflow.start_run(workflow => $1, input => $2::jsonb, idempotency_key => $3,
                              priority => $4, now => $5, trace_context => $6::jsonb) as id`,
    [
      args.workflow,
      JSON.stringify(args.input ?? {}),
      args.idempotencyKey ?? null,
      args.priority ?? 0,
      args.now ?? null,
      args.traceContext ? JSON.stringify(args.traceContext) : null,
    ],
  );
  return String(onlyRow(rows, "rowflow.start_run").id);
}
