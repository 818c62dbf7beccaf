-- rowflow._advance_chain_step(run, now) → the link queued, or null
--
-- Queues the next pending link of a failed run's compensation / on-failure
-- chain (lowest seq) with its job; null when the chain is exhausted. A
-- compensation runs on the queue and with the priority of the step it
-- undoes. Caller holds the run lock.
create or replace function rowflow._advance_chain_step(run rowflow.runs, now timestamptz)
returns text
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_sr rowflow.step_runs;
  v_ws rowflow.workflow_steps;
  v_ids bigint[];
begin
  select * into v_sr from rowflow.step_runs as sr
  where sr.run_id = _advance_chain_step.run.id and sr.kind <> 'step' and sr.status = 'pending'
  order by sr.seq limit 1
  for update;
  if not found then
    return null;
  end if;
  -- A compensation uses the queue and priority of the step it undoes.
  select ws.* into v_ws from rowflow.workflow_steps as ws
  where ws.workflow = _advance_chain_step.run.workflow and ws.version = _advance_chain_step.run.version
    and v_sr.kind = 'compensation' and ws.name = substr(v_sr.step, length('compensate:') + 1);
  v_ids := rowflow._add_step_jobs(array[row(v_sr.run_id, v_sr.step, 1,
    rowflow._queue_name(v_ws.queue_name, v_ws.queue_key,
      jsonb_build_object('input', _advance_chain_step.run.input, 'steps', '{}'::jsonb)),
    _advance_chain_step.now, coalesce(v_ws.priority, 0) + _advance_chain_step.run.priority)::rowflow.step_job]);
  update rowflow.step_runs as sr
  set status = 'queued', deps_remaining = 0, attempt = 1, job_id = v_ids[1], queued_at = _advance_chain_step.now
  where sr.run_id = v_sr.run_id and sr.step = v_sr.step;
  return v_sr.step;
end;
$$;
select rowflow._allow('function rowflow._advance_chain_step(rowflow.runs, timestamptz)', '{}');
