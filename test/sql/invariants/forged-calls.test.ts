// Fenced gates (docs/security.md, sql/schema/05_access/24_require.sql): a
// worker holds an attempt; forged and stale complete/fail/begin/heartbeat
// calls from another worker, from other roles and without the right tokens
// change nothing at all (every rowflow row and graphile job is compared
// before and after), and say why. The holder's own calls still work.
import { beforeAll, describe, expect, it } from "vitest";

import { useTestDatabase } from "../../helpers/db.js";
import { type LoginRole, useLoginRoles } from "../../helpers/roles.js";
import { define, expectSqlError, type Queryable } from "../support.js";

const db = useTestDatabase();
const loginRole = useLoginRoles(db);

let holder: LoginRole; // worker A's login
let other: LoginRole; // worker B's login: another worker role member
let app: LoginRole;
let viewer: LoginRole;
let tokenA: string;
let tokenB: string;
let run: number;
let lease: string;

/** Every row rowflow keeps, and graphile's jobs: what a refused call must not change. */
async function snapshot(q: Queryable = db.pool) {
  const { rows } = await q.query<{ state: unknown }>(
    `select jsonb_build_object(
       'runs', (select jsonb_agg(to_jsonb(r) order by r.id) from rowflow.runs r),
       'steps', (select jsonb_agg(to_jsonb(s) order by s.run_id, s.step) from rowflow.step_runs s),
       'events', (select count(*) from rowflow.events),
       'workers', (select jsonb_agg(to_jsonb(w) order by w.id) from rowflow.workers w),
       'jobs', (select jsonb_agg(jsonb_build_object('id', j.id, 'run_at', j.run_at, 'locked_by', j.locked_by,
                                                    'attempts', j.attempts) order by j.id)
                from graphile_worker._private_jobs j)) as state`,
  );
  return rows[0]!.state;
}

beforeAll(async () => {
  holder = await loginRole("worker_a", { memberOf: ["rowflow_worker"] });
  other = await loginRole("worker_b", { memberOf: ["rowflow_worker"] });
  app = await loginRole("app", { memberOf: ["rowflow_app"] });
  viewer = await loginRole("viewer", { memberOf: ["rowflow_viewer"] });
  await define(db.pool, "fenced", {
    steps: [
      { name: "a", task: "t" },
      { name: "late", task: "t", delay: "1 hour" },
    ],
  });
  const register = async (role: LoginRole, id: string) =>
    (
      await role.query<{ token: string }>(
        "select rowflow.register_worker(id => $1, hostname => 'h', pid => 1, concurrency => 4) as token",
        [id],
      )
    ).rows[0]!.token;
  tokenA = await register(holder, "wA");
  tokenB = await register(other, "wB");
  const { rows } = await app.query<{ id: string }>(
    "select rowflow.start_run('fenced', '{}'::jsonb) as id",
  );
  run = Number(rows[0]!.id);
  // Worker A claims the run and takes its root step "a"; "late" is queued as a delayed job.
  const { rows: claimed } = await holder.query<{
    r: { taken: Array<{ step: string; lease: string }> };
  }>(
    "select rowflow.claim_runs(worker_id => 'wA', take => 1, max_runs => 1, worker_token => $1) as r",
    [tokenA],
  );
  const taken = claimed[0]!.r.taken;
  expect(taken.map((t) => t.step)).toEqual(["a"]);
  lease = taken[0]!.lease;
});

