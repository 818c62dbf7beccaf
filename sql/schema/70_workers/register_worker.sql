-- rowflow.register_worker(id, hostname, pid, concurrency, tasks, now)
--
-- Inserts or refreshes a worker pool's row in rowflow.workers (id = its
-- graphile-worker pool id). Also how a worker comes back after a long pause
-- in which another worker declared it dead and removed its row (its
-- heartbeat_worker answered false). The heartbeat never goes backwards.
create or replace function rowflow.register_worker(
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
