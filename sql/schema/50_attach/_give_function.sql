-- rowflow._give_function(fn, owner) — makes `owner` the owner of a generated function
--
-- An attachment's trigger function (and attach's expression check) must run
-- as the table's owner, so it is SECURITY DEFINER and owned by them
-- (sql/schema/50_attach/_install_attachment.sql). Postgres lets a role hand
-- a function to another only when it can SET ROLE to it and the new owner
-- may create in the schema; rowflow's owner therefore must be a superuser or
-- a member of the table owner (the usual case: one migration role owns both),
-- and the table owner gets CREATE on schema rowflow for the statement's
-- duration only (granted and revoked in this transaction, so no other
-- session ever sees it).
create or replace function rowflow._give_function(fn regprocedure, owner oid)
returns void
language plpgsql
set search_path to ''
as $$
declare
  v_owner name := pg_catalog.pg_get_userbyid(_give_function.owner);
  v_grant boolean;
begin
  -- GUARD: nothing to do, or rights enough to do it.
  if (select p.proowner from pg_catalog.pg_proc as p where p.oid = _give_function.fn) = _give_function.owner then
    return;
  end if;
  if not pg_catalog.pg_has_role(current_user, _give_function.owner, 'MEMBER') then
    raise exception 'attach: rowflow''s owner % cannot hand the trigger function to the table''s owner %', current_user, v_owner
      using errcode = '42501',
            detail = 'The trigger function runs as the table owner, so that the attachment''s expressions never run with rowflow''s rights.',
            hint = pg_catalog.format('grant %I to %I; (or run rowflow''s migrations as a superuser)', v_owner, current_user);
  end if;
  -- PHASE 1: the new owner, with CREATE on the schema for this statement.
  v_grant := not pg_catalog.has_schema_privilege(_give_function.owner, 'rowflow', 'CREATE');
  if v_grant then
    execute pg_catalog.format('grant create on schema rowflow to %I', v_owner);
  end if;
  execute pg_catalog.format('alter function %s owner to %I', _give_function.fn, v_owner);
  if v_grant then
    execute pg_catalog.format('revoke create on schema rowflow from %I', v_owner);
  end if;
end;
$$;
select rowflow._allow('function rowflow._give_function(regprocedure, oid)', '{}');
