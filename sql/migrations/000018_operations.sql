-- 000018_operations.sql — operators' actions and their audit.
--
-- What an operator needs once runs fail or pile up, as SQL functions
-- (sql/schema/85_operate/, contracts in docs/sql-api.md): pause_workflow /
-- resume_workflow, retry_run (failed steps, or those and everything
-- downstream, keeping the other outputs), rerun_from (a new run from a
-- step, the other outputs copied), skip_step (settle a pending or queued
-- step by hand; its dependents are released by the ordinary gate),
-- retry_runs / cancel_runs (the same over a filter), purge_runs (finished
-- runs in batches, SKIP LOCKED), set_retention / apply_retention (each
-- workflow's finished runs purged by exactly one worker per minute:
-- rowflow.maintenance) and explain_run (why each unfinished step is not
-- running). Each writes a rowflow.audit row naming the session that
-- acted, and cancel_run does too. Operators only (explain_run: viewers
-- too), each SECURITY DEFINER with a pinned search_path and
-- rowflow._require.

-- New event types (run_retried, run_rerun). The CHECK is added NOT VALID
-- and then validated: the scan of existing events takes SHARE UPDATE
-- EXCLUSIVE, so writers of events (the gates) are not blocked meanwhile.
alter table rowflow.events drop constraint type_is_valid;
alter table rowflow.events add constraint type_is_valid check (type in (
    'run_started', 'run_succeeded', 'run_failed', 'run_compensating', 'run_cancelled',
    'step_queued', 'step_started', 'step_succeeded', 'step_failed', 'step_retrying',
    'step_skipped', 'step_cancelled', 'run_retried', 'run_rerun')) not valid;
alter table rowflow.events validate constraint type_is_valid;
-- The run a rerun_from run reruns, and a workflow's retention (nullable
-- columns: no table rewrite).
alter table rowflow.runs add column rerun_of bigint;
alter table rowflow.workflows add column retention interval,
  add constraint retention_is_positive check (retention > interval '0');

-- from sql/schema/20_tables/50_audit.sql
create table rowflow.audit (
  id               bigint generated always as identity primary key,
  at               timestamptz not null,
  action           text not null,
  workflow         text,
  run_id           bigint,
  step             text,
  reason           text,
  data             jsonb,
  session_user_name name not null,
  set_role         name,
  application_name text,
  client_addr      inet,
  constraint action_is_valid check (action in (
    'pause_workflow', 'resume_workflow', 'retry_run', 'rerun_from', 'skip_step', 'purge_runs', 'cancel_run',
    'set_retention', 'apply_retention'))
);
comment on table rowflow.audit is
  'One row per operator action (pause, resume, retry, skip, purge, cancel): when, what, on which workflow/run/step, the reason given, and who (session user, SET ROLE, application_name, client address).';
create index audit_run_idx on rowflow.audit (run_id) where run_id is not null;
select rowflow._allow('table rowflow.audit', '{viewer}');

-- from sql/schema/20_tables/60_maintenance.sql
create table rowflow.maintenance (
  task        text primary key,
  last_at     timestamptz not null,
  last_by     text,
  last_result jsonb,
  constraint task_is_valid check (task in ('retention'))
);
comment on table rowflow.maintenance is
  'Periodic tasks the workers share (retention): when one last ran, by which worker, with what result.';
select rowflow._allow('table rowflow.maintenance', '{viewer}');
insert into rowflow.maintenance (task, last_at) values ('retention', '-infinity');

-- from sql/schema/25_views/visible_runs.sql
create or replace view rowflow.visible_runs with (security_barrier) as
select r.*
from rowflow.runs as r
where r.started_by = session_user or (select rowflow._may('viewer'));
comment on view rowflow.visible_runs is
  'The runs the current role may see: all for viewers, operators and the owner, else those its session started.';
select rowflow._allow('view rowflow.visible_runs', '{app,operator,viewer}');

-- from sql/schema/60_gate/cancel_run.sql
create or replace function rowflow.cancel_run(run_id bigint, reason text default null, now timestamptz default null)
returns boolean
language plpgsql
security definer
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_now timestamptz := coalesce(cancel_run.now, pg_catalog.statement_timestamp());
  v_run rowflow.runs;
begin
  -- GUARD: an operator, or the app that started the run; lock the run;
  -- only a queued or active run can be cancelled.
  perform rowflow._require('{operator,app}');
  select r.* into v_run from rowflow.runs as r where r.id = cancel_run.run_id for no key update;
  if not found then
    raise exception 'unknown run %', cancel_run.run_id using errcode = 'RF023';
  end if;
  if v_run.started_by is distinct from session_user::text and not rowflow._trusted()
     and not pg_catalog.pg_has_role(session_user, rowflow._role('operator'), 'MEMBER') then
    raise exception 'permission denied: run % was not started by %', v_run.id, session_user
      using errcode = '42501', hint = 'Operators (rowflow_operator) cancel any run; an app cancels its own.';
  end if;
  if v_run.status not in ('queued', 'running', 'compensating') then
    return false;
  end if;
  -- PHASE 1: cancel every unfinished step run (a compensation chain too) and
  -- remove the queued jobs; then the run.
  perform rowflow._cancel_steps(v_run.id, array['step', 'compensation', 'on_failure'],
                                coalesce(cancel_run.reason, 'run cancelled'), v_now);
  update rowflow.runs as r
  set status = 'cancelled', updated_at = v_now, finished_at = v_now
  where r.id = v_run.id;
  insert into rowflow.events (run_id, type, data, at)
  values (v_run.id, 'run_cancelled', jsonb_build_object('reason', cancel_run.reason, 'from', v_run.status), v_now);
  perform rowflow._audit('cancel_run', v_run.workflow, v_run.id, null, cancel_run.reason,
                         jsonb_build_object('from', v_run.status), v_now);
  perform rowflow._notify(jsonb_build_object('run', v_run.id));
  return true;
end;
$$;
comment on function rowflow.cancel_run(bigint, text, timestamptz) is
  'Cancels an active run: unfinished step runs cancelled, their queued jobs removed. False if the run already ended; RF023 if unknown.';
select rowflow._allow('function rowflow.cancel_run(bigint, text, timestamptz)', '{operator,app}');

-- from sql/schema/85_operate/_audit.sql
create or replace function rowflow._audit(action text, workflow text, run_id bigint, step text, reason text,
  data jsonb, now timestamptz)
