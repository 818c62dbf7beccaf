-- rowflow._settle_step(run_id, step, status, output, now, event, data) → {"released", "runStatus"}
--
-- Ends a step that did not run a handler — a signal, a person's answer or
-- a row arrived, a wait timed out, an operator skipped it — as 'succeeded'
-- (with `output`, which its dependents read as they would a handler's) or
-- 'skipped', and releases its dependents through the ordinary gate
-- (sql/schema/60_gate/_release.sql), so a fan-in is released exactly once
-- however this races the step's other dependencies. Removes its queued job
-- (a worker that fetched it already is refused: the step is no longer
-- queued), its wait, and its open human task (cancelled: an operator's
-- skip). Writes the `event` (step_skipped, signal_received, …) and
-- finishes the run when nothing is left. The caller holds the run's lock
-- and has checked that the step's row exists and is pending or queued.
create or replace function rowflow._settle_step(run_id bigint, step text, status text, output jsonb, now timestamptz,
  event text, data jsonb)
returns jsonb
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_job bigint;
  v_released text[];
  v_run_status text;
begin
  -- PHASE 1: the step, its job, its wait, its open task.
  update rowflow.step_runs as sr
  set status = _settle_step.status, output = _settle_step.output, deps_remaining = 0, finished_at = _settle_step.now,
      job_id = null, locked_by = null,
      started_at = case when _settle_step.status = 'succeeded' then coalesce(sr.started_at, _settle_step.now) end
  from (select s.job_id from rowflow.step_runs as s
        where s.run_id = _settle_step.run_id and s.step = _settle_step.step) as old
  where sr.run_id = _settle_step.run_id and sr.step = _settle_step.step
  returning old.job_id into v_job;
  if v_job is not null then
    delete from graphile_worker._private_jobs as j where j.id = v_job;
  end if;
  delete from rowflow.step_waits as w where w.run_id = _settle_step.run_id and w.step = _settle_step.step;
  update rowflow.human_tasks as t set status = 'cancelled'
  where t.run_id = _settle_step.run_id and t.step = _settle_step.step and t.status in ('open', 'claimed');
  insert into rowflow.events (run_id, step, type, data, at)
  values (_settle_step.run_id, _settle_step.step, _settle_step.event, _settle_step.data, _settle_step.now);

  -- PHASE 2: release its dependents; finish the run if nothing is left.
  select coalesce(array_agg(x.step order by x.step) filter (where x.status <> 'pending'), '{}') into v_released
  from rowflow._release(array[row(_settle_step.run_id, _settle_step.step, 1)::rowflow.done_step], null, null,
                        _settle_step.now, null) as x;
  update rowflow.runs as r set updated_at = _settle_step.now where r.id = _settle_step.run_id;
  select f.status into v_run_status from rowflow._finish_runs(array[_settle_step.run_id], _settle_step.now) as f;
  perform rowflow._notify(pg_catalog.jsonb_build_object('run', _settle_step.run_id));
  return pg_catalog.jsonb_build_object('released', pg_catalog.to_jsonb(v_released),
                                       'runStatus', coalesce(v_run_status, 'running'));
end;
$$;
comment on function rowflow._settle_step(bigint, text, text, jsonb, timestamptz, text, jsonb) is
  'Internal: ends a pending or queued step without a handler (succeeded with output, or skipped), releases its dependents, finishes the run.';
select rowflow._allow('function rowflow._settle_step(bigint, text, text, jsonb, timestamptz, text, jsonb)', '{}');
