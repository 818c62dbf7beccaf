-- rowflow._require(kinds) — the role check of SECURITY DEFINER entry points
--
-- EXECUTE on an entry point is granted to its roles only (rowflow._allow);
-- this is the second check, so that an EXECUTE granted by mistake (to PUBLIC,
-- say) still opens nothing: the session must be a member of one of the
-- kinds' roles, or trusted (rowflow._trusted: the owner, a superuser).
-- session_user, not current_user: inside a SECURITY DEFINER function
-- current_user is the owner. (Starting runs checks EXECUTE only: apps start
-- runs from SECURITY DEFINER functions of their own, whose callers are not
-- members of rowflow_app; see docs/security.md.)
create or replace function rowflow._require(kinds text[])
returns void
language plpgsql stable
set search_path to ''
as $$
begin
  if rowflow._trusted() then
    return;
  end if;
  if exists (select 1 from unnest(_require.kinds) as k
             where pg_catalog.pg_has_role(session_user, rowflow._role(k), 'MEMBER')) then
    return;
  end if;
  raise exception 'permission denied: session user % is not a member of %', session_user,
    array_to_string(array(select rowflow._role(k) from unnest(_require.kinds) as k), ' or ')
    using errcode = '42501';
end;
$$;

-- rowflow._lease(key, run_id, step, attempt) → the lease token of a step attempt
--
-- Handed to the worker that runs the attempt (in its handler context);
-- complete_steps and fail_step change nothing without it. Derived, not
-- stored (sql/schema/05_access/10_secrets.sql).
create or replace function rowflow._lease(key bytea, run_id bigint, step text, attempt int)
returns text
language plpgsql immutable
set search_path to ''
as $$
begin
  return rowflow._mac(_lease.key, 'lease:' || _lease.run_id || ':' || _lease.step || ':' || _lease.attempt);
end;
$$;

-- rowflow._check_worker(worker_id, token) — the caller is worker_id
--
-- A worker's token (what register_worker answered) proves its id: without it,
-- any worker role could take steps under another worker's lease, end its
-- leases or keep it alive. Raises RF024 for a wrong token, and for a missing
-- one unless the session is trusted.
create or replace function rowflow._check_worker(worker_id text, token text)
returns void
language plpgsql
set search_path to ''
as $$
begin
  if _check_worker.token is null then
    if rowflow._trusted() then
      return;
    end if;
    raise exception 'a worker token is required to act as worker %', coalesce(_check_worker.worker_id, 'null')
      using errcode = 'RF024', hint = 'Pass the token rowflow.register_worker answered.';
  end if;
  if _check_worker.token is distinct from rowflow._mac(rowflow._secret(), 'worker:' || _check_worker.worker_id) then
    raise exception 'the worker token does not match worker %', coalesce(_check_worker.worker_id, 'null')
      using errcode = 'RF024';
  end if;
end;
$$;
