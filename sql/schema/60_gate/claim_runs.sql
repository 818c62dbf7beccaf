-- rowflow.claim_runs(worker_id, take, max_runs, now, worker_token) → {"runs": claimed, "taken": [handler contexts]}
-- rowflow._claim(worker_id, take, max_runs, now, key): its body, also called by complete_steps
--
-- How a queued run starts moving. Claims up to max_runs queued runs in
-- (priority, id) order, FOR NO KEY UPDATE SKIP LOCKED so that workers never
-- wait for each other; each becomes 'running' and gets a row for every
-- step, so that releasing a dependent later only updates a row. Up to
-- `take` root steps (no queue, no delay, condition true; in claim order)
-- are handed to worker_id straight away: 'running' under its lease
-- (step_runs.locked_by), their handler contexts in the answer, in (run
-- priority, run id, step priority, name) order — no job, no fetch, no
-- begin round trip. The other root steps get graphile-worker jobs, or are
-- skipped by their condition, which releases their dependents (PHASE 3).
-- take => 0 (worker_id may be null) only turns the runs into jobs: what
-- psql and the tests use. Contract: docs/sql-api.md (claim_runs).
--
-- Each taken step's context carries its lease token (rowflow._lease): only
-- the worker holding it can complete or fail the attempt. Handing steps to
-- worker_id needs worker_id's token (rowflow._check_worker), so one worker
-- cannot make another hold leases it does not know of.
--
-- There is no foreign key from runs to workflow_versions: its check would
-- lock the version row (KEY SHARE) at every start, and concurrent starts of
-- one workflow would share it through multixacts. The claim checks instead:
-- a run whose workflow version does not exist fails (RF025) when claimed.
--
-- With take > 0 no run is claimed whose priority value is above that of an
-- available due job, so backfill runs yield to live work. Only to a job
-- some worker can fetch: not one waiting in a named queue whose lock is held
-- (by the worker running its head, or by a dead worker until it is
-- released). Yielding to those stopped every claim while a serial queue
-- with a lower priority value had a backlog, and for as long as a killed
-- worker held the queue's lock (issue 18's "nothing claimed for 48 s until
-- the dead workers were released"; test/sql/claim-runs/dead-holders.test.ts).
-- The scan walks past such a backlog in priority order: O(its length) per
-- claim while it lasts. Runs of a paused
-- workflow are skipped: they wait, queued, until it is resumed. (A large
-- paused backlog ahead of live runs in (priority, id) order is scanned past
-- on every claim; pausing is meant to be short.)
--
-- One statement writes the runs, the step rows, the jobs and the skip
-- events: plpgsql pays executor start-up, plan-cache checks and CHECK
-- preparation per statement, so the hot gates keep a fixed handful of
-- statements whatever the number of runs. Job ids are drawn from
-- graphile's own identity sequence in the statement instead of matched back
-- from the insert's RETURNING: a join of thousands of rows against it would
-- be a nested loop with hash joins off. Runs whose root steps use named
-- queues need the queue rows first: that case (rare) takes a second pass
-- (PHASE 2). The SET clauses: see sql/schema/40_start/_queue_runs.sql.
create or replace function rowflow.claim_runs(
  worker_id text default null,
  take int default 0,
  max_runs int default null,
  now timestamptz default null,
  worker_token text default null)
returns jsonb
language plpgsql
security definer
set search_path to ''
as $$
#variable_conflict use_column
begin
  -- GUARD: a worker (or an operator claiming for graphile-worker, take 0);
  -- handing steps to worker_id needs its token.
  perform rowflow._require(case when coalesce(claim_runs.take, 0) > 0 then '{worker}'::text[]
                                else '{worker,operator}'::text[] end);
  if coalesce(claim_runs.take, 0) > 0 and claim_runs.worker_id is not null then
    perform rowflow._check_worker(claim_runs.worker_id, claim_runs.worker_token);
  end if;
  return rowflow._claim(claim_runs.worker_id, claim_runs.take, claim_runs.max_runs, claim_runs.now,
                        case when coalesce(claim_runs.take, 0) > 0 then rowflow._secret() end);
end;
$$;
comment on function rowflow.claim_runs(text, int, int, timestamptz, text) is
  'Claims up to max_runs queued runs: running, a row per step, up to take root steps handed to worker_id (running, leased; worker_token required), the others queued as jobs. Answers {"runs": claimed, "taken": [handler contexts]}.';
select rowflow._allow('function rowflow.claim_runs(text, int, int, timestamptz, text)', '{worker,operator}');

create or replace function rowflow._claim(worker_id text, take int, max_runs int, now timestamptz, key bytea)
returns jsonb
language plpgsql
set search_path to ''
set plan_cache_mode to force_generic_plan
set enable_seqscan to off
set enable_hashjoin to off
set enable_mergejoin to off
set jit to off
as $$
#variable_conflict use_column
declare
  v_now timestamptz := coalesce(_claim.now, pg_catalog.statement_timestamp());
  v_take int := coalesce(_claim.take, 0);
  v_limit int := coalesce(_claim.max_runs, greatest(coalesce(_claim.take, 0), 1));
  v_out record;
  v_seq regclass := pg_catalog.pg_get_serial_sequence('graphile_worker._private_jobs', 'id')::regclass;
  v_woke int;
  v_yield int;
