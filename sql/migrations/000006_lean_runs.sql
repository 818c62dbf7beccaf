-- 000006_lean_runs.sql — a lean start path: fewer rows, fewer bytes of WAL,
-- fewer statements per started run (issue 6 targets: bulk ≥ 30k runs/s,
-- attached single-row INSERT ≥ 0.5x bare at 16 clients, ≥ 0.6x at 1).
--
-- What changes:
-- * Step runs are created when they become ready, not at start (lazy rows).
--   start_runs writes a row per *root* step only; a dependent's row is
--   inserted by the first of its dependencies to finish (deps_remaining =
--   n_deps - satisfied), later ones decrement it, the one that takes it to
--   zero queues or skips it. All of this happens under the run row lock (lock
--   order: runs row first), which every writer of a run's step rows holds, so
--   the insert-or-decrement needs no ON CONFLICT and a fan-in is released
--   exactly once. runs.steps_left still counts every step, created or not.
--   When a run fails or is cancelled, the steps that never got a row get a
--   'cancelled' row (and event), as before, so only an *active* run can have
--   steps without a row, and each of those is 'pending'. The view
--   rowflow.run_steps shows every step of every run (a missing row as
--   'pending', deps_remaining = n_deps); read step lists from it.
-- * No graphile-worker job keys. The job id is allocated from graphile's own
--   identity sequence and stored on the step run (step_runs.job_id); cancel
--   deletes unlocked jobs by id, and stops graphile retries of a locked one
--   (remove_job's rule). Jobs are inserted directly into
--   graphile_worker._private_jobs (0.17.3, sql/000018: no triggers on it;
--   tasks and queues are looked up, created only when missing):
--   start_runs inline in its one statement, the gates through
--   rowflow._add_step_jobs. test/sql/attach/quiet-enqueue.test.ts compares
--   both with graphile_worker.add_jobs.
-- * Events at start: only 'run_started' (and 'step_skipped' for a root step
--   whose condition is false). A root step's 'step_queued' (attempt 1) is
--   implied by 'run_started' (docs/contract.md, Events).
-- * start_runs: one statement writes runs, root step runs, events and jobs;
--   the runs insert uses ON CONFLICT only when idempotency keys are given (a
--   speculative insertion costs a HEAP_CONFIRM WAL record and an arbiter
--   probe per row even when the key is null).
-- * Gates (complete_step, fail_step) enqueue through the same path and wake
--   workers only through rowflow._wake('jobs:insert', …) (000005: at most one
--   NOTIFY per transaction, none when no worker waits). cancel no longer
--   NOTIFYs jobs:insert through remove_job.
--
-- Measured with scripts/bench/probe-start-path.ts (embedded Postgres 15,
-- 2 cores shared with other test runs, synchronous_commit on; medians of 3
-- interleaved repetitions; "before" = the same migrations without this file):
--   bulk, one start_runs of 100k runs (4-step chain): 18.7k -> 44.2k runs/s
--   WAL per single-row INSERT with the workflow attached: 2,345 -> 1,500 bytes
--     (bare INSERT: 204). Per INSERT before: runs 367 + pkey 64 + speculative
--     confirm 48; 4 step runs x (103 + 72); 2 events x (95 + 72); job 172 +
--     4 index entries 320 + confirm 48. After: runs 367 + 64; 1 step run
--     111 + 72; 1 event 95 + 72; job 156 + 4 index entries 312.
--   pgbench single-row INSERT, attached / bare: 1 client 0.30 -> 0.50,
--     16 clients 0.08 -> 0.13.
-- Below the 0.5x/0.6x write-overhead targets: on this machine the attached
-- INSERT is CPU-bound, not WAL-bound (with synchronous_commit off it runs at
-- ~1-2k/s on one client vs ~8k/s bare; a bare table padded to the same WAL
-- per row keeps ~0.8x of bare). Per attached INSERT start_runs itself still
-- costs ~0.34 ms of CPU (self time, track_functions), _enqueue's ~0.2-0.3 ms
-- is gone; the rest is plpgsql/executor start-up of the trigger chain.
--
-- Not done here (see the commit message): a smallint step index instead of
-- step names in step_runs (saves ~8 bytes a row; every reader and the gate
-- would need a join to workflow_steps); dropping the run_started event or the
-- root step row (both would save ~170 bytes per run but move more of the
-- timeline into rules).

--------------------------------------------------------------------------------
-- Tables and types
--------------------------------------------------------------------------------

-- The graphile-worker job of the current attempt (queued/running steps);
-- null before the first job and for skipped/cancelled-before-queued steps.
alter table rowflow.step_runs add column job_id bigint;

-- One job for a step attempt, as the gates pass it to _add_step_jobs.
create type rowflow.step_job as (
  run_id   bigint,
  step     text,
  attempt  int,
  queue    text,
  run_at   timestamptz,
  priority int
);

--------------------------------------------------------------------------------
-- Reading a run's steps
--------------------------------------------------------------------------------

-- Every step run of every run: the rows of rowflow.step_runs, plus, for each
-- workflow step that has no row yet (an active run's not-yet-ready step), a
-- 'pending' row with deps_remaining = n_deps and the run's created_at.
-- Filter by run_id: both branches use primary keys.
create view rowflow.run_steps as
select
  r.id as run_id,
  ws.name as step,
  coalesce(sr.kind, 'step') as kind,
  coalesce(sr.status, 'pending') as status,
  coalesce(sr.deps_remaining, ws.n_deps) as deps_remaining,
  coalesce(sr.attempt, 0::smallint) as attempt,
  coalesce(sr.max_attempts, ws.attempts) as max_attempts,
  sr.seq,
  sr.output,
  sr.error,
  coalesce(sr.created_at, r.created_at) as created_at,
  sr.started_at,
  sr.finished_at,
  sr.job_id
from rowflow.runs as r
join rowflow.workflow_steps as ws on ws.workflow = r.workflow and ws.version = r.version
left join rowflow.step_runs as sr on sr.run_id = r.id and sr.step = ws.name
union all
select sr.run_id, sr.step, sr.kind, sr.status, sr.deps_remaining, sr.attempt, sr.max_attempts, sr.seq,
       sr.output, sr.error, sr.created_at, sr.started_at, sr.finished_at, sr.job_id
from rowflow.step_runs as sr
where sr.kind <> 'step';
comment on view rowflow.run_steps is
  'Every step run of every run; a step without a row in rowflow.step_runs (not ready yet, 000006) shows as pending.';

--------------------------------------------------------------------------------
-- Internal helpers
--------------------------------------------------------------------------------

-- Id of graphile-worker's task 'rowflow:step', created if missing (as
-- add_jobs does; a concurrent creator makes ours do nothing, then we read it).
create function rowflow._step_task_id()
returns int
language plpgsql
set search_path to ''
as $$
declare
  v_id int;
begin
  select t.id into v_id from graphile_worker._private_tasks as t where t.identifier = 'rowflow:step';
  if v_id is null then
    insert into graphile_worker._private_tasks as t (identifier) values ('rowflow:step')
    on conflict do nothing
    returning t.id into v_id;
    if v_id is null then
      select t.id into v_id from graphile_worker._private_tasks as t where t.identifier = 'rowflow:step';
    end if;
  end if;
  return v_id;
end;
$$;

-- Inserts one graphile-worker job per spec (task 'rowflow:step', payload
-- {"run", "step", "attempt"}, max_attempts 25, no key, no flags) and returns
-- their ids in spec order; wakes a waiting worker. The columns it leaves to
-- their defaults (attempts, revision, created_at, updated_at, locked_*) are
-- the ones graphile_worker.add_jobs (0.17.3) leaves to them too. Ids come from
-- the jobs table's own identity sequence, so callers can store them first.
create function rowflow._add_step_jobs(jobs rowflow.step_job[])
returns bigint[]
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_task int;
  v_seq regclass;
  v_ids bigint[];
begin
  -- GUARD: nothing to add.
  if coalesce(cardinality(_add_step_jobs.jobs), 0) = 0 then
    return '{}';
  end if;
  -- PHASE 1: the task and the queues exist (writes only when missing).
  v_task := rowflow._step_task_id();
  if exists (select 1 from unnest(_add_step_jobs.jobs) as j where j.queue is not null) then
    insert into graphile_worker._private_job_queues as q (queue_name)
    select distinct j.queue from unnest(_add_step_jobs.jobs) as j where j.queue is not null
    on conflict do nothing;
  end if;
  -- PHASE 2: ids, then the rows.
  v_seq := pg_catalog.pg_get_serial_sequence('graphile_worker._private_jobs', 'id')::regclass;
  v_ids := array(select pg_catalog.nextval(v_seq) from pg_catalog.generate_series(1, cardinality(_add_step_jobs.jobs)));
  insert into graphile_worker._private_jobs as jobs
    (id, job_queue_id, task_id, payload, run_at, max_attempts, priority)
  overriding system value
  select v_ids[j.o],
         case when j.queue is not null then
           (select q.id from graphile_worker._private_job_queues as q where q.queue_name = j.queue) end,
         v_task,
         pg_catalog.json_build_object('run', j.run_id, 'step', j.step, 'attempt', j.attempt),
         coalesce(j.run_at, pg_catalog.now()),
         25,
         greatest(-32768, least(32767, coalesce(j.priority, 0)))
  from unnest(_add_step_jobs.jobs) with ordinality as j(run_id, step, attempt, queue, run_at, priority, o)
  order by j.o;
  -- PHASE 3: wake a waiting worker (at most one NOTIFY per transaction).
  perform rowflow._wake('jobs:insert', '{"count":' || cardinality(_add_step_jobs.jobs) || '}');
  return v_ids;
end;
$$;
comment on function rowflow._add_step_jobs(rowflow.step_job[]) is
  'Internal: inserts rowflow:step jobs without job keys (ids in spec order) and wakes a waiting worker (000006).';

-- The step run of a gate call, locked; for a workflow step that has no row
-- yet, the 'pending' row it would have (not stored). Null fields when the
-- run or the step is unknown. Caller holds the run lock.
create function rowflow._step_run(run rowflow.runs, step text)
returns rowflow.step_runs
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_sr rowflow.step_runs;
begin
  select sr.* into v_sr from rowflow.step_runs as sr
  where sr.run_id = (_step_run.run).id and sr.step = _step_run.step
  for no key update;
  if found or (_step_run.run).id is null then
    return v_sr;
  end if;
  select (_step_run.run).id, ws.name, 'step', 'pending', ws.n_deps, 0, ws.attempts, null, null, null,
         (_step_run.run).created_at, null, null, null
  into v_sr
  from rowflow.workflow_steps as ws
  where ws.workflow = (_step_run.run).workflow and ws.version = (_step_run.run).version
    and ws.name = _step_run.step;
  return v_sr;
end;
$$;

-- Releases what became runnable after `satisfied` steps of a run succeeded
-- or were skipped (replaces 000002's _release). Caller holds the run lock.
-- Each dependent of the frontier: a row is inserted (first dependency to
-- finish) or its counter decremented; at zero its condition decides: true →
-- queued with a job, false → skipped, which satisfies its own dependents.
create function rowflow._release_steps(run rowflow.runs, satisfied text[], now timestamptz,
  out queued text[], out skipped text[])
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_frontier text[] := _release_steps.satisfied;
  v_d record;
  v_ids bigint[];
begin
  queued := '{}';
  skipped := '{}';
  while cardinality(v_frontier) > 0 loop
    -- PHASE 1: the frontier's dependents, their counters after this release,
    -- and for those at zero the decision (condition, queue) over their deps.
    select
      coalesce(array_agg(x.name order by x.name), '{}') as names,
      array_agg(x.remaining order by x.name) as remaining,
      array_agg(x.existed order by x.name) as existed,
      array_agg(x.status order by x.name) as status,
      array_agg(x.attempts order by x.name) as attempts,
      array_agg(x.if_text order by x.name) as if_texts,
      coalesce(array_agg(x.name order by x.name) filter (where x.status = 'queued'), '{}') as q_names,
      coalesce(array_agg(row(_release_steps.run.id, x.name, 1, x.queue,
                   _release_steps.now + coalesce(x.delay, interval '0'),
                   x.priority + _release_steps.run.priority)::rowflow.step_job order by x.name)
                 filter (where x.status = 'queued'), '{}') as jobs
    into v_d
    from (
      select y.*,
        case when y.status = 'queued' then rowflow._queue_name(y.queue_name, y.queue_key, y.ctx) end as queue
      from (
        select ws.name, ws.attempts, ws.delay, ws.priority, ws.queue_name, ws.queue_key,
          ws.if_path::text as if_text, c.remaining, sr.step is not null as existed, c.ctx,
          case
            when c.remaining > 0 then 'pending'
            when ws.if_path is null then 'queued'
            when coalesce(jsonb_path_match(c.ctx, ws.if_path, '{}', true), false) then 'queued'
            else 'skipped'
          end as status
        from (
          select dep.name, count(*)::int as n
          from rowflow.workflow_steps as f
          cross join unnest(f.dependents) as dep(name)
          where f.workflow = _release_steps.run.workflow and f.version = _release_steps.run.version
            and f.name = any (v_frontier)
          group by dep.name
        ) as d
        join rowflow.workflow_steps as ws
          on ws.workflow = _release_steps.run.workflow and ws.version = _release_steps.run.version
         and ws.name = d.name
        left join rowflow.step_runs as sr on sr.run_id = _release_steps.run.id and sr.step = d.name
        cross join lateral (
          select coalesce(sr.deps_remaining, ws.n_deps) - d.n as remaining,
            case when coalesce(sr.deps_remaining, ws.n_deps) - d.n = 0
                      and (ws.if_path is not null or ws.queue_key is not null)
                 then jsonb_build_object('input', _release_steps.run.input,
                        'steps', rowflow._deps_outputs(_release_steps.run.id, ws.depends_on)) end as ctx
        ) as c
        -- A row that exists and is no longer pending was decided already.
        where sr.step is null or (sr.kind = 'step' and sr.status = 'pending')
      ) as y
    ) as x;

    -- PHASE 2: jobs for the queued ones, then their rows and events.
    v_ids := rowflow._add_step_jobs(v_d.jobs);
    with d as (
      select * from unnest(v_d.names, v_d.remaining, v_d.existed, v_d.status, v_d.attempts, v_d.if_texts)
        as d(name, remaining, existed, status, attempts, if_text)
    ), j as (
      select * from unnest(v_d.q_names, v_ids) as j(name, id)
    ), upd as (
      update rowflow.step_runs as sr
      set deps_remaining = d.remaining, status = d.status,
          attempt = case when d.status = 'queued' then 1 else 0 end,
          finished_at = case when d.status = 'skipped' then _release_steps.now end,
          job_id = j.id
      from d left join j on j.name = d.name
      where d.existed and sr.run_id = _release_steps.run.id and sr.step = d.name
    ), ins as (
      insert into rowflow.step_runs (run_id, step, kind, status, deps_remaining, attempt, max_attempts,
                                     created_at, finished_at, job_id)
      select _release_steps.run.id, d.name, 'step', d.status, d.remaining,
             case when d.status = 'queued' then 1 else 0 end, d.attempts,
             _release_steps.run.created_at, case when d.status = 'skipped' then _release_steps.now end, j.id
      from d left join j on j.name = d.name
      where not d.existed
      order by d.name
    )
    insert into rowflow.events (run_id, step, type, attempt, data, at)
    select _release_steps.run.id, d.name, 'step_' || d.status, case when d.status = 'queued' then 1 end,
           case when d.status = 'skipped' then jsonb_build_object('if', d.if_text) end, _release_steps.now
    from d where d.status <> 'pending'
    order by d.name;

    queued := queued || v_d.q_names;
    v_frontier := array(select n from unnest(v_d.names, v_d.status) as t(n, s) where s = 'skipped' order by n);
    skipped := skipped || v_frontier;
  end loop;
end;
$$;

-- Cancels the run's unfinished step runs of the given kinds (pending, queued,
-- running, and — for kind 'step' — the steps that have no row yet, which get
-- a 'cancelled' row) and removes their queued jobs by id: an unlocked job is
-- deleted; a locked one keeps running but gets no graphile retry (the rule of
-- graphile_worker.remove_job). Its worker's gate call then answers ok:false
-- (step_terminal) and the handler's transaction rolls back. Returns the count.
create or replace function rowflow._cancel_steps(run_id bigint, kinds text[], reason text, now timestamptz)
returns int
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_run rowflow.runs;
  v_jobs bigint[];
  v_n int;
begin
  select r.* into v_run from rowflow.runs as r where r.id = _cancel_steps.run_id;
  -- PHASE 1: the queued jobs.
  v_jobs := array(
    select sr.job_id from rowflow.step_runs as sr
    where sr.run_id = _cancel_steps.run_id and sr.kind = any (_cancel_steps.kinds)
      and sr.status = 'queued' and sr.job_id is not null
    order by sr.job_id);
  if cardinality(v_jobs) > 0 then
    delete from graphile_worker._private_jobs as jobs
    where jobs.id = any (v_jobs)
      and (jobs.locked_at is null or jobs.locked_at < pg_catalog.now() - interval '4 hours');
    update graphile_worker._private_jobs as jobs
    set attempts = jobs.max_attempts, updated_at = pg_catalog.now()
    where jobs.id = any (v_jobs);
  end if;

  -- PHASE 2: the step runs, with and without a row, and their events.
  with c as (
    update rowflow.step_runs as sr
    set status = 'cancelled', finished_at = _cancel_steps.now
    where sr.run_id = _cancel_steps.run_id and sr.kind = any (_cancel_steps.kinds)
      and sr.status in ('pending', 'queued', 'running')
    returning sr.step, sr.attempt
  ), n as (
    insert into rowflow.step_runs (run_id, step, kind, status, deps_remaining, attempt, max_attempts,
                                   created_at, finished_at)
    select _cancel_steps.run_id, ws.name, 'step', 'cancelled', ws.n_deps, 0, ws.attempts,
           v_run.created_at, _cancel_steps.now
    from rowflow.workflow_steps as ws
    where 'step' = any (_cancel_steps.kinds)
      and ws.workflow = v_run.workflow and ws.version = v_run.version
      and not exists (select 1 from rowflow.step_runs as sr
                      where sr.run_id = _cancel_steps.run_id and sr.step = ws.name)
    order by ws.name
    returning step, attempt
  ), cn as (
    select * from c union all select * from n
  ), e as (
    insert into rowflow.events (run_id, step, type, attempt, data, at)
    select _cancel_steps.run_id, cn.step, 'step_cancelled', nullif(cn.attempt, 0),
      jsonb_build_object('reason', _cancel_steps.reason), _cancel_steps.now
    from cn order by cn.step
  )
  select count(*) into v_n from cn;
  return v_n;
end;
$$;

-- Queues the next pending row of the compensation / on-failure chain (lowest
-- seq) with its job; returns its name, or null when the chain is exhausted.
-- (Replaces 000002's _advance_chain, which returned a job spec.)
create function rowflow._advance_chain_step(run rowflow.runs, now timestamptz)
returns text
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_sr rowflow.step_runs;
  v_ws rowflow.workflow_steps;
  v_ids bigint[];
begin
  select * into v_sr from rowflow.step_runs as sr
  where sr.run_id = _advance_chain_step.run.id and sr.kind <> 'step' and sr.status = 'pending'
  order by sr.seq limit 1
  for update;
  if not found then
    return null;
  end if;
  -- A compensation uses the queue and priority of the step it undoes.
  select ws.* into v_ws from rowflow.workflow_steps as ws
  where ws.workflow = _advance_chain_step.run.workflow and ws.version = _advance_chain_step.run.version
    and v_sr.kind = 'compensation' and ws.name = substr(v_sr.step, length('compensate:') + 1);
  v_ids := rowflow._add_step_jobs(array[row(v_sr.run_id, v_sr.step, 1,
    rowflow._queue_name(v_ws.queue_name, v_ws.queue_key,
      jsonb_build_object('input', _advance_chain_step.run.input, 'steps', '{}'::jsonb)),
    _advance_chain_step.now, coalesce(v_ws.priority, 0) + _advance_chain_step.run.priority)::rowflow.step_job]);
  update rowflow.step_runs as sr set status = 'queued', deps_remaining = 0, attempt = 1, job_id = v_ids[1]
  where sr.run_id = v_sr.run_id and sr.step = v_sr.step;
  insert into rowflow.events (run_id, step, type, attempt, at)
  values (v_sr.run_id, v_sr.step, 'step_queued', 1, _advance_chain_step.now);
  return v_sr.step;
end;
$$;

--------------------------------------------------------------------------------
-- start_runs
--------------------------------------------------------------------------------

-- Starts one run per input of the latest version of `workflow`. One
-- statement writes the runs, a step run per root step, the events
-- ('run_started'; 'step_skipped' for a root whose condition is false) and the
-- root jobs. Returns one run id per input, in input order; an input whose
-- idempotency key already has a run (or repeats an earlier key of the same
-- batch) gets that run's id and creates nothing.
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
  v_keyed boolean := start_runs.idempotency_keys is not null;
  v_ws record;
  v_ids bigint[];
  v_keyed_ids bigint[];
  v_bad record;
  v_task int;
  v_seq regclass;
  v_res record;
  v_run rowflow.runs;
  v_rel record;
  v_out record;
  v_left int;
  v_jobs int;
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
  if v_keyed and cardinality(start_runs.idempotency_keys) <> v_n then
    raise exception 'start_runs: % idempotency keys for % inputs; pass one key (or null) per input',
      cardinality(start_runs.idempotency_keys), v_n using errcode = '22023';
  end if;
  if start_runs.priority is null or start_runs.priority not between -1000 and 1000 then
    raise exception 'start_runs: priority must be from -1000 to 1000, got %', start_runs.priority using errcode = '22023';
  end if;
  if v_n = 0 then
    return;
  end if;
  -- Small batches (a trigger on a single-row INSERT) run on generic plans
  -- (000005: re-planning cost more than executing); large ones plan for
  -- their size. The function's SET clause restores the caller's setting.
  if v_n > 64 then
    perform pg_catalog.set_config('plan_cache_mode', 'auto', true);
  end if;
  -- One scan for both input rules; a non-object is reported before a size.
  -- The limit is on the JSON text (1 MiB); JSON text is at most 6x the
  -- binary size, so only inputs above 1 MiB / 6 binary pay for the text form.
  select t.o, jsonb_typeof(t.i) as type,
         t.i is null or jsonb_typeof(t.i) <> 'object' as not_object,
         case when t.i is not null and jsonb_typeof(t.i) = 'object' then octet_length(t.i::text) end as size
  into v_bad
  from unnest(start_runs.inputs) with ordinality as t(i, o)
  where t.i is null or jsonb_typeof(t.i) <> 'object'
     or (pg_column_size(t.i) > 174762 and octet_length(t.i::text) > 1048576)
  order by 3 desc, t.o limit 1;
  if found and v_bad.not_object then
    raise exception 'run input #% is %, not a JSON object; wrap values in an object like {"value": …}',
      v_bad.o, coalesce(v_bad.type, 'null') using errcode = 'RF022';
  elsif found then
    raise exception 'run input #% is % bytes of JSON; the limit is 1 MiB (1048576 bytes): store large data in a table and pass its key',
      v_bad.o, v_bad.size using errcode = 'RF022';
  end if;

  -- PHASE 1: ids in input order; the root steps (sorted by name) as arrays,
  -- unnested per run below; graphile's task id and job id sequence.
  if v_n = 1 then
    v_ids := array[pg_catalog.nextval('rowflow.runs_id_seq'::regclass)];
  else
    v_ids := array(select pg_catalog.nextval('rowflow.runs_id_seq'::regclass)
                   from pg_catalog.generate_series(1, v_n));
  end if;
  select count(*)::int as n,
    array_agg(ws.name order by ws.name) filter (where ws.n_deps = 0) as names,
    array_agg(ws.attempts order by ws.name) filter (where ws.n_deps = 0) as attempts,
    array_agg(ws.delay order by ws.name) filter (where ws.n_deps = 0) as delays,
    array_agg(ws.priority order by ws.name) filter (where ws.n_deps = 0) as priorities,
    array_agg(ws.queue_name order by ws.name) filter (where ws.n_deps = 0) as queue_names,
    array_agg(ws.queue_key order by ws.name) filter (where ws.n_deps = 0) as queue_keys,
    array_agg(ws.if_path order by ws.name) filter (where ws.n_deps = 0) as if_paths,
    coalesce(bool_or(ws.queue_name is not null) filter (where ws.n_deps = 0), false) as queued_on_queues
  into v_ws
  from rowflow.workflow_steps as ws
  where ws.workflow = v_wf.name and ws.version = v_wf.latest_version;
  v_task := (select t.id from graphile_worker._private_tasks as t where t.identifier = 'rowflow:step');
  if v_task is null then
    v_task := rowflow._step_task_id();
  end if;
  v_seq := pg_catalog.pg_get_serial_sequence('graphile_worker._private_jobs', 'id')::regclass;
  -- Root steps with a queue: the queues must exist before the statement
  -- that joins them (rare; the names are computed again below).
  if v_ws.queued_on_queues then
    insert into graphile_worker._private_job_queues as q (queue_name)
    select distinct rowflow._queue_name(ws.queue_name, ws.queue_key,
                      jsonb_build_object('input', t.i, 'steps', '{}'::jsonb))
    from unnest(start_runs.inputs) as t(i)
    cross join unnest(v_ws.queue_names, v_ws.queue_keys) as ws(queue_name, queue_key)
    where ws.queue_name is not null
    on conflict do nothing;
  end if;
  -- With idempotency keys the runs go in first, ON CONFLICT DO NOTHING (a
  -- concurrent transaction with the same key makes us wait for it). Without
  -- keys the statement below inserts them, with no speculative insertion.
  if v_keyed then
    with ins as (
      insert into rowflow.runs as r (id, workflow, version, status, input, idempotency_key, priority,
                                     steps_left, created_at, updated_at)
      select v_ids[t.o], v_wf.name, v_wf.latest_version, 'running', t.i, t.k, start_runs.priority,
             v_ws.n, v_now, v_now
      from unnest(start_runs.inputs, start_runs.idempotency_keys) with ordinality as t(i, k, o)
      order by t.o
      on conflict (workflow, idempotency_key) where idempotency_key is not null do nothing
      returning r.id
    )
    select coalesce(array_agg(ins.id order by ins.id), '{}') into v_keyed_ids from ins;
  end if;

  -- PHASE 2: runs (unless keyed), root step runs, events and jobs in one statement.
  with ins_runs as (
    insert into rowflow.runs as r (id, workflow, version, status, input, idempotency_key, priority,
                                   steps_left, created_at, updated_at)
    select v_ids[t.o], v_wf.name, v_wf.latest_version, 'running', t.i, null, start_runs.priority,
           v_ws.n, v_now, v_now
    from unnest(start_runs.inputs) with ordinality as t(i, o)
    where not v_keyed
    order by t.o
    returning r.id, r.input
  ), new_runs as (
    select ir.id, ir.input from ins_runs as ir
    union all
    select r.id, r.input from rowflow.runs as r where v_keyed and r.id = any (v_keyed_ids)
  ), plan as (
    -- One row per (run, root step), in step_runs primary-key order. Root
    -- steps evaluate their condition (over {input, steps: {}}) and queue key
    -- now; a queued one gets its job id.
    select p.*, case when p.status = 'queued' then pg_catalog.nextval(v_seq) end as job_id
    from (
      select r.id as run_id, ws.name, ws.attempts, ws.delay, ws.priority,
        case
          when ws.queue_key is null then ws.queue_name
          else rowflow._queue_name(ws.queue_name, ws.queue_key,
                 jsonb_build_object('input', r.input, 'steps', '{}'::jsonb))
        end as queue,
        case
          when ws.if_path is null then 'queued'
          when coalesce(jsonb_path_match(jsonb_build_object('input', r.input, 'steps', '{}'::jsonb),
                                         ws.if_path, '{}', true), false) then 'queued'
          else 'skipped'
        end as status
      from new_runs as r
      cross join unnest(v_ws.names, v_ws.attempts, v_ws.delays, v_ws.priorities,
                        v_ws.queue_names, v_ws.queue_keys, v_ws.if_paths)
        as ws(name, attempts, delay, priority, queue_name, queue_key, if_path)
      order by r.id, ws.name
    ) as p
  ), ins_steps as (
    insert into rowflow.step_runs (run_id, step, kind, status, deps_remaining, attempt, max_attempts,
                                   created_at, finished_at, job_id)
    select p.run_id, p.name, 'step', p.status, 0, case when p.status = 'queued' then 1 else 0 end,
           p.attempts, v_now, case when p.status = 'skipped' then v_now end, p.job_id
    from plan as p
  ), ins_jobs as (
    insert into graphile_worker._private_jobs as jobs
      (id, job_queue_id, task_id, payload, run_at, max_attempts, priority)
    overriding system value
    select p.job_id,
           case when p.queue is not null then
             (select q.id from graphile_worker._private_job_queues as q where q.queue_name = p.queue) end,
           v_task,
           pg_catalog.json_build_object('run', p.run_id, 'step', p.name, 'attempt', 1),
           v_now + coalesce(p.delay, interval '0'),
           25,
           greatest(-32768, least(32767, p.priority + start_runs.priority))
    from plan as p
    where p.status = 'queued'
  ), ins_events as (
    insert into rowflow.events (run_id, step, type, attempt, at)
    select x.run_id, x.step, x.type, null, v_now
    from (
      select r.id as run_id, null::text as step, 'run_started' as type, 0 as o from new_runs as r
      union all
      select p.run_id, p.name, 'step_skipped', 1 from plan as p where p.status = 'skipped'
    ) as x
    order by x.run_id, x.o, x.step
  )
  select
    (select count(*)::int from new_runs) as created,
    (select count(*)::int from plan as p where p.status = 'queued') as queued,
    (select jsonb_agg(jsonb_build_array(p.run_id, p.name)) from plan as p where p.status = 'skipped') as skips
  into v_res;
  v_jobs := v_res.queued;

  -- PHASE 3: runs with skipped root steps: propagate the skips (rare; per run).
  for v_rel in
    select (e ->> 0)::bigint as run_id, array_agg(e ->> 1 order by e ->> 1) as names
    from jsonb_array_elements(coalesce(v_res.skips, '[]')) as e
    group by 1 order by 1
  loop
    select r.* into v_run from rowflow.runs as r where r.id = v_rel.run_id for no key update;
    select * into v_out from rowflow._release_steps(v_run, v_rel.names, v_now);
    v_jobs := v_jobs + cardinality(v_out.queued);
    update rowflow.runs as r
    set steps_left = r.steps_left - cardinality(v_rel.names) - cardinality(v_out.skipped)
    where r.id = v_rel.run_id
    returning r.steps_left into v_left;
    if v_left = 0 then
      update rowflow.runs as r set status = 'succeeded', finished_at = v_now where r.id = v_rel.run_id;
      insert into rowflow.events (run_id, type, data, at)
      values (v_rel.run_id, 'run_succeeded', '{"allSkipped": true}', v_now);
    end if;
  end loop;

  -- PHASE 4: wake-ups, each only when somebody waits (000005).
  if v_jobs > 0 then
    perform rowflow._wake('jobs:insert', '{"count":' || v_jobs || '}');
  end if;
  if v_res.created > 0 then
    perform rowflow._wake('rowflow', (case when v_n = 1 then jsonb_build_object('run', v_ids[1])
                                 else jsonb_build_object('workflow', v_wf.name, 'started', v_res.created) end)::text);
  end if;

  if not v_keyed then
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

--------------------------------------------------------------------------------
-- Gate functions (000002's, on lazy rows and keyless jobs)
--------------------------------------------------------------------------------

create or replace function rowflow.begin_step(
  run_id bigint,
  step text,
  attempt int,
  worker_id text default null,
  now timestamptz default null)
returns jsonb
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_now timestamptz := coalesce(begin_step.now, pg_catalog.now());
  v_run rowflow.runs;
  v_sr rowflow.step_runs;
  v_ws rowflow.workflow_steps;
  v_refusal jsonb;
  v_task text;
  v_deps jsonb;
begin
  -- GUARD: lock order run → step; fence on attempt and status. A step that
  -- is already running with this attempt is a re-delivery after a crash.
  select r.* into v_run from rowflow.runs as r where r.id = begin_step.run_id for no key update;
  v_sr := rowflow._step_run(v_run, begin_step.step);
  v_refusal := rowflow._fence(v_run, v_sr, begin_step.attempt, array['queued', 'running']);
  if v_refusal is not null then
    return v_refusal;
  end if;

  -- PHASE 1: mark running.
  update rowflow.step_runs as sr set status = 'running', started_at = v_now
  where sr.run_id = v_sr.run_id and sr.step = v_sr.step;
  insert into rowflow.events (run_id, step, type, attempt, data, at)
  values (v_sr.run_id, v_sr.step, 'step_started', v_sr.attempt,
          nullif(jsonb_strip_nulls(jsonb_build_object('workerId', begin_step.worker_id,
            'redelivery', case when v_sr.status = 'running' then true end)), '{}'), v_now);

  -- PHASE 2: the handler's context (a running step's dependencies all have rows).
  if v_sr.kind = 'step' then
    select ws.* into v_ws from rowflow.workflow_steps as ws
    where ws.workflow = v_run.workflow and ws.version = v_run.version and ws.name = v_sr.step;
    v_task := v_ws.task;
    v_deps := rowflow._deps_outputs(v_sr.run_id, v_ws.depends_on);
  elsif v_sr.kind = 'compensation' then
    select ws.* into v_ws from rowflow.workflow_steps as ws
    where ws.workflow = v_run.workflow and ws.version = v_run.version
      and ws.name = substr(v_sr.step, length('compensate:') + 1);
    v_task := v_ws.compensate;
    v_deps := rowflow._deps_outputs(v_sr.run_id, array[v_ws.name]);
  else
    select wv.on_failure into v_task from rowflow.workflow_versions as wv
    where wv.workflow = v_run.workflow and wv.version = v_run.version;
    select coalesce(jsonb_object_agg(sr.step, sr.output), '{}') into v_deps
    from rowflow.step_runs as sr
    where sr.run_id = v_sr.run_id and sr.kind = 'step' and sr.status = 'succeeded';
  end if;
  perform rowflow._notify(jsonb_build_object('run', v_sr.run_id));

  return jsonb_build_object(
    'ok', true,
    'task', v_task,
    'workflow', v_run.workflow,
    'version', v_run.version,
    'input', v_run.input,
    'deps', v_deps,
    'attempt', v_sr.attempt,
    'maxAttempts', v_sr.max_attempts,
    'timeoutMs', (extract(epoch from v_ws.timeout) * 1000)::bigint,
    'idempotencyKey', 'rowflow:' || v_sr.run_id || ':' || v_sr.step,
    'kind', v_sr.kind,
    'runError', v_run.error);
end;
$$;

create or replace function rowflow.complete_step(
  run_id bigint,
  step text,
  attempt int,
  output jsonb default null,
  now timestamptz default null)
returns jsonb
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_now timestamptz := coalesce(complete_step.now, pg_catalog.now());
  v_run rowflow.runs;
  v_sr rowflow.step_runs;
  v_refusal jsonb;
  v_rel record;
  v_next text;
  v_released text[] := '{}';
  v_skipped text[] := '{}';
  v_left int;
  v_status text;
begin
  -- GUARD: lock order run → step; only the running attempt may complete.
  select r.* into v_run from rowflow.runs as r where r.id = complete_step.run_id for no key update;
  v_sr := rowflow._step_run(v_run, complete_step.step);
  v_refusal := rowflow._fence(v_run, v_sr, complete_step.attempt, array['running']);
  if v_refusal is not null then
    return v_refusal;
  end if;

  -- PHASE 1: the step succeeded.
  update rowflow.step_runs as sr
  set status = 'succeeded', output = complete_step.output, finished_at = v_now
  where sr.run_id = v_sr.run_id and sr.step = v_sr.step;
  insert into rowflow.events (run_id, step, type, attempt, at)
  values (v_sr.run_id, v_sr.step, 'step_succeeded', v_sr.attempt, v_now);
  v_left := v_run.steps_left - 1;

  -- PHASE 2: release dependents (or the next link of the compensation
  -- chain); their jobs go in through _add_step_jobs (which wakes workers).
  if v_sr.kind = 'step' then
    select * into v_rel from rowflow._release_steps(v_run, array[v_sr.step], v_now);
    v_released := v_rel.queued;
    v_skipped := v_rel.skipped;
    v_left := v_left - cardinality(v_rel.skipped);
  else
    v_next := rowflow._advance_chain_step(v_run, v_now);
    if v_next is not null then
      v_released := array[v_next];
    end if;
  end if;

  -- PHASE 3: finish the run when nothing is left.
  v_status := rowflow._finish_run(v_run.id, v_run.status, v_left, v_run.error, v_now);
  perform rowflow._notify(jsonb_build_object('run', v_run.id));
  return jsonb_build_object('ok', true, 'released', to_jsonb(v_released), 'skipped', to_jsonb(v_skipped),
                            'runStatus', v_status);
end;
$$;

create or replace function rowflow.fail_step(
  run_id bigint,
  step text,
  attempt int,
  error jsonb,
  retryable boolean default true,
  retry_at timestamptz default null,
  now timestamptz default null)
returns jsonb
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_now timestamptz := coalesce(fail_step.now, pg_catalog.now());
  v_run rowflow.runs;
  v_sr rowflow.step_runs;
  v_ws rowflow.workflow_steps;
  v_refusal jsonb;
  v_delay interval;
  v_retry_at timestamptz;
  v_ids bigint[];
  v_left int;
  v_status text;
  v_error jsonb;
  v_chain int := 0;
begin
  -- GUARD: lock order run → step; only the running attempt may fail.
  select r.* into v_run from rowflow.runs as r where r.id = fail_step.run_id for no key update;
  v_sr := rowflow._step_run(v_run, fail_step.step);
  v_refusal := rowflow._fence(v_run, v_sr, fail_step.attempt, array['running']);
  if v_refusal is not null then
    return v_refusal;
  end if;
  -- The retry policy: the step's own; a compensation uses the policy of the
  -- step it undoes; on-failure uses the defaults.
  select ws.* into v_ws from rowflow.workflow_steps as ws
  where ws.workflow = v_run.workflow and ws.version = v_run.version
    and ws.name = case v_sr.kind when 'step' then v_sr.step
                                 when 'compensation' then substr(v_sr.step, length('compensate:') + 1) end;

  -- PHASE 1: another attempt, if allowed (a new job; the failing attempt's
  -- locked job is a different row, left to its worker).
  if coalesce(fail_step.retryable, true) and v_sr.attempt < v_sr.max_attempts then
    v_delay := case coalesce(v_ws.backoff_type, 'exponential')
      when 'fixed' then coalesce(v_ws.backoff_base, interval '1 second')
      else least(coalesce(v_ws.backoff_base, interval '1 second') * power(2, least(v_sr.attempt - 1, 40)),
                 coalesce(v_ws.backoff_max, interval '5 minutes'))
    end;
    -- jitter j spreads the delay uniformly over [d·(1-j), d·(1+j)], capped at max.
    v_delay := least(v_delay * (1 - coalesce(v_ws.backoff_jitter, 0.2) * (2 * random() - 1)),
                     greatest(coalesce(v_ws.backoff_max, interval '5 minutes'), v_delay));
    v_retry_at := coalesce(fail_step.retry_at, v_now + v_delay);
    v_ids := rowflow._add_step_jobs(array[row(v_sr.run_id, v_sr.step, v_sr.attempt + 1,
      rowflow._queue_name(v_ws.queue_name, v_ws.queue_key, jsonb_build_object('input', v_run.input,
        'steps', case when v_sr.kind = 'step' then rowflow._deps_outputs(v_sr.run_id, v_ws.depends_on) else '{}' end)),
      v_retry_at, coalesce(v_ws.priority, 0) + v_run.priority)::rowflow.step_job]);
    update rowflow.step_runs as sr
    set status = 'queued', attempt = sr.attempt + 1, error = fail_step.error, job_id = v_ids[1]
    where sr.run_id = v_sr.run_id and sr.step = v_sr.step;
    insert into rowflow.events (run_id, step, type, attempt, data, at)
    values (v_sr.run_id, v_sr.step, 'step_retrying', v_sr.attempt,
            jsonb_build_object('error', fail_step.error, 'retryAt', v_retry_at, 'nextAttempt', v_sr.attempt + 1), v_now);
    update rowflow.runs as r set updated_at = v_now where r.id = v_run.id;
    perform rowflow._notify(jsonb_build_object('run', v_run.id));
    return jsonb_build_object('ok', true, 'outcome', 'retrying', 'retryAt', v_retry_at,
                              'nextAttempt', v_sr.attempt + 1, 'runStatus', v_run.status);
  end if;

  -- PHASE 2: the step failed for good.
  update rowflow.step_runs as sr
  set status = 'failed', error = fail_step.error, finished_at = v_now
  where sr.run_id = v_sr.run_id and sr.step = v_sr.step;
  insert into rowflow.events (run_id, step, type, attempt, data, at)
  values (v_sr.run_id, v_sr.step, 'step_failed', v_sr.attempt,
          jsonb_build_object('error', fail_step.error, 'retryable', coalesce(fail_step.retryable, true)), v_now);
  v_left := v_run.steps_left - 1;
  v_status := v_run.status;
  v_error := v_run.error;

  if v_sr.kind = 'step' then
    -- PHASE 3: the run fails: cancel the other steps (those without a row
    -- too), then build the compensation chain (reverse completion order),
    -- on-failure last.
    v_left := v_left - rowflow._cancel_steps(v_run.id, array['step'], 'run failed', v_now);
    v_error := jsonb_build_object('step', v_sr.step, 'attempt', v_sr.attempt, 'error', fail_step.error);
    with comp as (
      select sr.step, ws.attempts,
        (select max(e.id) from rowflow.events as e
         where e.run_id = sr.run_id and e.step = sr.step and e.type = 'step_succeeded') as done_id
      from rowflow.step_runs as sr
      join rowflow.workflow_steps as ws
        on ws.workflow = v_run.workflow and ws.version = v_run.version and ws.name = sr.step
      where sr.run_id = v_run.id and sr.kind = 'step' and sr.status = 'succeeded' and ws.compensate is not null
    ), chain as (
      select 'compensate:' || c.step as step, 'compensation' as kind, c.attempts,
             row_number() over (order by c.done_id desc) as seq
      from comp as c
      union all
      select 'on-failure', 'on_failure', 3, (select count(*) from comp) + 1
      from rowflow.workflow_versions as wv
      where wv.workflow = v_run.workflow and wv.version = v_run.version and wv.on_failure is not null
    ), ins as (
      insert into rowflow.step_runs (run_id, step, kind, status, deps_remaining, attempt, max_attempts, seq, created_at)
      select v_run.id, ch.step, ch.kind, 'pending', 1, 0, ch.attempts, ch.seq, v_now
      from chain as ch order by ch.seq
      returning 1
    )
    select count(*) into v_chain from ins;
    if v_chain > 0 then
      v_left := v_left + v_chain;
      v_status := 'compensating';
      insert into rowflow.events (run_id, type, data, at)
      values (v_run.id, 'run_compensating', v_error, v_now);
    else
      v_status := 'failed';
      insert into rowflow.events (run_id, type, data, at)
      values (v_run.id, 'run_failed', v_error, v_now);
    end if;
    -- runs.status must be written before the chain helpers read it.
    update rowflow.runs as r set status = v_status, error = v_error, steps_left = v_left, updated_at = v_now,
      finished_at = case when v_status = 'failed' then v_now end
    where r.id = v_run.id;
  end if;

  -- PHASE 4: next link of the chain (first one, or the one after this failed
  -- compensation: the chain continues past a failed link), then finish.
  if v_status = 'compensating' then
    perform rowflow._advance_chain_step(v_run, v_now);
    v_status := rowflow._finish_run(v_run.id, v_status, v_left, v_error, v_now);
  end if;
  perform rowflow._notify(jsonb_build_object('run', v_run.id));
  return jsonb_build_object('ok', true, 'outcome', 'failed', 'runStatus', v_status);
end;
$$;

-- Replaced above; nothing calls them any more.
drop function rowflow._release(bigint, text, int, jsonb, int, text[], timestamptz);
drop function rowflow._advance_chain(bigint, jsonb, int, timestamptz);
drop function rowflow._job(bigint, text, int, text, timestamptz, int);
