-- rowflow._enqueue(specs) — graphile_worker.add_jobs without its NOTIFY
--
-- graphile_worker.add_jobs(specs, false) of graphile-worker 0.17.3 (its
-- migration sql/000018.sql) minus the pg_notify on every call, then a conditional
-- wake-up carrying graphile-worker's payload shape ({"count": n} nudges up
-- to n idle workers). For SQL written on a write path that queues
-- graphile jobs of its own: every NOTIFYing commit serialises with every
-- other (sql/schema/20_tables/31_waiters.sql). Compared with add_jobs by
-- test/sql/attach/quiet-enqueue.test.ts.
create or replace function rowflow._enqueue(specs graphile_worker.job_spec[])
returns void
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
begin
  -- GUARD: nothing to add.
  if coalesce(cardinality(_enqueue.specs), 0) = 0 then
    return;
  end if;
  -- PHASE 1: tasks and queues exist (no write when they already do).
  insert into graphile_worker._private_tasks as tasks (identifier)
  select distinct spec.identifier from unnest(_enqueue.specs) as spec
  on conflict do nothing;
  insert into graphile_worker._private_job_queues as job_queues (queue_name)
  select distinct spec.queue_name from unnest(_enqueue.specs) as spec
  where spec.queue_name is not null
  on conflict do nothing;
  -- PHASE 2: a locked job with the same key keeps running but loses its key
  -- (add_jobs' rule), then insert or replace.
  update graphile_worker._private_jobs as jobs
  set key = null, attempts = jobs.max_attempts, updated_at = pg_catalog.now()
  from unnest(_enqueue.specs) as spec
  where spec.job_key is not null and jobs.key = spec.job_key and jobs.is_available is not true;
  insert into graphile_worker._private_jobs as jobs
    (job_queue_id, task_id, payload, run_at, max_attempts, key, priority, flags)
  select job_queues.id, tasks.id, coalesce(spec.payload, '{}'::json), coalesce(spec.run_at, pg_catalog.now()),
         coalesce(spec.max_attempts, 25), spec.job_key, coalesce(spec.priority, 0),
         (select pg_catalog.jsonb_object_agg(flag, true) from unnest(spec.flags) as item(flag))
  from unnest(_enqueue.specs) as spec
  join graphile_worker._private_tasks as tasks on tasks.identifier = spec.identifier
  left join graphile_worker._private_job_queues as job_queues on job_queues.queue_name = spec.queue_name
  on conflict (key) do update set
    job_queue_id = excluded.job_queue_id,
    task_id = excluded.task_id,
    payload = case
      when pg_catalog.json_typeof(jobs.payload) = 'array' and pg_catalog.json_typeof(excluded.payload) = 'array'
        then (jobs.payload::jsonb || excluded.payload::jsonb)::json
      else excluded.payload end,
    max_attempts = excluded.max_attempts,
    run_at = excluded.run_at,
    priority = excluded.priority,
    revision = jobs.revision + 1,
    flags = excluded.flags,
    attempts = 0,
    last_error = null,
    updated_at = pg_catalog.now()
  where jobs.locked_at is null;
  -- PHASE 3: wake a waiting worker (at most once per transaction).
  perform rowflow._wake('jobs:insert', '{"count":' || cardinality(_enqueue.specs) || '}');
end;
$$;
comment on function rowflow._enqueue(graphile_worker.job_spec[]) is
  'Internal: graphile_worker.add_jobs without the unconditional NOTIFY; wakes workers only if one waits (rowflow.waiters).';
select rowflow._allow('function rowflow._enqueue(graphile_worker.job_spec[])', '{}');
