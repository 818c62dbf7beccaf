-- rowflow.hold_worker_lock(id, token) → whether this session holds the lock
--
-- Called by a worker on a connection of its own (never a pooled one: the
-- probe in release_dead_workers would succeed in the holder's own session):
-- takes the session-level advisory lock (class 1380349803, 'RFwk'; key
-- hashtext(id)) and records its key in the worker's row. From then on the
-- worker is alive while that connection is: when Postgres sees it close,
-- the lock is free and the next rowflow.release_dead_workers of any live
-- worker (every second) releases its jobs and leases, without waiting for
-- the heartbeat timeout. False, and nothing recorded, when the worker has
-- no row (register first) or another session holds the key (a hash
-- collision, or the same worker id live elsewhere): that worker then lives
-- by its heartbeat alone. Idempotent: a session already holding the lock
-- does not stack it again.
--
-- Why an advisory lock and not the backend's pid in pg_stat_activity:
-- rowflow_worker sees other roles' pids there only as a member of
-- pg_read_all_stats, a pid is reused, and the probe would read every
-- backend's entry; the lock probe is one lock-table lookup, needs no
-- privilege, and cannot outlive the connection. Neither survives a
-- transaction pooler: a worker behind one holds no lock
-- (createWorker({ sessionLock: false })).
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
