-- 000020_source_rows.sql — a run's life tied to its business row (issue #15,
-- item 3).
--
-- Every run an attachment starts records its source row: runs.source_relid
-- (the table) and runs.source_key (the primary key as text, a JSON array of
-- texts for a composite key), found by rowflow.runs_for(table, key…) through
-- one partial index. attach gains on_delete => 'cancel' | 'compensate' |
-- 'ignore' (the default: what deleting a row does to its unfinished runs)
-- and supersede => true (a newer run of a row cancels its older unfinished
-- ones); both act in the writer's transaction and never fail the write
-- (rowflow._cancel_source_runs). cancel_run's body moved to
-- rowflow._cancel_locked, which both share.
--
-- The start function of every attachment takes the rows' keys now
-- (st_…(inputs, keys, sources, gone)): every attachment is regenerated at
-- the end, its old two-argument start function dropped. Runs started
-- before this migration have no source row (runs_for does not list them).
--
-- Cost, measured on the attached single-row INSERT (docs/architecture.md,
-- "Where an attached INSERT's time and WAL go"): see that section.

alter table rowflow.runs add column source_relid oid, add column source_key text;
comment on column rowflow.runs.source_key is
  'The primary key of the business row whose change started the run (an attachment''s run; null for start_run(s)): the key column as text, or for a composite key a JSON array of the columns as text. rowflow.runs_for(table, key) finds the runs of a row.';
alter table rowflow.table_attachments
  add column on_delete text not null default 'ignore',
  add column supersede boolean not null default false,
  add constraint on_delete_is_valid check (on_delete in ('cancel', 'compensate', 'ignore'));

drop function rowflow._attach(relid oid, given text, workflow text, events text[], "when" text, input text, idempotency_key text, columns text[], exclude_columns text[], caller name);
drop function rowflow._queue_runs(workflow text, version integer, inputs jsonb[], keys text[], priority integer, now timestamp with time zone);
drop function rowflow._start_attached(attachment_id integer, workflow text, inputs jsonb[], keys text[]);
drop function rowflow.attach(table_name regclass, workflow text, events text[], "when" text, input text, idempotency_key text, columns text[], exclude_columns text[], caller name);
drop function rowflow.attach(table_name text, workflow text, events text[], "when" text, input text, idempotency_key text, columns text[], exclude_columns text[], caller name, caller_search_path text);

-- from sql/schema/20_tables/20_runs.sql
create index runs_source_idx on rowflow.runs (source_relid, source_key) where source_key is not null;

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
  now timestamptz, source_relid oid default null, sources text[] default null)
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
                                   source_key)
    values (_queue_runs.workflow, _queue_runs.version, 'queued', _queue_runs.inputs[1], _queue_runs.priority,
            v_now, v_now, _queue_runs.source_relid, _queue_runs.sources[1])
    returning r.id into v_id;
    v_ids := array[v_id];
  elsif _queue_runs.keys is null then
    -- Ids drawn first, so they follow input order.
    v_ids := array(select pg_catalog.nextval('rowflow.runs_id_seq'::regclass)
                   from pg_catalog.generate_series(1, v_n));
    insert into rowflow.runs as r (id, workflow, version, status, input, priority, created_at, updated_at,
                                   source_relid, source_key)
    select v_ids[t.o], _queue_runs.workflow, _queue_runs.version, 'queued', t.i, _queue_runs.priority, v_now, v_now,
           _queue_runs.source_relid, _queue_runs.sources[t.o]
    from unnest(_queue_runs.inputs) with ordinality as t(i, o)
    order by t.o;
  else
    -- A key that has a run (committed, or committed by the transaction we
    -- waited for) inserts nothing; that run is the input's run.
    v_ids := array(select pg_catalog.nextval('rowflow.runs_id_seq'::regclass)
                   from pg_catalog.generate_series(1, v_n));
    insert into rowflow.runs as r (id, workflow, version, status, input, idempotency_key, priority,
                                   created_at, updated_at, source_relid, source_key)
    select v_ids[t.o], _queue_runs.workflow, _queue_runs.version, 'queued', t.i, t.k, _queue_runs.priority,
           v_now, v_now, _queue_runs.source_relid, _queue_runs.sources[t.o]
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
comment on function rowflow._queue_runs(text, int, jsonb[], text[], int, timestamptz, oid, text[]) is
  'Internal: inserts queued runs (RF022 input checks, idempotency keys) and wakes workers; ids in input order.';
select rowflow._allow('function rowflow._queue_runs(text, int, jsonb[], text[], int, timestamptz, oid, text[])', '{}');

-- from sql/schema/50_attach/_attach.sql
create or replace function rowflow._attach(
  relid oid, given text, workflow text, events text[], "when" text, input text, idempotency_key text,
  columns text[], exclude_columns text[], caller name, on_delete text default 'ignore', supersede boolean default false)
returns int
language plpgsql
set search_path to ''
as $$
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
  v_table_tag text;
  v_whats text[] := '{}';
  v_exprs text[] := '{}';
  v_on text[] := '{}';
  v_queries text[] := '{}';
  v_missing text;
  v_on_delete text := pg_catalog.lower(coalesce(_attach.on_delete, 'ignore'));
  v_triggers text[];
