-- rowflow.release_dead_workers(timeout, now) → the ids released
--
-- Every live worker calls this on its heartbeat timer: graphile-worker
-- alone frees a crashed process's jobs only when their lock is 4 hours old,
-- rowflow promises a retry within the heartbeat timeout (invariant 4,
-- target 30 s). Dead: a registered worker silent for longer than `timeout`,
-- and a holder of rowflow:step jobs or step leases that has no row (a crash
-- between starting and registering, or a row already removed) whose locks
-- are older than `timeout`. Their leases end (rowflow._end_leases: a
-- running step is a lost attempt, retried without using one up) and their
-- graphile jobs are unlocked (graphile_worker.force_unlock_workers; a job
-- comes back with attempts > 1 and the worker records the lost attempt).
--
-- Also dead at once, whatever its heartbeat: a worker whose session
-- advisory lock (workers.lock_key, rowflow.hold_worker_lock) is free, i.e.
-- whose lock connection Postgres saw close (a killed process, a terminated
-- backend, a server restart). The probe is pg_try_advisory_xact_lock, which
-- needs no privilege (pg_stat_activity hides other roles' backends from
-- rowflow_worker) and costs one lock-table lookup per registered worker; a
-- lock it takes is held only until this transaction ends. The heartbeat
-- stays the fallback for a hung-but-connected process, for a host gone
-- silent (its TCP connection is seen closed only by keepalives) and for
-- workers that hold no lock (behind a transaction pooler).
-- Concurrent callers are safe: the DELETE locks each row, so one caller
-- takes it, and force_unlock_workers is idempotent.
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
  v_latest jsonb;
  v_j record;
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
    -- PHASE 3: their attempts are lost: the leased ones and, here, those of
    -- the graphile jobs they had locked (retried at once instead of on the
    -- job's re-delivery, and only the attempt each worker started last is
    -- a poison suspect: rowflow._fail_attempt). The jobs are unlocked; a
    -- re-delivered one then finds its attempt ended and changes nothing.
    v_latest := rowflow._latest_starts(v_ids);
    for v_j in
      select sr.run_id, sr.step, sr.attempt, j.locked_by, sr.started_at
      from graphile_worker._private_jobs as j
      join rowflow.step_runs as sr on sr.job_id = j.id and sr.status = 'running' and sr.locked_by is null
      where j.locked_by = any (v_ids)
      order by sr.run_id, sr.step
    loop
      perform 1 from rowflow.runs as r where r.id = v_j.run_id for no key update;
      perform rowflow._fail_attempt(v_j.run_id, v_j.step, v_j.attempt,
        pg_catalog.jsonb_build_object('kind', 'worker_lost', 'code', 'RF_WORKER_LOST', 'workerId', v_j.locked_by,
          'suspect', coalesce(v_j.started_at >= (v_latest ->> v_j.locked_by)::timestamptz, false),
          'message', pg_catalog.format('the worker running attempt %s stopped before recording an outcome',
                                       v_j.attempt)),
        true, null, v_now);
    end loop;
    perform rowflow._end_leases(v_ids, null, 'infinity', v_now, v_latest);
    perform graphile_worker.force_unlock_workers(v_ids);
  end if;
  return v_ids;
end;
$$;
comment on function rowflow.release_dead_workers(interval, timestamptz) is
  'Deletes workers silent for longer than timeout and unlocks their graphile-worker jobs (and those of unregistered lockers); returns their ids.';
select rowflow._allow('function rowflow.release_dead_workers(interval, timestamptz)', '{worker,operator}');
