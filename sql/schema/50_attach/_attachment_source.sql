-- rowflow._attachment_source(pk_cols, alias) → the SQL of a row's source key
--
-- What an attachment's run records as its source row (runs.source_key,
-- sql/schema/20_tables/20_runs.sql): the primary key column as text, or for
-- a composite key a JSON array of the columns as text; null (no source)
-- for a table without a primary key. `alias` is new or old. The same text
-- is what rowflow.runs_for computes from the key values it is given
-- (rowflow._source_key), so both must change together.
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
