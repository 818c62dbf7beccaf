-- rowflow.retry_run(run_id, mode, reason, now) → what it changed
--
-- Puts a failed or cancelled run back to work, keeping what succeeded:
--   mode 'failed' (default): the failed and cancelled steps run again;
--   mode 'failed_and_downstream': also every step downstream of them, even
--     one that succeeded or was skipped (its output is discarded).
-- Those steps start over (attempt 1, their rows rebuilt): the ones whose
-- dependencies are all done are queued at once, through the ordinary
-- release (sql/schema/60_gate/_release.sql: conditions, queues, delays);
-- the others wait for them. The run is 'running' again. A run cancelled
-- before any worker claimed it is 'queued' again, without the cancelled
-- step rows its cancel wrote, so that its claim writes them afresh (with
-- them left, every claim_runs failed on step_runs_pkey, blocking every
-- queued run: a bug found by a fresh-app check). The compensation /
-- on-failure chain of the failure is recorded in the run_retried event and
-- in the answer ("chain": each link's status) and its rows removed: a
-- compensation that ran has undone its step's effects, and retrying does
-- not redo that step in mode 'failed' — the answer says so ("warning").
--
-- Answers {"run", "retried": true, "mode", "status", "steps": [reset],
-- "queued": [queued now], "chain": {...}}; a run already queued or running
-- answers {"retried": false, "status"} and changes nothing (a second call
-- is harmless). RF023 unknown run; RF040 a succeeded run (nothing failed:
-- start a new run) or a compensating one (wait until its chain ends);
-- RF043 an unknown mode. Operators only.
create or replace function rowflow.retry_run(run_id bigint, mode text default 'failed', reason text default null,
  now timestamptz default null)
returns jsonb
language plpgsql
security definer
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_now timestamptz := coalesce(retry_run.now, pg_catalog.statement_timestamp());
  v_run rowflow.runs;
  v_reset text[];
  v_seeds text[];
  v_chain jsonb;
  v_compensated text[];
  v_queued text[];
  v_answer jsonb;
  v_status text;
begin
  -- GUARD: operators; a known mode; lock the run; only failed/cancelled.
  perform rowflow._require('{operator}');
  if retry_run.mode is null or retry_run.mode not in ('failed', 'failed_and_downstream') then
    raise exception 'retry_run: mode must be ''failed'' or ''failed_and_downstream'', got %',
      coalesce(pg_catalog.quote_literal(retry_run.mode), 'null') using errcode = 'RF043';
  end if;
  select r.* into v_run from rowflow.runs as r where r.id = retry_run.run_id for no key update;
  if not found then
    raise exception 'unknown run %', retry_run.run_id using errcode = 'RF023';
  end if;
  if v_run.status in ('queued', 'running') then
    return pg_catalog.jsonb_build_object('run', v_run.id, 'retried', false, 'status', v_run.status);
  end if;
  if v_run.status = 'succeeded' then
    raise exception 'run % succeeded: nothing to retry', v_run.id using errcode = 'RF040',
      hint = 'Start a new run of the workflow to run it again.';
  end if;
  if v_run.status = 'compensating' then
    raise exception 'run % is compensating: retry it once its compensation chain has ended', v_run.id
      using errcode = 'RF040';
  end if;

  -- PHASE 1: a run cancelled before its claim: queue it again, its
  -- cancelled step rows removed (its claim writes the step rows; the
  -- step_cancelled events stay in its history).
  if v_run.started_at is null then
    delete from rowflow.step_runs as sr where sr.run_id = v_run.id;
    update rowflow.runs as r set status = 'queued', error = null, finished_at = null, updated_at = v_now
    where r.id = v_run.id;
    v_answer := pg_catalog.jsonb_build_object('run', v_run.id, 'retried', true, 'mode', retry_run.mode,
      'from', v_run.status, 'status', 'queued', 'steps', '[]'::jsonb, 'queued', '[]'::jsonb, 'chain', '{}'::jsonb);
    insert into rowflow.events (run_id, type, data, at)
    values (v_run.id, 'run_retried', v_answer - 'run' - 'retried' || pg_catalog.jsonb_build_object('reason', retry_run.reason), v_now);
    perform rowflow._audit('retry_run', v_run.workflow, v_run.id, null, retry_run.reason, v_answer, v_now);
    perform rowflow._wake_all(0, 1, pg_catalog.jsonb_build_object('run', v_run.id));
    return v_answer;
  end if;

  -- PHASE 2: the steps to run again: failed and cancelled ones, and in
  -- 'failed_and_downstream' mode everything that depends on them.
  with recursive seed as (
    select sr.step from rowflow.step_runs as sr
    where sr.run_id = v_run.id and sr.kind = 'step' and sr.status in ('failed', 'cancelled')
  ), down(name) as (
    select s.step from seed as s
    union
    select dep.name
    from down as d
    join rowflow.workflow_steps as ws on ws.workflow = v_run.workflow and ws.version = v_run.version and ws.name = d.name
    cross join unnest(ws.dependents) as dep(name)
    where retry_run.mode = 'failed_and_downstream'
  )
  select coalesce(array_agg(d.name order by d.name), '{}'),
         coalesce(array_agg(d.name order by d.name) filter (where d.name in (select s.step from seed as s)), '{}')
  into v_reset, v_seeds from down as d;

  -- The chain of the failure, kept in the event; compensated steps named.
  select pg_catalog.jsonb_object_agg(sr.step, sr.status order by sr.seq),
         array_agg(substr(sr.step, length('compensate:') + 1) order by sr.seq)
           filter (where sr.kind = 'compensation' and sr.status = 'succeeded')
  into v_chain, v_compensated
  from rowflow.step_runs as sr where sr.run_id = v_run.id and sr.kind in ('compensation', 'on_failure');

  -- PHASE 3: remove the reset steps' rows (and any job still queued for
  -- them) and the chain's; the run is running again. A reset map step's
  -- elements go too, except, for a map step that failed or was cancelled
  -- itself, those that succeeded: its release creates only the others
  -- again (sql/schema/62_map/_map_start.sql), so a retry reruns the failed
  -- and cancelled elements only. A map step reset because it is downstream
  -- of a failure loses all its elements (its array may differ now).
  delete from graphile_worker._private_jobs as j
  using rowflow.step_runs as sr
  where sr.run_id = v_run.id
    and (sr.kind in ('compensation', 'on_failure') or sr.step = any (v_reset)
         or (sr.kind = 'element' and pg_catalog.split_part(sr.step, '[', 1) = any (v_reset)))
    and j.id = sr.job_id and j.locked_at is null;
  delete from rowflow.step_runs as sr
  where sr.run_id = v_run.id
    and (sr.kind in ('compensation', 'on_failure') or sr.step = any (v_reset)
         or (sr.kind = 'element' and pg_catalog.split_part(sr.step, '[', 1) = any (v_reset)
             and (sr.status <> 'succeeded' or not pg_catalog.split_part(sr.step, '[', 1) = any (v_seeds))));
  delete from rowflow.step_maps as m
  where m.run_id = v_run.id and m.step = any (v_reset) and not m.step = any (v_seeds);
  update rowflow.runs as r set status = 'running', error = null, finished_at = null, updated_at = v_now
  where r.id = v_run.id;

  -- PHASE 4: queue what can run (sql/schema/85_operate/_requeue_steps.sql).
  v_queued := rowflow._requeue_steps(v_run.id, v_reset, v_now);

  -- PHASE 5: record it; a run whose reset steps were all skipped by
  -- their conditions is finished here.
  v_answer := pg_catalog.jsonb_build_object('run', v_run.id, 'retried', true, 'mode', retry_run.mode,
    'from', v_run.status, 'status', 'running', 'steps', pg_catalog.to_jsonb(v_reset),
    'queued', pg_catalog.to_jsonb(v_queued), 'chain', coalesce(v_chain, '{}'::jsonb));
  if v_compensated is not null then
    v_answer := v_answer || pg_catalog.jsonb_build_object('warning',
      'compensations ran for ' || pg_catalog.array_to_string(v_compensated, ', ') ||
      ': their effects were undone and ' ||
      case when retry_run.mode = 'failed' then 'those steps are not run again in mode failed'
           else 'only the steps downstream of the failure run again' end);
  end if;
  insert into rowflow.events (run_id, type, data, at)
  values (v_run.id, 'run_retried',
          v_answer - 'run' - 'retried' || pg_catalog.jsonb_build_object('reason', retry_run.reason), v_now);
  perform rowflow._audit('retry_run', v_run.workflow, v_run.id, null, retry_run.reason, v_answer - 'run', v_now);
  select f.status into v_status from rowflow._finish_runs(array[v_run.id], v_now) as f;
  perform rowflow._notify(pg_catalog.jsonb_build_object('run', v_run.id));
  return v_answer || pg_catalog.jsonb_build_object('status', coalesce(v_status, 'running'));
end;
$$;
comment on function rowflow.retry_run(bigint, text, text, timestamptz) is
  'Runs a failed or cancelled run''s failed/cancelled steps again (mode failed) or those and everything downstream (failed_and_downstream), keeping the other outputs. Answers what it reset and queued; {"retried": false} for a queued/running run.';
select rowflow._allow('function rowflow.retry_run(bigint, text, text, timestamptz)', '{operator}');
