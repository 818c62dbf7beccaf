--
-- PostgreSQL database dump
--

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: rowflow; Type: SCHEMA; Schema: -; Owner: -
--

CREATE SCHEMA rowflow;

--
-- Name: SCHEMA rowflow; Type: COMMENT; Schema: -; Owner: -
--

COMMENT ON SCHEMA rowflow IS 'rowflow: database-centric workflow orchestration';

--
-- Name: step_job; Type: TYPE; Schema: rowflow; Owner: -
--

CREATE TYPE rowflow.step_job AS (
	run_id bigint,
	step text,
	attempt integer,
	queue text,
	run_at timestamp with time zone,
	priority integer
);

--
-- Name: _add_step_jobs(rowflow.step_job[]); Type: FUNCTION; Schema: rowflow; Owner: -
--

CREATE FUNCTION rowflow._add_step_jobs(jobs rowflow.step_job[]) RETURNS bigint[]
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
#variable_conflict use_column
declare
  v_task int;
  v_seq regclass;
  v_ids bigint[];
begin
  -- GUARD: nothing to add.
  if coalesce(cardinality(_add_step_jobs.jobs), 0) = 0 then
    return '{}';
  end if;
  -- PHASE 1: the task and the queues exist (writes only when missing).
  v_task := rowflow._step_task_id();
  if exists (select 1 from unnest(_add_step_jobs.jobs) as j where j.queue is not null) then
    insert into graphile_worker._private_job_queues as q (queue_name)
    select distinct j.queue from unnest(_add_step_jobs.jobs) as j where j.queue is not null
    on conflict do nothing;
  end if;
  -- PHASE 2: ids, then the rows.
  v_seq := pg_catalog.pg_get_serial_sequence('graphile_worker._private_jobs', 'id')::regclass;
  v_ids := array(select pg_catalog.nextval(v_seq) from pg_catalog.generate_series(1, cardinality(_add_step_jobs.jobs)));
  insert into graphile_worker._private_jobs as jobs
    (id, job_queue_id, task_id, payload, run_at, max_attempts, priority)
  overriding system value
  select v_ids[j.o],
         case when j.queue is not null then
           (select q.id from graphile_worker._private_job_queues as q where q.queue_name = j.queue) end,
         v_task,
         pg_catalog.json_build_object('run', j.run_id, 'step', j.step, 'attempt', j.attempt),
         coalesce(j.run_at, pg_catalog.now()),
         25,
         greatest(-32768, least(32767, coalesce(j.priority, 0)))
  from unnest(_add_step_jobs.jobs) with ordinality as j(run_id, step, attempt, queue, run_at, priority, o)
  order by j.o;
  -- PHASE 3: wake a waiting worker (at most one NOTIFY per transaction).
  perform rowflow._wake('jobs:insert', '{"count":' || cardinality(_add_step_jobs.jobs) || '}');
  return v_ids;
end;
$$;

--
-- Name: FUNCTION _add_step_jobs(jobs rowflow.step_job[]); Type: COMMENT; Schema: rowflow; Owner: -
--

COMMENT ON FUNCTION rowflow._add_step_jobs(jobs rowflow.step_job[]) IS 'Internal: inserts rowflow:step jobs without job keys (ids in spec order) and wakes a waiting worker (000006).';

SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: runs; Type: TABLE; Schema: rowflow; Owner: -
--

CREATE TABLE rowflow.runs (
    id bigint NOT NULL,
    workflow text NOT NULL,
    version integer NOT NULL,
    status text NOT NULL,
    input jsonb NOT NULL,
    idempotency_key text,
    priority smallint DEFAULT 0 NOT NULL,
    steps_left integer NOT NULL,
    error jsonb,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    finished_at timestamp with time zone,
    CONSTRAINT error_matches_status CHECK (((status = ANY (ARRAY['failed'::text, 'compensating'::text, 'cancelled'::text])) OR (error IS NULL))),
    CONSTRAINT finished_at_matches_status CHECK (((status = ANY (ARRAY['succeeded'::text, 'failed'::text, 'cancelled'::text])) = (finished_at IS NOT NULL))),
    CONSTRAINT input_is_object CHECK ((jsonb_typeof(input) = 'object'::text)),
    CONSTRAINT status_is_valid CHECK ((status = ANY (ARRAY['running'::text, 'compensating'::text, 'succeeded'::text, 'failed'::text, 'cancelled'::text]))),
    CONSTRAINT steps_left_is_valid CHECK (((steps_left >= 0) AND ((status <> ALL (ARRAY['succeeded'::text, 'failed'::text])) OR (steps_left = 0))))
);

--
-- Name: _advance_chain_step(rowflow.runs, timestamp with time zone); Type: FUNCTION; Schema: rowflow; Owner: -
--

CREATE FUNCTION rowflow._advance_chain_step(run rowflow.runs, now timestamp with time zone) RETURNS text
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
#variable_conflict use_column
declare
  v_sr rowflow.step_runs;
  v_ws rowflow.workflow_steps;
  v_ids bigint[];
begin
  select * into v_sr from rowflow.step_runs as sr
  where sr.run_id = _advance_chain_step.run.id and sr.kind <> 'step' and sr.status = 'pending'
  order by sr.seq limit 1
  for update;
  if not found then
    return null;
  end if;
  -- A compensation uses the queue and priority of the step it undoes.
  select ws.* into v_ws from rowflow.workflow_steps as ws
  where ws.workflow = _advance_chain_step.run.workflow and ws.version = _advance_chain_step.run.version
    and v_sr.kind = 'compensation' and ws.name = substr(v_sr.step, length('compensate:') + 1);
  v_ids := rowflow._add_step_jobs(array[row(v_sr.run_id, v_sr.step, 1,
    rowflow._queue_name(v_ws.queue_name, v_ws.queue_key,
      jsonb_build_object('input', _advance_chain_step.run.input, 'steps', '{}'::jsonb)),
    _advance_chain_step.now, coalesce(v_ws.priority, 0) + _advance_chain_step.run.priority)::rowflow.step_job]);
  update rowflow.step_runs as sr set status = 'queued', deps_remaining = 0, attempt = 1, job_id = v_ids[1]
  where sr.run_id = v_sr.run_id and sr.step = v_sr.step;
  insert into rowflow.events (run_id, step, type, attempt, at)
  values (v_sr.run_id, v_sr.step, 'step_queued', 1, _advance_chain_step.now);
  return v_sr.step;
end;
$$;

--
-- Name: _attach(oid, text, text, text[], text, text, text); Type: FUNCTION; Schema: rowflow; Owner: -
--

CREATE FUNCTION rowflow._attach(relid oid, given text, workflow text, events text[], "when" text, input text, idempotency_key text) RETURNS integer
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
#variable_conflict use_column
declare
  v_rel pg_catalog.pg_class;
  v_events text[];
  v_pk text[];
  v_clash record;
  v_id int;
  v_fn text;
  v_event text;
  v_body text;
  v_checks text;
  v_table_tag text;
