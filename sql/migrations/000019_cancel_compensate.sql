-- 000019_cancel_compensate.sql — cancel a run and undo what it did; a
-- timeline viewers can read; which workers are alive.
--
-- rowflow.cancel_run(…, compensate => true) and cancel_runs(…, compensate):
-- a running run's succeeded steps are compensated first, as a failure would
-- compensate them (their compensate tasks in reverse completion order, no
-- on-failure handler), the run 'compensating' with error {"cancelled":
-- true}, and it ends 'cancelled' with a run_cancelled event once the chain
-- is done (rowflow._finish_runs). The chain is built by one function,
-- rowflow._build_chain, which the failure path (rowflow._fail_attempt) now
-- calls as well. The old signatures are dropped: a new trailing parameter
-- keeps every positional and named call working.
--
-- rowflow.run_timeline failed for rowflow_viewer (42501: it called the
-- internal rowflow._has_stored_start, which only the owner may execute);
-- the condition is now an inline NOT EXISTS and the function is gone.
--
-- rowflow.worker_status: the workers with alive, silent_for and running.

drop function rowflow.cancel_run(run_id bigint, reason text, now timestamp with time zone);
drop function rowflow.cancel_runs(workflow text, statuses text[], since timestamp with time zone, before timestamp with time zone, reason text, max_runs integer, now timestamp with time zone);

-- from sql/schema/25_views/run_timeline.sql
create or replace view rowflow.run_timeline as
select e.run_id, e.at, e.step, e.type, e.attempt, e.data, e.id,
  case e.type
    when 'run_started' then 0
    when 'step_succeeded' then 1 when 'step_failed' then 1 when 'step_retrying' then 1
    when 'step_skipped' then 2 when 'step_cancelled' then 2
    when 'step_queued' then 3 when 'step_started' then 4
    else 5 end as ord
from rowflow.events as e
union all
-- The implied events, for runs that store only what the rows cannot tell (a
-- run from before has a stored run_started event and stored ordinary-path events).
-- run_started: claimed by a worker.
select r.id, r.started_at, null, 'run_started', null, null, null, 0
from rowflow.runs as r where r.started_at is not null and not exists (select 1 from rowflow.events as se where se.run_id = r.id and se.type = 'run_started')
union all
-- run_succeeded (failed and cancelled runs have their stored event).
select r.id, r.finished_at, null, 'run_succeeded', null, null, null, 5
from rowflow.runs as r where r.status = 'succeeded' and not exists (select 1 from rowflow.events as se where se.run_id = r.id and se.type = 'run_started')
union all
-- step_queued: the first attempt (queued_at), and every retry (the
-- step_retrying event queues the next attempt).
select sr.run_id, sr.queued_at, sr.step, 'step_queued', 1, null, null, 3
from rowflow.step_runs as sr where sr.queued_at is not null and not exists (select 1 from rowflow.events as se where se.run_id = sr.run_id and se.type = 'run_started')
union all
select e.run_id, e.at, e.step, 'step_queued', (e.data ->> 'nextAttempt')::int, null, null, 3
from rowflow.events as e where e.type = 'step_retrying' and not exists (select 1 from rowflow.events as se where se.run_id = e.run_id and se.type = 'run_started')
union all
-- step_started: the current attempt (started_at), and failed attempts
-- (their step_retrying / step_failed event records when they started).
select sr.run_id, sr.started_at, sr.step, 'step_started', sr.attempt, null, null, 4
from rowflow.step_runs as sr
where sr.started_at is not null and sr.status in ('running', 'succeeded', 'cancelled')
  and not exists (select 1 from rowflow.events as se where se.run_id = sr.run_id and se.type = 'run_started')
union all
select e.run_id, (e.data ->> 'startedAt')::timestamptz, e.step, 'step_started', e.attempt, null, null, 4
from rowflow.events as e
where e.type in ('step_retrying', 'step_failed') and e.data ->> 'startedAt' is not null
union all
-- step_succeeded.
select sr.run_id, sr.finished_at, sr.step, 'step_succeeded', sr.attempt, null, null, 1
from rowflow.step_runs as sr where sr.status = 'succeeded' and not exists (select 1 from rowflow.events as se where se.run_id = sr.run_id and se.type = 'run_started');
comment on view rowflow.run_timeline is
  'Every event of a run: stored (rowflow.events) and implied by the rows (run_started, step_queued, step_started, step_succeeded, run_succeeded). Filter by run_id; order by at, ord, step.';
select rowflow._allow('view rowflow.run_timeline', '{viewer}');

-- from sql/schema/25_views/worker_status.sql
create or replace view rowflow.worker_status as
select w.id, w.hostname, w.pid, w.concurrency, w.tasks, w.started_at, w.heartbeat_at,
       pg_catalog.now() - w.heartbeat_at as silent_for,
       w.heartbeat_at > pg_catalog.now() - interval '30 seconds' as alive,
       (select count(*) from rowflow.step_runs as sr
        where sr.locked_by = w.id and sr.status = 'running')::int as running
