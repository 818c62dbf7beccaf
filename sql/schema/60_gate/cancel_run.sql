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
-- (runs.started_by); anyone else gets 42501. The cancel itself is
-- rowflow._cancel_locked, shared with the source-row rules of attachments
-- (on_delete, supersede: sql/schema/50_attach/_cancel_source_runs.sql).
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
  return rowflow._cancel_locked(v_run, cancel_run.reason, v_now, coalesce(cancel_run.compensate, false), null);
end;
$$;
comment on function rowflow.cancel_run(bigint, text, timestamptz, boolean) is
  'Cancels an active run: unfinished step runs cancelled, their queued jobs removed; with compensate, the succeeded steps are undone first (compensating, then cancelled). False if the run already ended; RF023 if unknown.';
select rowflow._allow('function rowflow.cancel_run(bigint, text, timestamptz, boolean)', '{operator,app}');
