-- rowflow._cancel_steps(run_id, kinds, reason, now) → how many were cancelled
--
-- Cancels the run's unfinished step runs of the given kinds (pending,
-- queued, running; for kind 'step' also the steps without a row, which get
-- a 'cancelled' row) with their events, ends their leases, and removes
-- their queued jobs by the rule of graphile_worker.remove_job: an unlocked
-- job is deleted, a locked one keeps running but gets no graphile retry.
-- Waiting steps' waits end with them (rowflow.step_waits), and their open
-- human tasks are cancelled.
-- Its worker's gate call then gets a step_terminal refusal and the
-- handler's transaction rolls back. Caller holds the run lock.
create or replace function rowflow._cancel_steps(run_id bigint, kinds text[], reason text, now timestamptz)
returns int
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_run rowflow.runs;
  v_jobs bigint[];
  v_n int;
begin
  select r.* into v_run from rowflow.runs as r where r.id = _cancel_steps.run_id;
  -- PHASE 1: the queued jobs (a leased step has none).
  v_jobs := array(
    select sr.job_id from rowflow.step_runs as sr
    where sr.run_id = _cancel_steps.run_id and sr.kind = any (_cancel_steps.kinds)
      and sr.status = 'queued' and sr.job_id is not null and sr.locked_by is null
    order by sr.job_id);
  if cardinality(v_jobs) > 0 then
    delete from graphile_worker._private_jobs as jobs
    where jobs.id = any (v_jobs)
      and (jobs.locked_at is null or jobs.locked_at < pg_catalog.now() - interval '4 hours');
    update graphile_worker._private_jobs as jobs
    set attempts = jobs.max_attempts, updated_at = pg_catalog.now()
    where jobs.id = any (v_jobs);
  end if;

  -- PHASE 2: the step runs, with and without a row, and their events.
  with c as (
    update rowflow.step_runs as sr
    set status = 'cancelled', finished_at = _cancel_steps.now, locked_by = null
    where sr.run_id = _cancel_steps.run_id and sr.kind = any (_cancel_steps.kinds)
      and sr.status in ('pending', 'queued', 'running')
    returning sr.step, sr.attempt
  ), n as (
    insert into rowflow.step_runs (run_id, step, kind, status, deps_remaining, attempt, max_attempts,
                                   created_at, finished_at)
    select _cancel_steps.run_id, ws.name, 'step', 'cancelled', ws.n_deps, 0, ws.attempts,
           v_run.created_at, _cancel_steps.now
    from rowflow.workflow_steps as ws
    where 'step' = any (_cancel_steps.kinds)
      and ws.workflow = v_run.workflow and ws.version = v_run.version
      and not exists (select 1 from rowflow.step_runs as sr
                      where sr.run_id = _cancel_steps.run_id and sr.step = ws.name)
    order by ws.name
    returning step, attempt
  ), cn as (
    select * from c union all select * from n
  ), e as (
    insert into rowflow.events (run_id, step, type, attempt, data, at)
    select _cancel_steps.run_id, cn.step, 'step_cancelled', nullif(cn.attempt, 0),
      jsonb_build_object('reason', _cancel_steps.reason), _cancel_steps.now
    from cn order by cn.step
  )
  select count(*) into v_n from cn;

  -- PHASE 3: their waits end, their open human tasks are cancelled.
  if 'step' = any (_cancel_steps.kinds) then
    delete from rowflow.step_waits as w where w.run_id = _cancel_steps.run_id;
    update rowflow.human_tasks as t set status = 'cancelled'
    where t.run_id = _cancel_steps.run_id and t.status in ('open', 'claimed');
  end if;
  return v_n;
end;
$$;
select rowflow._allow('function rowflow._cancel_steps(bigint, text[], text, timestamptz)', '{}');
