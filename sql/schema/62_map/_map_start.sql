-- rowflow._map_start(steps, now) → the map steps that finished at once
--
-- Creates the elements of map steps that just became ready (their
-- dependencies done; docs/spec.md, Map steps). Called from the two places
-- a step becomes ready: rowflow._claim for root map steps and
-- rowflow._release for the others; both wrote the step's row 'pending'
-- (deps_remaining 0, no job) and hold the runs' locks. The array is the
-- step's map path evaluated over {"input": …, "steps": its dependencies'
-- outputs}; then, per step:
-- * an array of 1 to 10,000 elements: the step is 'running' (no job, no
--   lease: it runs through its elements), a rowflow.step_maps row counts
--   them, and each element gets a step run of kind 'element' — named
--   '<step>[<index>]', seq = the index, input = the element, the step's
--   attempts — queued with its own rowflow:step job. Every element of
--   every step of the call, with its job, is written by ONE statement
--   (the job ids drawn from graphile's sequence in it, as claim_runs
--   does), so a map of 10,000 costs one INSERT … SELECT, not 10,000 calls.
-- * an empty array: the step succeeds at once with the output [];
--   returned, so that the caller releases its dependents.
-- * more than 10,000 elements (RF070), or not an array (RF071): the step
--   fails, not the gate call and not the business write, with that code
--   in its error, no retry, and the run fails (compensates) as for any
--   failed step (rowflow._fail_attempt).
-- The elements' completions and failures come back through
-- rowflow._map_settle and rowflow._map_element_failed.
create or replace function rowflow._map_start(steps rowflow.done_step[], now timestamptz)
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
  c_max constant int := 10000;
  v_plan record;
  v_bad record;
  v_seq regclass := pg_catalog.pg_get_serial_sequence('graphile_worker._private_jobs', 'id')::regclass;
  v_done rowflow.done_step[] := '{}';
  v_n int;
  v_woke int;
