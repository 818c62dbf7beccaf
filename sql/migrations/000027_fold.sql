-- 000027_fold.sql — functions that more than one of 000024_alerts, 000025_traces and 000026_child_workflows changed, each written against 000023: rowflow._claim (the failure alert of a run of an unknown version; the run's trace context) and rowflow._fail_attempt (the failure alert; a child step's retry through a rowflow:wait job), as sql/schema has them now.

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
      v_retry_at, coalesce(v_ws.priority, 0) + v_run.priority)::rowflow.step_job],
      -- A child step's next attempt is armed again: a new child run.
      case when v_sr.kind = 'step' and v_ws.wait ->> 'kind' = 'child' then 'rowflow:wait' else 'rowflow:step' end);
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
