// The engine's run-change hint (sql/schema/80_wake/): at most one NOTIFY per
// transaction, only while a live view waits.
import { describe, expect, it } from "vitest";

import { useTestDatabase } from "../../helpers/db.js";
import { begin, claimAll, complete, define, queueRun, startRun } from "../support.js";

const db = useTestDatabase();

describe("NOTIFY", () => {
  it("sends at most one notification per transaction", async () => {
    const listener = await db.pool.connect();
    const received: string[] = [];
    try {
      listener.on("notification", (n) => {
        if (n.channel === "rowflow") received.push(n.payload ?? "");
      });
      await listener.query("listen rowflow");
      // The engine's hint goes out only while a live view waits on 'rowflow'.
      await db.query("select rowflow.mark_waiting(id => 'flow-test', channel => 'rowflow')");
      await define(db.pool, "notif", {
        steps: [
          { name: "a", task: "t" },
          { name: "b", task: "t", dependsOn: ["a"] },
        ],
      });
      const c = await db.pool.connect();
      let run = 0;
      try {
        await c.query("begin");
        run = await startRun(c, "notif");
        await begin(c, run, "a");
        await complete(c, run, "a", 1);
        await c.query("commit");
        await c.query("begin");
        await c.query("select 1");
        await c.query("commit");
      } finally {
        c.release();
      }
      // A round trip on the listener after the commit delivers pending notifications.
      const deadline = Date.now() + 30_000; // generous: CI machines run many suites at once
      while (received.length === 0 && Date.now() < deadline) await listener.query("select 1");
      await listener.query("select 1");
      expect(received.map((p) => JSON.parse(p) as unknown)).toEqual([{ run }]);
    } finally {
      await listener.query("unlisten rowflow");
      listener.release();
      await db.query("select rowflow.unmark_waiting(id => 'flow-test')");
    }
  });

  it("a claim tells live views (rowflow tail shows the run start at once), in its own transaction", async () => {
    const listener = await db.pool.connect();
    const received: string[] = [];
    try {
      listener.on("notification", (n) => {
        if (n.channel === "rowflow") received.push(n.payload ?? "");
      });
      await listener.query("listen rowflow");
      await define(db.pool, "notif-claim", { steps: [{ name: "a", task: "t" }] });
      await queueRun(db.pool, "notif-claim");
      await queueRun(db.pool, "notif-claim");
      await db.query("select rowflow.mark_waiting(id => 'claim-test', channel => 'rowflow')");
      expect(await claimAll(db.pool)).toMatchObject({ runs: 2 });
      const deadline = Date.now() + 30_000;
      while (received.length === 0 && Date.now() < deadline) await listener.query("select 1");
      await listener.query("select 1");
      expect(received.map((p) => JSON.parse(p) as unknown)).toEqual([{ claimed: 2 }]);
    } finally {
      await listener.query("unlisten rowflow");
      listener.release();
      await db.query("select rowflow.unmark_waiting(id => 'claim-test')");
    }
  });
});
