-- rowflow._queue_runs(workflow, version, inputs[], keys[], priority, now, source_relid, sources[],
--                     traceparent, tracestate) → run ids
--
-- The one writer of queued runs for start_runs: checks the inputs (each a
-- JSON object of at most 1 MiB of JSON text, RF022), inserts one row per
-- input, resolves idempotency keys, and wakes a waiting worker and live
-- views (sql/schema/80_wake/_wake_all.sql). Ids in input order. Callers
-- check the workflow and the other arguments. (Attachment triggers write the
-- same rows from their transition tables instead: _attachment_body; their
-- keyed starts come here with the source rows, source_relid and sources.)
-- Every run of the call gets the same trace context, already checked by the
-- caller (_traceparent, _tracestate).
--
-- Without keys there is no speculative insertion (ON CONFLICT costs a WAL
-- record and an arbiter probe per row even for a null key); a single input
-- takes a plain INSERT … RETURNING. With keys, ON CONFLICT DO NOTHING waits
-- for a concurrent transaction holding the same key, then reads its run.
--
-- Planning: the SET clauses force generic plans with index access. A
-- function's plans are cached per session, often while the tables are still
-- small, and a cached seq scan grew with the table (seen: 1 ms per call
-- after 20k rows); re-planning custom plans cost 0.3-0.5 ms per statement,
-- more than executing them. The input checks look at the JSON text only
-- when the binary form is above 1 MiB / 6 (JSON text is at most 6x the
-- binary size).
create or replace function rowflow._queue_runs(workflow text, version int, inputs jsonb[], keys text[], priority int,
  now timestamptz, source_relid oid default null, sources text[] default null, traceparent text default null,
  tracestate text default null)
returns bigint[]
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
  v_n int := coalesce(cardinality(_queue_runs.inputs), 0);
  v_now timestamptz := coalesce(_queue_runs.now, pg_catalog.now());
  v_bad record;
  v_id bigint;
  v_ids bigint[];
  v_woke int;
begin
  -- GUARD: every input a JSON object of at most 1 MiB of JSON text. JSON
  -- text is at most 6x the binary size, so only inputs above 1 MiB / 6
  -- binary pay for the text form. A valid single input skips the scan.
  -- (coalesce: a null input makes the test null, which must mean "scan".)
  if not coalesce(v_n = 1 and pg_catalog.jsonb_typeof(_queue_runs.inputs[1]) = 'object'
                  and pg_catalog.pg_column_size(_queue_runs.inputs[1]) <= 174762, false) then
    select t.o, pg_catalog.jsonb_typeof(t.i) as type,
           t.i is null or pg_catalog.jsonb_typeof(t.i) <> 'object' as not_object,
           case when t.i is not null and pg_catalog.jsonb_typeof(t.i) = 'object'
                then pg_catalog.octet_length(t.i::text) end as size
    into v_bad
    from unnest(_queue_runs.inputs) with ordinality as t(i, o)
    where t.i is null or pg_catalog.jsonb_typeof(t.i) <> 'object'
       or (pg_catalog.pg_column_size(t.i) > 174762 and pg_catalog.octet_length(t.i::text) > 1048576)
    order by 3 desc, t.o limit 1;
    if found and v_bad.not_object then
      raise exception 'run input #% is %, not a JSON object; wrap values in an object like {"value": …}',
        v_bad.o, coalesce(v_bad.type, 'null') using errcode = 'RF022';
    elsif found then
      raise exception 'run input #% is % bytes of JSON; the limit is 1 MiB (1048576 bytes): store large data in a table and pass its key',
        v_bad.o, v_bad.size using errcode = 'RF022';
    end if;
  end if;
  if v_n = 0 then
    return '{}';
  end if;

  -- PHASE 1: the rows. Without keys no speculative insertion (it costs a
  -- WAL record and an arbiter probe per row even for a null key).
  if _queue_runs.keys is null and v_n = 1 then
    insert into rowflow.runs as r (workflow, version, status, input, priority, created_at, updated_at, source_relid,
                                   source_key, traceparent, tracestate)
    values (_queue_runs.workflow, _queue_runs.version, 'queued', _queue_runs.inputs[1], _queue_runs.priority,
            v_now, v_now, _queue_runs.source_relid, _queue_runs.sources[1], _queue_runs.traceparent,
            _queue_runs.tracestate)
    returning r.id into v_id;
    v_ids := array[v_id];
  elsif _queue_runs.keys is null then
    -- Ids drawn first, so they follow input order.
    v_ids := array(select pg_catalog.nextval('rowflow.runs_id_seq'::regclass)
                   from pg_catalog.generate_series(1, v_n));
    insert into rowflow.runs as r (id, workflow, version, status, input, priority, created_at, updated_at,
                                   source_relid, source_key, traceparent, tracestate)
    select v_ids[t.o], _queue_runs.workflow, _queue_runs.version, 'queued', t.i, _queue_runs.priority, v_now, v_now,
           _queue_runs.source_relid, _queue_runs.sources[t.o], _queue_runs.traceparent, _queue_runs.tracestate
    from unnest(_queue_runs.inputs) with ordinality as t(i, o)
    order by t.o;
  else
    -- A key that has a run (committed, or committed by the transaction we
    -- waited for) inserts nothing; that run is the input's run.
    v_ids := array(select pg_catalog.nextval('rowflow.runs_id_seq'::regclass)
                   from pg_catalog.generate_series(1, v_n));
    insert into rowflow.runs as r (id, workflow, version, status, input, idempotency_key, priority,
                                   created_at, updated_at, source_relid, source_key, traceparent, tracestate)
    select v_ids[t.o], _queue_runs.workflow, _queue_runs.version, 'queued', t.i, t.k, _queue_runs.priority,
           v_now, v_now, _queue_runs.source_relid, _queue_runs.sources[t.o], _queue_runs.traceparent,
           _queue_runs.tracestate
    from unnest(_queue_runs.inputs, _queue_runs.keys) with ordinality as t(i, k, o)
    order by t.o
    on conflict (workflow, idempotency_key) where idempotency_key is not null do nothing;
    v_ids := array(
      select coalesce(
               (select r.id from rowflow.runs as r
                where r.workflow = _queue_runs.workflow and r.idempotency_key = t.k),
               v_ids[t.o])
      from unnest(_queue_runs.keys) with ordinality as t(k, o)
      order by t.o);
  end if;

  -- PHASE 2: wake a waiting worker and live views.
  v_woke := rowflow._wake_all(0, v_n, case when v_n = 1 then pg_catalog.jsonb_build_object('run', v_ids[1])
                                  else pg_catalog.jsonb_build_object('workflow', _queue_runs.workflow,
                                                                     'started', v_n) end);
  return v_ids;
end;
$$;
comment on function rowflow._queue_runs(text, int, jsonb[], text[], int, timestamptz, oid, text[], text, text) is
  'Internal: inserts queued runs (RF022 input checks, idempotency keys) and wakes workers; ids in input order.';
select rowflow._allow('function rowflow._queue_runs(text, int, jsonb[], text[], int, timestamptz, oid, text[], text, text)', '{}');