returns void
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_role text := pg_catalog.current_setting('role', true);
begin
  insert into rowflow.audit (at, action, workflow, run_id, step, reason, data, session_user_name, set_role,
                             application_name, client_addr)
  values (coalesce(_audit.now, pg_catalog.statement_timestamp()), _audit.action, _audit.workflow, _audit.run_id,
          _audit.step, _audit.reason, _audit.data, session_user,
          case when v_role is null or v_role = 'none' then null else v_role end,
          nullif(pg_catalog.current_setting('application_name', true), ''),
          pg_catalog.inet_client_addr());
end;
$$;
comment on function rowflow._audit(text, text, bigint, text, text, jsonb, timestamptz) is
  'Internal: one rowflow.audit row for an operator action, with the acting session''s identity.';
select rowflow._allow('function rowflow._audit(text, text, bigint, text, text, jsonb, timestamptz)', '{}');

-- from sql/schema/85_operate/_requeue_steps.sql
create or replace function rowflow._requeue_steps(run_id bigint, steps text[], now timestamptz)
returns text[]
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_run rowflow.runs;
  v_done rowflow.done_step[];
  v_roots text[];
  v_jobs rowflow.step_job[];
  v_ids bigint[];
  v_released text[];
begin
  select r.* into v_run from rowflow.runs as r where r.id = _requeue_steps.run_id;
  -- PHASE 1: roots get a job now.
  select coalesce(array_agg(ws.name order by ws.name), '{}'),
         coalesce(array_agg(row(v_run.id, ws.name, 1,
           rowflow._queue_name(ws.queue_name, ws.queue_key,
                               pg_catalog.jsonb_build_object('input', v_run.input, 'steps', '{}'::jsonb)),
           _requeue_steps.now + coalesce(ws.delay, interval '0'), coalesce(ws.priority, 0) + v_run.priority
           )::rowflow.step_job order by ws.name), '{}')
  into v_roots, v_jobs
  from rowflow.workflow_steps as ws
  where ws.workflow = v_run.workflow and ws.version = v_run.version and ws.name = any (_requeue_steps.steps)
    and ws.n_deps = 0;
  v_ids := rowflow._add_step_jobs(v_jobs);
  insert into rowflow.step_runs (run_id, step, kind, status, deps_remaining, attempt, max_attempts, created_at,
                                 queued_at, job_id)
  select v_run.id, ws.name, 'step', 'queued', 0, 1, ws.attempts, _requeue_steps.now, _requeue_steps.now, v_ids[o.i]
  from unnest(v_roots) with ordinality as o(name, i)
  join rowflow.workflow_steps as ws on ws.workflow = v_run.workflow and ws.version = v_run.version and ws.name = o.name
  order by o.i;

  -- PHASE 2: the others, released by their done dependencies.
  select coalesce(array_agg(distinct row(v_run.id, sr.step, 1)::rowflow.done_step), '{}') into v_done
  from rowflow.workflow_steps as ws
  cross join unnest(ws.depends_on) as dep(name)
  join rowflow.step_runs as sr on sr.run_id = v_run.id and sr.step = dep.name and sr.kind = 'step'
  where ws.workflow = v_run.workflow and ws.version = v_run.version and ws.name = any (_requeue_steps.steps)
    and sr.status in ('succeeded', 'skipped');
  select coalesce(array_agg(x.step order by x.step) filter (where x.status in ('queued', 'running')), '{}')
  into v_released
  from rowflow._release(v_done, null, null, _requeue_steps.now, null) as x;
  return v_roots || v_released;
end;
$$;
comment on function rowflow._requeue_steps(bigint, text[], timestamptz) is
  'Internal: queues the given steps of a running run afresh (roots now, the others through the release of their done dependencies); answers the steps queued.';
select rowflow._allow('function rowflow._requeue_steps(bigint, text[], timestamptz)', '{}');

-- from sql/schema/85_operate/bulk.sql
create or replace function rowflow._bulk_runs(workflow text, statuses text[], since timestamptz, before timestamptz,
  max_runs int)
returns setof bigint
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
begin
  if _bulk_runs.max_runs is null or _bulk_runs.max_runs not between 1 and 100000 then
    raise exception 'max_runs must be between 1 and 100000, got %', coalesce(_bulk_runs.max_runs::text, 'null')
      using errcode = 'RF043';
  end if;
  if _bulk_runs.workflow is not null
     and not exists (select 1 from rowflow.workflows as w where w.name = _bulk_runs.workflow) then
    raise exception 'unknown workflow %', _bulk_runs.workflow using errcode = 'RF020';
  end if;
  return query
  select r.id from rowflow.runs as r
  where (_bulk_runs.workflow is null or r.workflow = _bulk_runs.workflow) and r.status = any (_bulk_runs.statuses)
    and (_bulk_runs.since is null or r.created_at >= _bulk_runs.since)
    and (_bulk_runs.before is null or r.created_at < _bulk_runs.before)
  order by r.id
  limit _bulk_runs.max_runs
  for no key update skip locked;
end;
$$;
comment on function rowflow._bulk_runs(text, text[], timestamptz, timestamptz, int) is
  'Internal: the runs a bulk operation applies to (filter, oldest first, locked, SKIP LOCKED).';
select rowflow._allow('function rowflow._bulk_runs(text, text[], timestamptz, timestamptz, int)', '{}');

create or replace function rowflow.retry_runs(workflow text, statuses text[] default '{failed}',
  since timestamptz default null, before timestamptz default null, mode text default 'failed',
  reason text default null, max_runs int default 1000, now timestamptz default null)
returns jsonb
language plpgsql
security definer
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_id bigint;
  v_matched int := 0;
  v_changed int := 0;
begin
  perform rowflow._require('{operator}');
  if retry_runs.mode is null or retry_runs.mode not in ('failed', 'failed_and_downstream') then
    raise exception 'retry_runs: mode must be ''failed'' or ''failed_and_downstream'', got %',
      coalesce(pg_catalog.quote_literal(retry_runs.mode), 'null') using errcode = 'RF043';
  end if;
  if retry_runs.statuses is null or cardinality(retry_runs.statuses) = 0
     or exists (select 1 from unnest(retry_runs.statuses) as s where s is null or s not in ('failed', 'cancelled')) then
    raise exception 'retry_runs: statuses must be some of failed, cancelled, got %',
      coalesce(retry_runs.statuses::text, 'null') using errcode = 'RF043';
  end if;
  for v_id in select b from rowflow._bulk_runs(retry_runs.workflow, retry_runs.statuses, retry_runs.since,
                                                retry_runs.before, retry_runs.max_runs) as b loop
    v_matched := v_matched + 1;
    if (rowflow.retry_run(v_id, retry_runs.mode, retry_runs.reason, retry_runs.now) ->> 'retried')::boolean then
      v_changed := v_changed + 1;
    end if;
  end loop;
  return pg_catalog.jsonb_build_object('matched', v_matched, 'retried', v_changed, 'unchanged', v_matched - v_changed);
