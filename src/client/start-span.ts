/**
 * The span of a start from the client (`startRun`, `startRuns`;
 * docs/observability.md, "Traces"): a PRODUCER span, child of the caller's
 * active span (or of the trace context passed explicitly), whose context
 * the runs store, so that their step spans nest under it in the caller's
 * trace. Without a registered SDK the span is a no-op, and the runs keep
 * the explicit trace context as given, or none.
 */
import { context as otelContext, SpanKind, SpanStatusCode } from "@opentelemetry/api";

import {
  contextFromTrace,
  formatTraceContext,
  type TraceContext,
} from "../tracing/trace-context.js";
import { Attr, tracer } from "../tracing/tracer.js";

/**
 * Runs `start` (which starts the runs with the trace context it is given)
 * inside the start span; `explicit` null: the runs keep no trace context.
 */
export async function withStartSpan<T extends string | string[]>(
  workflow: string,
  explicit: TraceContext | null | undefined,
  count: number | undefined,
  start: (traceContext: TraceContext | null) => Promise<T>,
): Promise<T> {
  if (explicit === null) return start(null);
  const parent = explicit
    ? contextFromTrace(explicit.traceparent, explicit.tracestate)
    : otelContext.active();
  const span = tracer.startSpan(
    `rowflow.start ${workflow}`,
    {
      kind: SpanKind.PRODUCER,
      attributes: {
        [Attr.workflow]: workflow,
        ...(count === undefined ? {} : { [Attr.runs]: count }),
      },
    },
    parent,
  );
  // A malformed explicit context is passed on as given: SQL ignores it.
  const traceContext = formatTraceContext(span.spanContext()) ?? explicit ?? null;
  try {
    const ids = await start(traceContext);
    if (typeof ids === "string") span.setAttribute(Attr.runId, ids);
    return ids;
  } catch (error) {
    span.recordException(error instanceof Error ? error : String(error));
    span.setStatus({
      code: SpanStatusCode.ERROR,
      message: error instanceof Error ? error.message : String(error),
    });
    throw error;
  } finally {
    span.end();
  }
}
