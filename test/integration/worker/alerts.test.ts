// The failure webhook end to end (src/worker/alerts/, sql/schema/82_alerts/):
// a worker with `alerts` POSTs each failed run's event to a local receiver,
// retries a 5xx with its backoff and records every attempt; succeeded runs
// send nothing; a worker without a webhook leaves the events pending.
import { createHmac } from "node:crypto";

import { afterEach, beforeEach, describe, expect, it } from "vitest";

import type { Worker } from "../../../src/worker/create-worker.js";
import type { WorkerOptions } from "../../../src/worker/worker-options.js";
import { useTestDatabase } from "../../helpers/db.js";
import { waitFor } from "../../helpers/wait-for.js";
import { startReceiver, type WebhookReceiver } from "../../helpers/webhook-receiver.js";
import { startTestWorker } from "../../helpers/worker.js";

const db = useTestDatabase();

const tasks = {
  "alerts.ok": () => ({ ok: true }),
  "alerts.boom": () => {
    throw new Error("card declined");
  },
};
const workflow = (name: string) => ({
  name,
  spec: {
    steps: [
      { name: "prepare", task: "alerts.ok" },
      { name: "charge", task: "alerts.boom", dependsOn: ["prepare"], attempts: 1 },
    ],
  },
});
const fine = { name: "fine", spec: { steps: [{ name: "only", task: "alerts.ok" }] } };

let receiver: WebhookReceiver | undefined;
let worker: Worker | undefined;
beforeEach(async () => {
  await db.query("delete from rowflow.alert_attempts; delete from rowflow.alerts");
});
afterEach(async () => {
  await worker?.stop();
  await receiver?.close();
  worker = receiver = undefined;
});

async function start(options: Partial<WorkerOptions>, workflows = [workflow("orders"), fine]) {
  worker = await startTestWorker(db.url, { tasks, workflows, ...options });
  return worker;
}

async function startRun(name: string, input: unknown = {}): Promise<number> {
  const { rows } = await db.query<{ id: string }>(
    "select rowflow.start_run(workflow => $1, input => $2::jsonb) as id",
    [name, JSON.stringify(input)],
  );
  return Number(rows[0]!.id);
}

async function runStatus(id: number): Promise<string | undefined> {
  const { rows } = await db.query<{ status: string }>(
    "select status from rowflow.runs where id = $1",
    [id],
  );
  return rows[0]?.status;
}

async function alertRows() {
  const { rows } = await db.query<{
    id: string;
    status: string;
    attempts: number;
    event_id: string;
  }>("select id, status, attempts, event_id from rowflow.alerts order by id");
  return rows;
}

