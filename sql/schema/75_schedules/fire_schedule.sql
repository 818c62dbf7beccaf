-- rowflow.fire_schedule(name, tick, now)
--   → {"schedule", "tick", "run", "started"} (plus "reason" when nothing was started)
--
-- Starts the run of one tick of a schedule, through start_runs, with the
-- idempotency key 'schedule:<name>:<tick as UTC ISO 8601 with milliseconds>'
-- (what JavaScript's toISOString prints). The unique index on rowflow.runs
-- (workflow, idempotency_key) makes it one run per (schedule, tick): a
-- second call, from this worker or any other, concurrent or later, gets
-- the existing run and "started": false; no worker lock is involved. The
-- run's input is the schedule's input with "scheduledAt" (that ISO text)
-- set, replacing a key of that name. last_tick becomes the later of itself
-- and tick (one row lock, at the end, so concurrent callers wait only for
-- each other's commit on the same schedule).
--
-- The workers call it on their heartbeat for the ticks their catch_up
-- policy says are due (src/worker/schedules/); an operator may fire a tick
-- by hand. A paused schedule starts nothing ("reason": "paused"). Workers
-- and operators; RF053 for an unknown schedule.
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