end;
$$;
comment on function rowflow.retry_runs(text, text[], timestamptz, timestamptz, text, text, int, timestamptz) is
  'retry_run over a filter (workflow, failed/cancelled statuses, created in [since, before)), at most max_runs per call; answers counts.';
select rowflow._allow('function rowflow.retry_runs(text, text[], timestamptz, timestamptz, text, text, int, timestamptz)', '{operator}');

create or replace function rowflow.cancel_runs(workflow text, statuses text[] default '{queued,running}',
  since timestamptz default null, before timestamptz default null, reason text default null,
  max_runs int default 1000, now timestamptz default null)
returns jsonb
language plpgsql
security definer
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_id bigint;
  v_matched int := 0;
  v_changed int := 0;
begin
  perform rowflow._require('{operator}');
  if cancel_runs.statuses is null or cardinality(cancel_runs.statuses) = 0
     or exists (select 1 from unnest(cancel_runs.statuses) as s
                where s is null or s not in ('queued', 'running', 'compensating')) then
    raise exception 'cancel_runs: statuses must be some of queued, running, compensating, got %',
      coalesce(cancel_runs.statuses::text, 'null') using errcode = 'RF043';
  end if;
  for v_id in select b from rowflow._bulk_runs(cancel_runs.workflow, cancel_runs.statuses, cancel_runs.since,
                                                cancel_runs.before, cancel_runs.max_runs) as b loop
    v_matched := v_matched + 1;
    if rowflow.cancel_run(v_id, cancel_runs.reason, cancel_runs.now) then
      v_changed := v_changed + 1;
    end if;
  end loop;
  return pg_catalog.jsonb_build_object('matched', v_matched, 'cancelled', v_changed,
                                       'unchanged', v_matched - v_changed);
end;
$$;
comment on function rowflow.cancel_runs(text, text[], timestamptz, timestamptz, text, int, timestamptz) is
  'cancel_run over a filter (workflow, queued/running/compensating statuses, created in [since, before)), at most max_runs per call; answers counts.';
select rowflow._allow('function rowflow.cancel_runs(text, text[], timestamptz, timestamptz, text, int, timestamptz)', '{operator}');

-- from sql/schema/85_operate/explain_run.sql
create or replace function rowflow.explain_run(run_id bigint, now timestamptz default null,
  worker_timeout interval default '30 seconds')
returns table (step text, status text, code text, reason text, detail jsonb)
language plpgsql
stable
security definer
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_now timestamptz := coalesce(explain_run.now, pg_catalog.statement_timestamp());
  v_run rowflow.runs;
  v_paused boolean;
  v_live int;
begin
  perform rowflow._require('{operator,viewer}');
  select r.* into v_run from rowflow.runs as r where r.id = explain_run.run_id;
  if not found then
    raise exception 'unknown run %', explain_run.run_id using errcode = 'RF023';
  end if;
  select w.paused into v_paused from rowflow.workflows as w where w.name = v_run.workflow;
  select count(*)::int into v_live from rowflow.workers as wk
  where wk.heartbeat_at > v_now - explain_run.worker_timeout;

  if v_run.status in ('succeeded', 'failed', 'cancelled') then
    return query select null::text, v_run.status, 'run_finished',
      'the run ended: ' || v_run.status || ' at ' || v_run.finished_at::text,
      pg_catalog.jsonb_build_object('finishedAt', v_run.finished_at, 'error', v_run.error);
    return;
  end if;
  if v_run.status = 'queued' then
    return query select null::text, 'queued'::text,
      case when v_paused then 'run_paused' else 'run_unclaimed' end,
      case when v_paused then 'workflow ' || v_run.workflow || ' is paused: its runs wait until resume_workflow'
           when v_live = 0 then 'no live worker: the run waits to be claimed by one'
           else 'waiting to be claimed by one of ' || v_live || ' live worker(s)' end,
      pg_catalog.jsonb_build_object('liveWorkers', v_live, 'createdAt', v_run.created_at);
    return;
  end if;

  return query
  with s as (
    -- every step of the version (a missing row is pending) and the chain's links
    select ws.name as step, coalesce(sr.status, 'pending') as status, 'step'::text as kind, ws.task,
           ws.depends_on, sr.attempt, coalesce(sr.max_attempts, ws.attempts) as max_attempts, sr.error,
           sr.job_id, sr.locked_by, sr.started_at, coalesce(sr.kind, 'step') as row_kind
    from rowflow.workflow_steps as ws
    left join rowflow.step_runs as sr on sr.run_id = v_run.id and sr.step = ws.name
    where ws.workflow = v_run.workflow and ws.version = v_run.version
    union all
    select sr.step, sr.status, sr.kind,
           case when sr.kind = 'on_failure' then wv.on_failure
                else (select c.compensate from rowflow.workflow_steps as c
                      where c.workflow = v_run.workflow and c.version = v_run.version
                        and c.name = substr(sr.step, length('compensate:') + 1)) end,
           '{}'::text[], sr.attempt, sr.max_attempts, sr.error, sr.job_id, sr.locked_by, sr.started_at, sr.kind
    from rowflow.step_runs as sr
    join rowflow.workflow_versions as wv on wv.workflow = v_run.workflow and wv.version = v_run.version
    where sr.run_id = v_run.id and sr.kind <> 'step'
  ), x as (
    select s.*, j.run_at, j.locked_at as job_locked_at, j.locked_by as job_locked_by, q.queue_name,
           q.locked_by as queue_locked_by,
           (select array_agg(d.name order by d.name) from unnest(s.depends_on) as d(name)
            left join rowflow.step_runs as dr on dr.run_id = v_run.id and dr.step = d.name
            where coalesce(dr.status, 'pending') not in ('succeeded', 'skipped')) as waiting_on,
           (select count(*)::int from graphile_worker._private_jobs as o
            where q.id is not null and o.job_queue_id = q.id and o.id < j.id) as ahead,
           (select pg_catalog.jsonb_build_object('run', (o.payload ->> 'run')::bigint, 'step', o.payload ->> 'step')
            from graphile_worker._private_jobs as o
            where q.id is not null and q.locked_by is not null and o.job_queue_id = q.id and o.locked_at is not null
            limit 1) as holder,
           (select count(*)::int from rowflow.workers as wk
            where wk.heartbeat_at > v_now - explain_run.worker_timeout and s.task = any (wk.tasks)) as task_workers
    from s
    left join graphile_worker._private_jobs as j on j.id = s.job_id
    left join graphile_worker._private_job_queues as q on q.id = j.job_queue_id
    where s.status in ('pending', 'queued', 'running')
  )
  select x.step, x.status,
    case
      when x.status = 'running' then 'running'
      when x.status = 'pending' and x.row_kind <> 'step' then 'waiting_on_chain'
      when x.status = 'pending' then 'waiting_on_dependencies'
      when x.locked_by is not null then 'handed_to_worker'
      when x.run_at > v_now and x.attempt > 1 then 'backing_off'
      when x.run_at > v_now then 'delayed'
      when x.queue_name is not null and x.ahead > 0 then 'queued_behind'
      when x.task_workers = 0 then 'no_worker_for_task'
      else 'ready'
    end,
    case
      when x.status = 'running' then
        'attempt ' || x.attempt || ' of ' || x.max_attempts || ' running on worker '
        || coalesce(x.locked_by, x.job_locked_by, '?') || ' since ' || x.started_at::text
      when x.status = 'pending' and x.row_kind <> 'step' then
        'waiting for the earlier links of the compensation chain'
      when x.status = 'pending' then
        'waiting on ' || coalesce(pg_catalog.array_to_string(x.waiting_on, ', '), 'its dependencies')
      when x.locked_by is not null then 'handed to worker ' || x.locked_by || ', starting'
      when x.run_at > v_now and x.attempt > 1 then
        'attempt ' || (x.attempt - 1) || ' of ' || x.max_attempts || ' failed'
        || coalesce(': ' || (x.error ->> 'message'), '') || '; attempt ' || x.attempt || ' starts at ' || x.run_at::text
      when x.run_at > v_now then 'delayed until ' || x.run_at::text
      when x.queue_name is not null and x.ahead > 0 then
        'queue ' || x.queue_name || ': ' || x.ahead || ' job(s) ahead'
        || coalesce(', held by run ' || (x.holder ->> 'run') || ' step ' || (x.holder ->> 'step'), '')
      when x.task_workers = 0 then 'no live worker has registered task ' || x.task
      else 'due, waiting for a free slot of ' || x.task_workers || ' live worker(s) with task ' || x.task
    end,
    pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
      'kind', x.row_kind, 'task', x.task, 'attempt', x.attempt, 'maxAttempts', x.max_attempts,
      'waitingOn', pg_catalog.to_jsonb(x.waiting_on), 'runAt', x.run_at, 'queue', x.queue_name,
      'ahead', case when x.queue_name is not null then x.ahead end, 'holder', x.holder,
      'worker', coalesce(x.locked_by, x.job_locked_by), 'liveWorkersWithTask', x.task_workers,
      'lastError', x.error))
  from x
  order by case x.row_kind when 'step' then 0 else 1 end, x.step;
