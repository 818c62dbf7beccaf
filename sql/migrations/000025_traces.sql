-- 000025_traces.sql — OpenTelemetry traces (issue #19, item 3).
--
-- A run keeps the W3C trace context of the request that started it, so that
-- the worker's step spans continue that trace (docs/observability.md,
-- "Traces"): two nullable columns on rowflow.runs (traceparent, tracestate);
-- start_run(s) take `trace_context`; an attachment's start function reads the
-- transaction-local settings rowflow.traceparent / rowflow.tracestate; a
-- malformed value is ignored, never an error (_traceparent, _tracestate).
-- The handler contexts carry the run's trace context and creation time.
-- Unset, the columns cost an attached single-row INSERT no WAL: see the
-- figures in sql/schema/20_tables/20_runs.sql.

alter table rowflow.runs add column traceparent text, add column tracestate text;
comment on column rowflow.runs.traceparent is
  'The W3C traceparent of the trace that started the run (start_run(s) trace_context, the client''s active span, or the transaction-local setting rowflow.traceparent for an attachment''s run), normalised to version 00; null when none or malformed. The worker''s step spans are its children.';
comment on column rowflow.runs.tracestate is
  'The W3C tracestate that came with traceparent (at most 512 characters), or null.';

drop function rowflow._context(run_id bigint, step text, kind text, attempt integer, max_attempts integer, task text, workflow text, version integer, input jsonb, deps jsonb, timeout interval, run_error jsonb, lease text);
drop function rowflow._queue_runs(workflow text, version integer, inputs jsonb[], keys text[], priority integer, now timestamp with time zone, source_relid oid, sources text[]);
drop function rowflow.start_run(workflow text, input jsonb, idempotency_key text, priority integer, now timestamp with time zone);
drop function rowflow.start_runs(workflow text, inputs jsonb[], idempotency_keys text[], priority integer, now timestamp with time zone);

-- from sql/schema/25_views/visible_runs.sql
create or replace view rowflow.visible_runs with (security_barrier) as
select r.*
from rowflow.runs as r
where r.started_by = session_user or (select rowflow._may('viewer'));
comment on view rowflow.visible_runs is
  'The runs the current role may see: all for viewers, operators and the owner, else those its session started.';
select rowflow._allow('view rowflow.visible_runs', '{app,operator,viewer}');

-- from sql/schema/40_start/_queue_runs.sql
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

-- from sql/schema/40_start/_traceparent.sql
create or replace function rowflow._traceparent(value text)
returns text
language plpgsql immutable
set search_path to ''
as $$
#variable_conflict use_column
declare
  v text := _traceparent.value;
begin
  if v is null or pg_catalog.length(v) < 55 or pg_catalog.length(v) > 512
     or v !~ '^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}(-|$)'
     or pg_catalog.left(v, 2) = 'ff' or (pg_catalog.left(v, 2) = '00' and pg_catalog.length(v) <> 55)
     or pg_catalog.substr(v, 4, 32) = '00000000000000000000000000000000'
     or pg_catalog.substr(v, 37, 16) = '0000000000000000' then
    return null;
  end if;
  return '00' || pg_catalog.substr(v, 3, 53);
end;
$$;
comment on function rowflow._traceparent(text) is
  'Internal: a W3C traceparent normalised to version 00, or null when it is not valid (ignored, never an error).';
select rowflow._allow('function rowflow._traceparent(text)', '{}');

-- from sql/schema/40_start/_tracestate.sql
create or replace function rowflow._tracestate(value text)
returns text
language plpgsql immutable
set search_path to ''
as $$
#variable_conflict use_column
begin
  if _tracestate.value is null or _tracestate.value = '' or pg_catalog.length(_tracestate.value) > 512
     or _tracestate.value !~ '^[\x20-\x7e]+$' then
    return null;
  end if;
  return _tracestate.value;
end;
$$;
comment on function rowflow._tracestate(text) is
  'Internal: a W3C tracestate (at most 512 printable ASCII characters), or null when unfit (ignored, never an error).';
select rowflow._allow('function rowflow._tracestate(text)', '{}');

-- from sql/schema/40_start/start_runs.sql
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

-- from sql/schema/50_attach/_attachment_start_body.sql
create or replace function rowflow._attachment_start_body(attachment rowflow.table_attachments)
returns text
language plpgsql stable
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_a rowflow.table_attachments := _attachment_start_body.attachment;
begin
  return E'\n#variable_conflict use_column\n<<rf_st>>\ndeclare\n'
    || E'  rf_mode text := pg_catalog.current_setting(''rowflow.mode'', true);\n'
    || E'  rf_tp text := nullif(pg_catalog.current_setting(''rowflow.traceparent'', true), '''');\n'
    || E'  rf_ts text;\n'
    || E'  rf_prio int;\n  rf_ids bigint[];\n  rf_srcs text[];\n  rf_version int;\n  rf_waiting boolean;\n'
    || E'  rf_n int;\n  rf_note text;\n'
    || E'begin\n'
    || pg_catalog.format(E'  -- rowflow attachment %s: workflow %s (generated by rowflow.attach; do not edit)\n',
         v_a.id, v_a.workflow)
    || E'  rf_prio := case when rf_st.rf_mode is null or rf_st.rf_mode in ('''', ''normal'') then 0\n'
    || E'                  when rf_st.rf_mode = ''backfill'' then 1000 end;\n'
    || case when v_a.on_delete = 'ignore' then '' else
         E'  if gone is not null and rf_st.rf_prio is not null then\n'
         || pg_catalog.format(E'    rf_st.rf_n := rowflow._cancel_source_runs(%L, %s::oid, gone, null, %L, ''on_delete'');\n',
                              v_a.workflow, v_a.relid::int8, v_a.on_delete = 'compensate')
         || E'  end if;\n  if inputs is null then\n    return;\n  end if;\n' end
    || E'  if keys is null and rf_st.rf_prio is not null then\n'
    || E'    if rf_st.rf_tp is not null then\n'
    || E'      rf_st.rf_tp := rowflow._traceparent(rf_st.rf_tp);\n'
    || E'      rf_st.rf_ts := case when rf_st.rf_tp is not null then\n'
    || E'        rowflow._tracestate(pg_catalog.current_setting(''rowflow.tracestate'', true)) end;\n'
    || E'    end if;\n'
    || E'    with rf_w as (\n'
    || pg_catalog.format(E'      select w.latest_version as version from rowflow.workflows as w where w.name = %L\n',
         v_a.workflow)
    || E'    ), rf_ins as (\n'
    || E'      insert into rowflow.runs as rf_r (workflow, version, status, input, priority, created_at, updated_at,\n'
    || E'                                        source_relid, source_key, traceparent, tracestate)\n'
    || pg_catalog.format(E'      select %L, rf_w.version, ''queued'',\n', v_a.workflow)
    || E'             case when pg_catalog.jsonb_typeof(rf_q.input) = ''object''\n'
    || E'                       and pg_catalog.pg_column_size(rf_q.input) <= 174762\n'
    || E'                       and pg_catalog.pg_column_compression(rf_q.input) is null\n'
    || E'                  then rf_q.input else rowflow._run_input(rf_q.input) end,\n'
    || pg_catalog.format(E'             rf_st.rf_prio, pg_catalog.now(), pg_catalog.now(), %s::oid, rf_q.source,\n'
                         || E'             rf_st.rf_tp, rf_st.rf_ts\n', v_a.relid::int8)
    || E'      from unnest(inputs, sources) with ordinality as rf_q(input, source, o), rf_w\n'
    || E'      order by rf_q.o\n'
    || E'      returning rf_r.id, rf_r.source_key\n'
    || E'    )\n'
    || E'    select pg_catalog.array_agg(rf_ins.id), pg_catalog.array_agg(rf_ins.source_key), (select rf_w.version from rf_w),\n'
    || E'           exists (select 1 from rowflow.waiters as x\n'
    || E'                   where x.channel in (''jobs:insert'', ''rowflow'') and x.until > pg_catalog.statement_timestamp())\n'
    || E'    into rf_st.rf_ids, rf_st.rf_srcs, rf_st.rf_version, rf_st.rf_waiting from rf_ins;\n'
    || E'  end if;\n'
    || E'  if rf_st.rf_version is null then\n'
    || pg_catalog.format(E'    rf_st.rf_ids := rowflow._start_attached(%s, %L, inputs, keys, %s::oid, sources);\n',
                         v_a.id, v_a.workflow, v_a.relid::int8)
    || E'    rf_st.rf_srcs := sources;\n'
    || E'  elsif rf_st.rf_waiting or pg_catalog.cardinality(rf_st.rf_ids) > 1 then\n'
    -- One run and nobody waiting (the usual write): the pending_runs() note
    -- inline; otherwise rowflow._runs_started also wakes the waiters.
    || pg_catalog.format(E'    rf_st.rf_n := rowflow._runs_started(%L, rf_st.rf_ids, rf_st.rf_waiting);\n', v_a.workflow)
    || E'  else\n'
    || E'    rf_st.rf_note := pg_catalog.set_config(''rowflow.pending_runs'',\n'
    || E'      coalesce(nullif(pg_catalog.current_setting(''rowflow.pending_runs'', true), '''') || '','', '''')\n'
    || E'        || rf_st.rf_ids[1] || ''-'' || rf_st.rf_ids[1], true);\n'
    || E'  end if;\n'
    -- supersede, for the runs of either path (ids and sources aligned).
    || case when v_a.supersede then
         E'  if rf_st.rf_ids is not null then\n'
         || pg_catalog.format(E'    rf_st.rf_n := rowflow._cancel_source_runs(%L, %s::oid, rf_st.rf_srcs, rf_st.rf_ids, false, ''supersede'');\n',
                              v_a.workflow, v_a.relid::int8)
         || E'  end if;\n' else '' end
    || E'end;\n';
