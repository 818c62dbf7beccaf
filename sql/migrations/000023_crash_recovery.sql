-- Crash recovery in seconds, and faults that do not burn attempts (issue 18).
--
-- A killed worker's leases used to wait for the heartbeat timeout (30 s by
-- default; 32-36 s from the last SIGKILL to done in the kill trials), though
-- Postgres knows within milliseconds that its connection closed. A worker
-- now holds a session advisory lock on a connection of its own
-- (rowflow.hold_worker_lock, workers.lock_key); release_dead_workers treats
-- a worker whose lock is free as dead at once, and rowflow.disconnected_workers
-- is the cheap probe live workers run every second.
--
-- And a Postgres restart used to record every running step as worker_lost
-- and use up one of its attempts: with the default 3, a few restarts failed
-- healthy runs. A lost attempt now raises max_attempts by one and is counted
-- in step_runs.lost_attempts; the third lost attempt fails the step as
-- poison (RF_POISON). The attempt number still counts up: it is the lease's
-- fence.
--
-- And claim_runs (and the take of released dependents, _release) yielded to
-- "available" jobs nobody could fetch, waiting in a named queue whose lock
-- was held: a killed worker holding a serial queue's lock stopped every
-- claim of runs with a higher priority value until it was released.

alter table rowflow.step_runs add column lost_attempts smallint not null default 0;
comment on column rowflow.step_runs.lost_attempts is
  'Attempts of this step lost with their worker or its connection (error kind worker_lost). Each one also raised max_attempts by one, so lost attempts do not use up the step''s attempts; the third one fails the step as poison (RF_POISON).';

alter table rowflow.workers add column lock_key int;
comment on column rowflow.workers.lock_key is
  'The key (class 1380349803, this value) of the session advisory lock the worker holds on a connection of its own; free lock = the worker''s connection closed = dead. Null: liveness by heartbeat only.';

-- from sql/schema/60_gate/_release.sql
create or replace function rowflow._release(done rowflow.done_step[], takes int[], worker_id text, now timestamptz,
  key bytea)
returns setof rowflow.released_step
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
  v_frontier rowflow.done_step[] := _release.done;
  v_takes int[] := coalesce(_release.takes, '{}');
  v_can_take boolean;
  v_yield int;
  v_yield_known boolean := false;
  v_dec rowflow.released_step[];
  v_rows rowflow.released_step[];
  v_all rowflow.released_step[] := '{}';
  v_queues text[];
  v_seq regclass := pg_catalog.pg_get_serial_sequence('graphile_worker._private_jobs', 'id')::regclass;
  v_woke int;