end;
$$;
comment on function rowflow.explain_run(bigint, timestamptz, interval) is
  'Why each unfinished step of a run is not running (or where it runs): code, sentence and figures. RF023 if the run is unknown.';
select rowflow._allow('function rowflow.explain_run(bigint, timestamptz, interval)', '{operator,viewer}');

-- from sql/schema/85_operate/pause_workflow.sql
create or replace function rowflow.pause_workflow(name text, reason text default null, now timestamptz default null)
returns jsonb
language plpgsql
security definer
set search_path to ''
as $$
#variable_conflict use_column
begin
  perform rowflow._require('{operator}');
  return rowflow._set_paused(pause_workflow.name, true, pause_workflow.reason, pause_workflow.now);
end;
$$;
comment on function rowflow.pause_workflow(text, text, timestamptz) is
  'Pauses a workflow: its new runs are created and wait, queued, until resume_workflow. Answers {"workflow", "paused", "changed"}; RF020 if unknown.';
select rowflow._allow('function rowflow.pause_workflow(text, text, timestamptz)', '{operator}');

create or replace function rowflow.resume_workflow(name text, reason text default null, now timestamptz default null)
returns jsonb
language plpgsql
security definer
set search_path to ''
as $$
#variable_conflict use_column
begin
  perform rowflow._require('{operator}');
  return rowflow._set_paused(resume_workflow.name, false, resume_workflow.reason, resume_workflow.now);
end;
$$;
comment on function rowflow.resume_workflow(text, text, timestamptz) is
  'Resumes a paused workflow: its queued runs are claimed again. Answers {"workflow", "paused", "changed"}; RF020 if unknown.';
select rowflow._allow('function rowflow.resume_workflow(text, text, timestamptz)', '{operator}');

create or replace function rowflow._set_paused(name text, paused boolean, reason text, now timestamptz)
returns jsonb
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_now timestamptz := coalesce(_set_paused.now, pg_catalog.statement_timestamp());
  v_was boolean;
  v_queued int;
begin
  select w.paused into v_was from rowflow.workflows as w where w.name = _set_paused.name for no key update;
  if not found then
    raise exception 'unknown workflow %', coalesce(_set_paused.name, 'null') using errcode = 'RF020';
  end if;
  if v_was = _set_paused.paused then
    return pg_catalog.jsonb_build_object('workflow', _set_paused.name, 'paused', v_was, 'changed', false);
  end if;
  update rowflow.workflows as w set paused = _set_paused.paused, updated_at = v_now where w.name = _set_paused.name;
  select count(*)::int into v_queued from rowflow.runs as r where r.workflow = _set_paused.name and r.status = 'queued';
  perform rowflow._audit(case when _set_paused.paused then 'pause_workflow' else 'resume_workflow' end,
                         _set_paused.name, null, null, _set_paused.reason,
                         pg_catalog.jsonb_build_object('queuedRuns', v_queued), v_now);
  if not _set_paused.paused and v_queued > 0 then
    perform rowflow._wake_all(0, v_queued, pg_catalog.jsonb_build_object('workflow', _set_paused.name, 'resumed', true));
  end if;
  return pg_catalog.jsonb_build_object('workflow', _set_paused.name, 'paused', _set_paused.paused, 'changed', true,
                                       'queuedRuns', v_queued);
end;
$$;
comment on function rowflow._set_paused(text, boolean, text, timestamptz) is
  'Internal: the body of pause_workflow / resume_workflow.';
select rowflow._allow('function rowflow._set_paused(text, boolean, text, timestamptz)', '{}');

-- from sql/schema/85_operate/purge_runs.sql
create or replace function rowflow.purge_runs(older_than interval,
  statuses text[] default '{succeeded,failed,cancelled}', workflow text default null, batch int default 1000,
  reason text default null, now timestamptz default null)
