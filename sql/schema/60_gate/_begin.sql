-- rowflow._begin(run_ids, steps, attempts, os, worker_id, now, reserved, key, check_jobs) → {o: context or refusal}
--
-- The body of begin_steps and of complete_steps' "next step" (PHASE 5), for
-- calls whose runs the caller has locked; `os` numbers the calls, and the
-- answer maps each number to a handler context or a refusal
-- (rowflow._refusals).
--
-- reserved => false: attempts graphile-worker delivered as jobs. They must
-- have no lease; a step already running with the same attempt is then a
-- re-delivery (graphile retried a job whose worker died, or a duplicate):
-- accepted again, with a 'step_started' event marked redelivery, its
-- started_at unchanged. With check_jobs (a session that is not trusted),
-- the step's job must be locked by worker_id: graphile-worker gave it to
-- that worker, so nobody else can start it (a delayed step early, say).
-- reserved => true: steps this worker reserved
-- (queued under worker_id's lease by complete_steps); they keep the lease
-- and begin in one statement, contexts included.
--
-- The context has the same keys as rowflow._context's; deps are the
-- outputs of the step's dependencies (a compensation gets the output of the
-- step it undoes, the on-failure handler those of every succeeded step).
create or replace function rowflow._begin(run_ids bigint[], steps text[], attempts int[], os int[], worker_id text,
  now timestamptz, reserved boolean, key bytea, check_jobs boolean default false)
returns jsonb
language plpgsql
set search_path to ''
set plan_cache_mode to force_generic_plan
set enable_seqscan to off
set enable_hashjoin to off
set enable_mergejoin to off
set jit to off
as $$
#variable_conflict use_column
declare
  v_n int := coalesce(cardinality(_begin.run_ids), 0);
  v_begun rowflow.begun_step[];
  v_again rowflow.begun_step[];
  v_os int[];
  v_results jsonb;
