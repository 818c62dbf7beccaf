-- rowflow._audit(action, workflow, run_id, step, reason, data, now)
--
-- Writes one rowflow.audit row for an operator action, naming the session
-- that acted. Called by the SECURITY DEFINER operations, where
-- current_user is rowflow's owner: the acting identity is session_user
-- and the role it SET ROLE to (the 'role' setting, which a definer
-- function does not change). Without a reason argument the reason is the
-- session's `rowflow.reason` setting, if any (`set local rowflow.reason =
-- 'release 42'` before a migration's define_workflow / attach / detach,
-- which take no reason argument).
create or replace function rowflow._audit(action text, workflow text, run_id bigint, step text, reason text,
  data jsonb, now timestamptz)
returns void
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_role text := pg_catalog.current_setting('role', true);
begin
  insert into rowflow.audit (at, action, workflow, run_id, step, reason, data, session_user_name, set_role,
                             application_name, client_addr)
  values (coalesce(_audit.now, pg_catalog.statement_timestamp()), _audit.action, _audit.workflow, _audit.run_id,
          _audit.step, coalesce(_audit.reason, nullif(pg_catalog.current_setting('rowflow.reason', true), '')),
          _audit.data, session_user,
          case when v_role is null or v_role = 'none' then null else v_role end,
          nullif(pg_catalog.current_setting('application_name', true), ''),
          pg_catalog.inet_client_addr());
end;
$$;
comment on function rowflow._audit(text, text, bigint, text, text, jsonb, timestamptz) is
  'Internal: one rowflow.audit row for an operator action, with the acting session''s identity.';
select rowflow._allow('function rowflow._audit(text, text, bigint, text, text, jsonb, timestamptz)', '{}');
