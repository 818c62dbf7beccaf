-- rowflow._requeue_steps(run_id, steps, now) → the steps queued (or taken) now
--
-- Starts the given steps of a running run over, as if they had never run:
-- their rows must be gone (the caller deleted them, or the run is new).
-- Roots among them (no dependencies) get a job at once, with their queue
-- and delay; the others are released by their done (succeeded or skipped)
-- dependencies, each counted once, through the ordinary release
-- (sql/schema/60_gate/_release.sql: a missing row counts all of a step's
-- dependencies as remaining, so a step with some dependencies among
-- `steps` waits for them). The caller holds the run's lock. Used by
-- retry_run and rerun_from.
create or replace function rowflow._requeue_steps(run_id bigint, steps text[], now timestamptz)
returns text[]
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_run rowflow.runs;
  v_done rowflow.done_step[];
  v_roots text[];
  v_jobs rowflow.step_job[];
  v_ids bigint[];
  v_released text[];
  v_plain int;
begin
  select r.* into v_run from rowflow.runs as r where r.id = _requeue_steps.run_id;
  -- PHASE 1: roots get a job now.
  -- Waiting steps get a rowflow:wait job (rowflow.arm_step), the others a
  -- rowflow:step job: the roots are ordered waits last, so one call each.
  select coalesce(array_agg(ws.name order by ws.wait is not null, ws.name), '{}'),
         coalesce(array_agg(row(v_run.id, ws.name, 1,
           rowflow._queue_name(ws.queue_name, ws.queue_key,
                               pg_catalog.jsonb_build_object('input', v_run.input, 'steps', '{}'::jsonb)),
           _requeue_steps.now + coalesce(ws.delay, interval '0'), coalesce(ws.priority, 0) + v_run.priority
           )::rowflow.step_job order by ws.wait is not null, ws.name), '{}'),
         (count(*) filter (where ws.wait is null))::int
  into v_roots, v_jobs, v_plain
  from rowflow.workflow_steps as ws
  where ws.workflow = v_run.workflow and ws.version = v_run.version and ws.name = any (_requeue_steps.steps)
    and ws.n_deps = 0 and ws.map_path is null;
  v_ids := rowflow._add_step_jobs(v_jobs[1:v_plain])
           || rowflow._add_step_jobs(v_jobs[v_plain + 1:], 'rowflow:wait');
  insert into rowflow.step_runs (run_id, step, kind, status, deps_remaining, attempt, max_attempts, created_at,
                                 queued_at, job_id)
  select v_run.id, ws.name, 'step', 'queued', 0, 1, ws.attempts, _requeue_steps.now, _requeue_steps.now, v_ids[o.i]
  from unnest(v_roots) with ordinality as o(name, i)
  join rowflow.workflow_steps as ws on ws.workflow = v_run.workflow and ws.version = v_run.version and ws.name = o.name
  order by o.i;

  -- PHASE 1b: root map steps get their elements (sql/schema/62_map/_map_start.sql);
  -- one over an empty array is done at once, and PHASE 2 finds it done.
  insert into rowflow.step_runs (run_id, step, kind, status, deps_remaining, attempt, max_attempts, created_at)
  select v_run.id, ws.name, 'step', 'pending', 0, 0, ws.attempts, _requeue_steps.now
  from rowflow.workflow_steps as ws
  where ws.workflow = v_run.workflow and ws.version = v_run.version and ws.name = any (_requeue_steps.steps)
    and ws.n_deps = 0 and ws.map_path is not null
  order by ws.name;
  if found then
    perform rowflow._map_start(array(
      select row(v_run.id, ws.name, 1)::rowflow.done_step from rowflow.workflow_steps as ws
      where ws.workflow = v_run.workflow and ws.version = v_run.version and ws.name = any (_requeue_steps.steps)
        and ws.n_deps = 0 and ws.map_path is not null
      order by ws.name), _requeue_steps.now);
  end if;

  -- PHASE 2: the others, released by their done dependencies.
  select coalesce(array_agg(distinct row(v_run.id, sr.step, 1)::rowflow.done_step), '{}') into v_done
  from rowflow.workflow_steps as ws
  cross join unnest(ws.depends_on) as dep(name)
  join rowflow.step_runs as sr on sr.run_id = v_run.id and sr.step = dep.name and sr.kind = 'step'
  where ws.workflow = v_run.workflow and ws.version = v_run.version and ws.name = any (_requeue_steps.steps)
    and sr.status in ('succeeded', 'skipped');
  select coalesce(array_agg(x.step order by x.step) filter (where x.status in ('queued', 'running')), '{}')
  into v_released
  from rowflow._release(v_done, null, null, _requeue_steps.now, null) as x;
  return v_roots || v_released;
end;
$$;
comment on function rowflow._requeue_steps(bigint, text[], timestamptz) is
  'Internal: queues the given steps of a running run afresh (roots now, the others through the release of their done dependencies); answers the steps queued.';
select rowflow._allow('function rowflow._requeue_steps(bigint, text[], timestamptz)', '{}');
