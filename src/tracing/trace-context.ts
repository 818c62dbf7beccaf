/**
 * A run's trace context: the W3C `traceparent` / `tracestate` pair a run
 * keeps (`rowflow.runs.traceparent`, `tracestate`; docs/observability.md,
 * "Traces"), to and from OpenTelemetry's API. Only `@opentelemetry/api`:
 * everything here is a no-op until the application registers an SDK.
 *
 * The format is W3C Trace Context whatever propagator the application
 * registered (the columns are W3C by definition), so it is written from the
 * span context itself, not through `propagation.inject`.
 */
import {
  type Context,
  context as otelContext,
  createTraceState,
  isSpanContextValid,
  ROOT_CONTEXT,
  type SpanContext,
  trace,
} from "@opentelemetry/api";

/** A W3C trace context, the carrier OpenTelemetry's W3C propagator writes. */
export interface TraceContext {
  /** `00-<32 hex trace id>-<16 hex parent span id>-<2 hex flags>`. */
  traceparent: string;
  /** Vendors' `tracestate` list. (Default: none) */
  tracestate?: string | undefined;
}

const traceparentPattern = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/**
 * The span context of a W3C traceparent (remote), or undefined when it is
 * not valid (ignored, as W3C Trace Context asks of a receiver; the same
 * rules as `rowflow._traceparent`).
 */
function parseTraceparent(
  traceparent: string,
  tracestate?: string | null,
): SpanContext | undefined {
  const m = traceparentPattern.exec(traceparent);
  if (!m) return undefined;
  const [, version, traceId, spanId, flags, rest] = m as unknown as [
    string,
    string,
    string,
    string,
    string,
    string | undefined,
  ];
  if (version === "ff" || (version === "00" && rest !== undefined)) return undefined;
  const spanContext: SpanContext = {
    traceId,
    spanId,
    traceFlags: Number.parseInt(flags, 16) & 0xff,
    isRemote: true,
  };
  if (!isSpanContextValid(spanContext)) return undefined;
  if (tracestate) {
    try {
      spanContext.traceState = createTraceState(tracestate);
    } catch {
      // an unparsable tracestate is dropped, the traceparent kept
    }
  }
  return spanContext;
}

/** The W3C trace context of a span context (version 00), or undefined for an invalid one. */
export function formatTraceContext(spanContext: SpanContext): TraceContext | undefined {
  if (!isSpanContextValid(spanContext)) return undefined;
  const flags = (spanContext.traceFlags & 0xff).toString(16).padStart(2, "0");
  const tracestate = spanContext.traceState?.serialize();
  return {
    traceparent: `00-${spanContext.traceId}-${spanContext.spanId}-${flags}`,
    ...(tracestate ? { tracestate } : {}),
  };
}

/**
 * The trace context of the active span (or of `context`), or undefined when
 * there is none: always so while no OpenTelemetry SDK is registered.
 */
export function activeTraceContext(
  context: Context = otelContext.active(),
): TraceContext | undefined {
  const spanContext = trace.getSpanContext(context);
  return spanContext ? formatTraceContext(spanContext) : undefined;
}

/**
 * An OpenTelemetry context whose parent is the stored trace context, or
 * ROOT_CONTEXT (a new trace) when there is none or it is not valid.
 */
export function contextFromTrace(
  traceparent: string | null | undefined,
  tracestate?: string | null,
): Context {
  const spanContext = traceparent ? parseTraceparent(traceparent, tracestate) : undefined;
  return spanContext ? trace.setSpanContext(ROOT_CONTEXT, spanContext) : ROOT_CONTEXT;
}
