-- rowflow._trusted() → whether this session may act as rowflow's owner
--
-- The owner (a member of the role that owns schema rowflow, or a superuser)
-- can change any rowflow row directly, so the gate does not insist on lease
-- and worker tokens from it (psql, tests, the owner's own scripts); tokens it
-- passes are still checked. Every other session must show them.
create or replace function rowflow._trusted()
returns boolean
language plpgsql stable
set search_path to ''
as $$
begin
  return (select pg_catalog.pg_has_role(session_user, n.nspowner, 'MEMBER')
          from pg_catalog.pg_namespace as n where n.nspname = 'rowflow');
end;
$$;
