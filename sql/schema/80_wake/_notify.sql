-- rowflow._notify(payload)
--
-- The run-change hint for live views (client waits, `rowflow tail`, the
-- dashboard) on channel 'rowflow': at most once per transaction and only
-- while a view waits (rowflow._wake).
create or replace function rowflow._notify(payload jsonb)
returns void
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
begin
  perform rowflow._wake('rowflow', _notify.payload::text);
end;
$$;
comment on function rowflow._notify(jsonb) is
  'Internal: the run-change hint on channel rowflow, at most once per transaction and only when a live view waits (rowflow._wake).';
select rowflow._allow('function rowflow._notify(jsonb)', '{}');