describe("a running attempt is its holder's", () => {
  it("complete_step without the lease, with a wrong one, or another worker's id changes nothing", async () => {
    const before = await snapshot();
    for (const [role, args] of [
      [other, { lease: null }],
      [other, { lease: "0".repeat(32) }],
      [holder, { lease: null }],
      [holder, { lease: lease.replace(/^./, (c) => (c === "0" ? "1" : "0")) }],
    ] as const) {
      const { rows } = await role.query<{ r: unknown }>(
        `select rowflow.complete_step(run_id => $1, step => 'a', attempt => 1, output => '{"forged": true}',
                                      lease => $2) as r`,
        [run, args.lease],
      );
      expect(rows[0]!.r).toMatchObject({ ok: false, reason: "not_lease_holder" });
    }
    // Acting as worker A needs A's token: another worker's, or none, is RF024.
    for (const token of [null, tokenB]) {
      await expectSqlError(
        other.query(
          `select rowflow.complete_step(run_id => $1, step => 'a', attempt => 1, output => '{}', lease => $2,
                                        take => 1, worker_id => 'wA', worker_token => $3)`,
          [run, lease, token],
        ),
        "RF024",
        /worker token/,
      );
    }
    expect(await snapshot()).toEqual(before);
  });

  it("fail_step without the lease changes nothing; fail_lost_attempt needs the job's lock", async () => {
    const before = await snapshot();
    for (const l of [null, "f".repeat(32)]) {
      const { rows } = await other.query<{ r: unknown }>(
        `select rowflow.fail_step(run_id => $1, step => 'a', attempt => 1, error => '{"message": "forged"}',
                                  retryable => false, lease => $2) as r`,
        [run, l],
      );
      expect(rows[0]!.r).toEqual({ ok: false, reason: "not_lease_holder" });
    }
    const { rows } = await other.query<{ r: unknown }>(
      "select rowflow.fail_lost_attempt(run_id => $1, step => 'a', attempt => 1, worker_id => 'wB') as r",
      [run],
    );
    expect(rows[0]!.r).toEqual({ ok: false, reason: "not_lease_holder" });
    expect(await snapshot()).toEqual(before);
  });

  it("a delayed step cannot be begun early by hand, nor a reserved one without the token", async () => {
    const before = await snapshot();
    for (const [role, worker] of [
      [other, "wB"],
      [holder, "wA"],
    ] as const) {
      const { rows } = await role.query<{ r: unknown }>(
        `select r from rowflow.begin_steps(run_ids => array[$1::bigint], steps => '{late}', attempts => '{1}',
                                           worker_id => $2) as b(r)`,
        [run, worker],
      );
      expect(rows[0]!.r).toMatchObject({ ok: false, reason: "not_lease_holder" });
    }
    await expectSqlError(
      other.query(
        `select rowflow.begin_steps(run_ids => array[$1::bigint], steps => '{late}', attempts => '{1}')`,
        [run],
      ),
      "22023",
      /worker_id is required/,
    );
    await expectSqlError(
      other.query(
        `select rowflow.begin_steps(run_ids => array[$1::bigint], steps => '{late}', attempts => '{1}',
                                    worker_id => 'wA', reserved => true)`,
        [run],
      ),
      "RF024",
      /worker token is required/,
    );
    expect(await snapshot()).toEqual(before);
  });

  it("heartbeats, unregistering, lease releases and re-registering as another worker need its token", async () => {
    const before = await snapshot();
    const asA = [
      "select rowflow.heartbeat_worker(id => 'wA', token => $1)",
      "select rowflow.unregister_worker(id => 'wA', token => $1)",
      "select rowflow.release_leases(worker_id => 'wA', keep => '{}', token => $1)",
      "select rowflow.register_worker(id => 'wA', hostname => 'x', pid => 2, concurrency => 1, token => $1)",
      "select rowflow.claim_runs(worker_id => 'wA', take => 1, worker_token => $1)",
    ];
    for (const sql of asA) {
      for (const token of [null, tokenB]) {
        await expectSqlError(other.query(sql, [token]), "RF024", /worker token/);
      }
    }
    expect(await snapshot()).toEqual(before);
  });

  it("roles that are not workers cannot call the gate at all", async () => {
    const before = await snapshot();
    for (const role of [app, viewer]) {
      await expectSqlError(
        role.query(
          `select rowflow.complete_step(run_id => $1, step => 'a', attempt => 1, output => '{}', lease => $2)`,
          [run, lease],
        ),
        "42501",
        /^permission denied for function complete_step$/,
      );
      await expectSqlError(
        role.query(
          `select rowflow.fail_step(run_id => $1, step => 'a', attempt => 1, error => '{}', lease => $2)`,
          [run, lease],
        ),
        "42501",
        /^permission denied for function fail_step$/,
      );
      await expectSqlError(
        role.query("select rowflow.heartbeat_worker(id => 'wA', token => $1)", [tokenA]),
        "42501",
        /^permission denied for function heartbeat_worker$/,
      );
    }
    // An EXECUTE granted by mistake still opens nothing: the body checks membership.
    await db.query(
      "grant execute on function rowflow.fail_step(bigint, text, int, jsonb, boolean, timestamptz, timestamptz, text) to public",
    );
    try {
      await expectSqlError(
        app.query(
          `select rowflow.fail_step(run_id => $1, step => 'a', attempt => 1, error => '{}', lease => $2)`,
          [run, lease],
        ),
        "42501",
        new RegExp(
          `^permission denied: session user ${app.name} is not a member of rowflow_worker$`,
        ),
      );
    } finally {
      await db.query(
        "revoke execute on function rowflow.fail_step(bigint, text, int, jsonb, boolean, timestamptz, timestamptz, text) from public",
      );
    }
    expect(await snapshot()).toEqual(before);
  });

  it("complete_steps checks membership and tokens on every call, not once per session", async () => {
    const before = await snapshot();
    // An EXECUTE granted by mistake opens nothing (complete_steps checks the
    // role in its own first statement), and a worker session whose
    // membership is revoked is refused at its next call: nothing is
    // remembered per session.
    const sig =
      "rowflow.complete_steps(bigint[], text[], int[], jsonb[], int[], text, timestamptz, boolean, int, bigint[], text[], int[], text[], text)";
    const gone = await loginRole("worker_gone", { memberOf: ["rowflow_worker"] });
    // Its own USAGE on the schema, so that only the membership check is left to refuse it.
    await db.query(`grant usage on schema rowflow to ${gone.name}`);
    const session = await gone.pool.connect();
    const notMember = (name: string) =>
      new RegExp(`^permission denied: session user ${name} is not a member of rowflow_worker$`);
    const call = (q: Queryable) =>
      q.query<{ r: { ok: boolean; reason?: string } }>(
        `select r from rowflow.complete_steps(array[$1::bigint], array['a'], array[1], array['{}'::jsonb],
                                              leases => array[$2]) as r`,
        [run, "0".repeat(32)],
      );
    await db.query(`grant execute on function ${sig} to public`);
    try {
      await expectSqlError(call(app.pool), "42501", notMember(app.name));
      expect((await call(session)).rows[0]!.r).toMatchObject({
        ok: false,
        reason: "not_lease_holder",
      });
      await db.query(`revoke rowflow_worker from ${gone.name}`);
      await expectSqlError(call(session), "42501", notMember(gone.name));
      await db.query(`grant rowflow_worker to ${gone.name}`);
      expect((await call(session)).rows[0]!.r).toMatchObject({
        ok: false,
        reason: "not_lease_holder",
      });
    } finally {
      session.release();
      await db.query(`revoke execute on function ${sig} from public`);
    }
    // A trusted session may omit the worker token, but one it passes is
    // checked: another worker's token is RF024 there too.
    await expectSqlError(
      db.query(
        `select rowflow.complete_step(run_id => $1, step => 'a', attempt => 1, output => '{}', lease => $2,
                                      take => 1, worker_id => 'wA', worker_token => $3)`,
        [run, lease, tokenB],
      ),
      "RF024",
      /does not match worker wA/,
    );
    expect(await snapshot()).toEqual(before);
  });

  it("the holder completes with its lease; a stale repeat changes nothing", async () => {
    const { rows } = await holder.query<{ r: { ok: boolean; runStatus: string } }>(
      `select rowflow.complete_step(run_id => $1, step => 'a', attempt => 1, output => '{"real": true}',
                                    lease => $2, worker_id => 'wA', worker_token => $3) as r`,
      [run, lease, tokenA],
    );
    expect(rows[0]!.r).toMatchObject({ ok: true, runStatus: "running" });
    const after = await snapshot();
    const { rows: again } = await holder.query<{ r: unknown }>(
      `select rowflow.complete_step(run_id => $1, step => 'a', attempt => 1, output => '{"late": true}',
                                    lease => $2) as r`,
      [run, lease],
    );
    expect(again[0]!.r).toMatchObject({ ok: false, reason: "step_terminal" });
    expect(await snapshot()).toEqual(after);
    const { rows: output } = await db.query(
      "select output from rowflow.step_runs where run_id = $1 and step = 'a'",
      [run],
    );
    expect(output).toEqual([{ output: { real: true } }]);
  });
});
