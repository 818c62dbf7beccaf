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

alter table rowflow.step_runs add column lost_attempts smallint not null default 0;
comment on column rowflow.step_runs.lost_attempts is
  'Attempts of this step lost with their worker or its connection (error kind worker_lost). Each one also raised max_attempts by one, so lost attempts do not use up the step''s attempts; the third one fails the step as poison (RF_POISON).';

alter table rowflow.workers add column lock_key int;
comment on column rowflow.workers.lock_key is
  'The key (class 1380349803, this value) of the session advisory lock the worker holds on a connection of its own; free lock = the worker''s connection closed = dead. Null: liveness by heartbeat only.';

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
  'A re-delivered job''s attempt was lost with its worker: records it as failed (worker_lost) and retries it by its policy. For the worker holding the job''s lock.';
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
