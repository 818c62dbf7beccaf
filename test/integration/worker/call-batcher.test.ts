import { expect, it } from "vitest";

import { byRunThenStep, CallBatcher } from "../../../src/worker/dispatch/call-batcher.js";

interface Call {
  runId: string;
  step: string;
}

/** A batcher over fake statements that stay in flight until released. */
function fake(options: { failBatchWith?: object } = {}) {
  const statements: { kind: "one" | "batch"; calls: string[]; release: () => void }[] = [];
  const hold = () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    return { held, release };
  };
  const name = (c: Call) => `${c.runId}/${c.step}`;
  const batcher = new CallBatcher<Call, string>({
    maxInFlight: 1,
    compare: byRunThenStep,
    runOne: async (call) => {
      const { held, release } = hold();
      statements.push({ kind: "one", calls: [name(call)], release });
      await held;
      if (call.step === "boom")
        throw Object.assign(new Error("raised by the call"), { code: "P0001" });
      return `ok ${name(call)}`;
    },
    runBatch: async (calls) => {
      const { held, release } = hold();
      statements.push({ kind: "batch", calls: calls.map(name), release });
      await held;
      if (options.failBatchWith) throw options.failBatchWith;
      return calls.map((c) => `ok ${name(c)}`);
    },
  });
  const releaseAll = async () => {
    // Release statements as they appear until every call has settled.
    for (let i = 0; i < 100; i++) {
      for (const s of statements) s.release();
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  return { batcher, statements, releaseAll };
}

it("sends a call at once when nothing is in flight, and batches the calls that queue meanwhile, in run-id order", async () => {
  const { batcher, statements, releaseAll } = fake();
  const first = batcher.call({ runId: "7", step: "a" });
  const queued = [
    batcher.call({ runId: "10", step: "b" }),
    batcher.call({ runId: "9", step: "c" }),
    batcher.call({ runId: "10", step: "a" }),
  ];
  await releaseAll();
  expect(await first).toBe("ok 7/a");
  expect(await Promise.all(queued)).toEqual(["ok 10/b", "ok 9/c", "ok 10/a"]);
  expect(statements.map((s) => [s.kind, s.calls])).toEqual([
    ["one", ["7/a"]],
    ["batch", ["9/c", "10/a", "10/b"]],
  ]);
});

it("falls back to one statement per call when a batch fails with a server-side error, so each call gets its own outcome", async () => {
  const { batcher, statements, releaseAll } = fake({
    failBatchWith: Object.assign(new Error("deadlock detected"), { code: "40P01" }),
  });
  const first = batcher.call({ runId: "1", step: "a" });
  const good = batcher.call({ runId: "2", step: "a" });
  const bad = batcher.call({ runId: "3", step: "boom" }).then(
    () => "resolved",
    (error: Error) => error.message,
  );
  await releaseAll();
  await first;
  expect(await good).toBe("ok 2/a");
  expect(await bad).toBe("raised by the call");
  expect(statements.map((s) => [s.kind, s.calls])).toEqual([
    ["one", ["1/a"]],
    ["batch", ["2/a", "3/boom"]],
    ["one", ["2/a"]],
    ["one", ["3/boom"]],
  ]);
});

it("fails every call of a batch whose connection was lost, without sending them again", async () => {
  const lost = Object.assign(new Error("Connection terminated unexpectedly"), {});
  const { batcher, statements, releaseAll } = fake({ failBatchWith: lost });
  const first = batcher.call({ runId: "1", step: "a" });
  const others = [batcher.call({ runId: "2", step: "a" }), batcher.call({ runId: "3", step: "a" })];
  const settled = Promise.allSettled(others);
  await releaseAll();
  await first;
  expect((await settled).map((s) => s.status)).toEqual(["rejected", "rejected"]);
  expect(statements).toHaveLength(2);
});
