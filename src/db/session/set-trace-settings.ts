import type { Queryable } from "../queryable.js";

/**
 * Sets the transaction-local settings `rowflow.traceparent` and
 * `rowflow.tracestate`, which an attachment's start function reads: the
 * runs a plain INSERT of this transaction starts continue that trace
 * (docs/observability.md, "Traces"). Outside a transaction block they last
 * for the one statement only.
 */
export async function setTraceSettings(
  db: Queryable,
  args: { traceparent: string; tracestate: string | null },
): Promise<void> {
  await db.query(
    `select set_config('rowflow.traceparent', $1, true), set_config('rowflow.tracestate', $2, true)`,
    [args.traceparent, args.tracestate ?? ""],
  );
}
