-- 000024_alerts.sql — failure alerts (issue #19, item 4: the built-in failure hook).
--
-- A run that fails now writes a row in rowflow.alerts, an outbox, in the
-- transaction that fails it: _fail_attempt (fail_step, timeouts, waits'
-- deadlines, lost and poison attempts), _finish_runs (a compensation chain
-- that ended) and claim_runs (a run of an unknown version). The workers that
-- have a webhook configured (createWorker's `alerts`) claim the rows
-- (claim_alerts, a lease per row), POST them and record each attempt
-- (record_alert_attempt, rowflow.alert_attempts) until a 2xx or the retry
-- window ends; rowflow.undelivered_alerts lists what is not delivered,
-- retry_alerts (operators) sends given-up alerts again, and a purge
-- deletes a run's alerts. The success path writes nothing new. The audit's
-- action list gains retry_alerts. docs/observability.md, "Failure webhook".

alter table rowflow.audit drop constraint action_is_valid;
alter table rowflow.audit add constraint action_is_valid check (action in (
    'pause_workflow', 'resume_workflow', 'retry_run', 'rerun_from', 'skip_step', 'purge_runs', 'cancel_run',
    'set_retention', 'apply_retention', 'define_workflow', 'attach', 'detach', 'define_schedule',
    'drop_schedule', 'pause_schedule', 'resume_schedule', 'complete_task', 'reassign_task',
    'retry_alerts'));

-- from sql/schema/20_tables/26_alerts.sql
-- rowflow.alerts: the outbox of failure alerts. One row per run that
-- failed (event type 'run.failed'), written in the transaction that made
-- the run failed (with rowflow._alert_payload: fail_step's _fail_attempt,
-- _finish_runs after a compensation chain, claim_runs for a run of an
-- unknown version), so a crash between the failure and its delivery loses
-- nothing: the row commits with the failure or neither does. Cancelled runs
-- do not alert (a cancel is somebody's decision, not a failure).
--
-- Delivery is a polling claim by the workers that have a webhook
-- (src/worker/alerts/): rowflow.claim_alerts leases a pending row
-- (next_attempt_at is pushed past the lease, so a worker that dies while
-- posting gives the row back when the lease ends), the worker POSTs, and
-- rowflow.record_alert_attempt records the attempt (rowflow.alert_attempts)
-- and marks the row delivered (2xx), pending again at the retry time, or
-- failed (given up). A worker without a webhook claims nothing, so with no
-- alerting worker the rows stay pending and visible
-- (rowflow.undelivered_alerts); purging a run deletes its alerts.
--
-- Not graphile-worker jobs: a job nobody serves would sit in the job
-- table, counted as queue depth of a task that no worker runs and in the
-- "available job with a lower priority" check that makes dependents
-- yield. The success path writes nothing here.
--
-- The webhook URL is not stored: it is the workers' configuration (URLs of
-- chat and paging services carry their secret), so no database role can
-- read it. `payload` is the event's body without "id" and "type", which
-- claim_alerts adds from the columns.
create table rowflow.alerts (
  id              bigint generated always as identity primary key,
  event_id        uuid not null default pg_catalog.gen_random_uuid(),
  type            text not null,
  run_id          bigint not null,
  workflow        text not null,
  payload         jsonb not null,
  status          text not null default 'pending',
  attempts        int not null default 0,
  next_attempt_at timestamptz not null,
  lease           uuid,
  last_status     int,
  last_error      text,
  created_at      timestamptz not null,
  retry_since     timestamptz not null,
  finished_at     timestamptz,
  constraint type_is_valid check (type in ('run.failed')),
  constraint status_is_valid check (status in ('pending', 'delivered', 'failed')),
  constraint finished_at_matches_status check ((status <> 'pending') = (finished_at is not null)),
  constraint lease_only_while_pending check (status = 'pending' or lease is null)
);
-- What claim_alerts reads: small, rows leave it when delivered or given up.
create index alerts_pending_idx on rowflow.alerts (next_attempt_at) where status = 'pending';
-- A purge deletes a run's alerts.
create index alerts_run_idx on rowflow.alerts (run_id);
create unique index alerts_event_id_idx on rowflow.alerts (event_id);
comment on table rowflow.alerts is
  'Outbox of failure alerts: one row per failed run (type run.failed), written with the failure; delivered by the workers that have a webhook (pending → delivered, or failed when given up).';
comment on column rowflow.alerts.event_id is
  'The event''s id: the body''s "id" and the Idempotency-Key header of every delivery attempt, so a receiver can drop repeats (delivery is at least once).';
comment on column rowflow.alerts.retry_since is
  'Where the workers'' retry window (alerts.giveUpAfter) starts: the failure, or the last rowflow.retry_alerts.';
comment on column rowflow.alerts.next_attempt_at is
  'When the row may be claimed: its creation, then each retry time; while a worker posts it, the end of that worker''s lease.';
select rowflow._allow('table rowflow.alerts', '{viewer}');

-- from sql/schema/20_tables/27_alert_attempts.sql
-- rowflow.alert_attempts: one row per delivery attempt of an alert
-- (rowflow.record_alert_attempt): when, the HTTP status or the error
-- (refused, timed out), how long it took and which worker tried. An attempt
-- whose worker died before recording it leaves no row; the alert is posted
-- again when the worker's lease ends. Deleted with the alert's run.
create table rowflow.alert_attempts (
  alert_id    bigint not null,
  attempt     int not null,
  at          timestamptz not null,
  status_code int,
  error       text,
  duration_ms int,
  worker_id   text,
  primary key (alert_id, attempt),
  constraint outcome_is_known check (status_code is not null or error is not null)
);
comment on table rowflow.alert_attempts is
  'One row per delivery attempt of a rowflow.alerts row: when, HTTP status or error, duration, worker.';
select rowflow._allow('table rowflow.alert_attempts', '{viewer}');

-- from sql/schema/25_views/undelivered_alerts.sql
create or replace view rowflow.undelivered_alerts as
select a.id, a.event_id, a.status, a.run_id, a.workflow, a.payload ->> 'step' as step,
       a.payload -> 'error' ->> 'message' as error_message, a.attempts, a.last_status, a.last_error,
       a.created_at, a.next_attempt_at,
       (a.lease is not null and a.next_attempt_at > pg_catalog.now()) as leased
from rowflow.alerts as a
where a.status in ('pending', 'failed');
comment on view rowflow.undelivered_alerts is
  'Failure alerts not delivered yet (pending, or failed: given up) with their last attempt''s outcome; rowflow alerts prints it.';
select rowflow._allow('view rowflow.undelivered_alerts', '{viewer}');

-- from sql/schema/60_gate/_alert_payload.sql
create or replace function rowflow._alert_payload(run_id bigint, workflow text, version int, error jsonb,
  at timestamptz)
returns jsonb
language sql
stable
set search_path to ''
as $$
  select pg_catalog.jsonb_build_object(
    'time', pg_catalog.to_char(pg_catalog.timezone('UTC', _alert_payload.at), 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
    'workflow', _alert_payload.workflow,
    'version', _alert_payload.version,
    'runId', _alert_payload.run_id,
    'step', _alert_payload.error ->> 'step',
    'attempt', (_alert_payload.error ->> 'attempt')::int,
    'error', coalesce(_alert_payload.error -> 'error', _alert_payload.error - 'compensation'),
    'compensation', _alert_payload.error -> 'compensation',
    'links', pg_catalog.jsonb_build_object(
      'cli', pg_catalog.format('rowflow show %s', _alert_payload.run_id),
      'sql', pg_catalog.format('select * from rowflow.run_timeline where run_id = %s', _alert_payload.run_id)));
$$;
comment on function rowflow._alert_payload(bigint, text, int, jsonb, timestamptz) is
  'Internal: the body of a run.failed event (without id and type), as stored in rowflow.alerts.';
select rowflow._allow('function rowflow._alert_payload(bigint, text, int, jsonb, timestamptz)', '{}');

-- from sql/schema/60_gate/_finish_runs.sql
create or replace function rowflow._finish_runs(run_ids bigint[], now timestamptz)
returns table (run_id bigint, status text)
language plpgsql
set search_path to ''
set plan_cache_mode to force_generic_plan
set enable_seqscan to off
set enable_hashjoin to off
set enable_mergejoin to off
set jit to off
as $$
#variable_conflict use_column
begin
  return query
  with s as (
    select r.id, r.status, r.error, a.open, a.step_rows, wv.step_count, a.chain
    from rowflow.runs as r
    join rowflow.workflow_versions as wv on wv.workflow = r.workflow and wv.version = r.version
    cross join lateral (
      select count(*) filter (where sr.status in ('pending', 'queued', 'running')) as open,
             count(*) filter (where sr.kind = 'step') as step_rows,
             pg_catalog.jsonb_object_agg(sr.step, sr.status) filter (where sr.kind <> 'step') as chain
      from rowflow.step_runs as sr where sr.run_id = r.id
    ) as a
    where r.id = any (_finish_runs.run_ids) and r.status in ('running', 'compensating')
  ), f as (
    update rowflow.runs as r
    set status = case when s.status = 'running' then 'succeeded'
                      when r.error ->> 'cancelled' = 'true' then 'cancelled' else 'failed' end,
        error = case when s.status = 'compensating'
                     then r.error || pg_catalog.jsonb_build_object('compensation', coalesce(s.chain, '{}'::jsonb))
                     else r.error end,
        updated_at = _finish_runs.now, finished_at = _finish_runs.now
    from s
    where r.id = s.id and s.open = 0 and (s.status = 'compensating' or s.step_rows >= s.step_count)
    returning r.id, r.status, r.error, r.workflow, r.version
  ), ev as (
    insert into rowflow.events (run_id, type, data, at)
    select f.id, case f.status when 'failed' then 'run_failed' else 'run_cancelled' end, f.error, _finish_runs.now
    from f where f.status in ('failed', 'cancelled')
  ), al as (
    insert into rowflow.alerts (type, run_id, workflow, payload, next_attempt_at, created_at, retry_since)
    select 'run.failed', f.id, f.workflow, rowflow._alert_payload(f.id, f.workflow, f.version, f.error, _finish_runs.now),
           _finish_runs.now, _finish_runs.now, _finish_runs.now
    from f where f.status = 'failed'
  )
  select r.id, coalesce(f.status, r.status)
  from rowflow.runs as r left join f on f.id = r.id
  where r.id = any (_finish_runs.run_ids);
end;
$$;
comment on function rowflow._finish_runs(bigint[], timestamptz) is
  'Internal: ends the given runs that have nothing left (succeeded, or failed after compensation); returns each run''s status.';
select rowflow._allow('function rowflow._finish_runs(bigint[], timestamptz)', '{}');

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
    -- broken restore) fails here, RF025, instead of running forever (with
    -- its run_failed event and failure alert).
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
  v_max_any constant int := 10;
  v_suspect boolean;
  v_strikes int;
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

  -- A lost attempt is retried at once without using up an attempt. The
  -- step is quarantined as poison when it was the suspect of v_max_lost
  -- worker deaths: the attempt its worker started last (error.suspect, set
  -- by _end_leases; a re-delivered job's attempt, whose companions are not
  -- known, counts as suspect). A step that only shared a dying worker with
  -- a poison step, or lost its connection to a Postgres restart (the worker
  -- itself reports that: no workerId), is no suspect; any step is given up
  -- after v_max_any lost attempts.
  if v_lost then
    v_suspect := coalesce((_fail_attempt.error ->> 'suspect')::boolean, _fail_attempt.error ? 'workerId');
    v_strikes := (v_suspect)::int + (select count(*)::int from rowflow.events as e
      where e.run_id = v_sr.run_id and e.step = v_sr.step and e.type = 'step_retrying'
        and e.data -> 'error' ->> 'kind' = 'worker_lost'
        and coalesce((e.data -> 'error' ->> 'suspect')::boolean, e.data -> 'error' ? 'workerId'));
    v_error_in := v_error_in || pg_catalog.jsonb_build_object('suspect', v_suspect);
    if v_strikes >= v_max_lost or v_sr.lost_attempts + 1 >= v_max_any then
      v_retryable := false;
      v_error_in := v_error_in || pg_catalog.jsonb_build_object('code', 'RF_POISON', 'poison', true,
        'lostAttempts', v_sr.lost_attempts + 1,
        'message', case when v_strikes >= v_max_lost
          then pg_catalog.format('step %s killed its worker %s times (it was the attempt its worker started last when the worker died): quarantined, not retried; last: %s',
                                 v_sr.step, v_strikes, _fail_attempt.error ->> 'message')
          else pg_catalog.format('step %s lost its worker or its connection %s times: given up, not retried; last: %s',
                                 v_sr.step, v_sr.lost_attempts + 1, _fail_attempt.error ->> 'message') end);
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
    -- The failure alert, in this transaction (rowflow.alerts); a compensating
    -- run alerts when its chain ends (_finish_runs).
    if v_status = 'failed' then
      insert into rowflow.alerts (type, run_id, workflow, payload, next_attempt_at, created_at, retry_since)
      values ('run.failed', v_run.id, v_run.workflow,
              rowflow._alert_payload(v_run.id, v_run.workflow, v_run.version, v_run.error, v_now), v_now, v_now, v_now);
    end if;
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

-- from sql/schema/82_alerts/claim_alerts.sql
create or replace function rowflow.claim_alerts(workflows text[] default null, max int default 10,
  lease_ms int default 30000, now timestamptz default null)
returns table (id bigint, event_id uuid, lease uuid, attempt int, run_id bigint, workflow text,
               created_at timestamptz, retry_since timestamptz, body jsonb)
language plpgsql
security definer
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_now timestamptz := coalesce(claim_alerts.now, pg_catalog.statement_timestamp());
begin
  -- GUARD: workers only; a positive batch and lease.
  perform rowflow._require('{worker}');
  if coalesce(claim_alerts.max, 0) < 1 or coalesce(claim_alerts.lease_ms, 0) < 1 then
    raise exception 'claim_alerts: max and lease_ms must be positive, got % and %',
      claim_alerts.max, claim_alerts.lease_ms using errcode = 'RF078';
  end if;
  return query
  with c as (
    select a.id from rowflow.alerts as a
    where a.status = 'pending' and a.next_attempt_at <= v_now
      and (claim_alerts.workflows is null or a.workflow = any (claim_alerts.workflows))
    order by a.next_attempt_at, a.id
    limit claim_alerts.max
    for update skip locked
  )
  update rowflow.alerts as a
  set lease = pg_catalog.gen_random_uuid(),
      next_attempt_at = v_now + pg_catalog.make_interval(secs => claim_alerts.lease_ms / 1000.0)
  from c where a.id = c.id
  returning a.id, a.event_id, a.lease, a.attempts + 1, a.run_id, a.workflow, a.created_at, a.retry_since,
            a.payload || pg_catalog.jsonb_build_object('id', a.event_id, 'type', a.type);
end;
$$;
comment on function rowflow.claim_alerts(text[], int, int, timestamptz) is
  'Leases up to max due pending alerts (of the given workflows; null: all) for delivery; answers each with its lease token and the body to post.';
select rowflow._allow('function rowflow.claim_alerts(text[], int, int, timestamptz)', '{worker}');

-- from sql/schema/82_alerts/record_alert_attempt.sql
create or replace function rowflow.record_alert_attempt(id bigint, lease uuid, status_code int default null,
  error text default null, duration_ms int default null, retry_at timestamptz default null,
  worker_id text default null, now timestamptz default null)
returns jsonb
language plpgsql
security definer
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_now timestamptz := coalesce(record_alert_attempt.now, pg_catalog.statement_timestamp());
  v_alert rowflow.alerts;
  v_ok boolean := record_alert_attempt.status_code between 200 and 299;
  v_status text;
begin
  -- GUARD: workers only; the lease holder of a pending alert; an outcome.
  perform rowflow._require('{worker}');
  if record_alert_attempt.status_code is null and record_alert_attempt.error is null then
    raise exception 'record_alert_attempt: give the status code or the error of the attempt'
      using errcode = 'RF078';
  end if;
  select a.* into v_alert from rowflow.alerts as a
  where a.id = record_alert_attempt.id and a.status = 'pending' and a.lease = record_alert_attempt.lease
  for update;
  if not found then
    return '{"ok": false, "reason": "not_lease_holder"}'::jsonb;
  end if;

  -- PHASE 1: the attempt.
  insert into rowflow.alert_attempts (alert_id, attempt, at, status_code, error, duration_ms, worker_id)
  values (v_alert.id, v_alert.attempts + 1, v_now, record_alert_attempt.status_code,
          record_alert_attempt.error, record_alert_attempt.duration_ms, record_alert_attempt.worker_id);

  -- PHASE 2: the alert: delivered, again later, or given up.
  v_status := case when v_ok then 'delivered' when record_alert_attempt.retry_at is null then 'failed'
                   else 'pending' end;
  update rowflow.alerts as a
  set status = v_status, attempts = a.attempts + 1, lease = null,
      last_status = record_alert_attempt.status_code, last_error = record_alert_attempt.error,
      next_attempt_at = case when v_status = 'pending' then record_alert_attempt.retry_at else v_now end,
      finished_at = case when v_status = 'pending' then null else v_now end
  where a.id = v_alert.id;
  return pg_catalog.jsonb_build_object('ok', true, 'status', v_status, 'attempt', v_alert.attempts + 1);
end;
$$;
comment on function rowflow.record_alert_attempt(bigint, uuid, int, text, int, timestamptz, text, timestamptz) is
  'Records a delivery attempt of a leased alert: 2xx delivers it, else pending again at retry_at or failed when retry_at is null.';
select rowflow._allow('function rowflow.record_alert_attempt(bigint, uuid, int, text, int, timestamptz, text, timestamptz)', '{worker}');

-- from sql/schema/82_alerts/retry_alerts.sql
create or replace function rowflow.retry_alerts(ids bigint[] default null, reason text default null,
  now timestamptz default null)
returns int
language plpgsql
security definer
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_now timestamptz := coalesce(retry_alerts.now, pg_catalog.statement_timestamp());
  v_ids bigint[];
begin
  perform rowflow._require('{operator}');
  with u as (
    update rowflow.alerts as a
    set status = 'pending', next_attempt_at = v_now, finished_at = null, retry_since = v_now
    where a.status = 'failed' and (retry_alerts.ids is null or a.id = any (retry_alerts.ids))
    returning a.id
  )
  select coalesce(pg_catalog.array_agg(u.id order by u.id), '{}') into v_ids from u;
  if pg_catalog.cardinality(v_ids) > 0 then
    perform rowflow._audit('retry_alerts', null, null, null, retry_alerts.reason,
                           pg_catalog.jsonb_build_object('alerts', pg_catalog.to_jsonb(v_ids)), v_now);
  end if;
  return pg_catalog.cardinality(v_ids);
end;
$$;
comment on function rowflow.retry_alerts(bigint[], text, timestamptz) is
  'Puts failed (given-up) alerts back to pending, due now: the given ids, or all failed ones when null. Answers how many.';
select rowflow._allow('function rowflow.retry_alerts(bigint[], text, timestamptz)', '{operator}');

-- from sql/schema/85_operate/purge_runs.sql
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
    delete from rowflow.signals as s where s.run_id = any (v_ids);
    delete from rowflow.human_tasks as t where t.run_id = any (v_ids);
    delete from rowflow.step_waits as w where w.run_id = any (v_ids);
    delete from rowflow.alert_attempts as aa
    where aa.alert_id in (select a.id from rowflow.alerts as a where a.run_id = any (v_ids));
    delete from rowflow.alerts as a where a.run_id = any (v_ids);
    delete from rowflow.runs as r where r.id = any (v_ids);
  end if;
  return v_ids;
end;
$$;
comment on function rowflow._purge_batch(interval, text[], text, int, timestamptz) is
  'Internal: deletes up to batch finished runs older than older_than (steps, events, signals, tasks); answers their ids.';
select rowflow._allow('function rowflow._purge_batch(interval, text[], text, int, timestamptz)', '{}');
