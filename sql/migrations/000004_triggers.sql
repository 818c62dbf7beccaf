-- 000004_triggers.sql — table attachments: row changes start workflow runs in
-- the same transaction (issue 5).
--
-- What: rowflow.attach(table, workflow, events, "when", input, idempotency_key)
-- installs statement-level AFTER triggers (one per event, with transition
-- tables) whose generated function maps the changed rows to run inputs and
-- calls rowflow._start_attached once per statement, which calls
-- rowflow.start_runs once. rowflow.detach removes them; the view
-- rowflow.attachments lists them; rowflow.pending_runs() lists the runs the
-- current transaction's triggers started; the transaction-local setting
-- rowflow.mode ('suppress' | 'backfill') changes what the triggers do.
--
-- Why statement-level: an INSERT … SELECT of 100,000 rows becomes one
-- start_runs call with 100,000 inputs (set-based inserts, one add_jobs-style
-- insert of the root jobs) instead of 100,000 per-row calls.
--
-- Decisions worth knowing (details next to the code):
-- * The generated function is built with dynamic SQL: identifiers through
--   format('%I') / regclass output, literals through format('%L'), and the
--   whole body is passed to CREATE FUNCTION as one %L literal. The `when`,
--   `input` and `idempotency_key` expressions are SQL written by the table's
--   owner (like a CHECK constraint); they are placed on lines of their own,
--   inside parentheses, and the exact query text is compiled at attach time
--   (OPEN cursor FOR EXECUTE over empty stand-ins for the transition tables),
--   which rejects a syntax error, an unknown column, a wrong result type and
--   anything that is not one single SELECT, before the trigger exists.
-- * UPDATE pairs rows of the old and new transition tables by primary key,
--   so a table without a primary key cannot get an update attachment (RF032).
--   A row whose primary key itself changed has no old partner: `old.*` is
--   null for it.
-- * The trigger function is SECURITY DEFINER, owned by the role that called
--   attach (who must own the table): applications only need their ordinary
--   INSERT/UPDATE/DELETE privilege, not rights on rowflow's tables.

--------------------------------------------------------------------------------
-- Tables and view
--------------------------------------------------------------------------------

create table rowflow.table_attachments (
  id               int generated always as identity primary key,
  relid            oid not null,                 -- pg_class oid; survives renames
  workflow         text not null references rowflow.workflows (name),
  events           text[] not null,
  when_sql         text,
  input_sql        text,
  key_sql          text,
  function_name    text not null unique,        -- in schema rowflow
  created_at       timestamptz not null default now(),
  created_by       name not null default current_user,
  constraint events_are_valid
    check (cardinality(events) between 1 and 3 and events <@ array['insert', 'update', 'delete']),
  constraint function_name_is_safe check (function_name ~ '^tg_[a-z0-9_]+$')
);
create index table_attachments_relid_idx on rowflow.table_attachments (relid, workflow);
comment on table rowflow.table_attachments is
  'One row per rowflow.attach call; the generated trigger function rowflow.<function_name> and its triggers on relid belong to it.';

-- Live attachments only: a row whose table was dropped (its triggers went with
-- it) is not shown, and attach/detach purge such rows.
create view rowflow.attachments as
select
  a.id,
  a.relid::regclass as table_name,
  a.workflow,
  a.events,
  a.when_sql,
  a.input_sql,
  a.key_sql as idempotency_key_sql,
  ('rowflow.' || pg_catalog.quote_ident(a.function_name)) as trigger_function,
  array(select t.tgname::text from pg_catalog.pg_trigger as t
        where t.tgrelid = a.relid and t.tgfoid = p.oid order by t.tgname) as triggers,
  a.created_at,
  a.created_by
from rowflow.table_attachments as a
join pg_catalog.pg_proc as p
  on p.proname = a.function_name and p.pronamespace = 'rowflow'::regnamespace
where exists (select 1 from pg_catalog.pg_trigger as t where t.tgrelid = a.relid and t.tgfoid = p.oid);
comment on view rowflow.attachments is
  'Every live table attachment with its options (SQL text as given to rowflow.attach).';

--------------------------------------------------------------------------------
-- Internal helpers
--------------------------------------------------------------------------------

