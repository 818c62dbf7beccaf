// OpenTelemetry traces with a registered SDK (an in-memory exporter): the
// spans of runs and step attempts, their attributes and parents, and the
// trace a run continues from client.startRun, an explicit context, or a
// plain INSERT after setTraceContext (docs/observability.md, "Traces").
import { context, type Span, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";

import { createClient } from "../../../src/client/create-client.js";
import { setTraceContext } from "../../../src/client/set-trace-context.js";
import { useTestDatabase } from "../../helpers/db.js";
import { waitFor } from "../../helpers/wait-for.js";
import { startTestWorker } from "../../helpers/worker.js";

const db = useTestDatabase();
const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const contextManager = new AsyncLocalStorageContextManager();
const app = trace.getTracer("test-app");

beforeAll(() => {
  context.setGlobalContextManager(contextManager.enable());
  trace.setGlobalTracerProvider(provider);
});
afterAll(async () => {
  trace.disable();
  context.disable();
  await provider.shutdown();
});
beforeEach(() => exporter.reset());
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()?.();
});

async function define(name: string, spec: unknown): Promise<void> {
  await db.query("select rowflow.define_workflow(name => $1, spec => $2::jsonb)", [
    name,
    JSON.stringify(spec),
  ]);
}

const spansOf = (runId: string) =>
  exporter.getFinishedSpans().filter((s) => s.attributes["rowflow.run.id"] === runId);
const named = (spans: ReadableSpan[], prefix: string) =>
  spans.filter((s) => s.name.startsWith(prefix));

/** Waits until the run's span and `attempts` attempt spans are exported. */
async function runSpans(runId: string, attempts: number) {
  return waitFor(
    () => {
      const spans = spansOf(runId);
      const run = named(spans, "rowflow.run ");
      const steps = named(spans, "rowflow.step ");
      return run.length === 1 && steps.length >= attempts ? { run: run[0]!, steps } : undefined;
    },
    {
      message: () =>
        `spans of run ${runId}: ${spansOf(runId)
          .map((s) => s.name)
          .join(", ")}`,
    },
  );
}

async function inRequestSpan<T>(fn: (span: Span) => Promise<T>): Promise<{ value: T; span: Span }> {
  return app.startActiveSpan("POST /orders", async (span) => {
    try {
      return { value: await fn(span), span };
    } finally {
      span.end();
    }
  });
}