returns int
language plpgsql
security definer
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_now timestamptz := coalesce(purge_runs.now, pg_catalog.statement_timestamp());
  v_ids bigint[];
begin
  -- GUARD: operators; arguments that cannot reach unfinished runs.
  perform rowflow._require('{operator}');
  if purge_runs.older_than is null or purge_runs.older_than < interval '0' then
    raise exception 'purge_runs: older_than must be an interval of 0 or more, got %',
      coalesce(purge_runs.older_than::text, 'null') using errcode = 'RF043';
  end if;
  if purge_runs.statuses is null or cardinality(purge_runs.statuses) = 0
     or exists (select 1 from unnest(purge_runs.statuses) as s
                where s is null or s not in ('succeeded', 'failed', 'cancelled')) then
    raise exception 'purge_runs: statuses must be some of succeeded, failed, cancelled, got %',
      coalesce(purge_runs.statuses::text, 'null') using errcode = 'RF043';
  end if;
  if purge_runs.batch is null or purge_runs.batch not between 1 and 100000 then
    raise exception 'purge_runs: batch must be between 1 and 100000, got %', coalesce(purge_runs.batch::text, 'null')
      using errcode = 'RF043';
  end if;
  if purge_runs.workflow is not null
     and not exists (select 1 from rowflow.workflows as w where w.name = purge_runs.workflow) then
    raise exception 'unknown workflow %', purge_runs.workflow using errcode = 'RF020';
  end if;

  -- PHASE 1: pick, lock and delete the batch.
  v_ids := rowflow._purge_batch(purge_runs.older_than, purge_runs.statuses, purge_runs.workflow, purge_runs.batch,
                                v_now);
  if cardinality(v_ids) = 0 then
    return 0;
  end if;
  perform rowflow._audit('purge_runs', purge_runs.workflow, null, null, purge_runs.reason,
    pg_catalog.jsonb_build_object('deleted', cardinality(v_ids), 'olderThan', purge_runs.older_than::text,
                                  'statuses', pg_catalog.to_jsonb(purge_runs.statuses),
                                  'firstId', v_ids[1], 'lastId', v_ids[cardinality(v_ids)]), v_now);
  return cardinality(v_ids);
end;
$$;
comment on function rowflow.purge_runs(interval, text[], text, int, text, timestamptz) is
  'Deletes up to batch finished runs older than older_than (with their steps and events; audit rows stay); answers how many. Call until 0.';
select rowflow._allow('function rowflow.purge_runs(interval, text[], text, int, text, timestamptz)', '{operator}');

create or replace function rowflow._purge_batch(older_than interval, statuses text[], workflow text, batch int,
  now timestamptz)
returns bigint[]
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_ids bigint[];
begin
  select coalesce(array_agg(v.id order by v.id), '{}') into v_ids
  from (
    select r.id from rowflow.runs as r
    where r.status = any (_purge_batch.statuses) and r.status in ('succeeded', 'failed', 'cancelled')
      and r.finished_at < _purge_batch.now - _purge_batch.older_than
      and (_purge_batch.workflow is null or r.workflow = _purge_batch.workflow)
    order by r.id
    limit _purge_batch.batch
    for update skip locked
  ) as v;
  if cardinality(v_ids) > 0 then
    delete from rowflow.step_runs as sr where sr.run_id = any (v_ids);
    delete from rowflow.events as e where e.run_id = any (v_ids);
    delete from rowflow.runs as r where r.id = any (v_ids);
  end if;
  return v_ids;
end;
$$;
comment on function rowflow._purge_batch(interval, text[], text, int, timestamptz) is
  'Internal: deletes up to batch finished runs older than older_than (steps, events); answers their ids.';
select rowflow._allow('function rowflow._purge_batch(interval, text[], text, int, timestamptz)', '{}');

-- from sql/schema/85_operate/rerun_from.sql
create or replace function rowflow.rerun_from(run_id bigint, step text, reason text default null,
  now timestamptz default null)
returns jsonb
language plpgsql
security definer
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_now timestamptz := coalesce(rerun_from.now, pg_catalog.statement_timestamp());
  v_src rowflow.runs;
  v_new bigint;
  v_down text[];
  v_copied text[];
  v_reset text[];
  v_queued text[];
  v_status text;
  v_answer jsonb;
begin
  -- GUARD: operators; a known run that has started; a step of its version.
  perform rowflow._require('{operator}');
  select r.* into v_src from rowflow.runs as r where r.id = rerun_from.run_id;
  if not found then
    raise exception 'unknown run %', rerun_from.run_id using errcode = 'RF023';
  end if;
  if not exists (select 1 from rowflow.workflow_steps as ws
                 where ws.workflow = v_src.workflow and ws.version = v_src.version and ws.name = rerun_from.step) then
    raise exception 'run % (workflow %, version %) has no step %', v_src.id, v_src.workflow, v_src.version,
      coalesce(pg_catalog.quote_literal(rerun_from.step), 'null') using errcode = 'RF041';
  end if;
  if v_src.started_at is null then
    raise exception 'run % has not started: nothing ran to rerun from', v_src.id using errcode = 'RF040',
      hint = case when v_src.status = 'queued' then 'It runs once a worker claims it.'
                  else 'retry_run queues it again.' end;
  end if;

  -- PHASE 1: what runs again (step and downstream), what is copied.
  with recursive down(name) as (
    select rerun_from.step
    union
    select dep.name
    from down as d
    join rowflow.workflow_steps as ws on ws.workflow = v_src.workflow and ws.version = v_src.version and ws.name = d.name
    cross join unnest(ws.dependents) as dep(name)
  )
  select array_agg(d.name order by d.name) into v_down from down as d;
  select coalesce(array_agg(ws.name order by ws.name) filter (where c.step is not null), '{}'),
         coalesce(array_agg(ws.name order by ws.name) filter (where c.step is null), '{}')
  into v_copied, v_reset
  from rowflow.workflow_steps as ws
  left join rowflow.step_runs as c
    on c.run_id = v_src.id and c.step = ws.name and c.kind = 'step' and c.status in ('succeeded', 'skipped')
       and ws.name <> all (v_down)
  where ws.workflow = v_src.workflow and ws.version = v_src.version;

  -- PHASE 2: the new run, claimed; the copied steps' rows.
  insert into rowflow.runs (workflow, version, status, input, priority, created_at, updated_at, started_at,
                            started_by, rerun_of)
  values (v_src.workflow, v_src.version, 'running', v_src.input, v_src.priority, v_now, v_now, v_now,
          v_src.started_by, v_src.id)
  returning id into v_new;
  insert into rowflow.step_runs (run_id, step, kind, status, deps_remaining, attempt, max_attempts, output,
                                 created_at, started_at, finished_at)
  select v_new, c.step, 'step', c.status, 0, 0, c.max_attempts, c.output, v_now,
         case when c.status = 'succeeded' then v_now end, v_now
  from rowflow.step_runs as c
  where c.run_id = v_src.id and c.kind = 'step' and c.step = any (v_copied)
  order by c.step;

  -- PHASE 3: queue what can run; record it; finish if nothing is left.
  v_queued := rowflow._requeue_steps(v_new, v_reset, v_now);
  v_answer := pg_catalog.jsonb_build_object('run', v_new, 'rerunOf', v_src.id, 'step', rerun_from.step,
    'copied', pg_catalog.to_jsonb(v_copied), 'steps', pg_catalog.to_jsonb(v_reset),
    'queued', pg_catalog.to_jsonb(v_queued));
  insert into rowflow.events (run_id, type, data, at)
  values (v_new, 'run_rerun', v_answer - 'run' || pg_catalog.jsonb_build_object('reason', rerun_from.reason), v_now);
  perform rowflow._audit('rerun_from', v_src.workflow, v_new, rerun_from.step, rerun_from.reason, v_answer, v_now);
  select f.status into v_status from rowflow._finish_runs(array[v_new], v_now) as f;
  perform rowflow._notify(pg_catalog.jsonb_build_object('run', v_new));
  return v_answer || pg_catalog.jsonb_build_object('status', coalesce(v_status, 'running'));
