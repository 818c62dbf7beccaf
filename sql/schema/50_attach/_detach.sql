-- rowflow._detach(relid, given, workflow, caller) → how many attachments were removed
--
-- Drops the trigger function of each attachment of the workflow on the table
-- (CASCADE drops its triggers) and its start function, and deletes its row, under the same lock as
-- _attach, after the same checks. RF037 when there is none.
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
