-- 000012_start_run_plpgsql: rowflow.start_run is a plpgsql wrapper of
-- start_runs instead of a SQL one. Same signature, same answers, same errors.
--
-- Why: Postgres 15 plans the body of a SQL function again on every call that
-- it cannot inline (a function with SET search_path is never inlined), while
-- plpgsql caches the plan of its statement for the session. Measured with
-- pgbench, one client, `select rowflow.start_run('w', '{}')` per transaction:
-- 300 -> 253 us per round trip.

create or replace function rowflow.start_run(
  workflow text,
  input jsonb default '{}'::jsonb,
  idempotency_key text default null,
  priority int default 0,
  now timestamptz default null)
returns bigint
language plpgsql
set search_path to ''
as $$
declare
  v_id bigint;
begin
  select s into v_id
  from rowflow.start_runs(start_run.workflow, array[start_run.input],
                          case when start_run.idempotency_key is null then null else array[start_run.idempotency_key] end,
                          start_run.priority, start_run.now) as s;
  return v_id;
end;
$$;
comment on function rowflow.start_run(text, jsonb, text, int, timestamptz) is
  'Starts one queued run (see start_runs). With an idempotency key that already has a run, returns that run and creates nothing.';
