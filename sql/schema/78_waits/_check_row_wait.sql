-- rowflow._check_row_wait(run_id, step, now, matched) → whether the step's row was found
--
-- Evaluates a waiting waitFor step's condition (its check function,
-- rowflow._compile_row_wait) over {"input", "steps"} of its run and, when a
-- row matches, settles the step with that row (to_jsonb) as its output
-- (rowflow._settle_step: dependents released, event row_matched). Takes the
-- run's lock first, as every gate, and re-reads that the step still waits
-- (a concurrent signal of the same change, a cancel, a timeout won). Called
-- by the table's trigger (rowflow._row_wait_fired), which passes the row
-- its set-based check already matched (`matched`: no second evaluation).
create or replace function rowflow._check_row_wait(run_id bigint, step text, now timestamptz,
  matched jsonb default null)
returns boolean
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_run rowflow.runs;
  v_ws rowflow.workflow_steps;
  v_row jsonb;
begin
  select r.* into v_run from rowflow.runs as r where r.id = _check_row_wait.run_id for no key update;
  if v_run.status is distinct from 'running'
     or not exists (select 1 from rowflow.step_waits as w join rowflow.step_runs as sr
                      on sr.run_id = w.run_id and sr.step = w.step and sr.status = 'queued'
                    where w.run_id = _check_row_wait.run_id and w.step = _check_row_wait.step and w.kind = 'row') then
    return false;
  end if;
  select ws.* into v_ws from rowflow.workflow_steps as ws
  where ws.workflow = v_run.workflow and ws.version = v_run.version and ws.name = _check_row_wait.step;
  v_row := coalesce(_check_row_wait.matched,
                    rowflow._row_match(v_ws.wait, pg_catalog.jsonb_build_object('input', v_run.input,
                                         'steps', rowflow._deps_outputs(v_run.id, v_ws.depends_on))));
  if v_row is null then
    return false;
  end if;
  perform rowflow._settle_step(v_run.id, _check_row_wait.step, 'succeeded', v_row, _check_row_wait.now, 'row_matched',
                               pg_catalog.jsonb_build_object('table', v_ws.wait ->> 'table'));
  return true;
end;
$$;
comment on function rowflow._check_row_wait(bigint, text, timestamptz, jsonb) is
  'Internal: a waiting waitFor step''s condition; a matching row settles the step with the row as its output.';
select rowflow._allow('function rowflow._check_row_wait(bigint, text, timestamptz, jsonb)', '{}');

-- rowflow._row_match(wait, ctx) → the first row matching a waitFor's condition, as JSON, or null
create or replace function rowflow._row_match(wait jsonb, ctx jsonb)
returns jsonb
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_row jsonb;
begin
  execute pg_catalog.format('select m."row" from %s($1) as m', (_row_match.wait ->> 'check')::regprocedure::regproc)
  into v_row using array[_row_match.ctx];
  return v_row;
end;
$$;
select rowflow._allow('function rowflow._row_match(jsonb, jsonb)', '{}');

-- rowflow._arm_row(run_id, step, attempt, wait, ctx, now) → arm_step's answer, or null: no row yet
--
-- arm_step's check of a waitFor, when it first arms and at each
-- confirmation: a matching row settles the step with it (event
-- row_matched); a condition that raises for this run's values (a cast that
-- does not fit) fails the step, since it never will match. The caller holds
-- the run's lock.
create or replace function rowflow._arm_row(run_id bigint, step text, attempt int, wait jsonb, ctx jsonb,
  now timestamptz)
returns jsonb
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_row jsonb;
begin
  begin
    v_row := rowflow._row_match(_arm_row.wait, _arm_row.ctx);
  exception when others then
    return rowflow._fail_wait(_arm_row.run_id, _arm_row.step, _arm_row.attempt, pg_catalog.jsonb_build_object(
      'message', pg_catalog.format('the waitFor condition on %s failed for this run: %s', _arm_row.wait ->> 'table',
                                   sqlerrm),
      'code', 'wait_condition_failed', 'sqlstate', sqlstate), _arm_row.now);
  end;
  if v_row is null then
    return null;
  end if;
  return pg_catalog.jsonb_build_object('ok', true, 'outcome', 'succeeded')
    || rowflow._settle_step(_arm_row.run_id, _arm_row.step, 'succeeded', v_row, _arm_row.now, 'row_matched',
                            pg_catalog.jsonb_build_object('table', _arm_row.wait ->> 'table'));
end;
$$;
select rowflow._allow('function rowflow._arm_row(bigint, text, int, jsonb, jsonb, timestamptz)', '{}');
