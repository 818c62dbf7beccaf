-- rowflow.pause_workflow(name, reason, now) → {"workflow", "paused": true, "changed"}
-- rowflow.resume_workflow(name, reason, now) → {"workflow", "paused": false, "changed"}
--
-- While a workflow is paused its new runs are still created (an app's
-- business write never fails because of it: attached writes and start_run
-- queue them as usual) and wait, queued: workers do not claim them
-- (claim_runs). Runs claimed before the pause go on: their steps are
-- already rows and jobs. Resuming wakes a waiting worker so the backlog is
-- claimed at once. Operators only; RF020 for an unknown workflow; calling
-- either twice changes nothing the second time ("changed": false).
create or replace function rowflow.pause_workflow(name text, reason text default null, now timestamptz default null)
returns jsonb
language plpgsql
security definer
set search_path to ''
as $$
#variable_conflict use_column
begin
  perform rowflow._require('{operator}');
  return rowflow._set_paused(pause_workflow.name, true, pause_workflow.reason, pause_workflow.now);
end;
$$;
comment on function rowflow.pause_workflow(text, text, timestamptz) is
  'Pauses a workflow: its new runs are created and wait, queued, until resume_workflow. Answers {"workflow", "paused", "changed"}; RF020 if unknown.';
select rowflow._allow('function rowflow.pause_workflow(text, text, timestamptz)', '{operator}');

create or replace function rowflow.resume_workflow(name text, reason text default null, now timestamptz default null)
returns jsonb
language plpgsql
security definer
set search_path to ''
as $$
#variable_conflict use_column
begin
  perform rowflow._require('{operator}');
  return rowflow._set_paused(resume_workflow.name, false, resume_workflow.reason, resume_workflow.now);
end;
$$;
comment on function rowflow.resume_workflow(text, text, timestamptz) is
  'Resumes a paused workflow: its queued runs are claimed again. Answers {"workflow", "paused", "changed"}; RF020 if unknown.';
select rowflow._allow('function rowflow.resume_workflow(text, text, timestamptz)', '{operator}');

create or replace function rowflow._set_paused(name text, paused boolean, reason text, now timestamptz)
returns jsonb
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_now timestamptz := coalesce(_set_paused.now, pg_catalog.statement_timestamp());
  v_was boolean;
  v_queued int;
begin
  select w.paused into v_was from rowflow.workflows as w where w.name = _set_paused.name for no key update;
  if not found then
    raise exception 'unknown workflow %', coalesce(_set_paused.name, 'null') using errcode = 'RF020';
  end if;
  if v_was = _set_paused.paused then
    return pg_catalog.jsonb_build_object('workflow', _set_paused.name, 'paused', v_was, 'changed', false);
  end if;
  update rowflow.workflows as w set paused = _set_paused.paused, updated_at = v_now where w.name = _set_paused.name;
  select count(*)::int into v_queued from rowflow.runs as r where r.workflow = _set_paused.name and r.status = 'queued';
  perform rowflow._audit(case when _set_paused.paused then 'pause_workflow' else 'resume_workflow' end,
                         _set_paused.name, null, null, _set_paused.reason,
                         pg_catalog.jsonb_build_object('queuedRuns', v_queued), v_now);
  if not _set_paused.paused and v_queued > 0 then
    perform rowflow._wake_all(0, v_queued, pg_catalog.jsonb_build_object('workflow', _set_paused.name, 'resumed', true));
  end if;
  return pg_catalog.jsonb_build_object('workflow', _set_paused.name, 'paused', _set_paused.paused, 'changed', true,
                                       'queuedRuns', v_queued);
end;
$$;
comment on function rowflow._set_paused(text, boolean, text, timestamptz) is
  'Internal: the body of pause_workflow / resume_workflow.';
select rowflow._allow('function rowflow._set_paused(text, boolean, text, timestamptz)', '{}');
