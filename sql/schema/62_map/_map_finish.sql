-- rowflow._map_finish(steps, now) → the map steps that succeeded
--
-- Map steps all of whose elements finished succeed: their output is the
-- elements' outputs, an array in element order (seq); with "mapErrors":
-- "collect" each entry is {"ok": true, "output": …} or {"ok": false,
-- "error": …}. One read of the step's elements, once. Answers the steps
-- that succeeded (still running until now), with the origin given, for
-- the caller to release their dependents. The caller holds the runs' locks.
create or replace function rowflow._map_finish(steps rowflow.done_step[], now timestamptz)
returns rowflow.done_step[]
language plpgsql
set search_path to ''
set plan_cache_mode to force_generic_plan
set enable_seqscan to off
set enable_hashjoin to off
set enable_mergejoin to off
set jit to off
as $$
#variable_conflict use_column
declare
  v_done rowflow.done_step[];
begin
  with o as (
    select l.run_id, l.step, l.origin,
      (select coalesce(pg_catalog.jsonb_agg(
                case when ws.map_errors = 'collect' then
                  case when el.status = 'succeeded'
                       then pg_catalog.jsonb_build_object('ok', true, 'output', el.output)
                       else pg_catalog.jsonb_build_object('ok', false, 'error', el.error) end
                else el.output end order by el.seq), '[]'::jsonb)
       from rowflow.step_runs as el
       where el.run_id = l.run_id and el.kind = 'element' and pg_catalog.left(el.step, pg_catalog.length(l.step) + 1) = l.step || '[') as output
    from unnest(_map_finish.steps) as l(run_id, step, origin)
    join rowflow.runs as r on r.id = l.run_id
    join rowflow.workflow_steps as ws on ws.workflow = r.workflow and ws.version = r.version and ws.name = l.step
  ), u as (
    update rowflow.step_runs as sr
    set status = 'succeeded', output = o.output, finished_at = _map_finish.now
    from o
    where sr.run_id = o.run_id and sr.step = o.step and sr.status = 'running'
    returning o.run_id, o.step, o.origin
  )
  select coalesce(array_agg(row(u.run_id, u.step, u.origin)::rowflow.done_step order by u.run_id, u.step), '{}')
  into v_done
  from u;
  return v_done;
end;
$$;
comment on function rowflow._map_finish(rowflow.done_step[], timestamptz) is
  'Internal: map steps whose elements all finished succeed with the elements'' outputs in order; answers them.';
select rowflow._allow('function rowflow._map_finish(rowflow.done_step[], timestamptz)', '{}');