end;
$$;
comment on function rowflow.rerun_from(bigint, text, text, timestamptz) is
  'A new run of the same version and input in which step and everything downstream run again and the other succeeded steps are copied with their outputs; answers the new run id and what it copied.';
select rowflow._allow('function rowflow.rerun_from(bigint, text, text, timestamptz)', '{operator}');

-- from sql/schema/85_operate/retention.sql
create or replace function rowflow.set_retention(workflow text, retention interval, reason text default null,
  now timestamptz default null)
returns jsonb
language plpgsql
security definer
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_now timestamptz := coalesce(set_retention.now, pg_catalog.statement_timestamp());
  v_old interval;
begin
  perform rowflow._require('{operator}');
  if set_retention.retention is not null and set_retention.retention <= interval '0' then
    raise exception 'set_retention: retention must be a positive interval or null (keep forever), got %',
      set_retention.retention using errcode = 'RF043';
  end if;
  select w.retention into v_old from rowflow.workflows as w where w.name = set_retention.workflow for no key update;
  if not found then
    raise exception 'unknown workflow %', coalesce(set_retention.workflow, 'null') using errcode = 'RF020';
  end if;
  if v_old is not distinct from set_retention.retention then
    return pg_catalog.jsonb_build_object('workflow', set_retention.workflow, 'retention', v_old::text,
                                         'changed', false);
  end if;
  update rowflow.workflows as w set retention = set_retention.retention, updated_at = v_now
  where w.name = set_retention.workflow;
  perform rowflow._audit('set_retention', set_retention.workflow, null, null, set_retention.reason,
    pg_catalog.jsonb_build_object('from', v_old::text, 'to', set_retention.retention::text), v_now);
  return pg_catalog.jsonb_build_object('workflow', set_retention.workflow,
                                       'retention', set_retention.retention::text, 'changed', true);
end;
$$;
comment on function rowflow.set_retention(text, interval, text, timestamptz) is
  'Keeps a workflow''s finished runs for retention (null: forever); the workers purge older ones (apply_retention).';
select rowflow._allow('function rowflow.set_retention(text, interval, text, timestamptz)', '{operator}');

create or replace function rowflow.apply_retention(worker_id text default null, every interval default '1 minute',
  batch int default 1000, max_batches int default 10, now timestamptz default null)
returns jsonb
language plpgsql
security definer
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_now timestamptz := coalesce(apply_retention.now, pg_catalog.statement_timestamp());
  v_last timestamptz;
  v_wf record;
  v_ids bigint[];
  v_n int;
  v_deleted int := 0;
  v_by jsonb := '{}';
  v_result jsonb;
begin
  -- GUARD: workers and operators; sane bounds; claim the period or go.
  perform rowflow._require('{worker,operator}');
  if apply_retention.every is null or apply_retention.every <= interval '0'
     or apply_retention.batch is null or apply_retention.batch not between 1 and 100000
     or apply_retention.max_batches is null or apply_retention.max_batches not between 1 and 1000 then
    raise exception 'apply_retention: every must be positive, batch 1..100000, max_batches 1..1000'
      using errcode = 'RF043';
  end if;
  -- Most calls come before the period is due: a plain read answers them
  -- without locking (FOR UPDATE writes the row's lock, every worker, every
  -- heartbeat). The locked read then decides.
  if exists (select 1 from rowflow.maintenance as m
             where m.task = 'retention' and m.last_at > v_now - apply_retention.every) then
    return pg_catalog.jsonb_build_object('claimed', false);
  end if;
  select m.last_at into v_last from rowflow.maintenance as m where m.task = 'retention' for update skip locked;
  if not found then
    -- Locked by another caller (it has the period), or missing: the
    -- migration seeds the row; one deleted by hand is put back for the
    -- next call. (Inserting first on every call would make a second caller
    -- wait for a first that inserted the row and still holds it.)
    if not exists (select 1 from rowflow.maintenance as m where m.task = 'retention') then
      insert into rowflow.maintenance (task, last_at) values ('retention', '-infinity') on conflict (task) do nothing;
    end if;
    return pg_catalog.jsonb_build_object('claimed', false);
  end if;
  if v_last > v_now - apply_retention.every then
    return pg_catalog.jsonb_build_object('claimed', false);
  end if;

  -- PHASE 1: each workflow with a retention, oldest runs first, bounded.
  for v_wf in select w.name, w.retention from rowflow.workflows as w where w.retention is not null order by w.name loop
    v_n := 0;
    for i in 1 .. apply_retention.max_batches loop
      v_ids := rowflow._purge_batch(v_wf.retention, '{succeeded,failed,cancelled}', v_wf.name, apply_retention.batch,
                                    v_now);
      v_n := v_n + cardinality(v_ids);
      exit when cardinality(v_ids) < apply_retention.batch;
    end loop;
    if v_n > 0 then
      v_by := v_by || pg_catalog.jsonb_build_object(v_wf.name, v_n);
      v_deleted := v_deleted + v_n;
    end if;
  end loop;

  -- PHASE 2: record the period.
  v_result := pg_catalog.jsonb_build_object('claimed', true, 'deleted', v_deleted, 'workflows', v_by);
  update rowflow.maintenance as m set last_at = v_now, last_by = apply_retention.worker_id, last_result = v_result
  where m.task = 'retention';
  if v_deleted > 0 then
    perform rowflow._audit('apply_retention', null, null, null, null,
                           v_result || pg_catalog.jsonb_build_object('worker', apply_retention.worker_id), v_now);
  end if;
  return v_result;
