-- rowflow.runs_for(table_name, variadic key) → the runs a business row started
--
-- Every run an attachment starts records its source row: the table and the
-- row's primary key (runs.source_relid, source_key). runs_for lists them,
-- oldest first, through rowflow.visible_runs, so a role sees what it may see
-- anyway (an app its own runs). `key` is the primary key's values in key
-- order, as text: runs_for('shop.orders', '42'), or for a composite key
-- runs_for('shop.order_lines', '42', '3'). Each value is read as its
-- column's type and printed again (rowflow._source_key), so '042' finds the
-- runs of 42 as well. Runs started before rowflow recorded source rows, and
-- runs of start_run(s), have none and are not listed.
--
-- SECURITY INVOKER: it reads only the view the caller may read. The lookup
-- is one probe of runs_source_idx.
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

-- rowflow._source_key(relid, key values) → the key as runs.source_key holds it
--
-- The inverse of rowflow._attachment_source for lookups: each value cast to
-- its primary key column's type and back to text, then one value as is or
-- several as a JSON array. A value its type cannot read fails as the cast
-- does (22P02, …), naming the column. Callable by every role runs_for
-- serves (it reads the catalog only), since runs_for runs as its caller.
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
