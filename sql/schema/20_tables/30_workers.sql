-- rowflow.workers: running worker pools and their heartbeats, keyed by the
-- graphile-worker pool id that appears in graphile_worker jobs' locked_by and
-- in step_runs.locked_by. graphile-worker alone releases a crashed process's
-- jobs only after their lock is 4 hours old; every live rowflow worker
-- heartbeats here and, on the same timer, releases the jobs and leases of
-- workers silent for longer than the heartbeat timeout (invariant 4,
-- target 30 s; rowflow.release_dead_workers). A worker that also holds its
-- session advisory lock (lock_key, rowflow.hold_worker_lock) is dead as soon
-- as Postgres sees that connection close: the lock is then free.
create table rowflow.workers (
  id           text primary key,              -- graphile-worker pool id (jobs.locked_by)
  hostname     text not null,
  pid          int not null,
  concurrency  int not null,
  tasks        text[] not null default '{}',  -- task names this worker has handlers for
  started_at   timestamptz not null,
  heartbeat_at timestamptz not null,
  lock_key     int,                           -- its session advisory lock (rowflow.hold_worker_lock); null: heartbeat only
  constraint id_is_valid check (length(id) between 1 and 128),
  constraint concurrency_is_positive check (concurrency >= 1),
  constraint heartbeat_not_before_start check (heartbeat_at >= started_at)
);
comment on table rowflow.workers is
  'Running worker pools and their last heartbeat; a row older than the heartbeat timeout marks a dead worker whose jobs any live worker releases.';
select rowflow._allow('table rowflow.workers', '{viewer}');
comment on column rowflow.workers.lock_key is
  'The key (class 1380349803, this value) of the session advisory lock the worker holds on a connection of its own; free lock = the worker''s connection closed = dead. Null: liveness by heartbeat only.';
