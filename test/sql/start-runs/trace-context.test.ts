// A run's trace context (runs.traceparent / tracestate; docs/observability.md,
// "Traces"): start_run(s)' trace_context, the transaction-local settings an
// attachment reads, what counts as valid, and that a malformed one is
// ignored without an error on every path. The handler contexts carry it.
import { describe, expect, it } from "vitest";

import { useTestDatabase } from "../../helpers/db.js";
import { define, type Queryable } from "../support.js";

const db = useTestDatabase();

const tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

async function traceOf(q: Queryable, id: number | string) {
  const { rows } = await q.query<{ traceparent: string | null; tracestate: string | null }>(
    "select traceparent, tracestate from rowflow.runs where id = $1",
    [id],
  );
  return rows[0];
}

async function startWith(q: Queryable, traceContext: unknown): Promise<string> {
  const { rows } = await q.query<{ id: string }>(
    "select rowflow.start_run(workflow => 'tw', trace_context => $1::jsonb) as id",
    [JSON.stringify(traceContext)],
  );
  return rows[0]!.id;
}

describe("start_run(s) trace_context", () => {
  it("keeps a valid carrier or traceparent string, normalises later versions, ignores the rest without an error", async () => {
    await db.rollback(async (c) => {
      await define(c, "tw", { steps: [{ name: "a", task: "t" }] });
      const cases: [unknown, { traceparent: string | null; tracestate: string | null }][] = [
        [
          { traceparent: tp, tracestate: "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE" },
          { traceparent: tp, tracestate: "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE" },
        ],
        [tp, { traceparent: tp, tracestate: null }],
        [{ traceparent: tp }, { traceparent: tp, tracestate: null }],
        [
          { traceparent: `cc-${tp.slice(3)}-what-ever`, tracestate: "x=1" },
          { traceparent: tp, tracestate: "x=1" },
        ],
        [
          { traceparent: tp, tracestate: "a".repeat(513) },
          { traceparent: tp, tracestate: null },
        ],
        [
          { traceparent: tp, tracestate: "bad\nstate" },
          { traceparent: tp, tracestate: null },
        ],
        [
          { traceparent: "garbage", tracestate: "x=1" },
          { traceparent: null, tracestate: null },
        ],
        [{ traceparent: tp.toUpperCase() }, { traceparent: null, tracestate: null }],
        [{ traceparent: `${tp}-extra` }, { traceparent: null, tracestate: null }],
        [{ traceparent: `ff-${tp.slice(3)}` }, { traceparent: null, tracestate: null }],
        [
          { traceparent: "00-00000000000000000000000000000000-b7ad6b7169203331-01" },
          { traceparent: null, tracestate: null },
        ],
        [
          { traceparent: "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01" },
          { traceparent: null, tracestate: null },
        ],
        [{ traceparent: 42 }, { traceparent: null, tracestate: null }],
        [42, { traceparent: null, tracestate: null }],
        [[tp], { traceparent: null, tracestate: null }],
      ];
      for (const [given, stored] of cases) {
        const id = await startWith(c, given);
        expect({ given, stored: await traceOf(c, id) }).toEqual({ given, stored });
      }
      const { rows } = await c.query<{ id: string }>(
        `select id from rowflow.start_runs('tw', array['{}', '{}']::jsonb[],
                                           trace_context => $1::jsonb) as id`,
        [JSON.stringify({ traceparent: tp, tracestate: "k=v" })],
      );
      expect(rows).toHaveLength(2);
      for (const { id } of rows)
        expect(await traceOf(c, id)).toEqual({ traceparent: tp, tracestate: "k=v" });
      const none = await c.query<{ id: string }>("select rowflow.start_run('tw') as id");
      expect(await traceOf(c, none.rows[0]!.id)).toEqual({ traceparent: null, tracestate: null });
    });
  });
});

