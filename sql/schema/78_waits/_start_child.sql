-- rowflow._start_child(run, ws, sr, wait, ctx, now) → arm_step's answer
--
-- A child step is reached (rowflow.arm_step, its rowflow:wait job): start
-- one run of the child workflow and wait for it. The caller holds the
-- parent run's lock and has checked that the step is queued at sr.attempt.
--   - The child runs the workflow's latest version at this moment (the
--     run pins it, as every run does); its input is the wait's "input"
--     path over ctx ({"input", "steps"}), which must give a JSON object.
--   - It records its parent (runs.parent_run_id, parent_step), inherits
--     the parent's priority and started_by (so an app sees and cancels the
--     children of its own runs: rowflow.visible_runs, cancel_run).
--   - Its idempotency key names the parent step's attempt
--     ('rowflow:child:<run>:<step>:<attempt>:<µs of the step row>'; the
--     step row's creation time tells a retry_run's rebuilt attempt 1 from
--     the first one): a job delivered twice starts one child. (arm_step
--     already answers a second delivery from the step_waits row; the key
--     holds even if that row were gone.)
--   - Depth: a run with 10 ancestors starts no child (code child_depth):
--     a workflow may start itself, and this bounds the recursion.
-- The step then waits (rowflow.step_waits kind 'child', no deadline job):
-- it holds no worker slot. When the child ends, the trigger
-- rowflow_child_ended queues a rowflow:child job (rowflow.settle_child).
-- A problem that no retry can fix (no such workflow any more, the input is
-- not an object, too deep) fails the step at once (rowflow._fail_wait).
create or replace function rowflow._start_child(run rowflow.runs, ws rowflow.workflow_steps, sr rowflow.step_runs,
  wait jsonb, ctx jsonb, now timestamptz)
returns jsonb
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  c_max_depth constant int := 10;
  v_run rowflow.runs := _start_child.run;
  v_sr rowflow.step_runs := _start_child.sr;
  v_workflow text := _start_child.wait ->> 'workflow';
  v_version int;
  v_input jsonb;
  v_depth int;
  v_key text;
  v_child rowflow.runs;
begin
  -- GUARD: the depth, the workflow, the input.
  with recursive up as (
    select r.parent_run_id as id, 1 as depth from rowflow.runs as r where r.id = v_run.id
    union all
    select r.parent_run_id, up.depth + 1 from up join rowflow.runs as r on r.id = up.id
    where up.depth <= c_max_depth
  )
  select count(*)::int into v_depth from up where up.id is not null;
  if v_depth >= c_max_depth then
    return rowflow._fail_wait(v_run.id, v_sr.step, v_sr.attempt, pg_catalog.jsonb_build_object(
      'message', pg_catalog.format('run %s already has %s ancestor runs; a child workflow may be at most %s levels deep',
                                   v_run.id, v_depth, c_max_depth),
      'code', 'child_depth'), _start_child.now);
  end if;
  select w.latest_version into v_version from rowflow.workflows as w where w.name = v_workflow;
  if v_version is null then
    return rowflow._fail_wait(v_run.id, v_sr.step, v_sr.attempt, pg_catalog.jsonb_build_object(
      'message', pg_catalog.format('child workflow %s is not defined', v_workflow), 'code', 'child_workflow'),
      _start_child.now);
  end if;
  v_input := jsonb_path_query_first(_start_child.ctx, (_start_child.wait ->> 'input')::jsonpath, '{}', true);
  if v_input is null or pg_catalog.jsonb_typeof(v_input) <> 'object' then
    return rowflow._fail_wait(v_run.id, v_sr.step, v_sr.attempt, pg_catalog.jsonb_build_object(
      'message', pg_catalog.format('child.input %s gave %s, not a JSON object', _start_child.wait ->> 'input',
                                   coalesce(pg_catalog.jsonb_typeof(v_input), 'nothing')),
      'code', 'child_input'), _start_child.now);
  end if;

  -- PHASE 1: the child run, once per parent step attempt.
  v_key := pg_catalog.format('rowflow:child:%s:%s:%s:%s', v_run.id, v_sr.step, v_sr.attempt,
                             (pg_catalog.date_part('epoch', v_sr.created_at) * 1000000)::bigint);
  insert into rowflow.runs as r (workflow, version, status, input, idempotency_key, priority, created_at, updated_at,
                                 started_by, parent_run_id, parent_step)
  values (v_workflow, v_version, 'queued', v_input, v_key, v_run.priority, _start_child.now, _start_child.now,
          v_run.started_by, v_run.id, v_sr.step)
  on conflict (workflow, idempotency_key) where idempotency_key is not null do nothing
  returning r.* into v_child;
  if v_child.id is null then
    select r.* into v_child from rowflow.runs as r where r.workflow = v_workflow and r.idempotency_key = v_key;
  end if;

  -- PHASE 2: the wait (no deadline job), its event, the wake-ups. A child
  -- found already ended (by its key) gets its rowflow:child job now.
  insert into rowflow.step_waits (run_id, step, kind, child_run_id, since)
  values (v_run.id, v_sr.step, 'child', v_child.id, _start_child.now);
  perform rowflow._wait_deadline(v_run, _start_child.ws, v_sr, null);
  if v_child.finished_at is not null then
    perform rowflow._add_step_jobs(array[row(v_run.id, v_sr.step, v_sr.attempt, null, null,
                                             v_run.priority)::rowflow.step_job], 'rowflow:child');
  end if;
  insert into rowflow.events (run_id, step, type, attempt, data, at)
  values (v_run.id, v_sr.step, 'step_waiting', v_sr.attempt,
          pg_catalog.jsonb_build_object('for', 'child', 'child', v_child.id, 'workflow', v_workflow,
                                        'version', v_child.version), _start_child.now);
  perform rowflow._wake_all(0, 1, pg_catalog.jsonb_build_object('run', v_child.id));
  perform rowflow._notify(pg_catalog.jsonb_build_object('run', v_run.id));
  return pg_catalog.jsonb_build_object('ok', true, 'outcome', 'waiting', 'child', v_child.id);
end;
$$;
comment on function rowflow._start_child(rowflow.runs, rowflow.workflow_steps, rowflow.step_runs, jsonb, jsonb, timestamptz) is
  'Internal: starts the child run of a child step (once per attempt: its idempotency key) and makes the step wait for it.';
select rowflow._allow('function rowflow._start_child(rowflow.runs, rowflow.workflow_steps, rowflow.step_runs, jsonb, jsonb, timestamptz)', '{}');