end;
$$;
comment on function rowflow.apply_retention(text, interval, int, int, timestamptz) is
  'Purges finished runs older than their workflow''s retention, at most once per `every` across all callers (the workers call it on their heartbeat). Answers {"claimed", "deleted", "workflows"}.';
select rowflow._allow('function rowflow.apply_retention(text, interval, int, int, timestamptz)', '{worker,operator}');

-- from sql/schema/85_operate/retry_run.sql
create or replace function rowflow.retry_run(run_id bigint, mode text default 'failed', reason text default null,
  now timestamptz default null)
returns jsonb
language plpgsql
security definer
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_now timestamptz := coalesce(retry_run.now, pg_catalog.statement_timestamp());
  v_run rowflow.runs;
  v_reset text[];
  v_chain jsonb;
  v_compensated text[];
  v_queued text[];
  v_answer jsonb;
  v_status text;
begin
  -- GUARD: operators; a known mode; lock the run; only failed/cancelled.
  perform rowflow._require('{operator}');
  if retry_run.mode is null or retry_run.mode not in ('failed', 'failed_and_downstream') then
    raise exception 'retry_run: mode must be ''failed'' or ''failed_and_downstream'', got %',
      coalesce(pg_catalog.quote_literal(retry_run.mode), 'null') using errcode = 'RF043';
  end if;
  select r.* into v_run from rowflow.runs as r where r.id = retry_run.run_id for no key update;
  if not found then
    raise exception 'unknown run %', retry_run.run_id using errcode = 'RF023';
  end if;
  if v_run.status in ('queued', 'running') then
    return pg_catalog.jsonb_build_object('run', v_run.id, 'retried', false, 'status', v_run.status);
  end if;
  if v_run.status = 'succeeded' then
    raise exception 'run % succeeded: nothing to retry', v_run.id using errcode = 'RF040',
      hint = 'Start a new run of the workflow to run it again.';
  end if;
  if v_run.status = 'compensating' then
    raise exception 'run % is compensating: retry it once its compensation chain has ended', v_run.id
      using errcode = 'RF040';
  end if;

  -- PHASE 1: a run cancelled before its claim has no step rows: queue it again.
  if v_run.started_at is null then
    update rowflow.runs as r set status = 'queued', error = null, finished_at = null, updated_at = v_now
    where r.id = v_run.id;
    v_answer := pg_catalog.jsonb_build_object('run', v_run.id, 'retried', true, 'mode', retry_run.mode,
      'from', v_run.status, 'status', 'queued', 'steps', '[]'::jsonb, 'queued', '[]'::jsonb, 'chain', '{}'::jsonb);
    insert into rowflow.events (run_id, type, data, at)
    values (v_run.id, 'run_retried', v_answer - 'run' - 'retried' || pg_catalog.jsonb_build_object('reason', retry_run.reason), v_now);
    perform rowflow._audit('retry_run', v_run.workflow, v_run.id, null, retry_run.reason, v_answer, v_now);
    perform rowflow._wake_all(0, 1, pg_catalog.jsonb_build_object('run', v_run.id));
    return v_answer;
  end if;

  -- PHASE 2: the steps to run again: failed and cancelled ones, and in
  -- 'failed_and_downstream' mode everything that depends on them.
  with recursive seed as (
    select sr.step from rowflow.step_runs as sr
    where sr.run_id = v_run.id and sr.kind = 'step' and sr.status in ('failed', 'cancelled')
  ), down(name) as (
    select s.step from seed as s
    union
    select dep.name
    from down as d
    join rowflow.workflow_steps as ws on ws.workflow = v_run.workflow and ws.version = v_run.version and ws.name = d.name
    cross join unnest(ws.dependents) as dep(name)
    where retry_run.mode = 'failed_and_downstream'
  )
  select coalesce(array_agg(d.name order by d.name), '{}') into v_reset from down as d;

  -- The chain of the failure, kept in the event; compensated steps named.
  select pg_catalog.jsonb_object_agg(sr.step, sr.status order by sr.seq),
         array_agg(substr(sr.step, length('compensate:') + 1) order by sr.seq)
           filter (where sr.kind = 'compensation' and sr.status = 'succeeded')
  into v_chain, v_compensated
  from rowflow.step_runs as sr where sr.run_id = v_run.id and sr.kind <> 'step';

  -- PHASE 3: remove the reset steps' rows (and any job still queued for
  -- them) and the chain's; the run is running again.
  delete from graphile_worker._private_jobs as j
  using rowflow.step_runs as sr
  where sr.run_id = v_run.id and (sr.kind <> 'step' or sr.step = any (v_reset))
    and j.id = sr.job_id and j.locked_at is null;
  delete from rowflow.step_runs as sr
  where sr.run_id = v_run.id and (sr.kind <> 'step' or sr.step = any (v_reset));
  update rowflow.runs as r set status = 'running', error = null, finished_at = null, updated_at = v_now
  where r.id = v_run.id;

  -- PHASE 4: queue what can run (sql/schema/85_operate/_requeue_steps.sql).
  v_queued := rowflow._requeue_steps(v_run.id, v_reset, v_now);

  -- PHASE 5: record it; a run whose reset steps were all skipped by
  -- their conditions is finished here.
  v_answer := pg_catalog.jsonb_build_object('run', v_run.id, 'retried', true, 'mode', retry_run.mode,
    'from', v_run.status, 'status', 'running', 'steps', pg_catalog.to_jsonb(v_reset),
    'queued', pg_catalog.to_jsonb(v_queued), 'chain', coalesce(v_chain, '{}'::jsonb));
  if v_compensated is not null then
    v_answer := v_answer || pg_catalog.jsonb_build_object('warning',
      'compensations ran for ' || pg_catalog.array_to_string(v_compensated, ', ') ||
      ': their effects were undone and ' ||
      case when retry_run.mode = 'failed' then 'those steps are not run again in mode failed'
           else 'only the steps downstream of the failure run again' end);
  end if;
  insert into rowflow.events (run_id, type, data, at)
  values (v_run.id, 'run_retried',
          v_answer - 'run' - 'retried' || pg_catalog.jsonb_build_object('reason', retry_run.reason), v_now);
  perform rowflow._audit('retry_run', v_run.workflow, v_run.id, null, retry_run.reason, v_answer - 'run', v_now);
  select f.status into v_status from rowflow._finish_runs(array[v_run.id], v_now) as f;
  perform rowflow._notify(pg_catalog.jsonb_build_object('run', v_run.id));
  return v_answer || pg_catalog.jsonb_build_object('status', coalesce(v_status, 'running'));
