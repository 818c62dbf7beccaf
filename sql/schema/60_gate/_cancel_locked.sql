-- rowflow._cancel_locked(run, reason, now, compensate, via) → whether it cancelled
--
-- The cancel of one run whose row the caller has locked (for no key
-- update): cancel_run after its role checks, and the source-row rules of
-- attachments (on_delete, supersede), which act for the writer of the
-- business row. Every unfinished step run (and compensation link) is
-- cancelled and its queued job removed (rowflow._cancel_steps); running
-- handlers find out at their gate call. With compensate, the steps that
-- succeeded are undone first, as a failure would undo them
-- (rowflow._build_chain, without on-failure: nothing failed): the run is
-- 'compensating', its error {"cancelled": true, "reason": …}, until its
-- chain ends, and then 'cancelled' (rowflow._finish_runs); with nothing to
-- undo it is cancelled at once. False, changing nothing, when the run has
-- ended, or is compensating already and compensate is asked (it keeps its
-- chain). The audit row is a cancel_run; its data names `via` (null for
-- cancel_run itself, else 'on_delete' or 'supersede').
create or replace function rowflow._cancel_locked(run rowflow.runs, reason text, now timestamptz, compensate boolean,
  via text)
returns boolean
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_run rowflow.runs := _cancel_locked.run;
  v_now timestamptz := coalesce(_cancel_locked.now, pg_catalog.statement_timestamp());
  v_compensate boolean := coalesce(_cancel_locked.compensate, false);
  v_chain int := 0;
  v_error jsonb;
  v_from text := v_run.status;
begin
  -- GUARD: only a queued or active run.
  if v_run.status not in ('queued', 'running', 'compensating') or (v_compensate and v_run.status = 'compensating') then
    return false;
  end if;
  -- PHASE 1: cancel every unfinished step run (a compensation chain too,
  -- unless it is to run now) and remove the queued jobs.
  perform rowflow._cancel_steps(v_run.id, array['step', 'compensation', 'on_failure', 'element'],
                                coalesce(_cancel_locked.reason, 'run cancelled'), v_now);
  -- PHASE 2: with compensate, the chain of what succeeded; the run is
  -- 'compensating' while it runs.
  if v_compensate and v_run.status = 'running' then
    v_chain := rowflow._build_chain(v_run, false, v_now);
  end if;
  if v_chain > 0 then
    v_error := pg_catalog.jsonb_build_object('cancelled', true, 'reason', _cancel_locked.reason);
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
    values (v_run.id, 'run_cancelled', pg_catalog.jsonb_build_object('reason', _cancel_locked.reason, 'from', v_from),
            v_now);
  end if;
  -- PHASE 3: the audit row and the live views' hint.
  perform rowflow._audit('cancel_run', v_run.workflow, v_run.id, null, _cancel_locked.reason,
                         pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
                           'from', v_from, 'compensate', v_compensate, 'compensations', v_chain,
                           'via', _cancel_locked.via)), v_now);
  perform rowflow._notify(pg_catalog.jsonb_build_object('run', v_run.id));
  return true;
end;
$$;
comment on function rowflow._cancel_locked(rowflow.runs, text, timestamptz, boolean, text) is
  'Internal: cancels one locked run (optionally compensating its succeeded steps) and audits it (data.via: how); false if it already ended.';
select rowflow._allow('function rowflow._cancel_locked(rowflow.runs, text, timestamptz, boolean, text)', '{}');
