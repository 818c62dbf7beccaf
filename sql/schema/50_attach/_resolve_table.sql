-- rowflow._resolve_table(table_name, caller_search_path) → oid
--
-- Resolves a table name under the caller's search_path (see attach.sql);
-- null when there is no such table or the name does not parse (the callers
-- report RF030). The function's own empty search_path is restored at once.
create or replace function rowflow._resolve_table(table_name text, caller_search_path text)
returns oid
language plpgsql
set search_path to ''
as $$
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
select rowflow._allow('function rowflow._resolve_table(text, text)', '{}');