begin
  if coalesce(cardinality(_map_start.steps), 0) = 0 then
    return '{}';
  end if;

  -- PHASE 1: each step's array, and what becomes of the step.
  select coalesce(array_agg(row(x.run_id, x.step, x.origin)::rowflow.done_step order by x.run_id, x.step)
                  filter (where x.n = 0), '{}') as empty,
         coalesce(array_agg(row(x.run_id, x.step, x.origin)::rowflow.done_step order by x.run_id, x.step)
                  filter (where x.n between 1 and c_max), '{}') as go,
         coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('run', x.run_id, 'step', x.step,
             'error', case when x.n is null then pg_catalog.jsonb_build_object('code', 'RF071',
                        'message', pg_catalog.format('map step %s: %s is %s, not an array', x.step, x.map_path,
                                                     coalesce('a JSON ' || pg_catalog.jsonb_typeof(x.val), 'missing')))
                      else pg_catalog.jsonb_build_object('code', 'RF070', 'elements', x.n, 'limit', c_max,
                        'message', pg_catalog.format('map step %s: %s has %s elements; a map step runs over at most %s',
                                                     x.step, x.map_path, x.n, c_max)) end)
             order by x.run_id, x.step) filter (where x.n is null or x.n > c_max), '[]'::jsonb) as bad
  into v_plan
  from (
    select s.run_id, s.step, s.origin, ws.map_path::text as map_path, v.val,
      case when pg_catalog.jsonb_typeof(v.val) = 'array' then pg_catalog.jsonb_array_length(v.val) end as n
    from unnest(_map_start.steps) as s(run_id, step, origin)
    join rowflow.runs as r on r.id = s.run_id and r.status = 'running'
    join rowflow.workflow_steps as ws on ws.workflow = r.workflow and ws.version = r.version and ws.name = s.step
    join rowflow.step_runs as p on p.run_id = s.run_id and p.step = s.step and p.status = 'pending'
    cross join lateral (
      select jsonb_path_query_first(pg_catalog.jsonb_build_object('input', r.input,
                                      'steps', rowflow._deps_outputs(s.run_id, ws.depends_on)),
                                    ws.map_path, '{}', true) as val
    ) as v
    where ws.map_path is not null
  ) as x;

  -- PHASE 2 (rare): steps over a bad value fail, and their runs with them.
  for v_bad in select (b ->> 'run')::bigint as run_id, b ->> 'step' as step, b -> 'error' as error
               from pg_catalog.jsonb_array_elements(v_plan.bad) as b loop
    update rowflow.step_runs as sr
    set status = 'running', attempt = 1, queued_at = _map_start.now, started_at = _map_start.now
    where sr.run_id = v_bad.run_id and sr.step = v_bad.step and sr.status = 'pending';
    if found then
      perform rowflow._fail_attempt(v_bad.run_id, v_bad.step, 1, v_bad.error, false, null, _map_start.now);
    end if;
  end loop;

  -- PHASE 3: empty arrays: done at once, output [].
  if cardinality(v_plan.empty) > 0 then
    with u as (
      update rowflow.step_runs as sr
      set status = 'succeeded', output = '[]'::jsonb, attempt = 1, queued_at = _map_start.now,
          started_at = _map_start.now, finished_at = _map_start.now
      from unnest(v_plan.empty) as e(run_id, step, origin)
      where sr.run_id = e.run_id and sr.step = e.step and sr.status = 'pending'
        and exists (select 1 from rowflow.runs as r where r.id = e.run_id and r.status = 'running')
      returning e.run_id, e.step, e.origin
    )
    select coalesce(array_agg(row(u.run_id, u.step, u.origin)::rowflow.done_step order by u.run_id, u.step), '{}')
    into v_done
    from u;
  end if;

  -- PHASE 4: one statement: every element of every step, its job, its
  -- row; the steps' counters; the steps running.
  if cardinality(v_plan.go) > 0 then
    with g as (
      -- An element that succeeded before the step was retried (retry_run
      -- keeps those) is not created again.
      select s.run_id, s.step, ws.attempts, greatest(-32768, least(32767, ws.priority + r.priority)) as priority,
             e.value, (e.idx - 1)::int as idx,
             m.run_id is not null and exists (
               select 1 from rowflow.step_runs as k
               where k.run_id = s.run_id and k.step = s.step || '[' || (e.idx - 1) || ']'
                 and k.status = 'succeeded') as kept
      from unnest(v_plan.go) as s(run_id, step, origin)
      left join rowflow.step_maps as m on m.run_id = s.run_id and m.step = s.step
      join rowflow.runs as r on r.id = s.run_id and r.status = 'running'
      join rowflow.workflow_steps as ws on ws.workflow = r.workflow and ws.version = r.version and ws.name = s.step
      join rowflow.step_runs as p on p.run_id = s.run_id and p.step = s.step and p.status = 'pending'
      cross join lateral pg_catalog.jsonb_array_elements(
        jsonb_path_query_first(pg_catalog.jsonb_build_object('input', r.input,
                                 'steps', rowflow._deps_outputs(s.run_id, ws.depends_on)),
                               ws.map_path, '{}', true)) with ordinality as e(value, idx)
    ), w as (
      -- Job ids drawn here (graphile's own sequence), not matched back from
      -- the insert's RETURNING (see claim_runs).
      select g.*, g.step || '[' || g.idx || ']' as element, pg_catalog.nextval(v_seq) as job_id
      from g where not g.kept
    ), jobs as (
      insert into graphile_worker._private_jobs as j (id, job_queue_id, task_id, payload, run_at, max_attempts, priority)
      overriding system value
      select w.job_id, null,
             (select t.id from graphile_worker._private_tasks as t where t.identifier = 'rowflow:step'),
             pg_catalog.json_build_object('run', w.run_id, 'step', w.element, 'attempt', 1),
             _map_start.now, 25, w.priority
      from w
      order by w.job_id
    ), els as (
      insert into rowflow.step_runs (run_id, step, kind, status, deps_remaining, attempt, max_attempts, seq, input,
                                     created_at, queued_at, job_id)
      select w.run_id, w.element, 'element', 'queued', 0, 1, w.attempts, w.idx, w.value,
             _map_start.now, _map_start.now, w.job_id
      from w
      order by w.run_id, w.element
    ), maps as (
      -- A map step retried (retry_run) has its counter rewritten.
      insert into rowflow.step_maps as m (run_id, step, total, open, failed, created_at)
      select g.run_id, g.step, count(*)::int, (count(*) filter (where not g.kept))::int, 0, _map_start.now
      from g group by g.run_id, g.step
      order by g.run_id, g.step
      on conflict (run_id, step) do update
      set total = excluded.total, open = excluded.open, failed = 0, created_at = excluded.created_at
    ), par as (
      update rowflow.step_runs as sr
      set status = 'running', attempt = 1, queued_at = _map_start.now, started_at = _map_start.now
      from unnest(v_plan.go) as s(run_id, step, origin)
      where sr.run_id = s.run_id and sr.step = s.step and sr.status = 'pending'
        and exists (select 1 from rowflow.runs as r where r.id = s.run_id and r.status = 'running')
    )
    select count(*)::int into v_n from w;
    if v_n > 0 then
      v_woke := rowflow._wake_all(v_n, 0, null);
    end if;
    -- A retried step whose elements had all succeeded is done now.
    if exists (select 1 from unnest(v_plan.go) as s(run_id, step, origin)
               join rowflow.step_maps as m on m.run_id = s.run_id and m.step = s.step where m.open = 0) then
      v_done := v_done || rowflow._map_finish(array(
        select row(s.run_id, s.step, s.origin)::rowflow.done_step from unnest(v_plan.go) as s(run_id, step, origin)
        join rowflow.step_maps as m on m.run_id = s.run_id and m.step = s.step where m.open = 0
        order by s.run_id, s.step), _map_start.now);
    end if;
  end if;
  return v_done;
end;
$$;
comment on function rowflow._map_start(rowflow.done_step[], timestamptz) is
  'Internal: creates the elements of ready map steps (one statement: rows and jobs); answers the map steps done at once (empty arrays); fails those over a bad value (RF070, RF071).';
select rowflow._allow('function rowflow._map_start(rowflow.done_step[], timestamptz)', '{}');