begin
  while coalesce(cardinality(v_frontier), 0) > 0 loop
    -- The lowest priority value waiting elsewhere, looked up once (jobs in a
    -- locked named queue do not count: nobody can fetch them; claim_runs.sql).
    v_can_take := _release.worker_id is not null and exists (select 1 from unnest(v_takes) as t where t > 0);
    if v_can_take and not v_yield_known then
      v_yield := least(
        (select r.priority from rowflow.runs as r
         where r.status = 'queued'
           and not exists (select 1 from rowflow.workflows as w where w.name = r.workflow and w.paused)
         order by r.priority limit 1),
        (select j.priority from graphile_worker._private_jobs as j
         where j.is_available = true and j.run_at <= _release.now
           and (j.job_queue_id is null
                or exists (select 1 from graphile_worker._private_job_queues as q
                           where q.id = j.job_queue_id and q.is_available))
         order by j.priority limit 1));
      v_yield_known := true;
    end if;

    -- PHASE 1: decide. One row per dependent of the frontier not decided
    -- yet; `context` carries what the writes need.
    select coalesce(array_agg(row(z.origin, z.run_id, z.name,
             case
               when z.decision <> 'ready' then z.decision
               when z.eligible and z.rn <= coalesce(v_takes[z.origin], 0) then 'running'
               else 'queued'
             end,
             pg_catalog.jsonb_build_object('remaining', z.remaining, 'existed', z.existed, 'attempts', z.attempts,
               'queue', z.queue, 'runAt', _release.now + coalesce(z.delay, interval '0'), 'priority', z.eff_priority,
               'if', z.if_path::text,
               'context', case when z.eligible and z.rn <= coalesce(v_takes[z.origin], 0) then
                 rowflow._context(z.run_id, z.name, 'step', 1, z.attempts, z.task, z.workflow, z.version, z.input,
                                  z.deps, z.timeout, null, rowflow._lease(_release.key, z.run_id, z.name, 1)) end)
           )::rowflow.released_step order by z.run_id, z.name), '{}')
    into v_dec
    from (
      select y.*,
        row_number() over (partition by y.origin, y.eligible order by y.eff_priority, y.run_id, y.name) as rn
      from (
        select x.*, q.queue,
          (v_can_take and x.decision = 'ready' and q.queue is null
           and coalesce(x.delay, interval '0') <= interval '0'
           and (v_yield is null or x.eff_priority <= v_yield)) as eligible
        from (
          select d.origin, d.run_id, d.name, ws.task, ws.attempts, ws.delay, ws.timeout, ws.queue_name,
            ws.queue_key, ws.if_path, r.workflow, r.version, r.input,
            greatest(-32768, least(32767, ws.priority + r.priority)) as eff_priority,
            sr.step is not null as existed,
            coalesce(sr.deps_remaining, ws.n_deps) - d.n as remaining,
            dp.deps,
            case
              when coalesce(sr.deps_remaining, ws.n_deps) - d.n > 0 then 'pending'
              when ws.if_path is null then 'ready'
              when coalesce(jsonb_path_match(pg_catalog.jsonb_build_object('input', r.input, 'steps', dp.deps),
                                             ws.if_path, '{}', true), false) then 'ready'
              else 'skipped'
            end as decision
          from (
            select f.run_id, dep.name, count(*)::int as n, max(f.origin) as origin
            from unnest(v_frontier) as f(run_id, step, origin)
            join rowflow.runs as fr on fr.id = f.run_id
            join rowflow.workflow_steps as fs
              on fs.workflow = fr.workflow and fs.version = fr.version and fs.name = f.step
            cross join unnest(fs.dependents) as dep(name)
            group by f.run_id, dep.name
          ) as d
          join rowflow.runs as r on r.id = d.run_id
          join rowflow.workflow_steps as ws on ws.workflow = r.workflow and ws.version = r.version and ws.name = d.name
          left join rowflow.step_runs as sr on sr.run_id = d.run_id and sr.step = d.name
          cross join lateral (
            select case when coalesce(sr.deps_remaining, ws.n_deps) - d.n = 0 then
              (select coalesce(pg_catalog.jsonb_object_agg(o.step, o.output), '{}'::jsonb)
               from rowflow.step_runs as o where o.run_id = d.run_id and o.step = any (ws.depends_on)) end as deps
          ) as dp
          -- A row that exists and is no longer pending was decided already.
          where sr.step is null or (sr.kind = 'step' and sr.status = 'pending')
        ) as x
        cross join lateral (
          select case when x.decision = 'ready' and x.queue_name is not null then
            rowflow._queue_name(x.queue_name, x.queue_key,
                                pg_catalog.jsonb_build_object('input', x.input, 'steps', x.deps)) end as queue
        ) as q
      ) as y
    ) as z;

    exit when cardinality(v_dec) = 0;

    -- PHASE 2: named queues must exist before their jobs reference them.
    v_queues := array(select distinct (d.context ->> 'queue') from unnest(v_dec) as d
                      where d.status = 'queued' and d.context ->> 'queue' is not null);
    if cardinality(v_queues) > 0 then
      insert into graphile_worker._private_job_queues as q (queue_name)
      select unnest(v_queues) order by 1
      on conflict do nothing;
    end if;

    -- PHASE 3: jobs for the queued ones, rows (leased for the taken ones), events.
    with w as (
      -- Job ids drawn here, not matched back from the insert (see claim_runs).
      select d.*, case when d.status = 'queued' then pg_catalog.nextval(v_seq) end as job_id
      from unnest(v_dec) as d
    ), jobs as (
      insert into graphile_worker._private_jobs as j
        (id, job_queue_id, task_id, payload, run_at, max_attempts, priority)
      overriding system value
      select
        w.job_id,
        case when w.context ->> 'queue' is not null then
          (select q.id from graphile_worker._private_job_queues as q where q.queue_name = w.context ->> 'queue') end,
        (select t.id from graphile_worker._private_tasks as t where t.identifier = 'rowflow:step'),
        pg_catalog.json_build_object('run', w.run_id, 'step', w.step, 'attempt', 1),
        (w.context ->> 'runAt')::timestamptz, 25, (w.context ->> 'priority')::int
      from w where w.status = 'queued'
      order by w.job_id
    ), upd as (
      update rowflow.step_runs as sr
      set deps_remaining = (w.context ->> 'remaining')::int, status = w.status,
          attempt = case when w.status in ('queued', 'running') then 1 else 0 end,
          queued_at = case when w.status in ('queued', 'running') then _release.now end,
          started_at = case when w.status = 'running' then _release.now end,
          finished_at = case when w.status = 'skipped' then _release.now end,
          job_id = w.job_id,
          locked_by = case when w.status = 'running' then _release.worker_id end
      from w
      where (w.context ->> 'existed')::boolean and sr.run_id = w.run_id and sr.step = w.step
    ), ins as (
      insert into rowflow.step_runs (run_id, step, kind, status, deps_remaining, attempt, max_attempts,
                                     created_at, queued_at, started_at, finished_at, job_id, locked_by)
      select w.run_id, w.step, 'step', w.status, (w.context ->> 'remaining')::int,
             case when w.status in ('queued', 'running') then 1 else 0 end, (w.context ->> 'attempts')::int,
             _release.now, case when w.status in ('queued', 'running') then _release.now end,
             case when w.status = 'running' then _release.now end,
             case when w.status = 'skipped' then _release.now end, w.job_id,
             case when w.status = 'running' then _release.worker_id end
      from w where not (w.context ->> 'existed')::boolean
      order by w.run_id, w.step
    ), ev as (
      insert into rowflow.events (run_id, step, type, data, at)
      select w.run_id, w.step, 'step_skipped', pg_catalog.jsonb_build_object('if', w.context ->> 'if'), _release.now
      from w where w.status = 'skipped'
      order by w.run_id, w.step
    )
    select coalesce(array_agg(row(w.origin, w.run_id, w.step, w.status,
             case when w.status = 'running' then
               (w.context -> 'context') || pg_catalog.jsonb_build_object('priority', (w.context ->> 'priority')::int) end
           )::rowflow.released_step order by w.run_id, w.step), '{}')
    into v_rows
    from w;

    v_all := v_all || v_rows;
    -- Takes used by this round; skipped steps are the next frontier.
    v_takes := array(
      select greatest(0, coalesce(v_takes[i], 0) - (select count(*) from unnest(v_rows) as x
                                                    where x.origin = i and x.status = 'running'))::int
      from pg_catalog.generate_series(1, coalesce(cardinality(v_takes), 0)) as i
      order by i);
    v_frontier := array(select row(x.run_id, x.step, x.origin)::rowflow.done_step
                        from unnest(v_rows) as x where x.status = 'skipped' order by x.run_id, x.step);
  end loop;

  if exists (select 1 from unnest(v_all) as x where x.status = 'queued') then
    v_woke := rowflow._wake_all((select count(*)::int from unnest(v_all) as x where x.status = 'queued'), 0, null);
  end if;
  return query select * from unnest(v_all);
end;
$$;
comment on function rowflow._release(rowflow.done_step[], int[], text, timestamptz, bytea) is
  'Internal: releases dependents of succeeded/skipped steps of many runs (conditions, queues, delays); hands up to takes[origin] of them to worker_id.';
select rowflow._allow('function rowflow._release(rowflow.done_step[], int[], text, timestamptz, bytea)', '{}');

-- from sql/schema/60_gate/claim_runs.sql
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
    -- broken restore) fails here, RF025, instead of running forever.
    update rowflow.runs as r
    set status = case when c.known then 'running' else 'failed' end, started_at = v_now, updated_at = v_now,
        finished_at = case when c.known then null else v_now end,
        error = case when c.known then null else pg_catalog.jsonb_build_object('code', 'RF025',
                  'message', pg_catalog.format('workflow %s has no version %s', r.workflow, r.version)) end
    from c where r.id = c.id
    returning r.id, r.workflow, r.version, r.input, r.priority, r.status, r.error
  ), bad as (
    insert into rowflow.events (run_id, type, data, at)
    select u.id, 'run_failed', pg_catalog.jsonb_build_object('error', u.error), v_now
    from u where u.status = 'failed'
  ), s as (
    select u.id as run_id, u.workflow, u.version, u.input, ws.name as step, ws.task, ws.attempts, ws.delay,
      ws.timeout, ws.if_path, ws.n_deps, ws.n_deps = 0 as root,
      greatest(-32768, least(32767, ws.priority + u.priority)) as priority, q.queue, g.go,
      (ws.n_deps = 0 and g.go and q.queue is null and coalesce(ws.delay, interval '0') <= interval '0') as eligible,
      u.priority as run_priority
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
      (select t.id from graphile_worker._private_tasks as t where t.identifier = 'rowflow:step'),
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
           'lease', rowflow._lease(_claim.key, p.run_id, p.step, 1))
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

