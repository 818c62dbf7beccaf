-- rowflow.skip_step(run_id, step, output, reason, now) → what it changed
--
-- Settles a step of a running run that has not started, by hand: with an
-- output (a JSON object) it succeeds with that output, which its
-- dependents read as they would a handler's; without one (null) it is
-- skipped. Either way its dependents are released through the ordinary
-- gate (sql/schema/60_gate/_release.sql), under the run's lock, so a
-- fan-in is released exactly once however the skip races the step's
-- other dependencies. A queued step's job is removed; a worker that
-- already fetched it is refused at begin (the step is no longer queued).
-- The run succeeds here if nothing else is left.
--
-- Accepts a pending (waiting on dependencies) or queued step; a step
-- already succeeded or skipped answers {"skipped": false} (a second call
-- is harmless). To skip the failed step of a failed run, retry_run it
-- first (the step is queued again), then skip it. RF023 unknown run;
-- RF041 a step the run's workflow version does not have; RF042 a step
-- that is running (wait for it or cancel the run), a failed or cancelled
-- step, or a run that is not running (queued runs have no steps yet);
-- RF043 an output that is not a JSON object. Operators only.
create or replace function rowflow.skip_step(run_id bigint, step text, output jsonb default null,
  reason text default null, now timestamptz default null)
returns jsonb
language plpgsql
security definer
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_now timestamptz := coalesce(skip_step.now, pg_catalog.statement_timestamp());
  v_run rowflow.runs;
  v_sr rowflow.step_runs;
  v_status text := case when skip_step.output is null then 'skipped' else 'succeeded' end;
  v_released text[];
  v_run_status text;
  v_answer jsonb;
  v_exists boolean;
  v_settled jsonb;
begin
  -- GUARD: operators; an object or nothing; lock the run, then the step.
  perform rowflow._require('{operator}');
  if skip_step.output is not null and pg_catalog.jsonb_typeof(skip_step.output) <> 'object' then
    raise exception 'skip_step: output must be a JSON object or null, got %', pg_catalog.jsonb_typeof(skip_step.output)
      using errcode = 'RF043';
  end if;
  select r.* into v_run from rowflow.runs as r where r.id = skip_step.run_id for no key update;
  if not found then
    raise exception 'unknown run %', skip_step.run_id using errcode = 'RF023';
  end if;
  if not exists (select 1 from rowflow.workflow_steps as ws
                 where ws.workflow = v_run.workflow and ws.version = v_run.version and ws.name = skip_step.step) then
    raise exception 'run % (workflow %, version %) has no step %', v_run.id, v_run.workflow, v_run.version,
      coalesce(pg_catalog.quote_literal(skip_step.step), 'null') using errcode = 'RF041';
  end if;
  select sr.* into v_sr from rowflow.step_runs as sr
  where sr.run_id = v_run.id and sr.step = skip_step.step and sr.kind = 'step' for update;
  v_exists := found;
  if v_exists and v_sr.status in ('succeeded', 'skipped') then
    return pg_catalog.jsonb_build_object('run', v_run.id, 'step', skip_step.step, 'skipped', false,
                                         'status', v_sr.status, 'runStatus', v_run.status);
  end if;
  if v_run.status <> 'running' then
    raise exception 'run % is %: only a running run''s steps can be skipped', v_run.id, v_run.status
      using errcode = 'RF042',
      hint = case when v_run.status in ('failed', 'cancelled') then 'retry_run puts it back to running; then skip the step.'
                  when v_run.status = 'queued' then 'Its steps exist once a worker claims it.' end;
  end if;
  if v_exists and v_sr.status not in ('pending', 'queued') then
    raise exception 'step % of run % is %: only a pending or queued step can be skipped', skip_step.step, v_run.id,
      v_sr.status using errcode = 'RF042',
      hint = case when v_sr.status = 'running' then 'Wait for its attempt to end, or cancel the run.' end;
  end if;

  -- PHASE 1: a step without a row gets one (pending), then it settles
  -- through the path every handler-less end takes (rowflow._settle_step:
  -- its job, its wait and its open human task go; dependents are released).
  if not v_exists then
    insert into rowflow.step_runs (run_id, step, kind, status, deps_remaining, attempt, max_attempts, created_at)
    select v_run.id, ws.name, 'step', 'pending', ws.n_deps, 0, ws.attempts, v_now
    from rowflow.workflow_steps as ws
    where ws.workflow = v_run.workflow and ws.version = v_run.version and ws.name = skip_step.step;
  end if;
  v_settled := rowflow._settle_step(v_run.id, skip_step.step, v_status, skip_step.output, v_now, 'step_skipped',
    pg_catalog.jsonb_build_object('by', session_user, 'status', v_status, 'reason', skip_step.reason,
                                  'from', coalesce(v_sr.status, 'pending')));
  v_released := array(select pg_catalog.jsonb_array_elements_text(v_settled -> 'released'));
  v_run_status := v_settled ->> 'runStatus';
  v_answer := pg_catalog.jsonb_build_object('run', v_run.id, 'step', skip_step.step, 'skipped', true,
    'status', v_status, 'from', coalesce(v_sr.status, 'pending'), 'released', pg_catalog.to_jsonb(v_released),
    'runStatus', v_run_status);
  perform rowflow._audit('skip_step', v_run.workflow, v_run.id, skip_step.step, skip_step.reason,
                         v_answer - 'run' - 'step' || pg_catalog.jsonb_build_object('output', skip_step.output), v_now);
  return v_answer;
end;
$$;
comment on function rowflow.skip_step(bigint, text, jsonb, text, timestamptz) is
  'Settles a pending or queued step of a running run by hand: succeeded with the given output object, or skipped (null); releases its dependents through the gate. Answers what changed.';
select rowflow._allow('function rowflow.skip_step(bigint, text, jsonb, text, timestamptz)', '{operator}');
