-- rowflow._setup_roles()
--
-- Creates (when missing) the four group roles rowflow grants its objects to,
-- and records their names in rowflow.roles (sql/schema/05_access/00_roles.sql):
--   app       starts runs, sees its own runs, waits for them
--   worker    claims, begins, completes and fails steps; the worker registry
--   operator  cancels, claims for psql, reads everything (member of viewer)
--   viewer    reads the tables and views (dashboards, metrics)
-- The owner (the role that runs the migrations, owner of schema rowflow)
-- defines workflows and attaches them. The names are rowflow_app, … with an
-- optional prefix (the setting rowflow.role_prefix while migrating, e.g.
-- `rowflow migrate --role-prefix shop_`): roles are global to a Postgres
-- cluster, so two databases that should not share rights use two prefixes.
-- The roles are NOLOGIN groups: grant them to login roles
-- (`grant rowflow_worker to my_worker`). Creating them needs CREATEROLE;
-- without it, existing roles of those names are used, else the migration
-- fails saying which roles to create.
create or replace function rowflow._setup_roles()
returns void
language plpgsql
set search_path to ''
as $$
declare
  v_prefix text := coalesce(pg_catalog.current_setting('rowflow.role_prefix', true), '');
  v_kind text;
  v_name name;
  v_recorded name;
begin
  -- GUARD: a prefix that makes valid role names; the same prefix as before.
  if v_prefix !~ '^[a-z_][a-z0-9_]{0,30}$' and v_prefix <> '' then
    raise exception 'rowflow.role_prefix % is not valid: use up to 31 characters a-z, 0-9 and "_", starting with a letter or "_"',
      pg_catalog.quote_literal(v_prefix) using errcode = '22023';
  end if;
  foreach v_kind in array array['app', 'worker', 'operator', 'viewer'] loop
    v_name := v_prefix || 'rowflow_' || v_kind;
    select r.name into v_recorded from rowflow.roles as r where r.kind = v_kind;
    if v_recorded is not null and v_recorded <> v_name then
      raise exception 'rowflow''s % role is % in this database, not %: migrate with the role prefix it was installed with',
        v_kind, v_recorded, v_name using errcode = '22023';
    end if;
    -- PHASE 1: the role.
    if not exists (select 1 from pg_catalog.pg_roles as r where r.rolname = v_name) then
      begin
        execute pg_catalog.format('create role %I nologin', v_name);
      exception when insufficient_privilege then
        raise exception 'rowflow needs the role % (and %, %, %); create them, or migrate as a role with CREATEROLE',
          v_name, v_prefix || 'rowflow_app', v_prefix || 'rowflow_worker', v_prefix || 'rowflow_operator'
          using errcode = '42501',
                hint = pg_catalog.format('create role %I nologin; (and the others), then run rowflow migrate again', v_name);
      end;
    end if;
    insert into rowflow.roles (kind, name) values (v_kind, v_name) on conflict (kind) do nothing;
  end loop;
  -- PHASE 2: operators read what viewers read.
  if not pg_catalog.pg_has_role(rowflow._role('operator'), rowflow._role('viewer'), 'MEMBER') then
    execute pg_catalog.format('grant %I to %I', rowflow._role('viewer'), rowflow._role('operator'));
  end if;
end;
$$;
comment on function rowflow._setup_roles() is
  'Internal: creates the app, worker, operator and viewer group roles when missing (prefix: the setting rowflow.role_prefix) and records their names in rowflow.roles.';
