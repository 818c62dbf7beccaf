-- rowflow._row_wait_fired() — trigger rowflow_wait_for (after insert or update, for each statement)
--
-- A row of a table that waitFor steps wait on changed: each step waiting on
-- this table is checked again (rowflow._check_row_wait) in the writer's
-- transaction, so a row that commits completes its step in the same commit,
-- and a rolled-back one completes nothing. Cheap when nothing waits: one
-- index probe of rowflow.step_waits (step_waits_relid_idx) per statement,
-- no transition table. Never fails the writer's statement: a check that
-- raises (a cast of a run value that does not fit) is reported as a
-- WARNING and leaves that step waiting. SECURITY DEFINER (rowflow's
-- owner): writers need no right on schema rowflow; each condition runs as
-- its workflow's owner (its check function's owner).
create or replace function rowflow._row_wait_fired()
returns trigger
language plpgsql
security definer
set search_path to ''
as $$
declare
  v_w record;
begin
  if not exists (select 1 from rowflow.step_waits as w where w.relid = tg_relid) then
    return null;
  end if;
  for v_w in
    select w.run_id, w.step from rowflow.step_waits as w where w.relid = tg_relid order by w.run_id, w.step
  loop
    begin
      perform rowflow._check_row_wait(v_w.run_id, v_w.step, pg_catalog.statement_timestamp());
    exception when others then
      raise warning 'rowflow: the waitFor condition of run % step % failed (%); it keeps waiting', v_w.run_id,
        v_w.step, sqlerrm;
    end;
  end loop;
  return null;
end;
$$;
comment on function rowflow._row_wait_fired() is
  'Trigger rowflow_wait_for of tables waitFor steps wait on: re-checks the steps waiting on the table (never fails the write).';
select rowflow._allow('function rowflow._row_wait_fired()', '{}');
