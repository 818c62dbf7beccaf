-- rowflow._attach(relid, given, workflow, events, "when", input, idempotency_key, columns, exclude_columns, caller, on_delete, supersede) → attachment id
--
-- Installs one statement-level AFTER trigger per event, with transition
-- tables (rf_new / rf_old), and the two generated functions they use
-- (rowflow._install_attachment): the trigger function, which evaluates the
-- user's expressions, and the attachment's start function, which writes the
-- runs. Statement-level, so that an INSERT … SELECT of 100,000 rows starts
-- its runs in one set-based call instead of 100,000 trigger calls.
--
-- Before anything is created, every expression is compiled alone (so the
-- error names the option) and combined, for each event, over empty stand-ins
-- of the transition tables (rowflow._check_attachment_queries), as the table
-- owner: a syntax error, an unknown column, a wrong result type and anything
-- that is not one single expression fail here with RF034. The `when`,
-- `input` and `idempotency_key` expressions are SQL written by the table's
-- owner (like a CHECK constraint); identifiers go through format('%I') and
-- regclass output, literals through format('%L'), and the whole body is
-- passed to CREATE FUNCTION as one %L literal.
--
-- Who runs what (docs/security.md): the expressions, the default row-to-JSON
-- included, run only as the table's owner (the trigger function is theirs),
-- never as rowflow's owner or the role that called attach; so a column type
-- whose cast calls an owner's function, or a `when` calling one, gains no
-- right. Trigger names start with _900_ so they fire after the table's other
-- AFTER statement triggers (Postgres fires triggers of one kind in name
-- order). UPDATE pairs old and new rows by primary key, so an update
-- attachment needs one (RF032); a row whose key itself changed has no old
-- partner.
--
-- Source rows: every run records its row's primary key (runs.source_key).
-- on_delete (cancel | compensate; default ignore) adds a delete trigger
-- even when events omit delete, whose deleted keys cancel the rows'
-- unfinished runs; supersede makes each new run cancel its row's older
-- unfinished ones (sql/schema/50_attach/_cancel_source_runs.sql). Both need
-- a primary key (RF032).
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