end;
$$;
comment on function rowflow._attachment_start_body(rowflow.table_attachments) is
  'Internal: the plpgsql body of an attachment''s start function (queued runs from the computed inputs, in one INSERT … SELECT).';
select rowflow._allow('function rowflow._attachment_start_body(rowflow.table_attachments)', '{}');

-- from sql/schema/50_attach/_start_attached.sql
create or replace function rowflow._start_attached(attachment_id int, workflow text, inputs jsonb[], keys text[],
  source_relid oid, sources text[])
returns bigint[]
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_mode text := pg_catalog.current_setting('rowflow.mode', true);
  v_tp text := rowflow._traceparent(nullif(pg_catalog.current_setting('rowflow.traceparent', true), ''));
  v_ts text;
  v_prio int;
  v_wf record;
  v_id bigint;
  v_ids bigint[];
  v_ranges text;
  v_now timestamptz;
  v_woke int;
  v_runs bigint[];
begin
  -- GUARD: the mode (unset/''/normal → run priority 0, backfill → 1000,
  -- suppress → nothing; anything else: _attach_mode raises RF039), then the
  -- workflow (start_runs' errors).
  if v_mode is null or v_mode = '' or v_mode = 'normal' then
    v_prio := 0;
  elsif v_mode = 'backfill' then
    v_prio := 1000;
  elsif v_mode = 'suppress' then
    return null;
  else
    perform rowflow._attach_mode();
  end if;
  if coalesce(cardinality(_start_attached.inputs), 0) = 0 then
    return null;
  end if;
  select w.name, w.latest_version, w.paused into v_wf from rowflow.workflows as w
  where w.name = _start_attached.workflow;
  if not found then
    -- start_runs raises the error (RF020) with its message.
    perform rowflow.start_runs(_start_attached.workflow, _start_attached.inputs, _start_attached.keys, v_prio);
    return null;
  end if;

  if v_tp is not null then
    v_ts := rowflow._tracestate(pg_catalog.current_setting('rowflow.tracestate', true));
  end if;

  -- PHASE 1: the runs. One row without an idempotency key (an app's plain
  -- INSERT) is inlined: one INSERT, no further plpgsql call; everything else
  -- (and a bad input, for its RF022) goes through _queue_runs.
  if cardinality(_start_attached.inputs) = 1 and _start_attached.keys[1] is null
     and pg_catalog.jsonb_typeof(_start_attached.inputs[1]) = 'object'
     and pg_catalog.pg_column_size(_start_attached.inputs[1]) <= 174762 then
    v_now := pg_catalog.now();
    insert into rowflow.runs as r (workflow, version, status, input, priority, created_at, updated_at, source_relid,
                                   source_key, traceparent, tracestate)
    values (v_wf.name, v_wf.latest_version, 'queued', _start_attached.inputs[1], v_prio, v_now, v_now,
            _start_attached.source_relid, _start_attached.sources[1], v_tp, v_ts)
    returning r.id into v_id;
    v_woke := rowflow._wake_all(0, 1, pg_catalog.jsonb_build_object('run', v_id));
    v_ranges := pg_catalog.set_config('rowflow.pending_runs',
      coalesce(nullif(pg_catalog.current_setting('rowflow.pending_runs', true), '') || ',', '')
        || v_id || '-' || v_id, true);
    return array[v_id];
  end if;
  v_ids := rowflow._queue_runs(v_wf.name, v_wf.latest_version, _start_attached.inputs, _start_attached.keys,
                               v_prio, null, _start_attached.source_relid, _start_attached.sources, v_tp, v_ts);
  v_runs := v_ids;
  -- A key repeated within the statement maps several rows to one run.
  v_ids := array(select distinct x from unnest(v_ids) as x order by x);

  -- PHASE 2: remember the ids for pending_runs() as ranges "lo-hi" of
  -- consecutive ids (transaction-local, rolled back with a savepoint).
  if cardinality(v_ids) = 1 then
    v_ranges := v_ids[1] || '-' || v_ids[1];
  else
    select pg_catalog.string_agg(g.lo || '-' || g.hi, ',' order by g.lo) into v_ranges
    from (select min(t.id) as lo, max(t.id) as hi
          from (select x.id, x.id - row_number() over (order by x.id) as grp
                from unnest(v_ids) as x(id)) as t
          group by t.grp) as g;
  end if;
  v_ranges := pg_catalog.set_config('rowflow.pending_runs',
    coalesce(nullif(pg_catalog.current_setting('rowflow.pending_runs', true), '') || ',', '') || v_ranges,
    true);
  return v_runs;
end;
$$;
comment on function rowflow._start_attached(int, text, jsonb[], text[], oid, text[]) is
  'Internal: the one call a generated attachment trigger makes per statement (mode, queued runs, pending_runs bookkeeping); returns the run ids in input order.';
select rowflow._allow('function rowflow._start_attached(int, text, jsonb[], text[], oid, text[])', '{}');

-- from sql/schema/60_gate/_begin.sql
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

-- from sql/schema/60_gate/_context.sql
create or replace function rowflow._context(run_id bigint, step text, kind text, attempt int, max_attempts int,
  task text, workflow text, version int, input jsonb, deps jsonb, timeout interval, run_error jsonb, lease text,
  traceparent text, tracestate text, run_created_at timestamptz)
returns jsonb
language plpgsql immutable
set search_path to ''
as $$
#variable_conflict use_column
begin
  -- plpgsql, not sql: a non-inlined SQL function is planned on every call.
  return pg_catalog.jsonb_build_object(
    'ok', true,
    'runId', _context.run_id::text,
    'step', _context.step,
    'task', _context.task,
    'workflow', _context.workflow,
    'version', _context.version,
    'input', _context.input,
    'deps', coalesce(_context.deps, '{}'::jsonb),
    'attempt', _context.attempt,
    'maxAttempts', _context.max_attempts,
    'timeoutMs', (extract(epoch from _context.timeout) * 1000)::bigint,
    'idempotencyKey', 'rowflow:' || _context.run_id || ':' || _context.step,
    'kind', _context.kind,
    'runError', _context.run_error,
    'lease', _context.lease,
    'traceparent', _context.traceparent,
    'tracestate', _context.tracestate,
    'runCreatedAt', _context.run_created_at);
end;
$$;
select rowflow._allow('function rowflow._context(bigint, text, text, int, int, text, text, int, jsonb, jsonb, interval, jsonb, text, text, text, timestamptz)', '{}');

-- from sql/schema/60_gate/_release.sql
create or replace function rowflow._release(done rowflow.done_step[], takes int[], worker_id text, now timestamptz,
  key bytea)
returns setof rowflow.released_step
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
  v_frontier rowflow.done_step[] := _release.done;
  v_takes int[] := coalesce(_release.takes, '{}');
  v_can_take boolean;
  v_yield int;
  v_yield_known boolean := false;
  v_dec rowflow.released_step[];
  v_rows rowflow.released_step[];
  v_all rowflow.released_step[] := '{}';
  v_queues text[];
  v_seq regclass := pg_catalog.pg_get_serial_sequence('graphile_worker._private_jobs', 'id')::regclass;
  v_woke int;
begin
  while coalesce(cardinality(v_frontier), 0) > 0 loop
    -- The lowest priority value waiting elsewhere, looked up once (jobs in a
    -- locked named queue do not count: nobody can fetch them; claim_runs.sql).
    v_can_take := _release.worker_id is not null and exists (select 1 from unnest(v_takes) as t where t > 0);
    if v_can_take and not v_yield_known then
      v_yield := least(
        (select r.priority from rowflow.runs as r
         where r.status = 'queued'
           and not exists (select 1 from rowflow.workflows as w where w.name = r.workflow and w.paused)
         order by r.priority limit 1),
        (select j.priority from graphile_worker._private_jobs as j
         where j.is_available = true and j.run_at <= _release.now
           and (j.job_queue_id is null
                or exists (select 1 from graphile_worker._private_job_queues as q
                           where q.id = j.job_queue_id and q.is_available))
         order by j.priority limit 1));
      v_yield_known := true;
    end if;

    -- PHASE 1: decide. One row per dependent of the frontier not decided
    -- yet; `context` carries what the writes need.
    select coalesce(array_agg(row(z.origin, z.run_id, z.name,
             case
               when z.decision <> 'ready' then z.decision
               when z.eligible and z.rn <= coalesce(v_takes[z.origin], 0) then 'running'
               else 'queued'
             end,
             pg_catalog.jsonb_build_object('remaining', z.remaining, 'existed', z.existed, 'attempts', z.attempts,
               'queue', z.queue, 'runAt', _release.now + coalesce(z.delay, interval '0'), 'priority', z.eff_priority,
               'if', z.if_path::text, 'arms', z.wait is not null,
               'context', case when z.eligible and z.rn <= coalesce(v_takes[z.origin], 0) then
                 rowflow._context(z.run_id, z.name, 'step', 1, z.attempts, z.task, z.workflow, z.version, z.input,
                                  z.deps, z.timeout, null, rowflow._lease(_release.key, z.run_id, z.name, 1),
                                  z.traceparent, z.tracestate, z.run_created_at) end)
           )::rowflow.released_step order by z.run_id, z.name), '{}')
    into v_dec
    from (
      select y.*,
        row_number() over (partition by y.origin, y.eligible order by y.eff_priority, y.run_id, y.name) as rn
      from (
        select x.*, q.queue,
          (v_can_take and x.decision = 'ready' and q.queue is null and x.wait is null
           and coalesce(x.delay, interval '0') <= interval '0'
           and (v_yield is null or x.eff_priority <= v_yield)) as eligible
        from (
          select d.origin, d.run_id, d.name, ws.task, ws.attempts, ws.delay, ws.timeout, ws.queue_name, ws.wait,
            ws.queue_key, ws.if_path, r.workflow, r.version, r.input, r.traceparent, r.tracestate,
            r.created_at as run_created_at,
            greatest(-32768, least(32767, ws.priority + r.priority)) as eff_priority,
            sr.step is not null as existed,
            coalesce(sr.deps_remaining, ws.n_deps) - d.n as remaining,
            dp.deps,
            case
              when coalesce(sr.deps_remaining, ws.n_deps) - d.n > 0 then 'pending'
              when ws.if_path is null then 'ready'
              when coalesce(jsonb_path_match(pg_catalog.jsonb_build_object('input', r.input, 'steps', dp.deps),
                                             ws.if_path, '{}', true), false) then 'ready'
              else 'skipped'
            end as decision
          from (
            select f.run_id, dep.name, count(*)::int as n, max(f.origin) as origin
            from unnest(v_frontier) as f(run_id, step, origin)
            join rowflow.runs as fr on fr.id = f.run_id
            join rowflow.workflow_steps as fs
              on fs.workflow = fr.workflow and fs.version = fr.version and fs.name = f.step
            cross join unnest(fs.dependents) as dep(name)
            group by f.run_id, dep.name
          ) as d
          join rowflow.runs as r on r.id = d.run_id
          join rowflow.workflow_steps as ws on ws.workflow = r.workflow and ws.version = r.version and ws.name = d.name
          left join rowflow.step_runs as sr on sr.run_id = d.run_id and sr.step = d.name
          cross join lateral (
            select case when coalesce(sr.deps_remaining, ws.n_deps) - d.n = 0 then
              (select coalesce(pg_catalog.jsonb_object_agg(o.step, o.output), '{}'::jsonb)
               from rowflow.step_runs as o where o.run_id = d.run_id and o.step = any (ws.depends_on)) end as deps
          ) as dp
          -- A row that exists and is no longer pending was decided already.
          where sr.step is null or (sr.kind = 'step' and sr.status = 'pending')
        ) as x
        cross join lateral (
          select case when x.decision = 'ready' and x.queue_name is not null then
            rowflow._queue_name(x.queue_name, x.queue_key,
                                pg_catalog.jsonb_build_object('input', x.input, 'steps', x.deps)) end as queue
        ) as q
      ) as y
    ) as z;

    exit when cardinality(v_dec) = 0;

    -- PHASE 2: named queues must exist before their jobs reference them.
    v_queues := array(select distinct (d.context ->> 'queue') from unnest(v_dec) as d
                      where d.status = 'queued' and d.context ->> 'queue' is not null);
    if cardinality(v_queues) > 0 then
      insert into graphile_worker._private_job_queues as q (queue_name)
      select unnest(v_queues) order by 1
      on conflict do nothing;
    end if;

    -- PHASE 3: jobs for the queued ones, rows (leased for the taken ones), events.
    with w as (
      -- Job ids drawn here, not matched back from the insert (see claim_runs).
      select d.*, case when d.status = 'queued' then pg_catalog.nextval(v_seq) end as job_id
      from unnest(v_dec) as d
    ), jobs as (
      insert into graphile_worker._private_jobs as j
        (id, job_queue_id, task_id, payload, run_at, max_attempts, priority)
      overriding system value
      select
        w.job_id,
        case when w.context ->> 'queue' is not null then
          (select q.id from graphile_worker._private_job_queues as q where q.queue_name = w.context ->> 'queue') end,
        (select t.id from graphile_worker._private_tasks as t
         where t.identifier = case when (w.context ->> 'arms')::boolean then 'rowflow:wait' else 'rowflow:step' end),
        pg_catalog.json_build_object('run', w.run_id, 'step', w.step, 'attempt', 1),
        (w.context ->> 'runAt')::timestamptz, 25, (w.context ->> 'priority')::int
      from w where w.status = 'queued'
      order by w.job_id
    ), upd as (
      update rowflow.step_runs as sr
      set deps_remaining = (w.context ->> 'remaining')::int, status = w.status,
          attempt = case when w.status in ('queued', 'running') then 1 else 0 end,
          queued_at = case when w.status in ('queued', 'running') then _release.now end,
          started_at = case when w.status = 'running' then _release.now end,
          finished_at = case when w.status = 'skipped' then _release.now end,
          job_id = w.job_id,
          locked_by = case when w.status = 'running' then _release.worker_id end
      from w
      where (w.context ->> 'existed')::boolean and sr.run_id = w.run_id and sr.step = w.step
    ), ins as (
      insert into rowflow.step_runs (run_id, step, kind, status, deps_remaining, attempt, max_attempts,
                                     created_at, queued_at, started_at, finished_at, job_id, locked_by)
      select w.run_id, w.step, 'step', w.status, (w.context ->> 'remaining')::int,
             case when w.status in ('queued', 'running') then 1 else 0 end, (w.context ->> 'attempts')::int,
             _release.now, case when w.status in ('queued', 'running') then _release.now end,
             case when w.status = 'running' then _release.now end,
             case when w.status = 'skipped' then _release.now end, w.job_id,
             case when w.status = 'running' then _release.worker_id end
      from w where not (w.context ->> 'existed')::boolean
      order by w.run_id, w.step
    ), ev as (
      insert into rowflow.events (run_id, step, type, data, at)
      select w.run_id, w.step, 'step_skipped', pg_catalog.jsonb_build_object('if', w.context ->> 'if'), _release.now
      from w where w.status = 'skipped'
      order by w.run_id, w.step
    )
    select coalesce(array_agg(row(w.origin, w.run_id, w.step, w.status,
             case when w.status = 'running' then
               (w.context -> 'context') || pg_catalog.jsonb_build_object('priority', (w.context ->> 'priority')::int) end
           )::rowflow.released_step order by w.run_id, w.step), '{}')
    into v_rows
    from w;

    v_all := v_all || v_rows;
    -- Takes used by this round; skipped steps are the next frontier.
    v_takes := array(
      select greatest(0, coalesce(v_takes[i], 0) - (select count(*) from unnest(v_rows) as x
                                                    where x.origin = i and x.status = 'running'))::int
      from pg_catalog.generate_series(1, coalesce(cardinality(v_takes), 0)) as i
      order by i);
    v_frontier := array(select row(x.run_id, x.step, x.origin)::rowflow.done_step
                        from unnest(v_rows) as x where x.status = 'skipped' order by x.run_id, x.step);
  end loop;

  if exists (select 1 from unnest(v_all) as x where x.status = 'queued') then
    v_woke := rowflow._wake_all((select count(*)::int from unnest(v_all) as x where x.status = 'queued'), 0, null);
  end if;
  return query select * from unnest(v_all);
end;
$$;
comment on function rowflow._release(rowflow.done_step[], int[], text, timestamptz, bytea) is
  'Internal: releases dependents of succeeded/skipped steps of many runs (conditions, queues, delays); hands up to takes[origin] of them to worker_id.';
select rowflow._allow('function rowflow._release(rowflow.done_step[], int[], text, timestamptz, bytea)', '{}');

-- from sql/schema/60_gate/claim_runs.sql
create or replace function rowflow._claim(worker_id text, take int, max_runs int, now timestamptz, key bytea)
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
  v_now timestamptz := coalesce(_claim.now, pg_catalog.statement_timestamp());
  v_take int := coalesce(_claim.take, 0);
  v_limit int := coalesce(_claim.max_runs, greatest(coalesce(_claim.take, 0), 1));
  v_out record;
  v_seq regclass := pg_catalog.pg_get_serial_sequence('graphile_worker._private_jobs', 'id')::regclass;
  v_woke int;
  v_yield int;
begin
  -- GUARD: arguments.
  if v_take < 0 or v_limit < 0 then
    raise exception 'claim_runs: take and max_runs must not be negative (take %, max_runs %)', v_take, v_limit
      using errcode = '22023';
  end if;
  if v_take > 0 and _claim.worker_id is null then
    raise exception 'claim_runs: take > 0 needs the worker_id that will run the steps' using errcode = '22023';
  end if;
  if v_limit = 0 then
    return '{"runs": 0, "taken": []}';
  end if;
  -- A worker that takes steps does not start a run while an available job
  -- with a lower priority value is due (backfill runs yield to live work).
  if v_take > 0 then
    v_yield := (select j.priority from graphile_worker._private_jobs as j
                where j.is_available = true and j.run_at <= v_now
                  and (j.job_queue_id is null
                       or exists (select 1 from graphile_worker._private_job_queues as q
                                  where q.id = j.job_queue_id and q.is_available))
                order by j.priority limit 1);
  end if;

  -- PHASE 1: one statement: the runs; the plan of every step of theirs (a
  -- root step is skipped by its condition, taken — the first `take`
  -- eligible ones in claim order — or queued; the others get pending rows
  -- now, so that releasing them later only updates a row); jobs for the
  -- queued roots; the rows; skip events.
  with c as (
    select r.id,
           exists (select 1 from rowflow.workflow_versions as wv
                   where wv.workflow = r.workflow and wv.version = r.version) as known
    from rowflow.runs as r
    where r.status = 'queued' and (v_yield is null or r.priority <= v_yield)
      and not exists (select 1 from rowflow.workflows as w where w.name = r.workflow and w.paused)
    order by r.priority, r.id
    limit v_limit
    for no key update skip locked
  ), u as (
    -- A run of a workflow version that does not exist (inserted by hand, a
    -- broken restore) fails here, RF025, instead of running forever.
    update rowflow.runs as r
    set status = case when c.known then 'running' else 'failed' end, started_at = v_now, updated_at = v_now,
        finished_at = case when c.known then null else v_now end,
        error = case when c.known then null else pg_catalog.jsonb_build_object('code', 'RF025',
                  'message', pg_catalog.format('workflow %s has no version %s', r.workflow, r.version)) end
    from c where r.id = c.id
    returning r.id, r.workflow, r.version, r.input, r.priority, r.status, r.error, r.traceparent, r.tracestate,
              r.created_at
  ), bad as (
    insert into rowflow.events (run_id, type, data, at)
    select u.id, 'run_failed', pg_catalog.jsonb_build_object('error', u.error), v_now
    from u where u.status = 'failed'
  ), s as (
    select u.id as run_id, u.workflow, u.version, u.input, ws.name as step, ws.task, ws.attempts, ws.delay,
      ws.timeout, ws.if_path, ws.n_deps, ws.n_deps = 0 as root,
      greatest(-32768, least(32767, ws.priority + u.priority)) as priority, q.queue, g.go,
      (ws.n_deps = 0 and g.go and q.queue is null and coalesce(ws.delay, interval '0') <= interval '0'
       and ws.wait is null) as eligible, ws.wait is not null as arms,
      u.priority as run_priority, u.traceparent, u.tracestate, u.created_at as run_created_at
    from u
    join rowflow.workflow_steps as ws on ws.workflow = u.workflow and ws.version = u.version and u.status = 'running'
    cross join lateral (
      select ws.n_deps = 0 and (ws.if_path is null
        or coalesce(jsonb_path_match(pg_catalog.jsonb_build_object('input', u.input, 'steps', '{}'::jsonb),
                                     ws.if_path, '{}', true), false)) as go
    ) as g
    cross join lateral (
      select case when g.go and ws.queue_name is not null then
        rowflow._queue_name(ws.queue_name, ws.queue_key,
                            pg_catalog.jsonb_build_object('input', u.input, 'steps', '{}'::jsonb)) end as queue
    ) as q
  ), d as (
    select s.*,
      case when not s.root then 'pending'
           when not s.go then 'skipped'
           when s.eligible
                and row_number() over (partition by s.eligible
                                       order by s.run_priority, s.run_id, s.priority, s.step) <= v_take
             then 'running'
           else 'queued' end as status
    from s
  ), p as (
    -- Job ids drawn here (graphile's own sequence), not matched back from
    -- the insert's RETURNING: a join of thousands of rows against it would
    -- be a nested loop with hash joins off.
    select d.*, case when d.status = 'queued' then pg_catalog.nextval(v_seq) end as job_id
    from d
  ), jobs as (
    insert into graphile_worker._private_jobs as j (id, job_queue_id, task_id, payload, run_at, max_attempts, priority)
    overriding system value
    select
      p.job_id,
      null,
      (select t.id from graphile_worker._private_tasks as t
       where t.identifier = case when p.arms then 'rowflow:wait' else 'rowflow:step' end),
      pg_catalog.json_build_object('run', p.run_id, 'step', p.step, 'attempt', 1),
      v_now + coalesce(p.delay, interval '0'), 25, p.priority
    from p where p.status = 'queued'
    order by p.job_id
  ), ins as (
    insert into rowflow.step_runs (run_id, step, kind, status, deps_remaining, attempt, max_attempts,
                                   created_at, queued_at, started_at, finished_at, job_id, locked_by)
    select p.run_id, p.step, 'step', p.status, case when p.status = 'pending' then p.n_deps else 0 end,
           case when p.status in ('queued', 'running') then 1 else 0 end,
           p.attempts, v_now, case when p.status in ('queued', 'running') then v_now end,
           case when p.status = 'running' then v_now end, case when p.status = 'skipped' then v_now end, p.job_id,
           case when p.status = 'running' then _claim.worker_id end
    from p
    order by p.run_id, p.step
  ), ev as (
    insert into rowflow.events (run_id, step, type, data, at)
    select p.run_id, p.step, 'step_skipped', pg_catalog.jsonb_build_object('if', p.if_path::text), v_now
    from p where p.status = 'skipped'
    order by p.run_id, p.step
  )
  select (select count(*)::int from u where u.status = 'running') as runs,
         coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
           'ok', true, 'runId', p.run_id::text, 'step', p.step, 'task', p.task,
           'workflow', p.workflow, 'version', p.version, 'input', p.input, 'deps', '{}'::jsonb,
           'attempt', 1, 'maxAttempts', p.attempts,
           'timeoutMs', (extract(epoch from p.timeout) * 1000)::bigint,
           'idempotencyKey', 'rowflow:' || p.run_id || ':' || p.step,
           'kind', 'step', 'runError', null, 'priority', p.priority,
           'lease', rowflow._lease(_claim.key, p.run_id, p.step, 1),
           'traceparent', p.traceparent, 'tracestate', p.tracestate, 'runCreatedAt', p.run_created_at)
           order by p.run_priority, p.run_id, p.priority, p.step)
           filter (where p.status = 'running'), '[]'::jsonb) as taken,
         count(*) filter (where p.status = 'queued')::int as queued,
         coalesce(array_agg(row(p.run_id, p.step, 1)::rowflow.done_step order by p.run_id, p.step)
                  filter (where p.status = 'skipped'), '{}') as skipped,
         pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('id', p.job_id, 'queue', p.queue))
           filter (where p.status = 'queued' and p.queue is not null) as queue_jobs
  into v_out
  from p;

  -- PHASE 2 (rare): jobs of named queues: the queue rows (created when
  -- missing) and their ids, before anything commits.
  if v_out.queue_jobs is not null then
    insert into graphile_worker._private_job_queues as jq (queue_name)
    select distinct x ->> 'queue' from pg_catalog.jsonb_array_elements(v_out.queue_jobs) as x
    on conflict do nothing;
    update graphile_worker._private_jobs as j
    set job_queue_id = jq.id
    from pg_catalog.jsonb_array_elements(v_out.queue_jobs) as x
    join graphile_worker._private_job_queues as jq on jq.queue_name = x ->> 'queue'
    where j.id = (x ->> 'id')::bigint;
  end if;

  -- PHASE 3: runs with skipped root steps: release what the skips satisfy
  -- (rare), then finish the runs that have nothing left.
  if cardinality(v_out.skipped) > 0 then
    perform rowflow._release(v_out.skipped, null, null, v_now, null);
    perform rowflow._finish_runs(array(select distinct d.run_id from unnest(v_out.skipped) as d), v_now);
  end if;
  -- Jobs for a waiting worker; a hint for live views (rowflow tail shows
  -- run_started and the first steps at once instead of at its next poll).
  if v_out.queued > 0 or v_out.runs > 0 then
    v_woke := rowflow._wake_all(v_out.queued, 0,
      case when v_out.runs > 0 then pg_catalog.jsonb_build_object('claimed', v_out.runs) end);
  end if;
  return pg_catalog.jsonb_build_object('runs', v_out.runs, 'taken', v_out.taken);
