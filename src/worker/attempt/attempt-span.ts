/**
 * The spans of a step attempt and of a run (docs/observability.md,
 * "Traces"). A run crosses many processes and may last days, and a span
 * cannot be kept open across them, so:
 *
 * - each attempt's span is a child of the run's stored trace context (the
 *   request or `startRun` span that started it; a new trace when it has
 *   none), and the handler runs inside it, so the application's own spans
 *   (its DB and HTTP calls) nest under the attempt;
 * - the run's span is emitted once, by the worker whose gate call finished
 *   the run, with the run's creation as its start: a sibling of the
 *   attempts under the same parent, spanning them all.
 *
 * Without a registered SDK every span is a non-recording no-op.
 */
import {
  type Context,
  context as otelContext,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from "@opentelemetry/api";

import type { StepErrorRecord } from "../../db/gate/fail-step.js";
import type { BeginStepStarted } from "../../db/gate/step-context.js";
import { contextFromTrace } from "../../tracing/trace-context.js";
import { Attr, tracer } from "../../tracing/tracer.js";

/** What the attempt's span ended with (`rowflow.outcome`). */
export type AttemptOutcome = "succeeded" | "retry" | "failed" | "timeout" | "cancelled" | "refused";

const finishedRun = new Set(["succeeded", "failed", "cancelled"]);

/** The span of one attempt, open while it runs and its outcome is recorded. */
export class AttemptSpan {
  readonly #context: BeginStepStarted;
  readonly #parent: Context;
  readonly #span: Span;
  readonly #active: Context;
  #ended = false;

  constructor(context: BeginStepStarted, workerId: string | undefined) {
    this.#context = context;
    this.#parent = contextFromTrace(context.traceparent, context.tracestate);
    this.#span = tracer.startSpan(
      `rowflow.step ${context.workflow}/${context.step}`,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          [Attr.workflow]: context.workflow,
          [Attr.version]: context.version,
          [Attr.runId]: context.runId,
          [Attr.step]: context.step,
          [Attr.task]: context.task,
          [Attr.stepKind]: context.kind,
          [Attr.attempt]: context.attempt,
          [Attr.maxAttempts]: context.maxAttempts,
          ...(workerId ? { [Attr.workerId]: workerId } : {}),
        },
      },
      this.#parent,
    );
    this.#active = trace.setSpan(this.#parent, this.#span);
  }

  /** Runs `fn` with the attempt's span active (the handler, so its own spans nest under it). */
  inside<T>(fn: () => T): T {
    return otelContext.with(this.#active, fn);
  }

  /** The completion committed. */
  succeeded(runStatus: string): void {
    this.#span.setAttribute(Attr.outcome, "succeeded");
    this.#span.setStatus({ code: SpanStatusCode.OK });
    this.#runEnded(runStatus, undefined);
  }

  /** fail_step recorded the failure: the step retries or failed. */
  failed(error: StepErrorRecord, stepOutcome: "retrying" | "failed", runStatus: string): void {
    const outcome: AttemptOutcome =
      error.kind === "timeout" ? "timeout" : stepOutcome === "retrying" ? "retry" : "failed";
    this.#error(error, outcome);
    this.#runEnded(runStatus, error);
  }

  /** A gate refused the outcome: the run was cancelled, or the attempt is stale. */
  refused(reason: string, runStatus: string | undefined, error?: StepErrorRecord): void {
    const cancelled = runStatus === "cancelled" || reason === "run_not_active";
    this.#span.setAttribute(Attr.refusal, reason);
    if (error) {
      this.#error(error, cancelled ? "cancelled" : "refused");
    } else {
      this.#span.setAttribute(Attr.outcome, cancelled ? "cancelled" : "refused");
    }
  }

  /** Ends the span (once). */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#span.end();
  }

  #error(error: StepErrorRecord, outcome: AttemptOutcome): void {
    this.#span.setAttribute(Attr.outcome, outcome);
    this.#span.setAttribute(Attr.errorKind, error.kind);
    this.#span.recordException({
      name: error.name ?? error.kind,
      message: error.message,
      ...(error.code ? { code: error.code } : {}),
      ...(error.stack ? { stack: error.stack } : {}),
    });
    this.#span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
  }

  /** The run span, when this attempt's gate call finished the run. */
  #runEnded(runStatus: string, error: StepErrorRecord | undefined): void {
    if (!finishedRun.has(runStatus) || !this.#span.isRecording()) return;
    const c = this.#context;
    const created = c.runCreatedAt ? new Date(c.runCreatedAt) : undefined;
    const span = tracer.startSpan(
      `rowflow.run ${c.workflow}`,
      {
        kind: SpanKind.INTERNAL,
        ...(created && !Number.isNaN(created.getTime()) ? { startTime: created } : {}),
        attributes: {
          [Attr.workflow]: c.workflow,
          [Attr.version]: c.version,
          [Attr.runId]: c.runId,
          [Attr.outcome]: runStatus,
        },
      },
      this.#parent,
    );
    if (runStatus === "failed") {
      span.setStatus({
        code: SpanStatusCode.ERROR,
        message: error ? `step ${c.step}: ${error.message}` : `run failed`,
      });
    } else if (runStatus === "succeeded") {
      span.setStatus({ code: SpanStatusCode.OK });
    }
    span.end();
  }
}