-- from sql/schema/60_gate/complete_steps.sql
create or replace function rowflow.complete_steps(
  run_ids bigint[], steps text[], attempts int[], outputs jsonb[],
  takes int[] default null, worker_id text default null, now timestamptz default null,
  claim boolean default false, reserve int default 0,
  next_run_ids bigint[] default null, next_steps text[] default null, next_attempts int[] default null,
  leases text[] default null, worker_token text default null)
returns setof jsonb
language plpgsql
security definer
set search_path to ''
set plan_cache_mode to force_generic_plan
set enable_seqscan to off
set enable_hashjoin to off
set enable_mergejoin to off
set jit to off
as $$
#variable_conflict use_column
declare
  v_now timestamptz := coalesce(complete_steps.now, pg_catalog.statement_timestamp());
  v_n int := coalesce(cardinality(complete_steps.run_ids), 0);
  v_worker text := complete_steps.worker_id;
  v_takes int[];
  v_reserve int := case when complete_steps.worker_id is null then 0 else greatest(coalesce(complete_steps.reserve, 0), 0) end;
  v_next_os int[];
  v_done record;
  v_plan record;
  v_yield int;
  v_job_ids bigint[] := '{}';
  v_job_runs bigint[] := '{}';
  v_job_steps text[] := '{}';
  v_taken text[] := '{}';
  v_reserved text[] := '{}';
  v_left int[];
  v_rel rowflow.released_step[] := '{}';
  v_open bigint[];
  v_run rowflow.runs;
  v_next text;
  v_chained jsonb := '{}';
  v_status jsonb := '{}';
  v_begun jsonb := '{}';
  v_claimed jsonb;
  v_claimed_taken jsonb;
  v_claim_i int;
  v_refusals jsonb;
  v_queued int := 0;
  v_by_call jsonb;
  v_answer jsonb;
  v_i int;
  v_woke int;
  v_key bytea;
  v_trusted boolean;
  v_limit int := coalesce(nullif(pg_catalog.current_setting('rowflow.max_output_bytes', true), '')::int, 1048576);