describe("the failure webhook", () => {
  it("posts exactly one event for a failed run, with its payload and headers; succeeded runs none", async () => {
    receiver = await startReceiver();
    const secret = "s3cret";
    await start({
      alerts: {
        webhook: receiver.url,
        pollInterval: 50,
        secret,
        headers: { authorization: "Bearer t0ken" },
        dashboardUrl: "http://127.0.0.1:4000/",
      },
    });
    const ok = await startRun("fine");
    const bad = await startRun("orders", { order: 42 });
    await waitFor(async () => (await runStatus(ok)) === "succeeded");
    await waitFor(async () => (await runStatus(bad)) === "failed");
    await waitFor(async () => (await alertRows())[0]?.status === "delivered", {
      message: () => `receiver got ${receiver!.requests.length} request(s)`,
    });
    const [alert, ...others] = await alertRows();
    expect(others).toEqual([]);
    expect(alert).toMatchObject({ status: "delivered", attempts: 1 });
    expect(receiver.requests).toHaveLength(1);
    const [request] = receiver.requests;
    expect(request!.method).toBe("POST");
    expect(request!.path).toBe("/hooks/rowflow");
    expect(request!.headers["content-type"]).toBe("application/json");
    expect(request!.headers["idempotency-key"]).toBe(alert!.event_id);
    expect(request!.headers["authorization"]).toBe("Bearer t0ken");
    const { rows: failure } = await db.query<{ at: Date }>(
      "select at from rowflow.events where run_id = $1 and type = 'run_failed'",
      [bad],
    );
    const body = request!.body;
    expect(body).toEqual({
      id: alert!.event_id,
      type: "run.failed",
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/) as unknown,
      workflow: "orders",
      version: 1,
      runId: bad,
      step: "charge",
      attempt: 1,
      error: expect.objectContaining({ message: "card declined" }) as unknown,
      compensation: null,
      links: {
        cli: `rowflow show ${bad}`,
        sql: `select * from rowflow.run_timeline where run_id = ${bad}`,
        dashboard: `http://127.0.0.1:4000/runs/${bad}`,
      },
    });
    expect(Date.parse(body.time as string)).toBe(failure[0]!.at.getTime());
    // The signature: HMAC-SHA256 of "<t>.<body>" under the secret.
    const signature = String(request!.headers["rowflow-signature"]);
    const [, t, mac] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(signature) ?? [];
    expect(mac).toBe(
      createHmac("sha256", secret)
        .update(`${t}.${JSON.stringify(body)}`)
        .digest("hex"),
    );
  });

  it("retries a 500 twice and records the three attempts; delivered on the third", async () => {
    receiver = await startReceiver();
    receiver.script = [500, 500];
    await start({ alerts: { webhook: receiver.url, pollInterval: 20, retryDelay: 10 } });
    const run = await startRun("orders");
    await waitFor(async () => (await alertRows())[0]?.status === "delivered", {
      message: () => `receiver got ${receiver!.requests.length} request(s)`,
    });
    const [alert] = await alertRows();
    expect(alert!.attempts).toBe(3);
    const { rows: attempts } = await db.query(
      `select attempt, status_code, error, worker_id = $2 as by_this_worker
       from rowflow.alert_attempts where alert_id = $1 order by attempt`,
      [alert!.id, worker!.id],
    );
    expect(attempts).toEqual([
      { attempt: 1, status_code: 500, error: "HTTP 500: receiver says no", by_this_worker: true },
      { attempt: 2, status_code: 500, error: "HTTP 500: receiver says no", by_this_worker: true },
      { attempt: 3, status_code: 200, error: null, by_this_worker: true },
    ]);
    expect(receiver.requests.map((r) => r.headers["idempotency-key"])).toEqual([
      alert!.event_id,
      alert!.event_id,
      alert!.event_id,
    ]);
    expect(receiver.requests.map((r) => r.body.runId)).toEqual([run, run, run]);
  });

  it("gives an alert up after its retry window; rowflow.undelivered_alerts shows it failed", async () => {
    receiver = await startReceiver();
    receiver.script = [503, 503, 503, 503, 503, 503, 503, 503];
    await start({
      alerts: { webhook: receiver.url, pollInterval: 20, retryDelay: 10, giveUpAfter: 25 },
    });
    await startRun("orders");
    await waitFor(async () => (await alertRows())[0]?.status === "failed");
    const { rows } = await db.query<{ status: string; attempts: number; last_status: number }>(
      "select status, attempts, last_status from rowflow.undelivered_alerts",
    );
    // Delays 10, 20, 40 ms: the third retry would end past 25 ms from the failure.
    expect(rows).toEqual([{ status: "failed", attempts: rows[0]!.attempts, last_status: 503 }]);
    expect(rows[0]!.attempts).toBeGreaterThanOrEqual(1);
    expect(rows[0]!.attempts).toBeLessThanOrEqual(3);
    expect(receiver.requests).toHaveLength(rows[0]!.attempts);
  });

  it("without a webhook the worker takes nothing: the event stays pending", async () => {
    await start({});
    const run = await startRun("orders");
    await waitFor(async () => (await runStatus(run)) === "failed");
    // A later run finishing shows the worker went on working meanwhile.
    const later = await startRun("fine");
    await waitFor(async () => (await runStatus(later)) === "succeeded");
    const { rows } = await db.query(
      "select run_id::int as run_id, status, attempts, leased from rowflow.undelivered_alerts",
    );
    expect(rows).toEqual([{ run_id: run, status: "pending", attempts: 0, leased: false }]);
    const { rows: attempts } = await db.query("select * from rowflow.alert_attempts");
    expect(attempts).toEqual([]);
  });

  it("a worker with per-workflow webhooks only takes those workflows' events", async () => {
    receiver = await startReceiver();
    await start({ alerts: { workflows: { payments: receiver.url }, pollInterval: 20 } }, [
      workflow("payments"),
      workflow("shipping"),
    ]);
    const shipping = await startRun("shipping");
    const payments = await startRun("payments");
    await waitFor(async () => (await runStatus(shipping)) === "failed");
    await waitFor(async () => receiver!.requests.length === 1);
    await waitFor(async () => (await alertRows()).some((a) => a.status === "delivered"));
    expect(receiver.requests.map((r) => r.body.runId)).toEqual([payments]);
    const { rows } = await db.query(
      "select workflow, status, attempts from rowflow.alerts order by workflow",
    );
    expect(rows).toEqual([
      { workflow: "payments", status: "delivered", attempts: 1 },
      { workflow: "shipping", status: "pending", attempts: 0 },
    ]);
  });
});
