// Durable sleeps (startAt, sql/schema/78_waits/arm_step.sql, _start_time.sql):
// a step that starts no earlier than a time from its input or a dependency's
// output sleeps as a future job, holding no worker; a time already past, or
// no time at the path, starts it at once.
import { describe, expect, it } from "vitest";

import { useTestDatabase } from "../../helpers/db.js";
import { clock, define, runStep, startRun, stepRow } from "../support.js";
import { arm, signal, stepJob, waitEvents } from "./wait-support.js";

const db = useTestDatabase();

const reminder = (startAt: unknown) => ({
  steps: [
    { name: "order", task: "t" },
    { name: "remind", task: "send-reminder", dependsOn: ["order"], startAt },
  ],
});

async function releasedRemind(
  c: Parameters<Parameters<typeof db.rollback>[0]>[0],
  startAt: unknown,
  input: unknown,
) {
  await define(c, "ship", reminder(startAt));
  const run = await startRun(c, "ship", input, null, "2030-01-01T00:00:00Z");
  await runStep(
    c,
    run,
    "order",
    { shipBy: "2030-03-01T12:00:00+02:00" },
    clock("2030-01-01T00:00:00Z"),
  );
  expect(await stepJob(c, run, "remind")).toMatchObject({ task: "rowflow:wait" });
  return run;
}

describe("startAt", () => {
  it('"before": a reminder 24 hours before shipBy sleeps as a rowflow:step job at that time', async () => {
    await db.rollback(async (c) => {
      const run = await releasedRemind(
        c,
        { at: "$.input.shipBy", before: "24 hours" },
        {
          shipBy: "2030-02-10T09:00:00Z",
        },
      );
      expect(await arm(c, run, "remind", "2030-01-01T00:01:00Z")).toEqual({
        ok: true,
        outcome: "sleeping",
        until: "2030-02-09T09:00:00+00:00",
      });
      expect(await stepJob(c, run, "remind")).toEqual({
        task: "rowflow:step",
        runAt: "2030-02-09T09:00:00.000Z",
      });
      expect((await stepRow(c, run, "remind")).status).toBe("queued");
      expect(await waitEvents(c, run)).toEqual(["remind step_sleeping"]);
    });
  });

  it("reads a dependency's output, an offset-less time as UTC, and epoch milliseconds", async () => {
    await db.rollback(async (c) => {
      const run = await releasedRemind(c, "$.steps.order.shipBy", {});
      expect(await arm(c, run, "remind", "2030-01-01T00:01:00Z")).toMatchObject({
        until: "2030-03-01T10:00:00+00:00",
      });
    });
    await db.rollback(async (c) => {
      const run = await releasedRemind(
        c,
        { at: "$.input.at", after: "1 hour" },
        { at: "2030-05-01 08:00" },
      );
      expect(await arm(c, run, "remind", "2030-01-01T00:01:00Z")).toMatchObject({
        until: "2030-05-01T09:00:00+00:00",
      });
    });
    await db.rollback(async (c) => {
      const run = await releasedRemind(c, "$.input.at", { at: Date.parse("2030-06-01T00:00:00Z") });
      expect(await arm(c, run, "remind", "2030-01-01T00:01:00Z")).toMatchObject({
        until: "2030-06-01T00:00:00+00:00",
      });
    });
  });

  it("a time already past, or no time at the path, queues the step now (the latter with a note)", async () => {
    await db.rollback(async (c) => {
      const run = await releasedRemind(c, "$.input.shipBy", { shipBy: "2029-01-01T00:00:00Z" });
      expect(await arm(c, run, "remind", "2030-01-01T00:01:00Z")).toEqual({
        ok: true,
        outcome: "queued",
      });
      expect(await stepJob(c, run, "remind")).toEqual({
        task: "rowflow:step",
        runAt: "2030-01-01T00:01:00.000Z",
      });
      expect(await waitEvents(c, run)).toEqual([]);
    });
    await db.rollback(async (c) => {
      const run = await releasedRemind(c, "$.input.shipBy", { shipBy: "next tuesday" });
      expect(await arm(c, run, "remind", "2030-01-01T00:01:00Z")).toEqual({
        ok: true,
        outcome: "queued",
      });
      const { rows } = await c.query<{ data: { note: string } }>(
        "select data from rowflow.events where run_id = $1 and type = 'step_sleeping'",
        [run],
      );
      expect(rows[0]!.data.note).toMatch(/gave no time; starting now/);
    });
  });

  it("on a wait step: it sleeps first, then waits; a signal sent meanwhile is kept for it", async () => {
    await db.rollback(async (c) => {
      await define(c, "late", {
        steps: [{ name: "confirm", startAt: "$.input.opensAt", wait: { signal: "go" } }],
      });
      const run = await startRun(
        c,
        "late",
        { opensAt: "2030-01-02T00:00:00Z" },
        null,
        "2030-01-01T00:00:00Z",
      );
      expect(await arm(c, run, "confirm", "2030-01-01T00:01:00Z")).toMatchObject({
        outcome: "sleeping",
      });
      expect(await stepJob(c, run, "confirm")).toEqual({
        task: "rowflow:wait",
        runAt: "2030-01-02T00:00:00.000Z",
      });
      expect(await signal(c, run, "go", { x: 1 }, "2030-01-01T12:00:00Z")).toMatchObject({
        status: "kept",
      });
      expect(await arm(c, run, "confirm", "2030-01-02T00:00:00Z")).toMatchObject({
        outcome: "succeeded",
      });
      expect(await stepRow(c, run, "confirm")).toMatchObject({
        status: "succeeded",
        output: { x: 1 },
      });
    });
  });
});