begin
  -- GUARD: arguments.
  if v_take < 0 or v_limit < 0 then
    raise exception 'claim_runs: take and max_runs must not be negative (take %, max_runs %)', v_take, v_limit
      using errcode = '22023';
  end if;
  if v_take > 0 and _claim.worker_id is null then
    raise exception 'claim_runs: take > 0 needs the worker_id that will run the steps' using errcode = '22023';
  end if;
  if v_limit = 0 then
    return '{"runs": 0, "taken": []}';
  end if;
  -- A worker that takes steps does not start a run while an available job
  -- with a lower priority value is due (backfill runs yield to live work).
  if v_take > 0 then
    v_yield := (select j.priority from graphile_worker._private_jobs as j
                where j.is_available = true and j.run_at <= v_now
                  and (j.job_queue_id is null
                       or exists (select 1 from graphile_worker._private_job_queues as q
                                  where q.id = j.job_queue_id and q.is_available))
                order by j.priority limit 1);
  end if;

  -- PHASE 1: one statement: the runs; the plan of every step of theirs (a
  -- root step is skipped by its condition, taken — the first `take`
  -- eligible ones in claim order — or queued; the others get pending rows
  -- now, so that releasing them later only updates a row); jobs for the
  -- queued roots; the rows; skip events.
  with c as (
    select r.id,
           exists (select 1 from rowflow.workflow_versions as wv
                   where wv.workflow = r.workflow and wv.version = r.version) as known
    from rowflow.runs as r
    where r.status = 'queued' and (v_yield is null or r.priority <= v_yield)
      and not exists (select 1 from rowflow.workflows as w where w.name = r.workflow and w.paused)
    order by r.priority, r.id
    limit v_limit
    for no key update skip locked
  ), u as (
    -- A run of a workflow version that does not exist (inserted by hand, a
    -- broken restore) fails here, RF025, instead of running forever (with
    -- its run_failed event and failure alert).
    update rowflow.runs as r
    set status = case when c.known then 'running' else 'failed' end, started_at = v_now, updated_at = v_now,
        finished_at = case when c.known then null else v_now end,
        error = case when c.known then null else pg_catalog.jsonb_build_object('code', 'RF025',
                  'message', pg_catalog.format('workflow %s has no version %s', r.workflow, r.version)) end
    from c where r.id = c.id
    returning r.id, r.workflow, r.version, r.input, r.priority, r.status, r.error, r.traceparent, r.tracestate,
              r.created_at
  ), bad as (
    insert into rowflow.events (run_id, type, data, at)
    select u.id, 'run_failed', pg_catalog.jsonb_build_object('error', u.error), v_now
    from u where u.status = 'failed'
  ), bad_alert as (
    insert into rowflow.alerts (type, run_id, workflow, payload, next_attempt_at, created_at, retry_since)
    select 'run.failed', u.id, u.workflow, rowflow._alert_payload(u.id, u.workflow, u.version, u.error, v_now),
           v_now, v_now, v_now
    from u where u.status = 'failed'
  ), s as (
    select u.id as run_id, u.workflow, u.version, u.input, ws.name as step, ws.task, ws.attempts, ws.delay,
      ws.timeout, ws.if_path, ws.n_deps, ws.n_deps = 0 as root,
      greatest(-32768, least(32767, ws.priority + u.priority)) as priority, q.queue, g.go,
      (ws.n_deps = 0 and g.go and q.queue is null and coalesce(ws.delay, interval '0') <= interval '0'
       and ws.wait is null) as eligible, ws.wait is not null as arms,
      u.priority as run_priority, u.traceparent, u.tracestate, u.created_at as run_created_at
    from u
    join rowflow.workflow_steps as ws on ws.workflow = u.workflow and ws.version = u.version and u.status = 'running'
    cross join lateral (
      select ws.n_deps = 0 and (ws.if_path is null
        or coalesce(jsonb_path_match(pg_catalog.jsonb_build_object('input', u.input, 'steps', '{}'::jsonb),
                                     ws.if_path, '{}', true), false)) as go
    ) as g
    cross join lateral (
      select case when g.go and ws.queue_name is not null then
        rowflow._queue_name(ws.queue_name, ws.queue_key,
                            pg_catalog.jsonb_build_object('input', u.input, 'steps', '{}'::jsonb)) end as queue
    ) as q
  ), d as (
    select s.*,
      case when not s.root then 'pending'
           when not s.go then 'skipped'
           when s.eligible
                and row_number() over (partition by s.eligible
                                       order by s.run_priority, s.run_id, s.priority, s.step) <= v_take
             then 'running'
           else 'queued' end as status
    from s
  ), p as (
    -- Job ids drawn here (graphile's own sequence), not matched back from
    -- the insert's RETURNING: a join of thousands of rows against it would
    -- be a nested loop with hash joins off.
    select d.*, case when d.status = 'queued' then pg_catalog.nextval(v_seq) end as job_id
    from d
  ), jobs as (
    insert into graphile_worker._private_jobs as j (id, job_queue_id, task_id, payload, run_at, max_attempts, priority)
    overriding system value
    select
      p.job_id,
      null,
      (select t.id from graphile_worker._private_tasks as t
       where t.identifier = case when p.arms then 'rowflow:wait' else 'rowflow:step' end),
      pg_catalog.json_build_object('run', p.run_id, 'step', p.step, 'attempt', 1),
      v_now + coalesce(p.delay, interval '0'), 25, p.priority
    from p where p.status = 'queued'
    order by p.job_id
  ), ins as (
    insert into rowflow.step_runs (run_id, step, kind, status, deps_remaining, attempt, max_attempts,
                                   created_at, queued_at, started_at, finished_at, job_id, locked_by)
    select p.run_id, p.step, 'step', p.status, case when p.status = 'pending' then p.n_deps else 0 end,
           case when p.status in ('queued', 'running') then 1 else 0 end,
           p.attempts, v_now, case when p.status in ('queued', 'running') then v_now end,
           case when p.status = 'running' then v_now end, case when p.status = 'skipped' then v_now end, p.job_id,
           case when p.status = 'running' then _claim.worker_id end
    from p
    order by p.run_id, p.step
  ), ev as (
    insert into rowflow.events (run_id, step, type, data, at)
    select p.run_id, p.step, 'step_skipped', pg_catalog.jsonb_build_object('if', p.if_path::text), v_now
    from p where p.status = 'skipped'
    order by p.run_id, p.step
  )
  select (select count(*)::int from u where u.status = 'running') as runs,
         coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
           'ok', true, 'runId', p.run_id::text, 'step', p.step, 'task', p.task,
           'workflow', p.workflow, 'version', p.version, 'input', p.input, 'deps', '{}'::jsonb,
           'attempt', 1, 'maxAttempts', p.attempts,
           'timeoutMs', (extract(epoch from p.timeout) * 1000)::bigint,
           'idempotencyKey', 'rowflow:' || p.run_id || ':' || p.step,
           'kind', 'step', 'runError', null, 'priority', p.priority,
           'lease', rowflow._lease(_claim.key, p.run_id, p.step, 1),
           'traceparent', p.traceparent, 'tracestate', p.tracestate, 'runCreatedAt', p.run_created_at)
           order by p.run_priority, p.run_id, p.priority, p.step)
           filter (where p.status = 'running'), '[]'::jsonb) as taken,
         count(*) filter (where p.status = 'queued')::int as queued,
         coalesce(array_agg(row(p.run_id, p.step, 1)::rowflow.done_step order by p.run_id, p.step)
                  filter (where p.status = 'skipped'), '{}') as skipped,
         pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('id', p.job_id, 'queue', p.queue))
           filter (where p.status = 'queued' and p.queue is not null) as queue_jobs
  into v_out
  from p;

  -- PHASE 2 (rare): jobs of named queues: the queue rows (created when
  -- missing) and their ids, before anything commits.
  if v_out.queue_jobs is not null then
    insert into graphile_worker._private_job_queues as jq (queue_name)
    select distinct x ->> 'queue' from pg_catalog.jsonb_array_elements(v_out.queue_jobs) as x
    on conflict do nothing;
    update graphile_worker._private_jobs as j
    set job_queue_id = jq.id
    from pg_catalog.jsonb_array_elements(v_out.queue_jobs) as x
    join graphile_worker._private_job_queues as jq on jq.queue_name = x ->> 'queue'
    where j.id = (x ->> 'id')::bigint;
  end if;

  -- PHASE 3: runs with skipped root steps: release what the skips satisfy
  -- (rare), then finish the runs that have nothing left.
  if cardinality(v_out.skipped) > 0 then
    perform rowflow._release(v_out.skipped, null, null, v_now, null);
    perform rowflow._finish_runs(array(select distinct d.run_id from unnest(v_out.skipped) as d), v_now);
  end if;
  -- Jobs for a waiting worker; a hint for live views (rowflow tail shows
  -- run_started and the first steps at once instead of at its next poll).
  if v_out.queued > 0 or v_out.runs > 0 then
    v_woke := rowflow._wake_all(v_out.queued, 0,
      case when v_out.runs > 0 then pg_catalog.jsonb_build_object('claimed', v_out.runs) end);
  end if;
  return pg_catalog.jsonb_build_object('runs', v_out.runs, 'taken', v_out.taken);
end;
$$;
select rowflow._allow('function rowflow._claim(text, int, int, timestamptz, bytea)', '{}');