describe("attachments read rowflow.traceparent", () => {
  it("the runs of a plain INSERT keep the transaction's setting; unset, empty or malformed: none, and the write goes on", async () => {
    await db.rollback(async (c) => {
      await define(c, "tw", { steps: [{ name: "a", task: "t" }] });
      await c.query("create table orders (id bigserial primary key, amount int)");
      await c.query("select rowflow.attach('orders', 'tw')");
      const insert = async () => {
        const { rows } = await c.query<{ id: string }>(
          "insert into orders (amount) values (1) returning id",
        );
        const runs = await c.query<{ traceparent: string | null; tracestate: string | null }>(
          "select traceparent, tracestate from rowflow.runs where source_key = $1",
          [rows[0]!.id],
        );
        expect(runs.rows).toHaveLength(1);
        return runs.rows[0];
      };
      expect(await insert()).toEqual({ traceparent: null, tracestate: null });
      await c.query("savepoint s1");
      await c.query(
        "select set_config('rowflow.traceparent', $1, true), set_config('rowflow.tracestate', 'v=1', true)",
        [tp],
      );
      expect(await insert()).toEqual({ traceparent: tp, tracestate: "v=1" });
      await c.query("select set_config('rowflow.traceparent', 'not-a-traceparent', true)");
      expect(await insert()).toEqual({ traceparent: null, tracestate: null });
      await c.query("select set_config('rowflow.traceparent', '', true)");
      expect(await insert()).toEqual({ traceparent: null, tracestate: null });
      // A bulk INSERT … SELECT: every run keeps it.
      await c.query(
        "select set_config('rowflow.traceparent', $1, true), set_config('rowflow.tracestate', '', true)",
        [tp],
      );
      await c.query("insert into orders (amount) select g from generate_series(1, 3) as g");
      const bulk = await c.query<{ n: number }>(
        "select count(*)::int as n from rowflow.runs where traceparent = $1 and tracestate is null",
        [tp],
      );
      expect(bulk.rows[0]!.n).toBe(3);
    });
  });

  it("a keyed attachment (the _start_attached path) keeps it too", async () => {
    await db.rollback(async (c) => {
      await define(c, "tw", { steps: [{ name: "a", task: "t" }] });
      await c.query("create table keyed (id bigserial primary key, ref text)");
      await c.query("select rowflow.attach('keyed', 'tw', idempotency_key => 'new.ref')");
      await c.query("select set_config('rowflow.traceparent', $1, true)", [tp]);
      await c.query("insert into keyed (ref) values ('k1'), ('k2')");
      await c.query("select set_config('rowflow.traceparent', 'zz', true)");
      await c.query("insert into keyed (ref) values ('k3')");
      const { rows } = await c.query<{ k: string; traceparent: string | null }>(
        "select idempotency_key as k, traceparent from rowflow.runs order by id",
      );
      expect(rows).toEqual([
        { k: "k1", traceparent: tp },
        { k: "k2", traceparent: tp },
        { k: "k3", traceparent: null },
      ]);
    });
  });
});

describe("handler contexts", () => {
  it("carry the run's trace context and creation time, from claim_runs and complete_steps", async () => {
    await db.rollback(async (c) => {
      await define(c, "tw2", {
        steps: [
          { name: "a", task: "t" },
          { name: "b", task: "t", dependsOn: ["a"] },
        ],
      });
      const id = (
        await c.query<{ id: string }>(
          "select rowflow.start_run('tw2', trace_context => $1::jsonb) as id",
          [JSON.stringify({ traceparent: tp, tracestate: "s=1" })],
        )
      ).rows[0]!.id;
      const { rows } = await c.query<{ id: string; created_at: Date }>(
        "select id::text, created_at from rowflow.runs where id = $1",
        [id],
      );
      const run = rows[0]!;
      const claimed = await c.query<{ r: { taken: Record<string, unknown>[] } }>(
        "select rowflow.claim_runs(worker_id => 'w1', take => 1) as r",
      );
      const a = claimed.rows[0]!.r.taken[0]!;
      expect(a).toMatchObject({ runId: run.id, step: "a", traceparent: tp, tracestate: "s=1" });
      expect(new Date(a.runCreatedAt as string).getTime()).toBe(run.created_at.getTime());
      const done = await c.query<{ r: { taken?: Record<string, unknown>[] } }>(
        `select r from rowflow.complete_steps(run_ids => array[$1::bigint], steps => array['a'], attempts => array[1],
                                              outputs => array['{}'::jsonb], takes => array[1], worker_id => 'w1',
                                              leases => array[$2]) as r`,
        [run.id, a.lease],
      );
      const b = done.rows[0]!.r.taken![0]!;
      expect(b).toMatchObject({ step: "b", traceparent: tp, tracestate: "s=1" });
      expect(new Date(b.runCreatedAt as string).getTime()).toBe(run.created_at.getTime());
    });
  });
});
