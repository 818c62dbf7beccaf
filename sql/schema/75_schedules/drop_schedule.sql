-- rowflow.drop_schedule(name, reason, now) → {"schedule", "dropped"}
--
-- Deletes a schedule; its runs stay. Dropping one that does not exist
-- answers "dropped": false (a deploy that removes a schedule may run it
-- again). Operators only; audited.
create or replace function rowflow.drop_schedule(name text, reason text default null, now timestamptz default null)
returns jsonb
language plpgsql
security definer
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_old rowflow.schedules;
begin
  perform rowflow._require('{operator}');
  delete from rowflow.schedules as s where s.name = drop_schedule.name returning s.* into v_old;
  if v_old.name is null then
    return pg_catalog.jsonb_build_object('schedule', drop_schedule.name, 'dropped', false);
  end if;
  perform rowflow._audit('drop_schedule', v_old.workflow, null, null, drop_schedule.reason,
    pg_catalog.jsonb_build_object('schedule', v_old.name, 'cron', v_old.cron, 'lastTick', v_old.last_tick),
    drop_schedule.now);
  return pg_catalog.jsonb_build_object('schedule', drop_schedule.name, 'dropped', true);
end;
$$;
comment on function rowflow.drop_schedule(text, text, timestamptz) is
  'Deletes a schedule (its runs stay). Answers {"schedule", "dropped"}.';
select rowflow._allow('function rowflow.drop_schedule(text, text, timestamptz)', '{operator}');
