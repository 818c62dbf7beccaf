-- rowflow._add_step_jobs(jobs, task) → job ids in input order
--
-- The gates' way to queue graphile-worker jobs outside their set-based
-- statements (a retry, a compensation link, a lease handed back): one job
-- per spec, task 'rowflow:step' (or 'rowflow:wait': the job that arms a
-- waiting step, rowflow.arm_step), payload {"run", "step", "attempt"},
-- max_attempts 25, no job key, no flags. It writes graphile-worker's
-- private tables directly (as graphile_worker.add_jobs of 0.17.3 does,
-- leaving the same columns to their defaults), so that it can skip
-- add_jobs' unconditional NOTIFY and wake a worker only when one waits
-- (sql/schema/80_wake/). test/sql/attach/quiet-enqueue.test.ts compares the
-- rows it writes with add_jobs' so that a graphile-worker upgrade that
-- changes them fails loudly. Ids come from the jobs table's own identity
-- sequence, drawn first, so callers can store them on the step row.
create or replace function rowflow._add_step_jobs(jobs rowflow.step_job[], task text default 'rowflow:step')
returns bigint[]
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_task int;
  v_seq regclass;
  v_ids bigint[];
begin
  -- GUARD: nothing to add.
  if coalesce(cardinality(_add_step_jobs.jobs), 0) = 0 then
    return '{}';
  end if;
  -- PHASE 1: the task and the queues exist (writes only when missing).
  v_task := rowflow._task_id(_add_step_jobs.task);
  if exists (select 1 from unnest(_add_step_jobs.jobs) as j where j.queue is not null) then
    insert into graphile_worker._private_job_queues as q (queue_name)
    select distinct j.queue from unnest(_add_step_jobs.jobs) as j where j.queue is not null
    on conflict do nothing;
  end if;
  -- PHASE 2: ids, then the rows.
  v_seq := pg_catalog.pg_get_serial_sequence('graphile_worker._private_jobs', 'id')::regclass;
  v_ids := array(select pg_catalog.nextval(v_seq) from pg_catalog.generate_series(1, cardinality(_add_step_jobs.jobs)));
  insert into graphile_worker._private_jobs as jobs
    (id, job_queue_id, task_id, payload, run_at, max_attempts, priority)
  overriding system value
  select v_ids[j.o],
         case when j.queue is not null then
           (select q.id from graphile_worker._private_job_queues as q where q.queue_name = j.queue) end,
         v_task,
         pg_catalog.json_build_object('run', j.run_id, 'step', j.step, 'attempt', j.attempt),
         coalesce(j.run_at, pg_catalog.now()),
         25,
         greatest(-32768, least(32767, coalesce(j.priority, 0)))
  from unnest(_add_step_jobs.jobs) with ordinality as j(run_id, step, attempt, queue, run_at, priority, o)
  order by j.o;
  -- PHASE 3: wake a waiting worker (at most one NOTIFY per transaction).
  perform rowflow._wake('jobs:insert', '{"count":' || cardinality(_add_step_jobs.jobs) || '}');
  return v_ids;
end;
$$;
comment on function rowflow._add_step_jobs(rowflow.step_job[], text) is
  'Internal: inserts rowflow:step (or rowflow:wait) jobs without job keys (ids in spec order) and wakes a waiting worker.';
select rowflow._allow('function rowflow._add_step_jobs(rowflow.step_job[], text)', '{}');