begin
  -- A worker's reserved steps (always workflow steps: chain links are jobs)
  -- begin in one statement, contexts included.
  if _begin.reserved then
    with c as (
      select * from unnest(_begin.run_ids, _begin.steps, _begin.attempts, _begin.os) as c(run_id, step, attempt, o)
    ), u as (
      update rowflow.step_runs as sr set status = 'running', started_at = _begin.now
      from c
      where sr.run_id = c.run_id and sr.step = c.step and sr.attempt = c.attempt and sr.status = 'queued'
        and sr.locked_by = _begin.worker_id
        and exists (select 1 from rowflow.runs as r where r.id = c.run_id and r.status in ('running', 'compensating'))
      returning c.o, sr.run_id, sr.step, sr.kind, sr.attempt, sr.max_attempts
    )
    select coalesce(array_agg(u.o), '{}'), coalesce(pg_catalog.jsonb_object_agg(u.o::text, pg_catalog.jsonb_build_object(
             'ok', true, 'runId', u.run_id::text, 'step', u.step, 'task', ws.task,
             'workflow', r.workflow, 'version', r.version, 'input', r.input,
             'deps', (select coalesce(pg_catalog.jsonb_object_agg(o.step, o.output), '{}'::jsonb)
                      from rowflow.step_runs as o where o.run_id = u.run_id and o.step = any (ws.depends_on)),
             'attempt', u.attempt, 'maxAttempts', u.max_attempts,
             'timeoutMs', (extract(epoch from ws.timeout) * 1000)::bigint,
             'idempotencyKey', 'rowflow:' || u.run_id || ':' || u.step,
             'kind', u.kind, 'runError', r.error,
             'lease', rowflow._lease(_begin.key, u.run_id, u.step, u.attempt),
             'traceparent', r.traceparent, 'tracestate', r.tracestate, 'runCreatedAt', r.created_at)), '{}')
    into v_os, v_results
    from u
    join rowflow.runs as r on r.id = u.run_id
    join rowflow.workflow_steps as ws on ws.workflow = r.workflow and ws.version = r.version and ws.name = u.step;
  else

  -- PHASE 1: queued attempts become running.
  with c as (
    select * from unnest(_begin.run_ids, _begin.steps, _begin.attempts, _begin.os) as c(run_id, step, attempt, o)
  ), u as (
    update rowflow.step_runs as sr set status = 'running', started_at = _begin.now
    from c
    where sr.run_id = c.run_id and sr.step = c.step and sr.attempt = c.attempt and sr.status = 'queued'
      and sr.locked_by is null
      and exists (select 1 from rowflow.runs as r where r.id = c.run_id and r.status in ('running', 'compensating'))
      and (not _begin.check_jobs or exists (select 1 from graphile_worker._private_jobs as j
                                            where j.id = sr.job_id and j.locked_by = _begin.worker_id))
    returning c.o, sr.run_id, sr.step, sr.kind, sr.attempt, sr.max_attempts
  )
  select coalesce(array_agg(row(u.o, u.run_id, u.step, u.kind, u.attempt, u.max_attempts)::rowflow.begun_step), '{}')
  into v_begun
  from u;

  -- PHASE 2: re-deliveries of graphile jobs (rare): running with the same attempt.
  if cardinality(v_begun) < v_n then
    select coalesce(array_agg(row(c.o, sr.run_id, sr.step, sr.kind, sr.attempt, sr.max_attempts)::rowflow.begun_step), '{}')
    into v_again
    from unnest(_begin.run_ids, _begin.steps, _begin.attempts, _begin.os) as c(run_id, step, attempt, o)
    join rowflow.step_runs as sr on sr.run_id = c.run_id and sr.step = c.step and sr.attempt = c.attempt
    join rowflow.runs as r on r.id = c.run_id
    where sr.status = 'running' and sr.locked_by is null and r.status in ('running', 'compensating')
      and (not _begin.check_jobs or exists (select 1 from graphile_worker._private_jobs as j
                                            where j.id = sr.job_id and j.locked_by = _begin.worker_id))
      and not c.o = any (array(select b.o from unnest(v_begun) as b));
    if cardinality(v_again) > 0 then
      insert into rowflow.events (run_id, step, type, attempt, data, at)
      select b.run_id, b.step, 'step_started', b.attempt,
             pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object('workerId', _begin.worker_id,
                                                                        'redelivery', true)), _begin.now
      from unnest(v_again) as b order by b.run_id, b.step;
      v_begun := v_begun || v_again;
    end if;
  end if;

  -- PHASE 3: the contexts (task, timeout, dependency outputs by kind).
  select coalesce(array_agg(b.o), '{}'), coalesce(pg_catalog.jsonb_object_agg(b.o::text, pg_catalog.jsonb_build_object(
           'ok', true, 'runId', b.run_id::text, 'step', b.step, 'task', t.task,
           'workflow', r.workflow, 'version', r.version, 'input', r.input, 'deps', t.deps,
           'attempt', b.attempt, 'maxAttempts', b.max_attempts,
           'timeoutMs', (extract(epoch from t.timeout) * 1000)::bigint,
           'idempotencyKey', 'rowflow:' || b.run_id || ':' || b.step,
           'kind', b.kind, 'runError', r.error,
           'lease', rowflow._lease(_begin.key, b.run_id, b.step, b.attempt),
           'traceparent', r.traceparent, 'tracestate', r.tracestate, 'runCreatedAt', r.created_at)), '{}')
  into v_os, v_results
  from unnest(v_begun) as b
  join rowflow.runs as r on r.id = b.run_id
  cross join lateral (
    select ws.task, ws.timeout,
      (select coalesce(pg_catalog.jsonb_object_agg(o.step, o.output), '{}'::jsonb)
       from rowflow.step_runs as o where o.run_id = b.run_id and o.step = any (ws.depends_on)) as deps
    from rowflow.workflow_steps as ws
    where b.kind = 'step' and ws.workflow = r.workflow and ws.version = r.version and ws.name = b.step
    union all
    select ws.compensate, ws.timeout,
      (select coalesce(pg_catalog.jsonb_object_agg(o.step, o.output), '{}'::jsonb)
       from rowflow.step_runs as o where o.run_id = b.run_id and o.step = ws.name)
    from rowflow.workflow_steps as ws
    where b.kind = 'compensation' and ws.workflow = r.workflow and ws.version = r.version
      and ws.name = substr(b.step, length('compensate:') + 1)
    union all
    select wv.on_failure, null::interval,
      (select coalesce(pg_catalog.jsonb_object_agg(o.step, o.output), '{}'::jsonb)
       from rowflow.step_runs as o where o.run_id = b.run_id and o.kind = 'step' and o.status = 'succeeded')
    from rowflow.workflow_versions as wv
    where b.kind = 'on_failure' and wv.workflow = r.workflow and wv.version = r.version
  ) as t;
  end if;

  -- PHASE 4: refusals for the calls that did not match.
  if cardinality(v_os) < v_n then
    select v_results || coalesce(pg_catalog.jsonb_object_agg(f.o::text, f.refusal), '{}') into v_results
    from rowflow._refusals(
      array(select c.run_id from unnest(_begin.run_ids, _begin.os) as c(run_id, o) where not c.o = any (v_os) order by c.o),
      array(select c.step from unnest(_begin.steps, _begin.os) as c(step, o) where not c.o = any (v_os) order by c.o),
      array(select c.attempt from unnest(_begin.attempts, _begin.os) as c(attempt, o) where not c.o = any (v_os) order by c.o),
      array(select c.o from unnest(_begin.os) as c(o) where not c.o = any (v_os) order by c.o),
      array['queued', 'running'], case when _begin.check_jobs then _begin.worker_id end) as f;
  end if;
  return v_results;
end;
$$;
comment on function rowflow._begin(bigint[], text[], int[], int[], text, timestamptz, boolean, bytea, boolean) is
  'Internal: begins queued attempts (graphile-fetched, or reserved under worker_id''s lease); answers {o: context or refusal}.';
select rowflow._allow('function rowflow._begin(bigint[], text[], int[], int[], text, timestamptz, boolean, bytea, boolean)', '{}');
