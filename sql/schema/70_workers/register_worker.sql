-- rowflow.register_worker(id, hostname, pid, concurrency, tasks, now, token) → the worker's token
--
-- Inserts or refreshes a worker pool's row in rowflow.workers (id = its
-- graphile-worker pool id). Also how a worker comes back after a long pause
-- in which another worker declared it dead and removed its row (its
-- heartbeat_worker answered false). The heartbeat never goes backwards.
--
-- Answers the worker's token (rowflow._check_worker), which the calls that
-- act as this worker require. Refreshing a row that exists needs the token
-- already (RF024 otherwise): worker ids are visible to every worker role
-- (graphile's jobs.locked_by), and registering one must not hand out the
-- token of a live worker.
create or replace function rowflow.register_worker(
  id text, hostname text, pid int, concurrency int, tasks text[] default '{}',
  now timestamptz default null, token text default null)
returns text
language plpgsql
security definer
set search_path to ''
as $$
#variable_conflict use_column
begin
  perform rowflow._require('{worker}');
  if exists (select 1 from rowflow.workers as w where w.id = register_worker.id) then
    perform rowflow._check_worker(register_worker.id, register_worker.token);
  end if;
  insert into rowflow.workers as w (id, hostname, pid, concurrency, tasks, started_at, heartbeat_at)
  values (register_worker.id, register_worker.hostname, register_worker.pid, register_worker.concurrency,
          coalesce(register_worker.tasks, '{}'), coalesce(register_worker.now, pg_catalog.now()),
          coalesce(register_worker.now, pg_catalog.now()))
  on conflict on constraint workers_pkey do update
  set heartbeat_at = greatest(w.heartbeat_at, excluded.heartbeat_at),
      hostname = excluded.hostname, pid = excluded.pid,
      concurrency = excluded.concurrency, tasks = excluded.tasks;
  -- The worker's token: its proof of id for the calls that act as it.
  return rowflow._mac(rowflow._secret(), 'worker:' || register_worker.id);
end;
$$;
comment on function rowflow.register_worker(text, text, int, int, text[], timestamptz, text) is
  'Inserts or refreshes the row of a worker pool (id = graphile-worker pool id); answers the worker''s token, which the calls that act as this worker require.';
select rowflow._allow('function rowflow.register_worker(text, text, int, int, text[], timestamptz, text)', '{worker}');
