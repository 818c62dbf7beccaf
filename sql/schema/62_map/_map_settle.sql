-- rowflow._map_settle(elements, now) → the map steps that finished
--
-- Counts finished elements (rowflow.step_runs of kind 'element': succeeded,
-- or failed for good under "mapErrors": "collect") down on their map step's
-- rowflow.step_maps row, and finishes each map step whose last element
-- this was: it succeeds with the elements' outputs as its output, an
-- array in element order (with "collect", each element as {"ok": true,
-- "output": …} or {"ok": false, "error": …}). Answers those steps, with the
-- origin of their last element, for the caller to release their
-- dependents (complete_steps does, in its ordinary release). O(elements
-- finished) per call, plus one read of a map's elements when it finishes.
-- Called by complete_steps (elements that succeeded) and
-- _map_element_failed; the caller holds the runs' locks.
create or replace function rowflow._map_settle(elements rowflow.done_step[], now timestamptz)
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
  v_last rowflow.done_step[];
begin
  -- PHASE 1: the counters.
  with c as (
    select e.run_id, pg_catalog.split_part(e.step, '[', 1) as step, count(*)::int as n, max(e.origin) as origin
    from unnest(_map_settle.elements) as e(run_id, step, origin)
    group by 1, 2
  ), u as (
    update rowflow.step_maps as m set open = m.open - c.n
    from c
    where m.run_id = c.run_id and m.step = c.step
    returning m.run_id, m.step, m.open, c.origin
  )
  select coalesce(array_agg(row(u.run_id, u.step, u.origin)::rowflow.done_step order by u.run_id, u.step)
                  filter (where u.open = 0), '{}')
  into v_last
  from u;
  if cardinality(v_last) = 0 then
    return '{}';
  end if;

  -- PHASE 2: the finished map steps succeed (sql/schema/62_map/_map_finish.sql).
  return rowflow._map_finish(v_last, _map_settle.now);
end;
$$;
comment on function rowflow._map_settle(rowflow.done_step[], timestamptz) is
  'Internal: counts finished map elements down; finishes the map steps whose last element that was (output: the elements'' outputs in order) and answers them.';
select rowflow._allow('function rowflow._map_settle(rowflow.done_step[], timestamptz)', '{}');
