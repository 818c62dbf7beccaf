-- rowflow.settle_child(run_id, step, attempt, worker_id, now) → {"ok", "outcome", …} or a refusal
--
-- The body of graphile-worker's `rowflow:child` task: the child run a
-- child step waits for has ended (the trigger rowflow_child_ended on
-- rowflow.runs queued this job in the transaction that ended it), and the
-- step takes its outcome:
--   child succeeded → the step succeeds; its output is the child's output:
--                     {<step>: output} of the child's final steps (those
--                     no other step depends on; a skipped one gives null)
--   child failed or cancelled → the attempt fails with
--                     {"code": "child_failed" | "child_cancelled",
--                      "child": id, "childError": the child's error},
--                     through the handlers' path (rowflow._fail_attempt):
--                     while attempts remain, the next attempt starts a
--                     new child after the step's backoff; else the step
--                     and the run fail
-- Lock order: the parent run first, then its step row; the child's row is
-- only read (an ended run changes no more, unless an operator retries it:
-- then it is no longer ended, and this changes nothing). Why a job rather
-- than the trigger itself: the trigger runs under the child's lock, and
-- taking the parent's lock there would invert the order cancel_run takes
-- them in (parent, then child: rowflow_child_cancel), a deadlock.
-- Refused, changing nothing: the step is no longer waiting at that
-- attempt, or its child has not ended ({"reason": "child_active"}).
-- No job fence as arm_step has: the answer depends only on rows (the
-- child's end), so a call from any worker does what the job would, once.
create or replace function rowflow.settle_child(run_id bigint, step text, attempt int, worker_id text default null,
  now timestamptz default null)
returns jsonb
language plpgsql
security definer
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_now timestamptz := coalesce(settle_child.now, pg_catalog.statement_timestamp());
  v_run rowflow.runs;
  v_sr rowflow.step_runs;
  v_sw rowflow.step_waits;
  v_child rowflow.runs;
  v_output jsonb;
  v_answer jsonb;
begin
  -- GUARD: a worker; lock order run → step; the step waits for a child at
  -- this attempt, and the child has ended.
  perform rowflow._require('{worker}');
  select r.* into v_run from rowflow.runs as r where r.id = settle_child.run_id for no key update;
  select sr.* into v_sr from rowflow.step_runs as sr
  where sr.run_id = settle_child.run_id and sr.step = settle_child.step and sr.kind = 'step' for update;
  if not found or v_run.status is distinct from 'running' or v_sr.status <> 'queued'
     or v_sr.attempt <> settle_child.attempt then
    return (select f.refusal from rowflow._refusals(array[settle_child.run_id], array[settle_child.step],
                                                    array[settle_child.attempt], array[1], array['queued']) as f);
  end if;
  select w.* into v_sw from rowflow.step_waits as w
  where w.run_id = v_run.id and w.step = v_sr.step and w.kind = 'child';
  if not found then
    return '{"ok": false, "reason": "not_waiting"}'::jsonb;
  end if;
  select c.* into v_child from rowflow.runs as c where c.id = v_sw.child_run_id;
  if v_child.finished_at is null then
    return pg_catalog.jsonb_build_object('ok', false, 'reason', 'child_active', 'child', v_sw.child_run_id,
                                         'childStatus', v_child.status);
  end if;

  -- PHASE 1: a child that succeeded: its final steps' outputs.
  if v_child.status = 'succeeded' then
    select coalesce(pg_catalog.jsonb_object_agg(ws.name, sr.output order by ws.name), '{}') into v_output
    from rowflow.workflow_steps as ws
    left join rowflow.step_runs as sr on sr.run_id = v_child.id and sr.step = ws.name
    where ws.workflow = v_child.workflow and ws.version = v_child.version and cardinality(ws.dependents) = 0;
    v_answer := rowflow._settle_step(v_run.id, v_sr.step, 'succeeded', v_output, v_now, 'child_succeeded',
      pg_catalog.jsonb_build_object('child', v_child.id, 'workflow', v_child.workflow, 'version', v_child.version));
    return pg_catalog.jsonb_build_object('ok', true, 'outcome', 'succeeded', 'child', v_child.id) || v_answer;
  end if;

  -- PHASE 2: a child that failed or was cancelled fails the attempt; the
  -- step's retry policy decides (a retry is a rowflow:wait job: a new child).
  delete from rowflow.step_waits as w where w.run_id = v_run.id and w.step = v_sr.step;
  update rowflow.step_runs as sr set status = 'running', started_at = coalesce(sr.started_at, v_sw.since),
    job_id = null
  where sr.run_id = v_run.id and sr.step = v_sr.step;
  v_answer := rowflow._fail_attempt(v_run.id, v_sr.step, v_sr.attempt, pg_catalog.jsonb_strip_nulls(
    pg_catalog.jsonb_build_object(
      'message', pg_catalog.format('child run %s (%s) %s%s', v_child.id, v_child.workflow, v_child.status,
                                   coalesce(': ' || coalesce(v_child.error -> 'error' ->> 'message',
                                                             v_child.error ->> 'reason'), '')),
      'code', 'child_' || v_child.status, 'child', v_child.id, 'childError', v_child.error)),
    true, null, v_now);
  return v_answer || pg_catalog.jsonb_build_object('child', v_child.id);
end;
$$;
comment on function rowflow.settle_child(bigint, text, int, text, timestamptz) is
  'The rowflow:child job: a child step takes its ended child run''s outcome (succeeded with the child''s output, or a failed attempt).';
select rowflow._allow('function rowflow.settle_child(bigint, text, int, text, timestamptz)', '{worker}');
