// 000009: the one-row fast path of rowflow._start_attached writes exactly the
// rows start_runs writes (runs, root step run, root job, events), sends the
// same wake-ups and records the same pending_runs; everything it does not
// cover still goes through start_runs.
import { beforeAll, describe, expect, it } from "vitest";

import { useTestDatabase } from "../../helpers/db.js";
import { define, expectSqlError, type Queryable } from "../support.js";

const db = useTestDatabase();

beforeAll(async () => {
  await define(db.pool, "chain", {
    steps: [
      { name: "a", task: "t", attempts: 7, priority: -3, delay: "5 seconds" },
      { name: "b", task: "t", dependsOn: ["a"] },
      { name: "c", task: "t", dependsOn: ["b"] },
    ],
  });
  // Not covered by the fast path: two roots; a root with a condition; a root on a queue.
  await define(db.pool, "two-roots", {
    steps: [
      { name: "a", task: "t" },
      { name: "b", task: "t" },
      { name: "c", task: "t", dependsOn: ["a", "b"] },
    ],
  });
  await define(db.pool, "cond", {
    steps: [
      { name: "a", task: "t", if: "$.input.row.n > 1" },
      { name: "b", task: "t", dependsOn: ["a"] },
    ],
  });
  await define(db.pool, "queued", {
    steps: [{ name: "a", task: "t", queue: { name: "q", key: "$.input.row.n" } }],
  });
  // graphile's task row 'rowflow:step' exists after the first job anywhere;
  // until then the fast path leaves the start to start_runs, which creates it.
  await db.query("select rowflow._step_task_id()");
  await db.query(`
    create table plain (id bigint primary key, n int not null default 0);
    select rowflow.attach('plain', 'chain');
    create table keyed (id bigint primary key, n int not null default 0);
    select rowflow.attach('keyed', 'chain', idempotency_key => '''k:'' || new.n');
    create table other (id bigint primary key, n int not null default 0);
    select rowflow.attach('other', 'two-roots');
    select rowflow.attach('other', 'cond');
    select rowflow.attach('other', 'queued');
  `);
});

/** Everything a start wrote for run `id`, with ids and times made relative to the run. */
async function written(q: Queryable, id: string | number) {
  const { rows } = await q.query(
    `select to_jsonb(r) - 'id' - 'created_at' - 'updated_at' as run,
       r.created_at = r.updated_at as same_times,
       (select jsonb_agg(to_jsonb(s) - 'run_id' - 'job_id' - 'created_at'
                         || jsonb_build_object('created_is_run', s.created_at = r.created_at) order by s.step)
        from rowflow.step_runs s where s.run_id = r.id) as steps,
       (select jsonb_agg(to_jsonb(e) - 'id' - 'run_id' - 'at'
                         || jsonb_build_object('at_is_run', e.at = r.created_at) order by e.id)
        from rowflow.events e where e.run_id = r.id) as events,
       (select jsonb_agg(jsonb_build_object('task', t.identifier, 'queue', jq.queue_name,
                 'payload', j.payload::jsonb - 'run', 'payload_run', (j.payload->>'run')::bigint = r.id,
                 'run_at_offset', extract(epoch from j.run_at - r.created_at), 'max_attempts', j.max_attempts,
                 'priority', j.priority, 'attempts', j.attempts, 'key', j.key, 'flags', j.flags,
                 'revision', j.revision, 'is_available', j.is_available, 'locked_at', j.locked_at,
                 'created_now', j.created_at = now(), 'updated_now', j.updated_at = now(),
                 'is_step_job', j.id = s.job_id) order by s.step)
        from rowflow.step_runs s join graphile_worker._private_jobs j on j.id = s.job_id
        join graphile_worker._private_tasks t on t.id = j.task_id
        left join graphile_worker._private_job_queues jq on jq.id = j.job_queue_id
        where s.run_id = r.id) as jobs
     from rowflow.runs r where r.id = $1`,
    [id],
  );
  return rows[0];
}

async function pending(q: Queryable) {
  const { rows } = await q.query<{ run_id: string }>("select run_id from rowflow.pending_runs()");
  return rows.map((r) => r.run_id);
}

/**
 * start_runs calls counted for this backend (pg_stat_xact_user_functions may
 * still hold unflushed counts of earlier transactions: compare differences
 * within one transaction).
 */
async function calls(q: Queryable) {
  const { rows } = await q.query<{ n: string }>(
    `select coalesce(sum(calls), 0) as n from pg_stat_xact_user_functions
     where schemaname = 'rowflow' and funcname = 'start_runs'`,
  );
  return Number(rows[0]!.n);
}

