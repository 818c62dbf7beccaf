-- rowflow._role(kind) → the name of rowflow's role of that kind
--
-- Names are recorded at install (rowflow._setup_roles): a database may use a
-- role prefix, so nothing in rowflow names a role literally.
create or replace function rowflow._role(kind text)
returns name
language plpgsql stable
set search_path to ''
as $$
declare
  v_name name;
begin
  select r.name into v_name from rowflow.roles as r where r.kind = _role.kind;
  if v_name is null then
    raise exception 'rowflow has no % role recorded (rowflow.roles); run rowflow migrate', _role.kind
      using errcode = '22023';
  end if;
  return v_name;
end;
$$;

-- rowflow._may(kind, who) → whether `who` (default: the current role) may act as rowflow's role of that kind
--
-- For views that show rows by role (sql/schema/25_views/visible_runs.sql): a
-- member of the kind's role, a member of the owner role (the owner of schema
-- rowflow), or a superuser. SECURITY DEFINER, to read rowflow.roles for
-- anyone; `who` defaults to the caller's current_user, evaluated in the
-- caller's query (a default is), and it only answers a question.
create or replace function rowflow._may(kind text, who name default current_user)
returns boolean
language plpgsql stable
security definer
set search_path to ''
as $$
begin
  return (select pg_catalog.pg_has_role(_may.who, rowflow._role(_may.kind), 'MEMBER')
              or pg_catalog.pg_has_role(_may.who, n.nspowner, 'MEMBER')
          from pg_catalog.pg_namespace as n where n.nspname = 'rowflow');
end;
$$;
