-- rowflow._attachment_query(rel, event, pk_cols, when_sql, input_sql, key_sql, into_vars, columns, exclude_columns) → a SELECT
--
-- The SELECT an attachment's trigger runs for one event: it reads the
-- transition table(s) (rf_new / rf_old, aliased new / old), keeps the rows
-- where `when` is true, and aggregates the run inputs, idempotency keys and
-- source keys (the rows' primary keys, rowflow._attachment_source).
-- Every event sees both aliases: INSERT's old and DELETE's new are an empty
-- stand-in (all columns null), so one `when` like "new.status = 'paid' and
-- old.status is distinct from 'paid'" works for inserts and updates alike.
--
-- User expressions sit on lines of their own (a trailing -- comment cannot
-- swallow the closing parenthesis) inside parentheses. The type checks are
-- structural: WHERE accepts only boolean; coalesce(…, null::jsonb) accepts
-- only jsonb (or an untyped literal), so text or json is rejected rather
-- than cast at run time; the key is cast to text explicitly.
--
-- The default input's "row" (and "old") is the whole row, to_jsonb(new.*),
-- or only `columns`, or the row without `exclude_columns` (attach's options,
-- for rows that hold secrets: docs/triggers.md); `columns => '{}'` leaves
-- both out: the key only, the smallest run row (the handler reads the
-- current row by its key).
--
-- Without into_vars the text starts with CTEs named like the transition
-- tables (empty, with the table's columns), so the very same query compiles
-- at attach time; into_vars is spliced in only for the function body.
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
