-- 000021_timeline_audit.sql — rowflow.run_timeline shows the operators' actions
-- on a run (issue #15: "every operation … writes an event with the acting
-- role …; rowflow.run_timeline shows them"): the rowflow.audit rows with a
-- run_id, typed by their action, with who and why in data, ord -1 (before
-- the events the action caused in its transaction) and a new last column,
-- audit_id (null for every other row). rowflow tail does not show them: its
-- cursor dedupes by stored event id (src/client/tail/transition-cursor.ts).
--
-- Also: claim_runs sends live views a hint ({"claimed": n}) when it
-- claimed runs, so rowflow tail shows run_started and the first steps at once
-- instead of at its next poll (one probe of rowflow.waiters per claim, the
-- one it made already whenever it queued jobs).
--
-- Fix: retry_run of a run cancelled while queued removes the cancelled step
-- rows the cancel wrote before it queues the run again. With them left, the
-- run's claim failed on step_runs_pkey, and since a claim takes queued runs
-- in one statement, every claim_runs failed from then on: no queued run of
-- any workflow was claimed (reported by a fresh-app check; the test fails
-- with step_runs_pkey without the fix).

-- from sql/schema/25_views/run_timeline.sql
create or replace view rowflow.run_timeline as
select e.run_id, e.at, e.step, e.type, e.attempt, e.data, e.id,
  case e.type
    when 'run_started' then 0
    when 'step_succeeded' then 1 when 'step_failed' then 1 when 'step_retrying' then 1
    when 'step_skipped' then 2 when 'step_cancelled' then 2
    when 'step_queued' then 3 when 'step_started' then 4
    else 5 end as ord,
  null::bigint as audit_id
from rowflow.events as e
union all
-- The implied events, for runs that store only what the rows cannot tell (a
-- run from before has a stored run_started event and stored ordinary-path events).
-- run_started: claimed by a worker.
select r.id, r.started_at, null, 'run_started', null, null, null, 0, null
from rowflow.runs as r where r.started_at is not null and not exists (select 1 from rowflow.events as se where se.run_id = r.id and se.type = 'run_started')
union all
-- run_succeeded (failed and cancelled runs have their stored event).
select r.id, r.finished_at, null, 'run_succeeded', null, null, null, 5, null
from rowflow.runs as r where r.status = 'succeeded' and not exists (select 1 from rowflow.events as se where se.run_id = r.id and se.type = 'run_started')
union all
-- step_queued: the first attempt (queued_at), and every retry (the
-- step_retrying event queues the next attempt).
select sr.run_id, sr.queued_at, sr.step, 'step_queued', 1, null, null, 3, null
from rowflow.step_runs as sr where sr.queued_at is not null and not exists (select 1 from rowflow.events as se where se.run_id = sr.run_id and se.type = 'run_started')
union all
select e.run_id, e.at, e.step, 'step_queued', (e.data ->> 'nextAttempt')::int, null, null, 3, null
from rowflow.events as e where e.type = 'step_retrying' and not exists (select 1 from rowflow.events as se where se.run_id = e.run_id and se.type = 'run_started')
union all
-- step_started: the current attempt (started_at), and failed attempts
-- (their step_retrying / step_failed event records when they started).
select sr.run_id, sr.started_at, sr.step, 'step_started', sr.attempt, null, null, 4, null
from rowflow.step_runs as sr
where sr.started_at is not null and sr.status in ('running', 'succeeded', 'cancelled')
  and not exists (select 1 from rowflow.events as se where se.run_id = sr.run_id and se.type = 'run_started')
union all
select e.run_id, (e.data ->> 'startedAt')::timestamptz, e.step, 'step_started', e.attempt, null, null, 4, null
from rowflow.events as e
where e.type in ('step_retrying', 'step_failed') and e.data ->> 'startedAt' is not null
union all
-- step_succeeded.
select sr.run_id, sr.finished_at, sr.step, 'step_succeeded', sr.attempt, null, null, 1, null
from rowflow.step_runs as sr where sr.status = 'succeeded' and not exists (select 1 from rowflow.events as se where se.run_id = sr.run_id and se.type = 'run_started')
union all
-- Operators' actions (rowflow.audit).
select a.run_id, a.at, a.step, a.action, null,
  pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
    'reason', a.reason, 'sessionUser', a.session_user_name, 'setRole', a.set_role,
    'applicationName', a.application_name, 'clientAddr', pg_catalog.host(a.client_addr)))
    || coalesce(a.data, '{}'::jsonb),
  null, -1, a.id
from rowflow.audit as a where a.run_id is not null;
comment on view rowflow.run_timeline is
  'Every event of a run: stored (rowflow.events), implied by the rows (run_started, step_queued, step_started, step_succeeded, run_succeeded), and the operators'' actions on it (rowflow.audit; audit_id set). Filter by run_id; order by at, ord, step.';
select rowflow._allow('view rowflow.run_timeline', '{viewer}');

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
                where j.is_available = true and j.run_at <= v_now order by j.priority limit 1);
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

  -- PHASE 1: a run cancelled before its claim: queue it again, its
  -- cancelled step rows removed (its claim writes the step rows; the
  -- step_cancelled events stay in its history).
  if v_run.started_at is null then
    delete from rowflow.step_runs as sr where sr.run_id = v_run.id;
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

-- Repair a database that already holds such a run: a queued run that no
-- worker claimed has no step rows (its claim writes them).
delete from rowflow.step_runs as sr
using rowflow.runs as r
where r.id = sr.run_id and r.status = 'queued' and r.started_at is null;
