-- rowflow._attachable_table(relid, given, verb, caller) → the table's pg_class row
--
-- The checks attach and detach share: the table exists (RF030), is an
-- ordinary or partitioned table outside system schemas and rowflow's own
-- (RF031), and the caller owns it or is a member of its owner (RF036), as
-- for CREATE TRIGGER. `given` is the name as the caller wrote it, for the
-- message; `verb` names the caller; `caller` is the role attach and detach
-- act for (they run as rowflow's owner, so current_user is not the caller).
create or replace function rowflow._attachable_table(relid oid, given text, verb text, caller name)
returns pg_catalog.pg_class
language plpgsql stable
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_rel pg_catalog.pg_class;
  v_schema text;
begin
  if _attachable_table.caller is null
     or not exists (select 1 from pg_catalog.pg_roles as r where r.rolname = _attachable_table.caller) then
    raise exception '%: caller % is not a role', _attachable_table.verb,
      coalesce(pg_catalog.quote_literal(_attachable_table.caller), 'null') using errcode = '42704';
  end if;
  if not pg_catalog.pg_has_role(session_user, _attachable_table.caller, 'MEMBER') then
    raise exception '%: session user % is not a member of %, so it cannot act for it', _attachable_table.verb,
      session_user, _attachable_table.caller using errcode = '42501';
  end if;
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
  if not pg_catalog.pg_has_role(_attachable_table.caller, v_rel.relowner, 'USAGE') then
    raise exception '%: must be the owner of table % (owner: %, you: %)', _attachable_table.verb,
      _attachable_table.relid::regclass, pg_catalog.pg_get_userbyid(v_rel.relowner), _attachable_table.caller
      using errcode = 'RF036',
            hint = 'Run it as the table owner or a member of the owning role (e.g. from the migration that created the table).';
  end if;
  return v_rel;
end;
$$;
select rowflow._allow('function rowflow._attachable_table(oid, text, text, name)', '{}');
