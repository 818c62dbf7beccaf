-- rowflow._map_element_failed(run_id, step, error, now) → fail_step's answer
--
-- An element of a map step failed for good (its attempts used up, or not
-- retryable); rowflow._fail_attempt has marked its row failed and calls
-- this, holding the run's lock. With "mapErrors": "fail" (the default) the
-- map step fails with code RF072 (which element, and its error), no retry:
-- the run fails and compensates as for any failed step, and the step's
-- other elements are cancelled with it (their queued jobs removed). With
-- "collect" the element counts as finished (rowflow._map_settle): the
-- step goes on and, once its last element finishes, succeeds with the
-- error in its output, releasing its dependents here.
create or replace function rowflow._map_element_failed(run_id bigint, step text, error jsonb, now timestamptz)
returns jsonb
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_run rowflow.runs;
  v_map text := pg_catalog.split_part(_map_element_failed.step, '[', 1);
  v_mode text;
  v_parent rowflow.step_runs;
  v_done rowflow.done_step[];
  v_index int;
begin
  select r.* into v_run from rowflow.runs as r where r.id = _map_element_failed.run_id;
  select ws.map_errors into v_mode from rowflow.workflow_steps as ws
  where ws.workflow = v_run.workflow and ws.version = v_run.version and ws.name = v_map;
  select sr.seq into v_index from rowflow.step_runs as sr
  where sr.run_id = v_run.id and sr.step = _map_element_failed.step;
  -- Counted as failed; with "collect" _map_settle counts it as finished
  -- too, else it is finished here (the step fails with it).
  update rowflow.step_maps as m
  set failed = m.failed + 1, open = m.open - case when v_mode = 'collect' then 0 else 1 end
  where m.run_id = v_run.id and m.step = v_map;

  if v_mode = 'collect' then
    -- PHASE 1: collected: the step goes on, and may be done now.
    v_done := rowflow._map_settle(array[row(v_run.id, _map_element_failed.step, 1)::rowflow.done_step],
                                  _map_element_failed.now);
    if cardinality(v_done) > 0 then
      perform rowflow._release(v_done, null, null, _map_element_failed.now, null);
      perform rowflow._finish_runs(array[v_run.id], _map_element_failed.now);
    end if;
    perform rowflow._notify(pg_catalog.jsonb_build_object('run', v_run.id));
    return pg_catalog.jsonb_build_object('ok', true, 'outcome', 'failed', 'collected', true,
      'runStatus', (select r.status from rowflow.runs as r where r.id = v_run.id));
  end if;

  -- PHASE 2: the map step fails (and the run with it).
  select sr.* into v_parent from rowflow.step_runs as sr
  where sr.run_id = v_run.id and sr.step = v_map and sr.status = 'running';
  if not found then
    return pg_catalog.jsonb_build_object('ok', true, 'outcome', 'failed', 'runStatus', v_run.status);
  end if;
  return rowflow._fail_attempt(v_run.id, v_map, v_parent.attempt,
    pg_catalog.jsonb_build_object('code', 'RF072', 'element', v_index,
      'message', pg_catalog.format('element %s of map step %s failed: %s', v_index, v_map,
                                   coalesce(_map_element_failed.error ->> 'message', 'no message')),
      'error', _map_element_failed.error),
    false, null, _map_element_failed.now);
end;
$$;
comment on function rowflow._map_element_failed(bigint, text, jsonb, timestamptz) is
  'Internal: a map element failed for good: fails its map step (RF072; the run fails) or, with mapErrors collect, counts it as finished.';
select rowflow._allow('function rowflow._map_element_failed(bigint, text, jsonb, timestamptz)', '{}');
