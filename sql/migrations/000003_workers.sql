-- 000003_workers.sql — worker registry, heartbeats and crash recovery (issue 4).
--
-- What: rowflow.workers (one row per running worker pool, keyed by the
-- graphile-worker pool id that appears in graphile_worker.jobs.locked_by) and
-- the functions the worker calls: register_worker, heartbeat_worker,
-- unregister_worker, release_dead_workers.
--
-- Why: graphile-worker releases the jobs of a crashed process only after
-- their lock is 4 hours old. rowflow promises that a crashed worker's steps
-- are retried within the heartbeat timeout (DESIGN.md invariant 4, target
-- 30 s). Every live worker heartbeats here and, on the same timer, releases
-- the jobs of workers whose heartbeat is older than the timeout with
-- graphile_worker.force_unlock_workers. The released jobs come back with
-- attempts > 1; the worker's task wrapper then records the lost attempt as
-- failed and the step's policy decides the retry. A wrongly declared-dead
-- worker (a long pause, not a crash) cannot commit twice: begin_step /
-- complete_step fence on the attempt number.
--
-- Time is injectable (`now`), so tests backdate heartbeats instead of sleeping.

create table rowflow.workers (
  id           text primary key,              -- graphile-worker pool id (jobs.locked_by)
  hostname     text not null,
  pid          int not null,
  concurrency  int not null,
  tasks        text[] not null default '{}',  -- task names this worker has handlers for
  started_at   timestamptz not null,
  heartbeat_at timestamptz not null,
  constraint id_is_valid check (length(id) between 1 and 128),
  constraint concurrency_is_positive check (concurrency >= 1),
  constraint heartbeat_not_before_start check (heartbeat_at >= started_at)
);
comment on table rowflow.workers is
  'Running worker pools and their last heartbeat; a row older than the heartbeat timeout marks a dead worker whose jobs any live worker releases.';

-- Registers (or re-registers) a worker. Also used by a worker whose row was
-- removed because another worker declared it dead during a long pause.
create function rowflow.register_worker(
  id text, hostname text, pid int, concurrency int, tasks text[] default '{}',
  now timestamptz default null)
returns void
language sql
set search_path to ''
as $$
  insert into rowflow.workers as w (id, hostname, pid, concurrency, tasks, started_at, heartbeat_at)
  values (register_worker.id, register_worker.hostname, register_worker.pid, register_worker.concurrency,
          coalesce(register_worker.tasks, '{}'), coalesce(register_worker.now, now()),
          coalesce(register_worker.now, now()))
  on conflict on constraint workers_pkey do update
  set heartbeat_at = greatest(w.heartbeat_at, excluded.heartbeat_at),
      hostname = excluded.hostname, pid = excluded.pid,
      concurrency = excluded.concurrency, tasks = excluded.tasks;
$$;
comment on function rowflow.register_worker(text, text, int, int, text[], timestamptz) is
  'Inserts or refreshes the row of a worker pool (id = graphile-worker pool id).';

-- Returns false when the row is gone (another worker declared this one dead);
-- the caller then re-registers and logs a warning.
create function rowflow.heartbeat_worker(id text, now timestamptz default null)
returns boolean
language plpgsql
set search_path to ''
as $$
begin
  update rowflow.workers as w
  set heartbeat_at = greatest(w.started_at, coalesce(heartbeat_worker.now, now()))
  where w.id = heartbeat_worker.id;
  return found;
end;
$$;
comment on function rowflow.heartbeat_worker(text, timestamptz) is
  'Records a heartbeat; false when the worker row no longer exists.';

create function rowflow.unregister_worker(id text)
returns void
language sql
set search_path to ''
as $$
  delete from rowflow.workers as w where w.id = unregister_worker.id;
$$;
comment on function rowflow.unregister_worker(text) is
  'Removes a worker row at clean shutdown (after its jobs were released).';

-- Releases the jobs of dead workers and returns the released worker ids.
-- Dead: a registered worker whose heartbeat is older than `timeout`, or a
-- locker of rowflow:step jobs that has no row at all (a crash between the
-- pool starting and its registration, or a row already deleted) and whose
-- locks are older than `timeout`. Concurrent callers are safe: the DELETE
-- locks each row so one caller takes it, and force_unlock_workers is
-- idempotent.
create function rowflow.release_dead_workers(timeout interval, now timestamptz default null)
returns text[]
language plpgsql
set search_path to ''
as $$
declare
  v_now timestamptz := coalesce(release_dead_workers.now, now());
  v_ids text[];
  v_orphans text[];
begin
  -- GUARD: a zero or negative timeout would release the jobs of live workers.
  if release_dead_workers.timeout is null or release_dead_workers.timeout <= interval '0' then
    raise exception 'release_dead_workers: timeout must be a positive interval, got %',
      coalesce(release_dead_workers.timeout::text, 'null') using errcode = '22023';
  end if;

  -- PHASE 1: registered workers that stopped heartbeating.
  with dead as (
    delete from rowflow.workers as w
    where w.heartbeat_at < v_now - release_dead_workers.timeout
    returning w.id
  )
  select coalesce(array_agg(dead.id order by dead.id), '{}') into v_ids from dead;

  -- PHASE 2: lockers of rowflow jobs that never registered (or lost their row).
  select coalesce(array_agg(distinct j.locked_by), '{}') into v_orphans
  from graphile_worker.jobs as j
  where j.task_identifier = 'rowflow:step'
    and j.locked_by is not null
    and j.locked_at < v_now - release_dead_workers.timeout
    and not exists (select 1 from rowflow.workers as w where w.id = j.locked_by);

  v_ids := array(select distinct x from unnest(v_ids || v_orphans) as x order by x);
  if cardinality(v_ids) > 0 then
    perform graphile_worker.force_unlock_workers(v_ids);
  end if;
  return v_ids;
end;
$$;
comment on function rowflow.release_dead_workers(interval, timestamptz) is
  'Deletes workers silent for longer than timeout and unlocks their graphile-worker jobs (and those of unregistered lockers); returns their ids.';
