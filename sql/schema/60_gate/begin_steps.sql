-- rowflow.begin_steps(run_ids, steps, attempts, worker_id, now, reserved, worker_token) → setof context or refusal
-- rowflow.begin_step(run_id, step, attempt, worker_id, now) → context or refusal
--
-- Marks queued attempts running and answers, one per call in call order,
-- the handler context ({"ok": true, task, input, deps, attempt, …}) or a
-- refusal ({"ok": false, "reason"}: a stale or duplicate job changes
-- nothing, invariant 2, docs/architecture.md). Lock order as in every gate:
-- the runs rows in id order, then step rows (rowflow._begin). For jobs that
-- graphile-worker delivered (reserved => false); a worker begins the steps
-- it reserved with reserved => true. Contract: docs/sql-api.md (begin_step).
--
-- Fenced (docs/security.md): each context carries the attempt's lease token,
-- without which it cannot be completed or failed; a graphile job begins only
-- for the worker whose pool holds its lock, a reserved step only for the
-- worker holding it, with its token. Trusted sessions (the owner: psql,
-- tests) may begin any queued attempt.
create or replace function rowflow.begin_step(
  run_id bigint,
  step text,
  attempt int,
  worker_id text default null,
  now timestamptz default null)
returns jsonb
language plpgsql
security definer
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_result jsonb;
begin
  select b into v_result
  from rowflow.begin_steps(array[begin_step.run_id], array[begin_step.step], array[begin_step.attempt],
                           begin_step.worker_id, begin_step.now) as b;
  return v_result;
end;
$$;
comment on function rowflow.begin_step(bigint, text, int, text, timestamptz) is
  'Marks a queued step attempt running and returns the handler context, or {"ok": false, "reason"} for a stale/duplicate job.';
select rowflow._allow('function rowflow.begin_step(bigint, text, int, text, timestamptz)', '{worker}');

create or replace function rowflow.begin_steps(
  run_ids bigint[], steps text[], attempts int[], worker_id text default null, now timestamptz default null,
  reserved boolean default false, worker_token text default null)
returns setof jsonb
language plpgsql
security definer
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_n int := coalesce(cardinality(begin_steps.run_ids), 0);
  v_results jsonb;
  v_woke int;
  v_trusted boolean;
begin
  -- GUARD: a worker; one value per call in every array. A session that is
  -- not trusted begins graphile jobs only when its worker holds their lock,
  -- and its reserved steps only with its token.
  perform rowflow._require('{worker}');
  if coalesce(cardinality(begin_steps.steps), 0) <> v_n or coalesce(cardinality(begin_steps.attempts), 0) <> v_n then
    raise exception 'begin_steps: run_ids, steps and attempts must have the same length' using errcode = '22023';
  end if;
  if v_n = 0 then
    return;
  end if;
  v_trusted := rowflow._trusted();
  if coalesce(begin_steps.reserved, false) then
    perform rowflow._check_worker(begin_steps.worker_id, begin_steps.worker_token);
  elsif begin_steps.worker_id is null and not v_trusted then
    raise exception 'begin_steps: worker_id is required: the worker whose graphile-worker pool holds the jobs'
      using errcode = '22023';
  end if;
  -- PHASE 1: lock order: the runs (id order), then step rows.
  perform 1 from rowflow.runs as r where r.id = any (begin_steps.run_ids) order by r.id for no key update;
  -- PHASE 2: begin, answer in call order.
  v_results := rowflow._begin(begin_steps.run_ids, begin_steps.steps, begin_steps.attempts,
                              array(select i from pg_catalog.generate_series(1, v_n) as i),
                              begin_steps.worker_id, coalesce(begin_steps.now, pg_catalog.statement_timestamp()),
                              coalesce(begin_steps.reserved, false), rowflow._secret(), not v_trusted);
  v_woke := rowflow._wake_all(0, 0, case when v_n = 1 then pg_catalog.jsonb_build_object('run', begin_steps.run_ids[1])
                                   else pg_catalog.jsonb_build_object('runs', v_n) end);
  return query select v_results -> (i::text) from pg_catalog.generate_series(1, v_n) as i order by i;
end;
$$;
comment on function rowflow.begin_steps(bigint[], text[], int[], text, timestamptz, boolean, text) is
  'Marks queued step attempts running and returns their handler contexts (with lease tokens) or refusals, one per call in call order.';
select rowflow._allow('function rowflow.begin_steps(bigint[], text[], int[], text, timestamptz, boolean, text)', '{worker}');
