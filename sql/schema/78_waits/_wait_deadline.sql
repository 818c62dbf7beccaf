-- rowflow._wait_deadline(run, ws, sr, until) → void
--
-- Gives a waiting step its deadline job: a rowflow:wait job at `until`,
-- which rowflow.arm_step turns into the escalation or the onTimeout; no
-- job when there is no deadline (the step then waits until something ends
-- it). The step run's job_id becomes that job, so that cancel_run and
-- skip_step remove it as they remove any queued step's job.
create or replace function rowflow._wait_deadline(run rowflow.runs, ws rowflow.workflow_steps, sr rowflow.step_runs,
  until timestamptz)
returns void
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_job bigint;
begin
  if _wait_deadline.until is not null then
    v_job := (rowflow._add_step_jobs(array[row((_wait_deadline.run).id, (_wait_deadline.sr).step,
                (_wait_deadline.sr).attempt, null, _wait_deadline.until,
                (_wait_deadline.ws).priority + (_wait_deadline.run).priority)::rowflow.step_job], 'rowflow:wait'))[1];
  end if;
  update rowflow.step_runs as s set job_id = v_job
  where s.run_id = (_wait_deadline.run).id and s.step = (_wait_deadline.sr).step;
end;
$$;
select rowflow._allow('function rowflow._wait_deadline(rowflow.runs, rowflow.workflow_steps, rowflow.step_runs, timestamptz)', '{}');
