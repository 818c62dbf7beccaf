-- rowflow.define_schedule(name, cron, workflow, input, timezone, catch_up, now)
--   → {"schedule", "changed", "created"}
--
-- Stores a cron schedule, or changes one (an upsert: the same arguments
-- again change nothing and answer "changed": false, so a deploy can run it
-- every time, as the worker's sync of the config's `schedules` does). A
-- changed schedule keeps its last_tick: the ticks already fired are not
-- fired again. Operators only (like pause_workflow); the row records the
-- session that defined it first.
--
-- Postgres has no cron parser, so the cron expression is checked here for
-- its shape only (five to seven fields of cron characters, or an @nickname);
-- the workers parse it with croner (src/definition/schedule.ts), and the
-- TypeScript defineSchedule rejects a bad one with croner's message before
-- anything is written. Errors: RF050 name or cron, RF051 timezone (not in
-- pg_timezone_names), RF052 catch_up, RF020 workflow, RF022 input.
create or replace function rowflow.define_schedule(name text, cron text, workflow text,
  input jsonb default '{}'::jsonb, timezone text default 'UTC', catch_up text default 'latest',
  now timestamptz default null)
returns jsonb
language plpgsql
security definer
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_now timestamptz := coalesce(define_schedule.now, pg_catalog.statement_timestamp());
  v_cron text := pg_catalog.btrim(define_schedule.cron);
  v_old rowflow.schedules;
begin
  -- GUARD: operators; every argument.
  perform rowflow._require('{operator}');
  if define_schedule.name is null or define_schedule.name !~ '^[a-z][a-z0-9_-]{0,62}$' then
    raise exception 'define_schedule: invalid schedule name %: lower-case letters, digits, "_" and "-", starting with a letter, at most 63',
      coalesce(pg_catalog.to_jsonb(left(define_schedule.name, 100))::text, 'null') using errcode = 'RF050';
  end if;
  if v_cron is null or pg_catalog.length(v_cron) > 200
     or (v_cron !~ '^@[a-z]+$'
         and v_cron !~ '^[0-9A-Za-z*?/,#-]+(\s+[0-9A-Za-z*?/,#-]+){4,6}$') then
    raise exception 'define_schedule: invalid cron expression % for schedule %: five to seven fields (seconds optional) or a nickname such as @daily',
      coalesce(pg_catalog.to_jsonb(left(define_schedule.cron, 100))::text, 'null'), define_schedule.name
      using errcode = 'RF050';
  end if;
  if define_schedule.timezone is null
     or not exists (select 1 from pg_catalog.pg_timezone_names as t where t.name = define_schedule.timezone) then
    raise exception 'define_schedule: unknown timezone % for schedule %: use an IANA name such as Europe/Berlin',
      coalesce(pg_catalog.to_jsonb(left(define_schedule.timezone, 100))::text, 'null'), define_schedule.name
      using errcode = 'RF051';
  end if;
  if define_schedule.catch_up is null or define_schedule.catch_up not in ('none', 'latest', 'all') then
    raise exception 'define_schedule: catch_up must be none, latest or all, got %',
      coalesce(pg_catalog.to_jsonb(left(define_schedule.catch_up, 100))::text, 'null') using errcode = 'RF052';
  end if;
  if not exists (select 1 from rowflow.workflows as w where w.name = define_schedule.workflow) then
    raise exception 'define_schedule: unknown workflow % for schedule %; define it first with rowflow.define_workflow',
      coalesce(pg_catalog.to_jsonb(left(define_schedule.workflow, 100))::text, 'null'), define_schedule.name
      using errcode = 'RF020';
  end if;
  if define_schedule.input is null or pg_catalog.jsonb_typeof(define_schedule.input) <> 'object' then
    raise exception 'define_schedule: input must be a JSON object' using errcode = 'RF022';
  end if;

  -- PHASE 1: insert, or update what changed.
  select s.* into v_old from rowflow.schedules as s where s.name = define_schedule.name for no key update;
  if not found then
    insert into rowflow.schedules (name, cron, timezone, workflow, input, catch_up, created_at, updated_at)
    values (define_schedule.name, v_cron, define_schedule.timezone, define_schedule.workflow, define_schedule.input,
            define_schedule.catch_up, v_now, v_now);
  elsif (v_old.cron, v_old.timezone, v_old.workflow, v_old.input, v_old.catch_up)
        is not distinct from (v_cron, define_schedule.timezone, define_schedule.workflow, define_schedule.input,
                              define_schedule.catch_up) then
    return pg_catalog.jsonb_build_object('schedule', define_schedule.name, 'changed', false, 'created', false);
  else
    update rowflow.schedules as s
    set cron = v_cron, timezone = define_schedule.timezone, workflow = define_schedule.workflow,
        input = define_schedule.input, catch_up = define_schedule.catch_up, updated_at = v_now
    where s.name = define_schedule.name;
  end if;

  -- PHASE 2: audit.
  perform rowflow._audit('define_schedule', define_schedule.workflow, null, null, null,
    pg_catalog.jsonb_build_object('schedule', define_schedule.name, 'cron', v_cron,
                                  'timezone', define_schedule.timezone, 'catchUp', define_schedule.catch_up,
                                  'created', v_old.name is null), v_now);
  return pg_catalog.jsonb_build_object('schedule', define_schedule.name, 'changed', true,
                                       'created', v_old.name is null);
end;
$$;
comment on function rowflow.define_schedule(text, text, text, jsonb, text, text, timestamptz) is
  'Creates or changes a cron schedule (idempotent). Answers {"schedule", "changed", "created"}; RF050 name/cron, RF051 timezone, RF052 catch_up, RF020 workflow, RF022 input.';
select rowflow._allow('function rowflow.define_schedule(text, text, text, jsonb, text, text, timestamptz)',
                      '{operator}');
