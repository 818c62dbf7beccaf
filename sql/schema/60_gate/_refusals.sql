-- rowflow._refusals(run_ids, steps, attempts, os, allowed, job_holder) → (o, refusal)
--
-- Why a gate call changes nothing, one refusal per call: unknown_run,
-- unknown_step, step_terminal (the step already ended: a late or duplicate
-- call, or a cancel won), attempt_mismatch (a newer attempt exists),
-- run_not_active, not_lease_holder (the step's job is not locked by
-- job_holder, the worker asking), or step_not_running / step_not_ready. The gates call it
-- only for the calls that did not match, so the ordinary path pays nothing.
-- A workflow step without a row is a pending one (attempt 0).
create or replace function rowflow._refusals(run_ids bigint[], steps text[], attempts int[], os int[], allowed text[],
  job_holder text default null)
returns table (o int, refusal jsonb)
language plpgsql stable
set search_path to ''
set plan_cache_mode to force_generic_plan
set enable_seqscan to off
set enable_hashjoin to off
set enable_mergejoin to off
set jit to off
as $$
#variable_conflict use_column
begin
  return query
  select c.o,
    case
      when r.id is null then '{"ok": false, "reason": "unknown_run"}'::jsonb
      when s.status is null then '{"ok": false, "reason": "unknown_step"}'::jsonb
      when s.status in ('succeeded', 'failed', 'skipped', 'cancelled') then
        pg_catalog.jsonb_build_object('ok', false, 'reason', 'step_terminal', 'status', s.status, 'runStatus', r.status)
      when s.attempt <> c.attempt then
        pg_catalog.jsonb_build_object('ok', false, 'reason', 'attempt_mismatch', 'currentAttempt', s.attempt)
      when r.status not in ('running', 'compensating') then
        pg_catalog.jsonb_build_object('ok', false, 'reason', 'run_not_active', 'runStatus', r.status)
      when _refusals.job_holder is not null and s.status in ('queued', 'running')
           and not exists (select 1 from graphile_worker._private_jobs as j
                           where j.id = s.job_id and j.locked_by = _refusals.job_holder) then
        '{"ok": false, "reason": "not_lease_holder"}'::jsonb
      else
        pg_catalog.jsonb_build_object('ok', false,
          'reason', 'step_not_' || case when _refusals.allowed = array['running'] then 'running' else 'ready' end,
          'status', s.status)
    end
  from unnest(_refusals.run_ids, _refusals.steps, _refusals.attempts, _refusals.os) as c(run_id, step, attempt, o)
  left join rowflow.runs as r on r.id = c.run_id
  left join lateral (
    select sr.status, sr.attempt, sr.job_id from rowflow.step_runs as sr where sr.run_id = c.run_id and sr.step = c.step
    union all
    select 'pending', 0, null::bigint from rowflow.workflow_steps as ws
    where ws.workflow = r.workflow and ws.version = r.version and ws.name = c.step
      and not exists (select 1 from rowflow.step_runs as sr where sr.run_id = c.run_id and sr.step = c.step)
  ) as s on true;
end;
$$;
select rowflow._allow('function rowflow._refusals(bigint[], text[], int[], int[], text[], text)', '{}');
