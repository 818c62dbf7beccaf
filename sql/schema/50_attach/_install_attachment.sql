-- rowflow._install_attachment(id) — (re)creates an attachment's two functions
--
--   rowflow.tg_…()                 the trigger function: SECURITY DEFINER,
--                                  owned by the table's owner, body from
--                                  rowflow._attachment_body; evaluates the
--                                  expressions as the owner.
--   rowflow.st_…(inputs, keys, sources, gone)
--                                  the start function: SECURITY DEFINER,
--                                  owned by rowflow's owner, EXECUTE for the
--                                  table's owner only; starts the runs of
--                                  this attachment's workflow from computed
--                                  values (rowflow._attachment_start_body).
--
-- The split is the security boundary (docs/security.md): whatever the
-- expressions call (a `when` calling the owner's function, a column type
-- whose cast to json is the owner's) runs as the owner, who could call it
-- anyway; the start function can only start runs of one workflow, which the
-- owner's writes do anyway, and cancel that workflow's runs of the table's
-- rows as on_delete / supersede would (a delete or an update by the owner
-- does the same). Writers need no right on schema rowflow: the
-- trigger function runs as the owner, who gets USAGE on it.
--
-- CREATE OR REPLACE keeps each function's oid, so triggers keep pointing
-- at it: attach calls this once, and a migration that changes the body
-- regenerates every attachment with it.
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