from rowflow.workers as w;
comment on view rowflow.worker_status is
  'rowflow.workers with alive (heartbeat within the default 30 s timeout), silent_for and the number of step attempts each is running.';
select rowflow._allow('view rowflow.worker_status', '{viewer}');

-- The view no longer calls it (a viewer lacked EXECUTE on it).
drop function rowflow._has_stored_start(run_id bigint);

-- from sql/schema/60_gate/_build_chain.sql
create or replace function rowflow._build_chain(run rowflow.runs, on_failure boolean, now timestamptz)
returns int
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_chain int;
begin
  with comp as (
    select sr.step, ws.attempts, sr.finished_at
    from rowflow.step_runs as sr
    join rowflow.workflow_steps as ws
      on ws.workflow = _build_chain.run.workflow and ws.version = _build_chain.run.version and ws.name = sr.step
    where sr.run_id = _build_chain.run.id and sr.kind = 'step' and sr.status = 'succeeded'
      and ws.compensate is not null
  ), chain as (
    select 'compensate:' || c.step as step, 'compensation' as kind, c.attempts,
           row_number() over (order by c.finished_at desc, c.step desc) as seq
    from comp as c
    union all
    select 'on-failure', 'on_failure', 3, (select count(*) from comp) + 1
    from rowflow.workflow_versions as wv
    where _build_chain.on_failure and wv.workflow = _build_chain.run.workflow
      and wv.version = _build_chain.run.version and wv.on_failure is not null
  ), ins as (
    insert into rowflow.step_runs (run_id, step, kind, status, deps_remaining, attempt, max_attempts, seq, created_at)
    select _build_chain.run.id, ch.step, ch.kind, 'pending', 1, 0, ch.attempts, ch.seq, _build_chain.now
    from chain as ch order by ch.seq
    returning 1
  )
  select count(*) into v_chain from ins;
  return v_chain;
end;
$$;
comment on function rowflow._build_chain(rowflow.runs, boolean, timestamptz) is
  'Internal: writes a run''s compensation chain (reverse completion order), and on-failure when asked; returns the number of links.';
select rowflow._allow('function rowflow._build_chain(rowflow.runs, boolean, timestamptz)', '{}');

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
    returning r.id, r.status, r.error
  ), ev as (
    insert into rowflow.events (run_id, type, data, at)
    select f.id, case f.status when 'failed' then 'run_failed' else 'run_cancelled' end, f.error, _finish_runs.now
    from f where f.status in ('failed', 'cancelled')
  )
  select r.id, coalesce(f.status, r.status)
  from rowflow.runs as r left join f on f.id = r.id
  where r.id = any (_finish_runs.run_ids);
end;
$$;
comment on function rowflow._finish_runs(bigint[], timestamptz) is
  'Internal: ends the given runs that have nothing left (succeeded, or failed after compensation); returns each run''s status.';
select rowflow._allow('function rowflow._finish_runs(bigint[], timestamptz)', '{}');

-- from sql/schema/60_gate/cancel_run.sql
create or replace function rowflow.cancel_run(run_id bigint, reason text default null, now timestamptz default null,
  compensate boolean default false)
returns boolean
language plpgsql
security definer
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_now timestamptz := coalesce(cancel_run.now, pg_catalog.statement_timestamp());
  v_run rowflow.runs;
  v_chain int := 0;
  v_error jsonb;
  v_from text;
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
  if v_run.status not in ('queued', 'running', 'compensating')
     or (coalesce(cancel_run.compensate, false) and v_run.status = 'compensating') then
    return false;
  end if;
  v_from := v_run.status;
  -- PHASE 1: cancel every unfinished step run (a compensation chain too,
  -- unless it is to run now) and remove the queued jobs.
  perform rowflow._cancel_steps(v_run.id, array['step', 'compensation', 'on_failure'],
                                coalesce(cancel_run.reason, 'run cancelled'), v_now);
  -- PHASE 2: with compensate, the chain of what succeeded; the run is
  -- 'compensating' while it runs.
  if coalesce(cancel_run.compensate, false) and v_run.status = 'running' then
    v_chain := rowflow._build_chain(v_run, false, v_now);
  end if;
  if v_chain > 0 then
    v_error := jsonb_build_object('cancelled', true, 'reason', cancel_run.reason);
    update rowflow.runs as r
    set status = 'compensating', error = v_error, updated_at = v_now
    where r.id = v_run.id
    returning r.* into v_run;
    insert into rowflow.events (run_id, type, data, at)
    values (v_run.id, 'run_compensating', v_error, v_now);
    perform rowflow._advance_chain_step(v_run, v_now);
  else
    update rowflow.runs as r
    set status = 'cancelled', updated_at = v_now, finished_at = v_now
    where r.id = v_run.id;
    insert into rowflow.events (run_id, type, data, at)
    values (v_run.id, 'run_cancelled', jsonb_build_object('reason', cancel_run.reason, 'from', v_from), v_now);
  end if;
  perform rowflow._audit('cancel_run', v_run.workflow, v_run.id, null, cancel_run.reason,
                         jsonb_build_object('from', v_from, 'compensate', coalesce(cancel_run.compensate, false),
                                            'compensations', v_chain), v_now);
  perform rowflow._notify(jsonb_build_object('run', v_run.id));
  return true;
