-- rowflow.schedules: one row per cron schedule (sql/schema/75_schedules/).
-- A schedule starts one run of its workflow per tick of its cron
-- expression in its timezone. The cron expression is parsed by the workers
-- (croner, src/definition/schedule.ts): Postgres only checks its shape, and
-- knows nothing of the ticks except the latest one fired (last_tick). A
-- tick's run has the idempotency key 'schedule:<name>:<tick in UTC ISO>',
-- so the unique index on (workflow, idempotency_key) of rowflow.runs makes
-- it one run per tick however many workers fire it (fire_schedule).
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
