-- rowflow.pause_schedule(name, reason, now) → {"schedule", "paused": true, "changed"}
-- rowflow.resume_schedule(name, reason, now) → {"schedule", "paused": false, "changed"}
--
-- A paused schedule fires nothing (fire_schedule answers "paused"). Its
-- last_tick stays, so on resume its catch_up decides what the ticks missed
-- while paused become, as after a worker's downtime. Operators only;
-- RF053 for an unknown schedule; twice changes nothing the second time.
create or replace function rowflow.pause_schedule(name text, reason text default null, now timestamptz default null)
returns jsonb
language plpgsql
security definer
set search_path to ''
as $$
begin
  perform rowflow._require('{operator}');
  return rowflow._set_schedule_paused(pause_schedule.name, true, pause_schedule.reason, pause_schedule.now);
end;
$$;
comment on function rowflow.pause_schedule(text, text, timestamptz) is
  'Pauses a schedule: it fires nothing until resume_schedule. Answers {"schedule", "paused", "changed"}; RF053 if unknown.';
select rowflow._allow('function rowflow.pause_schedule(text, text, timestamptz)', '{operator}');

create or replace function rowflow.resume_schedule(name text, reason text default null, now timestamptz default null)
returns jsonb
language plpgsql
security definer
set search_path to ''
as $$
begin
  perform rowflow._require('{operator}');
  return rowflow._set_schedule_paused(resume_schedule.name, false, resume_schedule.reason, resume_schedule.now);
end;
$$;
comment on function rowflow.resume_schedule(text, text, timestamptz) is
  'Resumes a paused schedule (its catch_up decides about the ticks missed). Answers {"schedule", "paused", "changed"}; RF053 if unknown.';
select rowflow._allow('function rowflow.resume_schedule(text, text, timestamptz)', '{operator}');

create or replace function rowflow._set_schedule_paused(name text, paused boolean, reason text, now timestamptz)
returns jsonb
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_now timestamptz := coalesce(_set_schedule_paused.now, pg_catalog.statement_timestamp());
  v_old rowflow.schedules;
begin
  select s.* into v_old from rowflow.schedules as s where s.name = _set_schedule_paused.name for no key update;
  if not found then
    raise exception 'unknown schedule %', coalesce(pg_catalog.to_jsonb(left(_set_schedule_paused.name, 100))::text, 'null')
      using errcode = 'RF053';
  end if;
  if v_old.paused = _set_schedule_paused.paused then
    return pg_catalog.jsonb_build_object('schedule', v_old.name, 'paused', v_old.paused, 'changed', false);
  end if;
  update rowflow.schedules as s set paused = _set_schedule_paused.paused, updated_at = v_now
  where s.name = _set_schedule_paused.name;
  perform rowflow._audit(case when _set_schedule_paused.paused then 'pause_schedule' else 'resume_schedule' end,
                         v_old.workflow, null, null, _set_schedule_paused.reason,
                         pg_catalog.jsonb_build_object('schedule', v_old.name), v_now);
  return pg_catalog.jsonb_build_object('schedule', v_old.name, 'paused', _set_schedule_paused.paused,
                                       'changed', true);
end;
$$;
comment on function rowflow._set_schedule_paused(text, boolean, text, timestamptz) is
  'Internal: the body of pause_schedule / resume_schedule.';
select rowflow._allow('function rowflow._set_schedule_paused(text, boolean, text, timestamptz)', '{}');
