-- rowflow._row_wait_fired() — trigger rowflow_wait_for (after insert or update, for each statement)
--
-- A row of a table that waitFor steps wait on changed: each step waiting on
-- this table is checked again (rowflow._check_row_wait) in the writer's
-- transaction, so a row that commits completes its step in the same commit,
-- and a rolled-back one completes nothing. Cheap when nothing waits: one
-- index probe of rowflow.step_waits (step_waits_relid_idx) per statement,
-- no transition table (measured: 8.7 µs per single-row INSERT, of ~425 µs).
-- With waits, one call of each condition's check function per statement
-- for all the runs waiting on it; only the runs a row matches are locked.
-- Measured (one client, a loaded 2-core machine): with 100 runs waiting on
-- other rows, 1.6 ms per INSERT in the trigger, 16 µs a wait; checking each
-- wait alone (lock, context, check) took 25 ms. Never fails the writer's statement: a check that
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
  v_g record;
  v_m record;
begin
  if not exists (select 1 from rowflow.step_waits as w where w.relid = tg_relid) then
    return null;
  end if;
  -- PHASE 1: per condition (check function), the waiting runs' contexts,
  -- matched in one call; nothing locked yet.
  for v_g in
    select ws.wait ->> 'check' as fn,
           array_agg(w.run_id order by w.run_id, w.step) as runs,
           array_agg(w.step order by w.run_id, w.step) as steps,
           array_agg(pg_catalog.jsonb_build_object('input', r.input,
                       'steps', rowflow._deps_outputs(r.id, ws.depends_on)) order by w.run_id, w.step) as ctxs
    from rowflow.step_waits as w
    join rowflow.runs as r on r.id = w.run_id and r.status = 'running'
    join rowflow.workflow_steps as ws on ws.workflow = r.workflow and ws.version = r.version and ws.name = w.step
    where w.relid = tg_relid
    group by ws.wait ->> 'check'
  loop
    begin
      for v_m in execute pg_catalog.format('select m.o, m."row" from %s($1) as m order by m.o',
                                           v_g.fn::regprocedure::regproc) using v_g.ctxs
      loop
        -- PHASE 2: each match settles under its run's lock, if it still waits.
        perform rowflow._check_row_wait(v_g.runs[v_m.o], v_g.steps[v_m.o], pg_catalog.statement_timestamp(),
                                        v_m."row");
      end loop;
    exception when others then
      -- One run's values do not fit the condition (a cast): check them one
      -- by one, so that the others still complete.
      for i in 1 .. cardinality(v_g.runs) loop
        begin
          perform rowflow._check_row_wait(v_g.runs[i], v_g.steps[i], pg_catalog.statement_timestamp());
        exception when others then
          raise warning 'rowflow: the waitFor condition of run % step % failed (%); it keeps waiting', v_g.runs[i],
            v_g.steps[i], sqlerrm;
        end;
      end loop;
    end;
  end loop;
  return null;
end;
$$;
comment on function rowflow._row_wait_fired() is
  'Trigger rowflow_wait_for of tables waitFor steps wait on: re-checks the steps waiting on the table (never fails the write).';
select rowflow._allow('function rowflow._row_wait_fired()', '{}');
