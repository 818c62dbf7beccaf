-- rowflow._end_leases(worker_ids, keep, before, now) → how many ended
--
-- Ends the leases (step_runs.locked_by) that `worker_ids` hold, except
-- `keep` ('<run id>:<step>'), taken or reserved before `before`: a running
-- step's attempt was lost (recorded through fail_step with error kind
-- worker_lost, retried without using up an attempt); a reserved one gets a job. Each
-- run is locked first, one at a time, in (run, step) order.
create or replace function rowflow._end_leases(worker_ids text[], keep text[], before timestamptz, now timestamptz,
  latest jsonb default null)
returns int
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_l record;
  v_n int := 0;
  v_ids bigint[];
  v_latest jsonb;
begin
  -- Each worker's latest attempt start (rowflow._latest_starts), given by
  -- a caller that also ends the workers' graphile-job attempts.
  v_latest := coalesce(_end_leases.latest, rowflow._latest_starts(_end_leases.worker_ids));
  for v_l in
    select sr.run_id, sr.step, sr.status, sr.attempt, sr.locked_by, sr.started_at
    from rowflow.step_runs as sr
    where sr.locked_by = any (_end_leases.worker_ids)
      and not (sr.run_id::text || ':' || sr.step) = any (coalesce(_end_leases.keep, '{}'))
      and coalesce(sr.started_at, sr.queued_at) < _end_leases.before
    order by sr.run_id, sr.step
  loop
    perform 1 from rowflow.runs as r where r.id = v_l.run_id for no key update;
    if v_l.status = 'running' then
      perform rowflow._fail_attempt(v_l.run_id, v_l.step, v_l.attempt,
        pg_catalog.jsonb_build_object('kind', 'worker_lost', 'code', 'RF_WORKER_LOST', 'workerId', v_l.locked_by,
          'suspect', coalesce(v_l.started_at >= (v_latest ->> v_l.locked_by)::timestamptz, false),
          'message', pg_catalog.format('the worker running attempt %s stopped before recording an outcome',
                                       v_l.attempt)),
        true, null, _end_leases.now);
    else
      v_ids := rowflow._add_step_jobs(array[row(v_l.run_id, v_l.step, v_l.attempt, null, _end_leases.now,
        (select greatest(-32768, least(32767, ws.priority + r.priority))
         from rowflow.runs as r
         join rowflow.workflow_steps as ws on ws.workflow = r.workflow and ws.version = r.version and ws.name = v_l.step
         where r.id = v_l.run_id))::rowflow.step_job]);
      update rowflow.step_runs as sr set locked_by = null, job_id = v_ids[1]
      where sr.run_id = v_l.run_id and sr.step = v_l.step and sr.status = 'queued'
        and sr.locked_by = v_l.locked_by;
    end if;
    v_n := v_n + 1;
  end loop;
  return v_n;
end;
$$;
select rowflow._allow('function rowflow._end_leases(text[], text[], timestamptz, timestamptz, jsonb)', '{}');

-- rowflow._latest_starts(worker_ids) → {"<worker>": the start of its latest running attempt}
--
-- When a worker dies, the attempt it started last is the one that may have
-- killed it: the poison suspect (rowflow._fail_attempt). Leased attempts
-- and graphile-job attempts both count. A worker whose latest start is
-- shared (steps begun by one gate call, claimed together) has no suspect:
-- seen in the chaos suite, a healthy root step claimed in the same call as
-- a process.exit step was quarantined with it.
create or replace function rowflow._latest_starts(worker_ids text[])
returns jsonb
language sql stable
set search_path to ''
as $$
  select coalesce(pg_catalog.jsonb_object_agg(z.w, z.latest) filter (where z.n = 1), '{}')
  from (
    select y.w, y.started_at as latest, count(*) as n,
           pg_catalog.rank() over (partition by y.w order by y.started_at desc) as rk
    from (
      select sr.locked_by as w, sr.started_at from rowflow.step_runs as sr
      where sr.locked_by = any (_latest_starts.worker_ids) and sr.status = 'running'
      union all
      select j.locked_by, sr.started_at from graphile_worker._private_jobs as j
      join rowflow.step_runs as sr on sr.job_id = j.id and sr.status = 'running'
      where j.locked_by = any (_latest_starts.worker_ids)
    ) as y
    group by y.w, y.started_at
  ) as z
  where z.rk = 1;
$$;
select rowflow._allow('function rowflow._latest_starts(text[])', '{}');
