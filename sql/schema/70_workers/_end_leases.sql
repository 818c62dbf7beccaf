-- rowflow._end_leases(worker_ids, keep, before, now) → how many ended
--
-- Ends the leases (step_runs.locked_by) that `worker_ids` hold, except
-- `keep` ('<run id>:<step>'), taken or reserved before `before`: a running
-- step's attempt was lost (recorded through fail_step with error kind
-- worker_lost, retried without using up an attempt); a reserved one gets a job. Each
-- run is locked first, one at a time, in (run, step) order.
create or replace function rowflow._end_leases(worker_ids text[], keep text[], before timestamptz, now timestamptz)
returns int
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_l record;
  v_n int := 0;
  v_ids bigint[];
begin
  for v_l in
    select sr.run_id, sr.step, sr.status, sr.attempt, sr.locked_by
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
select rowflow._allow('function rowflow._end_leases(text[], text[], timestamptz, timestamptz)', '{}');