begin
  -- GUARD: the caller, the table and its ownership, workflow, events,
  -- column options, primary key.
  v_rel := rowflow._attachable_table(_attach.relid, _attach.given, 'attach', _attach.caller);
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
  if v_on_delete not in ('cancel', 'compensate', 'ignore') then
    raise exception 'attach: on_delete must be cancel, compensate or ignore, got %', pg_catalog.quote_literal(_attach.on_delete)
      using errcode = 'RF034';
  end if;
  if _attach.columns is not null and _attach.exclude_columns is not null then
    raise exception 'attach: give columns or exclude_columns, not both' using errcode = 'RF034';
  end if;
  if coalesce(_attach.columns, _attach.exclude_columns) is not null and _attach.input is not null then
    raise exception 'attach: columns and exclude_columns shape the default input; with input, build it yourself'
      using errcode = 'RF034',
            hint = 'Drop input, or write it as e.g. jsonb_build_object(''id'', new.id, ''status'', new.status).';
  end if;
  select pg_catalog.string_agg(pg_catalog.quote_ident(c), ', ') into v_missing
  from unnest(coalesce(_attach.columns, _attach.exclude_columns)) as c
  where c is null or not exists (select 1 from pg_catalog.pg_attribute as a
                                 where a.attrelid = _attach.relid and a.attname = c and a.attnum > 0
                                   and not a.attisdropped);
  if v_missing is not null then
    raise exception 'attach: table % has no column %', _attach.relid::regclass, v_missing
      using errcode = 'RF034', hint = 'List columns of the table by name (case matters for quoted names).';
  end if;
  v_pk := array(
    select a.attname::text
    from pg_catalog.pg_index as i
    cross join lateral unnest(i.indkey) with ordinality as k(attnum, o)
    join pg_catalog.pg_attribute as a on a.attrelid = i.indrelid and a.attnum = k.attnum
    where i.indrelid = _attach.relid and i.indisprimary
    order by k.o);
  if cardinality(_attach.columns) = 0 and cardinality(v_pk) = 0 then
    raise exception 'attach: columns => ''{}'' makes the input the row''s key only, and table % has no primary key',
      _attach.relid::regclass using errcode = 'RF034',
      hint = 'Add a primary key, or list the columns the input should hold.';
  end if;
  if 'update' = any (v_events) and cardinality(v_pk) = 0 then
    raise exception 'attach: table % has no primary key; update attachments pair old and new rows by primary key',
      _attach.relid::regclass using errcode = 'RF032',
      hint = 'Add a primary key (alter table … add primary key (…)), or attach only insert/delete events.';
  end if;
  if (v_on_delete <> 'ignore' or coalesce(_attach.supersede, false)) and cardinality(v_pk) = 0 then
    raise exception 'attach: table % has no primary key; % finds a row''s runs by its primary key',
      _attach.relid::regclass, case when v_on_delete <> 'ignore' then 'on_delete' else 'supersede' end
      using errcode = 'RF032', hint = 'Add a primary key (alter table … add primary key (…)).';
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
  -- option), for each event, before anything is created; as the table owner.
  foreach v_event in array v_events loop
    if _attach."when" is not null then
      v_whats := v_whats || 'when'::text; v_exprs := v_exprs || _attach."when"; v_on := v_on || v_event;
      v_queries := v_queries || rowflow._attachment_query(_attach.relid, v_event, v_pk, _attach."when", null, null);
    end if;
    if _attach.input is not null then
      v_whats := v_whats || 'input'::text; v_exprs := v_exprs || _attach.input; v_on := v_on || v_event;
      v_queries := v_queries || rowflow._attachment_query(_attach.relid, v_event, v_pk, null, _attach.input, null);
    end if;
    if _attach.idempotency_key is not null then
      v_whats := v_whats || 'idempotency_key'::text; v_exprs := v_exprs || _attach.idempotency_key;
      v_on := v_on || v_event;
      v_queries := v_queries || rowflow._attachment_query(_attach.relid, v_event, v_pk, null, null,
                                                          _attach.idempotency_key);
    end if;
    v_whats := v_whats || 'combined'::text; v_on := v_on || v_event;
    v_exprs := v_exprs || concat_ws(' / ', _attach."when", _attach.input, _attach.idempotency_key);
    v_queries := v_queries || rowflow._attachment_query(_attach.relid, v_event, v_pk, _attach."when", _attach.input,
                                                        _attach.idempotency_key, null, _attach.columns,
                                                        _attach.exclude_columns);
  end loop;
  perform rowflow._check_attachment_queries(v_rel.relowner, v_whats, v_exprs, v_on, v_queries);

  -- PHASE 2: the attachment row (its id makes the function name unique).
  -- Function name: tg_<table>__<workflow>_<id>, each part reduced to
  -- [a-z0-9_] and cut to 22 characters (hostile or unicode table names only
  -- lose readability, never uniqueness).
  v_table_tag := coalesce(nullif(left(pg_catalog.regexp_replace(pg_catalog.lower(v_rel.relname::text),
                   '[^a-z0-9_]+', '_', 'g'), 22), ''), 't');
  insert into rowflow.table_attachments (relid, workflow, events, when_sql, input_sql, key_sql, columns,
                                         exclude_columns, function_name, created_by, on_delete, supersede)
  values (_attach.relid, _attach.workflow, v_events, _attach."when", _attach.input, _attach.idempotency_key,
          _attach.columns, _attach.exclude_columns, 'tg_pending', _attach.caller, v_on_delete,
          coalesce(_attach.supersede, false))
  returning id into v_id;
  v_fn := 'tg_' || v_table_tag || '__' || left(pg_catalog.replace(_attach.workflow, '-', '_'), 22) || '_' || v_id;
  update rowflow.table_attachments as a set function_name = v_fn where a.id = v_id;

  -- PHASE 3: the trigger function (the table owner's) and the start function.
  perform rowflow._install_attachment(v_id);

  -- PHASE 4: one statement-level AFTER trigger per event (and for delete
  -- when on_delete acts). The _900_ prefix makes them fire after the
  -- table's other AFTER statement triggers (Postgres fires triggers of one
  -- kind in name order).
  v_triggers := v_events;
  if v_on_delete <> 'ignore' and not 'delete' = any (v_events) then
    v_triggers := v_triggers || 'delete'::text;
  end if;
  foreach v_event in array v_triggers loop
    execute pg_catalog.format(
      'create trigger %I after %s on %s referencing %s for each statement execute function rowflow.%I()',
      '_900_rowflow_' || left(_attach.workflow, 30) || '_' || v_event || '_' || v_id,
      v_event, _attach.relid::regclass,
      case v_event when 'insert' then 'new table as rf_new'
                   when 'update' then 'new table as rf_new old table as rf_old'
                   else 'old table as rf_old' end,
      v_fn);
  end loop;
  perform rowflow._audit('attach', _attach.workflow, null, null, null,
                         pg_catalog.jsonb_build_object('attachment', v_id, 'table', _attach.relid::regclass::text,
                                                       'events', v_events, 'when', _attach."when",
                                                       'caller', _attach.caller, 'on_delete', v_on_delete,
                                                       'supersede', coalesce(_attach.supersede, false)), null);
  return v_id;
end;
$$;
select rowflow._allow('function rowflow._attach(oid, text, text, text[], text, text, text, text[], text[], name, text, boolean)', '{}');

