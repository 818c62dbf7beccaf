-- rowflow.disconnected_workers() → ids of workers whose lock connection closed
--
-- The cheap probe a live worker runs every second between heartbeats: the
-- registered workers holding a session advisory lock (workers.lock_key)
-- whose lock is free. It changes nothing (a lock it takes is released when
-- the calling transaction ends); a non-empty answer makes the caller run
-- rowflow.release_dead_workers at once. One lock-table lookup per worker.
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
