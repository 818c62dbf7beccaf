// The failure webhook is at least once across a worker's death
// (src/worker/alerts/alert-sender.ts): the receiver is down (connection
// refused, attempts recorded), then it comes up but holds the worker's next
// POST, and the worker process is SIGKILLed in the middle of it. The alert
// stays in rowflow.alerts under the dead worker's lease; when the lease
// ends (2 × timeout + 5 s) a new worker posts it again with the same event
// id, and it is delivered: the receiver saw it twice and can dedupe by
// Idempotency-Key.
import { fileURLToPath } from "node:url";

import { afterEach, expect, it } from "vitest";

import type { Worker } from "../../src/worker/create-worker.js";
import { useTestDatabase } from "../helpers/db.js";
import { type CliProcess, startCli } from "../helpers/run-cli.js";
import { waitFor } from "../helpers/wait-for.js";
import { startReceiver, type WebhookReceiver } from "../helpers/webhook-receiver.js";
import { startTestWorker } from "../helpers/worker.js";
import config from "./fixtures/alerts.config.js";

const db = useTestDatabase();
const fixture = fileURLToPath(new URL("./fixtures/alerts.config.ts", import.meta.url));

let cli: CliProcess | undefined;
let receiver: WebhookReceiver | undefined;
let rescuer: Worker | undefined;
afterEach(async () => {
  cli?.child.kill("SIGKILL");
  await rescuer?.stop();
  await receiver?.close();
});

interface Attempt {
  attempt: number;
  status_code: number | null;
  error: string | null;
}

async function attempts(): Promise<Attempt[]> {
  const { rows } = await db.query<Attempt>(
    "select attempt, status_code, error from rowflow.alert_attempts order by attempt",
  );
  return rows;
}

it("delivers an alert after the worker posting it was killed, with the same event id", async () => {
  // A port nobody listens on: the receiver is down.
  const probe = await startReceiver();
  const { port, url } = probe;
  await probe.close();

  cli = startCli(["worker", "--config", fixture], {
    env: { DATABASE_URL: db.url, ROWFLOW_ALERT_WEBHOOK: url, LOG_LEVEL: "warn" },
  });
  const output = () => `worker output:\n${cli!.out.stdout}${cli!.out.stderr}`;
  await waitFor(async () => (await db.query("select 1 from rowflow.workers")).rowCount === 1, {
    timeoutMs: 30_000,
    message: output,
  });
  const { rows: started } = await db.query<{ id: string }>(
    "select rowflow.start_run(workflow => 'doomed', input => '{}') as id",
  );
  const run = Number(started[0]!.id);

  // Down: the attempts fail with a refused connection and are recorded.
  await waitFor(async () => (await attempts()).length >= 1, { timeoutMs: 30_000, message: output });
  // Up, but holding the next POST: the worker is killed in the middle of it.
  receiver = await startReceiver(port);
  receiver.script = ["hang"];
  await waitFor(() => receiver!.requests.length === 1, { timeoutMs: 30_000, message: output });
  cli.child.kill("SIGKILL");
  expect((await cli.exited).signal).toBe("SIGKILL");
  const refused = await attempts();
  expect(refused.length).toBeGreaterThanOrEqual(1);
  for (const a of refused) {
    expect(a.status_code).toBeNull();
    expect(a.error).toMatch(/ECONNREFUSED/);
  }
  const { rows: held } = await db.query<{ status: string; leased: boolean }>(
    "select status, leased from rowflow.undelivered_alerts",
  );
  expect(held).toEqual([{ status: "pending", leased: true }]);

  // A new worker takes it when the dead worker's lease ends, and delivers it.
  rescuer = await startTestWorker(db.url, {
    tasks: config.tasks,
    workflows: config.workflows,
    alerts: { webhook: receiver.url, pollInterval: 50, timeout: 1_000 },
  });
  await waitFor(
    async () =>
      (await db.query("select 1 from rowflow.alerts where status = 'delivered'")).rowCount === 1,
    { timeoutMs: 30_000, message: () => `receiver got ${receiver!.requests.length} request(s)` },
  );
  const { rows: alerts } = await db.query<{ event_id: string; attempts: number; run_id: string }>(
    "select event_id, attempts, run_id from rowflow.alerts",
  );
  expect(alerts).toEqual([
    { event_id: expect.any(String) as unknown, attempts: refused.length + 1, run_id: String(run) },
  ]);
  // The killed POST left no attempt row; the rescuer's is the next one.
  expect(await attempts()).toEqual([
    ...refused,
    { attempt: refused.length + 1, status_code: 200, error: null },
  ]);
  // At least once: the receiver saw the event twice, with one idempotency key.
  expect(receiver.requests.map((r) => r.headers["idempotency-key"])).toEqual([
    alerts[0]!.event_id,
    alerts[0]!.event_id,
  ]);
  expect(receiver.requests.map((r) => r.body.runId)).toEqual([run, run]);
}, 90_000);
