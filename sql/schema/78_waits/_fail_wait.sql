-- rowflow._fail_wait(run_id, step, attempt, error, now) → fail_step's answer
--
-- A waiting step fails: its deadline passed with onTimeout "fail", or its
-- human task has no assignee. The attempt becomes running for this
-- statement and fails without retry through the handlers' own path
-- (rowflow._fail_attempt), so the run fails, compensates and runs its
-- on-failure handler exactly as when a handler fails; retry_run starts the
-- wait again. The caller holds the run's lock.
create or replace function rowflow._fail_wait(run_id bigint, step text, attempt int, error jsonb, now timestamptz)
returns jsonb
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
begin
  delete from rowflow.step_waits as w where w.run_id = _fail_wait.run_id and w.step = _fail_wait.step;
  update rowflow.step_runs as sr set status = 'running', started_at = coalesce(sr.started_at, _fail_wait.now),
    job_id = null
  where sr.run_id = _fail_wait.run_id and sr.step = _fail_wait.step;
  if _fail_wait.error ->> 'code' = 'timeout' then
    insert into rowflow.events (run_id, step, type, attempt, data, at)
    values (_fail_wait.run_id, _fail_wait.step, 'step_timed_out', _fail_wait.attempt,
            pg_catalog.jsonb_build_object('onTimeout', 'fail', 'error', _fail_wait.error), _fail_wait.now);
  end if;
  return rowflow._fail_attempt(_fail_wait.run_id, _fail_wait.step, _fail_wait.attempt, _fail_wait.error, false, null,
                               _fail_wait.now);
end;
$$;
select rowflow._allow('function rowflow._fail_wait(bigint, text, int, jsonb, timestamptz)', '{}');