begin
  -- GUARD: a worker; one value per call in every array; the worker's token
  -- when it takes or reserves steps.
  perform rowflow._require('{worker}');
  if coalesce(cardinality(complete_steps.steps), 0) <> v_n
     or coalesce(cardinality(complete_steps.attempts), 0) <> v_n
     or coalesce(cardinality(complete_steps.outputs), v_n) <> v_n
     or coalesce(cardinality(complete_steps.takes), v_n) <> v_n
     or coalesce(cardinality(complete_steps.next_run_ids), v_n) <> v_n
     or coalesce(cardinality(complete_steps.next_steps), v_n) <> v_n
     or coalesce(cardinality(complete_steps.next_attempts), v_n) <> v_n
     or coalesce(cardinality(complete_steps.leases), v_n) <> v_n then
    raise exception 'complete_steps: every array argument must have one value per call' using errcode = '22023';
  end if;
  if v_n = 0 then
    return;
  end if;
  if v_worker is not null then
    perform rowflow._check_worker(v_worker, complete_steps.worker_token);
  end if;
  v_key := rowflow._secret();
  v_trusted := complete_steps.leases is null and rowflow._trusted();
  -- Simple expressions where they do (no statement to start): a take that
  -- is null or negative counts as 0 wherever takes are compared (> 0).
  v_takes := case when v_worker is null or complete_steps.takes is null then array_fill(0, array[v_n])
                  else complete_steps.takes end;
  v_next_os := '{}';
  if v_worker is not null and complete_steps.next_run_ids is not null then
    v_next_os := array(select i from pg_catalog.generate_series(1, v_n) as i
                       where complete_steps.next_run_ids[i] is not null);
  end if;

  -- PHASE 1: lock order: the runs (id order: completions' and next steps'),
  -- then step rows. The running attempts succeed and lose their leases.
  with l as (
    select r.id, r.status from rowflow.runs as r
    where r.id = any (complete_steps.run_ids || coalesce(complete_steps.next_run_ids, '{}'))
    order by r.id
    for no key update
  ), c as (
    -- Fenced: the call shows the attempt's lease token (a trusted session
    -- may omit every token). An output over the limit (rowflow.max_output_bytes,
    -- default 1 MiB of JSON text) is refused, so that the worker fails the step.
    select x.*,
      case when x.lease is null then v_trusted
           else x.lease = rowflow._lease(v_key, x.run_id, x.step, x.attempt) end as fenced,
      x.output is not null and pg_catalog.pg_column_size(x.output) > v_limit / 6
        and pg_catalog.octet_length(x.output::text) > v_limit as too_big
    from unnest(complete_steps.run_ids, complete_steps.steps, complete_steps.attempts, complete_steps.outputs,
                coalesce(complete_steps.leases, array_fill(null::text, array[v_n])))
         with ordinality as x(run_id, step, attempt, output, lease, o)
  ), u as (
    update rowflow.step_runs as sr
    set status = 'succeeded', output = c.output, finished_at = v_now, locked_by = null
    from c join l on l.id = c.run_id and l.status in ('running', 'compensating')
    where sr.run_id = c.run_id and sr.step = c.step and sr.attempt = c.attempt and sr.status = 'running'
      and c.fenced and not c.too_big
    returning c.o, sr.run_id, sr.step, sr.kind
  )
  select coalesce(array_agg(u.o::int order by u.o), '{}') as os,
         coalesce(array_agg(row(u.run_id, u.step, u.o)::rowflow.done_step order by u.run_id, u.step)
                  filter (where u.kind = 'step'), '{}') as steps,
         coalesce(array_agg(distinct u.run_id) filter (where u.kind <> 'step'), '{}') as chain_runs,
         coalesce(array_agg(distinct u.run_id), '{}') as runs,
         (select pg_catalog.jsonb_object_agg(l.id::text, l.status) from l) as run_status,
         (select pg_catalog.jsonb_object_agg(c.o::text, case when not c.fenced
             then '{"ok": false, "reason": "not_lease_holder"}'::jsonb
             else pg_catalog.jsonb_build_object('ok', false, 'reason', 'output_too_large',
                    'bytes', pg_catalog.octet_length(c.output::text), 'limit', v_limit) end)
          from c where not c.fenced or c.too_big) as unfenced,
         -- Who waits for a NOTIFY (sql/schema/20_tables/31_waiters.sql):
         -- usually nobody, and then no _wake_all call at the end.
         (select pg_catalog.array_agg(w.channel) from rowflow.waiters as w
          where w.channel in ('jobs:insert', 'rowflow') and w.until > pg_catalog.statement_timestamp()) as waiting
  into v_done
  from u;

  -- PHASE 2: release dependents. The plan: each dependent of a completed
  -- step, its counter after this batch, and whether the fast path applies.
  v_left := v_takes;
  if cardinality(v_done.steps) > 0 then
    select coalesce(bool_and(x.plain), true) as plain,
           coalesce(array_agg(x.run_id::text || ':' || x.name order by x.eff_priority, x.origin, x.run_id, x.name)
                    filter (where x.remaining = 0), '{}') as ready,
           coalesce(array_agg(x.origin order by x.eff_priority, x.origin, x.run_id, x.name)
                    filter (where x.remaining = 0), '{}') as ready_origin,
           coalesce(array_agg(x.eff_priority order by x.eff_priority, x.origin, x.run_id, x.name)
                    filter (where x.remaining = 0), '{}') as ready_priority,
           coalesce(array_agg(row(x.origin, x.run_id, x.name, x.n)::rowflow.dependent
                              order by x.run_id, x.name), '{}') as deps,
           max(x.eff_priority) filter (where x.remaining = 0) as worst
    into v_plan
    from (
      select d.origin, d.run_id, d.name, d.n,
        sr.step is not null and sr.kind = 'step' and ws.if_path is null and ws.queue_name is null
          and coalesce(ws.delay, interval '0') <= interval '0' as plain,
        coalesce(sr.deps_remaining, ws.n_deps) - d.n as remaining,
        greatest(-32768, least(32767, ws.priority + r.priority)) as eff_priority
      from (
        select f.run_id, dep.name, count(*)::int as n, max(f.origin) as origin
        from unnest(v_done.steps) as f(run_id, step, origin)
        join rowflow.runs as fr on fr.id = f.run_id
        join rowflow.workflow_steps as fs on fs.workflow = fr.workflow and fs.version = fr.version and fs.name = f.step
        cross join unnest(fs.dependents) as dep(name)
        group by f.run_id, dep.name
      ) as d
      join rowflow.runs as r on r.id = d.run_id
      join rowflow.workflow_steps as ws on ws.workflow = r.workflow and ws.version = r.version and ws.name = d.name
      left join rowflow.step_runs as sr on sr.run_id = d.run_id and sr.step = d.name
      where sr.step is null or (sr.kind = 'step' and sr.status = 'pending')
    ) as x;

    if v_plan.plain then
      -- Who runs the ready ones: call i's slots (takes[i]), this worker's
      -- local queue (reserve), or graphile (a job). Not this worker while
      -- something with a lower priority value waits (that some worker can
      -- fetch: not in a locked named queue, see claim_runs.sql).
      if cardinality(v_plan.ready) > 0 and v_worker is not null
         and (v_reserve > 0 or 0 < any (v_takes)) then
        -- Only what beats the worst ready priority matters: bounded index
        -- scans, which stop at the first page past the bound (claimed runs
        -- leave dead entries at the start of runs_queued_idx until vacuum).
        v_yield := least(
          (select r.priority from rowflow.runs as r
           where r.status = 'queued' and r.priority < v_plan.worst
             and not exists (select 1 from rowflow.workflows as w where w.name = r.workflow and w.paused)
           order by r.priority limit 1),
          (select j.priority from graphile_worker._private_jobs as j
           where j.is_available = true and j.run_at <= v_now and j.priority < v_plan.worst
             and (j.job_queue_id is null
                  or exists (select 1 from graphile_worker._private_job_queues as q
                             where q.id = j.job_queue_id and q.is_available))
           order by j.priority limit 1));
        for v_i in 1 .. cardinality(v_plan.ready) loop
          exit when v_yield is not null and v_plan.ready_priority[v_i] > v_yield;
          if v_left[v_plan.ready_origin[v_i]] > 0 then
            v_taken := v_taken || v_plan.ready[v_i];
            v_left[v_plan.ready_origin[v_i]] := v_left[v_plan.ready_origin[v_i]] - 1;
          elsif v_reserve > 0 then
            v_reserved := v_reserved || v_plan.ready[v_i];
            v_reserve := v_reserve - 1;
          end if;
        end loop;
      end if;
      -- Jobs for the ready ones graphile runs (none when this worker takes
      -- or reserves them all: no INSERT to start).
      if cardinality(v_plan.ready) > cardinality(v_taken) + cardinality(v_reserved) then
        with j as (
        insert into graphile_worker._private_jobs as j (job_queue_id, task_id, payload, run_at, max_attempts, priority)
        select null,
               (select t.id from graphile_worker._private_tasks as t where t.identifier = 'rowflow:step'),
               pg_catalog.json_build_object('run', k.run_id, 'step', k.name, 'attempt', 1),
               v_now, 25, greatest(-32768, least(32767, ws.priority + r.priority))
        from (
          select split_part(x.k, ':', 1)::bigint as run_id, substr(x.k, strpos(x.k, ':') + 1) as name
          from unnest(v_plan.ready) as x(k)
          where not x.k = any (v_taken) and not x.k = any (v_reserved)
        ) as k
        join rowflow.runs as r on r.id = k.run_id
        join rowflow.workflow_steps as ws on ws.workflow = r.workflow and ws.version = r.version and ws.name = k.name
        order by k.run_id, k.name
        returning j.id, (j.payload ->> 'run')::bigint as run_id, j.payload ->> 'step' as step
        )
        select pg_catalog.array_agg(j.id), pg_catalog.array_agg(j.run_id), pg_catalog.array_agg(j.step)
        into v_job_ids, v_job_runs, v_job_steps
        from j;
      end if;
      -- One statement: every dependent's row updated (leased when taken or
      -- reserved, with its job otherwise), and what the answers need.
      with d as (
        select * from unnest(v_plan.deps) as d(origin, run_id, name, n)
      ), j as (
        select * from unnest(v_job_ids, v_job_runs, v_job_steps) as j(id, run_id, step)
      ), u as (
        update rowflow.step_runs as sr
        set deps_remaining = sr.deps_remaining - d.n,
            status = case when sr.deps_remaining > d.n then 'pending'
                          when (sr.run_id::text || ':' || sr.step) = any (v_taken) then 'running'
                          else 'queued' end,
            attempt = case when sr.deps_remaining > d.n then 0 else 1 end,
            queued_at = case when sr.deps_remaining = d.n then v_now end,
            started_at = case when (sr.run_id::text || ':' || sr.step) = any (v_taken) then v_now end,
            job_id = j.id,
            locked_by = case when sr.deps_remaining = d.n
                              and ((sr.run_id::text || ':' || sr.step) = any (v_taken)
                                   or (sr.run_id::text || ':' || sr.step) = any (v_reserved)) then v_worker end
        from d left join j on j.run_id = d.run_id and j.step = d.name
        where sr.run_id = d.run_id and sr.step = d.name and sr.status = 'pending'
        returning d.origin, sr.run_id, sr.step, sr.status, sr.locked_by, sr.max_attempts
      )
      select coalesce(array_agg(row(u.origin, u.run_id, u.step,
               case when u.status = 'queued' and u.locked_by is not null then 'reserved' else u.status end,
               case when u.status = 'running' then pg_catalog.jsonb_build_object(
                 'ok', true, 'runId', u.run_id::text, 'step', u.step, 'task', ws.task,
                 'workflow', r.workflow, 'version', r.version, 'input', r.input,
                 'deps', (select coalesce(pg_catalog.jsonb_object_agg(o.step, o.output), '{}'::jsonb)
                          from rowflow.step_runs as o where o.run_id = u.run_id and o.step = any (ws.depends_on)),
                 'attempt', 1, 'maxAttempts', u.max_attempts,
                 'timeoutMs', (extract(epoch from ws.timeout) * 1000)::bigint,
                 'idempotencyKey', 'rowflow:' || u.run_id || ':' || u.step,
                 'kind', 'step', 'runError', null,
                 'priority', greatest(-32768, least(32767, ws.priority + r.priority)),
                 'lease', rowflow._lease(v_key, u.run_id, u.step, 1))
                    when u.status = 'queued' and u.locked_by is not null then pg_catalog.jsonb_build_object(
                 'runId', u.run_id::text, 'step', u.step, 'attempt', 1,
                 'priority', greatest(-32768, least(32767, ws.priority + r.priority))) end
             )::rowflow.released_step order by u.run_id, u.step), '{}'),
             count(*) filter (where u.status = 'queued' and u.locked_by is null)::int
      into v_rel, v_queued
      from u
      join rowflow.runs as r on r.id = u.run_id
      join rowflow.workflow_steps as ws on ws.workflow = r.workflow and ws.version = r.version and ws.name = u.step;
    else
      -- The general path: conditions, queues, delays, rows to create.
      v_rel := array(select rowflow._release(v_done.steps, v_takes, v_worker, v_now, v_key));
      v_left := array(select greatest(0, t.n - (select count(*) from unnest(v_rel) as x
                                                where x.origin = t.o and x.status = 'running'))::int
                      from unnest(v_takes) with ordinality as t(n, o) order by t.o);
    end if;
  end if;
  -- Runs that go on: a dependent of theirs is pending, queued or running now.
  v_open := array(select distinct x.run_id from unnest(v_rel) as x where x.status <> 'skipped');

  -- PHASE 3: the next link of compensation / on-failure chains (rare).
  if cardinality(v_done.chain_runs) > 0 then
    for v_run in select r.* from rowflow.runs as r where r.id = any (v_done.chain_runs) order by r.id loop
      v_next := rowflow._advance_chain_step(v_run, v_now);
      if v_next is not null then
        v_chained := v_chained || pg_catalog.jsonb_build_object(v_run.id::text, v_next);
        v_open := v_open || v_run.id;
      end if;
    end loop;
  end if;

  -- PHASE 4: finish the runs left with nothing open: a running one
  -- succeeds when no step row of it is pending, queued or running (every
  -- step has a row then: a finished step gave each dependent one); a
  -- compensating one takes _finish_runs (the chain's results).
  if exists (select 1 from unnest(v_done.runs) as x where not x = any (v_open)) then
    with f as (
      update rowflow.runs as r
      set status = 'succeeded', updated_at = v_now, finished_at = v_now
      where r.id = any (array(select x from unnest(v_done.runs) as x where not x = any (v_open)))
        and r.status = 'running'
        and not exists (select 1 from rowflow.step_runs as sr
                        where sr.run_id = r.id and sr.status in ('pending', 'queued', 'running'))
      returning r.id
    )
    select coalesce(pg_catalog.jsonb_object_agg(f.id::text, 'succeeded'), '{}') into v_status from f;
    if exists (select 1 from unnest(v_done.runs) as x where not x = any (v_open)
               and v_done.run_status ->> x::text = 'compensating') then
      select v_status || coalesce(pg_catalog.jsonb_object_agg(f.run_id::text, f.status), '{}') into v_status
      from rowflow._finish_runs(array(select x from unnest(v_done.runs) as x
                                      where not x = any (v_open)
                                        and v_done.run_status ->> x::text = 'compensating'), v_now) as f;
    end if;
  end if;

  -- PHASE 5: a call's slot that took no dependent runs its reserved next
  -- step (a slot that did keeps the next step queued: the worker puts it
  -- back).
  if cardinality(v_next_os) > 0 then
    v_next_os := array(select i from unnest(v_next_os) as i where v_left[i] > 0 order by i);
  end if;
  if cardinality(v_next_os) > 0 then
    v_begun := rowflow._begin(
      array(select complete_steps.next_run_ids[i] from unnest(v_next_os) as i),
      array(select complete_steps.next_steps[i] from unnest(v_next_os) as i),
      array(select complete_steps.next_attempts[i] from unnest(v_next_os) as i),
      v_next_os, v_worker, v_now, true, v_key);
    foreach v_i in array v_next_os loop
      if (v_begun -> (v_i::text) ->> 'ok')::boolean then
        v_left[v_i] := v_left[v_i] - 1;
      end if;
    end loop;
  end if;

  -- PHASE 6: slots left over claim queued runs.
  if complete_steps.claim and v_worker is not null and 0 < any (v_left) then
    v_claimed := rowflow._claim(v_worker, (select sum(t)::int from unnest(v_left) as t),
                                (select sum(t)::int from unnest(v_left) as t), v_now, v_key);
  end if;

  -- PHASE 7: answers in call order, assembled in plpgsql (no statement per
  -- call): what the release decided, grouped by call; claimed root steps
  -- fill the calls' leftover slots in call order.
  if cardinality(v_done.os) < v_n then
    select coalesce(v_done.unfenced, '{}'::jsonb)
           || coalesce(pg_catalog.jsonb_object_agg(f.o::text, f.refusal) filter (where not coalesce(v_done.unfenced, '{}'::jsonb) ? f.o::text), '{}')
    into v_refusals
    from rowflow._refusals(
      array(select c.run_id from unnest(complete_steps.run_ids) with ordinality as c(run_id, o)
            where not c.o = any (v_done.os) order by c.o),
      array(select c.step from unnest(complete_steps.steps) with ordinality as c(step, o)
            where not c.o = any (v_done.os) order by c.o),
      array(select c.attempt from unnest(complete_steps.attempts) with ordinality as c(attempt, o)
            where not c.o = any (v_done.os) order by c.o),
      array(select i from pg_catalog.generate_series(1, v_n) as i where not i = any (v_done.os) order by i),
      array['running']) as f;
  end if;
  if cardinality(v_rel) > 0 then
    select pg_catalog.jsonb_object_agg(g.origin::text, g.answer) into v_by_call
    from (
      select x.origin, pg_catalog.jsonb_build_object(
        'released', coalesce(pg_catalog.jsonb_agg(x.step order by x.step)
                               filter (where x.status in ('queued', 'running', 'reserved')), '[]'::jsonb),
        'skipped', coalesce(pg_catalog.jsonb_agg(x.step order by x.step) filter (where x.status = 'skipped'), '[]'::jsonb),
        'taken', coalesce(pg_catalog.jsonb_agg(x.context order by x.run_id, x.step)
                            filter (where x.status = 'running'), '[]'::jsonb),
        'reserved', coalesce(pg_catalog.jsonb_agg(x.context order by x.run_id, x.step)
                               filter (where x.status = 'reserved'), '[]'::jsonb)) as answer
      from unnest(v_rel) as x
      group by x.origin
    ) as g;
  end if;
  if 'rowflow' = any (v_done.waiting) or (v_queued > 0 and 'jobs:insert' = any (v_done.waiting)) then
    v_woke := rowflow._wake_all(v_queued, 0,
      case when cardinality(v_done.runs) = 1 then pg_catalog.jsonb_build_object('run', v_done.runs[1])
           else pg_catalog.jsonb_build_object('runs', cardinality(v_done.runs)) end);
  end if;
  v_claimed_taken := coalesce(v_claimed -> 'taken', '[]'::jsonb);
  v_claim_i := 0;
  for v_i in 1 .. v_n loop
    v_answer := coalesce(v_by_call -> (v_i::text), '{"released": [], "skipped": [], "taken": [], "reserved": []}'::jsonb);
    -- The reserved step begun for this call's slot goes first.
    if (v_begun -> (v_i::text) ->> 'ok')::boolean then
      v_answer := pg_catalog.jsonb_set(v_answer, '{taken}',
                                       pg_catalog.jsonb_build_array(v_begun -> (v_i::text)) || (v_answer -> 'taken'));
    end if;
    if v_left[v_i] > 0 and v_claim_i < pg_catalog.jsonb_array_length(v_claimed_taken) then
      v_answer := pg_catalog.jsonb_set(v_answer, '{taken}', (v_answer -> 'taken')
        || coalesce((select pg_catalog.jsonb_agg(e) from pg_catalog.jsonb_array_elements(v_claimed_taken)
                     with ordinality as t(e, k) where t.k > v_claim_i and t.k <= v_claim_i + v_left[v_i]), '[]'::jsonb));
      v_claim_i := v_claim_i + v_left[v_i];
    end if;
    if v_i = any (v_done.os) then
      v_answer := v_answer || pg_catalog.jsonb_build_object('ok', true, 'runStatus',
        coalesce(v_status ->> complete_steps.run_ids[v_i]::text, v_done.run_status ->> complete_steps.run_ids[v_i]::text));
      if v_chained ? complete_steps.run_ids[v_i]::text and pg_catalog.jsonb_array_length(v_answer -> 'released') = 0 then
        v_answer := pg_catalog.jsonb_set(v_answer, '{released}',
                                         pg_catalog.jsonb_build_array(v_chained ->> complete_steps.run_ids[v_i]::text));
      end if;
    else
      v_answer := (v_refusals -> (v_i::text)) || (v_answer - 'released' - 'skipped');
    end if;
    if v_claimed is not null then
      v_answer := v_answer || pg_catalog.jsonb_build_object('claimedRuns', v_claimed -> 'runs');
    end if;
    return next v_answer;
  end loop;
end;
$$;
comment on function rowflow.complete_steps(bigint[], text[], int[], jsonb[], int[], text, timestamptz, boolean, int, bigint[], text[], int[], text[], text) is
  'Completes running step attempts (set-based; each with its lease token), releases dependents (taken, reserved or queued), begins reserved next steps, claims queued runs for leftover slots, finishes runs; one answer per call.';
select rowflow._allow('function rowflow.complete_steps(bigint[], text[], int[], jsonb[], int[], text, timestamptz, boolean, int, bigint[], text[], int[], text[], text)', '{worker}');

-- from sql/schema/60_gate/fail_step.sql
create or replace function rowflow._fail_attempt(run_id bigint, step text, attempt int, error jsonb,
  retryable boolean, retry_at timestamptz, now timestamptz)
returns jsonb
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_now timestamptz := coalesce(_fail_attempt.now, pg_catalog.statement_timestamp());
  v_run rowflow.runs;
  v_sr rowflow.step_runs;
  v_ws rowflow.workflow_steps;
  v_delay interval;
  v_retry_at timestamptz;
  v_ids bigint[];
  v_status text;
  v_error jsonb;
  v_chain int := 0;
  v_lost boolean := coalesce(_fail_attempt.error ->> 'kind', '') = 'worker_lost';
  v_error_in jsonb := _fail_attempt.error;
  v_retryable boolean := coalesce(_fail_attempt.retryable, true);
  v_max_lost constant int := 3;
begin
  -- GUARD: lock order run → step; only the running attempt may fail.
  select r.* into v_run from rowflow.runs as r where r.id = _fail_attempt.run_id for no key update;
  select sr.* into v_sr from rowflow.step_runs as sr
  where sr.run_id = _fail_attempt.run_id and sr.step = _fail_attempt.step
    and sr.status = 'running' and sr.attempt = _fail_attempt.attempt
    and v_run.status in ('running', 'compensating');
  if not found then
    return (select f.refusal from rowflow._refusals(array[_fail_attempt.run_id], array[_fail_attempt.step],
                                                    array[_fail_attempt.attempt], array[1], array['running']) as f);
  end if;
  -- The retry policy: the step's own; a compensation uses the policy of the
  -- step it undoes; on-failure uses the defaults.
  select ws.* into v_ws from rowflow.workflow_steps as ws
  where ws.workflow = v_run.workflow and ws.version = v_run.version
    and ws.name = case v_sr.kind when 'step' then v_sr.step
                                 when 'compensation' then substr(v_sr.step, length('compensate:') + 1) end;

  -- A lost attempt is retried at once without using up an attempt, up to
  -- the bound; the last one quarantines the step.
  if v_lost then
    if v_sr.lost_attempts + 1 >= v_max_lost then
      v_retryable := false;
      v_error_in := v_error_in || pg_catalog.jsonb_build_object('code', 'RF_POISON', 'poison', true,
        'lostAttempts', v_sr.lost_attempts + 1,
        'message', pg_catalog.format('step %s killed its worker %s times (the worker or its connection was lost during each attempt): quarantined, not retried; last: %s',
                                     v_sr.step, v_sr.lost_attempts + 1, _fail_attempt.error ->> 'message'));
    else
      update rowflow.step_runs as sr
      set max_attempts = sr.max_attempts + 1, lost_attempts = sr.lost_attempts + 1
      where sr.run_id = v_sr.run_id and sr.step = v_sr.step
      returning sr.* into v_sr;
      v_error_in := v_error_in || pg_catalog.jsonb_build_object('lostAttempts', v_sr.lost_attempts);
    end if;
  end if;

  -- PHASE 1: another attempt, if allowed (a new job).
  if v_retryable and v_sr.attempt < v_sr.max_attempts then
    v_delay := case when v_lost then interval '0' else case coalesce(v_ws.backoff_type, 'exponential')
      when 'fixed' then coalesce(v_ws.backoff_base, interval '1 second')
      else least(coalesce(v_ws.backoff_base, interval '1 second') * power(2, least(v_sr.attempt - 1, 40)),
                 coalesce(v_ws.backoff_max, interval '5 minutes'))
    end end;
    -- jitter j spreads the delay uniformly over [d·(1-j), d·(1+j)], capped at max.
    v_delay := least(v_delay * (1 - coalesce(v_ws.backoff_jitter, 0.2) * (2 * random() - 1)),
                     greatest(coalesce(v_ws.backoff_max, interval '5 minutes'), v_delay));
    v_retry_at := coalesce(_fail_attempt.retry_at, v_now + v_delay);
    v_ids := rowflow._add_step_jobs(array[row(v_sr.run_id, v_sr.step, v_sr.attempt + 1,
      rowflow._queue_name(v_ws.queue_name, v_ws.queue_key, jsonb_build_object('input', v_run.input,
        'steps', case when v_sr.kind = 'step' then rowflow._deps_outputs(v_sr.run_id, v_ws.depends_on) else '{}' end)),
      v_retry_at, coalesce(v_ws.priority, 0) + v_run.priority)::rowflow.step_job]);
    update rowflow.step_runs as sr
    set status = 'queued', attempt = sr.attempt + 1, error = v_error_in, job_id = v_ids[1], started_at = null,
        locked_by = null
    where sr.run_id = v_sr.run_id and sr.step = v_sr.step;
    insert into rowflow.events (run_id, step, type, attempt, data, at)
    values (v_sr.run_id, v_sr.step, 'step_retrying', v_sr.attempt,
            jsonb_build_object('error', v_error_in, 'retryAt', v_retry_at, 'nextAttempt', v_sr.attempt + 1,
                               'startedAt', v_sr.started_at), v_now);
    update rowflow.runs as r set updated_at = v_now where r.id = v_run.id;
    perform rowflow._notify(jsonb_build_object('run', v_run.id));
    return jsonb_build_object('ok', true, 'outcome', 'retrying', 'retryAt', v_retry_at,
                              'nextAttempt', v_sr.attempt + 1, 'runStatus', v_run.status);
  end if;

  -- PHASE 2: the step failed for good.
  update rowflow.step_runs as sr
  set status = 'failed', error = v_error_in, finished_at = v_now, locked_by = null
  where sr.run_id = v_sr.run_id and sr.step = v_sr.step;
  insert into rowflow.events (run_id, step, type, attempt, data, at)
  values (v_sr.run_id, v_sr.step, 'step_failed', v_sr.attempt,
          jsonb_build_object('error', v_error_in, 'retryable', v_retryable,
                             'startedAt', v_sr.started_at), v_now);
  v_status := v_run.status;
  v_error := v_run.error;

  if v_sr.kind = 'step' then
    -- PHASE 3: the run fails: cancel the other steps (those without a row
    -- too), then build the compensation chain (reverse completion order),
    -- on-failure last.
    perform rowflow._cancel_steps(v_run.id, array['step'], 'run failed', v_now);
    v_error := jsonb_build_object('step', v_sr.step, 'attempt', v_sr.attempt, 'error', v_error_in);
    v_chain := rowflow._build_chain(v_run, true, v_now);
    if v_chain > 0 then
      v_status := 'compensating';
      insert into rowflow.events (run_id, type, data, at)
      values (v_run.id, 'run_compensating', v_error, v_now);
    else
      v_status := 'failed';
      insert into rowflow.events (run_id, type, data, at)
      values (v_run.id, 'run_failed', v_error, v_now);
    end if;
    -- runs.status must be written before the chain helpers read it.
    update rowflow.runs as r set status = v_status, error = v_error, updated_at = v_now,
      finished_at = case when v_status = 'failed' then v_now end
    where r.id = v_run.id
    returning r.* into v_run;
  end if;

  -- PHASE 4: next link of the chain (first one, or the one after this failed
  -- compensation: the chain continues past a failed link), then finish.
  if v_status = 'compensating' then
    perform rowflow._advance_chain_step(v_run, v_now);
    select f.status into v_status from rowflow._finish_runs(array[v_run.id], v_now) as f;
  end if;
  perform rowflow._notify(jsonb_build_object('run', v_run.id));
  return jsonb_build_object('ok', true, 'outcome', 'failed', 'runStatus', v_status);
end;
$$;
select rowflow._allow('function rowflow._fail_attempt(bigint, text, int, jsonb, boolean, timestamptz, timestamptz)', '{}');

-- from sql/schema/70_workers/disconnected_workers.sql
create or replace function rowflow.disconnected_workers()
returns text[]
language plpgsql
security definer
set search_path to ''
as $$
begin
  perform rowflow._require('{worker,operator}');
  return coalesce((select array_agg(w.id order by w.id) from rowflow.workers as w
                   where w.lock_key is not null and pg_catalog.pg_try_advisory_xact_lock(1380349803, w.lock_key)),
                  '{}');
end;
$$;
comment on function rowflow.disconnected_workers() is
  'Ids of registered workers whose session advisory lock is free (their lock connection closed): dead, to be released by release_dead_workers. Changes nothing.';
select rowflow._allow('function rowflow.disconnected_workers()', '{worker,operator}');

-- from sql/schema/60_gate/fail_lost_attempt.sql
create or replace function rowflow.fail_lost_attempt(run_id bigint, step text, attempt int, worker_id text,
  now timestamptz default null)
returns jsonb
language plpgsql
security definer
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_sr rowflow.step_runs;
  v_deliveries int;
begin
  -- GUARD: a worker; the step running with that attempt; its job locked by worker_id.
  perform rowflow._require('{worker}');
  perform 1 from rowflow.runs as r where r.id = fail_lost_attempt.run_id for no key update;
  select sr.* into v_sr from rowflow.step_runs as sr
  where sr.run_id = fail_lost_attempt.run_id and sr.step = fail_lost_attempt.step
    and sr.status = 'running' and sr.attempt = fail_lost_attempt.attempt;
  if not found then
    return '{"ok": false, "reason": "not_running"}'::jsonb;
  end if;
  select j.attempts into v_deliveries from graphile_worker._private_jobs as j
  where j.id = v_sr.job_id and j.locked_by = fail_lost_attempt.worker_id;
  if not found and not rowflow._trusted() then
    return '{"ok": false, "reason": "not_lease_holder"}'::jsonb;
  end if;
  return rowflow._fail_attempt(fail_lost_attempt.run_id, fail_lost_attempt.step, fail_lost_attempt.attempt,
    pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
      'kind', 'worker_lost', 'code', 'RF_WORKER_LOST', 'workerId', fail_lost_attempt.worker_id,
      'message', pg_catalog.format('the worker running attempt %s stopped before recording an outcome%s',
                                   fail_lost_attempt.attempt,
                                   case when v_deliveries is not null
                                        then pg_catalog.format(' (job delivered %s times)', v_deliveries) else '' end))),
    true, null, fail_lost_attempt.now);