describe("the one-row fast path", () => {
  it("writes what start_runs writes, for normal and backfill mode", async () => {
    for (const mode of ["normal", "backfill"]) {
      const [fast, slow] = await db.rollback(async (c) => {
        await c.query("set local track_functions = 'all'");
        await c.query(`set local rowflow.mode = '${mode}'`);
        const before = await calls(c);
        await c.query("insert into plain (id, n) values (1, 5)");
        expect(await calls(c)).toBe(before); // the fast path did not call start_runs
        const [runId] = await pending(c);
        const input = (await c.query("select input from rowflow.runs where id = $1", [runId]))
          .rows[0]!.input;
        const { rows } = await c.query<{ id: string }>(
          "select rowflow.start_runs('chain', array[$1::jsonb], priority => $2) as id",
          [input, mode === "backfill" ? 1000 : 0],
        );
        return [await written(c, runId!), await written(c, rows[0]!.id)];
      });
      expect(fast.steps).toHaveLength(1);
      expect(fast.jobs).toHaveLength(1);
      expect(fast.run.priority).toBe(mode === "backfill" ? 1000 : 0);
      expect(fast).toEqual(slow);
    }
  });

  it("with an idempotency key: the first row starts a run, a repeat finds it", async () => {
    await db.rollback(async (c) => {
      await c.query("set local track_functions = 'all'");
      const before = await calls(c);
      await c.query("insert into keyed (id, n) values (1, 7)");
      await c.query("insert into keyed (id, n) values (2, 7)"); // same key k:7
      expect(await calls(c)).toBe(before);
      const ids = await pending(c);
      expect(ids).toHaveLength(1); // both statements recorded the same run
      const runId = ids[0]!;
      const { rows } = await c.query<{ id: string }>(
        "select rowflow.start_runs('chain', array[$1::jsonb], array['k:8']) as id",
        [(await c.query("select input from rowflow.runs where id = $1", [runId])).rows[0]!.input],
      );
      const fast = await written(c, runId);
      const slow = await written(c, rows[0]!.id);
      expect(fast.run.idempotency_key).toBe("k:7");
      expect(slow.run.idempotency_key).toBe("k:8");
      delete fast.run.idempotency_key;
      delete slow.run.idempotency_key;
      expect(fast).toEqual(slow);
      expect(
        (await c.query("select count(*)::int as n from rowflow.runs where idempotency_key = 'k:7'"))
          .rows[0]!.n,
      ).toBe(1);
      // start_runs agrees: the key already has this run.
      const again = await c.query<{ id: string }>(
        "select rowflow.start_runs('chain', array['{}'::jsonb], array['k:7']) as id",
      );
      expect(again.rows[0]!.id).toBe(runId);
    });
  });

  it("leaves several rows, several roots, conditions and queues to start_runs", async () => {
    await db.rollback(async (c) => {
      await c.query("set local track_functions = 'all'");
      const before = await calls(c);
      await c.query("insert into plain (id) values (1), (2)");
      expect(await calls(c)).toBe(before + 1);
      await c.query("insert into other (id, n) values (1, 1)"); // three attachments, none fast
      expect(await calls(c)).toBe(before + 4);
      const { rows } = await c.query(
        `select r.workflow, array_agg(s.step || ':' || s.status order by s.step) as steps
         from rowflow.pending_runs() p join rowflow.runs r on r.id = p.run_id
         join rowflow.step_runs s on s.run_id = r.id where r.workflow <> 'chain'
         group by r.workflow order by r.workflow`,
      );
      expect(rows).toEqual([
        { workflow: "cond", steps: ["a:skipped", "b:queued"] },
        { workflow: "queued", steps: ["a:queued"] },
        { workflow: "two-roots", steps: ["a:queued", "b:queued"] },
      ]);
    });
  });

  it("keeps start_runs' errors: paused workflow, invalid mode", async () => {
    await db.rollback(async (c) => {
      await c.query("update rowflow.workflows set paused = true where name = 'chain'");
      await expectSqlError(c.query("insert into plain (id) values (1)"), "RF021", /paused/);
    });
    await db.rollback(async (c) => {
      await c.query("set local rowflow.mode = 'supress'");
      await expectSqlError(c.query("insert into plain (id) values (1)"), "RF039", /rowflow.mode/);
    });
    await db.rollback(async (c) => {
      await c.query("set local rowflow.mode = 'suppress'");
      await c.query("insert into plain (id) values (1)");
      expect(await pending(c)).toEqual([]);
    });
  });
});
