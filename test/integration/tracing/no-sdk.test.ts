// Without a registered OpenTelemetry SDK, tracing is a no-op: runs start and
// finish as before, no trace context is stored, setTraceContext sends
// nothing, and an exporter nobody registered records nothing
// (docs/observability.md, "Traces").
import { trace } from "@opentelemetry/api";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { afterEach, expect, it } from "vitest";

import { createClient } from "../../../src/client/create-client.js";
import { setTraceContext } from "../../../src/client/set-trace-context.js";
import { useTestDatabase } from "../../helpers/db.js";
import { startTestWorker } from "../../helpers/worker.js";

const db = useTestDatabase();
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()?.();
});

it("runs a 2-step run, a failing one and an attached INSERT without errors and records nothing", async () => {
  // An SDK built but never registered as the global provider.
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  cleanup.push(() => provider.shutdown());

  await db.query("select rowflow.define_workflow('ns', $1::jsonb)", [
    JSON.stringify({
      steps: [
        { name: "a", task: "ns.ok" },
        { name: "b", task: "ns.ok", dependsOn: ["a"] },
      ],
    }),
  ]);
  await db.query("select rowflow.define_workflow('ns-fail', $1::jsonb)", [
    JSON.stringify({ steps: [{ name: "x", task: "ns.fail", attempts: 1 }] }),
  ]);
  await db.query("create table ns_orders (id bigserial primary key)");
  await db.query("select rowflow.attach('ns_orders', 'ns')");
  const seen: string[] = [];
  const worker = await startTestWorker(db.url, {
    syncWorkflows: false,
    tasks: {
      "ns.ok": (ctx) => {
        // No context manager, no provider: no active span at all.
        seen.push(`${ctx.step.name}:${String(trace.getActiveSpan()?.isRecording() ?? "none")}`);
        return {};
      },
      "ns.fail": () => {
        throw new Error("boom");
      },
    },
  });
  cleanup.push(() => worker.stop());
  const client = createClient({ connectionString: db.url, pollInterval: 50 });
  cleanup.push(() => client.close());

  const tracer = trace.getTracer("test-app");
  const ok = await tracer.startActiveSpan("request", async (span) => {
    try {
      return await client.startRun("ns", {});
    } finally {
      span.end();
    }
  });
  const failing = await client.startRun("ns-fail", {});
  const pgClient = await db.pool.connect();
  let order: string;
  try {
    await pgClient.query("begin");
    expect(await setTraceContext(pgClient)).toBe(false);
    order = (
      await pgClient.query<{ id: string }>("insert into ns_orders default values returning id")
    ).rows[0]!.id;
    await pgClient.query("commit");
  } finally {
    pgClient.release();
  }
  const attached = (await client.runsFor("ns_orders", order))[0]!.id;

  expect((await client.waitForRun(ok, { timeout: 20_000 })).status).toBe("succeeded");
  expect((await client.waitForRun(failing, { timeout: 20_000 })).status).toBe("failed");
  expect((await client.waitForRun(attached, { timeout: 20_000 })).status).toBe("succeeded");
  expect(seen.sort()).toEqual(["a:none", "a:none", "b:none", "b:none"]);
  const { rows } = await db.query<{ n: number }>(
    "select count(*)::int as n from rowflow.runs where traceparent is not null or tracestate is not null",
  );
  expect(rows[0]!.n).toBe(0);
  await provider.forceFlush();
  expect(exporter.getFinishedSpans()).toEqual([]);
});
