-- 000022_schedules.sql — cron schedules (issue #17, item 1).
-- A schedule (rowflow.schedules) starts one run of its workflow per tick of
-- its cron expression in its timezone. The workers parse the cron (croner)
-- and, on their heartbeat, call rowflow.fire_schedule for the ticks due by
-- the schedule's catch_up (none / latest / all); the run's idempotency key
-- schedule:<name>:<tick in UTC> makes it one run per tick however many
-- workers race, by the existing unique index on rowflow.runs, not a lock.
-- define / drop / pause / resume_schedule are operators' actions, audited:
-- the audit CHECK gains their four actions (every existing row still passes,
-- so the new constraint is validated as added).

alter table rowflow.audit drop constraint action_is_valid;
alter table rowflow.audit add constraint action_is_valid check (action in (
  'pause_workflow', 'resume_workflow', 'retry_run', 'rerun_from', 'skip_step', 'purge_runs', 'cancel_run',
  'set_retention', 'apply_retention', 'define_workflow', 'attach', 'detach', 'define_schedule',
  'drop_schedule', 'pause_schedule', 'resume_schedule'));

-- from sql/schema/20_tables/70_schedules.sql
create table rowflow.schedules (
  name       text primary key,
  cron       text not null,
  timezone   text not null default 'UTC',
  workflow   text not null references rowflow.workflows (name),
  input      jsonb not null default '{}',
  catch_up   text not null default 'latest',
  paused     boolean not null default false,
  last_tick  timestamptz,                          -- the latest tick fired; null before the first
  created_at timestamptz not null default now(),   -- ticks are counted from here until the first fires
  updated_at timestamptz not null default now(),
  owner      name not null default session_user,   -- the session that defined it first
  constraint name_is_valid check (name ~ '^[a-z][a-z0-9_-]{0,62}$'),
  constraint catch_up_is_valid check (catch_up in ('none', 'latest', 'all')),
  constraint input_is_object check (jsonb_typeof(input) = 'object')
);
comment on table rowflow.schedules is
  'Cron schedules: each tick of cron (in timezone) starts one run of workflow with input plus {"scheduledAt"}; the workers fire them (fire_schedule).';
select rowflow._allow('table rowflow.schedules', '{viewer,worker}');

-- from sql/schema/75_schedules/define_schedule.sql
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

-- from sql/schema/75_schedules/drop_schedule.sql
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

-- from sql/schema/75_schedules/fire_schedule.sql
create or replace function rowflow.fire_schedule(name text, tick timestamptz, now timestamptz default null)
returns jsonb
language plpgsql
security definer
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_s rowflow.schedules;
  v_iso text;
  v_key text;
  v_run bigint;
  v_started boolean;
begin
  -- GUARD: workers and operators; a known, unpaused schedule.
  perform rowflow._require('{worker,operator}');
  if fire_schedule.tick is null or not pg_catalog.isfinite(fire_schedule.tick) then
    raise exception 'fire_schedule: tick must be a finite time' using errcode = 'RF050';
  end if;
  select s.* into v_s from rowflow.schedules as s where s.name = fire_schedule.name;
  if not found then
    raise exception 'unknown schedule %', coalesce(pg_catalog.to_jsonb(left(fire_schedule.name, 100))::text, 'null')
      using errcode = 'RF053';
  end if;
  v_iso := pg_catalog.to_char(fire_schedule.tick at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');
  if v_s.paused then
    return pg_catalog.jsonb_build_object('schedule', v_s.name, 'tick', v_iso, 'run', null, 'started', false,
                                         'reason', 'paused');
  end if;

  -- PHASE 1: the run; the unique idempotency index decides whether it is new.
  -- "started" is true when the key had no run before this call and the run
  -- start_runs answers was written by this transaction (its xmin): a
  -- concurrent caller's insert of the same key makes ours wait for its
  -- commit and answer that run, older than this transaction.
  v_key := 'schedule:' || v_s.name || ':' || v_iso;
  v_started := not exists (select 1 from rowflow.runs as r
                           where r.workflow = v_s.workflow and r.idempotency_key = v_key);
  select s into v_run
  from rowflow.start_runs(v_s.workflow, array[v_s.input || pg_catalog.jsonb_build_object('scheduledAt', v_iso)],
                          array[v_key], 0, fire_schedule.now) as s;
  if v_started then
    select r.xmin::text = (pg_catalog.pg_current_xact_id()::text::bigint % 4294967296)::text into v_started
    from rowflow.runs as r where r.id = v_run;
  end if;

  -- PHASE 2: the latest tick fired.
  update rowflow.schedules as s
  set last_tick = greatest(s.last_tick, fire_schedule.tick)
  where s.name = v_s.name and s.last_tick is distinct from greatest(s.last_tick, fire_schedule.tick);
  return pg_catalog.jsonb_build_object('schedule', v_s.name, 'tick', v_iso, 'run', v_run, 'started', v_started);
end;
$$;
comment on function rowflow.fire_schedule(text, timestamptz, timestamptz) is
  'Starts the run of one tick of a schedule (idempotency key schedule:<name>:<tick ISO UTC>: one run per tick across all callers) and records last_tick. Answers {"schedule", "tick", "run", "started"}; RF053 unknown schedule.';
select rowflow._allow('function rowflow.fire_schedule(text, timestamptz, timestamptz)', '{worker,operator}');

-- from sql/schema/75_schedules/pause_schedule.sql
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
