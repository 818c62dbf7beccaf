-- rowflow.cancel_run(run_id, reason, now) → whether it cancelled
--
-- Cancels a queued or active run: every unfinished step run (and
-- compensation link) is cancelled and its queued job removed
-- (rowflow._cancel_steps); running handlers find out at their gate call.
-- False when the run already ended, RF023 when it does not exist. An
-- operator cancels any run, an app the runs its session started
-- (runs.started_by); anyone else gets 42501.
create or replace function rowflow.cancel_run(run_id bigint, reason text default null, now timestamptz default null)
returns boolean
language plpgsql
security definer
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_now timestamptz := coalesce(cancel_run.now, pg_catalog.statement_timestamp());
  v_run rowflow.runs;
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
  if v_run.status not in ('queued', 'running', 'compensating') then
    return false;
  end if;
  -- PHASE 1: cancel every unfinished step run (a compensation chain too) and
  -- remove the queued jobs; then the run.
  perform rowflow._cancel_steps(v_run.id, array['step', 'compensation', 'on_failure'],
                                coalesce(cancel_run.reason, 'run cancelled'), v_now);
  update rowflow.runs as r
  set status = 'cancelled', updated_at = v_now, finished_at = v_now
  where r.id = v_run.id;
  insert into rowflow.events (run_id, type, data, at)
  values (v_run.id, 'run_cancelled', jsonb_build_object('reason', cancel_run.reason, 'from', v_run.status), v_now);
  perform rowflow._audit('cancel_run', v_run.workflow, v_run.id, null, cancel_run.reason,
                         jsonb_build_object('from', v_run.status), v_now);
  perform rowflow._notify(jsonb_build_object('run', v_run.id));
  return true;
end;
$$;
comment on function rowflow.cancel_run(bigint, text, timestamptz) is
  'Cancels an active run: unfinished step runs cancelled, their queued jobs removed. False if the run already ended; RF023 if unknown.';
select rowflow._allow('function rowflow.cancel_run(bigint, text, timestamptz)', '{operator,app}');
