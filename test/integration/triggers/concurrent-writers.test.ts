// 16 concurrent clients write through an attached table; some transactions
// abort. Every committed row has exactly one run (queued: 000011 starts are
// the run row only, no step rows and no job), aborted rows none.
import pg from "pg";
import { describe, expect, it } from "vitest";

import { useTestDatabase } from "../../helpers/db.js";

const db = useTestDatabase();

const clients = 16;
const rowsPerClient = 1000;
const rowsPerTransaction = 10;

describe("concurrent writers on an attached table", () => {
  it(`${clients} clients × ${rowsPerClient} rows, every 7th transaction rolled back`, async () => {
    await db.query(`
      select rowflow.define_workflow('w', '{"steps": [{"name": "a", "task": "t"}, {"name": "b", "task": "t", "dependsOn": ["a"]}]}');
      create table items (id int primary key, client int not null);
      select rowflow.attach('items', 'w');
    `);
    const committed = new Set<number>();
    const aborted = new Set<number>();
    await Promise.all(
      Array.from({ length: clients }, async (_, client) => {
        // Own connections: the shared pool has fewer than 16.
        const c = new pg.Client({ connectionString: db.url });
        await c.connect();
        try {
          for (let t = 0; t < rowsPerClient / rowsPerTransaction; t++) {
            const ids = Array.from(
              { length: rowsPerTransaction },
              (_, i) => client * rowsPerClient + t * rowsPerTransaction + i,
            );
            const abort = t % 7 === 3;
            await c.query("begin");
            // Single-row statements and one multi-row statement per transaction.
            for (const id of ids.slice(0, 5))
              await c.query("insert into items values ($1, $2)", [id, client]);
            await c.query("insert into items select unnest($1::int[]), $2", [ids.slice(5), client]);
            await c.query(abort ? "rollback" : "commit");
            for (const id of ids) (abort ? aborted : committed).add(id);
          }
        } finally {
          await c.end();
        }
      }),
    );
    expect(committed.size + aborted.size).toBe(clients * rowsPerClient);
    expect(aborted.size).toBeGreaterThan(0);

    // 000011: a start is the run row only: queued, no step rows, no job.
    const { rows } = await db.query<{
      id: number;
      runs: number;
      queued: number;
      steps: number;
      jobs: number;
    }>(
      `select (r.input->'row'->>'id')::int as id, count(*)::int as runs,
              count(*) filter (where r.status = 'queued' and r.started_at is null)::int as queued,
              sum((select count(*) from rowflow.step_runs s where s.run_id = r.id))::int as steps,
              sum((select count(*) from graphile_worker._private_jobs j where (j.payload->>'run')::bigint = r.id))::int as jobs
       from rowflow.runs r where r.workflow = 'w' group by 1`,
    );
    const byId = new Map(rows.map((r) => [r.id, r]));
    expect(
      rows.filter((r) => r.runs !== 1 || r.queued !== 1 || r.steps !== 0 || r.jobs !== 0),
    ).toEqual([]);
    expect([...committed].filter((id) => !byId.has(id))).toEqual([]);
    expect([...aborted].filter((id) => byId.has(id))).toEqual([]);
    expect(byId.size).toBe(committed.size);
  });
});