end;
$$;
comment on function rowflow.fail_lost_attempt(bigint, text, int, text, timestamptz) is
  'A re-delivered job''s attempt was lost with its worker: records it as lost (worker_lost) and retries it without using up an attempt. For the worker holding the job''s lock.';
select rowflow._allow('function rowflow.fail_lost_attempt(bigint, text, int, text, timestamptz)', '{worker}');

-- from sql/schema/70_workers/hold_worker_lock.sql
create or replace function rowflow.hold_worker_lock(id text, token text default null)
returns boolean
language plpgsql
security definer
set search_path to ''
as $$
declare
  v_key int := pg_catalog.hashtext(hold_worker_lock.id);
begin
  perform rowflow._require('{worker}');
  perform rowflow._check_worker(hold_worker_lock.id, hold_worker_lock.token);
  if not exists (select 1 from rowflow.workers as w where w.id = hold_worker_lock.id) then
    return false;
  end if;
  if not exists (select 1 from pg_catalog.pg_locks as l
                 where l.locktype = 'advisory' and l.pid = pg_catalog.pg_backend_pid() and l.granted
                   and l.classid = 1380349803::oid and l.objid = v_key::oid and l.objsubid = 2)
     and not pg_catalog.pg_try_advisory_lock(1380349803, v_key) then
    return false;
  end if;
  update rowflow.workers as w set lock_key = v_key
  where w.id = hold_worker_lock.id and w.lock_key is distinct from v_key;
  return true;