-- from sql/schema/50_attach/_attachment_body.sql
-- rowflow._attachment_body(attachment) → the plpgsql body of its trigger function
--
-- One body serves every event of the attachment (each trigger names its
-- transition tables rf_new / rf_old). It evaluates the attachment's
-- expressions over the statement's rows (rowflow._attachment_query) into an
-- array of inputs (and keys), and hands them to the attachment's start
-- function (rowflow.st_…, owned by rowflow's owner), which writes the runs
-- (sql/schema/50_attach/_attachment_start_body.sql). The trigger function belongs to the table's
-- owner and runs as them (SECURITY DEFINER, search_path ''), so the
-- expressions never run with rowflow's rights, and writers need no right on
-- schema rowflow; the start function takes only the computed values.
-- 'suppress' is tested first, so a suppressed bulk load evaluates nothing.
--
-- With on_delete (cancel or compensate), a DELETE also hands over the
-- source keys of every deleted row (rf_gone), `when` or not, and the
-- attachment has a delete trigger even when its events omit delete
-- (rowflow._attach); the start function cancels those rows' unfinished
-- runs before it starts any.
--
-- An INSERT (DELETE) trigger's query joins an empty OLD (NEW) row for the
-- expressions to name; without a mention of it, the join goes.
--
-- Measured (pgbench, one client, single-row INSERT, runs per second): the
-- bare table 3,950; a statement trigger inserting one row into a plain
-- table 2,560; see docs/benchmarks.md for this body.
create or replace function rowflow._attachment_body(attachment rowflow.table_attachments)
returns text
language plpgsql stable
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_a rowflow.table_attachments := _attachment_body.attachment;
  v_pk text[];
  v_event text;
  v_query text;
  v_exprs text := concat_ws(' ', v_a.when_sql, v_a.input_sql, v_a.key_sql);
  v_checks text := '';
  v_events text[] := v_a.events;
begin
  v_pk := array(
    select a.attname::text
    from pg_catalog.pg_index as i
    cross join lateral unnest(i.indkey) with ordinality as k(attnum, o)
    join pg_catalog.pg_attribute as a on a.attrelid = i.indrelid and a.attnum = k.attnum
    where i.indrelid = v_a.relid and i.indisprimary
    order by k.o);
  if v_a.on_delete <> 'ignore' and not 'delete' = any (v_events) then
    v_events := v_events || 'delete'::text;
  end if;
  foreach v_event in array v_events loop
    v_checks := v_checks || pg_catalog.format(E'  %s rf_tg.rf_op = %L then\n',
        case when v_checks = '' then 'if' else 'elsif' end, v_event);
    if v_event = 'delete' and v_a.on_delete <> 'ignore' then
      v_checks := v_checks || '    rf_tg.rf_gone := (select pg_catalog.array_agg('
        || rowflow._attachment_source(v_pk, 'old') || E') from rf_old as old);\n';
    end if;
    continue when not v_event = any (v_a.events);  -- on_delete only: no run starts
    v_query := rowflow._attachment_query(v_a.relid::regclass, v_event, v_pk, v_a.when_sql, v_a.input_sql,
                                         v_a.key_sql, 'rf_tg.rf_inputs, rf_tg.rf_keys, rf_tg.rf_sources', v_a.columns,
                                         v_a.exclude_columns);
    if v_event = 'insert' and v_exprs !~* '\mold\M' then
      v_query := replace(v_query, E'\nfrom rf_new as new left join (select * from rf_new where false) as old on true\n',
                         E'\nfrom rf_new as new\n');
    elsif v_event = 'delete' and v_exprs !~* '\mnew\M' then
      v_query := replace(v_query, E'\nfrom rf_old as old left join (select * from rf_old where false) as new on true\n',
                         E'\nfrom rf_old as old\n');
    end if;
    v_checks := v_checks || '    ' || v_query || E';\n';
  end loop;
  return E'\n#variable_conflict use_column\n<<rf_tg>>\ndeclare\n'
    || E'  rf_inputs jsonb[];\n  rf_keys text[];\n  rf_sources text[];\n  rf_gone text[];\n'
    || E'  rf_op text := pg_catalog.lower(tg_op);\n'
    || E'  rf_schema text := tg_table_schema;\n  rf_table text := tg_table_name;\nbegin\n'
    || pg_catalog.format(E'  -- rowflow attachment %s: workflow %s on %s (generated by rowflow.attach; do not edit)\n',
         v_a.id, v_a.workflow, v_a.relid::regclass)
    || E'  if pg_catalog.current_setting(''rowflow.mode'', true) = ''suppress'' then\n    return null;\n  end if;\n'
    || v_checks
    || E'  end if;\n'
    || E'  if rf_tg.rf_inputs is not null or rf_tg.rf_gone is not null then\n'
    || pg_catalog.format(E'    perform rowflow.%I(rf_tg.rf_inputs, rf_tg.rf_keys, rf_tg.rf_sources, rf_tg.rf_gone);\n',
                         'st_' || substr(v_a.function_name, 4))
    || E'  end if;\n  return null;\nend;\n';
end;
$$;
comment on function rowflow._attachment_body(rowflow.table_attachments) is
  'Internal: the plpgsql body of an attachment''s trigger function (the expressions, as the table owner; the runs through its start function).';
select rowflow._allow('function rowflow._attachment_body(rowflow.table_attachments)', '{}');

-- from sql/schema/50_attach/_attachment_query.sql
create or replace function rowflow._attachment_query(
  rel regclass, event text, pk_cols text[], when_sql text, input_sql text, key_sql text,
  into_vars text default null, columns text[] default null, exclude_columns text[] default null)
returns text
language plpgsql stable
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_src text;
  v_pair text;
  v_key_obj text;
  v_input text;
  v_key text;
  v_row text;
  v_old text;
  v_alias text;
  v_expr text;
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
  -- The row as JSON: whole, only some columns, or without some; as `new`
  -- and as `old` (the row of a delete, the old row of an update).
  foreach v_alias in array array['new', 'old'] loop
    v_expr := case
      when _attachment_query.columns is not null then
        (select 'pg_catalog.jsonb_build_object(' || pg_catalog.string_agg(pg_catalog.format('%L, %s.%I', t.c, v_alias, t.c),
                                                                          ', ' order by t.o) || ')'
         from unnest(_attachment_query.columns) with ordinality as t(c, o))
      when _attachment_query.exclude_columns is not null then
        pg_catalog.format('(pg_catalog.to_jsonb(%s.*) operator(pg_catalog.-) %L::text[])', v_alias,
                          _attachment_query.exclude_columns)
      else pg_catalog.format('pg_catalog.to_jsonb(%s.*)', v_alias) end;
    if v_alias = 'new' then
      v_row := v_expr;
    else
      v_old := v_expr;
    end if;
  end loop;
  if _attachment_query.event = 'delete' then
    v_row := v_old;
  end if;
  v_input := coalesce(
    E'\n' || _attachment_query.input_sql || E'\n',
    pg_catalog.format(
      'pg_catalog.jsonb_build_object(''schema'', rf_tg.rf_schema, ''table'', rf_tg.rf_table, ''op'', %L, '
      '''key'', %s%s%s)',
      _attachment_query.event,
      coalesce(v_key_obj, 'null::jsonb'),
      -- columns => '{}': the key only (the handler reads the current row).
      case when cardinality(_attachment_query.columns) = 0 then '' else ', ''row'', ' || v_row end,
      case when _attachment_query.event = 'update' and coalesce(cardinality(_attachment_query.columns), 1) > 0
           then ', ''old'', ' || v_old else '' end));
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
    || case when coalesce(cardinality(_attachment_query.pk_cols), 0) = 0 then ', null::text[]'
            else ', pg_catalog.array_agg(rf_q.source)' end
    || coalesce(' into ' || _attachment_query.into_vars, '') || E'\n'
    || 'from (select coalesce((' || v_input || '), null::jsonb) as input, '
    || v_key || ' as key, '
    || rowflow._attachment_source(_attachment_query.pk_cols,
                                  case when _attachment_query.event = 'delete' then 'old' else 'new' end)
    || ' as source' || E'\n'
    || 'from ' || v_src || E'\n'
    || 'where (' || coalesce(E'\n' || _attachment_query.when_sql || E'\n', 'true') || ')) as rf_q';
end;
$$;
select rowflow._allow('function rowflow._attachment_query(regclass, text, text[], text, text, text, text, text[], text[])', '{}');

-- from sql/schema/50_attach/_attachment_source.sql
create or replace function rowflow._attachment_source(pk_cols text[], alias text)
returns text
language sql immutable
set search_path to ''
as $$
  select case
    when coalesce(pg_catalog.cardinality(_attachment_source.pk_cols), 0) = 0 then 'null::text'
    when pg_catalog.cardinality(_attachment_source.pk_cols) = 1 then
      pg_catalog.format('(%s.%I)::text', _attachment_source.alias, _attachment_source.pk_cols[1])
    else 'pg_catalog.jsonb_build_array(' || (
      select pg_catalog.string_agg(pg_catalog.format('(%s.%I)::text', _attachment_source.alias, t.c), ', ' order by t.o)
      from unnest(_attachment_source.pk_cols) with ordinality as t(c, o)) || ')::text'
  end;
$$;
select rowflow._allow('function rowflow._attachment_source(text[], text)', '{}');

-- from sql/schema/50_attach/_attachment_start_body.sql
-- rowflow._attachment_start_body(attachment) → the plpgsql body of its start function
--
-- The start function (rowflow.st_…) receives what the trigger function
-- computed for one statement: the qualifying rows' inputs (and keys). It
-- runs as rowflow's owner and trusts nothing else: the workflow is fixed in
-- its body, the inputs are checked like start_runs' (RF022).
--
-- Without an idempotency key, the inputs become queued runs in one
-- INSERT … SELECT that also looks up the workflow's latest version and
-- whether a worker or a live view waits, so a single run nobody waits for
-- costs no further plpgsql call; a small JSON object passes as is, anything
-- else meets rowflow._run_input. A paused workflow's runs are inserted all
-- the same and wait (the write must not fail). When the workflow is unknown
-- (a broken restore) or the mode is not normal/backfill, nothing is
-- inserted and the inputs go to rowflow._start_attached, which raises
-- RF020/RF039 (or starts nothing for 'suppress'); keyed attachments go there
-- too (it starts them through _queue_runs, which resolves the keys).
--
-- Each run records its source row (runs.source_relid, source_key: the
-- table, fixed in the body, and `sources`, the rows' primary keys). With
-- on_delete, `gone` holds the keys of the rows a DELETE removed, whose
-- unfinished runs of this workflow are cancelled (or compensated) first;
-- with supersede, each new run cancels the older unfinished runs of its row
-- (rowflow._cancel_source_runs). Neither raises: the write goes on.
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
    || E'    with rf_w as (\n'
    || pg_catalog.format(E'      select w.latest_version as version from rowflow.workflows as w where w.name = %L\n',
         v_a.workflow)
    || E'    ), rf_ins as (\n'
    || E'      insert into rowflow.runs as rf_r (workflow, version, status, input, priority, created_at, updated_at,\n'
    || E'                                        source_relid, source_key)\n'
    || pg_catalog.format(E'      select %L, rf_w.version, ''queued'',\n', v_a.workflow)
    || E'             case when pg_catalog.jsonb_typeof(rf_q.input) = ''object''\n'
    || E'                       and pg_catalog.pg_column_size(rf_q.input) <= 174762\n'
    || E'                       and pg_catalog.pg_column_compression(rf_q.input) is null\n'
    || E'                  then rf_q.input else rowflow._run_input(rf_q.input) end,\n'
    || pg_catalog.format(E'             rf_st.rf_prio, pg_catalog.now(), pg_catalog.now(), %s::oid, rf_q.source\n',
                         v_a.relid::int8)
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

-- from sql/schema/50_attach/_cancel_source_runs.sql
create or replace function rowflow._cancel_source_runs(workflow text, relid oid, keys text[], superseding bigint[],
  compensate boolean, via text)
returns int
language plpgsql
set search_path to ''
set plan_cache_mode to force_generic_plan
set enable_seqscan to off
as $$
#variable_conflict use_column
declare
  v_rec record;
  v_n int := 0;
  v_state text;
  v_message text;
begin
  -- GUARD: nothing to do (no row had a key: no primary key).
  if _cancel_source_runs.keys is null
     or not exists (select 1 from unnest(_cancel_source_runs.keys) as k where k is not null) then
    return 0;
  end if;
  -- PHASE 1: each unfinished run of those rows, locked in id order.
  begin
    for v_rec in
      select r as run, k.sup
      from (select t.key, max(t.sup) as sup
            from unnest(_cancel_source_runs.keys, _cancel_source_runs.superseding) as t(key, sup)
            where t.key is not null group by t.key) as k
      join rowflow.runs as r on r.source_relid = _cancel_source_runs.relid and r.source_key = k.key
      where r.workflow = _cancel_source_runs.workflow
        and r.status in ('queued', 'running', 'compensating')
        and not r.id = any (coalesce(_cancel_source_runs.superseding, '{}'))
      order by r.id
      for no key update of r
    loop
      if rowflow._cancel_locked(v_rec.run,
           case when v_rec.sup is null then 'its source row was deleted'
                else pg_catalog.format('superseded by run %s (a newer change of its source row)', v_rec.sup) end,
           null, _cancel_source_runs.compensate, _cancel_source_runs.via) then
        v_n := v_n + 1;
      end if;
    end loop;
  exception when others then
    get stacked diagnostics v_state = returned_sqlstate, v_message = message_text;
    raise warning 'rowflow: % of workflow % could not cancel the runs of % row(s) of %: % (%); they go on',
      _cancel_source_runs.via, _cancel_source_runs.workflow, cardinality(_cancel_source_runs.keys),
      _cancel_source_runs.relid::regclass, v_message, v_state;
    return 0;
  end;
  return v_n;
end;
$$;
comment on function rowflow._cancel_source_runs(text, oid, text[], bigint[], boolean, text) is
  'Internal: cancels (or compensates) the unfinished runs of a workflow started by the given source rows, except the superseding ones; never raises.';
select rowflow._allow('function rowflow._cancel_source_runs(text, oid, text[], bigint[], boolean, text)', '{}');

-- from sql/schema/50_attach/_detach.sql
create or replace function rowflow._detach(relid oid, given text, workflow text, caller name)
returns int
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_row record;
  v_count int := 0;
begin
  -- GUARD: table and ownership; serialise with attach.
  perform rowflow._attachable_table(_detach.relid, _detach.given, 'detach', _detach.caller);
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
    execute pg_catalog.format('drop function if exists rowflow.%I(jsonb[], text[], text[], text[])',
                              'st_' || substr(v_row.function_name, 4));
    delete from rowflow.table_attachments as a where a.id = v_row.id;
    v_count := v_count + 1;
  end loop;
  if v_count = 0 then
    raise exception 'detach: workflow % is not attached to %',
      coalesce(pg_catalog.quote_literal(_detach.workflow), 'null'), _detach.relid::regclass
      using errcode = 'RF037', hint = 'See select * from rowflow.attachments;';
  end if;
  perform rowflow._audit('detach', _detach.workflow, null, null, null,
                         pg_catalog.jsonb_build_object('table', _detach.relid::regclass::text, 'removed', v_count,
                                                       'caller', _detach.caller), null);
  return v_count;
end;
$$;
select rowflow._allow('function rowflow._detach(oid, text, text, name)', '{}');

-- from sql/schema/50_attach/_install_attachment.sql
create or replace function rowflow._install_attachment(id int)
returns void
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_a rowflow.table_attachments;
  v_owner oid;
  v_owner_name name;
  v_start text;
  v_is_rowflow_owner boolean;
begin
  select a.* into v_a from rowflow.table_attachments as a where a.id = _install_attachment.id;
  if not found then
    raise exception 'internal: no attachment %', _install_attachment.id using errcode = 'XX000';
  end if;
  select c.relowner into v_owner from pg_catalog.pg_class as c where c.oid = v_a.relid;
  v_owner_name := pg_catalog.pg_get_userbyid(v_owner);
  v_start := 'st_' || substr(v_a.function_name, 4);
  v_is_rowflow_owner := v_owner = (select n.nspowner from pg_catalog.pg_namespace as n where n.nspname = 'rowflow');

  -- PHASE 1: the start function, rowflow's.
  execute pg_catalog.format(
    'create or replace function rowflow.%I(inputs jsonb[], keys text[], sources text[], gone text[]) returns void '
    'language plpgsql '
    'security definer set search_path to '''' as %L', v_start,
    rowflow._attachment_start_body(v_a));
  perform rowflow._allow(pg_catalog.format('function rowflow.%I(jsonb[], text[], text[], text[])', v_start), '{}');
  if not v_is_rowflow_owner then
    execute pg_catalog.format('grant execute on function rowflow.%I(jsonb[], text[], text[], text[]) to %I', v_start,
                              v_owner_name);
    execute pg_catalog.format('grant usage on schema rowflow to %I', v_owner_name);
  end if;
  execute pg_catalog.format('comment on function rowflow.%I(jsonb[], text[], text[], text[]) is %L', v_start,
    pg_catalog.format('rowflow attachment %s: starts runs of workflow %s for the trigger function rowflow.%s',
                      v_a.id, v_a.workflow, v_a.function_name));

  -- PHASE 2: the trigger function, the table owner's.
  execute pg_catalog.format(
    'create or replace function rowflow.%I() returns trigger language plpgsql security definer '
    'set search_path to '''' as %L', v_a.function_name, rowflow._attachment_body(v_a));
  perform rowflow._give_function(pg_catalog.format('rowflow.%I()', v_a.function_name)::regprocedure, v_owner);
  perform rowflow._allow(pg_catalog.format('function rowflow.%I()', v_a.function_name), '{}');
  execute pg_catalog.format('comment on function rowflow.%I() is %L', v_a.function_name,
    pg_catalog.format('rowflow attachment %s: starts workflow %s for %s on %s (runs as the table owner, %s)', v_a.id,
      v_a.workflow, array_to_string(v_a.events, ', '), v_a.relid::regclass, v_owner_name));
  -- The start function of before the source rows took (inputs, keys) only.
  if pg_catalog.to_regprocedure(pg_catalog.format('rowflow.%I(jsonb[], text[])', v_start)) is not null then
    execute pg_catalog.format('drop function rowflow.%I(jsonb[], text[])', v_start);
  end if;
end;
$$;
select rowflow._allow('function rowflow._install_attachment(int)', '{}');

-- from sql/schema/50_attach/_purge_stale_attachments.sql
create or replace function rowflow._purge_stale_attachments()
returns void
language plpgsql
set search_path to ''
as $$
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
    execute pg_catalog.format('drop function if exists rowflow.%I(jsonb[], text[], text[], text[])',
                              'st_' || substr(v_row.function_name, 4));
    delete from rowflow.table_attachments as a where a.id = v_row.id;
  end loop;
end;
$$;
select rowflow._allow('function rowflow._purge_stale_attachments()', '{}');

-- from sql/schema/50_attach/_start_attached.sql
-- rowflow._start_attached(attachment_id, workflow, inputs, keys, source_relid, sources) → run ids
--
-- The slower path of an attachment's start function (rowflow.st_…; the
-- fast one is inline in its body, sql/schema/50_attach/_attachment_start_body.sql):
-- keyed attachments, an unknown workflow (start_runs raises RF020) and a bad
-- mode (RF039). One call per statement with every qualifying row's input:
-- the mode, one _queue_runs call, the pending_runs() note. It runs as
-- rowflow's owner: the start function fixes the workflow. The runs record
-- their source rows (source_relid, `sources`). Answers the runs' ids in
-- input order (null when it started nothing), so that the start function
-- applies supersede to both of its paths alike.
--
-- Backfill priority: graphile-worker takes the available job with the
-- lowest priority value first, and claim_runs and the gates hand out the
-- lowest (priority, id) first. A backfill run gets run priority 1000, the
-- largest start_runs accepts, so any live work is taken before every
-- backfill step whose priority is not more than 999 lower: a backfill
-- delays live work by at most the backfill steps already running, never by
-- its backlog.
create or replace function rowflow._start_attached(attachment_id int, workflow text, inputs jsonb[], keys text[],
  source_relid oid, sources text[])
returns bigint[]
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_mode text := pg_catalog.current_setting('rowflow.mode', true);
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

  -- PHASE 1: the runs. One row without an idempotency key (an app's plain
  -- INSERT) is inlined: one INSERT, no further plpgsql call; everything else
  -- (and a bad input, for its RF022) goes through _queue_runs.
  if cardinality(_start_attached.inputs) = 1 and _start_attached.keys[1] is null
     and pg_catalog.jsonb_typeof(_start_attached.inputs[1]) = 'object'
     and pg_catalog.pg_column_size(_start_attached.inputs[1]) <= 174762 then
    v_now := pg_catalog.now();
    insert into rowflow.runs as r (workflow, version, status, input, priority, created_at, updated_at, source_relid,
                                   source_key)
    values (v_wf.name, v_wf.latest_version, 'queued', _start_attached.inputs[1], v_prio, v_now, v_now,
            _start_attached.source_relid, _start_attached.sources[1])
    returning r.id into v_id;
    v_woke := rowflow._wake_all(0, 1, pg_catalog.jsonb_build_object('run', v_id));
    v_ranges := pg_catalog.set_config('rowflow.pending_runs',
      coalesce(nullif(pg_catalog.current_setting('rowflow.pending_runs', true), '') || ',', '')
        || v_id || '-' || v_id, true);
    return array[v_id];
  end if;
  v_ids := rowflow._queue_runs(v_wf.name, v_wf.latest_version, _start_attached.inputs, _start_attached.keys,
                               v_prio, null, _start_attached.source_relid, _start_attached.sources);
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

-- from sql/schema/50_attach/attach.sql
create or replace function rowflow.attach(
  table_name regclass,
  workflow text,
  events text[] default '{insert}',
  "when" text default null,
  input text default null,
  idempotency_key text default null,
  columns text[] default null,
  exclude_columns text[] default null,
  caller name default current_user,
  on_delete text default 'ignore',
  supersede boolean default false)
returns int
language sql
security definer
set search_path to ''
as $$
  select rowflow._attach(attach.table_name, attach.table_name::text, attach.workflow,
                         attach.events, attach."when", attach.input, attach.idempotency_key,
                         attach.columns, attach.exclude_columns, attach.caller, attach.on_delete, attach.supersede);
$$;
comment on function rowflow.attach(regclass, text, text[], text, text, text, text[], text[], name, text, boolean) is
  'Same as attach(text, …) for a regclass argument.';
select rowflow._allow('function rowflow.attach(regclass, text, text[], text, text, text, text[], text[], name, text, boolean)', '{}');

create or replace function rowflow.attach(
  table_name text,
  workflow text,
  events text[] default '{insert}',
  "when" text default null,
  input text default null,
  idempotency_key text default null,
  columns text[] default null,
  exclude_columns text[] default null,
  caller name default current_user,
  caller_search_path text default pg_catalog.current_setting('search_path'),
  on_delete text default 'ignore',
  supersede boolean default false)
returns int
language sql
security definer
set search_path to ''
as $$
  select rowflow._attach(rowflow._resolve_table(attach.table_name, attach.caller_search_path),
                         attach.table_name, attach.workflow, attach.events, attach."when",
                         attach.input, attach.idempotency_key, attach.columns, attach.exclude_columns,
                         attach.caller, attach.on_delete, attach.supersede);
$$;
comment on function rowflow.attach(text, text, text[], text, text, text, text[], text[], name, text, text, boolean) is
  'Attaches a workflow to a table: row changes (events) for which "when" holds start a run with the given input (default: the row as JSON, or only `columns`, or without `exclude_columns`) in the same transaction. The table name resolves with the caller''s search_path. on_delete (cancel | compensate | ignore) decides what deleting a row does to its unfinished runs; supersede => true makes a newer run of a row cancel its older unfinished ones. Returns the attachment id. RF020, RF030-RF036.';
select rowflow._allow('function rowflow.attach(text, text, text[], text, text, text, text[], text[], name, text, text, boolean)', '{}');

-- from sql/schema/50_attach/runs_for.sql
create or replace function rowflow.runs_for(table_name regclass, variadic key text[])
returns setof rowflow.visible_runs
language plpgsql stable
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_key text := rowflow._source_key(runs_for.table_name, runs_for.key);
begin
  return query
  select r.* from rowflow.visible_runs as r
  where r.source_relid = runs_for.table_name::oid and r.source_key = v_key
  order by r.id;
end;
$$;
comment on function rowflow.runs_for(regclass, text[]) is
  'The runs a business row''s changes started (any attachment of its table), oldest first: runs_for(''shop.orders'', ''42''); a composite key takes one value per key column. RF032 for a table without a primary key, 22023 for a wrong number of values.';
select rowflow._allow('function rowflow.runs_for(regclass, text[])', '{app,operator,viewer}');

create or replace function rowflow._source_key(relid regclass, key text[])
returns text
language plpgsql stable
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_cols record;
  v_out text[] := '{}';
  v_value text;
begin
  -- GUARD: a table with a primary key, one value per key column.
  select pg_catalog.array_agg(a.attname::text order by k.o) as names,
         pg_catalog.array_agg(pg_catalog.format_type(a.atttypid, a.atttypmod) order by k.o) as types
  into v_cols
  from pg_catalog.pg_index as i
  cross join lateral unnest(i.indkey) with ordinality as k(attnum, o)
  join pg_catalog.pg_attribute as a on a.attrelid = i.indrelid and a.attnum = k.attnum
  where i.indrelid = _source_key.relid and i.indisprimary;
  if v_cols.names is null then
    raise exception 'runs_for: table % has no primary key; runs record their source row by primary key',
      _source_key.relid using errcode = 'RF032';
  end if;
  if coalesce(cardinality(_source_key.key), 0) <> cardinality(v_cols.names)
     or exists (select 1 from unnest(_source_key.key) as k where k is null) then
    raise exception 'runs_for: table %''s primary key is (%); pass % non-null value(s), got %', _source_key.relid,
      pg_catalog.array_to_string(v_cols.names, ', '), cardinality(v_cols.names),
      coalesce(_source_key.key::text, 'null') using errcode = '22023';
  end if;
  -- PHASE 1: each value as its column prints it.
  for i in 1 .. cardinality(v_cols.names) loop
    begin
      execute pg_catalog.format('select ($1::%s)::text', v_cols.types[i]) into v_value using _source_key.key[i];
    exception when data_exception then
      raise exception 'runs_for: % is not a valid % for column %: %', pg_catalog.quote_literal(_source_key.key[i]),
        v_cols.types[i], v_cols.names[i], sqlerrm using errcode = sqlstate;
    end;
    v_out := v_out || v_value;
  end loop;
  return case when cardinality(v_out) = 1 then v_out[1] else pg_catalog.to_jsonb(v_out)::text end;
end;
$$;
select rowflow._allow('function rowflow._source_key(regclass, text[])', '{app,operator,viewer}');

-- from sql/schema/60_gate/_cancel_locked.sql
create or replace function rowflow._cancel_locked(run rowflow.runs, reason text, now timestamptz, compensate boolean,
  via text)
returns boolean
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_run rowflow.runs := _cancel_locked.run;
  v_now timestamptz := coalesce(_cancel_locked.now, pg_catalog.statement_timestamp());
  v_compensate boolean := coalesce(_cancel_locked.compensate, false);
  v_chain int := 0;
  v_error jsonb;
  v_from text := v_run.status;
begin
  -- GUARD: only a queued or active run.
  if v_run.status not in ('queued', 'running', 'compensating') or (v_compensate and v_run.status = 'compensating') then
    return false;
  end if;
  -- PHASE 1: cancel every unfinished step run (a compensation chain too,
  -- unless it is to run now) and remove the queued jobs.
  perform rowflow._cancel_steps(v_run.id, array['step', 'compensation', 'on_failure'],
                                coalesce(_cancel_locked.reason, 'run cancelled'), v_now);
  -- PHASE 2: with compensate, the chain of what succeeded; the run is
  -- 'compensating' while it runs.
  if v_compensate and v_run.status = 'running' then
    v_chain := rowflow._build_chain(v_run, false, v_now);
  end if;
  if v_chain > 0 then
    v_error := pg_catalog.jsonb_build_object('cancelled', true, 'reason', _cancel_locked.reason);
    update rowflow.runs as r
    set status = 'compensating', error = v_error, updated_at = v_now
    where r.id = v_run.id
    returning r.* into v_run;
    insert into rowflow.events (run_id, type, data, at)
    values (v_run.id, 'run_compensating', v_error, v_now);
    perform rowflow._advance_chain_step(v_run, v_now);
  else
    update rowflow.runs as r
    set status = 'cancelled', updated_at = v_now, finished_at = v_now
    where r.id = v_run.id;
    insert into rowflow.events (run_id, type, data, at)
    values (v_run.id, 'run_cancelled', pg_catalog.jsonb_build_object('reason', _cancel_locked.reason, 'from', v_from),
            v_now);
  end if;
  -- PHASE 3: the audit row and the live views' hint.
  perform rowflow._audit('cancel_run', v_run.workflow, v_run.id, null, _cancel_locked.reason,
                         pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
                           'from', v_from, 'compensate', v_compensate, 'compensations', v_chain,
                           'via', _cancel_locked.via)), v_now);
  perform rowflow._notify(pg_catalog.jsonb_build_object('run', v_run.id));
  return true;
end;
$$;
comment on function rowflow._cancel_locked(rowflow.runs, text, timestamptz, boolean, text) is
  'Internal: cancels one locked run (optionally compensating its succeeded steps) and audits it (data.via: how); false if it already ended.';
select rowflow._allow('function rowflow._cancel_locked(rowflow.runs, text, timestamptz, boolean, text)', '{}');

-- from sql/schema/60_gate/cancel_run.sql
create or replace function rowflow.cancel_run(run_id bigint, reason text default null, now timestamptz default null,
  compensate boolean default false)
returns boolean
language plpgsql
security definer
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_now timestamptz := coalesce(cancel_run.now, pg_catalog.statement_timestamp());
  v_run rowflow.runs;
begin
  -- GUARD: an operator, or the app that started the run; lock the run;
  -- only a queued or active run can be cancelled.
  perform rowflow._require('{operator,app}');
  select r.* into v_run from rowflow.runs as r where r.id = cancel_run.run_id for no key update;
  if not found then
    raise exception 'unknown run %', cancel_run.run_id using errcode = 'RF023';
  end if;
  if v_run.started_by is distinct from session_user::text and not rowflow._trusted()
     and not pg_catalog.pg_has_role(session_user, rowflow._role('operator'), 'MEMBER') then
    raise exception 'permission denied: run % was not started by %', v_run.id, session_user
      using errcode = '42501', hint = 'Operators (rowflow_operator) cancel any run; an app cancels its own.';
  end if;
  return rowflow._cancel_locked(v_run, cancel_run.reason, v_now, coalesce(cancel_run.compensate, false), null);
end;
$$;
comment on function rowflow.cancel_run(bigint, text, timestamptz, boolean) is
  'Cancels an active run: unfinished step runs cancelled, their queued jobs removed; with compensate, the succeeded steps are undone first (compensating, then cancelled). False if the run already ended; RF023 if unknown.';
select rowflow._allow('function rowflow.cancel_run(bigint, text, timestamptz, boolean)', '{operator,app}');

-- from sql/schema/85_operate/rerun_from.sql
create or replace function rowflow.rerun_from(run_id bigint, step text, reason text default null,
  now timestamptz default null)
returns jsonb
language plpgsql
security definer
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_now timestamptz := coalesce(rerun_from.now, pg_catalog.statement_timestamp());
  v_src rowflow.runs;
  v_new bigint;
  v_down text[];
  v_copied text[];
  v_reset text[];
  v_queued text[];
  v_status text;
  v_answer jsonb;
begin
  -- GUARD: operators; a known run that has started; a step of its version.
  perform rowflow._require('{operator}');
  select r.* into v_src from rowflow.runs as r where r.id = rerun_from.run_id;
  if not found then
    raise exception 'unknown run %', rerun_from.run_id using errcode = 'RF023';
  end if;
  if not exists (select 1 from rowflow.workflow_steps as ws
                 where ws.workflow = v_src.workflow and ws.version = v_src.version and ws.name = rerun_from.step) then
    raise exception 'run % (workflow %, version %) has no step %', v_src.id, v_src.workflow, v_src.version,
      coalesce(pg_catalog.quote_literal(rerun_from.step), 'null') using errcode = 'RF041';
  end if;
  if v_src.started_at is null then
    raise exception 'run % has not started: nothing ran to rerun from', v_src.id using errcode = 'RF040',
      hint = case when v_src.status = 'queued' then 'It runs once a worker claims it.'
                  else 'retry_run queues it again.' end;
  end if;

  -- PHASE 1: what runs again (step and downstream), what is copied.
  with recursive down(name) as (
    select rerun_from.step
    union
    select dep.name
    from down as d
    join rowflow.workflow_steps as ws on ws.workflow = v_src.workflow and ws.version = v_src.version and ws.name = d.name
    cross join unnest(ws.dependents) as dep(name)
  )
  select array_agg(d.name order by d.name) into v_down from down as d;
  select coalesce(array_agg(ws.name order by ws.name) filter (where c.step is not null), '{}'),
         coalesce(array_agg(ws.name order by ws.name) filter (where c.step is null), '{}')
  into v_copied, v_reset
  from rowflow.workflow_steps as ws
  left join rowflow.step_runs as c
    on c.run_id = v_src.id and c.step = ws.name and c.kind = 'step' and c.status in ('succeeded', 'skipped')
       and ws.name <> all (v_down)
  where ws.workflow = v_src.workflow and ws.version = v_src.version;

  -- PHASE 2: the new run, claimed; the copied steps' rows.
  insert into rowflow.runs (workflow, version, status, input, priority, created_at, updated_at, started_at,
                            started_by, rerun_of, source_relid, source_key)
  values (v_src.workflow, v_src.version, 'running', v_src.input, v_src.priority, v_now, v_now, v_now,
          v_src.started_by, v_src.id, v_src.source_relid, v_src.source_key)
  returning id into v_new;
  insert into rowflow.step_runs (run_id, step, kind, status, deps_remaining, attempt, max_attempts, output,
                                 created_at, started_at, finished_at)
  select v_new, c.step, 'step', c.status, 0, 0, c.max_attempts, c.output, v_now,
         case when c.status = 'succeeded' then v_now end, v_now
  from rowflow.step_runs as c
  where c.run_id = v_src.id and c.kind = 'step' and c.step = any (v_copied)
  order by c.step;

  -- PHASE 3: queue what can run; record it; finish if nothing is left.
  v_queued := rowflow._requeue_steps(v_new, v_reset, v_now);
  v_answer := pg_catalog.jsonb_build_object('run', v_new, 'rerunOf', v_src.id, 'step', rerun_from.step,
    'copied', pg_catalog.to_jsonb(v_copied), 'steps', pg_catalog.to_jsonb(v_reset),
    'queued', pg_catalog.to_jsonb(v_queued));
  insert into rowflow.events (run_id, type, data, at)
  values (v_new, 'run_rerun', v_answer - 'run' || pg_catalog.jsonb_build_object('reason', rerun_from.reason), v_now);
  perform rowflow._audit('rerun_from', v_src.workflow, v_new, rerun_from.step, rerun_from.reason, v_answer, v_now);
  select f.status into v_status from rowflow._finish_runs(array[v_new], v_now) as f;
  perform rowflow._notify(pg_catalog.jsonb_build_object('run', v_new));
  return v_answer || pg_catalog.jsonb_build_object('status', coalesce(v_status, 'running'));
end;
$$;
comment on function rowflow.rerun_from(bigint, text, text, timestamptz) is
  'A new run of the same version and input in which step and everything downstream run again and the other succeeded steps are copied with their outputs; answers the new run id and what it copied.';
select rowflow._allow('function rowflow.rerun_from(bigint, text, text, timestamptz)', '{operator}');

-- from sql/schema/50_attach/attachments.sql (on_delete, supersede appended)
create or replace view rowflow.attachments as
select
  a.id,
  a.relid::regclass as table_name,
  a.workflow,
  a.events,
  a.when_sql,
  a.input_sql,
  a.key_sql as idempotency_key_sql,
  a.columns,
  a.exclude_columns,
  ('rowflow.' || pg_catalog.quote_ident(a.function_name)) as trigger_function,
  array(select t.tgname::text from pg_catalog.pg_trigger as t
        where t.tgrelid = a.relid and t.tgfoid = p.oid order by t.tgname) as triggers,
  a.created_at,
  a.created_by,
  a.on_delete,
  a.supersede
from rowflow.table_attachments as a
join pg_catalog.pg_proc as p
  on p.proname = a.function_name and p.pronamespace = 'rowflow'::regnamespace
where exists (select 1 from pg_catalog.pg_trigger as t where t.tgrelid = a.relid and t.tgfoid = p.oid);
comment on view rowflow.attachments is
  'Every live table attachment with its options (SQL text as given to rowflow.attach).';
select rowflow._allow('view rowflow.attachments', '{viewer}');

-- Every attachment: its trigger function and start function regenerated
-- (same trigger function oid, so its triggers stay; the start function's
-- new signature replaces the old, which _install_attachment drops).
select rowflow._purge_stale_attachments();
select rowflow._install_attachment(a.id) from rowflow.table_attachments as a order by a.id;
-- A stale attachment's old start function (its table was dropped): the purge
-- above knows only the new signature.
do $$
declare
  v_fn regprocedure;
begin
  for v_fn in
    select p.oid::regprocedure from pg_catalog.pg_proc as p
    join pg_catalog.pg_namespace as n on n.oid = p.pronamespace
    where n.nspname = 'rowflow' and p.proname like 'st\_%' and p.proargtypes = '3807 1009'::oidvector
  loop
    execute pg_catalog.format('drop function %s', v_fn);
  end loop;
end
$$;
