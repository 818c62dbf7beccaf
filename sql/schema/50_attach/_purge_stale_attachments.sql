-- rowflow._purge_stale_attachments()
--
-- Removes attachments whose triggers are gone (the table was dropped, or
-- the triggers were dropped by hand) and their two functions, so that a reused
-- table oid never inherits a stale attachment. Called by attach and detach.
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