end;
$$;
select rowflow._allow('function rowflow._claim(text, int, int, timestamptz, bytea)', '{}');

-- from sql/schema/60_gate/complete_steps.sql
create or replace function rowflow.complete_steps(
  run_ids bigint[], steps text[], attempts int[], outputs jsonb[],
  takes int[] default null, worker_id text default null, now timestamptz default null,
  claim boolean default false, reserve int default 0,
  next_run_ids bigint[] default null, next_steps text[] default null, next_attempts int[] default null,
  leases text[] default null, worker_token text default null)
returns setof jsonb
language plpgsql
security definer
set search_path to ''
set plan_cache_mode to force_generic_plan
set enable_seqscan to off
set enable_hashjoin to off
set enable_mergejoin to off
set jit to off
as $$
#variable_conflict use_column
declare
  v_now timestamptz := coalesce(complete_steps.now, pg_catalog.statement_timestamp());
  v_n int := coalesce(cardinality(complete_steps.run_ids), 0);
  v_worker text := complete_steps.worker_id;
  v_takes int[];
  v_reserve int := case when complete_steps.worker_id is null then 0 else greatest(coalesce(complete_steps.reserve, 0), 0) end;
  v_next_os int[];
  v_done record;
  v_plan record;
  v_yield int;
  v_job_ids bigint[] := '{}';
  v_job_runs bigint[] := '{}';
  v_job_steps text[] := '{}';
  v_taken text[] := '{}';
  v_reserved text[] := '{}';
  v_left int[];
  v_rel rowflow.released_step[] := '{}';
  v_open bigint[];
  v_run rowflow.runs;
  v_next text;
  v_chained jsonb := '{}';
  v_status jsonb := '{}';
  v_begun jsonb := '{}';
  v_claimed jsonb;
  v_claimed_taken jsonb;
  v_claim_i int;
  v_refusals jsonb;
  v_queued int := 0;
  v_by_call jsonb;
  v_answer jsonb;
  v_i int;
  v_woke int;
  v_key bytea;
  v_trusted boolean;
  v_limit int := coalesce(nullif(pg_catalog.current_setting('rowflow.max_output_bytes', true), '')::int, 1048576);