-- Resolves and checks the table of attach/detach. Raises RF030 (missing),
-- RF031 (not an ordinary or partitioned table, or a system/rowflow table),
-- RF036 (caller does not own it).
create function rowflow._attachable_table(relid oid, given text, verb text)
returns pg_catalog.pg_class
language plpgsql stable
set search_path to ''
as $$
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

-- Removes attachments whose triggers are gone (the table was dropped, or the
-- triggers were dropped by hand) and their functions, so that a reused table
-- oid never inherits a stale attachment.
create function rowflow._purge_stale_attachments()
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
    delete from rowflow.table_attachments as a where a.id = v_row.id;
  end loop;
end;
$$;

-- The SELECT one trigger runs for one event: it reads the transition table(s)
-- (rf_new / rf_old, aliased new / old), keeps the rows where `when` is true,
-- and aggregates the run inputs and idempotency keys. Every event sees both
-- aliases: INSERT's old and DELETE's new are an empty stand-in (all columns
-- null), so one `when` like "new.status = 'paid' and old.status is distinct
-- from 'paid'" works for inserts and updates alike.
--
-- User expressions sit on lines of their own (a trailing -- comment cannot
-- swallow the closing parenthesis) inside parentheses. The type checks are
-- structural: WHERE accepts only boolean; coalesce(…, null::jsonb) accepts
-- only jsonb (or an untyped literal), so text or json is rejected rather than
-- cast at run time; the key is cast to text explicitly.
--
-- `validating` prefixes CTEs named like the transition tables (empty, with
-- the table's columns) so the very same text can be compiled at attach time;
-- `into` is spliced in only for the function body.
create function rowflow._attachment_query(
  rel regclass, event text, pk_cols text[], when_sql text, input_sql text, key_sql text,
  into_vars text default null)
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
$$;

-- Compiles one generated query (see _attachment_query) without running it.
-- A cursor can only be opened for exactly one statement, so an expression
-- that closes its parenthesis and appends "; drop table …" fails here with
-- nothing executed. Any error becomes RF034 naming the option.
create function rowflow._check_attachment_query(query text, what text, expr text, event text)
returns void
language plpgsql
set search_path to ''
as $$
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

--------------------------------------------------------------------------------
-- Modes and the function every generated trigger calls
--------------------------------------------------------------------------------

-- The transaction's mode: rowflow.mode unset, '' or 'normal' → normal;
-- 'suppress' → triggers start nothing; 'backfill' → runs start with run
-- priority 1000. Anything else raises RF039 (a typo like 'supress' must not
-- silently start runs).
create function rowflow._attach_mode()
returns text
language plpgsql stable
set search_path to ''
as $$
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

-- Called once per statement by a generated trigger function, with every run
-- input of the statement. Starts the runs with one start_runs call and
-- remembers their ids for pending_runs().
--
-- Backfill priority: graphile-worker takes the available job with the lowest
-- priority value first (then run_at, then id). A backfill run gets run
-- priority 1000, the largest start_runs accepts, so its jobs have priority
-- step priority + 1000, while live jobs have step priority + 0. As soon as a
-- worker slot frees, any available live job is taken before every backfill
-- job of a step whose priority is not more than 999 lower than the live
-- step's (with default step priorities: all of them). A backfill therefore
-- delays live work by at most the backfill jobs already running, never by
-- the backlog.
create function rowflow._start_attached(attachment_id int, workflow text, inputs jsonb[], keys text[])
returns void
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_mode text := rowflow._attach_mode();
  v_ids bigint[];
  v_ranges text;
begin
  -- GUARD: nothing to do, or suppressed (the trigger checks too, before its query).
  if v_mode = 'suppress' or coalesce(cardinality(_start_attached.inputs), 0) = 0 then
    return;
  end if;

  -- PHASE 1: one start_runs call for the whole statement.
  v_ids := array(select rowflow.start_runs(
    workflow => _start_attached.workflow,
    inputs => _start_attached.inputs,
    idempotency_keys => _start_attached.keys,
    priority => case when v_mode = 'backfill' then 1000 else 0 end));

  -- PHASE 2: remember the ids for pending_runs(), as ranges "lo-hi" of
  -- consecutive ids (start_runs draws them from a sequence with cache 100, so
  -- a statement's ids are a few runs of consecutive numbers). The setting is
  -- transaction-local, and rolled back with a savepoint.
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
comment on function rowflow._start_attached(int, text, jsonb[], text[]) is
  'Internal: the one call a generated attachment trigger makes per statement (mode, start_runs, pending_runs bookkeeping).';

create function rowflow.pending_runs()
returns table (run_id bigint, workflow text, version int, input jsonb, priority smallint, status text,
               created_at timestamptz)
language sql stable
set search_path to ''
as $$
  select r.id, r.workflow, r.version, r.input, r.priority, r.status, r.created_at
  from (
    select distinct pg_catalog.split_part(x, '-', 1)::bigint as lo, pg_catalog.split_part(x, '-', 2)::bigint as hi
    from unnest(pg_catalog.string_to_array(
      nullif(pg_catalog.current_setting('rowflow.pending_runs', true), ''), ',')) as x
  ) as g
  join rowflow.runs as r on r.id between g.lo and g.hi
  order by r.id;
$$;
comment on function rowflow.pending_runs() is
  'Runs started by attached triggers so far in the current transaction (preview: begin; update …; select * from rowflow.pending_runs(); rollback;).';

--------------------------------------------------------------------------------
-- attach / detach
--------------------------------------------------------------------------------

create function rowflow._attach(
  relid oid, given text, workflow text, events text[], "when" text, input text, idempotency_key text)
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

-- attach(table_name text, …): the table name is resolved with the caller's
-- search_path (like a ::regclass cast) so that a missing table is RF030, not
-- a cast error. attach(text)/detach(text) are therefore the only rowflow
-- functions without a pinned search_path: they resolve the name and make one
-- call, every name in them schema-qualified; _attach/_detach pin it.
create function rowflow.attach(
  table_name text,
  workflow text,
  events text[] default '{insert}',
  "when" text default null,
  input text default null,
  idempotency_key text default null)
returns int
language plpgsql
as $$
declare
  v_relid oid;
begin
  begin
    v_relid := pg_catalog.to_regclass(attach.table_name);
  exception when others then
    v_relid := null; -- malformed name (e.g. an unbalanced quote): reported as missing below
  end;
  return rowflow._attach(v_relid, attach.table_name, attach.workflow,
                         attach.events, attach."when", attach.input, attach.idempotency_key);
end;
$$;
comment on function rowflow.attach(text, text, text[], text, text, text) is
  'Attaches a workflow to a table: row changes (events) for which "when" holds start a run with the given input (default: the row as JSON) in the same transaction. Returns the attachment id. RF020, RF030-RF036.';

create function rowflow.attach(
  table_name regclass,
  workflow text,
  events text[] default '{insert}',
  "when" text default null,
  input text default null,
  idempotency_key text default null)
returns int
language sql
set search_path to ''
as $$
  select rowflow._attach(attach.table_name, attach.table_name::text, attach.workflow,
                         attach.events, attach."when", attach.input, attach.idempotency_key);
$$;
comment on function rowflow.attach(regclass, text, text[], text, text, text) is
  'Same as attach(text, …) for a regclass argument.';

create function rowflow._detach(relid oid, given text, workflow text)
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

-- Same search_path rule as attach(text, …).
create function rowflow.detach(table_name text, workflow text)
returns int
language plpgsql
as $$
declare
  v_relid oid;
begin
  begin
    v_relid := pg_catalog.to_regclass(detach.table_name);
  exception when others then
    v_relid := null;
  end;
  return rowflow._detach(v_relid, detach.table_name, detach.workflow);
end;
$$;
comment on function rowflow.detach(text, text) is
  'Removes every attachment of workflow on the table (triggers and function); started runs are left alone. Returns how many. RF030, RF031, RF036, RF037.';

create function rowflow.detach(table_name regclass, workflow text)
returns int
language sql
set search_path to ''
as $$
  select rowflow._detach(detach.table_name, detach.table_name::text, detach.workflow);
$$;
comment on function rowflow.detach(regclass, text) is 'Same as detach(text, text) for a regclass argument.';
