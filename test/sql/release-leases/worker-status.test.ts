// rowflow.worker_status (sql/schema/25_views/worker_status.sql): which
// workers are alive, how long each has been silent, what each is running;
// a dead worker's row goes with the next release_dead_workers.
import { describe, expect, it } from "vitest";

import { useTestDatabase } from "../../helpers/db.js";

const db = useTestDatabase();

describe("rowflow.worker_status", () => {
  it("tells a live worker from a silent one, and the silent one's row goes with the release", async () => {
    await db.rollback(async (c) => {
      await c.query(
        "select rowflow.register_worker(id => 'silent-1', hostname => 'h', pid => 1, concurrency => 2, now => now() - interval '2 minutes')",
      );
      await c.query(
        "select rowflow.register_worker(id => 'live-1', hostname => 'h', pid => 2, concurrency => 4)",
      );
      const status = async () =>
        (
          await c.query<{ id: string; alive: boolean; silent: boolean; running: number }>(
            `select id, alive, silent_for >= interval '2 minutes' as silent, running
             from rowflow.worker_status order by id`,
          )
        ).rows;
      expect(await status()).toEqual([
        { id: "live-1", alive: true, silent: false, running: 0 },
        { id: "silent-1", alive: false, silent: true, running: 0 },
      ]);
      await c.query("select rowflow.release_dead_workers(interval '30 seconds')");
      expect(await status()).toEqual([{ id: "live-1", alive: true, silent: false, running: 0 }]);
    });
  });
});