begin
  -- GUARD: a worker; one value per call in every array; the worker's token
  -- when it takes or reserves steps.
  perform rowflow._require('{worker}');
  if coalesce(cardinality(complete_steps.steps), 0) <> v_n
     or coalesce(cardinality(complete_steps.attempts), 0) <> v_n
     or coalesce(cardinality(complete_steps.outputs), v_n) <> v_n
     or coalesce(cardinality(complete_steps.takes), v_n) <> v_n
     or coalesce(cardinality(complete_steps.next_run_ids), v_n) <> v_n
     or coalesce(cardinality(complete_steps.next_steps), v_n) <> v_n
     or coalesce(cardinality(complete_steps.next_attempts), v_n) <> v_n
     or coalesce(cardinality(complete_steps.leases), v_n) <> v_n then
    raise exception 'complete_steps: every array argument must have one value per call' using errcode = '22023';
  end if;
  if v_n = 0 then
    return;
  end if;
  if v_worker is not null then
    perform rowflow._check_worker(v_worker, complete_steps.worker_token);
  end if;
  v_key := rowflow._secret();
  v_trusted := complete_steps.leases is null and rowflow._trusted();
  -- Simple expressions where they do (no statement to start): a take that
  -- is null or negative counts as 0 wherever takes are compared (> 0).
  v_takes := case when v_worker is null or complete_steps.takes is null then array_fill(0, array[v_n])
                  else complete_steps.takes end;
  v_next_os := '{}';
  if v_worker is not null and complete_steps.next_run_ids is not null then
    v_next_os := array(select i from pg_catalog.generate_series(1, v_n) as i
                       where complete_steps.next_run_ids[i] is not null);
  end if;

  -- PHASE 1: lock order: the runs (id order: completions' and next steps'),
  -- then step rows. The running attempts succeed and lose their leases.
  with l as (
    select r.id, r.status from rowflow.runs as r
    where r.id = any (complete_steps.run_ids || coalesce(complete_steps.next_run_ids, '{}'))
    order by r.id
    for no key update
  ), c as (
    -- Fenced: the call shows the attempt's lease token (a trusted session
    -- may omit every token). An output over the limit (rowflow.max_output_bytes,
    -- default 1 MiB of JSON text) is refused, so that the worker fails the step.
    select x.*,
      case when x.lease is null then v_trusted
           else x.lease = rowflow._lease(v_key, x.run_id, x.step, x.attempt) end as fenced,
      x.output is not null and pg_catalog.pg_column_size(x.output) > v_limit / 6
        and pg_catalog.octet_length(x.output::text) > v_limit as too_big
    from unnest(complete_steps.run_ids, complete_steps.steps, complete_steps.attempts, complete_steps.outputs,
                coalesce(complete_steps.leases, array_fill(null::text, array[v_n])))
         with ordinality as x(run_id, step, attempt, output, lease, o)
  ), u as (
    update rowflow.step_runs as sr
    set status = 'succeeded', output = c.output, finished_at = v_now, locked_by = null
    from c join l on l.id = c.run_id and l.status in ('running', 'compensating')
    where sr.run_id = c.run_id and sr.step = c.step and sr.attempt = c.attempt and sr.status = 'running'
      and c.fenced and not c.too_big
    returning c.o, sr.run_id, sr.step, sr.kind
  )
  select coalesce(array_agg(u.o::int order by u.o), '{}') as os,
         coalesce(array_agg(row(u.run_id, u.step, u.o)::rowflow.done_step order by u.run_id, u.step)
                  filter (where u.kind = 'step'), '{}') as steps,
         coalesce(array_agg(distinct u.run_id) filter (where u.kind <> 'step'), '{}') as chain_runs,
         coalesce(array_agg(distinct u.run_id), '{}') as runs,
         (select pg_catalog.jsonb_object_agg(l.id::text, l.status) from l) as run_status,
         (select pg_catalog.jsonb_object_agg(c.o::text, case when not c.fenced
             then '{"ok": false, "reason": "not_lease_holder"}'::jsonb
             else pg_catalog.jsonb_build_object('ok', false, 'reason', 'output_too_large',
                    'bytes', pg_catalog.octet_length(c.output::text), 'limit', v_limit) end)
          from c where not c.fenced or c.too_big) as unfenced,
         -- Who waits for a NOTIFY (sql/schema/20_tables/31_waiters.sql):
         -- usually nobody, and then no _wake_all call at the end.
         (select pg_catalog.array_agg(w.channel) from rowflow.waiters as w
          where w.channel in ('jobs:insert', 'rowflow') and w.until > pg_catalog.statement_timestamp()) as waiting
  into v_done
  from u;

  -- PHASE 2: release dependents. The plan: each dependent of a completed
  -- step, its counter after this batch, and whether the fast path applies.
  v_left := v_takes;
  if cardinality(v_done.steps) > 0 then
    select coalesce(bool_and(x.plain), true) as plain,
           coalesce(array_agg(x.run_id::text || ':' || x.name order by x.eff_priority, x.origin, x.run_id, x.name)
                    filter (where x.remaining = 0), '{}') as ready,
           coalesce(array_agg(x.origin order by x.eff_priority, x.origin, x.run_id, x.name)
                    filter (where x.remaining = 0), '{}') as ready_origin,
           coalesce(array_agg(x.eff_priority order by x.eff_priority, x.origin, x.run_id, x.name)
                    filter (where x.remaining = 0), '{}') as ready_priority,
           coalesce(array_agg(row(x.origin, x.run_id, x.name, x.n)::rowflow.dependent
                              order by x.run_id, x.name), '{}') as deps,
           max(x.eff_priority) filter (where x.remaining = 0) as worst
    into v_plan
    from (
      select d.origin, d.run_id, d.name, d.n,
        sr.step is not null and sr.kind = 'step' and ws.if_path is null and ws.queue_name is null
          and coalesce(ws.delay, interval '0') <= interval '0' and ws.wait is null as plain,
        coalesce(sr.deps_remaining, ws.n_deps) - d.n as remaining,
        greatest(-32768, least(32767, ws.priority + r.priority)) as eff_priority
      from (
        select f.run_id, dep.name, count(*)::int as n, max(f.origin) as origin
        from unnest(v_done.steps) as f(run_id, step, origin)
        join rowflow.runs as fr on fr.id = f.run_id
        join rowflow.workflow_steps as fs on fs.workflow = fr.workflow and fs.version = fr.version and fs.name = f.step
        cross join unnest(fs.dependents) as dep(name)
        group by f.run_id, dep.name
      ) as d
      join rowflow.runs as r on r.id = d.run_id
      join rowflow.workflow_steps as ws on ws.workflow = r.workflow and ws.version = r.version and ws.name = d.name
      left join rowflow.step_runs as sr on sr.run_id = d.run_id and sr.step = d.name
      where sr.step is null or (sr.kind = 'step' and sr.status = 'pending')
    ) as x;

    if v_plan.plain then
      -- Who runs the ready ones: call i's slots (takes[i]), this worker's
      -- local queue (reserve), or graphile (a job). Not this worker while
      -- something with a lower priority value waits (that some worker can
      -- fetch: not in a locked named queue, see claim_runs.sql).
      if cardinality(v_plan.ready) > 0 and v_worker is not null
         and (v_reserve > 0 or 0 < any (v_takes)) then
        -- Only what beats the worst ready priority matters: bounded index
        -- scans, which stop at the first page past the bound (claimed runs
        -- leave dead entries at the start of runs_queued_idx until vacuum).
        v_yield := least(
          (select r.priority from rowflow.runs as r
           where r.status = 'queued' and r.priority < v_plan.worst
             and not exists (select 1 from rowflow.workflows as w where w.name = r.workflow and w.paused)
           order by r.priority limit 1),
          (select j.priority from graphile_worker._private_jobs as j
           where j.is_available = true and j.run_at <= v_now and j.priority < v_plan.worst
             and (j.job_queue_id is null
                  or exists (select 1 from graphile_worker._private_job_queues as q
                             where q.id = j.job_queue_id and q.is_available))
           order by j.priority limit 1));
        for v_i in 1 .. cardinality(v_plan.ready) loop
          exit when v_yield is not null and v_plan.ready_priority[v_i] > v_yield;
          if v_left[v_plan.ready_origin[v_i]] > 0 then
            v_taken := v_taken || v_plan.ready[v_i];
            v_left[v_plan.ready_origin[v_i]] := v_left[v_plan.ready_origin[v_i]] - 1;
          elsif v_reserve > 0 then
            v_reserved := v_reserved || v_plan.ready[v_i];
            v_reserve := v_reserve - 1;
          end if;
        end loop;
      end if;
      -- Jobs for the ready ones graphile runs (none when this worker takes
      -- or reserves them all: no INSERT to start).
      if cardinality(v_plan.ready) > cardinality(v_taken) + cardinality(v_reserved) then
        with j as (
        insert into graphile_worker._private_jobs as j (job_queue_id, task_id, payload, run_at, max_attempts, priority)
        select null,
               (select t.id from graphile_worker._private_tasks as t where t.identifier = 'rowflow:step'),
               pg_catalog.json_build_object('run', k.run_id, 'step', k.name, 'attempt', 1),
               v_now, 25, greatest(-32768, least(32767, ws.priority + r.priority))
        from (
          select split_part(x.k, ':', 1)::bigint as run_id, substr(x.k, strpos(x.k, ':') + 1) as name
          from unnest(v_plan.ready) as x(k)
          where not x.k = any (v_taken) and not x.k = any (v_reserved)
        ) as k
        join rowflow.runs as r on r.id = k.run_id
        join rowflow.workflow_steps as ws on ws.workflow = r.workflow and ws.version = r.version and ws.name = k.name
        order by k.run_id, k.name
        returning j.id, (j.payload ->> 'run')::bigint as run_id, j.payload ->> 'step' as step
        )
        select pg_catalog.array_agg(j.id), pg_catalog.array_agg(j.run_id), pg_catalog.array_agg(j.step)
        into v_job_ids, v_job_runs, v_job_steps
        from j;
      end if;
      -- One statement: every dependent's row updated (leased when taken or
      -- reserved, with its job otherwise), and what the answers need.
      with d as (
        select * from unnest(v_plan.deps) as d(origin, run_id, name, n)
      ), j as (
        select * from unnest(v_job_ids, v_job_runs, v_job_steps) as j(id, run_id, step)
      ), u as (
        update rowflow.step_runs as sr
        set deps_remaining = sr.deps_remaining - d.n,
            status = case when sr.deps_remaining > d.n then 'pending'
                          when (sr.run_id::text || ':' || sr.step) = any (v_taken) then 'running'
                          else 'queued' end,
            attempt = case when sr.deps_remaining > d.n then 0 else 1 end,
            queued_at = case when sr.deps_remaining = d.n then v_now end,
            started_at = case when (sr.run_id::text || ':' || sr.step) = any (v_taken) then v_now end,
            job_id = j.id,
            locked_by = case when sr.deps_remaining = d.n
                              and ((sr.run_id::text || ':' || sr.step) = any (v_taken)
                                   or (sr.run_id::text || ':' || sr.step) = any (v_reserved)) then v_worker end
        from d left join j on j.run_id = d.run_id and j.step = d.name
        where sr.run_id = d.run_id and sr.step = d.name and sr.status = 'pending'
        returning d.origin, sr.run_id, sr.step, sr.status, sr.locked_by, sr.max_attempts
      )
      select coalesce(array_agg(row(u.origin, u.run_id, u.step,
               case when u.status = 'queued' and u.locked_by is not null then 'reserved' else u.status end,
               case when u.status = 'running' then pg_catalog.jsonb_build_object(
                 'ok', true, 'runId', u.run_id::text, 'step', u.step, 'task', ws.task,
                 'workflow', r.workflow, 'version', r.version, 'input', r.input,
                 'deps', (select coalesce(pg_catalog.jsonb_object_agg(o.step, o.output), '{}'::jsonb)
                          from rowflow.step_runs as o where o.run_id = u.run_id and o.step = any (ws.depends_on)),
                 'attempt', 1, 'maxAttempts', u.max_attempts,
                 'timeoutMs', (extract(epoch from ws.timeout) * 1000)::bigint,
                 'idempotencyKey', 'rowflow:' || u.run_id || ':' || u.step,
                 'kind', 'step', 'runError', null,
                 'priority', greatest(-32768, least(32767, ws.priority + r.priority)),
                 'lease', rowflow._lease(v_key, u.run_id, u.step, 1),
                 'traceparent', r.traceparent, 'tracestate', r.tracestate, 'runCreatedAt', r.created_at)
                    when u.status = 'queued' and u.locked_by is not null then pg_catalog.jsonb_build_object(
                 'runId', u.run_id::text, 'step', u.step, 'attempt', 1,
                 'priority', greatest(-32768, least(32767, ws.priority + r.priority))) end
             )::rowflow.released_step order by u.run_id, u.step), '{}'),
             count(*) filter (where u.status = 'queued' and u.locked_by is null)::int
      into v_rel, v_queued
      from u
      join rowflow.runs as r on r.id = u.run_id
      join rowflow.workflow_steps as ws on ws.workflow = r.workflow and ws.version = r.version and ws.name = u.step;
    else
      -- The general path: conditions, queues, delays, rows to create.
      v_rel := array(select rowflow._release(v_done.steps, v_takes, v_worker, v_now, v_key));
      v_left := array(select greatest(0, t.n - (select count(*) from unnest(v_rel) as x
                                                where x.origin = t.o and x.status = 'running'))::int
                      from unnest(v_takes) with ordinality as t(n, o) order by t.o);
    end if;
  end if;
  -- Runs that go on: a dependent of theirs is pending, queued or running now.
  v_open := array(select distinct x.run_id from unnest(v_rel) as x where x.status <> 'skipped');

  -- PHASE 3: the next link of compensation / on-failure chains (rare).
  if cardinality(v_done.chain_runs) > 0 then
    for v_run in select r.* from rowflow.runs as r where r.id = any (v_done.chain_runs) order by r.id loop
      v_next := rowflow._advance_chain_step(v_run, v_now);
      if v_next is not null then
        v_chained := v_chained || pg_catalog.jsonb_build_object(v_run.id::text, v_next);
        v_open := v_open || v_run.id;
      end if;
    end loop;
  end if;

  -- PHASE 4: finish the runs left with nothing open: a running one
  -- succeeds when no step row of it is pending, queued or running (every
  -- step has a row then: a finished step gave each dependent one); a
  -- compensating one takes _finish_runs (the chain's results).
  if exists (select 1 from unnest(v_done.runs) as x where not x = any (v_open)) then
    with f as (
      update rowflow.runs as r
      set status = 'succeeded', updated_at = v_now, finished_at = v_now
      where r.id = any (array(select x from unnest(v_done.runs) as x where not x = any (v_open)))
        and r.status = 'running'
        and not exists (select 1 from rowflow.step_runs as sr
                        where sr.run_id = r.id and sr.status in ('pending', 'queued', 'running'))
      returning r.id
    )
    select coalesce(pg_catalog.jsonb_object_agg(f.id::text, 'succeeded'), '{}') into v_status from f;
    if exists (select 1 from unnest(v_done.runs) as x where not x = any (v_open)
               and v_done.run_status ->> x::text = 'compensating') then
      select v_status || coalesce(pg_catalog.jsonb_object_agg(f.run_id::text, f.status), '{}') into v_status
      from rowflow._finish_runs(array(select x from unnest(v_done.runs) as x
                                      where not x = any (v_open)
                                        and v_done.run_status ->> x::text = 'compensating'), v_now) as f;
    end if;
  end if;

  -- PHASE 5: a call's slot that took no dependent runs its reserved next
  -- step (a slot that did keeps the next step queued: the worker puts it
  -- back).
  if cardinality(v_next_os) > 0 then
    v_next_os := array(select i from unnest(v_next_os) as i where v_left[i] > 0 order by i);
  end if;
  if cardinality(v_next_os) > 0 then
    v_begun := rowflow._begin(
      array(select complete_steps.next_run_ids[i] from unnest(v_next_os) as i),
      array(select complete_steps.next_steps[i] from unnest(v_next_os) as i),
      array(select complete_steps.next_attempts[i] from unnest(v_next_os) as i),
      v_next_os, v_worker, v_now, true, v_key);
    foreach v_i in array v_next_os loop
      if (v_begun -> (v_i::text) ->> 'ok')::boolean then
        v_left[v_i] := v_left[v_i] - 1;
      end if;
    end loop;
  end if;

  -- PHASE 6: slots left over claim queued runs.
  if complete_steps.claim and v_worker is not null and 0 < any (v_left) then
    v_claimed := rowflow._claim(v_worker, (select sum(t)::int from unnest(v_left) as t),
                                (select sum(t)::int from unnest(v_left) as t), v_now, v_key);
  end if;

  -- PHASE 7: answers in call order, assembled in plpgsql (no statement per
  -- call): what the release decided, grouped by call; claimed root steps
  -- fill the calls' leftover slots in call order.
  if cardinality(v_done.os) < v_n then
    select coalesce(v_done.unfenced, '{}'::jsonb)
           || coalesce(pg_catalog.jsonb_object_agg(f.o::text, f.refusal) filter (where not coalesce(v_done.unfenced, '{}'::jsonb) ? f.o::text), '{}')
    into v_refusals
    from rowflow._refusals(
      array(select c.run_id from unnest(complete_steps.run_ids) with ordinality as c(run_id, o)
            where not c.o = any (v_done.os) order by c.o),
      array(select c.step from unnest(complete_steps.steps) with ordinality as c(step, o)
            where not c.o = any (v_done.os) order by c.o),
      array(select c.attempt from unnest(complete_steps.attempts) with ordinality as c(attempt, o)
            where not c.o = any (v_done.os) order by c.o),
      array(select i from pg_catalog.generate_series(1, v_n) as i where not i = any (v_done.os) order by i),
      array['running']) as f;
  end if;
  if cardinality(v_rel) > 0 then
    select pg_catalog.jsonb_object_agg(g.origin::text, g.answer) into v_by_call
    from (
      select x.origin, pg_catalog.jsonb_build_object(
        'released', coalesce(pg_catalog.jsonb_agg(x.step order by x.step)
                               filter (where x.status in ('queued', 'running', 'reserved')), '[]'::jsonb),
        'skipped', coalesce(pg_catalog.jsonb_agg(x.step order by x.step) filter (where x.status = 'skipped'), '[]'::jsonb),
        'taken', coalesce(pg_catalog.jsonb_agg(x.context order by x.run_id, x.step)
                            filter (where x.status = 'running'), '[]'::jsonb),
        'reserved', coalesce(pg_catalog.jsonb_agg(x.context order by x.run_id, x.step)
                               filter (where x.status = 'reserved'), '[]'::jsonb)) as answer
      from unnest(v_rel) as x
      group by x.origin
    ) as g;
  end if;
  if 'rowflow' = any (v_done.waiting) or (v_queued > 0 and 'jobs:insert' = any (v_done.waiting)) then
    v_woke := rowflow._wake_all(v_queued, 0,
      case when cardinality(v_done.runs) = 1 then pg_catalog.jsonb_build_object('run', v_done.runs[1])
           else pg_catalog.jsonb_build_object('runs', cardinality(v_done.runs)) end);
  end if;
  v_claimed_taken := coalesce(v_claimed -> 'taken', '[]'::jsonb);
  v_claim_i := 0;
  for v_i in 1 .. v_n loop
    v_answer := coalesce(v_by_call -> (v_i::text), '{"released": [], "skipped": [], "taken": [], "reserved": []}'::jsonb);
    -- The reserved step begun for this call's slot goes first.
    if (v_begun -> (v_i::text) ->> 'ok')::boolean then
      v_answer := pg_catalog.jsonb_set(v_answer, '{taken}',
                                       pg_catalog.jsonb_build_array(v_begun -> (v_i::text)) || (v_answer -> 'taken'));
    end if;
    if v_left[v_i] > 0 and v_claim_i < pg_catalog.jsonb_array_length(v_claimed_taken) then
      v_answer := pg_catalog.jsonb_set(v_answer, '{taken}', (v_answer -> 'taken')
        || coalesce((select pg_catalog.jsonb_agg(e) from pg_catalog.jsonb_array_elements(v_claimed_taken)
                     with ordinality as t(e, k) where t.k > v_claim_i and t.k <= v_claim_i + v_left[v_i]), '[]'::jsonb));
      v_claim_i := v_claim_i + v_left[v_i];
    end if;
    if v_i = any (v_done.os) then
      v_answer := v_answer || pg_catalog.jsonb_build_object('ok', true, 'runStatus',
        coalesce(v_status ->> complete_steps.run_ids[v_i]::text, v_done.run_status ->> complete_steps.run_ids[v_i]::text));
      if v_chained ? complete_steps.run_ids[v_i]::text and pg_catalog.jsonb_array_length(v_answer -> 'released') = 0 then
        v_answer := pg_catalog.jsonb_set(v_answer, '{released}',
                                         pg_catalog.jsonb_build_array(v_chained ->> complete_steps.run_ids[v_i]::text));
      end if;
    else
      v_answer := (v_refusals -> (v_i::text)) || (v_answer - 'released' - 'skipped');
    end if;
    if v_claimed is not null then
      v_answer := v_answer || pg_catalog.jsonb_build_object('claimedRuns', v_claimed -> 'runs');
    end if;
    return next v_answer;
  end loop;
end;
$$;
comment on function rowflow.complete_steps(bigint[], text[], int[], jsonb[], int[], text, timestamptz, boolean, int, bigint[], text[], int[], text[], text) is
  'Completes running step attempts (set-based; each with its lease token), releases dependents (taken, reserved or queued), begins reserved next steps, claims queued runs for leftover slots, finishes runs; one answer per call.';
select rowflow._allow('function rowflow.complete_steps(bigint[], text[], int[], jsonb[], int[], text, timestamptz, boolean, int, bigint[], text[], int[], text[], text)', '{worker}');

-- Every attachment's start function again, with the body that reads the
-- trace settings (CREATE OR REPLACE keeps the functions' oids, so the
-- triggers keep pointing at them).
select rowflow._purge_stale_attachments();
select rowflow._install_attachment(a.id) from rowflow.table_attachments as a order by a.id;
