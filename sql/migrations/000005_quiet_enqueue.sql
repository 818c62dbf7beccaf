-- 000005_quiet_enqueue.sql — at most one NOTIFY per transaction, and none
-- when nobody waits for it (issue 5, item 3).
--
-- Why: Postgres serialises the commits of all transactions that queued a
-- NOTIFY (PreCommit_Notify takes one database-wide lock and holds it through
-- the commit's WAL flush). graphile_worker.add_jobs NOTIFYs 'jobs:insert' on
-- every call, and the engine's start_runs (000002) also NOTIFYs 'rowflow'.
-- With a table attachment every business INSERT would become a NOTIFYing
-- commit: measured on 2 cores with synchronous_commit on, 16 clients
-- inserting single rows ran at ~0.05x the bare table (see docs/triggers.md).
--
-- What:
-- * rowflow.waiters: who is waiting for a wake-up, per channel, with an
--   expiry. Workers mark themselves waiting when they run out of jobs
--   (rowflow.mark_waiting) and unmark when they get work; live views
--   (tail, dashboard) mark the 'rowflow' channel. A crashed waiter's row
--   expires (ttl), so it cannot make every commit NOTIFY forever.
-- * rowflow._wake(channel, payload): NOTIFYs once per transaction and
--   channel, and only if a live waiter exists. It reads rowflow.waiters
--   with a plain SELECT (no row lock, no write), and caches the answer for
--   the rest of the transaction.
-- * rowflow._enqueue(specs): graphile_worker.add_jobs (0.17.3, sql/000018)
--   without its NOTIFY, followed by _wake('jobs:insert', …). It writes
--   graphile-worker's private tables directly; the test
--   test/sql/attach/enqueue.test.ts compares its effect with add_jobs so a
--   graphile-worker upgrade that changes them fails loudly.
-- * rowflow.start_runs: replaced with the 000002 body, except PHASE 3, which
--   calls _enqueue and _wake instead of add_jobs and _notify, and generic
--   plans for batches of at most 64 inputs (the GUARD says why). New code
--   that queues jobs on a write path should call rowflow._enqueue too.
--
-- NOTIFY stays a latency hint (DESIGN.md invariant 5): graphile-worker polls
-- (rowflow's default pollInterval is 1 s), so a missed wake-up costs at most
-- one poll interval.

create table rowflow.waiters (
  id      text not null,
  channel text not null,
  until   timestamptz not null,
  primary key (channel, id),
  constraint channel_is_known check (channel in ('jobs:insert', 'rowflow')),
  constraint id_is_valid check (length(id) between 1 and 128)
);
comment on table rowflow.waiters is
  'Sessions waiting for a NOTIFY on channel (workers out of jobs: jobs:insert; live views: rowflow), until the expiry. Writers NOTIFY only when a row is live.';

create function rowflow.mark_waiting(
  id text, channel text default 'jobs:insert', ttl interval default '1 minute', now timestamptz default null)
returns void
language sql
set search_path to ''
as $$
  insert into rowflow.waiters as w (id, channel, until)
  values (mark_waiting.id, mark_waiting.channel,
          coalesce(mark_waiting.now, pg_catalog.now()) + coalesce(mark_waiting.ttl, interval '1 minute'))
  on conflict (channel, id) do update set until = excluded.until;
$$;
comment on function rowflow.mark_waiting(text, text, interval, timestamptz) is
  'Records that id waits for NOTIFYs on channel (jobs:insert or rowflow) for ttl; refresh before it expires (e.g. with the heartbeat).';

create function rowflow.unmark_waiting(id text, channel text default null)
returns void
language sql
set search_path to ''
as $$
  delete from rowflow.waiters as w
  where w.id = unmark_waiting.id and (unmark_waiting.channel is null or w.channel = unmark_waiting.channel);
$$;
comment on function rowflow.unmark_waiting(text, text) is
  'id no longer waits (on channel, or on every channel when null): it is busy, or shutting down.';

-- One NOTIFY per transaction and channel, only when a waiter is live. The
-- transaction-local flag rowflow.woke_jobs / rowflow.woke_rowflow holds
-- 'true' once sent and 'none' once no waiter was seen, so later calls in the
-- same transaction do not look again. On channel 'rowflow' a NOTIFY already
-- sent by the engine's _notify (flag rowflow.notified) counts as sent, and a
-- NOTIFY sent here sets that flag, so the two never both send.
create function rowflow._wake(channel text, payload text)
returns void
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_flag text := case _wake.channel when 'rowflow' then 'rowflow.woke_rowflow' else 'rowflow.woke_jobs' end;
begin
  if coalesce(pg_catalog.current_setting(v_flag, true), '') <> ''
     or (_wake.channel = 'rowflow' and coalesce(pg_catalog.current_setting('rowflow.notified', true), '') <> '') then
    return;
  end if;
  if exists (select 1 from rowflow.waiters as w
             where w.channel = _wake.channel and w.until > pg_catalog.statement_timestamp()) then
    perform pg_catalog.pg_notify(_wake.channel, _wake.payload);
    perform pg_catalog.set_config(v_flag, 'true', true);
    if _wake.channel = 'rowflow' then
      perform pg_catalog.set_config('rowflow.notified', 'true', true);
    end if;
  else
    perform pg_catalog.set_config(v_flag, 'none', true);
  end if;
end;
$$;

-- graphile_worker.add_jobs(specs, false) of graphile-worker 0.17.3 minus its
-- pg_notify, then a conditional wake-up carrying graphile-worker's payload
-- shape ({"count": n} nudges up to n idle workers).
create function rowflow._enqueue(specs graphile_worker.job_spec[])
returns void
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
begin
  -- GUARD: nothing to add.
  if coalesce(cardinality(_enqueue.specs), 0) = 0 then
    return;
  end if;
  -- PHASE 1: tasks and queues exist (no write when they already do).
  insert into graphile_worker._private_tasks as tasks (identifier)
  select distinct spec.identifier from unnest(_enqueue.specs) as spec
  on conflict do nothing;
  insert into graphile_worker._private_job_queues as job_queues (queue_name)
  select distinct spec.queue_name from unnest(_enqueue.specs) as spec
  where spec.queue_name is not null
  on conflict do nothing;
  -- PHASE 2: a locked job with the same key keeps running but loses its key
  -- (add_jobs' rule), then insert or replace.
  update graphile_worker._private_jobs as jobs
  set key = null, attempts = jobs.max_attempts, updated_at = pg_catalog.now()
  from unnest(_enqueue.specs) as spec
  where spec.job_key is not null and jobs.key = spec.job_key and jobs.is_available is not true;
  insert into graphile_worker._private_jobs as jobs
    (job_queue_id, task_id, payload, run_at, max_attempts, key, priority, flags)
  select job_queues.id, tasks.id, coalesce(spec.payload, '{}'::json), coalesce(spec.run_at, pg_catalog.now()),
         coalesce(spec.max_attempts, 25), spec.job_key, coalesce(spec.priority, 0),
         (select pg_catalog.jsonb_object_agg(flag, true) from unnest(spec.flags) as item(flag))
  from unnest(_enqueue.specs) as spec
  join graphile_worker._private_tasks as tasks on tasks.identifier = spec.identifier
  left join graphile_worker._private_job_queues as job_queues on job_queues.queue_name = spec.queue_name
  on conflict (key) do update set
    job_queue_id = excluded.job_queue_id,
    task_id = excluded.task_id,
    payload = case
      when pg_catalog.json_typeof(jobs.payload) = 'array' and pg_catalog.json_typeof(excluded.payload) = 'array'
        then (jobs.payload::jsonb || excluded.payload::jsonb)::json
      else excluded.payload end,
    max_attempts = excluded.max_attempts,
    run_at = excluded.run_at,
    priority = excluded.priority,
    revision = jobs.revision + 1,
    flags = excluded.flags,
    attempts = 0,
    last_error = null,
    updated_at = pg_catalog.now()
  where jobs.locked_at is null;
  -- PHASE 3: wake a waiting worker (at most once per transaction).
  perform rowflow._wake('jobs:insert', '{"count":' || cardinality(_enqueue.specs) || '}');
end;
$$;
comment on function rowflow._enqueue(graphile_worker.job_spec[]) is
  'Internal: graphile_worker.add_jobs without the unconditional NOTIFY; wakes workers only if one waits (rowflow.waiters).';

-- start_runs: the body of 000002 with PHASE 3 changed (enqueue and wake).
create or replace function rowflow.start_runs(
  workflow text,
  inputs jsonb[],
  idempotency_keys text[] default null,
  priority int default 0,
  now timestamptz default null)
returns setof bigint
language plpgsql
set search_path to ''
set plan_cache_mode to force_generic_plan
as $$
#variable_conflict use_column
declare
  v_now timestamptz := coalesce(start_runs.now, pg_catalog.now());
  v_wf rowflow.workflows;
  v_n int := coalesce(cardinality(start_runs.inputs), 0);
  v_nsteps int;
  v_ws record;
  v_ids bigint[];
  v_bad record;
  v_jobs graphile_worker.job_spec[];
  v_skips jsonb;
  v_created int;
  v_run record;
  v_rel record;
  v_left int;
begin
  -- GUARD: workflow, arguments, inputs.
  select w.* into v_wf from rowflow.workflows as w where w.name = start_runs.workflow;
  if not found then
    raise exception 'unknown workflow %; define it first with rowflow.define_workflow',
      coalesce(to_jsonb(left(start_runs.workflow, 100))::text, 'null') using errcode = 'RF020';
  end if;
  if v_wf.paused then
    raise exception 'workflow "%" is paused; resume it before starting runs', v_wf.name using errcode = 'RF021';
  end if;
  if start_runs.idempotency_keys is not null and cardinality(start_runs.idempotency_keys) <> v_n then
    raise exception 'start_runs: % idempotency keys for % inputs; pass one key (or null) per input',
      cardinality(start_runs.idempotency_keys), v_n using errcode = '22023';
  end if;
  if start_runs.priority is null or start_runs.priority not between -1000 and 1000 then
    raise exception 'start_runs: priority must be from -1000 to 1000, got %', start_runs.priority using errcode = '22023';
  end if;
  if v_n = 0 then
    return;
  end if;
  -- (000005) Small batches (a trigger on a single-row INSERT) run on generic
  -- plans: re-planning the custom plans cost ~0.3-0.5 ms per statement, more
  -- than executing them. Large batches plan for their size. The function's
  -- SET clause restores the caller's setting on exit.
  if v_n > 64 then
    perform pg_catalog.set_config('plan_cache_mode', 'auto', true);
  end if;
  select t.o, jsonb_typeof(t.i) as type into v_bad
  from unnest(start_runs.inputs) with ordinality as t(i, o)
  where t.i is null or jsonb_typeof(t.i) <> 'object'
  order by t.o limit 1;
  if found then
    raise exception 'run input #% is %, not a JSON object; wrap values in an object like {"value": …}',
      v_bad.o, coalesce(v_bad.type, 'null') using errcode = 'RF022';
  end if;
  -- The limit is on the JSON text (1 MiB = 1048576 bytes). Array elements are
  -- never compressed, and JSON text is at most 6x the binary size (\u0000
  -- escapes), so only inputs above 1 MiB / 6 binary pay for the text form.
  select t.o, octet_length(t.i::text) as size into v_bad
  from unnest(start_runs.inputs) with ordinality as t(i, o)
  where pg_column_size(t.i) > 174762 and octet_length(t.i::text) > 1048576
  order by t.o limit 1;
  if found then
    raise exception 'run input #% is % bytes of JSON; the limit is 1 MiB (1048576 bytes): store large data in a table and pass its key',
      v_bad.o, v_bad.size using errcode = 'RF022';
  end if;

  -- PHASE 1: ids in input order, then runs, step runs and events in one statement.
  v_ids := array(select nextval('rowflow.runs_id_seq'::regclass) from generate_series(1, v_n));
  -- The compiled steps as arrays (sorted by name): unnested per run below,
  -- which yields rows in step_runs primary-key order without a sort.
  select count(*)::int as n, array_agg(ws.name order by ws.name) as names,
    array_agg(ws.n_deps order by ws.name) as n_deps, array_agg(ws.attempts order by ws.name) as attempts,
    array_agg(ws.delay order by ws.name) as delays, array_agg(ws.priority order by ws.name) as priorities,
    array_agg(ws.queue_name order by ws.name) as queue_names,
    array_agg(ws.queue_key order by ws.name) as queue_keys, array_agg(ws.if_path order by ws.name) as if_paths
  into v_ws
  from rowflow.workflow_steps as ws
  where ws.workflow = v_wf.name and ws.version = v_wf.latest_version;
  v_nsteps := v_ws.n;

  with src as (
    select t.o, t.i as input, t.k as key, v_ids[t.o] as id
    from unnest(start_runs.inputs, start_runs.idempotency_keys) with ordinality as t(i, k, o)
  ), ins_runs as (
    insert into rowflow.runs as r (id, workflow, version, status, input, idempotency_key, priority,
                                   steps_left, created_at, updated_at)
    select s.id, v_wf.name, v_wf.latest_version, 'running', s.input, s.key, start_runs.priority,
           v_nsteps, v_now, v_now
    from src as s order by s.o
    on conflict (workflow, idempotency_key) where idempotency_key is not null do nothing
    returning r.id, r.input
  ), plan as (
    -- One row per (run, step), in primary-key order (runs in id order, steps
    -- by name) so the step_runs index fills left to right without a sort.
    -- Root steps evaluate their condition (over {input, steps: {}}) and queue key now.
    select r.id as run_id, ws.name, ws.n_deps, ws.attempts, ws.delay, ws.priority,
      case
        when ws.n_deps > 0 or ws.queue_key is null then ws.queue_name
        else rowflow._queue_name(ws.queue_name, ws.queue_key,
               jsonb_build_object('input', r.input, 'steps', '{}'::jsonb))
      end as queue,
      case
        when ws.n_deps > 0 then 'pending'
        when ws.if_path is null then 'queued'
        when coalesce(jsonb_path_match(jsonb_build_object('input', r.input, 'steps', '{}'::jsonb),
                                       ws.if_path, '{}', true), false) then 'queued'
        else 'skipped'
      end as status
    from ins_runs as r
    cross join unnest(v_ws.names, v_ws.n_deps, v_ws.attempts, v_ws.delays, v_ws.priorities,
                      v_ws.queue_names, v_ws.queue_keys, v_ws.if_paths)
      as ws(name, n_deps, attempts, delay, priority, queue_name, queue_key, if_path)
  ), ins_steps as (
    insert into rowflow.step_runs (run_id, step, kind, status, deps_remaining, attempt, max_attempts,
                                   created_at, finished_at)
    select p.run_id, p.name, 'step', p.status, p.n_deps, case when p.status = 'queued' then 1 else 0 end,
           p.attempts, v_now, case when p.status = 'skipped' then v_now end
    from plan as p
  ), ins_events as (
    insert into rowflow.events (run_id, step, type, attempt, at)
    select x.run_id, x.step, x.type, x.attempt, v_now
    from (
      select r.id as run_id, null::text as step, 'run_started' as type, null::smallint as attempt, 0 as o
      from ins_runs as r
      union all
      select p.run_id, p.name, 'step_' || p.status, case when p.status = 'queued' then 1 end, 1
      from plan as p where p.n_deps = 0
    ) as x
  )
  select
    coalesce(array_agg(row(
        'rowflow:step',
        json_build_object('run', p.run_id, 'step', p.name, 'attempt', 1),
        p.queue,
        v_now + coalesce(p.delay, interval '0'),
        25,
        'rowflow:' || p.run_id || ':' || p.name || ':1',
        greatest(-32768, least(32767, p.priority + start_runs.priority)),
        null
      )::graphile_worker.job_spec) filter (where p.status = 'queued'), '{}'),
    jsonb_agg(jsonb_build_array(p.run_id, p.name)) filter (where p.status = 'skipped'),
    (select count(*) from ins_runs)
  into v_jobs, v_skips, v_created
  from plan as p;

  -- PHASE 2: runs with skipped root steps: propagate the skips (rare; per run).
  for v_rel in
    select (e ->> 0)::bigint as run_id, array_agg(e ->> 1 order by e ->> 1) as names
    from jsonb_array_elements(coalesce(v_skips, '[]')) as e
    group by 1 order by 1
  loop
    select r.id, r.input into v_run from rowflow.runs as r where r.id = v_rel.run_id for no key update;
    select * into v_run from rowflow._release(v_rel.run_id, v_wf.name, v_wf.latest_version, v_run.input,
      start_runs.priority, v_rel.names, v_now);
    v_jobs := v_jobs || v_run.jobs;
    update rowflow.runs as r
    set steps_left = r.steps_left - cardinality(v_rel.names) - cardinality(v_run.skipped)
    where r.id = v_rel.run_id
    returning r.steps_left into v_left;
    if v_left = 0 then
      update rowflow.runs as r set status = 'succeeded', finished_at = v_now where r.id = v_rel.run_id;
      insert into rowflow.events (run_id, type, data, at)
      values (v_rel.run_id, 'run_succeeded', '{"allSkipped": true}', v_now);
    end if;
  end loop;

  -- PHASE 3: the root jobs in one insert, without graphile_worker.add_jobs'
  -- unconditional NOTIFY; a wake-up only when somebody waits (000005).
  if cardinality(v_jobs) > 0 then
    perform rowflow._enqueue(v_jobs);
  end if;
  if v_created > 0 then
    perform rowflow._wake('rowflow', (case when v_n = 1 then jsonb_build_object('run', v_ids[1])
                                 else jsonb_build_object('workflow', v_wf.name, 'started', v_created) end)::text);
  end if;

  if start_runs.idempotency_keys is null then
    return query select unnest(v_ids);
  else
    return query
    select coalesce(
             (select r.id from rowflow.runs as r
              where r.workflow = v_wf.name and r.idempotency_key = t.k),
             v_ids[t.o])
    from unnest(start_runs.idempotency_keys) with ordinality as t(k, o)
    order by t.o;
  end if;
end;
$$;
