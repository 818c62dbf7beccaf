-- rowflow._allow(object, kinds) — the access decision for one rowflow object
--
-- Every table, view and function of rowflow ends its file with one call:
-- `select rowflow._allow('function rowflow.claim_runs(…)', '{worker}')`. It
-- revokes everything from PUBLIC and from rowflow's roles, then grants the
-- kinds listed (EXECUTE on a function, SELECT on a table or view, USAGE on
-- the schema), so each object's rights are exactly its decision, visible next
-- to its code; test/sql/invariants/privileges.test.ts checks the whole matrix.
-- Objects are named in the file, never taken from input; they are resolved
-- through regprocedure / regclass and quoted with format('%s'), so a typo
-- fails the build. An empty list means: the owner only (the functions the
-- SECURITY DEFINER entry points call internally run as the owner anyway).
create or replace function rowflow._allow(object text, kinds text[], privilege text default null)
returns void
language plpgsql
set search_path to ''
as $$
declare
  v_kind text := pg_catalog.split_part(_allow.object, ' ', 1);
  v_name text := pg_catalog.substr(_allow.object, pg_catalog.length(v_kind) + 2);
  v_target text;
  v_priv text;
  v_role name;
  v_k text;
begin
  -- GUARD: a known kind of object, an object that exists, known role kinds.
  if v_kind = 'function' then
    v_target := 'function ' || pg_catalog.to_regprocedure(v_name)::text;
    v_priv := coalesce(_allow.privilege, 'execute');
  elsif v_kind in ('table', 'view') then
    v_target := 'table ' || pg_catalog.to_regclass(v_name)::text;
    v_priv := coalesce(_allow.privilege, 'select');
  elsif v_kind = 'schema' then
    v_target := 'schema ' || pg_catalog.quote_ident(v_name);
    v_priv := coalesce(_allow.privilege, 'usage');
  end if;
  if v_target is null then
    raise exception '_allow: no such object: %', _allow.object using errcode = '42704';
  end if;
  if exists (select 1 from unnest(_allow.kinds) as k where k not in ('app', 'worker', 'operator', 'viewer')) then
    raise exception '_allow: unknown role kind in %', _allow.kinds::text using errcode = '22023';
  end if;
  -- PHASE 1: nothing for anyone but the owner.
  if v_kind <> 'schema' then
    execute pg_catalog.format('revoke all on %s from public', v_target);
  end if;
  for v_role in select r.name from rowflow.roles as r order by r.kind loop
    execute pg_catalog.format('revoke all on %s from %I', v_target, v_role);
  end loop;
  -- PHASE 2: the decision.
  foreach v_k in array _allow.kinds loop
    execute pg_catalog.format('grant %s on %s to %I', v_priv, v_target, rowflow._role(v_k));
  end loop;
end;
$$;
