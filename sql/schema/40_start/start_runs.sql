-- rowflow.start_runs(workflow, inputs[], idempotency_keys[], priority, now, trace_context) → setof run id
-- rowflow.start_run(workflow, input, idempotency_key, priority, now, trace_context) → run id
--
-- Starts one run per input of the workflow's latest version, in the
-- caller's transaction: each is one 'queued' row of rowflow.runs and
-- nothing else; a worker claims it (sql/schema/60_gate/claim_runs.sql),
-- which writes its step rows. So a start costs one row insert, and a run
-- exists if and only if the starting transaction commits (invariant 1,
-- docs/architecture.md). Ids come back in input order; an input whose
-- idempotency key already has a run (or repeats a key earlier in the batch)
-- gets that run's id and creates nothing. Contract and errors:
-- docs/sql-api.md (start_runs, start_run).
--
-- Why one row: an attached single-row INSERT that wrote four rows (run,
-- root step run, job, event) ran at 0.22x the bare table at 16 clients
-- (pgbench, 2 cores), one row alone at 0.66x.
--
-- A paused workflow's runs are started all the same and wait, queued, until it
-- is resumed (claim_runs skips them): an application's write must never fail
-- because of rowflow's own state.
--
-- Both are SECURITY DEFINER: a role that may start runs (rowflow_app) needs
-- no right on rowflow's tables, and reads only its own runs
-- (rowflow.visible_runs). The role check is EXECUTE alone, not
-- rowflow._require: apps start runs from SECURITY DEFINER functions of their
-- own, whose callers are not members of rowflow_app.
--
-- trace_context: the trace the runs continue (docs/observability.md,
-- "Traces"), a carrier object {"traceparent": …, "tracestate": …} as
-- OpenTelemetry's propagators write it, or a JSON string taken as the
-- traceparent. A malformed one is ignored (the runs have none), not an
-- error: it often comes straight from a request header, and W3C Trace
-- Context asks receivers to ignore what they cannot parse.
--
-- start_run is plpgsql, not SQL: Postgres 15 plans a SQL function's body
-- again on every call it cannot inline (one with SET search_path never is),
-- while plpgsql caches its statement's plan for the session: pgbench, one
-- client, 300 → 253 µs per call.
create or replace function rowflow.start_run(
  workflow text,
  input jsonb default '{}'::jsonb,
  idempotency_key text default null,
  priority int default 0,
  now timestamptz default null,
  trace_context jsonb default null)
returns bigint
language plpgsql
security definer
set search_path to ''
as $$
declare
  v_id bigint;
begin
  select s into v_id
  from rowflow.start_runs(start_run.workflow, array[start_run.input],
                          case when start_run.idempotency_key is null then null else array[start_run.idempotency_key] end,
                          start_run.priority, start_run.now, start_run.trace_context) as s;
  return v_id;
end;
$$;
comment on function rowflow.start_run(text, jsonb, text, int, timestamptz, jsonb) is
  'Starts one queued run (see start_runs). With an idempotency key that already has a run, returns that run and creates nothing.';
select rowflow._allow('function rowflow.start_run(text, jsonb, text, int, timestamptz, jsonb)', '{app,operator}');

create or replace function rowflow.start_runs(
  workflow text,
  inputs jsonb[],
  idempotency_keys text[] default null,
  priority int default 0,
  now timestamptz default null,
  trace_context jsonb default null)
returns setof bigint
language plpgsql
security definer
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_wf rowflow.workflows;
  v_n int := coalesce(cardinality(start_runs.inputs), 0);
  v_tp text;
  v_ts text;
begin
  -- GUARD: workflow, arguments.
  select w.* into v_wf from rowflow.workflows as w where w.name = start_runs.workflow;
  if not found then
    raise exception 'unknown workflow %; define it first with rowflow.define_workflow',
      coalesce(to_jsonb(left(start_runs.workflow, 100))::text, 'null') using errcode = 'RF020';
  end if;
  if start_runs.idempotency_keys is not null and cardinality(start_runs.idempotency_keys) <> v_n then
    raise exception 'start_runs: % idempotency keys for % inputs; pass one key (or null) per input',
      cardinality(start_runs.idempotency_keys), v_n using errcode = '22023';
  end if;
  if start_runs.priority is null or start_runs.priority not between -1000 and 1000 then
    raise exception 'start_runs: priority must be from -1000 to 1000, got %', start_runs.priority using errcode = '22023';
  end if;
  if v_n = 0 then
    return;
  end if;
  -- The trace context: kept when valid, else ignored (see above).
  if start_runs.trace_context is not null then
    v_tp := rowflow._traceparent(case pg_catalog.jsonb_typeof(start_runs.trace_context)
                                   when 'object' then start_runs.trace_context ->> 'traceparent'
                                   when 'string' then start_runs.trace_context #>> '{}' end);
    if v_tp is not null and pg_catalog.jsonb_typeof(start_runs.trace_context) = 'object' then
      v_ts := rowflow._tracestate(start_runs.trace_context ->> 'tracestate');
    end if;
  end if;
  -- PHASE 1: the rows.
  return query select unnest(rowflow._queue_runs(v_wf.name, v_wf.latest_version, start_runs.inputs,
                                                 start_runs.idempotency_keys, start_runs.priority, start_runs.now,
                                                 null, null, v_tp, v_ts));
end;
$$;
comment on function rowflow.start_runs(text, jsonb[], text[], int, timestamptz, jsonb) is
  'Starts one queued run per input (latest version); a worker claims them (those of a paused workflow once it is resumed). Returns run ids in input order. RF020 unknown workflow, RF022 bad input.';
select rowflow._allow('function rowflow.start_runs(text, jsonb[], text[], int, timestamptz, jsonb)', '{app,operator}');