describe("with an OpenTelemetry SDK registered", () => {
  it("a 3-step run started in a request span: a start span, one span per attempt (the handler's spans inside), a run span, one trace", async () => {
    await define("tr-chain", {
      steps: [
        { name: "a", task: "tr.step" },
        { name: "b", task: "tr.step", dependsOn: ["a"] },
        { name: "c", task: "tr.step", dependsOn: ["b"] },
      ],
    });
    const worker = await startTestWorker(db.url, {
      syncWorkflows: false,
      tasks: {
        "tr.step": async (ctx) => {
          // The application's own span, e.g. an HTTP call: nests under the attempt.
          await app.startActiveSpan(`app.work ${ctx.step.name}`, async (span) => {
            await ctx.tx.selectNoFrom((eb) => eb.val(1).as("one")).execute();
            span.end();
          });
          return { step: ctx.step.name };
        },
      },
    });
    cleanup.push(() => worker.stop());
    const client = createClient({ connectionString: db.url, pollInterval: 50 });
    cleanup.push(() => client.close());

    const { value: runId, span: request } = await inRequestSpan(() =>
      client.startRun("tr-chain", { order: 1 }),
    );
    expect((await client.waitForRun(runId, { timeout: 20_000 })).status).toBe("succeeded");
    const { run, steps } = await runSpans(runId, 3);
    const traceId = request.spanContext().traceId;

    const start = exporter.getFinishedSpans().filter((s) => s.name === "rowflow.start tr-chain");
    expect(start).toHaveLength(1);
    expect(start[0]!.kind).toBe(SpanKind.PRODUCER);
    expect(start[0]!.spanContext().traceId).toBe(traceId);
    expect(start[0]!.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
    expect(start[0]!.attributes).toMatchObject({
      "rowflow.workflow": "tr-chain",
      "rowflow.run.id": runId,
    });
    const startSpanId = start[0]!.spanContext().spanId;

    expect(steps.map((s) => s.name).sort()).toEqual([
      "rowflow.step tr-chain/a",
      "rowflow.step tr-chain/b",
      "rowflow.step tr-chain/c",
    ]);
    for (const s of steps) {
      const step = String(s.attributes["rowflow.step"]);
      expect({
        step,
        traceId: s.spanContext().traceId,
        parent: s.parentSpanContext?.spanId,
      }).toEqual({
        step,
        traceId,
        parent: startSpanId,
      });
      expect(s.kind).toBe(SpanKind.CONSUMER);
      expect(s.status.code).toBe(SpanStatusCode.OK);
      expect(s.attributes).toEqual({
        "rowflow.workflow": "tr-chain",
        "rowflow.workflow.version": 1,
        "rowflow.run.id": runId,
        "rowflow.step": step,
        "rowflow.task": "tr.step",
        "rowflow.step.kind": "step",
        "rowflow.attempt": 1,
        "rowflow.max_attempts": 3,
        "rowflow.worker.id": expect.any(String),
        "rowflow.outcome": "succeeded",
      });
      const own = exporter.getFinishedSpans().filter((x) => x.name === `app.work ${step}`);
      expect(own).toHaveLength(1);
      expect(own[0]!.parentSpanContext?.spanId).toBe(s.spanContext().spanId);
      expect(own[0]!.spanContext().traceId).toBe(traceId);
    }

    expect(run.name).toBe("rowflow.run tr-chain");
    expect(run.spanContext().traceId).toBe(traceId);
    expect(run.parentSpanContext?.spanId).toBe(startSpanId);
    expect(run.status.code).toBe(SpanStatusCode.OK);
    expect(run.attributes).toEqual({
      "rowflow.workflow": "tr-chain",
      "rowflow.workflow.version": 1,
      "rowflow.run.id": runId,
      "rowflow.outcome": "succeeded",
    });
    const { rows } = await db.query<{ created: Date; traceparent: string }>(
      "select created_at as created, traceparent from rowflow.runs where id = $1",
      [runId],
    );
    expect(rows[0]!.traceparent).toBe(`00-${traceId}-${startSpanId}-01`);
    // The run span starts at the run's creation and spans every attempt.
    const ms = (t: [number, number]) => t[0] * 1000 + t[1] / 1e6;
    expect(Math.round(ms(run.startTime))).toBe(rows[0]!.created.getTime());
    for (const s of steps) {
      expect(ms(s.startTime)).toBeGreaterThanOrEqual(ms(run.startTime));
      expect(ms(s.endTime)).toBeLessThanOrEqual(ms(run.endTime) + 1);
    }
  });

  it("a failing attempt: ERROR with the exception event, outcome retry; then failed and the run span ERROR", async () => {
    await define("tr-fail", {
      steps: [
        {
          name: "flaky",
          task: "tr.flaky",
          attempts: 2,
          backoff: { type: "fixed", base: "0 seconds" },
        },
        { name: "doomed", task: "tr.doomed", dependsOn: ["flaky"], attempts: 1 },
      ],
    });
    let calls = 0;
    const worker = await startTestWorker(db.url, {
      syncWorkflows: false,
      tasks: {
        "tr.flaky": () => {
          calls += 1;
          if (calls === 1) throw new Error("card service unavailable");
          return { ok: true };
        },
        "tr.doomed": () => {
          throw new TypeError("no card on file");
        },
      },
    });
    cleanup.push(() => worker.stop());
    const client = createClient({ connectionString: db.url, pollInterval: 50 });
    cleanup.push(() => client.close());

    const runId = await client.startRun("tr-fail", {});
    expect((await client.waitForRun(runId, { timeout: 20_000 })).status).toBe("failed");
    const { run, steps } = await runSpans(runId, 3);
    const byAttempt = steps
      .map((s) => ({
        step: s.attributes["rowflow.step"],
        attempt: s.attributes["rowflow.attempt"],
        outcome: s.attributes["rowflow.outcome"],
        errorKind: s.attributes["rowflow.error.kind"],
        status: s.status,
        exceptions: s.events
          .filter((e) => e.name === "exception")
          .map((e) => ({
            type: e.attributes?.["exception.type"],
            message: e.attributes?.["exception.message"],
            stack: typeof e.attributes?.["exception.stacktrace"] === "string",
          })),
      }))
      .sort((x, y) =>
        `${String(x.step)}${String(x.attempt)}`.localeCompare(
          `${String(y.step)}${String(y.attempt)}`,
        ),
      );
    expect(byAttempt).toEqual([
      {
        step: "doomed",
        attempt: 1,
        outcome: "failed",
        errorKind: "handler",
        status: { code: SpanStatusCode.ERROR, message: "no card on file" },
        exceptions: [{ type: "TypeError", message: "no card on file", stack: true }],
      },
      {
        step: "flaky",
        attempt: 1,
        outcome: "retry",
        errorKind: "handler",
        status: { code: SpanStatusCode.ERROR, message: "card service unavailable" },
        exceptions: [{ type: "Error", message: "card service unavailable", stack: true }],
      },
      {
        step: "flaky",
        attempt: 2,
        outcome: "succeeded",
        errorKind: undefined,
        status: { code: SpanStatusCode.OK },
        exceptions: [],
      },
    ]);
    expect(run.attributes["rowflow.outcome"]).toBe("failed");
    expect(run.status).toEqual({
      code: SpanStatusCode.ERROR,
      message: "step doomed: no card on file",
    });
    // No request span: the start span is the trace's root, and everything is in its trace.
    const traceIds = new Set(spansOf(runId).map((s) => s.spanContext().traceId));
    expect(traceIds.size).toBe(1);
  });

  it("a timed-out attempt has outcome timeout", async () => {
    await define("tr-timeout", {
      steps: [{ name: "slow", task: "tr.slow", attempts: 1, timeout: "200 milliseconds" }],
    });
    const worker = await startTestWorker(db.url, {
      syncWorkflows: false,
      tasks: {
        "tr.slow": (ctx) =>
          new Promise((_, reject) =>
            ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason)),
          ),
      },
    });
    cleanup.push(() => worker.stop());
    const client = createClient({ connectionString: db.url, pollInterval: 50 });
    cleanup.push(() => client.close());
    const runId = await client.startRun("tr-timeout", {});
    expect((await client.waitForRun(runId, { timeout: 20_000 })).status).toBe("failed");
    const { steps } = await runSpans(runId, 1);
    expect(
      steps.map((s) => [
        s.attributes["rowflow.outcome"],
        s.attributes["rowflow.error.kind"],
        s.status.code,
      ]),
    ).toEqual([["timeout", "timeout", SpanStatusCode.ERROR]]);
  });

  it("an attempt whose run was cancelled while it ran has outcome cancelled, and no run span", async () => {
    await define("tr-cancel", { steps: [{ name: "hold", task: "tr.hold" }] });
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const worker = await startTestWorker(db.url, {
      syncWorkflows: false,
      tasks: {
        "tr.hold": async () => {
          started();
          await released;
          return {};
        },
      },
    });
    cleanup.push(() => worker.stop());
    const client = createClient({ connectionString: db.url, pollInterval: 50 });
    cleanup.push(() => client.close());
    const runId = await client.startRun("tr-cancel", {});
    await running;
    expect(await client.cancelRun(runId, "test")).toBe(true);
    release();
    const step = await waitFor(() => named(spansOf(runId), "rowflow.step ")[0]);
    expect([step.attributes["rowflow.outcome"], step.attributes["rowflow.refusal"]]).toEqual([
      "cancelled",
      "step_terminal",
    ]);
    expect(named(spansOf(runId), "rowflow.run ")).toEqual([]);
  });

  it("an explicit trace context (startRun's traceContext), and a plain INSERT after setTraceContext, continue the caller's trace", async () => {
    await define("tr-insert", { steps: [{ name: "a", task: "tr.a" }] });
    await db.query("create table tr_orders (id bigserial primary key, amount int)");
    await db.query("select rowflow.attach('tr_orders', 'tr-insert')");
    const worker = await startTestWorker(db.url, {
      syncWorkflows: false,
      tasks: { "tr.a": () => ({}) },
    });
    cleanup.push(() => worker.stop());
    const client = createClient({ connectionString: db.url, pollInterval: 50 });
    cleanup.push(() => client.close());

    // 1. A plain INSERT in the request's transaction.
    const { value: runId, span: request } = await inRequestSpan(async () => {
      const pgClient = await db.pool.connect();
      try {
        await pgClient.query("begin");
        expect(await setTraceContext(pgClient)).toBe(true);
        const { rows } = await pgClient.query<{ id: string }>(
          "insert into tr_orders (amount) values (5) returning id",
        );
        await pgClient.query("commit");
        const runs = await client.runsFor("tr_orders", rows[0]!.id);
        return runs[0]!.id;
      } finally {
        pgClient.release();
      }
    });
    expect((await client.waitForRun(runId, { timeout: 20_000 })).status).toBe("succeeded");
    const { run, steps } = await runSpans(runId, 1);
    for (const s of [run, ...steps]) {
      expect(s.spanContext().traceId).toBe(request.spanContext().traceId);
      expect(s.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
    }

    // 2. An explicit context, e.g. the traceparent header of a queued message.
    const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    const explicit = await client.startRun(
      "tr-insert",
      {},
      { traceContext: { traceparent, tracestate: "k=v" } },
    );
    expect((await client.waitForRun(explicit, { timeout: 20_000 })).status).toBe("succeeded");
    const spans = await runSpans(explicit, 1);
    const start = exporter
      .getFinishedSpans()
      .find(
        (s) => s.name === "rowflow.start tr-insert" && s.attributes["rowflow.run.id"] === explicit,
      );
    expect(start?.parentSpanContext?.spanId).toBe("00f067aa0ba902b7");
    for (const s of [spans.run, ...spans.steps]) {
      expect(s.spanContext().traceId).toBe("4bf92f3577b34da6a3ce929d0e0e4736");
      expect(s.parentSpanContext?.spanId).toBe(start!.spanContext().spanId);
      expect(s.spanContext().traceState?.get("k")).toBe("v");
    }

    // 3. Kysely's transaction: the same settings, on a Kysely tx.
    const { value: orderId, span: request2 } = await inRequestSpan(async () => {
      const { Kysely, PostgresDialect } = await import("kysely");
      const k = new Kysely<{ tr_orders: { id: string; amount: number } }>({
        dialect: new PostgresDialect({ pool: db.pool }),
      });
      return k.transaction().execute(async (tx) => {
        expect(await setTraceContext(tx)).toBe(true);
        const row = await tx
          .insertInto("tr_orders")
          .values({ amount: 7 } as never)
          .returning("id")
          .executeTakeFirstOrThrow();
        return row.id;
      });
    });
    // Run ids are not in creation order across sessions (the sequence's cache): by source row.
    const { rows } = await db.query<{ traceparent: string }>(
      "select traceparent from rowflow.runs where source_key = $1::text",
      [orderId],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.traceparent).toBe(
      `00-${request2.spanContext().traceId}-${request2.spanContext().spanId}-01`,
    );
  });
});