end;
$$;
comment on function rowflow.retry_run(bigint, text, text, timestamptz) is
  'Runs a failed or cancelled run''s failed/cancelled steps again (mode failed) or those and everything downstream (failed_and_downstream), keeping the other outputs. Answers what it reset and queued; {"retried": false} for a queued/running run.';
select rowflow._allow('function rowflow.retry_run(bigint, text, text, timestamptz)', '{operator}');

-- from sql/schema/85_operate/skip_step.sql
create or replace function rowflow.skip_step(run_id bigint, step text, output jsonb default null,
  reason text default null, now timestamptz default null)
returns jsonb
language plpgsql
security definer
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_now timestamptz := coalesce(skip_step.now, pg_catalog.statement_timestamp());
  v_run rowflow.runs;
  v_sr rowflow.step_runs;
  v_status text := case when skip_step.output is null then 'skipped' else 'succeeded' end;
  v_released text[];
  v_run_status text;
  v_answer jsonb;
  v_exists boolean;
begin
  -- GUARD: operators; an object or nothing; lock the run, then the step.
  perform rowflow._require('{operator}');
  if skip_step.output is not null and pg_catalog.jsonb_typeof(skip_step.output) <> 'object' then
    raise exception 'skip_step: output must be a JSON object or null, got %', pg_catalog.jsonb_typeof(skip_step.output)
      using errcode = 'RF043';
  end if;
  select r.* into v_run from rowflow.runs as r where r.id = skip_step.run_id for no key update;
  if not found then
    raise exception 'unknown run %', skip_step.run_id using errcode = 'RF023';
  end if;
  if not exists (select 1 from rowflow.workflow_steps as ws
                 where ws.workflow = v_run.workflow and ws.version = v_run.version and ws.name = skip_step.step) then
    raise exception 'run % (workflow %, version %) has no step %', v_run.id, v_run.workflow, v_run.version,
      coalesce(pg_catalog.quote_literal(skip_step.step), 'null') using errcode = 'RF041';
  end if;
  select sr.* into v_sr from rowflow.step_runs as sr
  where sr.run_id = v_run.id and sr.step = skip_step.step and sr.kind = 'step' for update;
  v_exists := found;
  if v_exists and v_sr.status in ('succeeded', 'skipped') then
    return pg_catalog.jsonb_build_object('run', v_run.id, 'step', skip_step.step, 'skipped', false,
                                         'status', v_sr.status, 'runStatus', v_run.status);
  end if;
  if v_run.status <> 'running' then
    raise exception 'run % is %: only a running run''s steps can be skipped', v_run.id, v_run.status
      using errcode = 'RF042',
      hint = case when v_run.status in ('failed', 'cancelled') then 'retry_run puts it back to running; then skip the step.'
                  when v_run.status = 'queued' then 'Its steps exist once a worker claims it.' end;
  end if;
  if v_exists and v_sr.status not in ('pending', 'queued') then
    raise exception 'step % of run % is %: only a pending or queued step can be skipped', skip_step.step, v_run.id,
      v_sr.status using errcode = 'RF042',
      hint = case when v_sr.status = 'running' then 'Wait for its attempt to end, or cancel the run.' end;
  end if;

  -- PHASE 1: settle the step; remove its job.
  if v_sr.job_id is not null then
    delete from graphile_worker._private_jobs as j where j.id = v_sr.job_id;
  end if;
  if v_exists then
    update rowflow.step_runs as sr
    set status = v_status, output = skip_step.output, deps_remaining = 0, finished_at = v_now, job_id = null,
        locked_by = null, started_at = case when v_status = 'succeeded' then coalesce(sr.started_at, v_now) end
    where sr.run_id = v_run.id and sr.step = skip_step.step;
  else
    insert into rowflow.step_runs (run_id, step, kind, status, deps_remaining, attempt, max_attempts, output,
                                   created_at, started_at, finished_at)
    select v_run.id, ws.name, 'step', v_status, 0, 0, ws.attempts, skip_step.output, v_now,
           case when v_status = 'succeeded' then v_now end, v_now
    from rowflow.workflow_steps as ws
    where ws.workflow = v_run.workflow and ws.version = v_run.version and ws.name = skip_step.step;
  end if;
  insert into rowflow.events (run_id, step, type, data, at)
  values (v_run.id, skip_step.step, 'step_skipped',
          pg_catalog.jsonb_build_object('by', session_user, 'status', v_status, 'reason', skip_step.reason,
                                        'from', coalesce(v_sr.status, 'pending')), v_now);

  -- PHASE 2: release its dependents; finish the run if nothing is left.
  select coalesce(array_agg(x.step order by x.step) filter (where x.status <> 'pending'), '{}') into v_released
  from rowflow._release(array[row(v_run.id, skip_step.step, 1)::rowflow.done_step], null, null, v_now, null) as x;
  update rowflow.runs as r set updated_at = v_now where r.id = v_run.id;
  select f.status into v_run_status from rowflow._finish_runs(array[v_run.id], v_now) as f;
  v_answer := pg_catalog.jsonb_build_object('run', v_run.id, 'step', skip_step.step, 'skipped', true,
    'status', v_status, 'from', coalesce(v_sr.status, 'pending'), 'released', pg_catalog.to_jsonb(v_released),
    'runStatus', coalesce(v_run_status, 'running'));
  perform rowflow._audit('skip_step', v_run.workflow, v_run.id, skip_step.step, skip_step.reason,
                         v_answer - 'run' - 'step' || pg_catalog.jsonb_build_object('output', skip_step.output), v_now);
  perform rowflow._notify(pg_catalog.jsonb_build_object('run', v_run.id));
  return v_answer;
end;
$$;
comment on function rowflow.skip_step(bigint, text, jsonb, text, timestamptz) is
  'Settles a pending or queued step of a running run by hand: succeeded with the given output object, or skipped (null); releases its dependents through the gate. Answers what changed.';
select rowflow._allow('function rowflow.skip_step(bigint, text, jsonb, text, timestamptz)', '{operator}');