begin
  -- GUARD: table, ownership, workflow, events, primary key.
  v_rel := rowflow._attachable_table(_attach.relid, _attach.given, 'attach');
  if not exists (select 1 from rowflow.workflows as w where w.name = _attach.workflow) then
    raise exception 'attach: unknown workflow %', coalesce(pg_catalog.quote_literal(_attach.workflow), 'null')
      using errcode = 'RF020',
            hint = 'Define it first with rowflow.define_workflow(name, spec), in the same migration if you like.';
  end if;
  if _attach.events is null or cardinality(_attach.events) = 0
     or exists (select 1 from unnest(_attach.events) as e where e is null
                or pg_catalog.lower(e) not in ('insert', 'update', 'delete')) then
    raise exception 'attach: events must be a non-empty subset of {insert,update,delete}, got %',
      coalesce(_attach.events::text, 'null') using errcode = 'RF033';
  end if;
  v_events := array(select distinct pg_catalog.lower(e) from unnest(_attach.events) as e
                    order by 1);
  if cardinality(v_events) <> cardinality(_attach.events) then
    raise exception 'attach: events lists an event twice: %', _attach.events::text using errcode = 'RF033';
  end if;
  v_pk := array(
    select a.attname::text
    from pg_catalog.pg_index as i
    cross join lateral unnest(i.indkey) with ordinality as k(attnum, o)
    join pg_catalog.pg_attribute as a on a.attrelid = i.indrelid and a.attnum = k.attnum
    where i.indrelid = _attach.relid and i.indisprimary
    order by k.o);
  if 'update' = any (v_events) and cardinality(v_pk) = 0 then
    raise exception 'attach: table % has no primary key; update attachments pair old and new rows by primary key',
      _attach.relid::regclass using errcode = 'RF032',
      hint = 'Add a primary key (alter table … add primary key (…)), or attach only insert/delete events.';
  end if;
  -- Serialise attach/detach on this table (CREATE TRIGGER takes this lock
  -- anyway; taking it first makes the overlap check below race-free).
  execute pg_catalog.format('lock table %s in share row exclusive mode', _attach.relid::regclass);
  perform rowflow._purge_stale_attachments();
  select a.id, a.events into v_clash
  from rowflow.table_attachments as a
  where a.relid = _attach.relid and a.workflow = _attach.workflow and a.events && v_events
  limit 1;
  if found then
    raise exception 'attach: workflow "%" is already attached to % for %', _attach.workflow,
      _attach.relid::regclass, array(select unnest(v_clash.events) intersect select unnest(v_events))::text
      using errcode = 'RF035',
            hint = 'Detach it first (select rowflow.detach(…)), or attach with events that do not overlap.';
  end if;

  -- PHASE 1: compile every expression, each alone (so the error names the
  -- option), for each event, before anything is created.
  foreach v_event in array v_events loop
    if _attach."when" is not null then
      perform rowflow._check_attachment_query(
        rowflow._attachment_query(_attach.relid, v_event, v_pk, _attach."when", null, null),
        'when', _attach."when", v_event);
    end if;
    if _attach.input is not null then
      perform rowflow._check_attachment_query(
        rowflow._attachment_query(_attach.relid, v_event, v_pk, null, _attach.input, null),
        'input', _attach.input, v_event);
    end if;
    if _attach.idempotency_key is not null then
      perform rowflow._check_attachment_query(
        rowflow._attachment_query(_attach.relid, v_event, v_pk, null, null, _attach.idempotency_key),
        'idempotency_key', _attach.idempotency_key, v_event);
    end if;
    perform rowflow._check_attachment_query(
      rowflow._attachment_query(_attach.relid, v_event, v_pk, _attach."when", _attach.input, _attach.idempotency_key),
      'combined', concat_ws(' / ', _attach."when", _attach.input, _attach.idempotency_key), v_event);
  end loop;

  -- PHASE 2: the attachment row (its id makes the function name unique).
  -- Function name: tg_<table>__<workflow>_<id>, each part reduced to
  -- [a-z0-9_] and cut to 22 characters (hostile or unicode table names only
  -- lose readability, never uniqueness).
  v_table_tag := coalesce(nullif(left(pg_catalog.regexp_replace(pg_catalog.lower(v_rel.relname::text),
                   '[^a-z0-9_]+', '_', 'g'), 22), ''), 't');
  insert into rowflow.table_attachments (relid, workflow, events, when_sql, input_sql, key_sql, function_name)
  values (_attach.relid, _attach.workflow, v_events, _attach."when", _attach.input, _attach.idempotency_key, 'tg_pending')
  returning id into v_id;
  v_fn := 'tg_' || v_table_tag || '__' || left(pg_catalog.replace(_attach.workflow, '-', '_'), 22) || '_' || v_id;
  update rowflow.table_attachments as a set function_name = v_fn where a.id = v_id;

  -- PHASE 3: the trigger function. One body serves all events of the
  -- attachment; each trigger declares its transition tables as rf_new/rf_old.
  v_checks := '';
  foreach v_event in array v_events loop
    v_checks := v_checks || pg_catalog.format(E'  %s rf_tg.rf_op = %L then\n    ',
        case when v_checks = '' then 'if' else 'elsif' end, v_event)
      || rowflow._attachment_query(_attach.relid, v_event, v_pk, _attach."when", _attach.input,
           _attach.idempotency_key, 'rf_tg.rf_inputs, rf_tg.rf_keys')
      || E';\n';
  end loop;
  v_body := E'\n#variable_conflict use_column\n<<rf_tg>>\ndeclare\n'
    || E'  rf_inputs jsonb[];\n  rf_keys text[];\n'
    || E'  rf_op text := pg_catalog.lower(tg_op);\n'
    || E'  rf_schema text := tg_table_schema;\n  rf_table text := tg_table_name;\nbegin\n'
    || pg_catalog.format(E'  -- rowflow attachment %s: workflow %s on %s (generated by rowflow.attach; do not edit)\n',
         v_id, _attach.workflow, _attach.relid::regclass)
    || E'  if pg_catalog.current_setting(''rowflow.mode'', true) = ''suppress'' then\n    return null;\n  end if;\n'
    || v_checks
    || E'  end if;\n'
    || E'  if rf_tg.rf_inputs is not null then\n'
    || pg_catalog.format(E'    perform rowflow._start_attached(%s, %L, rf_tg.rf_inputs, rf_tg.rf_keys);\n',
         v_id, _attach.workflow)
    || E'  end if;\n  return null;\nend;\n';
  execute pg_catalog.format(
    'create function rowflow.%I() returns trigger language plpgsql security definer set search_path to '''' as %L',
    v_fn, v_body);
  execute pg_catalog.format('revoke all on function rowflow.%I() from public', v_fn);
  execute pg_catalog.format('comment on function rowflow.%I() is %L', v_fn,
    pg_catalog.format('rowflow attachment %s: starts workflow %s for %s on %s', v_id, _attach.workflow,
      array_to_string(v_events, ', '), _attach.relid::regclass));

  -- PHASE 4: one statement-level AFTER trigger per event. The _900_ prefix
  -- makes them fire after the table's other AFTER statement triggers
  -- (Postgres fires triggers of one kind in name order).
  foreach v_event in array v_events loop
    execute pg_catalog.format(
      'create trigger %I after %s on %s referencing %s for each statement execute function rowflow.%I()',
      '_900_rowflow_' || left(_attach.workflow, 30) || '_' || v_event || '_' || v_id,
      v_event, _attach.relid::regclass,
      case v_event when 'insert' then 'new table as rf_new'
                   when 'update' then 'new table as rf_new old table as rf_old'
                   else 'old table as rf_old' end,
      v_fn);
  end loop;
  return v_id;
end;
$$;

--
-- Name: _attach_mode(); Type: FUNCTION; Schema: rowflow; Owner: -
--

CREATE FUNCTION rowflow._attach_mode() RETURNS text
    LANGUAGE plpgsql STABLE
    SET search_path TO ''
    AS $$
declare
  v_mode text := coalesce(nullif(pg_catalog.current_setting('rowflow.mode', true), ''), 'normal');
begin
  if v_mode not in ('normal', 'suppress', 'backfill') then
    raise exception 'rowflow.mode is %, expected ''normal'', ''suppress'' or ''backfill''',
      pg_catalog.quote_literal(v_mode) using errcode = 'RF039',
      hint = 'Use: set local rowflow.mode = ''suppress''; (or ''backfill'').';
  end if;
  return v_mode;
end;
$$;

--
-- Name: _attachable_table(oid, text, text); Type: FUNCTION; Schema: rowflow; Owner: -
--

CREATE FUNCTION rowflow._attachable_table(relid oid, given text, verb text) RETURNS pg_class
    LANGUAGE plpgsql STABLE
    SET search_path TO ''
    AS $$
#variable_conflict use_column
declare
  v_rel pg_catalog.pg_class;
  v_schema text;
begin
  select c.* into v_rel from pg_catalog.pg_class as c where c.oid = _attachable_table.relid;
  if not found then
    raise exception '%: table % does not exist', _attachable_table.verb,
      coalesce(pg_catalog.quote_literal(_attachable_table.given), 'null')
      using errcode = 'RF030',
            hint = 'Create the table first, or schema-qualify its name (e.g. ''public.orders'').';
  end if;
  v_schema := (select n.nspname from pg_catalog.pg_namespace as n where n.oid = v_rel.relnamespace);
  if v_rel.relkind not in ('r', 'p') then
    raise exception '%: % is a %, not a table; attachments need an ordinary or partitioned table',
      _attachable_table.verb, _attachable_table.relid::regclass,
      case v_rel.relkind when 'v' then 'view' when 'm' then 'materialized view'
        when 'f' then 'foreign table' when 'S' then 'sequence' when 'i' then 'index'
        when 'I' then 'partitioned index' when 'c' then 'composite type' when 't' then 'TOAST table'
        else 'relation of kind ' || v_rel.relkind::text end
      using errcode = 'RF031',
            hint = 'Attach the workflow to the table the view reads from.';
  end if;
  if v_schema in ('rowflow', 'graphile_worker', 'pg_catalog', 'information_schema')
     or v_schema like 'pg\_toast%' or v_schema like 'pg\_temp%' then
    raise exception '%: % is in schema %, which rowflow does not attach to', _attachable_table.verb,
      _attachable_table.relid::regclass, pg_catalog.quote_ident(v_schema)
      using errcode = 'RF031',
            hint = 'Attach workflows to your own (non-temporary) business tables.';
  end if;
  if not pg_catalog.pg_has_role(current_user, v_rel.relowner, 'USAGE') then
    raise exception '%: must be the owner of table % (owner: %, you: %)', _attachable_table.verb,
      _attachable_table.relid::regclass, pg_catalog.pg_get_userbyid(v_rel.relowner), current_user
      using errcode = 'RF036',
            hint = 'Run it as the table owner or a member of the owning role (e.g. from the migration that created the table).';
  end if;
  return v_rel;
end;
$$;

--
-- Name: _attachment_query(regclass, text, text[], text, text, text, text); Type: FUNCTION; Schema: rowflow; Owner: -
--

CREATE FUNCTION rowflow._attachment_query(rel regclass, event text, pk_cols text[], when_sql text, input_sql text, key_sql text, into_vars text DEFAULT NULL::text) RETURNS text
    LANGUAGE plpgsql STABLE
    SET search_path TO ''
    AS $_$
#variable_conflict use_column
declare
  v_src text;
  v_pair text;
  v_key_obj text;
  v_input text;
  v_key text;
begin
  -- GUARD: known event.
  if _attachment_query.event not in ('insert', 'update', 'delete') then
    raise exception 'unknown event %', _attachment_query.event using errcode = 'RF033';
  end if;

  -- PHASE 1: row sources.
  if _attachment_query.event = 'insert' then
    v_src := 'rf_new as new left join (select * from rf_new where false) as old on true';
  elsif _attachment_query.event = 'delete' then
    v_src := 'rf_old as old left join (select * from rf_old where false) as new on true';
  else
    select pg_catalog.string_agg(pg_catalog.format('old.%1$I = new.%1$I', c), ' and ' order by o)
    into v_pair
    from unnest(_attachment_query.pk_cols) with ordinality as t(c, o);
    v_src := 'rf_new as new left join rf_old as old on (' || v_pair || ')';
  end if;

  -- PHASE 2: the default input: {"schema", "table", "op", "key": {pk columns},
  -- "row": new row (old row for delete), "old": old row (update only)}.
  select pg_catalog.format('pg_catalog.jsonb_build_object(%s)',
           pg_catalog.string_agg(pg_catalog.format('%L, %s.%I', c,
             case when _attachment_query.event = 'delete' then 'old' else 'new' end, c), ', ' order by o))
  into v_key_obj
  from unnest(_attachment_query.pk_cols) with ordinality as t(c, o);
  v_input := coalesce(
    E'\n' || _attachment_query.input_sql || E'\n',
    pg_catalog.format(
      'pg_catalog.jsonb_build_object(''schema'', rf_tg.rf_schema, ''table'', rf_tg.rf_table, ''op'', %L, '
      '''key'', %s, ''row'', pg_catalog.to_jsonb(%s.*)%s)',
      _attachment_query.event,
      coalesce(v_key_obj, 'null::jsonb'),
      case when _attachment_query.event = 'delete' then 'old' else 'new' end,
      case when _attachment_query.event = 'update' then ', ''old'', pg_catalog.to_jsonb(old.*)' else '' end));
  if _attachment_query.into_vars is null then
    -- Compiled outside the function: rf_tg.* variables do not exist there.
    v_input := replace(replace(v_input, 'rf_tg.rf_schema', '''''::text'), 'rf_tg.rf_table', '''''::text');
  end if;
  v_key := coalesce('(' || E'\n' || _attachment_query.key_sql || E'\n' || ')::text', 'null::text');

  -- PHASE 3: the statement.
  return
    case when _attachment_query.into_vars is null then
      pg_catalog.format('with rf_new as (select * from %1$s limit 0), rf_old as (select * from %1$s limit 0) ',
                        _attachment_query.rel)
    else '' end
    || 'select pg_catalog.array_agg(rf_q.input), '
    || case when _attachment_query.key_sql is null then 'null::text[]' else 'pg_catalog.array_agg(rf_q.key)' end
    || coalesce(' into ' || _attachment_query.into_vars, '') || E'\n'
    || 'from (select coalesce((' || v_input || '), null::jsonb) as input, '
    || v_key || ' as key' || E'\n'
    || 'from ' || v_src || E'\n'
    || 'where (' || coalesce(E'\n' || _attachment_query.when_sql || E'\n', 'true') || ')) as rf_q';
end;
$_$;

--
-- Name: _cancel_steps(bigint, text[], text, timestamp with time zone); Type: FUNCTION; Schema: rowflow; Owner: -
--

CREATE FUNCTION rowflow._cancel_steps(run_id bigint, kinds text[], reason text, now timestamp with time zone) RETURNS integer
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
#variable_conflict use_column
declare
  v_run rowflow.runs;
  v_jobs bigint[];
  v_n int;
begin
  select r.* into v_run from rowflow.runs as r where r.id = _cancel_steps.run_id;
  -- PHASE 1: the queued jobs.
  v_jobs := array(
    select sr.job_id from rowflow.step_runs as sr
    where sr.run_id = _cancel_steps.run_id and sr.kind = any (_cancel_steps.kinds)
      and sr.status = 'queued' and sr.job_id is not null
    order by sr.job_id);
  if cardinality(v_jobs) > 0 then
    delete from graphile_worker._private_jobs as jobs
    where jobs.id = any (v_jobs)
      and (jobs.locked_at is null or jobs.locked_at < pg_catalog.now() - interval '4 hours');
    update graphile_worker._private_jobs as jobs
    set attempts = jobs.max_attempts, updated_at = pg_catalog.now()
    where jobs.id = any (v_jobs);
  end if;

  -- PHASE 2: the step runs, with and without a row, and their events.
  with c as (
    update rowflow.step_runs as sr
    set status = 'cancelled', finished_at = _cancel_steps.now
    where sr.run_id = _cancel_steps.run_id and sr.kind = any (_cancel_steps.kinds)
      and sr.status in ('pending', 'queued', 'running')
    returning sr.step, sr.attempt
  ), n as (
    insert into rowflow.step_runs (run_id, step, kind, status, deps_remaining, attempt, max_attempts,
                                   created_at, finished_at)
    select _cancel_steps.run_id, ws.name, 'step', 'cancelled', ws.n_deps, 0, ws.attempts,
           v_run.created_at, _cancel_steps.now
    from rowflow.workflow_steps as ws
    where 'step' = any (_cancel_steps.kinds)
      and ws.workflow = v_run.workflow and ws.version = v_run.version
      and not exists (select 1 from rowflow.step_runs as sr
                      where sr.run_id = _cancel_steps.run_id and sr.step = ws.name)
    order by ws.name
    returning step, attempt
  ), cn as (
    select * from c union all select * from n
  ), e as (
    insert into rowflow.events (run_id, step, type, attempt, data, at)
    select _cancel_steps.run_id, cn.step, 'step_cancelled', nullif(cn.attempt, 0),
      jsonb_build_object('reason', _cancel_steps.reason), _cancel_steps.now
    from cn order by cn.step
  )
  select count(*) into v_n from cn;
  return v_n;
end;
$$;

--
-- Name: _check_attachment_query(text, text, text, text); Type: FUNCTION; Schema: rowflow; Owner: -
--

CREATE FUNCTION rowflow._check_attachment_query(query text, what text, expr text, event text) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
declare
  v_cur refcursor;
  v_state text;
  v_msg text;
begin
  begin
    open v_cur for execute _check_attachment_query.query;
    close v_cur;
  exception when others then
    get stacked diagnostics v_state = returned_sqlstate, v_msg = message_text;
    raise exception 'attach: % expression is invalid for % rows: %', _check_attachment_query.what,
      _check_attachment_query.event,
      case
        when _check_attachment_query.what = 'when' and v_state = '42804'
          then v_msg || ' (the "when" expression must be boolean)'
        when _check_attachment_query.what = 'input' and v_state in ('42804', '42846', '42883')
          then 'it must produce jsonb (cast json or text with ::jsonb, or build it with jsonb_build_object): ' || v_msg
        when v_state in ('0A000', '42P11')
          then 'it must be one SQL expression, not statements: ' || v_msg
        else v_msg end
      using errcode = 'RF034',
            detail = pg_catalog.format('expression: %s; SQLSTATE %s', left(_check_attachment_query.expr, 500), v_state),
            hint = case _check_attachment_query.what
              when 'when' then 'Write a boolean SQL expression over new.<column> and old.<column>, e.g. new.status = ''paid'' and old.status is distinct from ''paid''.'
              when 'input' then 'Write a jsonb SQL expression over new.<column> / old.<column>, e.g. jsonb_build_object(''orderId'', new.id).'
              else 'Write a SQL expression over new.<column> / old.<column>; its value is cast to text.' end;
  end;
  -- A cursor refuses a multi-statement text, but be explicit about SELECT INTO etc.
end;
$$;

--
-- Name: _compile_path(jsonb, text); Type: FUNCTION; Schema: rowflow; Owner: -
--

CREATE FUNCTION rowflow._compile_path(value jsonb, what text) RETURNS jsonpath
    LANGUAGE plpgsql IMMUTABLE
    SET search_path TO ''
    AS $$
#variable_conflict use_column
declare
  v_path jsonpath;
begin
  if jsonb_typeof(_compile_path.value) is distinct from 'string' then
    raise exception '% must be a string holding a SQL/JSON path expression, got %',
      _compile_path.what, left(_compile_path.value::text, 200) using errcode = 'RF009';
  end if;
  begin
    v_path := (_compile_path.value #>> '{}')::jsonpath;
  exception when others then
    -- Any failure to compile (syntax 42601, a bad like_regex 2201B, …).
    raise exception '% is not a valid SQL/JSON path expression: % (%)',
      _compile_path.what, _compile_path.value::text, sqlerrm using errcode = 'RF009';
  end;
  begin
    -- Lax mode never fails on missing keys, but an unknown variable fails
    -- on every evaluation: find it now. Strict-mode structural errors are
    -- data-dependent and therefore allowed.
    perform jsonb_path_query_first('{"input": {}, "steps": {}}'::jsonb, v_path);
  exception
    when undefined_object then
      raise exception '% is not a valid SQL/JSON path expression: % (%)',
        _compile_path.what, _compile_path.value::text, sqlerrm using errcode = 'RF009';
    when others then
      null; -- data-dependent (strict mode etc.): fine at definition time
  end;
  return v_path;
end;
$$;

--
-- Name: _deps_outputs(bigint, text[]); Type: FUNCTION; Schema: rowflow; Owner: -
--

CREATE FUNCTION rowflow._deps_outputs(run_id bigint, names text[]) RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path TO ''
    AS $$
  select coalesce(jsonb_object_agg(sr.step, sr.output), '{}'::jsonb)
  from rowflow.step_runs as sr
  where sr.run_id = _deps_outputs.run_id and sr.step = any (_deps_outputs.names);
$$;

--
-- Name: _detach(oid, text, text); Type: FUNCTION; Schema: rowflow; Owner: -
--

CREATE FUNCTION rowflow._detach(relid oid, given text, workflow text) RETURNS integer
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
#variable_conflict use_column
declare
  v_row record;
  v_count int := 0;
begin
  -- GUARD: table and ownership; serialise with attach.
  perform rowflow._attachable_table(_detach.relid, _detach.given, 'detach');
  execute pg_catalog.format('lock table %s in share row exclusive mode', _detach.relid::regclass);
  perform rowflow._purge_stale_attachments();

  -- PHASE 1: drop the triggers, the function and the row of each attachment.
  -- Runs already started are not touched.
  for v_row in
    select a.id, a.function_name from rowflow.table_attachments as a
    where a.relid = _detach.relid and a.workflow = _detach.workflow
    order by a.id
  loop
    execute pg_catalog.format('drop function rowflow.%I() cascade', v_row.function_name);
    delete from rowflow.table_attachments as a where a.id = v_row.id;
    v_count := v_count + 1;
  end loop;
  if v_count = 0 then
    raise exception 'detach: workflow % is not attached to %',
      coalesce(pg_catalog.quote_literal(_detach.workflow), 'null'), _detach.relid::regclass
      using errcode = 'RF037', hint = 'See select * from rowflow.attachments;';
  end if;
  return v_count;
end;
$$;

--
-- Name: _enqueue(graphile_worker.job_spec[]); Type: FUNCTION; Schema: rowflow; Owner: -
--

CREATE FUNCTION rowflow._enqueue(specs graphile_worker.job_spec[]) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
#variable_conflict use_column
begin
  -- GUARD: nothing to add.
  if coalesce(cardinality(_enqueue.specs), 0) = 0 then
    return;
  end if;
  -- PHASE 1: tasks and queues exist (no write when they already do).
  insert into graphile_worker._private_tasks as tasks (identifier)
  select distinct spec.identifier from unnest(_enqueue.specs) as spec
  on conflict do nothing;
  insert into graphile_worker._private_job_queues as job_queues (queue_name)
  select distinct spec.queue_name from unnest(_enqueue.specs) as spec
  where spec.queue_name is not null
  on conflict do nothing;
  -- PHASE 2: a locked job with the same key keeps running but loses its key
  -- (add_jobs' rule), then insert or replace.
  update graphile_worker._private_jobs as jobs
  set key = null, attempts = jobs.max_attempts, updated_at = pg_catalog.now()
  from unnest(_enqueue.specs) as spec
  where spec.job_key is not null and jobs.key = spec.job_key and jobs.is_available is not true;
  insert into graphile_worker._private_jobs as jobs
    (job_queue_id, task_id, payload, run_at, max_attempts, key, priority, flags)
  select job_queues.id, tasks.id, coalesce(spec.payload, '{}'::json), coalesce(spec.run_at, pg_catalog.now()),
         coalesce(spec.max_attempts, 25), spec.job_key, coalesce(spec.priority, 0),
         (select pg_catalog.jsonb_object_agg(flag, true) from unnest(spec.flags) as item(flag))
  from unnest(_enqueue.specs) as spec
  join graphile_worker._private_tasks as tasks on tasks.identifier = spec.identifier
  left join graphile_worker._private_job_queues as job_queues on job_queues.queue_name = spec.queue_name
  on conflict (key) do update set
    job_queue_id = excluded.job_queue_id,
    task_id = excluded.task_id,
    payload = case
      when pg_catalog.json_typeof(jobs.payload) = 'array' and pg_catalog.json_typeof(excluded.payload) = 'array'
        then (jobs.payload::jsonb || excluded.payload::jsonb)::json
      else excluded.payload end,
    max_attempts = excluded.max_attempts,
    run_at = excluded.run_at,
    priority = excluded.priority,
    revision = jobs.revision + 1,
    flags = excluded.flags,
    attempts = 0,
    last_error = null,
    updated_at = pg_catalog.now()
  where jobs.locked_at is null;
  -- PHASE 3: wake a waiting worker (at most once per transaction).
  perform rowflow._wake('jobs:insert', '{"count":' || cardinality(_enqueue.specs) || '}');
end;
$$;

--
-- Name: FUNCTION _enqueue(specs graphile_worker.job_spec[]); Type: COMMENT; Schema: rowflow; Owner: -
--

COMMENT ON FUNCTION rowflow._enqueue(specs graphile_worker.job_spec[]) IS 'Internal: graphile_worker.add_jobs without the unconditional NOTIFY; wakes workers only if one waits (rowflow.waiters).';

--
-- Name: step_runs; Type: TABLE; Schema: rowflow; Owner: -
--

CREATE TABLE rowflow.step_runs (
    run_id bigint NOT NULL,
    step text NOT NULL,
    kind text DEFAULT 'step'::text NOT NULL,
    status text NOT NULL,
    deps_remaining smallint DEFAULT 0 NOT NULL,
    attempt smallint DEFAULT 0 NOT NULL,
    max_attempts smallint NOT NULL,
    seq smallint,
    output jsonb,
    error jsonb,
    created_at timestamp with time zone NOT NULL,
    started_at timestamp with time zone,
    finished_at timestamp with time zone,
    job_id bigint,
    CONSTRAINT attempt_is_valid CHECK ((((attempt >= 0) AND (attempt <= max_attempts)) AND ((status <> ALL (ARRAY['queued'::text, 'running'::text])) OR (attempt >= 1)))),
    CONSTRAINT deps_done_unless_pending CHECK (((deps_remaining >= 0) AND ((status = ANY (ARRAY['pending'::text, 'cancelled'::text])) OR (deps_remaining = 0)))),
    CONSTRAINT finished_at_matches_status CHECK (((status = ANY (ARRAY['succeeded'::text, 'failed'::text, 'skipped'::text, 'cancelled'::text])) = (finished_at IS NOT NULL))),
    CONSTRAINT kind_is_valid CHECK ((kind = ANY (ARRAY['step'::text, 'compensation'::text, 'on_failure'::text]))),
    CONSTRAINT seq_matches_kind CHECK (((kind = 'step'::text) = (seq IS NULL))),
    CONSTRAINT started_at_matches_status CHECK (((status <> ALL (ARRAY['running'::text, 'succeeded'::text, 'failed'::text])) OR (started_at IS NOT NULL))),
    CONSTRAINT status_is_valid CHECK ((status = ANY (ARRAY['pending'::text, 'queued'::text, 'running'::text, 'succeeded'::text, 'failed'::text, 'skipped'::text, 'cancelled'::text])))
);

--
-- Name: _fence(rowflow.runs, rowflow.step_runs, integer, text[]); Type: FUNCTION; Schema: rowflow; Owner: -
--

CREATE FUNCTION rowflow._fence(run rowflow.runs, sr rowflow.step_runs, attempt integer, allowed text[]) RETURNS jsonb
    LANGUAGE sql IMMUTABLE
    SET search_path TO ''
    AS $$
  select case
    when (_fence.run).id is null then '{"ok": false, "reason": "unknown_run"}'::jsonb
    when (_fence.sr).run_id is null then '{"ok": false, "reason": "unknown_step"}'::jsonb
    when (_fence.sr).status in ('succeeded', 'failed', 'skipped', 'cancelled') then
      jsonb_build_object('ok', false, 'reason', 'step_terminal', 'status', (_fence.sr).status,
                         'runStatus', (_fence.run).status)
    when (_fence.sr).attempt <> _fence.attempt then
      jsonb_build_object('ok', false, 'reason', 'attempt_mismatch', 'currentAttempt', (_fence.sr).attempt)
    when (_fence.run).status not in ('running', 'compensating') then
      jsonb_build_object('ok', false, 'reason', 'run_not_active', 'runStatus', (_fence.run).status)
    when (_fence.sr).status <> all (_fence.allowed) then
      jsonb_build_object('ok', false, 'reason', 'step_not_' || case when _fence.allowed = array['running'] then 'running' else 'ready' end,
                         'status', (_fence.sr).status)
  end;
$$;

--
-- Name: _finish_run(bigint, text, integer, jsonb, timestamp with time zone); Type: FUNCTION; Schema: rowflow; Owner: -
--

CREATE FUNCTION rowflow._finish_run(run_id bigint, status text, steps_left integer, error jsonb, now timestamp with time zone) RETURNS text
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
#variable_conflict use_column
declare
  v_status text := _finish_run.status;
  v_error jsonb := _finish_run.error;
begin
  if _finish_run.steps_left = 0 and v_status in ('running', 'compensating') then
    if v_status = 'compensating' then
      v_status := 'failed';
      select v_error || jsonb_build_object('compensation', coalesce(jsonb_object_agg(sr.step, sr.status), '{}'))
      into v_error
      from rowflow.step_runs as sr
      where sr.run_id = _finish_run.run_id and sr.kind <> 'step';
    else
      v_status := 'succeeded';
    end if;
    insert into rowflow.events (run_id, type, data, at)
    values (_finish_run.run_id, 'run_' || v_status, v_error, _finish_run.now);
  end if;
  update rowflow.runs as r
  set status = v_status, steps_left = _finish_run.steps_left, error = v_error, updated_at = _finish_run.now,
      finished_at = case when v_status in ('succeeded', 'failed', 'cancelled') then _finish_run.now end
  where r.id = _finish_run.run_id;
  return v_status;
end;
$$;

--
-- Name: _notify(jsonb); Type: FUNCTION; Schema: rowflow; Owner: -
--

CREATE FUNCTION rowflow._notify(payload jsonb) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
#variable_conflict use_column
begin
  perform rowflow._wake('rowflow', _notify.payload::text);
end;
$$;

--
-- Name: FUNCTION _notify(payload jsonb); Type: COMMENT; Schema: rowflow; Owner: -
--

COMMENT ON FUNCTION rowflow._notify(payload jsonb) IS 'Internal: the run-change hint on channel rowflow, at most once per transaction and only when a live view waits (rowflow._wake, 000007).';

--
-- Name: _parse_interval(jsonb, text); Type: FUNCTION; Schema: rowflow; Owner: -
--

CREATE FUNCTION rowflow._parse_interval(value jsonb, what text) RETURNS interval
    LANGUAGE plpgsql IMMUTABLE
    SET search_path TO ''
    AS $_$
#variable_conflict use_column
declare
  v_m text[];
  v_unit text;
begin
  if _parse_interval.value is null then
    return null; -- option not given
  end if;
  if jsonb_typeof(_parse_interval.value) = 'number' then
    if _parse_interval.value::text !~ '^\d+$' then
      raise exception '% must be a non-negative integer number of milliseconds or a string like "5 seconds", got %',
        _parse_interval.what, _parse_interval.value::text using errcode = 'RF010';
    end if;
    begin
      return (_parse_interval.value::text)::numeric * interval '1 millisecond';
    exception when others then
      raise exception '% is out of range: % milliseconds', _parse_interval.what, _parse_interval.value::text
        using errcode = 'RF010';
    end;
  end if;
  if jsonb_typeof(_parse_interval.value) = 'string' then
    v_m := pg_catalog.regexp_match(_parse_interval.value #>> '{}',
      '^(\d+(?:\.\d+)?)\s*(ms|milliseconds?|s|secs?|seconds?|m|mins?|minutes?|h|hours?|d|days?)$');
    if v_m is not null then
      v_unit := case
        when v_m[2] in ('ms', 'millisecond', 'milliseconds') then '1 millisecond'
        when v_m[2] in ('s', 'sec', 'secs', 'second', 'seconds') then '1 second'
        when v_m[2] in ('m', 'min', 'mins', 'minute', 'minutes') then '1 minute'
        when v_m[2] in ('h', 'hour', 'hours') then '1 hour'
        else '1 day' end;
      begin
        return v_m[1]::numeric * v_unit::interval;
      exception when others then
        raise exception '% is out of range: %', _parse_interval.what, _parse_interval.value::text
          using errcode = 'RF010';
      end;
    end if;
  end if;
  raise exception '% must be a non-negative integer (milliseconds) or a string "<number> <unit>" with unit ms, s, m, h or d (e.g. "30 seconds"), got %',
    _parse_interval.what, left(_parse_interval.value::text, 200) using errcode = 'RF010';
end;
$_$;

--
-- Name: _purge_stale_attachments(); Type: FUNCTION; Schema: rowflow; Owner: -
--

CREATE FUNCTION rowflow._purge_stale_attachments() RETURNS void
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
declare
  v_row record;
begin
  for v_row in
    select a.id, a.function_name
    from rowflow.table_attachments as a
    where not exists (
      select 1 from pg_catalog.pg_trigger as t
      join pg_catalog.pg_proc as p on p.oid = t.tgfoid
      where t.tgrelid = a.relid and p.proname = a.function_name
        and p.pronamespace = 'rowflow'::regnamespace)
  loop
    execute pg_catalog.format('drop function if exists rowflow.%I()', v_row.function_name);
    delete from rowflow.table_attachments as a where a.id = v_row.id;
  end loop;
end;
$$;

--
-- Name: _queue_name(text, jsonpath, jsonb); Type: FUNCTION; Schema: rowflow; Owner: -
--

CREATE FUNCTION rowflow._queue_name(queue_name text, queue_key jsonpath, ctx jsonb) RETURNS text
    LANGUAGE sql IMMUTABLE
    SET search_path TO ''
    AS $$
  select case
    when _queue_name.queue_name is null then null
    when _queue_name.queue_key is null then _queue_name.queue_name
    else coalesce(
      _queue_name.queue_name || ':' || (
        select case when length(k) <= 64 then k else md5(k) end
        from (select jsonb_path_query_first(_queue_name.ctx, _queue_name.queue_key, '{}', true) #>> '{}' as k) as x),
      _queue_name.queue_name)
  end;
$$;

--
-- Name: _release_steps(rowflow.runs, text[], timestamp with time zone); Type: FUNCTION; Schema: rowflow; Owner: -
--

CREATE FUNCTION rowflow._release_steps(run rowflow.runs, satisfied text[], now timestamp with time zone, OUT queued text[], OUT skipped text[]) RETURNS record
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
#variable_conflict use_column
declare
  v_frontier text[] := _release_steps.satisfied;
  v_d record;
  v_ids bigint[];
begin
  queued := '{}';
  skipped := '{}';
  while cardinality(v_frontier) > 0 loop
    -- PHASE 1: the frontier's dependents, their counters after this release,
    -- and for those at zero the decision (condition, queue) over their deps.
    select
      coalesce(array_agg(x.name order by x.name), '{}') as names,
      array_agg(x.remaining order by x.name) as remaining,
      array_agg(x.existed order by x.name) as existed,
      array_agg(x.status order by x.name) as status,
      array_agg(x.attempts order by x.name) as attempts,
      array_agg(x.if_text order by x.name) as if_texts,
      coalesce(array_agg(x.name order by x.name) filter (where x.status = 'queued'), '{}') as q_names,
      coalesce(array_agg(row(_release_steps.run.id, x.name, 1, x.queue,
                   _release_steps.now + coalesce(x.delay, interval '0'),
                   x.priority + _release_steps.run.priority)::rowflow.step_job order by x.name)
                 filter (where x.status = 'queued'), '{}') as jobs
    into v_d
    from (
      select y.*,
        case when y.status = 'queued' then rowflow._queue_name(y.queue_name, y.queue_key, y.ctx) end as queue
      from (
        select ws.name, ws.attempts, ws.delay, ws.priority, ws.queue_name, ws.queue_key,
          ws.if_path::text as if_text, c.remaining, sr.step is not null as existed, c.ctx,
          case
            when c.remaining > 0 then 'pending'
            when ws.if_path is null then 'queued'
            when coalesce(jsonb_path_match(c.ctx, ws.if_path, '{}', true), false) then 'queued'
            else 'skipped'
          end as status
        from (
          select dep.name, count(*)::int as n
          from rowflow.workflow_steps as f
          cross join unnest(f.dependents) as dep(name)
          where f.workflow = _release_steps.run.workflow and f.version = _release_steps.run.version
            and f.name = any (v_frontier)
          group by dep.name
        ) as d
        join rowflow.workflow_steps as ws
          on ws.workflow = _release_steps.run.workflow and ws.version = _release_steps.run.version
         and ws.name = d.name
        left join rowflow.step_runs as sr on sr.run_id = _release_steps.run.id and sr.step = d.name
        cross join lateral (
          select coalesce(sr.deps_remaining, ws.n_deps) - d.n as remaining,
            case when coalesce(sr.deps_remaining, ws.n_deps) - d.n = 0
                      and (ws.if_path is not null or ws.queue_key is not null)
                 then jsonb_build_object('input', _release_steps.run.input,
                        'steps', rowflow._deps_outputs(_release_steps.run.id, ws.depends_on)) end as ctx
        ) as c
        -- A row that exists and is no longer pending was decided already.
        where sr.step is null or (sr.kind = 'step' and sr.status = 'pending')
      ) as y
    ) as x;

    -- PHASE 2: jobs for the queued ones, then their rows and events.
    v_ids := rowflow._add_step_jobs(v_d.jobs);
    with d as (
      select * from unnest(v_d.names, v_d.remaining, v_d.existed, v_d.status, v_d.attempts, v_d.if_texts)
        as d(name, remaining, existed, status, attempts, if_text)
    ), j as (
      select * from unnest(v_d.q_names, v_ids) as j(name, id)
    ), upd as (
      update rowflow.step_runs as sr
      set deps_remaining = d.remaining, status = d.status,
          attempt = case when d.status = 'queued' then 1 else 0 end,
          finished_at = case when d.status = 'skipped' then _release_steps.now end,
          job_id = j.id
      from d left join j on j.name = d.name
      where d.existed and sr.run_id = _release_steps.run.id and sr.step = d.name
    ), ins as (
      insert into rowflow.step_runs (run_id, step, kind, status, deps_remaining, attempt, max_attempts,
                                     created_at, finished_at, job_id)
      select _release_steps.run.id, d.name, 'step', d.status, d.remaining,
             case when d.status = 'queued' then 1 else 0 end, d.attempts,
             _release_steps.run.created_at, case when d.status = 'skipped' then _release_steps.now end, j.id
      from d left join j on j.name = d.name
      where not d.existed
      order by d.name
    )
    insert into rowflow.events (run_id, step, type, attempt, data, at)
    select _release_steps.run.id, d.name, 'step_' || d.status, case when d.status = 'queued' then 1 end,
           case when d.status = 'skipped' then jsonb_build_object('if', d.if_text) end, _release_steps.now
    from d where d.status <> 'pending'
    order by d.name;

    queued := queued || v_d.q_names;
    v_frontier := array(select n from unnest(v_d.names, v_d.status) as t(n, s) where s = 'skipped' order by n);
    skipped := skipped || v_frontier;
  end loop;
end;
$$;

--
-- Name: _resolve_table(text, text); Type: FUNCTION; Schema: rowflow; Owner: -
--

CREATE FUNCTION rowflow._resolve_table(table_name text, caller_search_path text) RETURNS oid
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
declare
  v_relid oid;
begin
  begin
    perform pg_catalog.set_config('search_path', _resolve_table.caller_search_path, true);
    v_relid := pg_catalog.to_regclass(_resolve_table.table_name);
  exception when others then
    v_relid := null; -- a malformed name (e.g. an unbalanced quote)
  end;
  perform pg_catalog.set_config('search_path', '', true);
  return v_relid;
end;
$$;

--
-- Name: _start_attached(integer, text, jsonb[], text[]); Type: FUNCTION; Schema: rowflow; Owner: -
--

CREATE FUNCTION rowflow._start_attached(attachment_id integer, workflow text, inputs jsonb[], keys text[]) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
#variable_conflict use_column
declare
  v_mode text := pg_catalog.current_setting('rowflow.mode', true);
  v_prio int;
  v_n int := coalesce(cardinality(_start_attached.inputs), 0);
  v_now timestamptz;
  v_wf record;
  v_id bigint;
  v_job bigint;
  v_new bigint;
  v_key text;
  v_ids bigint[];
  v_ranges text;
begin
  -- GUARD: the mode (000004's _attach_mode inline: unset/''/normal → run
  -- priority 0, backfill → 1000, suppress → nothing; anything else calls
  -- _attach_mode, which raises RF039), then nothing to do.
  if v_mode is null or v_mode = '' or v_mode = 'normal' then
    v_prio := 0;
  elsif v_mode = 'backfill' then
    v_prio := 1000;
  elsif v_mode = 'suppress' then
    return;
  else
    perform rowflow._attach_mode();
  end if;
  if v_n = 0 then
    return;
  end if;

  -- FAST PATH (000009): a one-row statement of a workflow whose one root
  -- step has no condition and no queue writes start_runs' rows with four
  -- single-row INSERTs. Anything else — several rows, several roots, a root
  -- with "if" or "queue", an input that is not a small JSON object, an
  -- unknown or paused workflow (start_runs raises RF020/RF021/RF022), a
  -- missing graphile task row — takes PHASE 1 below. test/sql/attach/
  -- fast-path.test.ts compares the rows of both paths.
  if v_n = 1 and coalesce(cardinality(_start_attached.keys), 1) = 1
     and pg_catalog.jsonb_typeof(_start_attached.inputs[1]) = 'object'
     and pg_catalog.pg_column_size(_start_attached.inputs[1]) <= 174762 then
    -- The workflow, its step count and its root step; min() over the one
    -- root row avoids the sorts of ordered aggregates.
    select w.name, w.latest_version as version, s.n, s.roots, s.root, s.attempts, s.delay, s.priority,
           s.plain, (select t.id from graphile_worker._private_tasks as t where t.identifier = 'rowflow:step') as task
    into v_wf
    from rowflow.workflows as w
    cross join lateral (
      select count(*)::int as n,
        count(*) filter (where ws.n_deps = 0) as roots,
        min(ws.name) filter (where ws.n_deps = 0) as root,
        min(ws.attempts) filter (where ws.n_deps = 0) as attempts,
        min(ws.delay) filter (where ws.n_deps = 0) as delay,
        min(ws.priority) filter (where ws.n_deps = 0) as priority,
        bool_and(ws.if_path is null and ws.queue_name is null) filter (where ws.n_deps = 0) as plain
      from rowflow.workflow_steps as ws
      where ws.workflow = w.name and ws.version = w.latest_version
    ) as s
    where w.name = _start_attached.workflow and not w.paused;
    if found and v_wf.roots = 1 and v_wf.plain and v_wf.task is not null then
      v_key := _start_attached.keys[1];
      v_now := pg_catalog.now();
      v_id := pg_catalog.nextval('rowflow.runs_id_seq'::regclass);
      if v_key is null then
        insert into rowflow.runs as r (id, workflow, version, status, input, idempotency_key, priority,
                                       steps_left, created_at, updated_at)
        values (v_id, v_wf.name, v_wf.version, 'running', _start_attached.inputs[1], null, v_prio,
                v_wf.n, v_now, v_now);
      else
        -- As start_runs: a key that already has a run (committed, or
        -- committed by the transaction we waited for) starts nothing, and
        -- that run is the statement's run.
        insert into rowflow.runs as r (id, workflow, version, status, input, idempotency_key, priority,
                                       steps_left, created_at, updated_at)
        values (v_id, v_wf.name, v_wf.version, 'running', _start_attached.inputs[1], v_key, v_prio,
                v_wf.n, v_now, v_now)
        on conflict (workflow, idempotency_key) where idempotency_key is not null do nothing
        returning r.id into v_new;
        if v_new is null then
          select r.id into v_id from rowflow.runs as r
          where r.workflow = v_wf.name and r.idempotency_key = v_key;
          v_ranges := pg_catalog.set_config('rowflow.pending_runs',
            coalesce(nullif(pg_catalog.current_setting('rowflow.pending_runs', true), '') || ',', '')
              || v_id || '-' || v_id,
            true);
          return;
        end if;
      end if;
      -- The root job (id from graphile's identity sequence, as start_runs'
      -- nextval), its step run, and the run_started event (step_queued is
      -- implied, 000006).
      insert into graphile_worker._private_jobs as jobs
        (job_queue_id, task_id, payload, run_at, max_attempts, priority)
      values (null, v_wf.task, pg_catalog.json_build_object('run', v_id, 'step', v_wf.root, 'attempt', 1),
              v_now + coalesce(v_wf.delay, interval '0'), 25,
              greatest(-32768, least(32767, v_wf.priority + v_prio)))
      returning jobs.id into v_job;
      insert into rowflow.step_runs (run_id, step, kind, status, deps_remaining, attempt, max_attempts,
                                     created_at, finished_at, job_id)
      values (v_id, v_wf.root, 'step', 'queued', 0, 1, v_wf.attempts, v_now, null, v_job);
      insert into rowflow.events (run_id, step, type, attempt, at)
      values (v_id, null, 'run_started', null, v_now);
      -- Wake-ups as start_runs sends them for one new run with one job.
      perform rowflow._wake('jobs:insert', '{"count":1}');
      perform rowflow._wake('rowflow', pg_catalog.jsonb_build_object('run', v_id)::text);
      v_ranges := pg_catalog.set_config('rowflow.pending_runs',
        coalesce(nullif(pg_catalog.current_setting('rowflow.pending_runs', true), '') || ',', '')
          || v_id || '-' || v_id,
        true);
      return;
    end if;
  end if;

  -- PHASE 1: one start_runs call for the whole statement.
  v_ids := array(select rowflow.start_runs(
    workflow => _start_attached.workflow,
    inputs => _start_attached.inputs,
    idempotency_keys => _start_attached.keys,
    priority => v_prio));

  -- PHASE 2: remember the ids for pending_runs() as ranges "lo-hi" of
  -- consecutive ids (as 000004; transaction-local, rolled back with a
  -- savepoint).
  if cardinality(v_ids) = 1 then
    v_ranges := v_ids[1] || '-' || v_ids[1];
  else
    select pg_catalog.string_agg(g.lo || '-' || g.hi, ',' order by g.lo) into v_ranges
    from (select min(t.id) as lo, max(t.id) as hi
          from (select x.id, x.id - row_number() over (order by x.id) as grp
                from unnest(v_ids) as x(id)) as t
          group by t.grp) as g;
  end if;
  perform pg_catalog.set_config('rowflow.pending_runs',
    coalesce(nullif(pg_catalog.current_setting('rowflow.pending_runs', true), '') || ',', '') || v_ranges,
    true);
end;
$$;

--
-- Name: FUNCTION _start_attached(attachment_id integer, workflow text, inputs jsonb[], keys text[]); Type: COMMENT; Schema: rowflow; Owner: -
--

COMMENT ON FUNCTION rowflow._start_attached(attachment_id integer, workflow text, inputs jsonb[], keys text[]) IS 'Internal: the one call a generated attachment trigger makes per statement (mode, start_runs or its one-row fast path (000009), pending_runs bookkeeping).';

--
-- Name: _step_run(rowflow.runs, text); Type: FUNCTION; Schema: rowflow; Owner: -
--

CREATE FUNCTION rowflow._step_run(run rowflow.runs, step text) RETURNS rowflow.step_runs
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
#variable_conflict use_column
declare
  v_sr rowflow.step_runs;
begin
  select sr.* into v_sr from rowflow.step_runs as sr
  where sr.run_id = (_step_run.run).id and sr.step = _step_run.step
  for no key update;
  if found or (_step_run.run).id is null then
    return v_sr;
  end if;
  select (_step_run.run).id, ws.name, 'step', 'pending', ws.n_deps, 0, ws.attempts, null, null, null,
         (_step_run.run).created_at, null, null, null
  into v_sr
  from rowflow.workflow_steps as ws
  where ws.workflow = (_step_run.run).workflow and ws.version = (_step_run.run).version
    and ws.name = _step_run.step;
  return v_sr;
end;
$$;

--
-- Name: _step_task_id(); Type: FUNCTION; Schema: rowflow; Owner: -
--

CREATE FUNCTION rowflow._step_task_id() RETURNS integer
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
declare
  v_id int;
begin
  select t.id into v_id from graphile_worker._private_tasks as t where t.identifier = 'rowflow:step';
  if v_id is null then
    insert into graphile_worker._private_tasks as t (identifier) values ('rowflow:step')
    on conflict do nothing
    returning t.id into v_id;
    if v_id is null then
      select t.id into v_id from graphile_worker._private_tasks as t where t.identifier = 'rowflow:step';
    end if;
  end if;
  return v_id;
end;
$$;

--
-- Name: _wake(text, text); Type: FUNCTION; Schema: rowflow; Owner: -
--

CREATE FUNCTION rowflow._wake(channel text, payload text) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
#variable_conflict use_column
declare
  v_flag text := case _wake.channel when 'rowflow' then 'rowflow.woke_rowflow' else 'rowflow.woke_jobs' end;
begin
  if coalesce(pg_catalog.current_setting(v_flag, true), '') <> ''
     or (_wake.channel = 'rowflow' and coalesce(pg_catalog.current_setting('rowflow.notified', true), '') <> '') then
    return;
  end if;
  if exists (select 1 from rowflow.waiters as w
             where w.channel = _wake.channel and w.until > pg_catalog.statement_timestamp()) then
    perform pg_catalog.pg_notify(_wake.channel, _wake.payload);
    perform pg_catalog.set_config(v_flag, 'true', true);
    if _wake.channel = 'rowflow' then
      perform pg_catalog.set_config('rowflow.notified', 'true', true);
    end if;
  else
    perform pg_catalog.set_config(v_flag, 'none', true);
  end if;
end;
$$;

--
-- Name: attach(regclass, text, text[], text, text, text); Type: FUNCTION; Schema: rowflow; Owner: -
--

CREATE FUNCTION rowflow.attach(table_name regclass, workflow text, events text[] DEFAULT '{insert}'::text[], "when" text DEFAULT NULL::text, input text DEFAULT NULL::text, idempotency_key text DEFAULT NULL::text) RETURNS integer
    LANGUAGE sql
    SET search_path TO ''
    AS $$
  select rowflow._attach(attach.table_name, attach.table_name::text, attach.workflow,
                         attach.events, attach."when", attach.input, attach.idempotency_key);
$$;

--
-- Name: FUNCTION attach(table_name regclass, workflow text, events text[], "when" text, input text, idempotency_key text); Type: COMMENT; Schema: rowflow; Owner: -
--

COMMENT ON FUNCTION rowflow.attach(table_name regclass, workflow text, events text[], "when" text, input text, idempotency_key text) IS 'Same as attach(text, …) for a regclass argument.';

--
-- Name: attach(text, text, text[], text, text, text, text); Type: FUNCTION; Schema: rowflow; Owner: -
--

CREATE FUNCTION rowflow.attach(table_name text, workflow text, events text[] DEFAULT '{insert}'::text[], "when" text DEFAULT NULL::text, input text DEFAULT NULL::text, idempotency_key text DEFAULT NULL::text, caller_search_path text DEFAULT current_setting('search_path'::text)) RETURNS integer
    LANGUAGE sql
    SET search_path TO ''
    AS $$
  select rowflow._attach(rowflow._resolve_table(attach.table_name, attach.caller_search_path),
                         attach.table_name, attach.workflow, attach.events, attach."when",
                         attach.input, attach.idempotency_key);
$$;

--
-- Name: FUNCTION attach(table_name text, workflow text, events text[], "when" text, input text, idempotency_key text, caller_search_path text); Type: COMMENT; Schema: rowflow; Owner: -
--

COMMENT ON FUNCTION rowflow.attach(table_name text, workflow text, events text[], "when" text, input text, idempotency_key text, caller_search_path text) IS 'Attaches a workflow to a table: row changes (events) for which "when" holds start a run with the given input (default: the row as JSON) in the same transaction. The table name resolves with the caller''s search_path. Returns the attachment id. RF020, RF030-RF036.';

--
-- Name: begin_step(bigint, text, integer, text, timestamp with time zone); Type: FUNCTION; Schema: rowflow; Owner: -
--

CREATE FUNCTION rowflow.begin_step(run_id bigint, step text, attempt integer, worker_id text DEFAULT NULL::text, now timestamp with time zone DEFAULT NULL::timestamp with time zone) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
#variable_conflict use_column
declare
  v_now timestamptz := coalesce(begin_step.now, pg_catalog.now());
  v_run rowflow.runs;
  v_sr rowflow.step_runs;
  v_ws rowflow.workflow_steps;
  v_refusal jsonb;
  v_task text;
  v_deps jsonb;
begin
  -- GUARD: lock order run → step; fence on attempt and status. A step that
  -- is already running with this attempt is a re-delivery after a crash.
  select r.* into v_run from rowflow.runs as r where r.id = begin_step.run_id for no key update;
  v_sr := rowflow._step_run(v_run, begin_step.step);
  v_refusal := rowflow._fence(v_run, v_sr, begin_step.attempt, array['queued', 'running']);
  if v_refusal is not null then
    return v_refusal;
  end if;

  -- PHASE 1: mark running.
  update rowflow.step_runs as sr set status = 'running', started_at = v_now
  where sr.run_id = v_sr.run_id and sr.step = v_sr.step;
  insert into rowflow.events (run_id, step, type, attempt, data, at)
  values (v_sr.run_id, v_sr.step, 'step_started', v_sr.attempt,
          nullif(jsonb_strip_nulls(jsonb_build_object('workerId', begin_step.worker_id,
            'redelivery', case when v_sr.status = 'running' then true end)), '{}'), v_now);

  -- PHASE 2: the handler's context (a running step's dependencies all have rows).
  if v_sr.kind = 'step' then
    select ws.* into v_ws from rowflow.workflow_steps as ws
    where ws.workflow = v_run.workflow and ws.version = v_run.version and ws.name = v_sr.step;
    v_task := v_ws.task;
    v_deps := rowflow._deps_outputs(v_sr.run_id, v_ws.depends_on);
  elsif v_sr.kind = 'compensation' then
    select ws.* into v_ws from rowflow.workflow_steps as ws
    where ws.workflow = v_run.workflow and ws.version = v_run.version
      and ws.name = substr(v_sr.step, length('compensate:') + 1);
    v_task := v_ws.compensate;
    v_deps := rowflow._deps_outputs(v_sr.run_id, array[v_ws.name]);
  else
    select wv.on_failure into v_task from rowflow.workflow_versions as wv
    where wv.workflow = v_run.workflow and wv.version = v_run.version;
    select coalesce(jsonb_object_agg(sr.step, sr.output), '{}') into v_deps
    from rowflow.step_runs as sr
    where sr.run_id = v_sr.run_id and sr.kind = 'step' and sr.status = 'succeeded';
  end if;
  perform rowflow._notify(jsonb_build_object('run', v_sr.run_id));

  return jsonb_build_object(
    'ok', true,
    'task', v_task,
    'workflow', v_run.workflow,
    'version', v_run.version,
    'input', v_run.input,
    'deps', v_deps,
    'attempt', v_sr.attempt,
    'maxAttempts', v_sr.max_attempts,
    'timeoutMs', (extract(epoch from v_ws.timeout) * 1000)::bigint,
    'idempotencyKey', 'rowflow:' || v_sr.run_id || ':' || v_sr.step,
    'kind', v_sr.kind,
    'runError', v_run.error);
end;
$$;

--
-- Name: FUNCTION begin_step(run_id bigint, step text, attempt integer, worker_id text, now timestamp with time zone); Type: COMMENT; Schema: rowflow; Owner: -
--

COMMENT ON FUNCTION rowflow.begin_step(run_id bigint, step text, attempt integer, worker_id text, now timestamp with time zone) IS 'Marks a queued step attempt running and returns the handler context, or {"ok": false, "reason"} for a stale/duplicate job.';

--
-- Name: cancel_run(bigint, text, timestamp with time zone); Type: FUNCTION; Schema: rowflow; Owner: -
--

CREATE FUNCTION rowflow.cancel_run(run_id bigint, reason text DEFAULT NULL::text, now timestamp with time zone DEFAULT NULL::timestamp with time zone) RETURNS boolean
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
#variable_conflict use_column
declare
  v_now timestamptz := coalesce(cancel_run.now, pg_catalog.now());
  v_run rowflow.runs;
begin
  -- GUARD: lock the run; only an active run can be cancelled.
  select r.* into v_run from rowflow.runs as r where r.id = cancel_run.run_id for no key update;
  if not found then
    raise exception 'unknown run %', cancel_run.run_id using errcode = 'RF023';
  end if;
  if v_run.status not in ('running', 'compensating') then
    return false;
  end if;
  -- PHASE 1: cancel every unfinished step run (a compensation chain too) and
  -- remove the queued jobs; then the run.
  perform rowflow._cancel_steps(v_run.id, array['step', 'compensation', 'on_failure'],
                                coalesce(cancel_run.reason, 'run cancelled'), v_now);
  update rowflow.runs as r
  set status = 'cancelled', steps_left = 0, updated_at = v_now, finished_at = v_now
  where r.id = v_run.id;
  insert into rowflow.events (run_id, type, data, at)
  values (v_run.id, 'run_cancelled', jsonb_build_object('reason', cancel_run.reason, 'from', v_run.status), v_now);
  perform rowflow._notify(jsonb_build_object('run', v_run.id));
  return true;
end;
$$;

--
-- Name: FUNCTION cancel_run(run_id bigint, reason text, now timestamp with time zone); Type: COMMENT; Schema: rowflow; Owner: -
--

COMMENT ON FUNCTION rowflow.cancel_run(run_id bigint, reason text, now timestamp with time zone) IS 'Cancels an active run: unfinished step runs cancelled, their queued jobs removed. False if the run already ended; RF023 if unknown.';

--
-- Name: complete_step(bigint, text, integer, jsonb, timestamp with time zone); Type: FUNCTION; Schema: rowflow; Owner: -
--

CREATE FUNCTION rowflow.complete_step(run_id bigint, step text, attempt integer, output jsonb DEFAULT NULL::jsonb, now timestamp with time zone DEFAULT NULL::timestamp with time zone) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
#variable_conflict use_column
declare
  v_now timestamptz := coalesce(complete_step.now, pg_catalog.now());
  v_run rowflow.runs;
  v_sr rowflow.step_runs;
  v_refusal jsonb;
  v_rel record;
  v_next text;
  v_released text[] := '{}';
  v_skipped text[] := '{}';
  v_left int;
  v_status text;
begin
  -- GUARD: lock order run → step; only the running attempt may complete.
  select r.* into v_run from rowflow.runs as r where r.id = complete_step.run_id for no key update;
  v_sr := rowflow._step_run(v_run, complete_step.step);
  v_refusal := rowflow._fence(v_run, v_sr, complete_step.attempt, array['running']);
  if v_refusal is not null then
    return v_refusal;
  end if;

  -- PHASE 1: the step succeeded.
  update rowflow.step_runs as sr
  set status = 'succeeded', output = complete_step.output, finished_at = v_now
  where sr.run_id = v_sr.run_id and sr.step = v_sr.step;
  insert into rowflow.events (run_id, step, type, attempt, at)
  values (v_sr.run_id, v_sr.step, 'step_succeeded', v_sr.attempt, v_now);
  v_left := v_run.steps_left - 1;

  -- PHASE 2: release dependents (or the next link of the compensation
  -- chain); their jobs go in through _add_step_jobs (which wakes workers).
  if v_sr.kind = 'step' then
    select * into v_rel from rowflow._release_steps(v_run, array[v_sr.step], v_now);
    v_released := v_rel.queued;
    v_skipped := v_rel.skipped;
    v_left := v_left - cardinality(v_rel.skipped);
  else
    v_next := rowflow._advance_chain_step(v_run, v_now);
    if v_next is not null then
      v_released := array[v_next];
    end if;
  end if;

  -- PHASE 3: finish the run when nothing is left.
  v_status := rowflow._finish_run(v_run.id, v_run.status, v_left, v_run.error, v_now);
  perform rowflow._notify(jsonb_build_object('run', v_run.id));
  return jsonb_build_object('ok', true, 'released', to_jsonb(v_released), 'skipped', to_jsonb(v_skipped),
                            'runStatus', v_status);
end;
$$;

--
-- Name: FUNCTION complete_step(run_id bigint, step text, attempt integer, output jsonb, now timestamp with time zone); Type: COMMENT; Schema: rowflow; Owner: -
--

COMMENT ON FUNCTION rowflow.complete_step(run_id bigint, step text, attempt integer, output jsonb, now timestamp with time zone) IS 'Records the running attempt''s output and releases dependents whose counters reach zero (exactly once). Stale/duplicate calls return {"ok": false, "reason"}.';

--
-- Name: define_workflow(text, jsonb); Type: FUNCTION; Schema: rowflow; Owner: -
--

CREATE FUNCTION rowflow.define_workflow(name text, spec jsonb) RETURNS integer
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $_$
#variable_conflict use_column
declare
  c_name_re constant text := '^[a-z][a-z0-9_-]{0,62}$';
  c_task_re constant text := '^[A-Za-z][A-Za-z0-9_.:-]{0,127}$';
  c_queue_re constant text := '^[A-Za-z0-9_.-]{1,63}$';
  v_key text;
  v_step jsonb;
  v_ord int;
  v_sname text;
  v_where text;
  v_val jsonb;
  v_names text[] := '{}';
  v_norm jsonb := '[]';
  v_deps text[];
  v_dep text;
  v_backoff jsonb;
  v_btype text;
  v_bbase interval;
  v_bmax interval;
  v_bjitter double precision;
  v_queue jsonb;
  v_qname text;
  v_qkey text;
  v_done text[] := '{}';
  v_next text[];
  v_path text[];
  v_cur text;
  v_pos int;
  v_cycle text[];
  v_latest int;
  v_latest_spec jsonb;
  v_version int;
begin
  -- GUARD: the name and the top-level shape.
  if define_workflow.name is null or define_workflow.name !~ c_name_re then
    raise exception 'invalid workflow name %: use 1-63 characters a-z, 0-9, "_" or "-", starting with a lowercase letter',
      coalesce(to_jsonb(left(define_workflow.name, 100))::text, 'null') using errcode = 'RF004';
  end if;
  if jsonb_typeof(define_workflow.spec) is distinct from 'object' then
    raise exception 'workflow "%": the spec must be a JSON object, got %', define_workflow.name,
      coalesce(jsonb_typeof(define_workflow.spec), 'null') using errcode = 'RF001';
  end if;
  for v_key in select k from jsonb_object_keys(define_workflow.spec) as k order by k loop
    if v_key not in ('name', 'description', 'onFailure', 'steps') then
      raise exception 'workflow "%": unknown option %; allowed: name, description, onFailure, steps',
        define_workflow.name, to_jsonb(left(v_key, 100))::text using errcode = 'RF002';
    end if;
  end loop;
  if define_workflow.spec ? 'name' and define_workflow.spec -> 'name' is distinct from to_jsonb(define_workflow.name) then
    raise exception 'workflow "%": spec.name is %, which differs from the name argument; remove it or make them equal',
      define_workflow.name, left((define_workflow.spec -> 'name')::text, 100) using errcode = 'RF001';
  end if;
  if define_workflow.spec ? 'description' and jsonb_typeof(define_workflow.spec -> 'description') <> 'string' then
    raise exception 'workflow "%": description must be a string', define_workflow.name using errcode = 'RF001';
  end if;
  if define_workflow.spec ? 'onFailure' then
    if jsonb_typeof(define_workflow.spec -> 'onFailure') <> 'string' then
      raise exception 'workflow "%": onFailure must be a task name (string)', define_workflow.name using errcode = 'RF001';
    end if;
    if (define_workflow.spec ->> 'onFailure') !~ c_task_re then
      raise exception 'workflow "%": invalid onFailure task name %: use 1-128 characters A-Z, a-z, 0-9, "_", ".", ":" or "-", starting with a letter',
        define_workflow.name, left((define_workflow.spec -> 'onFailure')::text, 140) using errcode = 'RF004';
    end if;
  end if;
  if jsonb_typeof(define_workflow.spec -> 'steps') is distinct from 'array' then
    raise exception 'workflow "%": steps must be an array of step objects', define_workflow.name using errcode = 'RF001';
  end if;
  if jsonb_array_length(define_workflow.spec -> 'steps') = 0 then
    raise exception 'workflow "%" has no steps; add at least one step', define_workflow.name using errcode = 'RF003';
  end if;
  if jsonb_array_length(define_workflow.spec -> 'steps') > 1000 then
    raise exception 'workflow "%" has % steps; at most 1000 are allowed', define_workflow.name,
      jsonb_array_length(define_workflow.spec -> 'steps') using errcode = 'RF001';
  end if;

  -- PHASE 1: each step on its own: shape, names, options, intervals, paths.
  for v_step, v_ord in select e, o - 1 from jsonb_array_elements(define_workflow.spec -> 'steps') with ordinality as t(e, o) loop
    v_where := format('workflow "%s", steps[%s]', define_workflow.name, v_ord);
    if jsonb_typeof(v_step) <> 'object' then
      raise exception '%: a step must be an object', v_where using errcode = 'RF001';
    end if;
    if jsonb_typeof(v_step -> 'name') is distinct from 'string' then
      raise exception '%: "name" is required and must be a string', v_where using errcode = 'RF001';
    end if;
    v_sname := v_step ->> 'name';
    if v_sname !~ c_name_re then
      raise exception '%: invalid step name %: use 1-63 characters a-z, 0-9, "_" or "-", starting with a lowercase letter',
        v_where, to_jsonb(left(v_sname, 100))::text using errcode = 'RF004';
    end if;
    v_where := format('workflow "%s", step "%s"', define_workflow.name, v_sname);
    for v_key in select k from jsonb_object_keys(v_step) as k order by k loop
      if v_key not in ('name', 'task', 'dependsOn', 'attempts', 'backoff', 'timeout', 'priority',
                       'queue', 'delay', 'if', 'compensate') then
        raise exception '%: unknown option %; allowed: name, task, dependsOn, attempts, backoff, timeout, priority, queue, delay, if, compensate',
          v_where, to_jsonb(left(v_key, 100))::text using errcode = 'RF002';
      end if;
    end loop;
    if v_sname = any (v_names) then
      raise exception 'workflow "%": duplicate step name "%"; step names must be unique', define_workflow.name, v_sname
        using errcode = 'RF005';
    end if;
    v_names := v_names || v_sname;

    if jsonb_typeof(v_step -> 'task') is distinct from 'string' then
      raise exception '%: "task" is required and must be a string', v_where using errcode = 'RF001';
    end if;
    if (v_step ->> 'task') !~ c_task_re then
      raise exception '%: invalid task name %: use 1-128 characters A-Z, a-z, 0-9, "_", ".", ":" or "-", starting with a letter',
        v_where, left((v_step -> 'task')::text, 140) using errcode = 'RF004';
    end if;
    if v_step ? 'compensate' then
      if jsonb_typeof(v_step -> 'compensate') <> 'string' then
        raise exception '%: "compensate" must be a task name (string)', v_where using errcode = 'RF001';
      end if;
      if (v_step ->> 'compensate') !~ c_task_re then
        raise exception '%: invalid compensate task name %: use 1-128 characters A-Z, a-z, 0-9, "_", ".", ":" or "-", starting with a letter',
          v_where, left((v_step -> 'compensate')::text, 140) using errcode = 'RF004';
      end if;
    end if;

    v_deps := '{}';
    if v_step ? 'dependsOn' then
      if jsonb_typeof(v_step -> 'dependsOn') <> 'array' then
        raise exception '%: "dependsOn" must be an array of step names', v_where using errcode = 'RF001';
      end if;
      for v_val in select e from jsonb_array_elements(v_step -> 'dependsOn') as e loop
        if jsonb_typeof(v_val) <> 'string' then
          raise exception '%: "dependsOn" must contain step names (strings), got %', v_where, left(v_val::text, 100)
            using errcode = 'RF001';
        end if;
        v_dep := v_val #>> '{}';
        if v_dep = v_sname then
          raise exception '%: a step cannot depend on itself; remove "%" from its dependsOn', v_where, v_sname
            using errcode = 'RF007';
        end if;
        if v_dep = any (v_deps) then
          raise exception '%: "dependsOn" lists "%" more than once', v_where, v_dep using errcode = 'RF001';
        end if;
        v_deps := v_deps || v_dep;
      end loop;
    end if;

    v_val := v_step -> 'attempts';
    if v_val is not null and (jsonb_typeof(v_val) <> 'number' or v_val::text !~ '^\d+$'
                              or v_val::text::numeric not between 1 and 1000) then
      raise exception '%: "attempts" must be an integer from 1 to 1000, got %', v_where, left(v_val::text, 100)
        using errcode = 'RF001';
    end if;
    v_val := v_step -> 'priority';
    if v_val is not null and (jsonb_typeof(v_val) <> 'number' or v_val::text !~ '^-?\d+$'
                              or v_val::text::numeric not between -1000 and 1000) then
      raise exception '%: "priority" must be an integer from -1000 to 1000, got %', v_where, left(v_val::text, 100)
        using errcode = 'RF001';
    end if;

    -- Backoff: default exponential, base 1s, max 5min, jitter 0.2.
    v_backoff := coalesce(v_step -> 'backoff', '{}');
    if jsonb_typeof(v_backoff) <> 'object' then
      raise exception '%: "backoff" must be an object like {"type": "exponential", "base": "1 second"}', v_where
        using errcode = 'RF001';
    end if;
    for v_key in select k from jsonb_object_keys(v_backoff) as k order by k loop
      if v_key not in ('type', 'base', 'max', 'jitter') then
        raise exception '%: unknown backoff option %; allowed: type, base, max, jitter', v_where,
          to_jsonb(left(v_key, 100))::text using errcode = 'RF002';
      end if;
    end loop;
    v_btype := coalesce(v_backoff ->> 'type', 'exponential');
    if v_backoff ? 'type' and (jsonb_typeof(v_backoff -> 'type') <> 'string' or v_btype not in ('fixed', 'exponential')) then
      raise exception '%: backoff.type must be "fixed" or "exponential", got %', v_where,
        left((v_backoff -> 'type')::text, 100) using errcode = 'RF001';
    end if;
    v_bbase := case when v_backoff ? 'base'
      then rowflow._parse_interval(v_backoff -> 'base', v_where || ': backoff.base') else interval '1 second' end;
    v_bmax := case when v_backoff ? 'max'
      then rowflow._parse_interval(v_backoff -> 'max', v_where || ': backoff.max') else greatest(interval '5 minutes', v_bbase) end;
    if v_bmax < v_bbase then
      raise exception '%: backoff.max (%) is less than backoff.base (%)', v_where, v_bmax, v_bbase using errcode = 'RF010';
    end if;
    v_val := v_backoff -> 'jitter';
    if v_val is not null and (jsonb_typeof(v_val) <> 'number' or v_val::text::numeric not between 0 and 1) then
      raise exception '%: backoff.jitter must be a number from 0 to 1, got %', v_where, left(v_val::text, 100)
        using errcode = 'RF001';
    end if;
    v_bjitter := coalesce(v_val::text::double precision, 0.2);

    if v_step ? 'timeout' and rowflow._parse_interval(v_step -> 'timeout', v_where || ': timeout') <= interval '0' then
      raise exception '%: timeout must be greater than zero', v_where using errcode = 'RF010';
    end if;
    if v_step ? 'delay' then
      perform rowflow._parse_interval(v_step -> 'delay', v_where || ': delay');
    end if;
    if v_step ? 'if' then
      perform rowflow._compile_path(v_step -> 'if', v_where || ': if');
    end if;

    -- Queue: "name" or {"name": …, "key": "<path>"}.
    v_queue := v_step -> 'queue';
    v_qname := null;
    v_qkey := null;
    if v_queue is not null then
      if jsonb_typeof(v_queue) = 'string' then
        v_qname := v_queue #>> '{}';
      elsif jsonb_typeof(v_queue) = 'object' then
        for v_key in select k from jsonb_object_keys(v_queue) as k order by k loop
          if v_key not in ('name', 'key') then
            raise exception '%: unknown queue option %; allowed: name, key', v_where, to_jsonb(left(v_key, 100))::text
              using errcode = 'RF002';
          end if;
        end loop;
        if jsonb_typeof(v_queue -> 'name') is distinct from 'string' then
          raise exception '%: queue.name is required and must be a string', v_where using errcode = 'RF001';
        end if;
        v_qname := v_queue ->> 'name';
        if v_queue ? 'key' then
          v_qkey := rowflow._compile_path(v_queue -> 'key', v_where || ': queue.key')::text;
        end if;
      else
        raise exception '%: "queue" must be a queue name or {"name": …, "key": "<path>"}', v_where using errcode = 'RF001';
      end if;
      if v_qname !~ c_queue_re then
        raise exception '%: invalid queue name %: use 1-63 characters A-Z, a-z, 0-9, "_", "." or "-"', v_where,
          to_jsonb(left(v_qname, 100))::text using errcode = 'RF004';
      end if;
    end if;

    v_norm := v_norm || jsonb_build_object(
      'idx', v_ord, 'name', v_sname, 'task', v_step ->> 'task', 'depends_on', to_jsonb(v_deps),
      'attempts', coalesce((v_step ->> 'attempts')::int, 3),
      'backoff_type', v_btype, 'backoff_base', v_bbase::text, 'backoff_max', v_bmax::text,
      'backoff_jitter', v_bjitter,
      'timeout', rowflow._parse_interval(v_step -> 'timeout', v_where || ': timeout')::text,
      'priority', coalesce((v_step ->> 'priority')::int, 0),
      'queue_name', v_qname, 'queue_key', v_qkey,
      'delay', rowflow._parse_interval(v_step -> 'delay', v_where || ': delay')::text,
      'if_path', case when v_step ? 'if' then rowflow._compile_path(v_step -> 'if', v_where || ': if')::text end,
      'compensate', v_step ->> 'compensate');
  end loop;

  -- PHASE 2: the graph: unknown dependencies, then cycles.
  select format('workflow "%s", step "%s": unknown dependency "%s"; known steps: %s',
                define_workflow.name, s ->> 'name', d, array_to_string(v_names, ', '))
  into v_where
  from jsonb_array_elements(v_norm) as s, jsonb_array_elements_text(s -> 'depends_on') as d
  where d <> all (v_names)
  order by (s ->> 'idx')::int
  limit 1;
  if found then
    raise exception '%', v_where using errcode = 'RF006';
  end if;

  -- Kahn: repeatedly take the steps whose dependencies are all done.
  loop
    v_next := array(
      select s ->> 'name' from jsonb_array_elements(v_norm) as s
      where (s ->> 'name') <> all (v_done)
        and not exists (select 1 from jsonb_array_elements_text(s -> 'depends_on') as d where d <> all (v_done)));
    exit when cardinality(v_next) = 0;
    v_done := v_done || v_next;
  end loop;
  if cardinality(v_done) < cardinality(v_names) then
    -- Walk "depends on" edges inside the blocked set from its first step
    -- (spec order) until a step repeats; that stretch is a cycle.
    select s ->> 'name' into v_cur from jsonb_array_elements(v_norm) as s
    where (s ->> 'name') <> all (v_done) order by (s ->> 'idx')::int limit 1;
    v_path := array[v_cur];
    loop
      select d into v_cur
      from jsonb_array_elements(v_norm) as s, jsonb_array_elements_text(s -> 'depends_on') with ordinality as x(d, o)
      where s ->> 'name' = v_cur and d <> all (v_done)
      order by o limit 1;
      v_pos := array_position(v_path, v_cur);
      exit when v_pos is not null;
      v_path := v_path || v_cur;
    end loop;
    -- v_path[i] depends on v_path[i+1]; print in execution order.
    v_cycle := array[v_path[v_pos]];
    for i in reverse cardinality(v_path)..v_pos loop
      v_cycle := v_cycle || v_path[i];
    end loop;
    raise exception 'workflow "%": dependency cycle %; ("x -> y" means y depends on x) remove one of these dependsOn entries',
      define_workflow.name, array_to_string(v_cycle, ' -> ') using errcode = 'RF008';
  end if;

  -- PHASE 3: store: same spec as the latest version → that version, else a new one.
  insert into rowflow.workflows as w (name, latest_version)
  values (define_workflow.name, 1)
  on conflict do nothing;
  if found then
    v_version := 1;
  else
    select w.latest_version into v_latest from rowflow.workflows as w
    where w.name = define_workflow.name for update;
    select wv.spec into v_latest_spec from rowflow.workflow_versions as wv
    where wv.workflow = define_workflow.name and wv.version = v_latest;
    if v_latest_spec = define_workflow.spec then
      return v_latest;
    end if;
    v_version := v_latest + 1;
    update rowflow.workflows as w set latest_version = v_version, updated_at = now()
    where w.name = define_workflow.name;
  end if;

  insert into rowflow.workflow_versions (workflow, version, spec, spec_hash, on_failure, step_count)
  values (define_workflow.name, v_version, define_workflow.spec, md5(define_workflow.spec::text),
          define_workflow.spec ->> 'onFailure', cardinality(v_names));

  insert into rowflow.workflow_steps (workflow, version, idx, name, task, depends_on, dependents, n_deps,
    attempts, backoff_type, backoff_base, backoff_max, backoff_jitter, timeout, priority,
    queue_name, queue_key, delay, if_path, compensate)
  select define_workflow.name, v_version, (s ->> 'idx')::smallint, s ->> 'name', s ->> 'task',
    array(select jsonb_array_elements_text(s -> 'depends_on')),
    array(select o ->> 'name' from jsonb_array_elements(v_norm) as o
          where o -> 'depends_on' ? (s ->> 'name') order by o ->> 'name' collate "C"),
    jsonb_array_length(s -> 'depends_on'),
    (s ->> 'attempts')::smallint, s ->> 'backoff_type', (s ->> 'backoff_base')::interval,
    (s ->> 'backoff_max')::interval, (s ->> 'backoff_jitter')::double precision,
    (s ->> 'timeout')::interval, (s ->> 'priority')::smallint, s ->> 'queue_name',
    (s ->> 'queue_key')::jsonpath, (s ->> 'delay')::interval, (s ->> 'if_path')::jsonpath, s ->> 'compensate'
  from jsonb_array_elements(v_norm) as s;

  return v_version;
end;
$_$;

--
-- Name: FUNCTION define_workflow(name text, spec jsonb); Type: COMMENT; Schema: rowflow; Owner: -
--

COMMENT ON FUNCTION rowflow.define_workflow(name text, spec jsonb) IS 'Validates and stores a workflow spec (RF001-RF010 on rejection). Returns the version: the latest one if the spec is identical to it, else a new one.';

--
-- Name: detach(regclass, text); Type: FUNCTION; Schema: rowflow; Owner: -
--

CREATE FUNCTION rowflow.detach(table_name regclass, workflow text) RETURNS integer
    LANGUAGE sql
    SET search_path TO ''
    AS $$
  select rowflow._detach(detach.table_name, detach.table_name::text, detach.workflow);
$$;

--
-- Name: FUNCTION detach(table_name regclass, workflow text); Type: COMMENT; Schema: rowflow; Owner: -
--

COMMENT ON FUNCTION rowflow.detach(table_name regclass, workflow text) IS 'Same as detach(text, text) for a regclass argument.';

--
-- Name: detach(text, text, text); Type: FUNCTION; Schema: rowflow; Owner: -
--

CREATE FUNCTION rowflow.detach(table_name text, workflow text, caller_search_path text DEFAULT current_setting('search_path'::text)) RETURNS integer
    LANGUAGE sql
    SET search_path TO ''
    AS $$
  select rowflow._detach(rowflow._resolve_table(detach.table_name, detach.caller_search_path),
                         detach.table_name, detach.workflow);
$$;

--
-- Name: FUNCTION detach(table_name text, workflow text, caller_search_path text); Type: COMMENT; Schema: rowflow; Owner: -
--

COMMENT ON FUNCTION rowflow.detach(table_name text, workflow text, caller_search_path text) IS 'Removes every attachment of workflow on the table (triggers and function); started runs are left alone. Returns how many. RF030, RF031, RF036, RF037.';

--
-- Name: fail_step(bigint, text, integer, jsonb, boolean, timestamp with time zone, timestamp with time zone); Type: FUNCTION; Schema: rowflow; Owner: -
--

CREATE FUNCTION rowflow.fail_step(run_id bigint, step text, attempt integer, error jsonb, retryable boolean DEFAULT true, retry_at timestamp with time zone DEFAULT NULL::timestamp with time zone, now timestamp with time zone DEFAULT NULL::timestamp with time zone) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
#variable_conflict use_column
declare
  v_now timestamptz := coalesce(fail_step.now, pg_catalog.now());
  v_run rowflow.runs;
  v_sr rowflow.step_runs;
  v_ws rowflow.workflow_steps;
  v_refusal jsonb;
  v_delay interval;
  v_retry_at timestamptz;
  v_ids bigint[];
  v_left int;
  v_status text;
  v_error jsonb;
  v_chain int := 0;
begin
  -- GUARD: lock order run → step; only the running attempt may fail.
  select r.* into v_run from rowflow.runs as r where r.id = fail_step.run_id for no key update;
  v_sr := rowflow._step_run(v_run, fail_step.step);
  v_refusal := rowflow._fence(v_run, v_sr, fail_step.attempt, array['running']);
  if v_refusal is not null then
    return v_refusal;
  end if;
  -- The retry policy: the step's own; a compensation uses the policy of the
  -- step it undoes; on-failure uses the defaults.
  select ws.* into v_ws from rowflow.workflow_steps as ws
  where ws.workflow = v_run.workflow and ws.version = v_run.version
    and ws.name = case v_sr.kind when 'step' then v_sr.step
                                 when 'compensation' then substr(v_sr.step, length('compensate:') + 1) end;

  -- PHASE 1: another attempt, if allowed (a new job; the failing attempt's
  -- locked job is a different row, left to its worker).
  if coalesce(fail_step.retryable, true) and v_sr.attempt < v_sr.max_attempts then
    v_delay := case coalesce(v_ws.backoff_type, 'exponential')
      when 'fixed' then coalesce(v_ws.backoff_base, interval '1 second')
      else least(coalesce(v_ws.backoff_base, interval '1 second') * power(2, least(v_sr.attempt - 1, 40)),
                 coalesce(v_ws.backoff_max, interval '5 minutes'))
    end;
    -- jitter j spreads the delay uniformly over [d·(1-j), d·(1+j)], capped at max.
    v_delay := least(v_delay * (1 - coalesce(v_ws.backoff_jitter, 0.2) * (2 * random() - 1)),
                     greatest(coalesce(v_ws.backoff_max, interval '5 minutes'), v_delay));
    v_retry_at := coalesce(fail_step.retry_at, v_now + v_delay);
    v_ids := rowflow._add_step_jobs(array[row(v_sr.run_id, v_sr.step, v_sr.attempt + 1,
      rowflow._queue_name(v_ws.queue_name, v_ws.queue_key, jsonb_build_object('input', v_run.input,
        'steps', case when v_sr.kind = 'step' then rowflow._deps_outputs(v_sr.run_id, v_ws.depends_on) else '{}' end)),
      v_retry_at, coalesce(v_ws.priority, 0) + v_run.priority)::rowflow.step_job]);
    update rowflow.step_runs as sr
    set status = 'queued', attempt = sr.attempt + 1, error = fail_step.error, job_id = v_ids[1]
    where sr.run_id = v_sr.run_id and sr.step = v_sr.step;
    insert into rowflow.events (run_id, step, type, attempt, data, at)
    values (v_sr.run_id, v_sr.step, 'step_retrying', v_sr.attempt,
            jsonb_build_object('error', fail_step.error, 'retryAt', v_retry_at, 'nextAttempt', v_sr.attempt + 1), v_now);
    update rowflow.runs as r set updated_at = v_now where r.id = v_run.id;
    perform rowflow._notify(jsonb_build_object('run', v_run.id));
    return jsonb_build_object('ok', true, 'outcome', 'retrying', 'retryAt', v_retry_at,
                              'nextAttempt', v_sr.attempt + 1, 'runStatus', v_run.status);
  end if;

  -- PHASE 2: the step failed for good.
  update rowflow.step_runs as sr
  set status = 'failed', error = fail_step.error, finished_at = v_now
  where sr.run_id = v_sr.run_id and sr.step = v_sr.step;
  insert into rowflow.events (run_id, step, type, attempt, data, at)
  values (v_sr.run_id, v_sr.step, 'step_failed', v_sr.attempt,
          jsonb_build_object('error', fail_step.error, 'retryable', coalesce(fail_step.retryable, true)), v_now);
  v_left := v_run.steps_left - 1;
  v_status := v_run.status;
  v_error := v_run.error;

  if v_sr.kind = 'step' then
    -- PHASE 3: the run fails: cancel the other steps (those without a row
    -- too), then build the compensation chain (reverse completion order),
    -- on-failure last.
    v_left := v_left - rowflow._cancel_steps(v_run.id, array['step'], 'run failed', v_now);
    v_error := jsonb_build_object('step', v_sr.step, 'attempt', v_sr.attempt, 'error', fail_step.error);
    with comp as (
      select sr.step, ws.attempts,
        (select max(e.id) from rowflow.events as e
         where e.run_id = sr.run_id and e.step = sr.step and e.type = 'step_succeeded') as done_id
      from rowflow.step_runs as sr
      join rowflow.workflow_steps as ws
        on ws.workflow = v_run.workflow and ws.version = v_run.version and ws.name = sr.step
      where sr.run_id = v_run.id and sr.kind = 'step' and sr.status = 'succeeded' and ws.compensate is not null
    ), chain as (
      select 'compensate:' || c.step as step, 'compensation' as kind, c.attempts,
             row_number() over (order by c.done_id desc) as seq
      from comp as c
      union all
      select 'on-failure', 'on_failure', 3, (select count(*) from comp) + 1
      from rowflow.workflow_versions as wv
      where wv.workflow = v_run.workflow and wv.version = v_run.version and wv.on_failure is not null
    ), ins as (
      insert into rowflow.step_runs (run_id, step, kind, status, deps_remaining, attempt, max_attempts, seq, created_at)
      select v_run.id, ch.step, ch.kind, 'pending', 1, 0, ch.attempts, ch.seq, v_now
      from chain as ch order by ch.seq
      returning 1
    )
    select count(*) into v_chain from ins;
    if v_chain > 0 then
      v_left := v_left + v_chain;
      v_status := 'compensating';
      insert into rowflow.events (run_id, type, data, at)
      values (v_run.id, 'run_compensating', v_error, v_now);
    else
      v_status := 'failed';
      insert into rowflow.events (run_id, type, data, at)
      values (v_run.id, 'run_failed', v_error, v_now);
    end if;
    -- runs.status must be written before the chain helpers read it.
    update rowflow.runs as r set status = v_status, error = v_error, steps_left = v_left, updated_at = v_now,
      finished_at = case when v_status = 'failed' then v_now end
    where r.id = v_run.id;
  end if;

  -- PHASE 4: next link of the chain (first one, or the one after this failed
  -- compensation: the chain continues past a failed link), then finish.
  if v_status = 'compensating' then
    perform rowflow._advance_chain_step(v_run, v_now);
    v_status := rowflow._finish_run(v_run.id, v_status, v_left, v_error, v_now);
  end if;
  perform rowflow._notify(jsonb_build_object('run', v_run.id));
  return jsonb_build_object('ok', true, 'outcome', 'failed', 'runStatus', v_status);
end;
$$;

--
-- Name: FUNCTION fail_step(run_id bigint, step text, attempt integer, error jsonb, retryable boolean, retry_at timestamp with time zone, now timestamp with time zone); Type: COMMENT; Schema: rowflow; Owner: -
--

COMMENT ON FUNCTION rowflow.fail_step(run_id bigint, step text, attempt integer, error jsonb, retryable boolean, retry_at timestamp with time zone, now timestamp with time zone) IS 'Fails the running attempt: retry with backoff (or at retry_at) while attempts remain, else the step fails and the run fails/compensates.';

--
-- Name: heartbeat_worker(text, timestamp with time zone); Type: FUNCTION; Schema: rowflow; Owner: -
--

CREATE FUNCTION rowflow.heartbeat_worker(id text, now timestamp with time zone DEFAULT NULL::timestamp with time zone) RETURNS boolean
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
begin
  update rowflow.workers as w
  set heartbeat_at = greatest(w.started_at, coalesce(heartbeat_worker.now, now()))
  where w.id = heartbeat_worker.id;
  return found;
end;
$$;

--
-- Name: FUNCTION heartbeat_worker(id text, now timestamp with time zone); Type: COMMENT; Schema: rowflow; Owner: -
--

COMMENT ON FUNCTION rowflow.heartbeat_worker(id text, now timestamp with time zone) IS 'Records a heartbeat; false when the worker row no longer exists.';

--
-- Name: mark_waiting(text, text, interval, timestamp with time zone); Type: FUNCTION; Schema: rowflow; Owner: -
--

CREATE FUNCTION rowflow.mark_waiting(id text, channel text DEFAULT 'jobs:insert'::text, ttl interval DEFAULT '00:01:00'::interval, now timestamp with time zone DEFAULT NULL::timestamp with time zone) RETURNS void
    LANGUAGE sql
    SET search_path TO ''
    AS $$
  insert into rowflow.waiters as w (id, channel, until)
  values (mark_waiting.id, mark_waiting.channel,
          coalesce(mark_waiting.now, pg_catalog.now()) + coalesce(mark_waiting.ttl, interval '1 minute'))
  on conflict (channel, id) do update set until = excluded.until;
$$;

--
-- Name: FUNCTION mark_waiting(id text, channel text, ttl interval, now timestamp with time zone); Type: COMMENT; Schema: rowflow; Owner: -
--

COMMENT ON FUNCTION rowflow.mark_waiting(id text, channel text, ttl interval, now timestamp with time zone) IS 'Records that id waits for NOTIFYs on channel (jobs:insert or rowflow) for ttl; refresh before it expires (e.g. with the heartbeat).';

--
-- Name: pending_runs(); Type: FUNCTION; Schema: rowflow; Owner: -
--

CREATE FUNCTION rowflow.pending_runs() RETURNS TABLE(run_id bigint, workflow text, version integer, input jsonb, priority smallint, status text, created_at timestamp with time zone)
    LANGUAGE sql STABLE
    SET search_path TO ''
    AS $$
  select r.id, r.workflow, r.version, r.input, r.priority, r.status, r.created_at
  from (
    select distinct pg_catalog.split_part(x, '-', 1)::bigint as lo, pg_catalog.split_part(x, '-', 2)::bigint as hi
    from unnest(pg_catalog.string_to_array(
      nullif(pg_catalog.current_setting('rowflow.pending_runs', true), ''), ',')) as x
  ) as g
  join rowflow.runs as r on r.id between g.lo and g.hi
  order by r.id;
$$;

--
-- Name: FUNCTION pending_runs(); Type: COMMENT; Schema: rowflow; Owner: -
--

COMMENT ON FUNCTION rowflow.pending_runs() IS 'Runs started by attached triggers so far in the current transaction (preview: begin; update …; select * from rowflow.pending_runs(); rollback;).';

--
-- Name: register_worker(text, text, integer, integer, text[], timestamp with time zone); Type: FUNCTION; Schema: rowflow; Owner: -
--

CREATE FUNCTION rowflow.register_worker(id text, hostname text, pid integer, concurrency integer, tasks text[] DEFAULT '{}'::text[], now timestamp with time zone DEFAULT NULL::timestamp with time zone) RETURNS void
    LANGUAGE sql
    SET search_path TO ''
    AS $$
  insert into rowflow.workers as w (id, hostname, pid, concurrency, tasks, started_at, heartbeat_at)
  values (register_worker.id, register_worker.hostname, register_worker.pid, register_worker.concurrency,
          coalesce(register_worker.tasks, '{}'), coalesce(register_worker.now, now()),
          coalesce(register_worker.now, now()))
  on conflict on constraint workers_pkey do update
  set heartbeat_at = greatest(w.heartbeat_at, excluded.heartbeat_at),
      hostname = excluded.hostname, pid = excluded.pid,
      concurrency = excluded.concurrency, tasks = excluded.tasks;
$$;

--
-- Name: FUNCTION register_worker(id text, hostname text, pid integer, concurrency integer, tasks text[], now timestamp with time zone); Type: COMMENT; Schema: rowflow; Owner: -
--

COMMENT ON FUNCTION rowflow.register_worker(id text, hostname text, pid integer, concurrency integer, tasks text[], now timestamp with time zone) IS 'Inserts or refreshes the row of a worker pool (id = graphile-worker pool id).';

--
-- Name: release_dead_workers(interval, timestamp with time zone); Type: FUNCTION; Schema: rowflow; Owner: -
--

CREATE FUNCTION rowflow.release_dead_workers(timeout interval, now timestamp with time zone DEFAULT NULL::timestamp with time zone) RETURNS text[]
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
declare
  v_now timestamptz := coalesce(release_dead_workers.now, now());
  v_ids text[];
  v_orphans text[];
begin
  -- GUARD: a zero or negative timeout would release the jobs of live workers.
  if release_dead_workers.timeout is null or release_dead_workers.timeout <= interval '0' then
    raise exception 'release_dead_workers: timeout must be a positive interval, got %',
      coalesce(release_dead_workers.timeout::text, 'null') using errcode = '22023';
  end if;

  -- PHASE 1: registered workers that stopped heartbeating.
  with dead as (
    delete from rowflow.workers as w
    where w.heartbeat_at < v_now - release_dead_workers.timeout
    returning w.id
  )
  select coalesce(array_agg(dead.id order by dead.id), '{}') into v_ids from dead;

  -- PHASE 2: lockers of rowflow jobs that never registered (or lost their row).
  select coalesce(array_agg(distinct j.locked_by), '{}') into v_orphans
  from graphile_worker.jobs as j
  where j.task_identifier = 'rowflow:step'
    and j.locked_by is not null
    and j.locked_at < v_now - release_dead_workers.timeout
    and not exists (select 1 from rowflow.workers as w where w.id = j.locked_by);

  v_ids := array(select distinct x from unnest(v_ids || v_orphans) as x order by x);
  if cardinality(v_ids) > 0 then
    perform graphile_worker.force_unlock_workers(v_ids);
  end if;
  return v_ids;
end;
$$;

--
-- Name: FUNCTION release_dead_workers(timeout interval, now timestamp with time zone); Type: COMMENT; Schema: rowflow; Owner: -
--

COMMENT ON FUNCTION rowflow.release_dead_workers(timeout interval, now timestamp with time zone) IS 'Deletes workers silent for longer than timeout and unlocks their graphile-worker jobs (and those of unregistered lockers); returns their ids.';

--
-- Name: start_run(text, jsonb, text, integer, timestamp with time zone); Type: FUNCTION; Schema: rowflow; Owner: -
--

CREATE FUNCTION rowflow.start_run(workflow text, input jsonb DEFAULT '{}'::jsonb, idempotency_key text DEFAULT NULL::text, priority integer DEFAULT 0, now timestamp with time zone DEFAULT NULL::timestamp with time zone) RETURNS bigint
    LANGUAGE sql
    SET search_path TO ''
    AS $$
  select rowflow.start_runs(
    start_run.workflow,
    array[start_run.input],
    case when start_run.idempotency_key is null then null else array[start_run.idempotency_key] end,
    start_run.priority,
    start_run.now);
$$;

--
-- Name: FUNCTION start_run(workflow text, input jsonb, idempotency_key text, priority integer, now timestamp with time zone); Type: COMMENT; Schema: rowflow; Owner: -
--

COMMENT ON FUNCTION rowflow.start_run(workflow text, input jsonb, idempotency_key text, priority integer, now timestamp with time zone) IS 'Starts one run (see start_runs). With an idempotency key that already has a run, returns that run and creates nothing.';

--
-- Name: start_runs(text, jsonb[], text[], integer, timestamp with time zone); Type: FUNCTION; Schema: rowflow; Owner: -
--

CREATE FUNCTION rowflow.start_runs(workflow text, inputs jsonb[], idempotency_keys text[] DEFAULT NULL::text[], priority integer DEFAULT 0, now timestamp with time zone DEFAULT NULL::timestamp with time zone) RETURNS SETOF bigint
    LANGUAGE plpgsql
    SET search_path TO ''
    SET plan_cache_mode TO 'force_generic_plan'
    AS $$
#variable_conflict use_column
declare
  v_now timestamptz := coalesce(start_runs.now, pg_catalog.now());
  v_wf rowflow.workflows;
  v_n int := coalesce(cardinality(start_runs.inputs), 0);
  v_keyed boolean := start_runs.idempotency_keys is not null;
  v_ws record;
  v_ids bigint[];
  v_keyed_ids bigint[];
  v_bad record;
  v_task int;
  v_seq regclass;
  v_res record;
  v_run rowflow.runs;
  v_rel record;
  v_out record;
  v_left int;
  v_jobs int;
begin
  -- GUARD: workflow, arguments, inputs.
  select w.* into v_wf from rowflow.workflows as w where w.name = start_runs.workflow;
  if not found then
    raise exception 'unknown workflow %; define it first with rowflow.define_workflow',
      coalesce(to_jsonb(left(start_runs.workflow, 100))::text, 'null') using errcode = 'RF020';
  end if;
  if v_wf.paused then
    raise exception 'workflow "%" is paused; resume it before starting runs', v_wf.name using errcode = 'RF021';
  end if;
  if v_keyed and cardinality(start_runs.idempotency_keys) <> v_n then
    raise exception 'start_runs: % idempotency keys for % inputs; pass one key (or null) per input',
      cardinality(start_runs.idempotency_keys), v_n using errcode = '22023';
  end if;
  if start_runs.priority is null or start_runs.priority not between -1000 and 1000 then
    raise exception 'start_runs: priority must be from -1000 to 1000, got %', start_runs.priority using errcode = '22023';
  end if;
  if v_n = 0 then
    return;
  end if;
  -- Small batches (a trigger on a single-row INSERT) run on generic plans
  -- (000005: re-planning cost more than executing); large ones plan for
  -- their size. The function's SET clause restores the caller's setting.
  if v_n > 64 then
    perform pg_catalog.set_config('plan_cache_mode', 'auto', true);
  end if;
  -- One scan for both input rules; a non-object is reported before a size.
  -- The limit is on the JSON text (1 MiB); JSON text is at most 6x the
  -- binary size, so only inputs above 1 MiB / 6 binary pay for the text form.
  select t.o, jsonb_typeof(t.i) as type,
         t.i is null or jsonb_typeof(t.i) <> 'object' as not_object,
         case when t.i is not null and jsonb_typeof(t.i) = 'object' then octet_length(t.i::text) end as size
  into v_bad
  from unnest(start_runs.inputs) with ordinality as t(i, o)
  where t.i is null or jsonb_typeof(t.i) <> 'object'
     or (pg_column_size(t.i) > 174762 and octet_length(t.i::text) > 1048576)
  order by 3 desc, t.o limit 1;
  if found and v_bad.not_object then
    raise exception 'run input #% is %, not a JSON object; wrap values in an object like {"value": …}',
      v_bad.o, coalesce(v_bad.type, 'null') using errcode = 'RF022';
  elsif found then
    raise exception 'run input #% is % bytes of JSON; the limit is 1 MiB (1048576 bytes): store large data in a table and pass its key',
      v_bad.o, v_bad.size using errcode = 'RF022';
  end if;

  -- PHASE 1: ids in input order; the root steps (sorted by name) as arrays,
  -- unnested per run below; graphile's task id and job id sequence.
  if v_n = 1 then
    v_ids := array[pg_catalog.nextval('rowflow.runs_id_seq'::regclass)];
  else
    v_ids := array(select pg_catalog.nextval('rowflow.runs_id_seq'::regclass)
                   from pg_catalog.generate_series(1, v_n));
  end if;
  select count(*)::int as n,
    array_agg(ws.name order by ws.name) filter (where ws.n_deps = 0) as names,
    array_agg(ws.attempts order by ws.name) filter (where ws.n_deps = 0) as attempts,
    array_agg(ws.delay order by ws.name) filter (where ws.n_deps = 0) as delays,
    array_agg(ws.priority order by ws.name) filter (where ws.n_deps = 0) as priorities,
    array_agg(ws.queue_name order by ws.name) filter (where ws.n_deps = 0) as queue_names,
    array_agg(ws.queue_key order by ws.name) filter (where ws.n_deps = 0) as queue_keys,
    array_agg(ws.if_path order by ws.name) filter (where ws.n_deps = 0) as if_paths,
    coalesce(bool_or(ws.queue_name is not null) filter (where ws.n_deps = 0), false) as queued_on_queues
  into v_ws
  from rowflow.workflow_steps as ws
  where ws.workflow = v_wf.name and ws.version = v_wf.latest_version;
  v_task := (select t.id from graphile_worker._private_tasks as t where t.identifier = 'rowflow:step');
  if v_task is null then
    v_task := rowflow._step_task_id();
  end if;
  v_seq := pg_catalog.pg_get_serial_sequence('graphile_worker._private_jobs', 'id')::regclass;
  -- Root steps with a queue: the queues must exist before the statement
  -- that joins them (rare; the names are computed again below).
  if v_ws.queued_on_queues then
    insert into graphile_worker._private_job_queues as q (queue_name)
    select distinct rowflow._queue_name(ws.queue_name, ws.queue_key,
                      jsonb_build_object('input', t.i, 'steps', '{}'::jsonb))
    from unnest(start_runs.inputs) as t(i)
    cross join unnest(v_ws.queue_names, v_ws.queue_keys) as ws(queue_name, queue_key)
    where ws.queue_name is not null
    on conflict do nothing;
  end if;
  -- With idempotency keys the runs go in first, ON CONFLICT DO NOTHING (a
  -- concurrent transaction with the same key makes us wait for it). Without
  -- keys the statement below inserts them, with no speculative insertion.
  if v_keyed then
    with ins as (
      insert into rowflow.runs as r (id, workflow, version, status, input, idempotency_key, priority,
                                     steps_left, created_at, updated_at)
      select v_ids[t.o], v_wf.name, v_wf.latest_version, 'running', t.i, t.k, start_runs.priority,
             v_ws.n, v_now, v_now
      from unnest(start_runs.inputs, start_runs.idempotency_keys) with ordinality as t(i, k, o)
      order by t.o
      on conflict (workflow, idempotency_key) where idempotency_key is not null do nothing
      returning r.id
    )
    select coalesce(array_agg(ins.id order by ins.id), '{}') into v_keyed_ids from ins;
  end if;

  -- PHASE 2: runs (unless keyed), root step runs, events and jobs in one statement.
  with ins_runs as (
    insert into rowflow.runs as r (id, workflow, version, status, input, idempotency_key, priority,
                                   steps_left, created_at, updated_at)
    select v_ids[t.o], v_wf.name, v_wf.latest_version, 'running', t.i, null, start_runs.priority,
           v_ws.n, v_now, v_now
    from unnest(start_runs.inputs) with ordinality as t(i, o)
    where not v_keyed
    order by t.o
    returning r.id, r.input
  ), new_runs as (
    select ir.id, ir.input from ins_runs as ir
    union all
    select r.id, r.input from rowflow.runs as r where v_keyed and r.id = any (v_keyed_ids)
  ), plan as (
    -- One row per (run, root step), in step_runs primary-key order. Root
    -- steps evaluate their condition (over {input, steps: {}}) and queue key
    -- now; a queued one gets its job id.
    select p.*, case when p.status = 'queued' then pg_catalog.nextval(v_seq) end as job_id
    from (
      select r.id as run_id, ws.name, ws.attempts, ws.delay, ws.priority,
        case
          when ws.queue_key is null then ws.queue_name
          else rowflow._queue_name(ws.queue_name, ws.queue_key,
                 jsonb_build_object('input', r.input, 'steps', '{}'::jsonb))
        end as queue,
        case
          when ws.if_path is null then 'queued'
          when coalesce(jsonb_path_match(jsonb_build_object('input', r.input, 'steps', '{}'::jsonb),
                                         ws.if_path, '{}', true), false) then 'queued'
          else 'skipped'
        end as status
      from new_runs as r
      cross join unnest(v_ws.names, v_ws.attempts, v_ws.delays, v_ws.priorities,
                        v_ws.queue_names, v_ws.queue_keys, v_ws.if_paths)
        as ws(name, attempts, delay, priority, queue_name, queue_key, if_path)
      order by r.id, ws.name
    ) as p
  ), ins_steps as (
    insert into rowflow.step_runs (run_id, step, kind, status, deps_remaining, attempt, max_attempts,
                                   created_at, finished_at, job_id)
    select p.run_id, p.name, 'step', p.status, 0, case when p.status = 'queued' then 1 else 0 end,
           p.attempts, v_now, case when p.status = 'skipped' then v_now end, p.job_id
    from plan as p
  ), ins_jobs as (
    insert into graphile_worker._private_jobs as jobs
      (id, job_queue_id, task_id, payload, run_at, max_attempts, priority)
    overriding system value
    select p.job_id,
           case when p.queue is not null then
             (select q.id from graphile_worker._private_job_queues as q where q.queue_name = p.queue) end,
           v_task,
           pg_catalog.json_build_object('run', p.run_id, 'step', p.name, 'attempt', 1),
           v_now + coalesce(p.delay, interval '0'),
           25,
           greatest(-32768, least(32767, p.priority + start_runs.priority))
    from plan as p
    where p.status = 'queued'
  ), ins_events as (
    insert into rowflow.events (run_id, step, type, attempt, at)
    select x.run_id, x.step, x.type, null, v_now
    from (
      select r.id as run_id, null::text as step, 'run_started' as type, 0 as o from new_runs as r
      union all
      select p.run_id, p.name, 'step_skipped', 1 from plan as p where p.status = 'skipped'
    ) as x
    order by x.run_id, x.o, x.step
  )
  select
    (select count(*)::int from new_runs) as created,
    (select count(*)::int from plan as p where p.status = 'queued') as queued,
    (select jsonb_agg(jsonb_build_array(p.run_id, p.name)) from plan as p where p.status = 'skipped') as skips
  into v_res;
  v_jobs := v_res.queued;

  -- PHASE 3: runs with skipped root steps: propagate the skips (rare; per run).
  for v_rel in
    select (e ->> 0)::bigint as run_id, array_agg(e ->> 1 order by e ->> 1) as names
    from jsonb_array_elements(coalesce(v_res.skips, '[]')) as e
    group by 1 order by 1
  loop
    select r.* into v_run from rowflow.runs as r where r.id = v_rel.run_id for no key update;
    select * into v_out from rowflow._release_steps(v_run, v_rel.names, v_now);
    v_jobs := v_jobs + cardinality(v_out.queued);
    update rowflow.runs as r
    set steps_left = r.steps_left - cardinality(v_rel.names) - cardinality(v_out.skipped)
    where r.id = v_rel.run_id
    returning r.steps_left into v_left;
    if v_left = 0 then
      update rowflow.runs as r set status = 'succeeded', finished_at = v_now where r.id = v_rel.run_id;
      insert into rowflow.events (run_id, type, data, at)
      values (v_rel.run_id, 'run_succeeded', '{"allSkipped": true}', v_now);
    end if;
  end loop;

  -- PHASE 4: wake-ups, each only when somebody waits (000005).
  if v_jobs > 0 then
    perform rowflow._wake('jobs:insert', '{"count":' || v_jobs || '}');
  end if;
  if v_res.created > 0 then
    perform rowflow._wake('rowflow', (case when v_n = 1 then jsonb_build_object('run', v_ids[1])
                                 else jsonb_build_object('workflow', v_wf.name, 'started', v_res.created) end)::text);
  end if;

  if not v_keyed then
    return query select unnest(v_ids);
  else
    return query
    select coalesce(
             (select r.id from rowflow.runs as r
              where r.workflow = v_wf.name and r.idempotency_key = t.k),
             v_ids[t.o])
    from unnest(start_runs.idempotency_keys) with ordinality as t(k, o)
    order by t.o;
  end if;
end;
$$;

--
-- Name: FUNCTION start_runs(workflow text, inputs jsonb[], idempotency_keys text[], priority integer, now timestamp with time zone); Type: COMMENT; Schema: rowflow; Owner: -
--

COMMENT ON FUNCTION rowflow.start_runs(workflow text, inputs jsonb[], idempotency_keys text[], priority integer, now timestamp with time zone) IS 'Starts one run per input (latest version), set-based, one add_jobs call per batch. Returns run ids in input order. RF020 unknown, RF021 paused, RF022 bad input.';

--
-- Name: unmark_waiting(text, text); Type: FUNCTION; Schema: rowflow; Owner: -
--

CREATE FUNCTION rowflow.unmark_waiting(id text, channel text DEFAULT NULL::text) RETURNS void
    LANGUAGE sql
    SET search_path TO ''
    AS $$
  delete from rowflow.waiters as w
  where w.id = unmark_waiting.id and (unmark_waiting.channel is null or w.channel = unmark_waiting.channel);
$$;

--
-- Name: FUNCTION unmark_waiting(id text, channel text); Type: COMMENT; Schema: rowflow; Owner: -
--

COMMENT ON FUNCTION rowflow.unmark_waiting(id text, channel text) IS 'id no longer waits (on channel, or on every channel when null): it is busy, or shutting down.';

--
-- Name: unregister_worker(text); Type: FUNCTION; Schema: rowflow; Owner: -
--

CREATE FUNCTION rowflow.unregister_worker(id text) RETURNS void
    LANGUAGE sql
    SET search_path TO ''
    AS $$
  delete from rowflow.workers as w where w.id = unregister_worker.id;
$$;

--
-- Name: FUNCTION unregister_worker(id text); Type: COMMENT; Schema: rowflow; Owner: -
--

COMMENT ON FUNCTION rowflow.unregister_worker(id text) IS 'Removes a worker row at clean shutdown (after its jobs were released).';

--
-- Name: table_attachments; Type: TABLE; Schema: rowflow; Owner: -
--

CREATE TABLE rowflow.table_attachments (
    id integer NOT NULL,
    relid oid NOT NULL,
    workflow text NOT NULL,
    events text[] NOT NULL,
    when_sql text,
    input_sql text,
    key_sql text,
    function_name text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    created_by name DEFAULT CURRENT_USER NOT NULL,
    CONSTRAINT events_are_valid CHECK ((((cardinality(events) >= 1) AND (cardinality(events) <= 3)) AND (events <@ ARRAY['insert'::text, 'update'::text, 'delete'::text]))),
    CONSTRAINT function_name_is_safe CHECK ((function_name ~ '^tg_[a-z0-9_]+$'::text))
);

--
-- Name: TABLE table_attachments; Type: COMMENT; Schema: rowflow; Owner: -
--

COMMENT ON TABLE rowflow.table_attachments IS 'One row per rowflow.attach call; the generated trigger function rowflow.<function_name> and its triggers on relid belong to it.';

--
-- Name: attachments; Type: VIEW; Schema: rowflow; Owner: -
--

CREATE VIEW rowflow.attachments AS
 SELECT a.id,
    (a.relid)::regclass AS table_name,
    a.workflow,
    a.events,
    a.when_sql,
    a.input_sql,
    a.key_sql AS idempotency_key_sql,
    ('rowflow.'::text || quote_ident(a.function_name)) AS trigger_function,
    ARRAY( SELECT (t.tgname)::text AS tgname
           FROM pg_trigger t
          WHERE ((t.tgrelid = a.relid) AND (t.tgfoid = p.oid))
          ORDER BY t.tgname) AS triggers,
    a.created_at,
    a.created_by
   FROM (rowflow.table_attachments a
     JOIN pg_proc p ON (((p.proname = a.function_name) AND (p.pronamespace = ('rowflow'::regnamespace)::oid))))
  WHERE (EXISTS ( SELECT 1
           FROM pg_trigger t
          WHERE ((t.tgrelid = a.relid) AND (t.tgfoid = p.oid))));

--
-- Name: VIEW attachments; Type: COMMENT; Schema: rowflow; Owner: -
--

COMMENT ON VIEW rowflow.attachments IS 'Every live table attachment with its options (SQL text as given to rowflow.attach).';

--
-- Name: events; Type: TABLE; Schema: rowflow; Owner: -
--

CREATE TABLE rowflow.events (
    id bigint NOT NULL,
    run_id bigint NOT NULL,
    step text,
    type text NOT NULL,
    attempt smallint,
    data jsonb,
    at timestamp with time zone NOT NULL,
    CONSTRAINT type_is_valid CHECK ((type = ANY (ARRAY['run_started'::text, 'run_succeeded'::text, 'run_failed'::text, 'run_compensating'::text, 'run_cancelled'::text, 'step_queued'::text, 'step_started'::text, 'step_succeeded'::text, 'step_failed'::text, 'step_retrying'::text, 'step_skipped'::text, 'step_cancelled'::text])))
);

--
-- Name: events_id_seq; Type: SEQUENCE; Schema: rowflow; Owner: -
--

ALTER TABLE rowflow.events ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME rowflow.events_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 100
);

--
-- Name: migrations; Type: TABLE; Schema: rowflow; Owner: -
--

CREATE TABLE rowflow.migrations (
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT checksum_is_sha256 CHECK ((checksum ~ '^[0-9a-f]{64}$'::text)),
    CONSTRAINT name_is_valid CHECK ((name ~ '^\d{6}_[a-z0-9_]+\.sql$'::text))
);

--
-- Name: workflow_steps; Type: TABLE; Schema: rowflow; Owner: -
--

CREATE TABLE rowflow.workflow_steps (
    workflow text NOT NULL,
    version integer NOT NULL,
    idx smallint NOT NULL,
    name text NOT NULL,
    task text NOT NULL,
    depends_on text[] NOT NULL,
    dependents text[] NOT NULL,
    n_deps smallint NOT NULL,
    attempts smallint NOT NULL,
    backoff_type text NOT NULL,
    backoff_base interval NOT NULL,
    backoff_max interval NOT NULL,
    backoff_jitter double precision NOT NULL,
    timeout interval,
    priority smallint NOT NULL,
    queue_name text,
    queue_key jsonpath,
    delay interval,
    if_path jsonpath,
    compensate text,
    CONSTRAINT backoff_type_is_valid CHECK ((backoff_type = ANY (ARRAY['fixed'::text, 'exponential'::text]))),
    CONSTRAINT n_deps_matches CHECK ((n_deps = cardinality(depends_on)))
);

--
-- Name: run_steps; Type: VIEW; Schema: rowflow; Owner: -
--

CREATE VIEW rowflow.run_steps AS
 SELECT r.id AS run_id,
    ws.name AS step,
    COALESCE(sr.kind, 'step'::text) AS kind,
    COALESCE(sr.status, 'pending'::text) AS status,
    COALESCE(sr.deps_remaining, ws.n_deps) AS deps_remaining,
    COALESCE(sr.attempt, (0)::smallint) AS attempt,
    COALESCE(sr.max_attempts, ws.attempts) AS max_attempts,
    sr.seq,
    sr.output,
    sr.error,
    COALESCE(sr.created_at, r.created_at) AS created_at,
    sr.started_at,
    sr.finished_at,
    sr.job_id
   FROM ((rowflow.runs r
     JOIN rowflow.workflow_steps ws ON (((ws.workflow = r.workflow) AND (ws.version = r.version))))
     LEFT JOIN rowflow.step_runs sr ON (((sr.run_id = r.id) AND (sr.step = ws.name))))
UNION ALL
 SELECT sr.run_id,
    sr.step,
    sr.kind,
    sr.status,
    sr.deps_remaining,
    sr.attempt,
    sr.max_attempts,
    sr.seq,
    sr.output,
    sr.error,
    sr.created_at,
    sr.started_at,
    sr.finished_at,
    sr.job_id
   FROM rowflow.step_runs sr
  WHERE (sr.kind <> 'step'::text);

--
-- Name: VIEW run_steps; Type: COMMENT; Schema: rowflow; Owner: -
--

COMMENT ON VIEW rowflow.run_steps IS 'Every step run of every run; a step without a row in rowflow.step_runs (not ready yet, 000006) shows as pending.';

--
-- Name: runs_id_seq; Type: SEQUENCE; Schema: rowflow; Owner: -
--

ALTER TABLE rowflow.runs ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME rowflow.runs_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 100
);

--
-- Name: table_attachments_id_seq; Type: SEQUENCE; Schema: rowflow; Owner: -
--

ALTER TABLE rowflow.table_attachments ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME rowflow.table_attachments_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: waiters; Type: TABLE; Schema: rowflow; Owner: -
--

CREATE TABLE rowflow.waiters (
    id text NOT NULL,
    channel text NOT NULL,
    until timestamp with time zone NOT NULL,
    CONSTRAINT channel_is_known CHECK ((channel = ANY (ARRAY['jobs:insert'::text, 'rowflow'::text]))),
    CONSTRAINT id_is_valid CHECK (((length(id) >= 1) AND (length(id) <= 128)))
);

--
-- Name: TABLE waiters; Type: COMMENT; Schema: rowflow; Owner: -
--

COMMENT ON TABLE rowflow.waiters IS 'Sessions waiting for a NOTIFY on channel (workers out of jobs: jobs:insert; live views: rowflow), until the expiry. Writers NOTIFY only when a row is live.';

--
-- Name: workers; Type: TABLE; Schema: rowflow; Owner: -
--

CREATE TABLE rowflow.workers (
    id text NOT NULL,
    hostname text NOT NULL,
    pid integer NOT NULL,
    concurrency integer NOT NULL,
    tasks text[] DEFAULT '{}'::text[] NOT NULL,
    started_at timestamp with time zone NOT NULL,
    heartbeat_at timestamp with time zone NOT NULL,
    CONSTRAINT concurrency_is_positive CHECK ((concurrency >= 1)),
    CONSTRAINT heartbeat_not_before_start CHECK ((heartbeat_at >= started_at)),
    CONSTRAINT id_is_valid CHECK (((length(id) >= 1) AND (length(id) <= 128)))
);

--
-- Name: TABLE workers; Type: COMMENT; Schema: rowflow; Owner: -
--

COMMENT ON TABLE rowflow.workers IS 'Running worker pools and their last heartbeat; a row older than the heartbeat timeout marks a dead worker whose jobs any live worker releases.';

--
-- Name: workflow_versions; Type: TABLE; Schema: rowflow; Owner: -
--

CREATE TABLE rowflow.workflow_versions (
    workflow text NOT NULL,
    version integer NOT NULL,
    spec jsonb NOT NULL,
    spec_hash text NOT NULL,
    on_failure text,
    step_count smallint NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT version_is_positive CHECK ((version >= 1))
);

--
-- Name: TABLE workflow_versions; Type: COMMENT; Schema: rowflow; Owner: -
--

COMMENT ON TABLE rowflow.workflow_versions IS 'Immutable: the spec as given to define_workflow. Runs pin (workflow, version).';

--
-- Name: workflows; Type: TABLE; Schema: rowflow; Owner: -
--

CREATE TABLE rowflow.workflows (
    name text NOT NULL,
    latest_version integer NOT NULL,
    paused boolean DEFAULT false NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT latest_version_is_positive CHECK ((latest_version >= 1)),
    CONSTRAINT name_is_valid CHECK ((name ~ '^[a-z][a-z0-9_-]{0,62}$'::text))
);

--
-- Name: TABLE workflows; Type: COMMENT; Schema: rowflow; Owner: -
--

COMMENT ON TABLE rowflow.workflows IS 'One row per workflow name; start_run uses latest_version. paused blocks new runs (RF021).';

--
-- Name: events events_pkey; Type: CONSTRAINT; Schema: rowflow; Owner: -
--

ALTER TABLE ONLY rowflow.events
    ADD CONSTRAINT events_pkey PRIMARY KEY (run_id, id);

--
-- Name: migrations migrations_pkey; Type: CONSTRAINT; Schema: rowflow; Owner: -
--

ALTER TABLE ONLY rowflow.migrations
    ADD CONSTRAINT migrations_pkey PRIMARY KEY (name);

--
-- Name: runs runs_pkey; Type: CONSTRAINT; Schema: rowflow; Owner: -
--

ALTER TABLE ONLY rowflow.runs
    ADD CONSTRAINT runs_pkey PRIMARY KEY (id);

--
-- Name: step_runs step_runs_pkey; Type: CONSTRAINT; Schema: rowflow; Owner: -
--

ALTER TABLE ONLY rowflow.step_runs
    ADD CONSTRAINT step_runs_pkey PRIMARY KEY (run_id, step);

--
-- Name: table_attachments table_attachments_function_name_key; Type: CONSTRAINT; Schema: rowflow; Owner: -
--

ALTER TABLE ONLY rowflow.table_attachments
    ADD CONSTRAINT table_attachments_function_name_key UNIQUE (function_name);

--
-- Name: table_attachments table_attachments_pkey; Type: CONSTRAINT; Schema: rowflow; Owner: -
--

ALTER TABLE ONLY rowflow.table_attachments
    ADD CONSTRAINT table_attachments_pkey PRIMARY KEY (id);

--
-- Name: waiters waiters_pkey; Type: CONSTRAINT; Schema: rowflow; Owner: -
--

ALTER TABLE ONLY rowflow.waiters
    ADD CONSTRAINT waiters_pkey PRIMARY KEY (channel, id);

--
-- Name: workers workers_pkey; Type: CONSTRAINT; Schema: rowflow; Owner: -
--

ALTER TABLE ONLY rowflow.workers
    ADD CONSTRAINT workers_pkey PRIMARY KEY (id);

--
-- Name: workflow_steps workflow_steps_pkey; Type: CONSTRAINT; Schema: rowflow; Owner: -
--

ALTER TABLE ONLY rowflow.workflow_steps
    ADD CONSTRAINT workflow_steps_pkey PRIMARY KEY (workflow, version, idx);

--
-- Name: workflow_steps workflow_steps_workflow_version_name_key; Type: CONSTRAINT; Schema: rowflow; Owner: -
--

ALTER TABLE ONLY rowflow.workflow_steps
    ADD CONSTRAINT workflow_steps_workflow_version_name_key UNIQUE (workflow, version, name);

--
-- Name: workflow_versions workflow_versions_pkey; Type: CONSTRAINT; Schema: rowflow; Owner: -
--

ALTER TABLE ONLY rowflow.workflow_versions
    ADD CONSTRAINT workflow_versions_pkey PRIMARY KEY (workflow, version);

--
-- Name: workflows workflows_pkey; Type: CONSTRAINT; Schema: rowflow; Owner: -
--

ALTER TABLE ONLY rowflow.workflows
    ADD CONSTRAINT workflows_pkey PRIMARY KEY (name);

--
-- Name: runs_workflow_idempotency_key_idx; Type: INDEX; Schema: rowflow; Owner: -
--

CREATE UNIQUE INDEX runs_workflow_idempotency_key_idx ON rowflow.runs USING btree (workflow, idempotency_key) WHERE (idempotency_key IS NOT NULL);

--
-- Name: table_attachments_relid_idx; Type: INDEX; Schema: rowflow; Owner: -
--

CREATE INDEX table_attachments_relid_idx ON rowflow.table_attachments USING btree (relid, workflow);

--
-- Name: table_attachments table_attachments_workflow_fkey; Type: FK CONSTRAINT; Schema: rowflow; Owner: -
--

ALTER TABLE ONLY rowflow.table_attachments
    ADD CONSTRAINT table_attachments_workflow_fkey FOREIGN KEY (workflow) REFERENCES rowflow.workflows(name);

--
-- Name: workflow_steps workflow_steps_workflow_version_fkey; Type: FK CONSTRAINT; Schema: rowflow; Owner: -
--

ALTER TABLE ONLY rowflow.workflow_steps
    ADD CONSTRAINT workflow_steps_workflow_version_fkey FOREIGN KEY (workflow, version) REFERENCES rowflow.workflow_versions(workflow, version);

--
-- Name: workflow_versions workflow_versions_workflow_fkey; Type: FK CONSTRAINT; Schema: rowflow; Owner: -
--

ALTER TABLE ONLY rowflow.workflow_versions
    ADD CONSTRAINT workflow_versions_workflow_fkey FOREIGN KEY (workflow) REFERENCES rowflow.workflows(name);

--
-- PostgreSQL database dump complete
--

