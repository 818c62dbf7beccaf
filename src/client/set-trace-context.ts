/**
 * `setTraceContext(tx)`: lets a plain INSERT into an attached table continue
 * the caller's trace (docs/observability.md, "Traces"). It sets the
 * transaction-local settings the attachment's start function reads, so the
 * runs the transaction's writes start keep the trace context and their step
 * spans nest under the caller's span.
 *
 * ```ts
 * await db.transaction().execute(async (tx) => {
 *   await setTraceContext(tx);               // the active span's context
 *   await tx.insertInto("orders").values(order).execute();
 * });
 * ```
 */
import { CompiledQuery, type Kysely } from "kysely";

import type { Queryable } from "../db/queryable.js";
import { setTraceSettings } from "../db/session/set-trace-settings.js";
import { activeTraceContext, type TraceContext } from "../tracing/trace-context.js";

/** A pg client (`pg.PoolClient`, `pg.Client`) or a Kysely transaction, inside the transaction that writes. */
export type TraceSettingTarget = Queryable | Pick<Kysely<unknown>, "executeQuery">;

/**
 * Sets `rowflow.traceparent` / `rowflow.tracestate` for the rest of the
 * transaction of `db` (`set_config(…, true)`; outside a transaction block
 * they last one statement only). Returns whether it set anything: without
 * `traceContext` and no active span (always so without a registered
 * OpenTelemetry SDK) it sends no query. A malformed value is ignored by the
 * start function, never an error. Throws only what the query throws.
 */
export async function setTraceContext(
  db: TraceSettingTarget,
  traceContext: TraceContext | undefined = activeTraceContext(),
): Promise<boolean> {
  if (!traceContext) return false;
  const queryable: Queryable =
    "query" in db
      ? db
      : {
          query: async <R>(text: string, values?: unknown[]) => {
            const result = await db.executeQuery<R>(CompiledQuery.raw(text, values ?? []));
            return { rows: [...result.rows] };
          },
        };
  await setTraceSettings(queryable, {
    traceparent: traceContext.traceparent,
    tracestate: traceContext.tracestate ?? null,
  });
  return true;
}
