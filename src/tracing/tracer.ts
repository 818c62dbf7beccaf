/**
 * rowflow's tracer and the names of its spans and attributes
 * (docs/observability.md, "Traces"). `trace.getTracer` answers a proxy that
 * finds the application's provider once it registers one, so one tracer is
 * taken at load time; until then every span is a non-recording no-op.
 */
import { trace } from "@opentelemetry/api";

/** The instrumentation scope of rowflow's spans. */
const tracerName = "rowflow";

export const tracer = trace.getTracer(tracerName);

/** Span attributes (all rowflow's spans carry the first three, attempt spans all). */
export const Attr = {
  workflow: "rowflow.workflow",
  version: "rowflow.workflow.version",
  runId: "rowflow.run.id",
  step: "rowflow.step",
  task: "rowflow.task",
  stepKind: "rowflow.step.kind",
  attempt: "rowflow.attempt",
  maxAttempts: "rowflow.max_attempts",
  outcome: "rowflow.outcome",
  errorKind: "rowflow.error.kind",
  refusal: "rowflow.refusal",
  runStatus: "rowflow.run.status",
  workerId: "rowflow.worker.id",
  runs: "rowflow.runs",
} as const;