end;
$$;
comment on function rowflow.cancel_run(bigint, text, timestamptz, boolean) is
  'Cancels an active run: unfinished step runs cancelled, their queued jobs removed; with compensate, the succeeded steps are undone first (compensating, then cancelled). False if the run already ended; RF023 if unknown.';
select rowflow._allow('function rowflow.cancel_run(bigint, text, timestamptz, boolean)', '{operator,app}');

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

  -- PHASE 1: another attempt, if allowed (a new job).
  if coalesce(_fail_attempt.retryable, true) and v_sr.attempt < v_sr.max_attempts then
    v_delay := case coalesce(v_ws.backoff_type, 'exponential')
      when 'fixed' then coalesce(v_ws.backoff_base, interval '1 second')
      else least(coalesce(v_ws.backoff_base, interval '1 second') * power(2, least(v_sr.attempt - 1, 40)),
                 coalesce(v_ws.backoff_max, interval '5 minutes'))
    end;
    -- jitter j spreads the delay uniformly over [d·(1-j), d·(1+j)], capped at max.
    v_delay := least(v_delay * (1 - coalesce(v_ws.backoff_jitter, 0.2) * (2 * random() - 1)),
                     greatest(coalesce(v_ws.backoff_max, interval '5 minutes'), v_delay));
    v_retry_at := coalesce(_fail_attempt.retry_at, v_now + v_delay);
    v_ids := rowflow._add_step_jobs(array[row(v_sr.run_id, v_sr.step, v_sr.attempt + 1,
      rowflow._queue_name(v_ws.queue_name, v_ws.queue_key, jsonb_build_object('input', v_run.input,
        'steps', case when v_sr.kind = 'step' then rowflow._deps_outputs(v_sr.run_id, v_ws.depends_on) else '{}' end)),
      v_retry_at, coalesce(v_ws.priority, 0) + v_run.priority)::rowflow.step_job]);
    update rowflow.step_runs as sr
    set status = 'queued', attempt = sr.attempt + 1, error = _fail_attempt.error, job_id = v_ids[1], started_at = null,
        locked_by = null
    where sr.run_id = v_sr.run_id and sr.step = v_sr.step;
    insert into rowflow.events (run_id, step, type, attempt, data, at)
    values (v_sr.run_id, v_sr.step, 'step_retrying', v_sr.attempt,
            jsonb_build_object('error', _fail_attempt.error, 'retryAt', v_retry_at, 'nextAttempt', v_sr.attempt + 1,
                               'startedAt', v_sr.started_at), v_now);
    update rowflow.runs as r set updated_at = v_now where r.id = v_run.id;
    perform rowflow._notify(jsonb_build_object('run', v_run.id));
    return jsonb_build_object('ok', true, 'outcome', 'retrying', 'retryAt', v_retry_at,
                              'nextAttempt', v_sr.attempt + 1, 'runStatus', v_run.status);
  end if;

  -- PHASE 2: the step failed for good.
  update rowflow.step_runs as sr
  set status = 'failed', error = _fail_attempt.error, finished_at = v_now, locked_by = null
  where sr.run_id = v_sr.run_id and sr.step = v_sr.step;
  insert into rowflow.events (run_id, step, type, attempt, data, at)
  values (v_sr.run_id, v_sr.step, 'step_failed', v_sr.attempt,
          jsonb_build_object('error', _fail_attempt.error, 'retryable', coalesce(_fail_attempt.retryable, true),
                             'startedAt', v_sr.started_at), v_now);
  v_status := v_run.status;
  v_error := v_run.error;

  if v_sr.kind = 'step' then
    -- PHASE 3: the run fails: cancel the other steps (those without a row
    -- too), then build the compensation chain (reverse completion order),
    -- on-failure last.
    perform rowflow._cancel_steps(v_run.id, array['step'], 'run failed', v_now);
    v_error := jsonb_build_object('step', v_sr.step, 'attempt', v_sr.attempt, 'error', _fail_attempt.error);
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

-- from sql/schema/85_operate/bulk.sql
create or replace function rowflow.cancel_runs(workflow text, statuses text[] default '{queued,running}',
  since timestamptz default null, before timestamptz default null, reason text default null,
  max_runs int default 1000, now timestamptz default null, compensate boolean default false)
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
    if rowflow.cancel_run(v_id, cancel_runs.reason, cancel_runs.now, cancel_runs.compensate) then
      v_changed := v_changed + 1;
    end if;
  end loop;
  return pg_catalog.jsonb_build_object('matched', v_matched, 'cancelled', v_changed,
                                       'unchanged', v_matched - v_changed);
end;
$$;
comment on function rowflow.cancel_runs(text, text[], timestamptz, timestamptz, text, int, timestamptz, boolean) is
  'cancel_run over a filter (workflow, queued/running/compensating statuses, created in [since, before)), at most max_runs per call; answers counts.';
select rowflow._allow('function rowflow.cancel_runs(text, text[], timestamptz, timestamptz, text, int, timestamptz, boolean)', '{operator}');