end;
$$;
comment on function rowflow.hold_worker_lock(text, text) is
  'Takes the worker''s session advisory lock on the calling connection and records it: the worker counts as dead as soon as that connection closes. Needs the worker''s token; false when the worker has no row or the key is held elsewhere.';
select rowflow._allow('function rowflow.hold_worker_lock(text, text)', '{worker}');

-- from sql/schema/70_workers/release_dead_workers.sql
create or replace function rowflow.release_dead_workers(timeout interval, now timestamptz default null)
returns text[]
language plpgsql
security definer
set search_path to ''
as $$
declare
  v_now timestamptz := coalesce(release_dead_workers.now, now());
  v_ids text[];
  v_orphans text[];
begin
  -- GUARD: a worker or an operator; a zero or negative timeout would
  -- release the jobs of live workers. (Any worker may call it: it only
  -- releases workers that stopped heartbeating.)
  perform rowflow._require('{worker,operator}');
  if release_dead_workers.timeout is null or release_dead_workers.timeout <= interval '0' then
    raise exception 'release_dead_workers: timeout must be a positive interval, got %',
      coalesce(release_dead_workers.timeout::text, 'null') using errcode = '22023';
  end if;

  -- PHASE 1: registered workers that stopped heartbeating, or whose lock is free.
  with dead as (
    delete from rowflow.workers as w
    where w.heartbeat_at < v_now - release_dead_workers.timeout
       or (w.lock_key is not null and pg_catalog.pg_try_advisory_xact_lock(1380349803, w.lock_key))
    returning w.id
  )
  select coalesce(array_agg(dead.id order by dead.id), '{}') into v_ids from dead;

  -- PHASE 2: holders of rowflow jobs or leases that never registered (or
  -- lost their row), with locks older than the timeout.
  select coalesce(array_agg(distinct x.holder), '{}') into v_orphans
  from (
    select j.locked_by as holder
    from graphile_worker._private_jobs as j
    join graphile_worker._private_tasks as t on t.id = j.task_id and t.identifier = 'rowflow:step'
    where j.locked_by is not null and j.locked_at < v_now - release_dead_workers.timeout
    union all
    select sr.locked_by
    from rowflow.step_runs as sr
    where sr.locked_by is not null and coalesce(sr.started_at, sr.queued_at) < v_now - release_dead_workers.timeout
  ) as x
  where not exists (select 1 from rowflow.workers as w where w.id = x.holder);

  v_ids := array(select distinct x from unnest(v_ids || v_orphans) as x order by x);
  if cardinality(v_ids) > 0 then
    perform rowflow._end_leases(v_ids, null, 'infinity', v_now);
    perform graphile_worker.force_unlock_workers(v_ids);
  end if;
  return v_ids;
end;
$$;
comment on function rowflow.release_dead_workers(interval, timestamptz) is
  'Deletes workers silent for longer than timeout and unlocks their graphile-worker jobs (and those of unregistered lockers); returns their ids.';
select rowflow._allow('function rowflow.release_dead_workers(interval, timestamptz)', '{worker,operator}');
