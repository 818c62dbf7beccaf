-- rowflow.cancel_run(run_id, reason, now, compensate) → whether it cancelled
--
-- Cancels a queued or active run: every unfinished step run (and
-- compensation link) is cancelled and its queued job removed
-- (rowflow._cancel_steps); running handlers find out at their gate call.
-- With compensate, the steps that succeeded are undone first, as a failure
-- would undo them (rowflow._build_chain, without on-failure: nothing
-- failed): the run is 'compensating', its error {"cancelled": true,
-- "reason": …}, until its chain ends, and then 'cancelled'
-- (rowflow._finish_runs); with nothing to undo it is cancelled at once. A
-- run already compensating keeps its chain (false). False when the run
-- already ended, RF023 when it does not exist. An
-- operator cancels any run, an app the runs its session started
-- (runs.started_by); anyone else gets 42501.
create or replace function rowflow.cancel_run(run_id bigint, reason text default null, now timestamptz default null,
  compensate boolean default false)
returns boolean
language plpgsql
security definer
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_now timestamptz := coalesce(cancel_run.now, pg_catalog.statement_timestamp());
  v_run rowflow.runs;
  v_chain int := 0;
  v_error jsonb;
  v_from text;
begin
  -- GUARD: an operator, or the app that started the run; lock the run;
  -- only a queued or active run can be cancelled.
  perform rowflow._require('{operator,app}');
  select r.* into v_run from rowflow.runs as r where r.id = cancel_run.run_id for no key update;
  if not found then
    raise exception 'unknown run %', cancel_run.run_id using errcode = 'RF023';
  end if;
  if v_run.started_by is distinct from session_user::text and not rowflow._trusted()
     and not pg_catalog.pg_has_role(session_user, rowflow._role('operator'), 'MEMBER') then
    raise exception 'permission denied: run % was not started by %', v_run.id, session_user
      using errcode = '42501', hint = 'Operators (rowflow_operator) cancel any run; an app cancels its own.';
  end if;
  if v_run.status not in ('queued', 'running', 'compensating')
     or (coalesce(cancel_run.compensate, false) and v_run.status = 'compensating') then
    return false;
  end if;
  v_from := v_run.status;
  -- PHASE 1: cancel every unfinished step run (a compensation chain too,
  -- unless it is to run now) and remove the queued jobs.
  perform rowflow._cancel_steps(v_run.id, array['step', 'compensation', 'on_failure'],
                                coalesce(cancel_run.reason, 'run cancelled'), v_now);
  -- PHASE 2: with compensate, the chain of what succeeded; the run is
  -- 'compensating' while it runs.
  if coalesce(cancel_run.compensate, false) and v_run.status = 'running' then
    v_chain := rowflow._build_chain(v_run, false, v_now);
  end if;
  if v_chain > 0 then
    v_error := jsonb_build_object('cancelled', true, 'reason', cancel_run.reason);
    update rowflow.runs as r
    set status = 'compensating', error = v_error, updated_at = v_now
    where r.id = v_run.id
    returning r.* into v_run;
    insert into rowflow.events (run_id, type, data, at)
    values (v_run.id, 'run_compensating', v_error, v_now);
    perform rowflow._advance_chain_step(v_run, v_now);
  else
    update rowflow.runs as r
    set status = 'cancelled', updated_at = v_now, finished_at = v_now
    where r.id = v_run.id;
    insert into rowflow.events (run_id, type, data, at)
    values (v_run.id, 'run_cancelled', jsonb_build_object('reason', cancel_run.reason, 'from', v_from), v_now);
  end if;
  perform rowflow._audit('cancel_run', v_run.workflow, v_run.id, null, cancel_run.reason,
                         jsonb_build_object('from', v_from, 'compensate', coalesce(cancel_run.compensate, false),
                                            'compensations', v_chain), v_now);
  perform rowflow._notify(jsonb_build_object('run', v_run.id));
  return true;
end;
$$;
comment on function rowflow.cancel_run(bigint, text, timestamptz, boolean) is
  'Cancels an active run: unfinished step runs cancelled, their queued jobs removed; with compensate, the succeeded steps are undone first (compensating, then cancelled). False if the run already ended; RF023 if unknown.';
select rowflow._allow('function rowflow.cancel_run(bigint, text, timestamptz, boolean)', '{operator,app}');
