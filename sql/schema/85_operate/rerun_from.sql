-- rowflow.rerun_from(run_id, step, reason, now) → the new run and what it copied
--
-- A new run of the same workflow version with the same input and
-- priority, in which `step` and every step downstream of it run again,
-- and the other steps that succeeded or were skipped in the source run
-- are copied with their outputs (their handlers do not run). A step that
-- neither is downstream of `step` nor succeeded in the source (it failed,
-- was cancelled, or never ran) runs again too. The new run is claimed at
-- once (running, rows for the copied steps, jobs for what is ready, through
-- sql/schema/85_operate/_requeue_steps.sql) and records its source in
-- runs.rerun_of and in a run_rerun event; it keeps the source's
-- started_by, so the app that started the source sees (and may cancel)
-- the rerun too. The source run is not changed.
-- Each call makes a new run.
--
-- Answers {"run": new id, "rerunOf", "step", "copied": [...], "steps":
-- [to run], "queued": [...], "status"}. RF023 unknown run; RF041 a step the
-- run's version does not have; RF040 a source run still queued (nothing
-- ran: it will run as it is). Operators only.
create or replace function rowflow.rerun_from(run_id bigint, step text, reason text default null,
  now timestamptz default null)
returns jsonb
language plpgsql
security definer
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_now timestamptz := coalesce(rerun_from.now, pg_catalog.statement_timestamp());
  v_src rowflow.runs;
  v_new bigint;
  v_down text[];
  v_copied text[];
  v_reset text[];
  v_queued text[];
  v_status text;
  v_answer jsonb;
begin
  -- GUARD: operators; a known run that has started; a step of its version.
  perform rowflow._require('{operator}');
  select r.* into v_src from rowflow.runs as r where r.id = rerun_from.run_id;
  if not found then
    raise exception 'unknown run %', rerun_from.run_id using errcode = 'RF023';
  end if;
  if not exists (select 1 from rowflow.workflow_steps as ws
                 where ws.workflow = v_src.workflow and ws.version = v_src.version and ws.name = rerun_from.step) then
    raise exception 'run % (workflow %, version %) has no step %', v_src.id, v_src.workflow, v_src.version,
      coalesce(pg_catalog.quote_literal(rerun_from.step), 'null') using errcode = 'RF041';
  end if;
  if v_src.started_at is null then
    raise exception 'run % has not started: nothing ran to rerun from', v_src.id using errcode = 'RF040',
      hint = case when v_src.status = 'queued' then 'It runs once a worker claims it.'
                  else 'retry_run queues it again.' end;
  end if;

  -- PHASE 1: what runs again (step and downstream), what is copied.
  with recursive down(name) as (
    select rerun_from.step
    union
    select dep.name
    from down as d
    join rowflow.workflow_steps as ws on ws.workflow = v_src.workflow and ws.version = v_src.version and ws.name = d.name
    cross join unnest(ws.dependents) as dep(name)
  )
  select array_agg(d.name order by d.name) into v_down from down as d;
  select coalesce(array_agg(ws.name order by ws.name) filter (where c.step is not null), '{}'),
         coalesce(array_agg(ws.name order by ws.name) filter (where c.step is null), '{}')
  into v_copied, v_reset
  from rowflow.workflow_steps as ws
  left join rowflow.step_runs as c
    on c.run_id = v_src.id and c.step = ws.name and c.kind = 'step' and c.status in ('succeeded', 'skipped')
       and ws.name <> all (v_down)
  where ws.workflow = v_src.workflow and ws.version = v_src.version;

  -- PHASE 2: the new run, claimed; the copied steps' rows.
  insert into rowflow.runs (workflow, version, status, input, priority, created_at, updated_at, started_at,
                            started_by, rerun_of, source_relid, source_key)
  values (v_src.workflow, v_src.version, 'running', v_src.input, v_src.priority, v_now, v_now, v_now,
          v_src.started_by, v_src.id, v_src.source_relid, v_src.source_key)
  returning id into v_new;
  insert into rowflow.step_runs (run_id, step, kind, status, deps_remaining, attempt, max_attempts, output,
                                 created_at, started_at, finished_at)
  select v_new, c.step, 'step', c.status, 0, 0, c.max_attempts, c.output, v_now,
         case when c.status = 'succeeded' then v_now end, v_now
  from rowflow.step_runs as c
  where c.run_id = v_src.id and c.kind = 'step' and c.step = any (v_copied)
  order by c.step;

  -- PHASE 3: queue what can run; record it; finish if nothing is left.
  v_queued := rowflow._requeue_steps(v_new, v_reset, v_now);
  v_answer := pg_catalog.jsonb_build_object('run', v_new, 'rerunOf', v_src.id, 'step', rerun_from.step,
    'copied', pg_catalog.to_jsonb(v_copied), 'steps', pg_catalog.to_jsonb(v_reset),
    'queued', pg_catalog.to_jsonb(v_queued));
  insert into rowflow.events (run_id, type, data, at)
  values (v_new, 'run_rerun', v_answer - 'run' || pg_catalog.jsonb_build_object('reason', rerun_from.reason), v_now);
  perform rowflow._audit('rerun_from', v_src.workflow, v_new, rerun_from.step, rerun_from.reason, v_answer, v_now);
  select f.status into v_status from rowflow._finish_runs(array[v_new], v_now) as f;
  perform rowflow._notify(pg_catalog.jsonb_build_object('run', v_new));
  return v_answer || pg_catalog.jsonb_build_object('status', coalesce(v_status, 'running'));
end;
$$;
comment on function rowflow.rerun_from(bigint, text, text, timestamptz) is
  'A new run of the same version and input in which step and everything downstream run again and the other succeeded steps are copied with their outputs; answers the new run id and what it copied.';
select rowflow._allow('function rowflow.rerun_from(bigint, text, text, timestamptz)', '{operator}');
