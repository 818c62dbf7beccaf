-- 000017_roles_and_fences.sql — written by `npm run db:migration` from sql/schema/, table changes,
-- roles and the attachment regeneration by hand.
--
-- Security (docs/security.md): rowflow lives in the application's database,
-- so a DBA must be able to give an app, a worker, an operator and a
-- dashboard exactly the rights they need.
--
-- * Roles: rowflow_app, rowflow_worker, rowflow_operator, rowflow_viewer
--   (NOLOGIN groups, optional prefix rowflow.role_prefix; rowflow.roles).
--   Every object's rights are its decision, rowflow._allow(...) at the end of
--   its file in sql/schema/: EXECUTE revoked from PUBLIC on every function
--   (56 of 61 had it), tables readable by viewers and written only through
--   functions. Entry points are SECURITY DEFINER, search_path pinned, and
--   check the session's role membership (rowflow._require).
-- * Fenced gates: claim/begin hand each attempt a lease token (a MAC of run,
--   step and attempt under a key only the owner reads); complete_steps and
--   fail_step without it change nothing ("not_lease_holder"). A worker proves
--   its id with the token register_worker answers; a graphile job begins only
--   for the worker holding its lock, so a delayed step cannot start early by
--   hand. Trusted sessions (the owner, a superuser) may omit tokens.
-- * Attachments cannot escalate: the generated trigger function now belongs
--   to the table's owner and runs the user's expressions (and the default
--   row-to-JSON) as them; writing runs is a separate SECURITY DEFINER start
--   function of rowflow's owner that takes the computed values. attach and
--   detach are SECURITY DEFINER (table_attachments is not writable by
--   attachers) and check that the caller owns the table. New attach options
--   `columns` / `exclude_columns` shape the default input. Every existing
--   attachment is regenerated below.
-- * define_workflow: a workflow belongs to the role that defined it first;
--   others cannot redefine it.
-- * Integrity: a run whose workflow version does not exist fails at claim
--   (RF025; no foreign key: its KEY SHARE lock on the version row at every
--   start would make concurrent starts share multixacts); step outputs over
--   rowflow.max_output_bytes (default 1 MiB) are refused ("output_too_large").
-- * runs.started_by (the starting session's user): rowflow.visible_runs
--   shows an app its own runs; cancel_run lets an app cancel only those.

drop function rowflow._attach(relid oid, given text, workflow text, events text[], "when" text, input text, idempotency_key text);
drop function rowflow._attachable_table(relid oid, given text, verb text);
drop function rowflow._attachment_query(rel regclass, event text, pk_cols text[], when_sql text, input_sql text, key_sql text, into_vars text);
drop function rowflow._begin(run_ids bigint[], steps text[], attempts integer[], os integer[], worker_id text, now timestamp with time zone, reserved boolean);
drop function rowflow._check_attachment_query(query text, what text, expr text, event text);
drop function rowflow._context(run_id bigint, step text, kind text, attempt integer, max_attempts integer, task text, workflow text, version integer, input jsonb, deps jsonb, timeout interval, run_error jsonb);
drop function rowflow._detach(relid oid, given text, workflow text);
drop function rowflow._refusals(run_ids bigint[], steps text[], attempts integer[], os integer[], allowed text[]);
drop function rowflow._release(done rowflow.done_step[], takes integer[], worker_id text, now timestamp with time zone);
drop function rowflow.attach(table_name regclass, workflow text, events text[], "when" text, input text, idempotency_key text);
drop function rowflow.attach(table_name text, workflow text, events text[], "when" text, input text, idempotency_key text, caller_search_path text);
drop function rowflow.begin_steps(run_ids bigint[], steps text[], attempts integer[], worker_id text, now timestamp with time zone, reserved boolean);
drop function rowflow.claim_runs(worker_id text, take integer, max_runs integer, now timestamp with time zone);
drop function rowflow.complete_step(run_id bigint, step text, attempt integer, output jsonb, now timestamp with time zone, take integer, worker_id text, claim boolean);
drop function rowflow.complete_steps(run_ids bigint[], steps text[], attempts integer[], outputs jsonb[], takes integer[], worker_id text, now timestamp with time zone, claim boolean, reserve integer, next_run_ids bigint[], next_steps text[], next_attempts integer[]);
drop function rowflow.define_workflow(name text, spec jsonb);
drop function rowflow.detach(table_name regclass, workflow text);
drop function rowflow.detach(table_name text, workflow text, caller_search_path text);
drop function rowflow.fail_step(run_id bigint, step text, attempt integer, error jsonb, retryable boolean, retry_at timestamp with time zone, now timestamp with time zone);
drop function rowflow.heartbeat_worker(id text, now timestamp with time zone);
drop function rowflow.register_worker(id text, hostname text, pid integer, concurrency integer, tasks text[], now timestamp with time zone);
drop function rowflow.release_leases(worker_id text, keep text[], older_than interval, now timestamp with time zone);
drop function rowflow.unregister_worker(id text);
drop view rowflow.attachments;

-- from sql/schema/05_access/00_roles.sql
create table rowflow.roles (
  kind text primary key,
  name name not null unique,
  constraint kind_is_valid check (kind in ('app', 'worker', 'operator', 'viewer'))
);
comment on table rowflow.roles is
  'The names of rowflow''s group roles in this database, by kind (app, worker, operator, viewer).';

-- from sql/schema/05_access/10_secrets.sql
create table rowflow.secrets (
  id   boolean primary key default true,
  key  bytea not null,
  constraint one_row check (id)
);
comment on table rowflow.secrets is
  'The key the gate derives lease and worker tokens from (owner only; rowflow._mac).';

create or replace function rowflow._secret()
returns bytea
language plpgsql stable
set search_path to ''
as $$
begin
  return (select s.key from rowflow.secrets as s);
end;
$$;

create or replace function rowflow._mac(key bytea, message text)
returns text
language plpgsql immutable
set search_path to ''
as $$
begin
  return pg_catalog.left(pg_catalog.encode(pg_catalog.sha256(_mac.key || pg_catalog.sha256(
           _mac.key || pg_catalog.convert_to(_mac.message, 'UTF8'))), 'hex'), 32);
end;
$$;

-- from sql/schema/05_access/20_allow.sql
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

-- from sql/schema/05_access/21_role.sql
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

-- from sql/schema/05_access/22_setup_roles.sql
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

-- from sql/schema/05_access/23_trusted.sql
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

-- from sql/schema/05_access/24_require.sql
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

create or replace function rowflow._lease(key bytea, run_id bigint, step text, attempt int)
returns text
language plpgsql immutable
set search_path to ''
as $$
begin
  return rowflow._mac(_lease.key, 'lease:' || _lease.run_id || ':' || _lease.step || ':' || _lease.attempt);
end;
$$;

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

-- from sql/schema/05_access/25_grant_graphile.sql
create or replace function rowflow._grant_graphile()
returns void
language plpgsql
set search_path to ''
as $$
declare
  v_worker name := rowflow._role('worker');
  v_table regclass;
begin
  if pg_catalog.to_regnamespace('graphile_worker') is null then
    return;
  end if;
  execute pg_catalog.format('grant usage on schema graphile_worker to %I', v_worker);
  execute pg_catalog.format('grant select, insert, update, delete on all tables in schema graphile_worker to %I', v_worker);
  execute pg_catalog.format('grant usage, select, update on all sequences in schema graphile_worker to %I', v_worker);
  execute pg_catalog.format('grant execute on all functions in schema graphile_worker to %I', v_worker);
  for v_table in
    select c.oid::regclass from pg_catalog.pg_class as c
    where c.relnamespace = 'graphile_worker'::regnamespace and c.relkind = 'r' and c.relrowsecurity
      and not exists (select 1 from pg_catalog.pg_policy as p
                      where p.polrelid = c.oid and p.polname = 'rowflow_worker')
    order by c.relname
  loop
    execute pg_catalog.format('create policy rowflow_worker on %s for all to %I using (true) with check (true)',
                              v_table, v_worker);
  end loop;
end;
$$;

-- The key the lease and worker tokens derive from (sql/schema/05_access/10_secrets.sql).
insert into rowflow.secrets (key)
select pg_catalog.sha256(pg_catalog.convert_to(pg_catalog.gen_random_uuid()::text
                                               || pg_catalog.gen_random_uuid()::text, 'UTF8'))
on conflict do nothing;

-- The roles and the access helpers' own decisions (sql/schema/05_access/90_setup.sql).
select rowflow._setup_roles();
select rowflow._allow('schema rowflow', '{app,worker,operator,viewer}');
select rowflow._allow('table rowflow.roles', '{viewer}');
select rowflow._allow('table rowflow.secrets', '{}');
select rowflow._allow('function rowflow._secret()', '{}');
select rowflow._allow('function rowflow._mac(bytea, text)', '{}');
select rowflow._allow('function rowflow._allow(text, text[], text)', '{}');
select rowflow._allow('function rowflow._role(text)', '{}');
select rowflow._allow('function rowflow._may(text, name)', '{app,worker,operator,viewer}');
select rowflow._allow('function rowflow._setup_roles()', '{}');
select rowflow._allow('function rowflow._trusted()', '{}');
select rowflow._allow('function rowflow._require(text[])', '{}');
select rowflow._allow('function rowflow._lease(bytea, bigint, text, int)', '{}');
select rowflow._allow('function rowflow._check_worker(text, text)', '{}');
select rowflow._allow('function rowflow._grant_graphile()', '{}');

-- Table changes (by hand), and the tables' decisions.
alter table rowflow.workflows add column owner name not null default current_user;
alter table rowflow.runs add column started_by text not null default session_user;
comment on column rowflow.runs.started_by is
  'The session user whose transaction started the run (start_run(s), or the write of an attached table); rowflow.visible_runs shows a role its own runs.';
alter table rowflow.table_attachments add column columns text[], add column exclude_columns text[];
select rowflow._allow('table rowflow.migrations', '{app,worker,operator,viewer}');
select rowflow._allow('table rowflow.workflows', '{viewer,worker}');
select rowflow._allow('table rowflow.workflow_versions', '{viewer,worker}');
select rowflow._allow('table rowflow.workflow_steps', '{viewer}');
select rowflow._allow('table rowflow.runs', '{viewer}');
select rowflow._allow('table rowflow.step_runs', '{viewer}');
select rowflow._allow('table rowflow.events', '{viewer}');
select rowflow._allow('table rowflow.workers', '{viewer}');
select rowflow._allow('table rowflow.waiters', '{viewer}');
select rowflow._allow('table rowflow.table_attachments', '{viewer}');

-- from sql/schema/20_tables/21_step_runs.sql
create or replace function rowflow._check_step_run(kind text, status text, deps_remaining smallint, attempt smallint,
  max_attempts smallint, seq smallint, started_at timestamptz, finished_at timestamptz, locked_by text)
returns boolean
language plpgsql immutable
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_rule text;
begin
  v_rule := case
    when _check_step_run.kind is null or _check_step_run.kind not in ('step', 'compensation', 'on_failure')
      then 'kind_is_valid'
    when _check_step_run.status is null or _check_step_run.status not in
         ('pending', 'queued', 'running', 'succeeded', 'failed', 'skipped', 'cancelled')
      then 'status_is_valid'
    when (_check_step_run.status in ('succeeded', 'failed', 'skipped', 'cancelled'))
         <> (_check_step_run.finished_at is not null)
      then 'finished_at_matches_status'
    when _check_step_run.status in ('running', 'succeeded', 'failed') and _check_step_run.started_at is null
      then 'started_at_matches_status'
    when not (_check_step_run.attempt between 0 and _check_step_run.max_attempts)
      or (_check_step_run.status in ('queued', 'running') and _check_step_run.attempt < 1)
      then 'attempt_is_valid'
    when _check_step_run.deps_remaining < 0
      or (_check_step_run.status not in ('pending', 'cancelled') and _check_step_run.deps_remaining <> 0)
      then 'deps_done_unless_pending'
    when (_check_step_run.kind = 'step') <> (_check_step_run.seq is null)
      then 'seq_matches_kind'
    when _check_step_run.locked_by is not null and _check_step_run.status not in ('queued', 'running')
      then 'locked_only_when_queued_or_running'
  end;
  if v_rule is not null then
    raise exception 'rowflow.step_runs: rule % violated (kind %, status %)', v_rule,
      coalesce(_check_step_run.kind, 'null'), coalesce(_check_step_run.status, 'null')
      using errcode = '23514', schema = 'rowflow', table = 'step_runs', constraint = v_rule;
  end if;
  return true;
end;
$$;
comment on function rowflow._check_step_run(text, text, smallint, smallint, smallint, smallint, timestamptz, timestamptz, text) is
  'The state rules of rowflow.step_runs (its CHECK step_run_is_valid); raises 23514 naming the rule.';
select rowflow._allow('function rowflow._check_step_run(text, text, smallint, smallint, smallint, smallint, timestamptz, timestamptz, text)', '{}');

-- from sql/schema/25_views/run_steps.sql
create or replace view rowflow.run_steps as
select
  r.id as run_id,
  ws.name as step,
  coalesce(sr.kind, 'step') as kind,
  coalesce(sr.status, 'pending') as status,
  coalesce(sr.deps_remaining, ws.n_deps) as deps_remaining,
  coalesce(sr.attempt, 0::smallint) as attempt,
  coalesce(sr.max_attempts, ws.attempts) as max_attempts,
  sr.seq,
  sr.output,
  sr.error,
  coalesce(sr.created_at, r.created_at) as created_at,
  sr.started_at,
  sr.finished_at,
  sr.job_id,
  sr.queued_at,
  sr.locked_by
from rowflow.runs as r
join rowflow.workflow_steps as ws on ws.workflow = r.workflow and ws.version = r.version
left join rowflow.step_runs as sr on sr.run_id = r.id and sr.step = ws.name
union all
select sr.run_id, sr.step, sr.kind, sr.status, sr.deps_remaining, sr.attempt, sr.max_attempts, sr.seq,
       sr.output, sr.error, sr.created_at, sr.started_at, sr.finished_at, sr.job_id, sr.queued_at, sr.locked_by
from rowflow.step_runs as sr
where sr.kind <> 'step';
comment on view rowflow.run_steps is
  'Every step run of every run; a step without a row in rowflow.step_runs (not ready yet: runs claimed before every step got its row) shows as pending.';
select rowflow._allow('view rowflow.run_steps', '{viewer}');

-- from sql/schema/25_views/run_timeline.sql
create or replace function rowflow._has_stored_start(run_id bigint)
returns boolean
language plpgsql stable
set search_path to ''
as $$
#variable_conflict use_column
begin
  return exists (select 1 from rowflow.events as e where e.run_id = _has_stored_start.run_id and e.type = 'run_started');
end;
$$;
select rowflow._allow('function rowflow._has_stored_start(bigint)', '{}');

create or replace view rowflow.run_timeline as
select e.run_id, e.at, e.step, e.type, e.attempt, e.data, e.id,
  case e.type
    when 'run_started' then 0
    when 'step_succeeded' then 1 when 'step_failed' then 1 when 'step_retrying' then 1
    when 'step_skipped' then 2 when 'step_cancelled' then 2
    when 'step_queued' then 3 when 'step_started' then 4
    else 5 end as ord
from rowflow.events as e
union all
-- The implied events, for runs that store only what the rows cannot tell (a
-- run from before has a stored run_started event and stored ordinary-path events).
-- run_started: claimed by a worker.
select r.id, r.started_at, null, 'run_started', null, null, null, 0
from rowflow.runs as r where r.started_at is not null and not rowflow._has_stored_start(r.id)
union all
-- run_succeeded (failed and cancelled runs have their stored event).
select r.id, r.finished_at, null, 'run_succeeded', null, null, null, 5
from rowflow.runs as r where r.status = 'succeeded' and not rowflow._has_stored_start(r.id)
union all
-- step_queued: the first attempt (queued_at), and every retry (the
-- step_retrying event queues the next attempt).
select sr.run_id, sr.queued_at, sr.step, 'step_queued', 1, null, null, 3
from rowflow.step_runs as sr where sr.queued_at is not null and not rowflow._has_stored_start(sr.run_id)
union all
select e.run_id, e.at, e.step, 'step_queued', (e.data ->> 'nextAttempt')::int, null, null, 3
from rowflow.events as e where e.type = 'step_retrying' and not rowflow._has_stored_start(e.run_id)
union all
-- step_started: the current attempt (started_at), and failed attempts
-- (their step_retrying / step_failed event records when they started).
select sr.run_id, sr.started_at, sr.step, 'step_started', sr.attempt, null, null, 4
from rowflow.step_runs as sr
where sr.started_at is not null and sr.status in ('running', 'succeeded', 'cancelled')
  and not rowflow._has_stored_start(sr.run_id)
union all
select e.run_id, (e.data ->> 'startedAt')::timestamptz, e.step, 'step_started', e.attempt, null, null, 4
from rowflow.events as e
where e.type in ('step_retrying', 'step_failed') and e.data ->> 'startedAt' is not null
union all
-- step_succeeded.
select sr.run_id, sr.finished_at, sr.step, 'step_succeeded', sr.attempt, null, null, 1
from rowflow.step_runs as sr where sr.status = 'succeeded' and not rowflow._has_stored_start(sr.run_id);
comment on view rowflow.run_timeline is
  'Every event of a run: stored (rowflow.events) and implied by the rows (run_started, step_queued, step_started, step_succeeded, run_succeeded). Filter by run_id; order by at, ord, step.';
select rowflow._allow('view rowflow.run_timeline', '{viewer}');

-- from sql/schema/25_views/visible_runs.sql
create or replace view rowflow.visible_runs with (security_barrier) as
select r.*
from rowflow.runs as r
where r.started_by = session_user or (select rowflow._may('viewer'));
comment on view rowflow.visible_runs is
  'The runs the current role may see: all for viewers, operators and the owner, else those its session started.';
select rowflow._allow('view rowflow.visible_runs', '{app,operator,viewer}');

create or replace view rowflow.visible_run_steps with (security_barrier) as
select s.*
from rowflow.run_steps as s
where (select rowflow._may('viewer'))
   or exists (select 1 from rowflow.runs as r where r.id = s.run_id and r.started_by = session_user);
comment on view rowflow.visible_run_steps is
  'The step runs (rowflow.run_steps) of the runs rowflow.visible_runs shows.';
select rowflow._allow('view rowflow.visible_run_steps', '{app,operator,viewer}');

-- from sql/schema/30_define/_compile_path.sql
create or replace function rowflow._compile_path(value jsonb, what text)
returns jsonpath
language plpgsql immutable
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_path jsonpath;
begin
  if jsonb_typeof(_compile_path.value) is distinct from 'string' then
    raise exception '% must be a string holding a SQL/JSON path expression, got %',
      _compile_path.what, left(_compile_path.value::text, 200) using errcode = 'RF009';
  end if;
  begin
    v_path := (_compile_path.value #>> '{}')::jsonpath;
  exception when others then
    -- Any failure to compile (syntax 42601, a bad like_regex 2201B, …).
    raise exception '% is not a valid SQL/JSON path expression: % (%)',
      _compile_path.what, _compile_path.value::text, sqlerrm using errcode = 'RF009';
  end;
  begin
    -- Lax mode never fails on missing keys, but an unknown variable fails
    -- on every evaluation: find it now. Strict-mode structural errors are
    -- data-dependent and therefore allowed.
    perform jsonb_path_query_first('{"input": {}, "steps": {}}'::jsonb, v_path);
  exception
    when undefined_object then
      raise exception '% is not a valid SQL/JSON path expression: % (%)',
        _compile_path.what, _compile_path.value::text, sqlerrm using errcode = 'RF009';
    when others then
      null; -- data-dependent (strict mode etc.): fine at definition time
  end;
  return v_path;
end;
$$;
select rowflow._allow('function rowflow._compile_path(jsonb, text)', '{}');

-- from sql/schema/30_define/_parse_interval.sql
create or replace function rowflow._parse_interval(value jsonb, what text)
returns interval
language plpgsql immutable
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_m text[];
  v_unit text;
begin
  if _parse_interval.value is null then
    return null; -- option not given
  end if;
  if jsonb_typeof(_parse_interval.value) = 'number' then
    if _parse_interval.value::text !~ '^\d+$' then
      raise exception '% must be a non-negative integer number of milliseconds or a string like "5 seconds", got %',
        _parse_interval.what, _parse_interval.value::text using errcode = 'RF010';
    end if;
    begin
      return (_parse_interval.value::text)::numeric * interval '1 millisecond';
    exception when others then
      raise exception '% is out of range: % milliseconds', _parse_interval.what, _parse_interval.value::text
        using errcode = 'RF010';
    end;
  end if;
  if jsonb_typeof(_parse_interval.value) = 'string' then
    v_m := pg_catalog.regexp_match(_parse_interval.value #>> '{}',
      '^(\d+(?:\.\d+)?)\s*(ms|milliseconds?|s|secs?|seconds?|m|mins?|minutes?|h|hours?|d|days?)$');
    if v_m is not null then
      v_unit := case
        when v_m[2] in ('ms', 'millisecond', 'milliseconds') then '1 millisecond'
        when v_m[2] in ('s', 'sec', 'secs', 'second', 'seconds') then '1 second'
        when v_m[2] in ('m', 'min', 'mins', 'minute', 'minutes') then '1 minute'
        when v_m[2] in ('h', 'hour', 'hours') then '1 hour'
        else '1 day' end;
      begin
        return v_m[1]::numeric * v_unit::interval;
      exception when others then
        raise exception '% is out of range: %', _parse_interval.what, _parse_interval.value::text
          using errcode = 'RF010';
      end;
    end if;
  end if;
  raise exception '% must be a non-negative integer (milliseconds) or a string "<number> <unit>" with unit ms, s, m, h or d (e.g. "30 seconds"), got %',
    _parse_interval.what, left(_parse_interval.value::text, 200) using errcode = 'RF010';
end;
$$;
select rowflow._allow('function rowflow._parse_interval(jsonb, text)', '{}');

-- from sql/schema/30_define/define_workflow.sql
create or replace function rowflow.define_workflow(name text, spec jsonb, owner name default current_user)
returns int
language plpgsql
security definer
set search_path to ''
as $$
#variable_conflict use_column
declare
  c_name_re constant text := '^[a-z][a-z0-9_-]{0,62}$';
  c_task_re constant text := '^[A-Za-z][A-Za-z0-9_.:-]{0,127}$';
  c_queue_re constant text := '^[A-Za-z0-9_.-]{1,63}$';
  v_key text;
  v_step jsonb;
  v_ord int;
  v_sname text;
  v_where text;
  v_val jsonb;
  v_names text[] := '{}';
  v_norm jsonb[] := '{}';
  v_deps text[];
  v_dep text;
  v_backoff jsonb;
  v_btype text;
  v_bbase interval;
  v_bmax interval;
  v_bjitter double precision;
  v_queue jsonb;
  v_qname text;
  v_qkey text;
  v_at jsonb;
  v_indeg int[];
  v_first int[];
  v_outdeg int[];
  v_to int[];
  v_ready int[];
  v_head int := 1;
  v_done boolean[];
  v_u int;
  v_v int;
  v_path text[];
  v_cur text;
  v_pos int;
  v_cycle text[];
  v_latest int;
  v_latest_spec jsonb;
  v_version int;
  v_owner name;
begin
  -- GUARD: the session acts for owner.
  if define_workflow.owner is null
     or not exists (select 1 from pg_catalog.pg_roles as r where r.rolname = define_workflow.owner)
     or not pg_catalog.pg_has_role(session_user, define_workflow.owner, 'MEMBER') then
    raise exception 'define_workflow: session user % cannot act for role %', session_user,
      coalesce(pg_catalog.quote_ident(define_workflow.owner), 'null') using errcode = '42501';
  end if;
  -- GUARD: the name and the top-level shape.
  if define_workflow.name is null or define_workflow.name !~ c_name_re then
    raise exception 'invalid workflow name %: use 1-63 characters a-z, 0-9, "_" or "-", starting with a lowercase letter',
      coalesce(to_jsonb(left(define_workflow.name, 100))::text, 'null') using errcode = 'RF004';
  end if;
  if jsonb_typeof(define_workflow.spec) is distinct from 'object' then
    raise exception 'workflow "%": the spec must be a JSON object, got %', define_workflow.name,
      coalesce(jsonb_typeof(define_workflow.spec), 'null') using errcode = 'RF001';
  end if;
  if pg_catalog.octet_length(define_workflow.spec::text) > 1048576 then
    raise exception 'workflow "%": the spec is % bytes of JSON; the limit is 1 MiB (1048576 bytes)',
      define_workflow.name, pg_catalog.octet_length(define_workflow.spec::text) using errcode = 'RF001';
  end if;
  for v_key in select k from jsonb_object_keys(define_workflow.spec) as k order by k loop
    if v_key not in ('name', 'description', 'onFailure', 'steps') then
      raise exception 'workflow "%": unknown option %; allowed: name, description, onFailure, steps',
        define_workflow.name, to_jsonb(left(v_key, 100))::text using errcode = 'RF002';
    end if;
  end loop;
  if define_workflow.spec ? 'name' and define_workflow.spec -> 'name' is distinct from to_jsonb(define_workflow.name) then
    raise exception 'workflow "%": spec.name is %, which differs from the name argument; remove it or make them equal',
      define_workflow.name, left((define_workflow.spec -> 'name')::text, 100) using errcode = 'RF001';
  end if;
  if define_workflow.spec ? 'description' and jsonb_typeof(define_workflow.spec -> 'description') <> 'string' then
    raise exception 'workflow "%": description must be a string', define_workflow.name using errcode = 'RF001';
  end if;
  if define_workflow.spec ? 'onFailure' then
    if jsonb_typeof(define_workflow.spec -> 'onFailure') <> 'string' then
      raise exception 'workflow "%": onFailure must be a task name (string)', define_workflow.name using errcode = 'RF001';
    end if;
    if (define_workflow.spec ->> 'onFailure') !~ c_task_re then
      raise exception 'workflow "%": invalid onFailure task name %: use 1-128 characters A-Z, a-z, 0-9, "_", ".", ":" or "-", starting with a letter',
        define_workflow.name, left((define_workflow.spec -> 'onFailure')::text, 140) using errcode = 'RF004';
    end if;
  end if;
  if jsonb_typeof(define_workflow.spec -> 'steps') is distinct from 'array' then
    raise exception 'workflow "%": steps must be an array of step objects', define_workflow.name using errcode = 'RF001';
  end if;
  if jsonb_array_length(define_workflow.spec -> 'steps') = 0 then
    raise exception 'workflow "%" has no steps; add at least one step', define_workflow.name using errcode = 'RF003';
  end if;
  if jsonb_array_length(define_workflow.spec -> 'steps') > 1000 then
    raise exception 'workflow "%" has % steps; at most 1000 are allowed', define_workflow.name,
      jsonb_array_length(define_workflow.spec -> 'steps') using errcode = 'RF001';
  end if;

  -- PHASE 1: each step on its own: shape, names, options, intervals, paths.
  for v_step, v_ord in select e, o - 1 from jsonb_array_elements(define_workflow.spec -> 'steps') with ordinality as t(e, o) loop
    v_where := format('workflow "%s", steps[%s]', define_workflow.name, v_ord);
    if jsonb_typeof(v_step) <> 'object' then
      raise exception '%: a step must be an object', v_where using errcode = 'RF001';
    end if;
    if jsonb_typeof(v_step -> 'name') is distinct from 'string' then
      raise exception '%: "name" is required and must be a string', v_where using errcode = 'RF001';
    end if;
    v_sname := v_step ->> 'name';
    if v_sname !~ c_name_re then
      raise exception '%: invalid step name %: use 1-63 characters a-z, 0-9, "_" or "-", starting with a lowercase letter',
        v_where, to_jsonb(left(v_sname, 100))::text using errcode = 'RF004';
    end if;
    v_where := format('workflow "%s", step "%s"', define_workflow.name, v_sname);
    for v_key in select k from jsonb_object_keys(v_step) as k order by k loop
      if v_key not in ('name', 'task', 'dependsOn', 'attempts', 'backoff', 'timeout', 'priority',
                       'queue', 'delay', 'if', 'compensate') then
        raise exception '%: unknown option %; allowed: name, task, dependsOn, attempts, backoff, timeout, priority, queue, delay, if, compensate',
          v_where, to_jsonb(left(v_key, 100))::text using errcode = 'RF002';
      end if;
    end loop;
    if v_sname = any (v_names) then
      raise exception 'workflow "%": duplicate step name "%"; step names must be unique', define_workflow.name, v_sname
        using errcode = 'RF005';
    end if;
    v_names := v_names || v_sname;

    if jsonb_typeof(v_step -> 'task') is distinct from 'string' then
      raise exception '%: "task" is required and must be a string', v_where using errcode = 'RF001';
    end if;
    if (v_step ->> 'task') !~ c_task_re then
      raise exception '%: invalid task name %: use 1-128 characters A-Z, a-z, 0-9, "_", ".", ":" or "-", starting with a letter',
        v_where, left((v_step -> 'task')::text, 140) using errcode = 'RF004';
    end if;
    if v_step ? 'compensate' then
      if jsonb_typeof(v_step -> 'compensate') <> 'string' then
        raise exception '%: "compensate" must be a task name (string)', v_where using errcode = 'RF001';
      end if;
      if (v_step ->> 'compensate') !~ c_task_re then
        raise exception '%: invalid compensate task name %: use 1-128 characters A-Z, a-z, 0-9, "_", ".", ":" or "-", starting with a letter',
          v_where, left((v_step -> 'compensate')::text, 140) using errcode = 'RF004';
      end if;
    end if;

    v_deps := '{}';
    if v_step ? 'dependsOn' then
      if jsonb_typeof(v_step -> 'dependsOn') <> 'array' then
        raise exception '%: "dependsOn" must be an array of step names', v_where using errcode = 'RF001';
      end if;
      for v_val in select e from jsonb_array_elements(v_step -> 'dependsOn') as e loop
        if jsonb_typeof(v_val) <> 'string' then
          raise exception '%: "dependsOn" must contain step names (strings), got %', v_where, left(v_val::text, 100)
            using errcode = 'RF001';
        end if;
        v_dep := v_val #>> '{}';
        if v_dep = v_sname then
          raise exception '%: a step cannot depend on itself; remove "%" from its dependsOn', v_where, v_sname
            using errcode = 'RF007';
        end if;
        if v_dep = any (v_deps) then
          raise exception '%: "dependsOn" lists "%" more than once', v_where, v_dep using errcode = 'RF001';
        end if;
        v_deps := v_deps || v_dep;
      end loop;
    end if;

    v_val := v_step -> 'attempts';
    if v_val is not null and (jsonb_typeof(v_val) <> 'number' or v_val::text !~ '^\d+$'
                              or v_val::text::numeric not between 1 and 1000) then
      raise exception '%: "attempts" must be an integer from 1 to 1000, got %', v_where, left(v_val::text, 100)
        using errcode = 'RF001';
    end if;
    v_val := v_step -> 'priority';
    if v_val is not null and (jsonb_typeof(v_val) <> 'number' or v_val::text !~ '^-?\d+$'
                              or v_val::text::numeric not between -1000 and 1000) then
      raise exception '%: "priority" must be an integer from -1000 to 1000, got %', v_where, left(v_val::text, 100)
        using errcode = 'RF001';
    end if;

    -- Backoff: default exponential, base 1s, max 5min, jitter 0.2.
    v_backoff := coalesce(v_step -> 'backoff', '{}');
    if jsonb_typeof(v_backoff) <> 'object' then
      raise exception '%: "backoff" must be an object like {"type": "exponential", "base": "1 second"}', v_where
        using errcode = 'RF001';
    end if;
    for v_key in select k from jsonb_object_keys(v_backoff) as k order by k loop
      if v_key not in ('type', 'base', 'max', 'jitter') then
        raise exception '%: unknown backoff option %; allowed: type, base, max, jitter', v_where,
          to_jsonb(left(v_key, 100))::text using errcode = 'RF002';
      end if;
    end loop;
    v_btype := coalesce(v_backoff ->> 'type', 'exponential');
    if v_backoff ? 'type' and (jsonb_typeof(v_backoff -> 'type') <> 'string' or v_btype not in ('fixed', 'exponential')) then
      raise exception '%: backoff.type must be "fixed" or "exponential", got %', v_where,
        left((v_backoff -> 'type')::text, 100) using errcode = 'RF001';
    end if;
    v_bbase := case when v_backoff ? 'base'
      then rowflow._parse_interval(v_backoff -> 'base', v_where || ': backoff.base') else interval '1 second' end;
    v_bmax := case when v_backoff ? 'max'
      then rowflow._parse_interval(v_backoff -> 'max', v_where || ': backoff.max') else greatest(interval '5 minutes', v_bbase) end;
    if v_bmax < v_bbase then
      raise exception '%: backoff.max (%) is less than backoff.base (%)', v_where, v_bmax, v_bbase using errcode = 'RF010';
    end if;
    v_val := v_backoff -> 'jitter';
    if v_val is not null and (jsonb_typeof(v_val) <> 'number' or v_val::text::numeric not between 0 and 1) then
      raise exception '%: backoff.jitter must be a number from 0 to 1, got %', v_where, left(v_val::text, 100)
        using errcode = 'RF001';
    end if;
    v_bjitter := coalesce(v_val::text::double precision, 0.2);

    if v_step ? 'timeout' and rowflow._parse_interval(v_step -> 'timeout', v_where || ': timeout') <= interval '0' then
      raise exception '%: timeout must be greater than zero', v_where using errcode = 'RF010';
    end if;
    if v_step ? 'delay' then
      perform rowflow._parse_interval(v_step -> 'delay', v_where || ': delay');
    end if;
    if v_step ? 'if' then
      perform rowflow._compile_path(v_step -> 'if', v_where || ': if');
    end if;

    -- Queue: "name" or {"name": …, "key": "<path>"}.
    v_queue := v_step -> 'queue';
    v_qname := null;
    v_qkey := null;
    if v_queue is not null then
      if jsonb_typeof(v_queue) = 'string' then
        v_qname := v_queue #>> '{}';
      elsif jsonb_typeof(v_queue) = 'object' then
        for v_key in select k from jsonb_object_keys(v_queue) as k order by k loop
          if v_key not in ('name', 'key') then
            raise exception '%: unknown queue option %; allowed: name, key', v_where, to_jsonb(left(v_key, 100))::text
              using errcode = 'RF002';
          end if;
        end loop;
        if jsonb_typeof(v_queue -> 'name') is distinct from 'string' then
          raise exception '%: queue.name is required and must be a string', v_where using errcode = 'RF001';
        end if;
        v_qname := v_queue ->> 'name';
        if v_queue ? 'key' then
          v_qkey := rowflow._compile_path(v_queue -> 'key', v_where || ': queue.key')::text;
        end if;
      else
        raise exception '%: "queue" must be a queue name or {"name": …, "key": "<path>"}', v_where using errcode = 'RF001';
      end if;
      if v_qname !~ c_queue_re then
        raise exception '%: invalid queue name %: use 1-63 characters A-Z, a-z, 0-9, "_", "." or "-"', v_where,
          to_jsonb(left(v_qname, 100))::text using errcode = 'RF004';
      end if;
    end if;

    v_norm := v_norm || jsonb_build_object(
      'idx', v_ord, 'name', v_sname, 'task', v_step ->> 'task', 'depends_on', to_jsonb(v_deps),
      'attempts', coalesce((v_step ->> 'attempts')::int, 3),
      'backoff_type', v_btype, 'backoff_base', v_bbase::text, 'backoff_max', v_bmax::text,
      'backoff_jitter', v_bjitter,
      'timeout', rowflow._parse_interval(v_step -> 'timeout', v_where || ': timeout')::text,
      'priority', coalesce((v_step ->> 'priority')::int, 0),
      'queue_name', v_qname, 'queue_key', v_qkey,
      'delay', rowflow._parse_interval(v_step -> 'delay', v_where || ': delay')::text,
      'if_path', case when v_step ? 'if' then rowflow._compile_path(v_step -> 'if', v_where || ': if')::text end,
      'compensate', v_step ->> 'compensate');
  end loop;

  -- PHASE 2: the graph: unknown dependencies, then cycles, in O(steps +
  -- dependencies): each step's position by name in one jsonb object (the
  -- scans this replaces made 1,000 steps take 12 s).
  v_at := (select pg_catalog.jsonb_object_agg(t.n, t.o) from unnest(v_names) with ordinality as t(n, o));
  select format('workflow "%s", step "%s": unknown dependency "%s"; known steps: %s',
                define_workflow.name, s.e ->> 'name', d.name, array_to_string(v_names, ', '))
  into v_where
  from unnest(v_norm) with ordinality as s(e, o),
       jsonb_array_elements_text(s.e -> 'depends_on') with ordinality as d(name, k)
  where not v_at ? d.name
  order by s.o, d.k
  limit 1;
  if found then
    raise exception '%', v_where using errcode = 'RF006';
  end if;

  -- Kahn: a step is done once all its dependencies are. The edges from each
  -- step to its dependents, as positions: v_to[v_first[u] .. + v_outdeg[u] - 1].
  with e as (
    select (v_at ->> d)::int as f, s.o::int as t
    from unnest(v_norm) with ordinality as s(e, o), jsonb_array_elements_text(s.e -> 'depends_on') as d
  ), c as (
    select g.i, count(e.f)::int as n from pg_catalog.generate_series(1, cardinality(v_names)) as g(i)
    left join e on e.f = g.i group by g.i
  )
  select array_agg(x.n order by x.i), array_agg(x.first order by x.i),
         (select coalesce(array_agg(e.t order by e.f, e.t), '{}') from e)
  into v_outdeg, v_first, v_to
  from (select c.i, c.n, (sum(c.n) over (order by c.i) - c.n + 1)::int as first from c) as x;
  v_indeg := array(select jsonb_array_length(e -> 'depends_on') from unnest(v_norm) as e);
  v_done := array_fill(false, array[cardinality(v_names)]);
  v_ready := array(select i from pg_catalog.generate_series(1, cardinality(v_names)) as i where v_indeg[i] = 0);
  while v_head <= cardinality(v_ready) loop
    v_u := v_ready[v_head];
    v_head := v_head + 1;
    v_done[v_u] := true;
    for k in v_first[v_u] .. v_first[v_u] + v_outdeg[v_u] - 1 loop
      v_v := v_to[k];
      v_indeg[v_v] := v_indeg[v_v] - 1;
      if v_indeg[v_v] = 0 then
        v_ready := v_ready || v_v;
      end if;
    end loop;
  end loop;
  if cardinality(v_ready) < cardinality(v_names) then
    -- Walk "depends on" edges inside the blocked set from its first step
    -- (spec order) until a step repeats; that stretch is a cycle.
    v_cur := v_names[array_position(v_done, false)];
    v_path := array[v_cur];
    loop
      select x.d into v_cur
      from jsonb_array_elements_text(v_norm[(v_at ->> v_cur)::int] -> 'depends_on') with ordinality as x(d, o)
      where not v_done[(v_at ->> x.d)::int]
      order by x.o limit 1;
      v_pos := array_position(v_path, v_cur);
      exit when v_pos is not null;
      v_path := v_path || v_cur;
    end loop;
    -- v_path[i] depends on v_path[i+1]; print in execution order.
    v_cycle := array[v_path[v_pos]];
    for i in reverse cardinality(v_path)..v_pos loop
      v_cycle := v_cycle || v_path[i];
    end loop;
    raise exception 'workflow "%": dependency cycle %; ("x -> y" means y depends on x) remove one of these dependsOn entries',
      define_workflow.name, array_to_string(v_cycle, ' -> ') using errcode = 'RF008';
  end if;

  -- PHASE 3: store: same spec as the latest version → that version, else a new one.
  insert into rowflow.workflows as w (name, latest_version, owner)
  values (define_workflow.name, 1, define_workflow.owner)
  on conflict do nothing;
  if found then
    v_version := 1;
  else
    select w.latest_version, w.owner into v_latest, v_owner from rowflow.workflows as w
    where w.name = define_workflow.name for update;
    select wv.spec into v_latest_spec from rowflow.workflow_versions as wv
    where wv.workflow = define_workflow.name and wv.version = v_latest;
    if v_latest_spec = define_workflow.spec then
      return v_latest;
    end if;
    if not pg_catalog.pg_has_role(define_workflow.owner, v_owner, 'USAGE') and not rowflow._trusted() then
      raise exception 'define_workflow: workflow "%" belongs to %; % may not define new versions of it',
        define_workflow.name, v_owner, define_workflow.owner using errcode = '42501',
        hint = pg_catalog.format('Define it as a member of %I, or choose another name.', v_owner);
    end if;
    v_version := v_latest + 1;
    update rowflow.workflows as w set latest_version = v_version, updated_at = now()
    where w.name = define_workflow.name;
  end if;

  insert into rowflow.workflow_versions (workflow, version, spec, spec_hash, on_failure, step_count)
  values (define_workflow.name, v_version, define_workflow.spec, md5(define_workflow.spec::text),
          define_workflow.spec ->> 'onFailure', cardinality(v_names));

  insert into rowflow.workflow_steps (workflow, version, idx, name, task, depends_on, dependents, n_deps,
    attempts, backoff_type, backoff_base, backoff_max, backoff_jitter, timeout, priority,
    queue_name, queue_key, delay, if_path, compensate)
  select define_workflow.name, v_version, (s ->> 'idx')::smallint, s ->> 'name', s ->> 'task',
    array(select jsonb_array_elements_text(s -> 'depends_on')),
    coalesce(dd.dependents, '{}'),
    jsonb_array_length(s -> 'depends_on'),
    (s ->> 'attempts')::smallint, s ->> 'backoff_type', (s ->> 'backoff_base')::interval,
    (s ->> 'backoff_max')::interval, (s ->> 'backoff_jitter')::double precision,
    (s ->> 'timeout')::interval, (s ->> 'priority')::smallint, s ->> 'queue_name',
    (s ->> 'queue_key')::jsonpath, (s ->> 'delay')::interval, (s ->> 'if_path')::jsonpath, s ->> 'compensate'
  from unnest(v_norm) as s
  left join (
    -- Each step's dependents, sorted so that the gate locks them in a fixed order.
    select d.name, array_agg(t.e ->> 'name' order by (t.e ->> 'name') collate "C") as dependents
    from unnest(v_norm) as t(e), jsonb_array_elements_text(t.e -> 'depends_on') as d(name)
    group by d.name
  ) as dd on dd.name = s ->> 'name';

  return v_version;
end;
$$;
comment on function rowflow.define_workflow(text, jsonb, name) is
  'Validates and stores a workflow spec (RF001-RF010 on rejection). Returns the version: the latest one if the spec is identical to it, else a new one.';
select rowflow._allow('function rowflow.define_workflow(text, jsonb, name)', '{}');

-- from sql/schema/40_start/_queue_runs.sql
create or replace function rowflow._queue_runs(workflow text, version int, inputs jsonb[], keys text[], priority int,
  now timestamptz)
returns bigint[]
language plpgsql
set search_path to ''
set plan_cache_mode to force_generic_plan
set enable_seqscan to off
set enable_hashjoin to off
set enable_mergejoin to off
set jit to off
as $$
#variable_conflict use_column
declare
  v_n int := coalesce(cardinality(_queue_runs.inputs), 0);
  v_now timestamptz := coalesce(_queue_runs.now, pg_catalog.now());
  v_bad record;
  v_id bigint;
  v_ids bigint[];
  v_woke int;
begin
  -- GUARD: every input a JSON object of at most 1 MiB of JSON text. JSON
  -- text is at most 6x the binary size, so only inputs above 1 MiB / 6
  -- binary pay for the text form. A valid single input skips the scan.
  -- (coalesce: a null input makes the test null, which must mean "scan".)
  if not coalesce(v_n = 1 and pg_catalog.jsonb_typeof(_queue_runs.inputs[1]) = 'object'
                  and pg_catalog.pg_column_size(_queue_runs.inputs[1]) <= 174762, false) then
    select t.o, pg_catalog.jsonb_typeof(t.i) as type,
           t.i is null or pg_catalog.jsonb_typeof(t.i) <> 'object' as not_object,
           case when t.i is not null and pg_catalog.jsonb_typeof(t.i) = 'object'
                then pg_catalog.octet_length(t.i::text) end as size
    into v_bad
    from unnest(_queue_runs.inputs) with ordinality as t(i, o)
    where t.i is null or pg_catalog.jsonb_typeof(t.i) <> 'object'
       or (pg_catalog.pg_column_size(t.i) > 174762 and pg_catalog.octet_length(t.i::text) > 1048576)
    order by 3 desc, t.o limit 1;
    if found and v_bad.not_object then
      raise exception 'run input #% is %, not a JSON object; wrap values in an object like {"value": …}',
        v_bad.o, coalesce(v_bad.type, 'null') using errcode = 'RF022';
    elsif found then
      raise exception 'run input #% is % bytes of JSON; the limit is 1 MiB (1048576 bytes): store large data in a table and pass its key',
        v_bad.o, v_bad.size using errcode = 'RF022';
    end if;
  end if;
  if v_n = 0 then
    return '{}';
  end if;

  -- PHASE 1: the rows. Without keys no speculative insertion (it costs a
  -- WAL record and an arbiter probe per row even for a null key).
  if _queue_runs.keys is null and v_n = 1 then
    insert into rowflow.runs as r (workflow, version, status, input, priority, created_at, updated_at)
    values (_queue_runs.workflow, _queue_runs.version, 'queued', _queue_runs.inputs[1], _queue_runs.priority,
            v_now, v_now)
    returning r.id into v_id;
    v_ids := array[v_id];
  elsif _queue_runs.keys is null then
    -- Ids drawn first, so they follow input order.
    v_ids := array(select pg_catalog.nextval('rowflow.runs_id_seq'::regclass)
                   from pg_catalog.generate_series(1, v_n));
    insert into rowflow.runs as r (id, workflow, version, status, input, priority, created_at, updated_at)
    select v_ids[t.o], _queue_runs.workflow, _queue_runs.version, 'queued', t.i, _queue_runs.priority, v_now, v_now
    from unnest(_queue_runs.inputs) with ordinality as t(i, o)
    order by t.o;
  else
    -- A key that has a run (committed, or committed by the transaction we
    -- waited for) inserts nothing; that run is the input's run.
    v_ids := array(select pg_catalog.nextval('rowflow.runs_id_seq'::regclass)
                   from pg_catalog.generate_series(1, v_n));
    insert into rowflow.runs as r (id, workflow, version, status, input, idempotency_key, priority,
                                   created_at, updated_at)
    select v_ids[t.o], _queue_runs.workflow, _queue_runs.version, 'queued', t.i, t.k, _queue_runs.priority,
           v_now, v_now
    from unnest(_queue_runs.inputs, _queue_runs.keys) with ordinality as t(i, k, o)
    order by t.o
    on conflict (workflow, idempotency_key) where idempotency_key is not null do nothing;
    v_ids := array(
      select coalesce(
               (select r.id from rowflow.runs as r
                where r.workflow = _queue_runs.workflow and r.idempotency_key = t.k),
               v_ids[t.o])
      from unnest(_queue_runs.keys) with ordinality as t(k, o)
      order by t.o);
  end if;

  -- PHASE 2: wake a waiting worker and live views.
  v_woke := rowflow._wake_all(0, v_n, case when v_n = 1 then pg_catalog.jsonb_build_object('run', v_ids[1])
                                  else pg_catalog.jsonb_build_object('workflow', _queue_runs.workflow,
                                                                     'started', v_n) end);
  return v_ids;
end;
$$;
comment on function rowflow._queue_runs(text, int, jsonb[], text[], int, timestamptz) is
  'Internal: inserts queued runs (RF022 input checks, idempotency keys) and wakes workers; ids in input order.';
select rowflow._allow('function rowflow._queue_runs(text, int, jsonb[], text[], int, timestamptz)', '{}');

-- from sql/schema/40_start/_run_input.sql
create or replace function rowflow._run_input(input jsonb)
returns jsonb
language plpgsql stable
set search_path to ''
as $$
#variable_conflict use_column
begin
  if pg_catalog.jsonb_typeof(_run_input.input) is distinct from 'object' then
    raise exception 'run input is %, not a JSON object; wrap values in an object like {"value": …}',
      coalesce(pg_catalog.jsonb_typeof(_run_input.input), 'null') using errcode = 'RF022';
  end if;
  -- JSON text is at most 6x the binary size: only large inputs pay for the
  -- text form. A value read from a stored column may be compressed, and
  -- pg_column_size then gives the compressed size.
  if (pg_catalog.pg_column_size(_run_input.input) > 174762
      or pg_catalog.pg_column_compression(_run_input.input) is not null)
     and pg_catalog.octet_length(_run_input.input::text) > 1048576 then
    raise exception 'run input is % bytes of JSON; the limit is 1 MiB (1048576 bytes): store large data in a table and pass its key',
      pg_catalog.octet_length(_run_input.input::text) using errcode = 'RF022';
  end if;
  return _run_input.input;
end;
$$;
comment on function rowflow._run_input(jsonb) is
  'Internal: checks a run input (JSON object, at most 1 MiB of JSON text; RF022) and returns it.';
select rowflow._allow('function rowflow._run_input(jsonb)', '{}');

-- from sql/schema/40_start/start_runs.sql
create or replace function rowflow.start_run(
  workflow text,
  input jsonb default '{}'::jsonb,
  idempotency_key text default null,
  priority int default 0,
  now timestamptz default null)
returns bigint
language plpgsql
security definer
set search_path to ''
as $$
declare
  v_id bigint;
begin
  select s into v_id
  from rowflow.start_runs(start_run.workflow, array[start_run.input],
                          case when start_run.idempotency_key is null then null else array[start_run.idempotency_key] end,
                          start_run.priority, start_run.now) as s;
  return v_id;
end;
$$;
comment on function rowflow.start_run(text, jsonb, text, int, timestamptz) is
  'Starts one queued run (see start_runs). With an idempotency key that already has a run, returns that run and creates nothing.';
select rowflow._allow('function rowflow.start_run(text, jsonb, text, int, timestamptz)', '{app,operator}');

create or replace function rowflow.start_runs(
  workflow text,
  inputs jsonb[],
  idempotency_keys text[] default null,
  priority int default 0,
  now timestamptz default null)
returns setof bigint
language plpgsql
security definer
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_wf rowflow.workflows;
  v_n int := coalesce(cardinality(start_runs.inputs), 0);
begin
  -- GUARD: workflow, arguments.
  select w.* into v_wf from rowflow.workflows as w where w.name = start_runs.workflow;
  if not found then
    raise exception 'unknown workflow %; define it first with rowflow.define_workflow',
      coalesce(to_jsonb(left(start_runs.workflow, 100))::text, 'null') using errcode = 'RF020';
  end if;
  if start_runs.idempotency_keys is not null and cardinality(start_runs.idempotency_keys) <> v_n then
    raise exception 'start_runs: % idempotency keys for % inputs; pass one key (or null) per input',
      cardinality(start_runs.idempotency_keys), v_n using errcode = '22023';
  end if;
  if start_runs.priority is null or start_runs.priority not between -1000 and 1000 then
    raise exception 'start_runs: priority must be from -1000 to 1000, got %', start_runs.priority using errcode = '22023';
  end if;
  if v_n = 0 then
    return;
  end if;
  -- PHASE 1: the rows.
  return query select unnest(rowflow._queue_runs(v_wf.name, v_wf.latest_version, start_runs.inputs,
                                                 start_runs.idempotency_keys, start_runs.priority, start_runs.now));
end;
$$;
comment on function rowflow.start_runs(text, jsonb[], text[], int, timestamptz) is
  'Starts one queued run per input (latest version); a worker claims them (those of a paused workflow once it is resumed). Returns run ids in input order. RF020 unknown workflow, RF022 bad input.';
select rowflow._allow('function rowflow.start_runs(text, jsonb[], text[], int, timestamptz)', '{app,operator}');

-- from sql/schema/50_attach/_attach.sql
create or replace function rowflow._attach(
  relid oid, given text, workflow text, events text[], "when" text, input text, idempotency_key text,
  columns text[], exclude_columns text[], caller name)
returns int
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_rel pg_catalog.pg_class;
  v_events text[];
  v_pk text[];
  v_clash record;
  v_id int;
  v_fn text;
  v_event text;
  v_body text;
  v_table_tag text;
  v_whats text[] := '{}';
  v_exprs text[] := '{}';
  v_on text[] := '{}';
  v_queries text[] := '{}';
  v_missing text;
begin
  -- GUARD: the caller, the table and its ownership, workflow, events,
  -- column options, primary key.
  v_rel := rowflow._attachable_table(_attach.relid, _attach.given, 'attach', _attach.caller);
  if not exists (select 1 from rowflow.workflows as w where w.name = _attach.workflow) then
    raise exception 'attach: unknown workflow %', coalesce(pg_catalog.quote_literal(_attach.workflow), 'null')
      using errcode = 'RF020',
            hint = 'Define it first with rowflow.define_workflow(name, spec), in the same migration if you like.';
  end if;
  if _attach.events is null or cardinality(_attach.events) = 0
     or exists (select 1 from unnest(_attach.events) as e where e is null
                or pg_catalog.lower(e) not in ('insert', 'update', 'delete')) then
    raise exception 'attach: events must be a non-empty subset of {insert,update,delete}, got %',
      coalesce(_attach.events::text, 'null') using errcode = 'RF033';
  end if;
  v_events := array(select distinct pg_catalog.lower(e) from unnest(_attach.events) as e
                    order by 1);
  if cardinality(v_events) <> cardinality(_attach.events) then
    raise exception 'attach: events lists an event twice: %', _attach.events::text using errcode = 'RF033';
  end if;
  if _attach.columns is not null and _attach.exclude_columns is not null then
    raise exception 'attach: give columns or exclude_columns, not both' using errcode = 'RF034';
  end if;
  if coalesce(_attach.columns, _attach.exclude_columns) is not null and _attach.input is not null then
    raise exception 'attach: columns and exclude_columns shape the default input; with input, build it yourself'
      using errcode = 'RF034',
            hint = 'Drop input, or write it as e.g. jsonb_build_object(''id'', new.id, ''status'', new.status).';
  end if;
  select pg_catalog.string_agg(pg_catalog.quote_ident(c), ', ') into v_missing
  from unnest(coalesce(_attach.columns, _attach.exclude_columns)) as c
  where c is null or not exists (select 1 from pg_catalog.pg_attribute as a
                                 where a.attrelid = _attach.relid and a.attname = c and a.attnum > 0
                                   and not a.attisdropped);
  if v_missing is not null then
    raise exception 'attach: table % has no column %', _attach.relid::regclass, v_missing
      using errcode = 'RF034', hint = 'List columns of the table by name (case matters for quoted names).';
  end if;
  v_pk := array(
    select a.attname::text
    from pg_catalog.pg_index as i
    cross join lateral unnest(i.indkey) with ordinality as k(attnum, o)
    join pg_catalog.pg_attribute as a on a.attrelid = i.indrelid and a.attnum = k.attnum
    where i.indrelid = _attach.relid and i.indisprimary
    order by k.o);
  if cardinality(_attach.columns) = 0 and cardinality(v_pk) = 0 then
    raise exception 'attach: columns => ''{}'' makes the input the row''s key only, and table % has no primary key',
      _attach.relid::regclass using errcode = 'RF034',
      hint = 'Add a primary key, or list the columns the input should hold.';
  end if;
  if 'update' = any (v_events) and cardinality(v_pk) = 0 then
    raise exception 'attach: table % has no primary key; update attachments pair old and new rows by primary key',
      _attach.relid::regclass using errcode = 'RF032',
      hint = 'Add a primary key (alter table … add primary key (…)), or attach only insert/delete events.';
  end if;
  -- Serialise attach/detach on this table (CREATE TRIGGER takes this lock
  -- anyway; taking it first makes the overlap check below race-free).
  execute pg_catalog.format('lock table %s in share row exclusive mode', _attach.relid::regclass);
  perform rowflow._purge_stale_attachments();
  select a.id, a.events into v_clash
  from rowflow.table_attachments as a
  where a.relid = _attach.relid and a.workflow = _attach.workflow and a.events && v_events
  limit 1;
  if found then
    raise exception 'attach: workflow "%" is already attached to % for %', _attach.workflow,
      _attach.relid::regclass, array(select unnest(v_clash.events) intersect select unnest(v_events))::text
      using errcode = 'RF035',
            hint = 'Detach it first (select rowflow.detach(…)), or attach with events that do not overlap.';
  end if;

  -- PHASE 1: compile every expression, each alone (so the error names the
  -- option), for each event, before anything is created; as the table owner.
  foreach v_event in array v_events loop
    if _attach."when" is not null then
      v_whats := v_whats || 'when'::text; v_exprs := v_exprs || _attach."when"; v_on := v_on || v_event;
      v_queries := v_queries || rowflow._attachment_query(_attach.relid, v_event, v_pk, _attach."when", null, null);
    end if;
    if _attach.input is not null then
      v_whats := v_whats || 'input'::text; v_exprs := v_exprs || _attach.input; v_on := v_on || v_event;
      v_queries := v_queries || rowflow._attachment_query(_attach.relid, v_event, v_pk, null, _attach.input, null);
    end if;
    if _attach.idempotency_key is not null then
      v_whats := v_whats || 'idempotency_key'::text; v_exprs := v_exprs || _attach.idempotency_key;
      v_on := v_on || v_event;
      v_queries := v_queries || rowflow._attachment_query(_attach.relid, v_event, v_pk, null, null,
                                                          _attach.idempotency_key);
    end if;
    v_whats := v_whats || 'combined'::text; v_on := v_on || v_event;
    v_exprs := v_exprs || concat_ws(' / ', _attach."when", _attach.input, _attach.idempotency_key);
    v_queries := v_queries || rowflow._attachment_query(_attach.relid, v_event, v_pk, _attach."when", _attach.input,
                                                        _attach.idempotency_key, null, _attach.columns,
                                                        _attach.exclude_columns);
  end loop;
  perform rowflow._check_attachment_queries(v_rel.relowner, v_whats, v_exprs, v_on, v_queries);

  -- PHASE 2: the attachment row (its id makes the function name unique).
  -- Function name: tg_<table>__<workflow>_<id>, each part reduced to
  -- [a-z0-9_] and cut to 22 characters (hostile or unicode table names only
  -- lose readability, never uniqueness).
  v_table_tag := coalesce(nullif(left(pg_catalog.regexp_replace(pg_catalog.lower(v_rel.relname::text),
                   '[^a-z0-9_]+', '_', 'g'), 22), ''), 't');
  insert into rowflow.table_attachments (relid, workflow, events, when_sql, input_sql, key_sql, columns,
                                         exclude_columns, function_name, created_by)
  values (_attach.relid, _attach.workflow, v_events, _attach."when", _attach.input, _attach.idempotency_key,
          _attach.columns, _attach.exclude_columns, 'tg_pending', _attach.caller)
  returning id into v_id;
  v_fn := 'tg_' || v_table_tag || '__' || left(pg_catalog.replace(_attach.workflow, '-', '_'), 22) || '_' || v_id;
  update rowflow.table_attachments as a set function_name = v_fn where a.id = v_id;

  -- PHASE 3: the trigger function (the table owner's) and the start function.
  perform rowflow._install_attachment(v_id);

  -- PHASE 4: one statement-level AFTER trigger per event. The _900_ prefix
  -- makes them fire after the table's other AFTER statement triggers
  -- (Postgres fires triggers of one kind in name order).
  foreach v_event in array v_events loop
    execute pg_catalog.format(
      'create trigger %I after %s on %s referencing %s for each statement execute function rowflow.%I()',
      '_900_rowflow_' || left(_attach.workflow, 30) || '_' || v_event || '_' || v_id,
      v_event, _attach.relid::regclass,
      case v_event when 'insert' then 'new table as rf_new'
                   when 'update' then 'new table as rf_new old table as rf_old'
                   else 'old table as rf_old' end,
      v_fn);
  end loop;
  return v_id;
end;
$$;
select rowflow._allow('function rowflow._attach(oid, text, text, text[], text, text, text, text[], text[], name)', '{}');

-- from sql/schema/50_attach/_attach_mode.sql
create or replace function rowflow._attach_mode()
returns text
language plpgsql stable
set search_path to ''
as $$
declare
  v_mode text := coalesce(nullif(pg_catalog.current_setting('rowflow.mode', true), ''), 'normal');
begin
  if v_mode not in ('normal', 'suppress', 'backfill') then
    raise exception 'rowflow.mode is %, expected ''normal'', ''suppress'' or ''backfill''',
      pg_catalog.quote_literal(v_mode) using errcode = 'RF039',
      hint = 'Use: set local rowflow.mode = ''suppress''; (or ''backfill'').';
  end if;
  return v_mode;
end;
$$;
select rowflow._allow('function rowflow._attach_mode()', '{}');

-- from sql/schema/50_attach/_attachable_table.sql
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

-- from sql/schema/50_attach/_attachment_body.sql
create or replace function rowflow._attachment_body(attachment rowflow.table_attachments)
returns text
language plpgsql stable
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_a rowflow.table_attachments := _attachment_body.attachment;
  v_pk text[];
  v_event text;
  v_query text;
  v_exprs text := concat_ws(' ', v_a.when_sql, v_a.input_sql, v_a.key_sql);
  v_checks text := '';
begin
  v_pk := array(
    select a.attname::text
    from pg_catalog.pg_index as i
    cross join lateral unnest(i.indkey) with ordinality as k(attnum, o)
    join pg_catalog.pg_attribute as a on a.attrelid = i.indrelid and a.attnum = k.attnum
    where i.indrelid = v_a.relid and i.indisprimary
    order by k.o);
  foreach v_event in array v_a.events loop
    v_query := rowflow._attachment_query(v_a.relid::regclass, v_event, v_pk, v_a.when_sql, v_a.input_sql,
                                         v_a.key_sql, 'rf_tg.rf_inputs, rf_tg.rf_keys', v_a.columns,
                                         v_a.exclude_columns);
    if v_event = 'insert' and v_exprs !~* '\mold\M' then
      v_query := replace(v_query, E'\nfrom rf_new as new left join (select * from rf_new where false) as old on true\n',
                         E'\nfrom rf_new as new\n');
    elsif v_event = 'delete' and v_exprs !~* '\mnew\M' then
      v_query := replace(v_query, E'\nfrom rf_old as old left join (select * from rf_old where false) as new on true\n',
                         E'\nfrom rf_old as old\n');
    end if;
    v_checks := v_checks || pg_catalog.format(E'  %s rf_tg.rf_op = %L then\n    ',
        case when v_checks = '' then 'if' else 'elsif' end, v_event)
      || v_query || E';\n';
  end loop;
  return E'\n#variable_conflict use_column\n<<rf_tg>>\ndeclare\n'
    || E'  rf_inputs jsonb[];\n  rf_keys text[];\n'
    || E'  rf_op text := pg_catalog.lower(tg_op);\n'
    || E'  rf_schema text := tg_table_schema;\n  rf_table text := tg_table_name;\nbegin\n'
    || pg_catalog.format(E'  -- rowflow attachment %s: workflow %s on %s (generated by rowflow.attach; do not edit)\n',
         v_a.id, v_a.workflow, v_a.relid::regclass)
    || E'  if pg_catalog.current_setting(''rowflow.mode'', true) = ''suppress'' then\n    return null;\n  end if;\n'
    || v_checks
    || E'  end if;\n'
    || E'  if rf_tg.rf_inputs is not null then\n'
    || pg_catalog.format(E'    perform rowflow.%I(rf_tg.rf_inputs, rf_tg.rf_keys);\n',
                         'st_' || substr(v_a.function_name, 4))
    || E'  end if;\n  return null;\nend;\n';
end;
$$;
comment on function rowflow._attachment_body(rowflow.table_attachments) is
  'Internal: the plpgsql body of an attachment''s trigger function (the expressions, as the table owner; the runs through its start function).';
select rowflow._allow('function rowflow._attachment_body(rowflow.table_attachments)', '{}');

-- from sql/schema/50_attach/_attachment_query.sql
create or replace function rowflow._attachment_query(
  rel regclass, event text, pk_cols text[], when_sql text, input_sql text, key_sql text,
  into_vars text default null, columns text[] default null, exclude_columns text[] default null)
returns text
language plpgsql stable
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_src text;
  v_pair text;
  v_key_obj text;
  v_input text;
  v_key text;
  v_row text;
  v_old text;
  v_alias text;
  v_expr text;
begin
  -- GUARD: known event.
  if _attachment_query.event not in ('insert', 'update', 'delete') then
    raise exception 'unknown event %', _attachment_query.event using errcode = 'RF033';
  end if;

  -- PHASE 1: row sources.
  if _attachment_query.event = 'insert' then
    v_src := 'rf_new as new left join (select * from rf_new where false) as old on true';
  elsif _attachment_query.event = 'delete' then
    v_src := 'rf_old as old left join (select * from rf_old where false) as new on true';
  else
    select pg_catalog.string_agg(pg_catalog.format('old.%1$I = new.%1$I', c), ' and ' order by o)
    into v_pair
    from unnest(_attachment_query.pk_cols) with ordinality as t(c, o);
    v_src := 'rf_new as new left join rf_old as old on (' || v_pair || ')';
  end if;

  -- PHASE 2: the default input: {"schema", "table", "op", "key": {pk columns},
  -- "row": new row (old row for delete), "old": old row (update only)}.
  select pg_catalog.format('pg_catalog.jsonb_build_object(%s)',
           pg_catalog.string_agg(pg_catalog.format('%L, %s.%I', c,
             case when _attachment_query.event = 'delete' then 'old' else 'new' end, c), ', ' order by o))
  into v_key_obj
  from unnest(_attachment_query.pk_cols) with ordinality as t(c, o);
  -- The row as JSON: whole, only some columns, or without some; as `new`
  -- and as `old` (the row of a delete, the old row of an update).
  foreach v_alias in array array['new', 'old'] loop
    v_expr := case
      when _attachment_query.columns is not null then
        (select 'pg_catalog.jsonb_build_object(' || pg_catalog.string_agg(pg_catalog.format('%L, %s.%I', t.c, v_alias, t.c),
                                                                          ', ' order by t.o) || ')'
         from unnest(_attachment_query.columns) with ordinality as t(c, o))
      when _attachment_query.exclude_columns is not null then
        pg_catalog.format('(pg_catalog.to_jsonb(%s.*) operator(pg_catalog.-) %L::text[])', v_alias,
                          _attachment_query.exclude_columns)
      else pg_catalog.format('pg_catalog.to_jsonb(%s.*)', v_alias) end;
    if v_alias = 'new' then
      v_row := v_expr;
    else
      v_old := v_expr;
    end if;
  end loop;
  if _attachment_query.event = 'delete' then
    v_row := v_old;
  end if;
  v_input := coalesce(
    E'\n' || _attachment_query.input_sql || E'\n',
    pg_catalog.format(
      'pg_catalog.jsonb_build_object(''schema'', rf_tg.rf_schema, ''table'', rf_tg.rf_table, ''op'', %L, '
      '''key'', %s%s%s)',
      _attachment_query.event,
      coalesce(v_key_obj, 'null::jsonb'),
      -- columns => '{}': the key only (the handler reads the current row).
      case when cardinality(_attachment_query.columns) = 0 then '' else ', ''row'', ' || v_row end,
      case when _attachment_query.event = 'update' and coalesce(cardinality(_attachment_query.columns), 1) > 0
           then ', ''old'', ' || v_old else '' end));
  if _attachment_query.into_vars is null then
    -- Compiled outside the function: rf_tg.* variables do not exist there.
    v_input := replace(replace(v_input, 'rf_tg.rf_schema', '''''::text'), 'rf_tg.rf_table', '''''::text');
  end if;
  v_key := coalesce('(' || E'\n' || _attachment_query.key_sql || E'\n' || ')::text', 'null::text');

  -- PHASE 3: the statement.
  return
    case when _attachment_query.into_vars is null then
      pg_catalog.format('with rf_new as (select * from %1$s limit 0), rf_old as (select * from %1$s limit 0) ',
                        _attachment_query.rel)
    else '' end
    || 'select pg_catalog.array_agg(rf_q.input), '
    || case when _attachment_query.key_sql is null then 'null::text[]' else 'pg_catalog.array_agg(rf_q.key)' end
    || coalesce(' into ' || _attachment_query.into_vars, '') || E'\n'
    || 'from (select coalesce((' || v_input || '), null::jsonb) as input, '
    || v_key || ' as key' || E'\n'
    || 'from ' || v_src || E'\n'
    || 'where (' || coalesce(E'\n' || _attachment_query.when_sql || E'\n', 'true') || ')) as rf_q';
end;
$$;
select rowflow._allow('function rowflow._attachment_query(regclass, text, text[], text, text, text, text, text[], text[])', '{}');

-- from sql/schema/50_attach/_attachment_start_body.sql
create or replace function rowflow._attachment_start_body(attachment rowflow.table_attachments)
returns text
language plpgsql stable
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_a rowflow.table_attachments := _attachment_start_body.attachment;
begin
  return E'\n#variable_conflict use_column\n<<rf_st>>\ndeclare\n'
    || E'  rf_mode text := pg_catalog.current_setting(''rowflow.mode'', true);\n'
    || E'  rf_prio int;\n  rf_ids bigint[];\n  rf_version int;\n  rf_waiting boolean;\n  rf_n int;\n  rf_note text;\n'
    || E'begin\n'
    || pg_catalog.format(E'  -- rowflow attachment %s: workflow %s (generated by rowflow.attach; do not edit)\n',
         v_a.id, v_a.workflow)
    || E'  rf_prio := case when rf_st.rf_mode is null or rf_st.rf_mode in ('''', ''normal'') then 0\n'
    || E'                  when rf_st.rf_mode = ''backfill'' then 1000 end;\n'
    || E'  if keys is null and rf_st.rf_prio is not null then\n'
    || E'    with rf_w as (\n'
    || pg_catalog.format(E'      select w.latest_version as version from rowflow.workflows as w where w.name = %L\n',
         v_a.workflow)
    || E'    ), rf_ins as (\n'
    || E'      insert into rowflow.runs as rf_r (workflow, version, status, input, priority, created_at, updated_at)\n'
    || pg_catalog.format(E'      select %L, rf_w.version, ''queued'',\n', v_a.workflow)
    || E'             case when pg_catalog.jsonb_typeof(rf_q.input) = ''object''\n'
    || E'                       and pg_catalog.pg_column_size(rf_q.input) <= 174762\n'
    || E'                       and pg_catalog.pg_column_compression(rf_q.input) is null\n'
    || E'                  then rf_q.input else rowflow._run_input(rf_q.input) end,\n'
    || E'             rf_st.rf_prio, pg_catalog.now(), pg_catalog.now()\n'
    || E'      from unnest(inputs) with ordinality as rf_q(input, o), rf_w\n'
    || E'      order by rf_q.o\n'
    || E'      returning rf_r.id\n'
    || E'    )\n'
    || E'    select pg_catalog.array_agg(rf_ins.id), (select rf_w.version from rf_w),\n'
    || E'           exists (select 1 from rowflow.waiters as x\n'
    || E'                   where x.channel in (''jobs:insert'', ''rowflow'') and x.until > pg_catalog.statement_timestamp())\n'
    || E'    into rf_st.rf_ids, rf_st.rf_version, rf_st.rf_waiting from rf_ins;\n'
    || E'  end if;\n'
    || E'  if rf_st.rf_version is null then\n'
    || pg_catalog.format(E'    perform rowflow._start_attached(%s, %L, inputs, keys);\n', v_a.id, v_a.workflow)
    || E'  elsif rf_st.rf_waiting or pg_catalog.cardinality(rf_st.rf_ids) > 1 then\n'
    -- One run and nobody waiting (the usual write): the pending_runs() note
    -- inline; otherwise rowflow._runs_started also wakes the waiters.
    || pg_catalog.format(E'    rf_st.rf_n := rowflow._runs_started(%L, rf_st.rf_ids, rf_st.rf_waiting);\n', v_a.workflow)
    || E'  else\n'
    || E'    rf_st.rf_note := pg_catalog.set_config(''rowflow.pending_runs'',\n'
    || E'      coalesce(nullif(pg_catalog.current_setting(''rowflow.pending_runs'', true), '''') || '','', '''')\n'
    || E'        || rf_st.rf_ids[1] || ''-'' || rf_st.rf_ids[1], true);\n'
    || E'  end if;\n'
    || E'end;\n';
end;
$$;
comment on function rowflow._attachment_start_body(rowflow.table_attachments) is
  'Internal: the plpgsql body of an attachment''s start function (queued runs from the computed inputs, in one INSERT … SELECT).';
select rowflow._allow('function rowflow._attachment_start_body(rowflow.table_attachments)', '{}');

-- from sql/schema/50_attach/_check_attachment_queries.sql
create or replace function rowflow._check_attachment_queries(owner oid, whats text[], exprs text[], events text[],
  queries text[])
returns void
language plpgsql
set search_path to ''
as $$
declare
  v_fn text := 'ck_attach_' || pg_catalog.txid_current();
  v_body text := E'\ndeclare\n  rf_c refcursor;\n  rf_state text;\n  rf_msg text;\nbegin\n';
  v_i int;
  v_failed int;
  v_state text;
  v_message text;
  v_what text;
begin
  -- PHASE 1: the checker, as the owner.
  for v_i in 1 .. coalesce(cardinality(_check_attachment_queries.queries), 0) loop
    v_body := v_body || pg_catalog.format(
      E'  begin\n    open rf_c for execute %L;\n    close rf_c;\n'
      || E'  exception when others then\n'
      || E'    get stacked diagnostics rf_state = returned_sqlstate, rf_msg = message_text;\n'
      || E'    return query select %s, rf_state, rf_msg;\n    return;\n  end;\n',
      _check_attachment_queries.queries[v_i], v_i);
  end loop;
  v_body := v_body || E'end;\n';
  execute pg_catalog.format(
    'create function rowflow.%I() returns table (i int, state text, message text) language plpgsql '
    'security definer set search_path to '''' as %L', v_fn, v_body);
  execute pg_catalog.format('revoke all on function rowflow.%I() from public', v_fn);
  perform rowflow._give_function(pg_catalog.format('rowflow.%I()', v_fn)::regprocedure, _check_attachment_queries.owner);
  execute pg_catalog.format('select * from rowflow.%I()', v_fn) into v_failed, v_state, v_message;
  execute pg_catalog.format('drop function rowflow.%I()', v_fn);
  -- PHASE 2: the first failure, as RF034.
  if v_failed is null then
    return;
  end if;
  v_what := _check_attachment_queries.whats[v_failed];
  raise exception 'attach: % expression is invalid for % rows: %', v_what, _check_attachment_queries.events[v_failed],
    case
      when v_what = 'when' and v_state = '42804'
        then v_message || ' (the "when" expression must be boolean)'
      when v_what = 'input' and v_state in ('42804', '42846', '42883')
        then 'it must produce jsonb (cast json or text with ::jsonb, or build it with jsonb_build_object): ' || v_message
      when v_state in ('0A000', '42P11')
        then 'it must be one SQL expression, not statements: ' || v_message
      else v_message end
    using errcode = 'RF034',
          detail = pg_catalog.format('expression: %s; SQLSTATE %s', left(_check_attachment_queries.exprs[v_failed], 500),
                                     v_state),
          hint = case v_what
            when 'when' then 'Write a boolean SQL expression over new.<column> and old.<column>, e.g. new.status = ''paid'' and old.status is distinct from ''paid''.'
            when 'input' then 'Write a jsonb SQL expression over new.<column> / old.<column>, e.g. jsonb_build_object(''orderId'', new.id).'
            else 'Write a SQL expression over new.<column> / old.<column>; its value is cast to text.' end;
end;
$$;
select rowflow._allow('function rowflow._check_attachment_queries(oid, text[], text[], text[], text[])', '{}');

-- from sql/schema/50_attach/_detach.sql
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
    execute pg_catalog.format('drop function if exists rowflow.%I(jsonb[], text[])',
                              'st_' || substr(v_row.function_name, 4));
    delete from rowflow.table_attachments as a where a.id = v_row.id;
    v_count := v_count + 1;
  end loop;
  if v_count = 0 then
    raise exception 'detach: workflow % is not attached to %',
      coalesce(pg_catalog.quote_literal(_detach.workflow), 'null'), _detach.relid::regclass
      using errcode = 'RF037', hint = 'See select * from rowflow.attachments;';
  end if;
  return v_count;
end;
$$;
select rowflow._allow('function rowflow._detach(oid, text, text, name)', '{}');

-- from sql/schema/50_attach/_give_function.sql
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

-- from sql/schema/50_attach/_install_attachment.sql
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
    'create or replace function rowflow.%I(inputs jsonb[], keys text[]) returns void language plpgsql '
    'security definer set search_path to '''' as %L', v_start,
    rowflow._attachment_start_body(v_a));
  perform rowflow._allow(pg_catalog.format('function rowflow.%I(jsonb[], text[])', v_start), '{}');
  if not v_is_rowflow_owner then
    execute pg_catalog.format('grant execute on function rowflow.%I(jsonb[], text[]) to %I', v_start, v_owner_name);
    execute pg_catalog.format('grant usage on schema rowflow to %I', v_owner_name);
  end if;
  execute pg_catalog.format('comment on function rowflow.%I(jsonb[], text[]) is %L', v_start,
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
end;
$$;
select rowflow._allow('function rowflow._install_attachment(int)', '{}');

-- from sql/schema/50_attach/_purge_stale_attachments.sql
create or replace function rowflow._purge_stale_attachments()
returns void
language plpgsql
set search_path to ''
as $$
declare
  v_row record;
begin
  for v_row in
    select a.id, a.function_name
    from rowflow.table_attachments as a
    where not exists (
      select 1 from pg_catalog.pg_trigger as t
      join pg_catalog.pg_proc as p on p.oid = t.tgfoid
      where t.tgrelid = a.relid and p.proname = a.function_name
        and p.pronamespace = 'rowflow'::regnamespace)
  loop
    execute pg_catalog.format('drop function if exists rowflow.%I()', v_row.function_name);
    execute pg_catalog.format('drop function if exists rowflow.%I(jsonb[], text[])',
                              'st_' || substr(v_row.function_name, 4));
    delete from rowflow.table_attachments as a where a.id = v_row.id;
  end loop;
end;
$$;
select rowflow._allow('function rowflow._purge_stale_attachments()', '{}');

-- from sql/schema/50_attach/_resolve_table.sql
create or replace function rowflow._resolve_table(table_name text, caller_search_path text)
returns oid
language plpgsql
set search_path to ''
as $$
declare
  v_relid oid;
begin
  begin
    perform pg_catalog.set_config('search_path', _resolve_table.caller_search_path, true);
    v_relid := pg_catalog.to_regclass(_resolve_table.table_name);
  exception when others then
    v_relid := null; -- a malformed name (e.g. an unbalanced quote)
  end;
  perform pg_catalog.set_config('search_path', '', true);
  return v_relid;
end;
$$;
select rowflow._allow('function rowflow._resolve_table(text, text)', '{}');

-- from sql/schema/50_attach/_runs_started.sql
create or replace function rowflow._runs_started(workflow text, ids bigint[], waiting boolean default true)
returns int
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_n int := coalesce(cardinality(_runs_started.ids), 0);
  v_ranges text;
  v_woke int;
begin
  if v_n = 0 then
    return 0;
  end if;
  if _runs_started.waiting is not false then
    v_woke := rowflow._wake_all(0, v_n,
      case when v_n = 1 then pg_catalog.jsonb_build_object('run', _runs_started.ids[1])
           else pg_catalog.jsonb_build_object('workflow', _runs_started.workflow, 'started', v_n) end);
  end if;
  if v_n = 1 then
    v_ranges := _runs_started.ids[1] || '-' || _runs_started.ids[1];
  else
    select pg_catalog.string_agg(g.lo || '-' || g.hi, ',' order by g.lo) into v_ranges
    from (select min(t.id) as lo, max(t.id) as hi
          from (select x.id, x.id - row_number() over (order by x.id) as grp
                from unnest(_runs_started.ids) as x(id)) as t
          group by t.grp) as g;
  end if;
  v_ranges := pg_catalog.set_config('rowflow.pending_runs',
    coalesce(nullif(pg_catalog.current_setting('rowflow.pending_runs', true), '') || ',', '') || v_ranges, true);
  return v_n;
end;
$$;
comment on function rowflow._runs_started(text, bigint[], boolean) is
  'Internal: wake-ups (unless the caller saw nobody waiting) and pending_runs() bookkeeping after an attachment inserted queued runs.';
select rowflow._allow('function rowflow._runs_started(text, bigint[], boolean)', '{}');

-- from sql/schema/50_attach/_start_attached.sql
create or replace function rowflow._start_attached(attachment_id int, workflow text, inputs jsonb[], keys text[])
returns void
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_mode text := pg_catalog.current_setting('rowflow.mode', true);
  v_prio int;
  v_wf record;
  v_id bigint;
  v_ids bigint[];
  v_ranges text;
  v_now timestamptz;
  v_woke int;
begin
  -- GUARD: the mode (unset/''/normal → run priority 0, backfill → 1000,
  -- suppress → nothing; anything else: _attach_mode raises RF039), then the
  -- workflow (start_runs' errors).
  if v_mode is null or v_mode = '' or v_mode = 'normal' then
    v_prio := 0;
  elsif v_mode = 'backfill' then
    v_prio := 1000;
  elsif v_mode = 'suppress' then
    return;
  else
    perform rowflow._attach_mode();
  end if;
  if coalesce(cardinality(_start_attached.inputs), 0) = 0 then
    return;
  end if;
  select w.name, w.latest_version, w.paused into v_wf from rowflow.workflows as w
  where w.name = _start_attached.workflow;
  if not found then
    -- start_runs raises the error (RF020) with its message.
    perform rowflow.start_runs(_start_attached.workflow, _start_attached.inputs, _start_attached.keys, v_prio);
    return;
  end if;

  -- PHASE 1: the runs. One row without an idempotency key (an app's plain
  -- INSERT) is inlined: one INSERT, no further plpgsql call; everything else
  -- (and a bad input, for its RF022) goes through _queue_runs.
  if cardinality(_start_attached.inputs) = 1 and _start_attached.keys[1] is null
     and pg_catalog.jsonb_typeof(_start_attached.inputs[1]) = 'object'
     and pg_catalog.pg_column_size(_start_attached.inputs[1]) <= 174762 then
    v_now := pg_catalog.now();
    insert into rowflow.runs as r (workflow, version, status, input, priority, created_at, updated_at)
    values (v_wf.name, v_wf.latest_version, 'queued', _start_attached.inputs[1], v_prio, v_now, v_now)
    returning r.id into v_id;
    v_woke := rowflow._wake_all(0, 1, pg_catalog.jsonb_build_object('run', v_id));
    v_ranges := pg_catalog.set_config('rowflow.pending_runs',
      coalesce(nullif(pg_catalog.current_setting('rowflow.pending_runs', true), '') || ',', '')
        || v_id || '-' || v_id, true);
    return;
  end if;
  v_ids := rowflow._queue_runs(v_wf.name, v_wf.latest_version, _start_attached.inputs, _start_attached.keys,
                               v_prio, null);
  -- A key repeated within the statement maps several rows to one run.
  v_ids := array(select distinct x from unnest(v_ids) as x order by x);

  -- PHASE 2: remember the ids for pending_runs() as ranges "lo-hi" of
  -- consecutive ids (transaction-local, rolled back with a savepoint).
  if cardinality(v_ids) = 1 then
    v_ranges := v_ids[1] || '-' || v_ids[1];
  else
    select pg_catalog.string_agg(g.lo || '-' || g.hi, ',' order by g.lo) into v_ranges
    from (select min(t.id) as lo, max(t.id) as hi
          from (select x.id, x.id - row_number() over (order by x.id) as grp
                from unnest(v_ids) as x(id)) as t
          group by t.grp) as g;
  end if;
  v_ranges := pg_catalog.set_config('rowflow.pending_runs',
    coalesce(nullif(pg_catalog.current_setting('rowflow.pending_runs', true), '') || ',', '') || v_ranges,
    true);
end;
$$;
comment on function rowflow._start_attached(int, text, jsonb[], text[]) is
  'Internal: the one call a generated attachment trigger makes per statement (mode, queued runs, pending_runs bookkeeping).';
select rowflow._allow('function rowflow._start_attached(int, text, jsonb[], text[])', '{}');

-- from sql/schema/50_attach/attach.sql
create or replace function rowflow.attach(
  table_name regclass,
  workflow text,
  events text[] default '{insert}',
  "when" text default null,
  input text default null,
  idempotency_key text default null,
  columns text[] default null,
  exclude_columns text[] default null,
  caller name default current_user)
returns int
language sql
security definer
set search_path to ''
as $$
  select rowflow._attach(attach.table_name, attach.table_name::text, attach.workflow,
                         attach.events, attach."when", attach.input, attach.idempotency_key,
                         attach.columns, attach.exclude_columns, attach.caller);
$$;
comment on function rowflow.attach(regclass, text, text[], text, text, text, text[], text[], name) is
  'Same as attach(text, …) for a regclass argument.';
select rowflow._allow('function rowflow.attach(regclass, text, text[], text, text, text, text[], text[], name)', '{}');

create or replace function rowflow.attach(
  table_name text,
  workflow text,
  events text[] default '{insert}',
  "when" text default null,
  input text default null,
  idempotency_key text default null,
  columns text[] default null,
  exclude_columns text[] default null,
  caller name default current_user,
  caller_search_path text default pg_catalog.current_setting('search_path'))
returns int
language sql
security definer
set search_path to ''
as $$
  select rowflow._attach(rowflow._resolve_table(attach.table_name, attach.caller_search_path),
                         attach.table_name, attach.workflow, attach.events, attach."when",
                         attach.input, attach.idempotency_key, attach.columns, attach.exclude_columns,
                         attach.caller);
$$;
comment on function rowflow.attach(text, text, text[], text, text, text, text[], text[], name, text) is
  'Attaches a workflow to a table: row changes (events) for which "when" holds start a run with the given input (default: the row as JSON, or only `columns`, or without `exclude_columns`) in the same transaction. The table name resolves with the caller''s search_path. Returns the attachment id. RF020, RF030-RF036.';
select rowflow._allow('function rowflow.attach(text, text, text[], text, text, text, text[], text[], name, text)', '{}');

-- from sql/schema/50_attach/attachments.sql
create or replace view rowflow.attachments as
select
  a.id,
  a.relid::regclass as table_name,
  a.workflow,
  a.events,
  a.when_sql,
  a.input_sql,
  a.key_sql as idempotency_key_sql,
  a.columns,
  a.exclude_columns,
  ('rowflow.' || pg_catalog.quote_ident(a.function_name)) as trigger_function,
  array(select t.tgname::text from pg_catalog.pg_trigger as t
        where t.tgrelid = a.relid and t.tgfoid = p.oid order by t.tgname) as triggers,
  a.created_at,
  a.created_by
from rowflow.table_attachments as a
join pg_catalog.pg_proc as p
  on p.proname = a.function_name and p.pronamespace = 'rowflow'::regnamespace
where exists (select 1 from pg_catalog.pg_trigger as t where t.tgrelid = a.relid and t.tgfoid = p.oid);
comment on view rowflow.attachments is
  'Every live table attachment with its options (SQL text as given to rowflow.attach).';
select rowflow._allow('view rowflow.attachments', '{viewer}');

-- from sql/schema/50_attach/detach.sql
create or replace function rowflow.detach(table_name regclass, workflow text, caller name default current_user)
returns int
language sql
security definer
set search_path to ''
as $$
  select rowflow._detach(detach.table_name, detach.table_name::text, detach.workflow, detach.caller);
$$;
comment on function rowflow.detach(regclass, text, name) is
  'Same as detach(text, text) for a regclass argument.';
select rowflow._allow('function rowflow.detach(regclass, text, name)', '{}');

create or replace function rowflow.detach(
  table_name text,
  workflow text,
  caller name default current_user,
  caller_search_path text default pg_catalog.current_setting('search_path'))
returns int
language sql
security definer
set search_path to ''
as $$
  select rowflow._detach(rowflow._resolve_table(detach.table_name, detach.caller_search_path),
                         detach.table_name, detach.workflow, detach.caller);
$$;
comment on function rowflow.detach(text, text, name, text) is
  'Removes every attachment of workflow on the table (triggers and functions); started runs are left alone. Returns how many. RF030, RF031, RF036, RF037.';
select rowflow._allow('function rowflow.detach(text, text, name, text)', '{}');

-- from sql/schema/50_attach/pending_runs.sql
create or replace function rowflow.pending_runs()
returns table (run_id bigint, workflow text, version int, input jsonb, priority smallint, status text,
               created_at timestamptz)
language sql stable
set search_path to ''
as $$
  select r.id, r.workflow, r.version, r.input, r.priority, r.status, r.created_at
  from (
    select distinct pg_catalog.split_part(x, '-', 1)::bigint as lo, pg_catalog.split_part(x, '-', 2)::bigint as hi
    from unnest(pg_catalog.string_to_array(
      nullif(pg_catalog.current_setting('rowflow.pending_runs', true), ''), ',')) as x
  ) as g
  join rowflow.visible_runs as r on r.id between g.lo and g.hi
  order by r.id;
$$;
comment on function rowflow.pending_runs() is
  'Runs started by attached triggers so far in the current transaction (preview: begin; update …; select * from rowflow.pending_runs(); rollback;).';
select rowflow._allow('function rowflow.pending_runs()', '{app,operator,viewer}');

-- from sql/schema/60_gate/_advance_chain_step.sql
create or replace function rowflow._advance_chain_step(run rowflow.runs, now timestamptz)
returns text
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_sr rowflow.step_runs;
  v_ws rowflow.workflow_steps;
  v_ids bigint[];
begin
  select * into v_sr from rowflow.step_runs as sr
  where sr.run_id = _advance_chain_step.run.id and sr.kind <> 'step' and sr.status = 'pending'
  order by sr.seq limit 1
  for update;
  if not found then
    return null;
  end if;
  -- A compensation uses the queue and priority of the step it undoes.
  select ws.* into v_ws from rowflow.workflow_steps as ws
  where ws.workflow = _advance_chain_step.run.workflow and ws.version = _advance_chain_step.run.version
    and v_sr.kind = 'compensation' and ws.name = substr(v_sr.step, length('compensate:') + 1);
  v_ids := rowflow._add_step_jobs(array[row(v_sr.run_id, v_sr.step, 1,
    rowflow._queue_name(v_ws.queue_name, v_ws.queue_key,
      jsonb_build_object('input', _advance_chain_step.run.input, 'steps', '{}'::jsonb)),
    _advance_chain_step.now, coalesce(v_ws.priority, 0) + _advance_chain_step.run.priority)::rowflow.step_job]);
  update rowflow.step_runs as sr
  set status = 'queued', deps_remaining = 0, attempt = 1, job_id = v_ids[1], queued_at = _advance_chain_step.now
  where sr.run_id = v_sr.run_id and sr.step = v_sr.step;
  return v_sr.step;
end;
$$;
select rowflow._allow('function rowflow._advance_chain_step(rowflow.runs, timestamptz)', '{}');

-- from sql/schema/60_gate/_begin.sql
create or replace function rowflow._begin(run_ids bigint[], steps text[], attempts int[], os int[], worker_id text,
  now timestamptz, reserved boolean, key bytea, check_jobs boolean default false)
returns jsonb
language plpgsql
set search_path to ''
set plan_cache_mode to force_generic_plan
set enable_seqscan to off
set enable_hashjoin to off
set enable_mergejoin to off
set jit to off
as $$
#variable_conflict use_column
declare
  v_n int := coalesce(cardinality(_begin.run_ids), 0);
  v_begun rowflow.begun_step[];
  v_again rowflow.begun_step[];
  v_os int[];
  v_results jsonb;
begin
  -- A worker's reserved steps (always workflow steps: chain links are jobs)
  -- begin in one statement, contexts included.
  if _begin.reserved then
    with c as (
      select * from unnest(_begin.run_ids, _begin.steps, _begin.attempts, _begin.os) as c(run_id, step, attempt, o)
    ), u as (
      update rowflow.step_runs as sr set status = 'running', started_at = _begin.now
      from c
      where sr.run_id = c.run_id and sr.step = c.step and sr.attempt = c.attempt and sr.status = 'queued'
        and sr.locked_by = _begin.worker_id
        and exists (select 1 from rowflow.runs as r where r.id = c.run_id and r.status in ('running', 'compensating'))
      returning c.o, sr.run_id, sr.step, sr.kind, sr.attempt, sr.max_attempts
    )
    select coalesce(array_agg(u.o), '{}'), coalesce(pg_catalog.jsonb_object_agg(u.o::text, pg_catalog.jsonb_build_object(
             'ok', true, 'runId', u.run_id::text, 'step', u.step, 'task', ws.task,
             'workflow', r.workflow, 'version', r.version, 'input', r.input,
             'deps', (select coalesce(pg_catalog.jsonb_object_agg(o.step, o.output), '{}'::jsonb)
                      from rowflow.step_runs as o where o.run_id = u.run_id and o.step = any (ws.depends_on)),
             'attempt', u.attempt, 'maxAttempts', u.max_attempts,
             'timeoutMs', (extract(epoch from ws.timeout) * 1000)::bigint,
             'idempotencyKey', 'rowflow:' || u.run_id || ':' || u.step,
             'kind', u.kind, 'runError', r.error,
             'lease', rowflow._lease(_begin.key, u.run_id, u.step, u.attempt))), '{}')
    into v_os, v_results
    from u
    join rowflow.runs as r on r.id = u.run_id
    join rowflow.workflow_steps as ws on ws.workflow = r.workflow and ws.version = r.version and ws.name = u.step;
  else

  -- PHASE 1: queued attempts become running.
  with c as (
    select * from unnest(_begin.run_ids, _begin.steps, _begin.attempts, _begin.os) as c(run_id, step, attempt, o)
  ), u as (
    update rowflow.step_runs as sr set status = 'running', started_at = _begin.now
    from c
    where sr.run_id = c.run_id and sr.step = c.step and sr.attempt = c.attempt and sr.status = 'queued'
      and sr.locked_by is null
      and exists (select 1 from rowflow.runs as r where r.id = c.run_id and r.status in ('running', 'compensating'))
      and (not _begin.check_jobs or exists (select 1 from graphile_worker._private_jobs as j
                                            where j.id = sr.job_id and j.locked_by = _begin.worker_id))
    returning c.o, sr.run_id, sr.step, sr.kind, sr.attempt, sr.max_attempts
  )
  select coalesce(array_agg(row(u.o, u.run_id, u.step, u.kind, u.attempt, u.max_attempts)::rowflow.begun_step), '{}')
  into v_begun
  from u;

  -- PHASE 2: re-deliveries of graphile jobs (rare): running with the same attempt.
  if cardinality(v_begun) < v_n then
    select coalesce(array_agg(row(c.o, sr.run_id, sr.step, sr.kind, sr.attempt, sr.max_attempts)::rowflow.begun_step), '{}')
    into v_again
    from unnest(_begin.run_ids, _begin.steps, _begin.attempts, _begin.os) as c(run_id, step, attempt, o)
    join rowflow.step_runs as sr on sr.run_id = c.run_id and sr.step = c.step and sr.attempt = c.attempt
    join rowflow.runs as r on r.id = c.run_id
    where sr.status = 'running' and sr.locked_by is null and r.status in ('running', 'compensating')
      and (not _begin.check_jobs or exists (select 1 from graphile_worker._private_jobs as j
                                            where j.id = sr.job_id and j.locked_by = _begin.worker_id))
      and not c.o = any (array(select b.o from unnest(v_begun) as b));
    if cardinality(v_again) > 0 then
      insert into rowflow.events (run_id, step, type, attempt, data, at)
      select b.run_id, b.step, 'step_started', b.attempt,
             pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object('workerId', _begin.worker_id,
                                                                        'redelivery', true)), _begin.now
      from unnest(v_again) as b order by b.run_id, b.step;
      v_begun := v_begun || v_again;
    end if;
  end if;

  -- PHASE 3: the contexts (task, timeout, dependency outputs by kind).
  select coalesce(array_agg(b.o), '{}'), coalesce(pg_catalog.jsonb_object_agg(b.o::text, pg_catalog.jsonb_build_object(
           'ok', true, 'runId', b.run_id::text, 'step', b.step, 'task', t.task,
           'workflow', r.workflow, 'version', r.version, 'input', r.input, 'deps', t.deps,
           'attempt', b.attempt, 'maxAttempts', b.max_attempts,
           'timeoutMs', (extract(epoch from t.timeout) * 1000)::bigint,
           'idempotencyKey', 'rowflow:' || b.run_id || ':' || b.step,
           'kind', b.kind, 'runError', r.error,
           'lease', rowflow._lease(_begin.key, b.run_id, b.step, b.attempt))), '{}')
  into v_os, v_results
  from unnest(v_begun) as b
  join rowflow.runs as r on r.id = b.run_id
  cross join lateral (
    select ws.task, ws.timeout,
      (select coalesce(pg_catalog.jsonb_object_agg(o.step, o.output), '{}'::jsonb)
       from rowflow.step_runs as o where o.run_id = b.run_id and o.step = any (ws.depends_on)) as deps
    from rowflow.workflow_steps as ws
    where b.kind = 'step' and ws.workflow = r.workflow and ws.version = r.version and ws.name = b.step
    union all
    select ws.compensate, ws.timeout,
      (select coalesce(pg_catalog.jsonb_object_agg(o.step, o.output), '{}'::jsonb)
       from rowflow.step_runs as o where o.run_id = b.run_id and o.step = ws.name)
    from rowflow.workflow_steps as ws
    where b.kind = 'compensation' and ws.workflow = r.workflow and ws.version = r.version
      and ws.name = substr(b.step, length('compensate:') + 1)
    union all
    select wv.on_failure, null::interval,
      (select coalesce(pg_catalog.jsonb_object_agg(o.step, o.output), '{}'::jsonb)
       from rowflow.step_runs as o where o.run_id = b.run_id and o.kind = 'step' and o.status = 'succeeded')
    from rowflow.workflow_versions as wv
    where b.kind = 'on_failure' and wv.workflow = r.workflow and wv.version = r.version
  ) as t;
  end if;

  -- PHASE 4: refusals for the calls that did not match.
  if cardinality(v_os) < v_n then
    select v_results || coalesce(pg_catalog.jsonb_object_agg(f.o::text, f.refusal), '{}') into v_results
    from rowflow._refusals(
      array(select c.run_id from unnest(_begin.run_ids, _begin.os) as c(run_id, o) where not c.o = any (v_os) order by c.o),
      array(select c.step from unnest(_begin.steps, _begin.os) as c(step, o) where not c.o = any (v_os) order by c.o),
      array(select c.attempt from unnest(_begin.attempts, _begin.os) as c(attempt, o) where not c.o = any (v_os) order by c.o),
      array(select c.o from unnest(_begin.os) as c(o) where not c.o = any (v_os) order by c.o),
      array['queued', 'running'], case when _begin.check_jobs then _begin.worker_id end) as f;
  end if;
  return v_results;
end;
$$;
comment on function rowflow._begin(bigint[], text[], int[], int[], text, timestamptz, boolean, bytea, boolean) is
  'Internal: begins queued attempts (graphile-fetched, or reserved under worker_id''s lease); answers {o: context or refusal}.';
select rowflow._allow('function rowflow._begin(bigint[], text[], int[], int[], text, timestamptz, boolean, bytea, boolean)', '{}');

-- from sql/schema/60_gate/_cancel_steps.sql
create or replace function rowflow._cancel_steps(run_id bigint, kinds text[], reason text, now timestamptz)
returns int
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_run rowflow.runs;
  v_jobs bigint[];
  v_n int;
begin
  select r.* into v_run from rowflow.runs as r where r.id = _cancel_steps.run_id;
  -- PHASE 1: the queued jobs (a leased step has none).
  v_jobs := array(
    select sr.job_id from rowflow.step_runs as sr
    where sr.run_id = _cancel_steps.run_id and sr.kind = any (_cancel_steps.kinds)
      and sr.status = 'queued' and sr.job_id is not null and sr.locked_by is null
    order by sr.job_id);
  if cardinality(v_jobs) > 0 then
    delete from graphile_worker._private_jobs as jobs
    where jobs.id = any (v_jobs)
      and (jobs.locked_at is null or jobs.locked_at < pg_catalog.now() - interval '4 hours');
    update graphile_worker._private_jobs as jobs
    set attempts = jobs.max_attempts, updated_at = pg_catalog.now()
    where jobs.id = any (v_jobs);
  end if;

  -- PHASE 2: the step runs, with and without a row, and their events.
  with c as (
    update rowflow.step_runs as sr
    set status = 'cancelled', finished_at = _cancel_steps.now, locked_by = null
    where sr.run_id = _cancel_steps.run_id and sr.kind = any (_cancel_steps.kinds)
      and sr.status in ('pending', 'queued', 'running')
    returning sr.step, sr.attempt
  ), n as (
    insert into rowflow.step_runs (run_id, step, kind, status, deps_remaining, attempt, max_attempts,
                                   created_at, finished_at)
    select _cancel_steps.run_id, ws.name, 'step', 'cancelled', ws.n_deps, 0, ws.attempts,
           v_run.created_at, _cancel_steps.now
    from rowflow.workflow_steps as ws
    where 'step' = any (_cancel_steps.kinds)
      and ws.workflow = v_run.workflow and ws.version = v_run.version
      and not exists (select 1 from rowflow.step_runs as sr
                      where sr.run_id = _cancel_steps.run_id and sr.step = ws.name)
    order by ws.name
    returning step, attempt
  ), cn as (
    select * from c union all select * from n
  ), e as (
    insert into rowflow.events (run_id, step, type, attempt, data, at)
    select _cancel_steps.run_id, cn.step, 'step_cancelled', nullif(cn.attempt, 0),
      jsonb_build_object('reason', _cancel_steps.reason), _cancel_steps.now
    from cn order by cn.step
  )
  select count(*) into v_n from cn;
  return v_n;
end;
$$;
select rowflow._allow('function rowflow._cancel_steps(bigint, text[], text, timestamptz)', '{}');

-- from sql/schema/60_gate/_context.sql
create or replace function rowflow._context(run_id bigint, step text, kind text, attempt int, max_attempts int,
  task text, workflow text, version int, input jsonb, deps jsonb, timeout interval, run_error jsonb, lease text)
returns jsonb
language plpgsql immutable
set search_path to ''
as $$
#variable_conflict use_column
begin
  -- plpgsql, not sql: a non-inlined SQL function is planned on every call.
  return pg_catalog.jsonb_build_object(
    'ok', true,
    'runId', _context.run_id::text,
    'step', _context.step,
    'task', _context.task,
    'workflow', _context.workflow,
    'version', _context.version,
    'input', _context.input,
    'deps', coalesce(_context.deps, '{}'::jsonb),
    'attempt', _context.attempt,
    'maxAttempts', _context.max_attempts,
    'timeoutMs', (extract(epoch from _context.timeout) * 1000)::bigint,
    'idempotencyKey', 'rowflow:' || _context.run_id || ':' || _context.step,
    'kind', _context.kind,
    'runError', _context.run_error,
    'lease', _context.lease);
end;
$$;
select rowflow._allow('function rowflow._context(bigint, text, text, int, int, text, text, int, jsonb, jsonb, interval, jsonb, text)', '{}');

-- from sql/schema/60_gate/_deps_outputs.sql
create or replace function rowflow._deps_outputs(run_id bigint, names text[])
returns jsonb
language sql stable
set search_path to ''
as $$
  select coalesce(jsonb_object_agg(sr.step, sr.output), '{}'::jsonb)
  from rowflow.step_runs as sr
  where sr.run_id = _deps_outputs.run_id and sr.step = any (_deps_outputs.names);
$$;
select rowflow._allow('function rowflow._deps_outputs(bigint, text[])', '{}');

-- from sql/schema/60_gate/_finish_runs.sql
create or replace function rowflow._finish_runs(run_ids bigint[], now timestamptz)
returns table (run_id bigint, status text)
language plpgsql
set search_path to ''
set plan_cache_mode to force_generic_plan
set enable_seqscan to off
set enable_hashjoin to off
set enable_mergejoin to off
set jit to off
as $$
#variable_conflict use_column
begin
  return query
  with s as (
    select r.id, r.status, r.error, a.open, a.step_rows, wv.step_count, a.chain
    from rowflow.runs as r
    join rowflow.workflow_versions as wv on wv.workflow = r.workflow and wv.version = r.version
    cross join lateral (
      select count(*) filter (where sr.status in ('pending', 'queued', 'running')) as open,
             count(*) filter (where sr.kind = 'step') as step_rows,
             pg_catalog.jsonb_object_agg(sr.step, sr.status) filter (where sr.kind <> 'step') as chain
      from rowflow.step_runs as sr where sr.run_id = r.id
    ) as a
    where r.id = any (_finish_runs.run_ids) and r.status in ('running', 'compensating')
  ), f as (
    update rowflow.runs as r
    set status = case s.status when 'running' then 'succeeded' else 'failed' end,
        error = case when s.status = 'compensating'
                     then r.error || pg_catalog.jsonb_build_object('compensation', coalesce(s.chain, '{}'::jsonb))
                     else r.error end,
        updated_at = _finish_runs.now, finished_at = _finish_runs.now
    from s
    where r.id = s.id and s.open = 0 and (s.status = 'compensating' or s.step_rows >= s.step_count)
    returning r.id, r.status, r.error
  ), ev as (
    insert into rowflow.events (run_id, type, data, at)
    select f.id, 'run_failed', f.error, _finish_runs.now from f where f.status = 'failed'
  )
  select r.id, coalesce(f.status, r.status)
  from rowflow.runs as r left join f on f.id = r.id
  where r.id = any (_finish_runs.run_ids);
end;
$$;
comment on function rowflow._finish_runs(bigint[], timestamptz) is
  'Internal: ends the given runs that have nothing left (succeeded, or failed after compensation); returns each run''s status.';
select rowflow._allow('function rowflow._finish_runs(bigint[], timestamptz)', '{}');

-- from sql/schema/60_gate/_queue_name.sql
create or replace function rowflow._queue_name(queue_name text, queue_key jsonpath, ctx jsonb)
returns text
language sql immutable
set search_path to ''
as $$
  select case
    when _queue_name.queue_name is null then null
    when _queue_name.queue_key is null then _queue_name.queue_name
    else coalesce(
      _queue_name.queue_name || ':' || (
        select case when length(k) <= 64 then k else md5(k) end
        from (select jsonb_path_query_first(_queue_name.ctx, _queue_name.queue_key, '{}', true) #>> '{}' as k) as x),
      _queue_name.queue_name)
  end;
$$;
select rowflow._allow('function rowflow._queue_name(text, jsonpath, jsonb)', '{}');

-- from sql/schema/60_gate/_refusals.sql
create or replace function rowflow._refusals(run_ids bigint[], steps text[], attempts int[], os int[], allowed text[],
  job_holder text default null)
returns table (o int, refusal jsonb)
language plpgsql stable
set search_path to ''
set plan_cache_mode to force_generic_plan
set enable_seqscan to off
set enable_hashjoin to off
set enable_mergejoin to off
set jit to off
as $$
#variable_conflict use_column
begin
  return query
  select c.o,
    case
      when r.id is null then '{"ok": false, "reason": "unknown_run"}'::jsonb
      when s.status is null then '{"ok": false, "reason": "unknown_step"}'::jsonb
      when s.status in ('succeeded', 'failed', 'skipped', 'cancelled') then
        pg_catalog.jsonb_build_object('ok', false, 'reason', 'step_terminal', 'status', s.status, 'runStatus', r.status)
      when s.attempt <> c.attempt then
        pg_catalog.jsonb_build_object('ok', false, 'reason', 'attempt_mismatch', 'currentAttempt', s.attempt)
      when r.status not in ('running', 'compensating') then
        pg_catalog.jsonb_build_object('ok', false, 'reason', 'run_not_active', 'runStatus', r.status)
      when _refusals.job_holder is not null and s.status in ('queued', 'running')
           and not exists (select 1 from graphile_worker._private_jobs as j
                           where j.id = s.job_id and j.locked_by = _refusals.job_holder) then
        '{"ok": false, "reason": "not_lease_holder"}'::jsonb
      else
        pg_catalog.jsonb_build_object('ok', false,
          'reason', 'step_not_' || case when _refusals.allowed = array['running'] then 'running' else 'ready' end,
          'status', s.status)
    end
  from unnest(_refusals.run_ids, _refusals.steps, _refusals.attempts, _refusals.os) as c(run_id, step, attempt, o)
  left join rowflow.runs as r on r.id = c.run_id
  left join lateral (
    select sr.status, sr.attempt, sr.job_id from rowflow.step_runs as sr where sr.run_id = c.run_id and sr.step = c.step
    union all
    select 'pending', 0, null::bigint from rowflow.workflow_steps as ws
    where ws.workflow = r.workflow and ws.version = r.version and ws.name = c.step
      and not exists (select 1 from rowflow.step_runs as sr where sr.run_id = c.run_id and sr.step = c.step)
  ) as s on true;
end;
$$;
select rowflow._allow('function rowflow._refusals(bigint[], text[], int[], int[], text[], text)', '{}');

-- from sql/schema/60_gate/_release.sql
create or replace function rowflow._release(done rowflow.done_step[], takes int[], worker_id text, now timestamptz,
  key bytea)
returns setof rowflow.released_step
language plpgsql
set search_path to ''
set plan_cache_mode to force_generic_plan
set enable_seqscan to off
set enable_hashjoin to off
set enable_mergejoin to off
set jit to off
as $$
#variable_conflict use_column
declare
  v_frontier rowflow.done_step[] := _release.done;
  v_takes int[] := coalesce(_release.takes, '{}');
  v_can_take boolean;
  v_yield int;
  v_yield_known boolean := false;
  v_dec rowflow.released_step[];
  v_rows rowflow.released_step[];
  v_all rowflow.released_step[] := '{}';
  v_queues text[];
  v_seq regclass := pg_catalog.pg_get_serial_sequence('graphile_worker._private_jobs', 'id')::regclass;
  v_woke int;
begin
  while coalesce(cardinality(v_frontier), 0) > 0 loop
    -- The lowest priority value waiting elsewhere, looked up once.
    v_can_take := _release.worker_id is not null and exists (select 1 from unnest(v_takes) as t where t > 0);
    if v_can_take and not v_yield_known then
      v_yield := least(
        (select r.priority from rowflow.runs as r
         where r.status = 'queued'
           and not exists (select 1 from rowflow.workflows as w where w.name = r.workflow and w.paused)
         order by r.priority limit 1),
        (select j.priority from graphile_worker._private_jobs as j
         where j.is_available = true and j.run_at <= _release.now order by j.priority limit 1));
      v_yield_known := true;
    end if;

    -- PHASE 1: decide. One row per dependent of the frontier not decided
    -- yet; `context` carries what the writes need.
    select coalesce(array_agg(row(z.origin, z.run_id, z.name,
             case
               when z.decision <> 'ready' then z.decision
               when z.eligible and z.rn <= coalesce(v_takes[z.origin], 0) then 'running'
               else 'queued'
             end,
             pg_catalog.jsonb_build_object('remaining', z.remaining, 'existed', z.existed, 'attempts', z.attempts,
               'queue', z.queue, 'runAt', _release.now + coalesce(z.delay, interval '0'), 'priority', z.eff_priority,
               'if', z.if_path::text,
               'context', case when z.eligible and z.rn <= coalesce(v_takes[z.origin], 0) then
                 rowflow._context(z.run_id, z.name, 'step', 1, z.attempts, z.task, z.workflow, z.version, z.input,
                                  z.deps, z.timeout, null, rowflow._lease(_release.key, z.run_id, z.name, 1)) end)
           )::rowflow.released_step order by z.run_id, z.name), '{}')
    into v_dec
    from (
      select y.*,
        row_number() over (partition by y.origin, y.eligible order by y.eff_priority, y.run_id, y.name) as rn
      from (
        select x.*, q.queue,
          (v_can_take and x.decision = 'ready' and q.queue is null
           and coalesce(x.delay, interval '0') <= interval '0'
           and (v_yield is null or x.eff_priority <= v_yield)) as eligible
        from (
          select d.origin, d.run_id, d.name, ws.task, ws.attempts, ws.delay, ws.timeout, ws.queue_name,
            ws.queue_key, ws.if_path, r.workflow, r.version, r.input,
            greatest(-32768, least(32767, ws.priority + r.priority)) as eff_priority,
            sr.step is not null as existed,
            coalesce(sr.deps_remaining, ws.n_deps) - d.n as remaining,
            dp.deps,
            case
              when coalesce(sr.deps_remaining, ws.n_deps) - d.n > 0 then 'pending'
              when ws.if_path is null then 'ready'
              when coalesce(jsonb_path_match(pg_catalog.jsonb_build_object('input', r.input, 'steps', dp.deps),
                                             ws.if_path, '{}', true), false) then 'ready'
              else 'skipped'
            end as decision
          from (
            select f.run_id, dep.name, count(*)::int as n, max(f.origin) as origin
            from unnest(v_frontier) as f(run_id, step, origin)
            join rowflow.runs as fr on fr.id = f.run_id
            join rowflow.workflow_steps as fs
              on fs.workflow = fr.workflow and fs.version = fr.version and fs.name = f.step
            cross join unnest(fs.dependents) as dep(name)
            group by f.run_id, dep.name
          ) as d
          join rowflow.runs as r on r.id = d.run_id
          join rowflow.workflow_steps as ws on ws.workflow = r.workflow and ws.version = r.version and ws.name = d.name
          left join rowflow.step_runs as sr on sr.run_id = d.run_id and sr.step = d.name
          cross join lateral (
            select case when coalesce(sr.deps_remaining, ws.n_deps) - d.n = 0 then
              (select coalesce(pg_catalog.jsonb_object_agg(o.step, o.output), '{}'::jsonb)
               from rowflow.step_runs as o where o.run_id = d.run_id and o.step = any (ws.depends_on)) end as deps
          ) as dp
          -- A row that exists and is no longer pending was decided already.
          where sr.step is null or (sr.kind = 'step' and sr.status = 'pending')
        ) as x
        cross join lateral (
          select case when x.decision = 'ready' and x.queue_name is not null then
            rowflow._queue_name(x.queue_name, x.queue_key,
                                pg_catalog.jsonb_build_object('input', x.input, 'steps', x.deps)) end as queue
        ) as q
      ) as y
    ) as z;

    exit when cardinality(v_dec) = 0;

    -- PHASE 2: named queues must exist before their jobs reference them.
    v_queues := array(select distinct (d.context ->> 'queue') from unnest(v_dec) as d
                      where d.status = 'queued' and d.context ->> 'queue' is not null);
    if cardinality(v_queues) > 0 then
      insert into graphile_worker._private_job_queues as q (queue_name)
      select unnest(v_queues) order by 1
      on conflict do nothing;
    end if;

    -- PHASE 3: jobs for the queued ones, rows (leased for the taken ones), events.
    with w as (
      -- Job ids drawn here, not matched back from the insert (see claim_runs).
      select d.*, case when d.status = 'queued' then pg_catalog.nextval(v_seq) end as job_id
      from unnest(v_dec) as d
    ), jobs as (
      insert into graphile_worker._private_jobs as j
        (id, job_queue_id, task_id, payload, run_at, max_attempts, priority)
      overriding system value
      select
        w.job_id,
        case when w.context ->> 'queue' is not null then
          (select q.id from graphile_worker._private_job_queues as q where q.queue_name = w.context ->> 'queue') end,
        (select t.id from graphile_worker._private_tasks as t where t.identifier = 'rowflow:step'),
        pg_catalog.json_build_object('run', w.run_id, 'step', w.step, 'attempt', 1),
        (w.context ->> 'runAt')::timestamptz, 25, (w.context ->> 'priority')::int
      from w where w.status = 'queued'
      order by w.job_id
    ), upd as (
      update rowflow.step_runs as sr
      set deps_remaining = (w.context ->> 'remaining')::int, status = w.status,
          attempt = case when w.status in ('queued', 'running') then 1 else 0 end,
          queued_at = case when w.status in ('queued', 'running') then _release.now end,
          started_at = case when w.status = 'running' then _release.now end,
          finished_at = case when w.status = 'skipped' then _release.now end,
          job_id = w.job_id,
          locked_by = case when w.status = 'running' then _release.worker_id end
      from w
      where (w.context ->> 'existed')::boolean and sr.run_id = w.run_id and sr.step = w.step
    ), ins as (
      insert into rowflow.step_runs (run_id, step, kind, status, deps_remaining, attempt, max_attempts,
                                     created_at, queued_at, started_at, finished_at, job_id, locked_by)
      select w.run_id, w.step, 'step', w.status, (w.context ->> 'remaining')::int,
             case when w.status in ('queued', 'running') then 1 else 0 end, (w.context ->> 'attempts')::int,
             _release.now, case when w.status in ('queued', 'running') then _release.now end,
             case when w.status = 'running' then _release.now end,
             case when w.status = 'skipped' then _release.now end, w.job_id,
             case when w.status = 'running' then _release.worker_id end
      from w where not (w.context ->> 'existed')::boolean
      order by w.run_id, w.step
    ), ev as (
      insert into rowflow.events (run_id, step, type, data, at)
      select w.run_id, w.step, 'step_skipped', pg_catalog.jsonb_build_object('if', w.context ->> 'if'), _release.now
      from w where w.status = 'skipped'
      order by w.run_id, w.step
    )
    select coalesce(array_agg(row(w.origin, w.run_id, w.step, w.status,
             case when w.status = 'running' then
               (w.context -> 'context') || pg_catalog.jsonb_build_object('priority', (w.context ->> 'priority')::int) end
           )::rowflow.released_step order by w.run_id, w.step), '{}')
    into v_rows
    from w;

    v_all := v_all || v_rows;
    -- Takes used by this round; skipped steps are the next frontier.
    v_takes := array(
      select greatest(0, coalesce(v_takes[i], 0) - (select count(*) from unnest(v_rows) as x
                                                    where x.origin = i and x.status = 'running'))::int
      from pg_catalog.generate_series(1, coalesce(cardinality(v_takes), 0)) as i
      order by i);
    v_frontier := array(select row(x.run_id, x.step, x.origin)::rowflow.done_step
                        from unnest(v_rows) as x where x.status = 'skipped' order by x.run_id, x.step);
  end loop;

  if exists (select 1 from unnest(v_all) as x where x.status = 'queued') then
    v_woke := rowflow._wake_all((select count(*)::int from unnest(v_all) as x where x.status = 'queued'), 0, null);
  end if;
  return query select * from unnest(v_all);
end;
$$;
comment on function rowflow._release(rowflow.done_step[], int[], text, timestamptz, bytea) is
  'Internal: releases dependents of succeeded/skipped steps of many runs (conditions, queues, delays); hands up to takes[origin] of them to worker_id.';
select rowflow._allow('function rowflow._release(rowflow.done_step[], int[], text, timestamptz, bytea)', '{}');

-- from sql/schema/60_gate/begin_steps.sql
create or replace function rowflow.begin_step(
  run_id bigint,
  step text,
  attempt int,
  worker_id text default null,
  now timestamptz default null)
returns jsonb
language plpgsql
security definer
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_result jsonb;
begin
  select b into v_result
  from rowflow.begin_steps(array[begin_step.run_id], array[begin_step.step], array[begin_step.attempt],
                           begin_step.worker_id, begin_step.now) as b;
  return v_result;
end;
$$;
comment on function rowflow.begin_step(bigint, text, int, text, timestamptz) is
  'Marks a queued step attempt running and returns the handler context, or {"ok": false, "reason"} for a stale/duplicate job.';
select rowflow._allow('function rowflow.begin_step(bigint, text, int, text, timestamptz)', '{worker}');

create or replace function rowflow.begin_steps(
  run_ids bigint[], steps text[], attempts int[], worker_id text default null, now timestamptz default null,
  reserved boolean default false, worker_token text default null)
returns setof jsonb
language plpgsql
security definer
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_n int := coalesce(cardinality(begin_steps.run_ids), 0);
  v_results jsonb;
  v_woke int;
  v_trusted boolean;
begin
  -- GUARD: a worker; one value per call in every array. A session that is
  -- not trusted begins graphile jobs only when its worker holds their lock,
  -- and its reserved steps only with its token.
  perform rowflow._require('{worker}');
  if coalesce(cardinality(begin_steps.steps), 0) <> v_n or coalesce(cardinality(begin_steps.attempts), 0) <> v_n then
    raise exception 'begin_steps: run_ids, steps and attempts must have the same length' using errcode = '22023';
  end if;
  if v_n = 0 then
    return;
  end if;
  v_trusted := rowflow._trusted();
  if coalesce(begin_steps.reserved, false) then
    perform rowflow._check_worker(begin_steps.worker_id, begin_steps.worker_token);
  elsif begin_steps.worker_id is null and not v_trusted then
    raise exception 'begin_steps: worker_id is required: the worker whose graphile-worker pool holds the jobs'
      using errcode = '22023';
  end if;
  -- PHASE 1: lock order: the runs (id order), then step rows.
  perform 1 from rowflow.runs as r where r.id = any (begin_steps.run_ids) order by r.id for no key update;
  -- PHASE 2: begin, answer in call order.
  v_results := rowflow._begin(begin_steps.run_ids, begin_steps.steps, begin_steps.attempts,
                              array(select i from pg_catalog.generate_series(1, v_n) as i),
                              begin_steps.worker_id, coalesce(begin_steps.now, pg_catalog.statement_timestamp()),
                              coalesce(begin_steps.reserved, false), rowflow._secret(), not v_trusted);
  v_woke := rowflow._wake_all(0, 0, case when v_n = 1 then pg_catalog.jsonb_build_object('run', begin_steps.run_ids[1])
                                   else pg_catalog.jsonb_build_object('runs', v_n) end);
  return query select v_results -> (i::text) from pg_catalog.generate_series(1, v_n) as i order by i;
end;
$$;
comment on function rowflow.begin_steps(bigint[], text[], int[], text, timestamptz, boolean, text) is
  'Marks queued step attempts running and returns their handler contexts (with lease tokens) or refusals, one per call in call order.';
select rowflow._allow('function rowflow.begin_steps(bigint[], text[], int[], text, timestamptz, boolean, text)', '{worker}');

-- from sql/schema/60_gate/cancel_run.sql
create or replace function rowflow.cancel_run(run_id bigint, reason text default null, now timestamptz default null)
returns boolean
language plpgsql
security definer
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_now timestamptz := coalesce(cancel_run.now, pg_catalog.statement_timestamp());
  v_run rowflow.runs;
begin
  -- GUARD: an operator, or the app that started the run; lock the run;
  -- only a queued or active run can be cancelled.
  perform rowflow._require('{operator,app}');
  select r.* into v_run from rowflow.runs as r where r.id = cancel_run.run_id for no key update;
  if not found then
    raise exception 'unknown run %', cancel_run.run_id using errcode = 'RF023';
  end if;
  if v_run.started_by is distinct from session_user::text and not rowflow._trusted()
     and not pg_catalog.pg_has_role(session_user, rowflow._role('operator'), 'MEMBER') then
    raise exception 'permission denied: run % was not started by %', v_run.id, session_user
      using errcode = '42501', hint = 'Operators (rowflow_operator) cancel any run; an app cancels its own.';
  end if;
  if v_run.status not in ('queued', 'running', 'compensating') then
    return false;
  end if;
  -- PHASE 1: cancel every unfinished step run (a compensation chain too) and
  -- remove the queued jobs; then the run.
  perform rowflow._cancel_steps(v_run.id, array['step', 'compensation', 'on_failure'],
                                coalesce(cancel_run.reason, 'run cancelled'), v_now);
  update rowflow.runs as r
  set status = 'cancelled', updated_at = v_now, finished_at = v_now
  where r.id = v_run.id;
  insert into rowflow.events (run_id, type, data, at)
  values (v_run.id, 'run_cancelled', jsonb_build_object('reason', cancel_run.reason, 'from', v_run.status), v_now);
  perform rowflow._notify(jsonb_build_object('run', v_run.id));
  return true;
end;
$$;
comment on function rowflow.cancel_run(bigint, text, timestamptz) is
  'Cancels an active run: unfinished step runs cancelled, their queued jobs removed. False if the run already ended; RF023 if unknown.';
select rowflow._allow('function rowflow.cancel_run(bigint, text, timestamptz)', '{operator,app}');

-- from sql/schema/60_gate/claim_runs.sql
create or replace function rowflow.claim_runs(
  worker_id text default null,
  take int default 0,
  max_runs int default null,
  now timestamptz default null,
  worker_token text default null)
returns jsonb
language plpgsql
security definer
set search_path to ''
as $$
#variable_conflict use_column
begin
  -- GUARD: a worker (or an operator claiming for graphile-worker, take 0);
  -- handing steps to worker_id needs its token.
  perform rowflow._require(case when coalesce(claim_runs.take, 0) > 0 then '{worker}'::text[]
                                else '{worker,operator}'::text[] end);
  if coalesce(claim_runs.take, 0) > 0 and claim_runs.worker_id is not null then
    perform rowflow._check_worker(claim_runs.worker_id, claim_runs.worker_token);
  end if;
  return rowflow._claim(claim_runs.worker_id, claim_runs.take, claim_runs.max_runs, claim_runs.now,
                        case when coalesce(claim_runs.take, 0) > 0 then rowflow._secret() end);
end;
$$;
comment on function rowflow.claim_runs(text, int, int, timestamptz, text) is
  'Claims up to max_runs queued runs: running, a row per step, up to take root steps handed to worker_id (running, leased; worker_token required), the others queued as jobs. Answers {"runs": claimed, "taken": [handler contexts]}.';
select rowflow._allow('function rowflow.claim_runs(text, int, int, timestamptz, text)', '{worker,operator}');

create or replace function rowflow._claim(worker_id text, take int, max_runs int, now timestamptz, key bytea)
returns jsonb
language plpgsql
set search_path to ''
set plan_cache_mode to force_generic_plan
set enable_seqscan to off
set enable_hashjoin to off
set enable_mergejoin to off
set jit to off
as $$
#variable_conflict use_column
declare
  v_now timestamptz := coalesce(_claim.now, pg_catalog.statement_timestamp());
  v_take int := coalesce(_claim.take, 0);
  v_limit int := coalesce(_claim.max_runs, greatest(coalesce(_claim.take, 0), 1));
  v_out record;
  v_seq regclass := pg_catalog.pg_get_serial_sequence('graphile_worker._private_jobs', 'id')::regclass;
  v_woke int;
  v_yield int;
begin
  -- GUARD: arguments.
  if v_take < 0 or v_limit < 0 then
    raise exception 'claim_runs: take and max_runs must not be negative (take %, max_runs %)', v_take, v_limit
      using errcode = '22023';
  end if;
  if v_take > 0 and _claim.worker_id is null then
    raise exception 'claim_runs: take > 0 needs the worker_id that will run the steps' using errcode = '22023';
  end if;
  if v_limit = 0 then
    return '{"runs": 0, "taken": []}';
  end if;
  -- A worker that takes steps does not start a run while an available job
  -- with a lower priority value is due (backfill runs yield to live work).
  if v_take > 0 then
    v_yield := (select j.priority from graphile_worker._private_jobs as j
                where j.is_available = true and j.run_at <= v_now order by j.priority limit 1);
  end if;

  -- PHASE 1: one statement: the runs; the plan of every step of theirs (a
  -- root step is skipped by its condition, taken — the first `take`
  -- eligible ones in claim order — or queued; the others get pending rows
  -- now, so that releasing them later only updates a row); jobs for the
  -- queued roots; the rows; skip events.
  with c as (
    select r.id,
           exists (select 1 from rowflow.workflow_versions as wv
                   where wv.workflow = r.workflow and wv.version = r.version) as known
    from rowflow.runs as r
    where r.status = 'queued' and (v_yield is null or r.priority <= v_yield)
      and not exists (select 1 from rowflow.workflows as w where w.name = r.workflow and w.paused)
    order by r.priority, r.id
    limit v_limit
    for no key update skip locked
  ), u as (
    -- A run of a workflow version that does not exist (inserted by hand, a
    -- broken restore) fails here, RF025, instead of running forever.
    update rowflow.runs as r
    set status = case when c.known then 'running' else 'failed' end, started_at = v_now, updated_at = v_now,
        finished_at = case when c.known then null else v_now end,
        error = case when c.known then null else pg_catalog.jsonb_build_object('code', 'RF025',
                  'message', pg_catalog.format('workflow %s has no version %s', r.workflow, r.version)) end
    from c where r.id = c.id
    returning r.id, r.workflow, r.version, r.input, r.priority, r.status, r.error
  ), bad as (
    insert into rowflow.events (run_id, type, data, at)
    select u.id, 'run_failed', pg_catalog.jsonb_build_object('error', u.error), v_now
    from u where u.status = 'failed'
  ), s as (
    select u.id as run_id, u.workflow, u.version, u.input, ws.name as step, ws.task, ws.attempts, ws.delay,
      ws.timeout, ws.if_path, ws.n_deps, ws.n_deps = 0 as root,
      greatest(-32768, least(32767, ws.priority + u.priority)) as priority, q.queue, g.go,
      (ws.n_deps = 0 and g.go and q.queue is null and coalesce(ws.delay, interval '0') <= interval '0') as eligible,
      u.priority as run_priority
    from u
    join rowflow.workflow_steps as ws on ws.workflow = u.workflow and ws.version = u.version and u.status = 'running'
    cross join lateral (
      select ws.n_deps = 0 and (ws.if_path is null
        or coalesce(jsonb_path_match(pg_catalog.jsonb_build_object('input', u.input, 'steps', '{}'::jsonb),
                                     ws.if_path, '{}', true), false)) as go
    ) as g
    cross join lateral (
      select case when g.go and ws.queue_name is not null then
        rowflow._queue_name(ws.queue_name, ws.queue_key,
                            pg_catalog.jsonb_build_object('input', u.input, 'steps', '{}'::jsonb)) end as queue
    ) as q
  ), d as (
    select s.*,
      case when not s.root then 'pending'
           when not s.go then 'skipped'
           when s.eligible
                and row_number() over (partition by s.eligible
                                       order by s.run_priority, s.run_id, s.priority, s.step) <= v_take
             then 'running'
           else 'queued' end as status
    from s
  ), p as (
    -- Job ids drawn here (graphile's own sequence), not matched back from
    -- the insert's RETURNING: a join of thousands of rows against it would
    -- be a nested loop with hash joins off.
    select d.*, case when d.status = 'queued' then pg_catalog.nextval(v_seq) end as job_id
    from d
  ), jobs as (
    insert into graphile_worker._private_jobs as j (id, job_queue_id, task_id, payload, run_at, max_attempts, priority)
    overriding system value
    select
      p.job_id,
      null,
      (select t.id from graphile_worker._private_tasks as t where t.identifier = 'rowflow:step'),
      pg_catalog.json_build_object('run', p.run_id, 'step', p.step, 'attempt', 1),
      v_now + coalesce(p.delay, interval '0'), 25, p.priority
    from p where p.status = 'queued'
    order by p.job_id
  ), ins as (
    insert into rowflow.step_runs (run_id, step, kind, status, deps_remaining, attempt, max_attempts,
                                   created_at, queued_at, started_at, finished_at, job_id, locked_by)
    select p.run_id, p.step, 'step', p.status, case when p.status = 'pending' then p.n_deps else 0 end,
           case when p.status in ('queued', 'running') then 1 else 0 end,
           p.attempts, v_now, case when p.status in ('queued', 'running') then v_now end,
           case when p.status = 'running' then v_now end, case when p.status = 'skipped' then v_now end, p.job_id,
           case when p.status = 'running' then _claim.worker_id end
    from p
    order by p.run_id, p.step
  ), ev as (
    insert into rowflow.events (run_id, step, type, data, at)
    select p.run_id, p.step, 'step_skipped', pg_catalog.jsonb_build_object('if', p.if_path::text), v_now
    from p where p.status = 'skipped'
    order by p.run_id, p.step
  )
  select (select count(*)::int from u where u.status = 'running') as runs,
         coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
           'ok', true, 'runId', p.run_id::text, 'step', p.step, 'task', p.task,
           'workflow', p.workflow, 'version', p.version, 'input', p.input, 'deps', '{}'::jsonb,
           'attempt', 1, 'maxAttempts', p.attempts,
           'timeoutMs', (extract(epoch from p.timeout) * 1000)::bigint,
           'idempotencyKey', 'rowflow:' || p.run_id || ':' || p.step,
           'kind', 'step', 'runError', null, 'priority', p.priority,
           'lease', rowflow._lease(_claim.key, p.run_id, p.step, 1))
           order by p.run_priority, p.run_id, p.priority, p.step)
           filter (where p.status = 'running'), '[]'::jsonb) as taken,
         count(*) filter (where p.status = 'queued')::int as queued,
         coalesce(array_agg(row(p.run_id, p.step, 1)::rowflow.done_step order by p.run_id, p.step)
                  filter (where p.status = 'skipped'), '{}') as skipped,
         pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('id', p.job_id, 'queue', p.queue))
           filter (where p.status = 'queued' and p.queue is not null) as queue_jobs
  into v_out
  from p;

  -- PHASE 2 (rare): jobs of named queues: the queue rows (created when
  -- missing) and their ids, before anything commits.
  if v_out.queue_jobs is not null then
    insert into graphile_worker._private_job_queues as jq (queue_name)
    select distinct x ->> 'queue' from pg_catalog.jsonb_array_elements(v_out.queue_jobs) as x
    on conflict do nothing;
    update graphile_worker._private_jobs as j
    set job_queue_id = jq.id
    from pg_catalog.jsonb_array_elements(v_out.queue_jobs) as x
    join graphile_worker._private_job_queues as jq on jq.queue_name = x ->> 'queue'
    where j.id = (x ->> 'id')::bigint;
  end if;

  -- PHASE 3: runs with skipped root steps: release what the skips satisfy
  -- (rare), then finish the runs that have nothing left.
  if cardinality(v_out.skipped) > 0 then
    perform rowflow._release(v_out.skipped, null, null, v_now, null);
    perform rowflow._finish_runs(array(select distinct d.run_id from unnest(v_out.skipped) as d), v_now);
  end if;
  if v_out.queued > 0 then
    v_woke := rowflow._wake_all(v_out.queued, 0, null);
  end if;
  return pg_catalog.jsonb_build_object('runs', v_out.runs, 'taken', v_out.taken);
end;
$$;
select rowflow._allow('function rowflow._claim(text, int, int, timestamptz, bytea)', '{}');

-- from sql/schema/60_gate/complete_steps.sql
create or replace function rowflow.complete_step(
  run_id bigint,
  step text,
  attempt int,
  output jsonb default null,
  now timestamptz default null,
  take int default 0,
  worker_id text default null,
  claim boolean default false,
  lease text default null,
  worker_token text default null)
returns jsonb
language plpgsql
security definer
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_result jsonb;
begin
  select c into v_result
  from rowflow.complete_steps(array[complete_step.run_id], array[complete_step.step],
                              array[complete_step.attempt], array[complete_step.output],
                              array[coalesce(complete_step.take, 0)], complete_step.worker_id, complete_step.now,
                              complete_step.claim,
                              leases => case when complete_step.lease is null then null
                                             else array[complete_step.lease] end,
                              worker_token => complete_step.worker_token) as c;
  return v_result;
end;
$$;
comment on function rowflow.complete_step(bigint, text, int, jsonb, timestamptz, int, text, boolean, text, text) is
  'Completes the running attempt in the caller''s transaction and releases its dependents (up to take of them handed to worker_id); see complete_steps.';
select rowflow._allow('function rowflow.complete_step(bigint, text, int, jsonb, timestamptz, int, text, boolean, text, text)', '{worker}');

create or replace function rowflow.complete_steps(
  run_ids bigint[], steps text[], attempts int[], outputs jsonb[],
  takes int[] default null, worker_id text default null, now timestamptz default null,
  claim boolean default false, reserve int default 0,
  next_run_ids bigint[] default null, next_steps text[] default null, next_attempts int[] default null,
  leases text[] default null, worker_token text default null)
returns setof jsonb
language plpgsql
security definer
set search_path to ''
set plan_cache_mode to force_generic_plan
set enable_seqscan to off
set enable_hashjoin to off
set enable_mergejoin to off
set jit to off
as $$
#variable_conflict use_column
declare
  v_now timestamptz := coalesce(complete_steps.now, pg_catalog.statement_timestamp());
  v_n int := coalesce(cardinality(complete_steps.run_ids), 0);
  v_worker text := complete_steps.worker_id;
  v_takes int[];
  v_reserve int := case when complete_steps.worker_id is null then 0 else greatest(coalesce(complete_steps.reserve, 0), 0) end;
  v_next_os int[];
  v_done record;
  v_plan record;
  v_yield int;
  v_job_ids bigint[] := '{}';
  v_job_runs bigint[] := '{}';
  v_job_steps text[] := '{}';
  v_taken text[] := '{}';
  v_reserved text[] := '{}';
  v_left int[];
  v_rel rowflow.released_step[] := '{}';
  v_open bigint[];
  v_run rowflow.runs;
  v_next text;
  v_chained jsonb := '{}';
  v_status jsonb := '{}';
  v_begun jsonb := '{}';
  v_claimed jsonb;
  v_claimed_taken jsonb;
  v_claim_i int;
  v_refusals jsonb;
  v_queued int := 0;
  v_by_call jsonb;
  v_answer jsonb;
  v_i int;
  v_woke int;
  v_key bytea;
  v_trusted boolean;
  v_limit int := coalesce(nullif(pg_catalog.current_setting('rowflow.max_output_bytes', true), '')::int, 1048576);
begin
  -- GUARD: a worker; one value per call in every array; the worker's token
  -- when it takes or reserves steps.
  perform rowflow._require('{worker}');
  if coalesce(cardinality(complete_steps.steps), 0) <> v_n
     or coalesce(cardinality(complete_steps.attempts), 0) <> v_n
     or coalesce(cardinality(complete_steps.outputs), v_n) <> v_n
     or coalesce(cardinality(complete_steps.takes), v_n) <> v_n
     or coalesce(cardinality(complete_steps.next_run_ids), v_n) <> v_n
     or coalesce(cardinality(complete_steps.next_steps), v_n) <> v_n
     or coalesce(cardinality(complete_steps.next_attempts), v_n) <> v_n
     or coalesce(cardinality(complete_steps.leases), v_n) <> v_n then
    raise exception 'complete_steps: every array argument must have one value per call' using errcode = '22023';
  end if;
  if v_n = 0 then
    return;
  end if;
  if v_worker is not null then
    perform rowflow._check_worker(v_worker, complete_steps.worker_token);
  end if;
  v_key := rowflow._secret();
  v_trusted := complete_steps.leases is null and rowflow._trusted();
  -- Simple expressions where they do (no statement to start): a take that
  -- is null or negative counts as 0 wherever takes are compared (> 0).
  v_takes := case when v_worker is null or complete_steps.takes is null then array_fill(0, array[v_n])
                  else complete_steps.takes end;
  v_next_os := '{}';
  if v_worker is not null and complete_steps.next_run_ids is not null then
    v_next_os := array(select i from pg_catalog.generate_series(1, v_n) as i
                       where complete_steps.next_run_ids[i] is not null);
  end if;

  -- PHASE 1: lock order: the runs (id order: completions' and next steps'),
  -- then step rows. The running attempts succeed and lose their leases.
  with l as (
    select r.id, r.status from rowflow.runs as r
    where r.id = any (complete_steps.run_ids || coalesce(complete_steps.next_run_ids, '{}'))
    order by r.id
    for no key update
  ), c as (
    -- Fenced: the call shows the attempt's lease token (a trusted session
    -- may omit every token). An output over the limit (rowflow.max_output_bytes,
    -- default 1 MiB of JSON text) is refused, so that the worker fails the step.
    select x.*,
      case when x.lease is null then v_trusted
           else x.lease = rowflow._lease(v_key, x.run_id, x.step, x.attempt) end as fenced,
      x.output is not null and pg_catalog.pg_column_size(x.output) > v_limit / 6
        and pg_catalog.octet_length(x.output::text) > v_limit as too_big
    from unnest(complete_steps.run_ids, complete_steps.steps, complete_steps.attempts, complete_steps.outputs,
                coalesce(complete_steps.leases, array_fill(null::text, array[v_n])))
         with ordinality as x(run_id, step, attempt, output, lease, o)
  ), u as (
    update rowflow.step_runs as sr
    set status = 'succeeded', output = c.output, finished_at = v_now, locked_by = null
    from c join l on l.id = c.run_id and l.status in ('running', 'compensating')
    where sr.run_id = c.run_id and sr.step = c.step and sr.attempt = c.attempt and sr.status = 'running'
      and c.fenced and not c.too_big
    returning c.o, sr.run_id, sr.step, sr.kind
  )
  select coalesce(array_agg(u.o::int order by u.o), '{}') as os,
         coalesce(array_agg(row(u.run_id, u.step, u.o)::rowflow.done_step order by u.run_id, u.step)
                  filter (where u.kind = 'step'), '{}') as steps,
         coalesce(array_agg(distinct u.run_id) filter (where u.kind <> 'step'), '{}') as chain_runs,
         coalesce(array_agg(distinct u.run_id), '{}') as runs,
         (select pg_catalog.jsonb_object_agg(l.id::text, l.status) from l) as run_status,
         (select pg_catalog.jsonb_object_agg(c.o::text, case when not c.fenced
             then '{"ok": false, "reason": "not_lease_holder"}'::jsonb
             else pg_catalog.jsonb_build_object('ok', false, 'reason', 'output_too_large',
                    'bytes', pg_catalog.octet_length(c.output::text), 'limit', v_limit) end)
          from c where not c.fenced or c.too_big) as unfenced,
         -- Who waits for a NOTIFY (sql/schema/20_tables/31_waiters.sql):
         -- usually nobody, and then no _wake_all call at the end.
         (select pg_catalog.array_agg(w.channel) from rowflow.waiters as w
          where w.channel in ('jobs:insert', 'rowflow') and w.until > pg_catalog.statement_timestamp()) as waiting
  into v_done
  from u;

  -- PHASE 2: release dependents. The plan: each dependent of a completed
  -- step, its counter after this batch, and whether the fast path applies.
  v_left := v_takes;
  if cardinality(v_done.steps) > 0 then
    select coalesce(bool_and(x.plain), true) as plain,
           coalesce(array_agg(x.run_id::text || ':' || x.name order by x.eff_priority, x.origin, x.run_id, x.name)
                    filter (where x.remaining = 0), '{}') as ready,
           coalesce(array_agg(x.origin order by x.eff_priority, x.origin, x.run_id, x.name)
                    filter (where x.remaining = 0), '{}') as ready_origin,
           coalesce(array_agg(x.eff_priority order by x.eff_priority, x.origin, x.run_id, x.name)
                    filter (where x.remaining = 0), '{}') as ready_priority,
           coalesce(array_agg(row(x.origin, x.run_id, x.name, x.n)::rowflow.dependent
                              order by x.run_id, x.name), '{}') as deps,
           max(x.eff_priority) filter (where x.remaining = 0) as worst
    into v_plan
    from (
      select d.origin, d.run_id, d.name, d.n,
        sr.step is not null and sr.kind = 'step' and ws.if_path is null and ws.queue_name is null
          and coalesce(ws.delay, interval '0') <= interval '0' as plain,
        coalesce(sr.deps_remaining, ws.n_deps) - d.n as remaining,
        greatest(-32768, least(32767, ws.priority + r.priority)) as eff_priority
      from (
        select f.run_id, dep.name, count(*)::int as n, max(f.origin) as origin
        from unnest(v_done.steps) as f(run_id, step, origin)
        join rowflow.runs as fr on fr.id = f.run_id
        join rowflow.workflow_steps as fs on fs.workflow = fr.workflow and fs.version = fr.version and fs.name = f.step
        cross join unnest(fs.dependents) as dep(name)
        group by f.run_id, dep.name
      ) as d
      join rowflow.runs as r on r.id = d.run_id
      join rowflow.workflow_steps as ws on ws.workflow = r.workflow and ws.version = r.version and ws.name = d.name
      left join rowflow.step_runs as sr on sr.run_id = d.run_id and sr.step = d.name
      where sr.step is null or (sr.kind = 'step' and sr.status = 'pending')
    ) as x;

    if v_plan.plain then
      -- Who runs the ready ones: call i's slots (takes[i]), this worker's
      -- local queue (reserve), or graphile (a job). Not this worker while
      -- something with a lower priority value waits.
      if cardinality(v_plan.ready) > 0 and v_worker is not null
         and (v_reserve > 0 or 0 < any (v_takes)) then
        -- Only what beats the worst ready priority matters: bounded index
        -- scans, which stop at the first page past the bound (claimed runs
        -- leave dead entries at the start of runs_queued_idx until vacuum).
        v_yield := least(
          (select r.priority from rowflow.runs as r
           where r.status = 'queued' and r.priority < v_plan.worst
             and not exists (select 1 from rowflow.workflows as w where w.name = r.workflow and w.paused)
           order by r.priority limit 1),
          (select j.priority from graphile_worker._private_jobs as j
           where j.is_available = true and j.run_at <= v_now and j.priority < v_plan.worst
           order by j.priority limit 1));
        for v_i in 1 .. cardinality(v_plan.ready) loop
          exit when v_yield is not null and v_plan.ready_priority[v_i] > v_yield;
          if v_left[v_plan.ready_origin[v_i]] > 0 then
            v_taken := v_taken || v_plan.ready[v_i];
            v_left[v_plan.ready_origin[v_i]] := v_left[v_plan.ready_origin[v_i]] - 1;
          elsif v_reserve > 0 then
            v_reserved := v_reserved || v_plan.ready[v_i];
            v_reserve := v_reserve - 1;
          end if;
        end loop;
      end if;
      -- Jobs for the ready ones graphile runs (none when this worker takes
      -- or reserves them all: no INSERT to start).
      if cardinality(v_plan.ready) > cardinality(v_taken) + cardinality(v_reserved) then
        with j as (
        insert into graphile_worker._private_jobs as j (job_queue_id, task_id, payload, run_at, max_attempts, priority)
        select null,
               (select t.id from graphile_worker._private_tasks as t where t.identifier = 'rowflow:step'),
               pg_catalog.json_build_object('run', k.run_id, 'step', k.name, 'attempt', 1),
               v_now, 25, greatest(-32768, least(32767, ws.priority + r.priority))
        from (
          select split_part(x.k, ':', 1)::bigint as run_id, substr(x.k, strpos(x.k, ':') + 1) as name
          from unnest(v_plan.ready) as x(k)
          where not x.k = any (v_taken) and not x.k = any (v_reserved)
        ) as k
        join rowflow.runs as r on r.id = k.run_id
        join rowflow.workflow_steps as ws on ws.workflow = r.workflow and ws.version = r.version and ws.name = k.name
        order by k.run_id, k.name
        returning j.id, (j.payload ->> 'run')::bigint as run_id, j.payload ->> 'step' as step
        )
        select pg_catalog.array_agg(j.id), pg_catalog.array_agg(j.run_id), pg_catalog.array_agg(j.step)
        into v_job_ids, v_job_runs, v_job_steps
        from j;
      end if;
      -- One statement: every dependent's row updated (leased when taken or
      -- reserved, with its job otherwise), and what the answers need.
      with d as (
        select * from unnest(v_plan.deps) as d(origin, run_id, name, n)
      ), j as (
        select * from unnest(v_job_ids, v_job_runs, v_job_steps) as j(id, run_id, step)
      ), u as (
        update rowflow.step_runs as sr
        set deps_remaining = sr.deps_remaining - d.n,
            status = case when sr.deps_remaining > d.n then 'pending'
                          when (sr.run_id::text || ':' || sr.step) = any (v_taken) then 'running'
                          else 'queued' end,
            attempt = case when sr.deps_remaining > d.n then 0 else 1 end,
            queued_at = case when sr.deps_remaining = d.n then v_now end,
            started_at = case when (sr.run_id::text || ':' || sr.step) = any (v_taken) then v_now end,
            job_id = j.id,
            locked_by = case when sr.deps_remaining = d.n
                              and ((sr.run_id::text || ':' || sr.step) = any (v_taken)
                                   or (sr.run_id::text || ':' || sr.step) = any (v_reserved)) then v_worker end
        from d left join j on j.run_id = d.run_id and j.step = d.name
        where sr.run_id = d.run_id and sr.step = d.name and sr.status = 'pending'
        returning d.origin, sr.run_id, sr.step, sr.status, sr.locked_by, sr.max_attempts
      )
      select coalesce(array_agg(row(u.origin, u.run_id, u.step,
               case when u.status = 'queued' and u.locked_by is not null then 'reserved' else u.status end,
               case when u.status = 'running' then pg_catalog.jsonb_build_object(
                 'ok', true, 'runId', u.run_id::text, 'step', u.step, 'task', ws.task,
                 'workflow', r.workflow, 'version', r.version, 'input', r.input,
                 'deps', (select coalesce(pg_catalog.jsonb_object_agg(o.step, o.output), '{}'::jsonb)
                          from rowflow.step_runs as o where o.run_id = u.run_id and o.step = any (ws.depends_on)),
                 'attempt', 1, 'maxAttempts', u.max_attempts,
                 'timeoutMs', (extract(epoch from ws.timeout) * 1000)::bigint,
                 'idempotencyKey', 'rowflow:' || u.run_id || ':' || u.step,
                 'kind', 'step', 'runError', null,
                 'priority', greatest(-32768, least(32767, ws.priority + r.priority)),
                 'lease', rowflow._lease(v_key, u.run_id, u.step, 1))
                    when u.status = 'queued' and u.locked_by is not null then pg_catalog.jsonb_build_object(
                 'runId', u.run_id::text, 'step', u.step, 'attempt', 1,
                 'priority', greatest(-32768, least(32767, ws.priority + r.priority))) end
             )::rowflow.released_step order by u.run_id, u.step), '{}'),
             count(*) filter (where u.status = 'queued' and u.locked_by is null)::int
      into v_rel, v_queued
      from u
      join rowflow.runs as r on r.id = u.run_id
      join rowflow.workflow_steps as ws on ws.workflow = r.workflow and ws.version = r.version and ws.name = u.step;
    else
      -- The general path: conditions, queues, delays, rows to create.
      v_rel := array(select rowflow._release(v_done.steps, v_takes, v_worker, v_now, v_key));
      v_left := array(select greatest(0, t.n - (select count(*) from unnest(v_rel) as x
                                                where x.origin = t.o and x.status = 'running'))::int
                      from unnest(v_takes) with ordinality as t(n, o) order by t.o);
    end if;
  end if;
  -- Runs that go on: a dependent of theirs is pending, queued or running now.
  v_open := array(select distinct x.run_id from unnest(v_rel) as x where x.status <> 'skipped');

  -- PHASE 3: the next link of compensation / on-failure chains (rare).
  if cardinality(v_done.chain_runs) > 0 then
    for v_run in select r.* from rowflow.runs as r where r.id = any (v_done.chain_runs) order by r.id loop
      v_next := rowflow._advance_chain_step(v_run, v_now);
      if v_next is not null then
        v_chained := v_chained || pg_catalog.jsonb_build_object(v_run.id::text, v_next);
        v_open := v_open || v_run.id;
      end if;
    end loop;
  end if;

  -- PHASE 4: finish the runs left with nothing open: a running one
  -- succeeds when no step row of it is pending, queued or running (every
  -- step has a row then: a finished step gave each dependent one); a
  -- compensating one takes _finish_runs (the chain's results).
  if exists (select 1 from unnest(v_done.runs) as x where not x = any (v_open)) then
    with f as (
      update rowflow.runs as r
      set status = 'succeeded', updated_at = v_now, finished_at = v_now
      where r.id = any (array(select x from unnest(v_done.runs) as x where not x = any (v_open)))
        and r.status = 'running'
        and not exists (select 1 from rowflow.step_runs as sr
                        where sr.run_id = r.id and sr.status in ('pending', 'queued', 'running'))
      returning r.id
    )
    select coalesce(pg_catalog.jsonb_object_agg(f.id::text, 'succeeded'), '{}') into v_status from f;
    if exists (select 1 from unnest(v_done.runs) as x where not x = any (v_open)
               and v_done.run_status ->> x::text = 'compensating') then
      select v_status || coalesce(pg_catalog.jsonb_object_agg(f.run_id::text, f.status), '{}') into v_status
      from rowflow._finish_runs(array(select x from unnest(v_done.runs) as x
                                      where not x = any (v_open)
                                        and v_done.run_status ->> x::text = 'compensating'), v_now) as f;
    end if;
  end if;

  -- PHASE 5: a call's slot that took no dependent runs its reserved next
  -- step (a slot that did keeps the next step queued: the worker puts it
  -- back).
  if cardinality(v_next_os) > 0 then
    v_next_os := array(select i from unnest(v_next_os) as i where v_left[i] > 0 order by i);
  end if;
  if cardinality(v_next_os) > 0 then
    v_begun := rowflow._begin(
      array(select complete_steps.next_run_ids[i] from unnest(v_next_os) as i),
      array(select complete_steps.next_steps[i] from unnest(v_next_os) as i),
      array(select complete_steps.next_attempts[i] from unnest(v_next_os) as i),
      v_next_os, v_worker, v_now, true, v_key);
    foreach v_i in array v_next_os loop
      if (v_begun -> (v_i::text) ->> 'ok')::boolean then
        v_left[v_i] := v_left[v_i] - 1;
      end if;
    end loop;
  end if;

  -- PHASE 6: slots left over claim queued runs.
  if complete_steps.claim and v_worker is not null and 0 < any (v_left) then
    v_claimed := rowflow._claim(v_worker, (select sum(t)::int from unnest(v_left) as t),
                                (select sum(t)::int from unnest(v_left) as t), v_now, v_key);
  end if;

  -- PHASE 7: answers in call order, assembled in plpgsql (no statement per
  -- call): what the release decided, grouped by call; claimed root steps
  -- fill the calls' leftover slots in call order.
  if cardinality(v_done.os) < v_n then
    select coalesce(v_done.unfenced, '{}'::jsonb)
           || coalesce(pg_catalog.jsonb_object_agg(f.o::text, f.refusal) filter (where not coalesce(v_done.unfenced, '{}'::jsonb) ? f.o::text), '{}')
    into v_refusals
    from rowflow._refusals(
      array(select c.run_id from unnest(complete_steps.run_ids) with ordinality as c(run_id, o)
            where not c.o = any (v_done.os) order by c.o),
      array(select c.step from unnest(complete_steps.steps) with ordinality as c(step, o)
            where not c.o = any (v_done.os) order by c.o),
      array(select c.attempt from unnest(complete_steps.attempts) with ordinality as c(attempt, o)
            where not c.o = any (v_done.os) order by c.o),
      array(select i from pg_catalog.generate_series(1, v_n) as i where not i = any (v_done.os) order by i),
      array['running']) as f;
  end if;
  if cardinality(v_rel) > 0 then
    select pg_catalog.jsonb_object_agg(g.origin::text, g.answer) into v_by_call
    from (
      select x.origin, pg_catalog.jsonb_build_object(
        'released', coalesce(pg_catalog.jsonb_agg(x.step order by x.step)
                               filter (where x.status in ('queued', 'running', 'reserved')), '[]'::jsonb),
        'skipped', coalesce(pg_catalog.jsonb_agg(x.step order by x.step) filter (where x.status = 'skipped'), '[]'::jsonb),
        'taken', coalesce(pg_catalog.jsonb_agg(x.context order by x.run_id, x.step)
                            filter (where x.status = 'running'), '[]'::jsonb),
        'reserved', coalesce(pg_catalog.jsonb_agg(x.context order by x.run_id, x.step)
                               filter (where x.status = 'reserved'), '[]'::jsonb)) as answer
      from unnest(v_rel) as x
      group by x.origin
    ) as g;
  end if;
  if 'rowflow' = any (v_done.waiting) or (v_queued > 0 and 'jobs:insert' = any (v_done.waiting)) then
    v_woke := rowflow._wake_all(v_queued, 0,
      case when cardinality(v_done.runs) = 1 then pg_catalog.jsonb_build_object('run', v_done.runs[1])
           else pg_catalog.jsonb_build_object('runs', cardinality(v_done.runs)) end);
  end if;
  v_claimed_taken := coalesce(v_claimed -> 'taken', '[]'::jsonb);
  v_claim_i := 0;
  for v_i in 1 .. v_n loop
    v_answer := coalesce(v_by_call -> (v_i::text), '{"released": [], "skipped": [], "taken": [], "reserved": []}'::jsonb);
    -- The reserved step begun for this call's slot goes first.
    if (v_begun -> (v_i::text) ->> 'ok')::boolean then
      v_answer := pg_catalog.jsonb_set(v_answer, '{taken}',
                                       pg_catalog.jsonb_build_array(v_begun -> (v_i::text)) || (v_answer -> 'taken'));
    end if;
    if v_left[v_i] > 0 and v_claim_i < pg_catalog.jsonb_array_length(v_claimed_taken) then
      v_answer := pg_catalog.jsonb_set(v_answer, '{taken}', (v_answer -> 'taken')
        || coalesce((select pg_catalog.jsonb_agg(e) from pg_catalog.jsonb_array_elements(v_claimed_taken)
                     with ordinality as t(e, k) where t.k > v_claim_i and t.k <= v_claim_i + v_left[v_i]), '[]'::jsonb));
      v_claim_i := v_claim_i + v_left[v_i];
    end if;
    if v_i = any (v_done.os) then
      v_answer := v_answer || pg_catalog.jsonb_build_object('ok', true, 'runStatus',
        coalesce(v_status ->> complete_steps.run_ids[v_i]::text, v_done.run_status ->> complete_steps.run_ids[v_i]::text));
      if v_chained ? complete_steps.run_ids[v_i]::text and pg_catalog.jsonb_array_length(v_answer -> 'released') = 0 then
        v_answer := pg_catalog.jsonb_set(v_answer, '{released}',
                                         pg_catalog.jsonb_build_array(v_chained ->> complete_steps.run_ids[v_i]::text));
      end if;
    else
      v_answer := (v_refusals -> (v_i::text)) || (v_answer - 'released' - 'skipped');
    end if;
    if v_claimed is not null then
      v_answer := v_answer || pg_catalog.jsonb_build_object('claimedRuns', v_claimed -> 'runs');
    end if;
    return next v_answer;
  end loop;
end;
$$;
comment on function rowflow.complete_steps(bigint[], text[], int[], jsonb[], int[], text, timestamptz, boolean, int, bigint[], text[], int[], text[], text) is
  'Completes running step attempts (set-based; each with its lease token), releases dependents (taken, reserved or queued), begins reserved next steps, claims queued runs for leftover slots, finishes runs; one answer per call.';
select rowflow._allow('function rowflow.complete_steps(bigint[], text[], int[], jsonb[], int[], text, timestamptz, boolean, int, bigint[], text[], int[], text[], text)', '{worker}');

-- from sql/schema/60_gate/fail_lost_attempt.sql
create or replace function rowflow.fail_lost_attempt(run_id bigint, step text, attempt int, worker_id text,
  now timestamptz default null)
returns jsonb
language plpgsql
security definer
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_sr rowflow.step_runs;
  v_deliveries int;
begin
  -- GUARD: a worker; the step running with that attempt; its job locked by worker_id.
  perform rowflow._require('{worker}');
  perform 1 from rowflow.runs as r where r.id = fail_lost_attempt.run_id for no key update;
  select sr.* into v_sr from rowflow.step_runs as sr
  where sr.run_id = fail_lost_attempt.run_id and sr.step = fail_lost_attempt.step
    and sr.status = 'running' and sr.attempt = fail_lost_attempt.attempt;
  if not found then
    return '{"ok": false, "reason": "not_running"}'::jsonb;
  end if;
  select j.attempts into v_deliveries from graphile_worker._private_jobs as j
  where j.id = v_sr.job_id and j.locked_by = fail_lost_attempt.worker_id;
  if not found and not rowflow._trusted() then
    return '{"ok": false, "reason": "not_lease_holder"}'::jsonb;
  end if;
  return rowflow._fail_attempt(fail_lost_attempt.run_id, fail_lost_attempt.step, fail_lost_attempt.attempt,
    pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
      'kind', 'worker_lost', 'code', 'RF_WORKER_LOST', 'workerId', fail_lost_attempt.worker_id,
      'message', pg_catalog.format('the worker running attempt %s stopped before recording an outcome%s',
                                   fail_lost_attempt.attempt,
                                   coalesce(pg_catalog.format(' (job delivered %s times)', v_deliveries), '')))),
    true, null, fail_lost_attempt.now);
end;
$$;
comment on function rowflow.fail_lost_attempt(bigint, text, int, text, timestamptz) is
  'A re-delivered job''s attempt was lost with its worker: records it as failed (worker_lost) and retries it by its policy. For the worker holding the job''s lock.';
select rowflow._allow('function rowflow.fail_lost_attempt(bigint, text, int, text, timestamptz)', '{worker}');

-- from sql/schema/60_gate/fail_step.sql
create or replace function rowflow.fail_step(
  run_id bigint,
  step text,
  attempt int,
  error jsonb,
  retryable boolean default true,
  retry_at timestamptz default null,
  now timestamptz default null,
  lease text default null)
returns jsonb
language plpgsql
security definer
set search_path to ''
as $$
#variable_conflict use_column
begin
  -- GUARD: a worker, with the attempt's lease token (a trusted session may
  -- omit it). Without it nothing changes: another role or worker cannot fail
  -- an attempt it was not handed.
  perform rowflow._require('{worker}');
  if (fail_step.lease is null and not rowflow._trusted())
     or (fail_step.lease is not null
         and fail_step.lease is distinct from rowflow._lease(rowflow._secret(), fail_step.run_id, fail_step.step,
                                                             fail_step.attempt)) then
    return '{"ok": false, "reason": "not_lease_holder"}'::jsonb;
  end if;
  return rowflow._fail_attempt(fail_step.run_id, fail_step.step, fail_step.attempt, fail_step.error,
                               coalesce(fail_step.retryable, true), fail_step.retry_at, fail_step.now);
end;
$$;
comment on function rowflow.fail_step(bigint, text, int, jsonb, boolean, timestamptz, timestamptz, text) is
  'Fails the running attempt: retry with backoff (or at retry_at) while attempts remain, else the step fails and the run fails/compensates.';
select rowflow._allow('function rowflow.fail_step(bigint, text, int, jsonb, boolean, timestamptz, timestamptz, text)', '{worker}');

create or replace function rowflow._fail_attempt(run_id bigint, step text, attempt int, error jsonb,
  retryable boolean, retry_at timestamptz, now timestamptz)
returns jsonb
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_now timestamptz := coalesce(_fail_attempt.now, pg_catalog.statement_timestamp());
  v_run rowflow.runs;
  v_sr rowflow.step_runs;
  v_ws rowflow.workflow_steps;
  v_delay interval;
  v_retry_at timestamptz;
  v_ids bigint[];
  v_status text;
  v_error jsonb;
  v_chain int := 0;
begin
  -- GUARD: lock order run → step; only the running attempt may fail.
  select r.* into v_run from rowflow.runs as r where r.id = _fail_attempt.run_id for no key update;
  select sr.* into v_sr from rowflow.step_runs as sr
  where sr.run_id = _fail_attempt.run_id and sr.step = _fail_attempt.step
    and sr.status = 'running' and sr.attempt = _fail_attempt.attempt
    and v_run.status in ('running', 'compensating');
  if not found then
    return (select f.refusal from rowflow._refusals(array[_fail_attempt.run_id], array[_fail_attempt.step],
                                                    array[_fail_attempt.attempt], array[1], array['running']) as f);
  end if;
  -- The retry policy: the step's own; a compensation uses the policy of the
  -- step it undoes; on-failure uses the defaults.
  select ws.* into v_ws from rowflow.workflow_steps as ws
  where ws.workflow = v_run.workflow and ws.version = v_run.version
    and ws.name = case v_sr.kind when 'step' then v_sr.step
                                 when 'compensation' then substr(v_sr.step, length('compensate:') + 1) end;

  -- PHASE 1: another attempt, if allowed (a new job).
  if coalesce(_fail_attempt.retryable, true) and v_sr.attempt < v_sr.max_attempts then
    v_delay := case coalesce(v_ws.backoff_type, 'exponential')
      when 'fixed' then coalesce(v_ws.backoff_base, interval '1 second')
      else least(coalesce(v_ws.backoff_base, interval '1 second') * power(2, least(v_sr.attempt - 1, 40)),
                 coalesce(v_ws.backoff_max, interval '5 minutes'))
    end;
    -- jitter j spreads the delay uniformly over [d·(1-j), d·(1+j)], capped at max.
    v_delay := least(v_delay * (1 - coalesce(v_ws.backoff_jitter, 0.2) * (2 * random() - 1)),
                     greatest(coalesce(v_ws.backoff_max, interval '5 minutes'), v_delay));
    v_retry_at := coalesce(_fail_attempt.retry_at, v_now + v_delay);
    v_ids := rowflow._add_step_jobs(array[row(v_sr.run_id, v_sr.step, v_sr.attempt + 1,
      rowflow._queue_name(v_ws.queue_name, v_ws.queue_key, jsonb_build_object('input', v_run.input,
        'steps', case when v_sr.kind = 'step' then rowflow._deps_outputs(v_sr.run_id, v_ws.depends_on) else '{}' end)),
      v_retry_at, coalesce(v_ws.priority, 0) + v_run.priority)::rowflow.step_job]);
    update rowflow.step_runs as sr
    set status = 'queued', attempt = sr.attempt + 1, error = _fail_attempt.error, job_id = v_ids[1], started_at = null,
        locked_by = null
    where sr.run_id = v_sr.run_id and sr.step = v_sr.step;
    insert into rowflow.events (run_id, step, type, attempt, data, at)
    values (v_sr.run_id, v_sr.step, 'step_retrying', v_sr.attempt,
            jsonb_build_object('error', _fail_attempt.error, 'retryAt', v_retry_at, 'nextAttempt', v_sr.attempt + 1,
                               'startedAt', v_sr.started_at), v_now);
    update rowflow.runs as r set updated_at = v_now where r.id = v_run.id;
    perform rowflow._notify(jsonb_build_object('run', v_run.id));
    return jsonb_build_object('ok', true, 'outcome', 'retrying', 'retryAt', v_retry_at,
                              'nextAttempt', v_sr.attempt + 1, 'runStatus', v_run.status);
  end if;

  -- PHASE 2: the step failed for good.
  update rowflow.step_runs as sr
  set status = 'failed', error = _fail_attempt.error, finished_at = v_now, locked_by = null
  where sr.run_id = v_sr.run_id and sr.step = v_sr.step;
  insert into rowflow.events (run_id, step, type, attempt, data, at)
  values (v_sr.run_id, v_sr.step, 'step_failed', v_sr.attempt,
          jsonb_build_object('error', _fail_attempt.error, 'retryable', coalesce(_fail_attempt.retryable, true),
                             'startedAt', v_sr.started_at), v_now);
  v_status := v_run.status;
  v_error := v_run.error;

  if v_sr.kind = 'step' then
    -- PHASE 3: the run fails: cancel the other steps (those without a row
    -- too), then build the compensation chain (reverse completion order),
    -- on-failure last.
    perform rowflow._cancel_steps(v_run.id, array['step'], 'run failed', v_now);
    v_error := jsonb_build_object('step', v_sr.step, 'attempt', v_sr.attempt, 'error', _fail_attempt.error);
    with comp as (
      select sr.step, ws.attempts, sr.finished_at
      from rowflow.step_runs as sr
      join rowflow.workflow_steps as ws
        on ws.workflow = v_run.workflow and ws.version = v_run.version and ws.name = sr.step
      where sr.run_id = v_run.id and sr.kind = 'step' and sr.status = 'succeeded' and ws.compensate is not null
    ), chain as (
      select 'compensate:' || c.step as step, 'compensation' as kind, c.attempts,
             row_number() over (order by c.finished_at desc, c.step desc) as seq
      from comp as c
      union all
      select 'on-failure', 'on_failure', 3, (select count(*) from comp) + 1
      from rowflow.workflow_versions as wv
      where wv.workflow = v_run.workflow and wv.version = v_run.version and wv.on_failure is not null
    ), ins as (
      insert into rowflow.step_runs (run_id, step, kind, status, deps_remaining, attempt, max_attempts, seq, created_at)
      select v_run.id, ch.step, ch.kind, 'pending', 1, 0, ch.attempts, ch.seq, v_now
      from chain as ch order by ch.seq
      returning 1
    )
    select count(*) into v_chain from ins;
    if v_chain > 0 then
      v_status := 'compensating';
      insert into rowflow.events (run_id, type, data, at)
      values (v_run.id, 'run_compensating', v_error, v_now);
    else
      v_status := 'failed';
      insert into rowflow.events (run_id, type, data, at)
      values (v_run.id, 'run_failed', v_error, v_now);
    end if;
    -- runs.status must be written before the chain helpers read it.
    update rowflow.runs as r set status = v_status, error = v_error, updated_at = v_now,
      finished_at = case when v_status = 'failed' then v_now end
    where r.id = v_run.id
    returning r.* into v_run;
  end if;

  -- PHASE 4: next link of the chain (first one, or the one after this failed
  -- compensation: the chain continues past a failed link), then finish.
  if v_status = 'compensating' then
    perform rowflow._advance_chain_step(v_run, v_now);
    select f.status into v_status from rowflow._finish_runs(array[v_run.id], v_now) as f;
  end if;
  perform rowflow._notify(jsonb_build_object('run', v_run.id));
  return jsonb_build_object('ok', true, 'outcome', 'failed', 'runStatus', v_status);
end;
$$;
select rowflow._allow('function rowflow._fail_attempt(bigint, text, int, jsonb, boolean, timestamptz, timestamptz)', '{}');

-- from sql/schema/65_jobs/_add_step_jobs.sql
create or replace function rowflow._add_step_jobs(jobs rowflow.step_job[])
returns bigint[]
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_task int;
  v_seq regclass;
  v_ids bigint[];
begin
  -- GUARD: nothing to add.
  if coalesce(cardinality(_add_step_jobs.jobs), 0) = 0 then
    return '{}';
  end if;
  -- PHASE 1: the task and the queues exist (writes only when missing).
  v_task := rowflow._step_task_id();
  if exists (select 1 from unnest(_add_step_jobs.jobs) as j where j.queue is not null) then
    insert into graphile_worker._private_job_queues as q (queue_name)
    select distinct j.queue from unnest(_add_step_jobs.jobs) as j where j.queue is not null
    on conflict do nothing;
  end if;
  -- PHASE 2: ids, then the rows.
  v_seq := pg_catalog.pg_get_serial_sequence('graphile_worker._private_jobs', 'id')::regclass;
  v_ids := array(select pg_catalog.nextval(v_seq) from pg_catalog.generate_series(1, cardinality(_add_step_jobs.jobs)));
  insert into graphile_worker._private_jobs as jobs
    (id, job_queue_id, task_id, payload, run_at, max_attempts, priority)
  overriding system value
  select v_ids[j.o],
         case when j.queue is not null then
           (select q.id from graphile_worker._private_job_queues as q where q.queue_name = j.queue) end,
         v_task,
         pg_catalog.json_build_object('run', j.run_id, 'step', j.step, 'attempt', j.attempt),
         coalesce(j.run_at, pg_catalog.now()),
         25,
         greatest(-32768, least(32767, coalesce(j.priority, 0)))
  from unnest(_add_step_jobs.jobs) with ordinality as j(run_id, step, attempt, queue, run_at, priority, o)
  order by j.o;
  -- PHASE 3: wake a waiting worker (at most one NOTIFY per transaction).
  perform rowflow._wake('jobs:insert', '{"count":' || cardinality(_add_step_jobs.jobs) || '}');
  return v_ids;
end;
$$;
comment on function rowflow._add_step_jobs(rowflow.step_job[]) is
  'Internal: inserts rowflow:step jobs without job keys (ids in spec order) and wakes a waiting worker.';
select rowflow._allow('function rowflow._add_step_jobs(rowflow.step_job[])', '{}');

-- from sql/schema/65_jobs/_enqueue.sql
create or replace function rowflow._enqueue(specs graphile_worker.job_spec[])
returns void
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
begin
  -- GUARD: nothing to add.
  if coalesce(cardinality(_enqueue.specs), 0) = 0 then
    return;
  end if;
  -- PHASE 1: tasks and queues exist (no write when they already do).
  insert into graphile_worker._private_tasks as tasks (identifier)
  select distinct spec.identifier from unnest(_enqueue.specs) as spec
  on conflict do nothing;
  insert into graphile_worker._private_job_queues as job_queues (queue_name)
  select distinct spec.queue_name from unnest(_enqueue.specs) as spec
  where spec.queue_name is not null
  on conflict do nothing;
  -- PHASE 2: a locked job with the same key keeps running but loses its key
  -- (add_jobs' rule), then insert or replace.
  update graphile_worker._private_jobs as jobs
  set key = null, attempts = jobs.max_attempts, updated_at = pg_catalog.now()
  from unnest(_enqueue.specs) as spec
  where spec.job_key is not null and jobs.key = spec.job_key and jobs.is_available is not true;
  insert into graphile_worker._private_jobs as jobs
    (job_queue_id, task_id, payload, run_at, max_attempts, key, priority, flags)
  select job_queues.id, tasks.id, coalesce(spec.payload, '{}'::json), coalesce(spec.run_at, pg_catalog.now()),
         coalesce(spec.max_attempts, 25), spec.job_key, coalesce(spec.priority, 0),
         (select pg_catalog.jsonb_object_agg(flag, true) from unnest(spec.flags) as item(flag))
  from unnest(_enqueue.specs) as spec
  join graphile_worker._private_tasks as tasks on tasks.identifier = spec.identifier
  left join graphile_worker._private_job_queues as job_queues on job_queues.queue_name = spec.queue_name
  on conflict (key) do update set
    job_queue_id = excluded.job_queue_id,
    task_id = excluded.task_id,
    payload = case
      when pg_catalog.json_typeof(jobs.payload) = 'array' and pg_catalog.json_typeof(excluded.payload) = 'array'
        then (jobs.payload::jsonb || excluded.payload::jsonb)::json
      else excluded.payload end,
    max_attempts = excluded.max_attempts,
    run_at = excluded.run_at,
    priority = excluded.priority,
    revision = jobs.revision + 1,
    flags = excluded.flags,
    attempts = 0,
    last_error = null,
    updated_at = pg_catalog.now()
  where jobs.locked_at is null;
  -- PHASE 3: wake a waiting worker (at most once per transaction).
  perform rowflow._wake('jobs:insert', '{"count":' || cardinality(_enqueue.specs) || '}');
end;
$$;
comment on function rowflow._enqueue(graphile_worker.job_spec[]) is
  'Internal: graphile_worker.add_jobs without the unconditional NOTIFY; wakes workers only if one waits (rowflow.waiters).';
select rowflow._allow('function rowflow._enqueue(graphile_worker.job_spec[])', '{}');

-- from sql/schema/65_jobs/_step_task_id.sql
create or replace function rowflow._step_task_id()
returns int
language plpgsql
set search_path to ''
as $$
declare
  v_id int;
begin
  select t.id into v_id from graphile_worker._private_tasks as t where t.identifier = 'rowflow:step';
  if v_id is null then
    insert into graphile_worker._private_tasks as t (identifier) values ('rowflow:step')
    on conflict do nothing
    returning t.id into v_id;
    if v_id is null then
      select t.id into v_id from graphile_worker._private_tasks as t where t.identifier = 'rowflow:step';
    end if;
  end if;
  return v_id;
end;
$$;
select rowflow._allow('function rowflow._step_task_id()', '{}');

-- from sql/schema/70_workers/_end_leases.sql
create or replace function rowflow._end_leases(worker_ids text[], keep text[], before timestamptz, now timestamptz)
returns int
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_l record;
  v_n int := 0;
  v_ids bigint[];
begin
  for v_l in
    select sr.run_id, sr.step, sr.status, sr.attempt, sr.locked_by
    from rowflow.step_runs as sr
    where sr.locked_by = any (_end_leases.worker_ids)
      and not (sr.run_id::text || ':' || sr.step) = any (coalesce(_end_leases.keep, '{}'))
      and coalesce(sr.started_at, sr.queued_at) < _end_leases.before
    order by sr.run_id, sr.step
  loop
    perform 1 from rowflow.runs as r where r.id = v_l.run_id for no key update;
    if v_l.status = 'running' then
      perform rowflow._fail_attempt(v_l.run_id, v_l.step, v_l.attempt,
        pg_catalog.jsonb_build_object('kind', 'worker_lost', 'code', 'RF_WORKER_LOST', 'workerId', v_l.locked_by,
          'message', pg_catalog.format('the worker running attempt %s stopped before recording an outcome',
                                       v_l.attempt)),
        true, null, _end_leases.now);
    else
      v_ids := rowflow._add_step_jobs(array[row(v_l.run_id, v_l.step, v_l.attempt, null, _end_leases.now,
        (select greatest(-32768, least(32767, ws.priority + r.priority))
         from rowflow.runs as r
         join rowflow.workflow_steps as ws on ws.workflow = r.workflow and ws.version = r.version and ws.name = v_l.step
         where r.id = v_l.run_id))::rowflow.step_job]);
      update rowflow.step_runs as sr set locked_by = null, job_id = v_ids[1]
      where sr.run_id = v_l.run_id and sr.step = v_l.step and sr.status = 'queued'
        and sr.locked_by = v_l.locked_by;
    end if;
    v_n := v_n + 1;
  end loop;
  return v_n;
end;
$$;
select rowflow._allow('function rowflow._end_leases(text[], text[], timestamptz, timestamptz)', '{}');

-- from sql/schema/70_workers/heartbeat_worker.sql
create or replace function rowflow.heartbeat_worker(id text, now timestamptz default null, token text default null)
returns boolean
language plpgsql
security definer
set search_path to ''
as $$
begin
  perform rowflow._require('{worker}');
  perform rowflow._check_worker(heartbeat_worker.id, heartbeat_worker.token);
  update rowflow.workers as w
  set heartbeat_at = greatest(w.started_at, coalesce(heartbeat_worker.now, pg_catalog.now()))
  where w.id = heartbeat_worker.id;
  return found;
end;
$$;
comment on function rowflow.heartbeat_worker(text, timestamptz, text) is
  'Records a heartbeat (with the worker''s token); false when the worker row no longer exists.';
select rowflow._allow('function rowflow.heartbeat_worker(text, timestamptz, text)', '{worker}');

-- from sql/schema/70_workers/register_worker.sql
create or replace function rowflow.register_worker(
  id text, hostname text, pid int, concurrency int, tasks text[] default '{}',
  now timestamptz default null, token text default null)
returns text
language plpgsql
security definer
set search_path to ''
as $$
#variable_conflict use_column
begin
  perform rowflow._require('{worker}');
  if exists (select 1 from rowflow.workers as w where w.id = register_worker.id) then
    perform rowflow._check_worker(register_worker.id, register_worker.token);
  end if;
  insert into rowflow.workers as w (id, hostname, pid, concurrency, tasks, started_at, heartbeat_at)
  values (register_worker.id, register_worker.hostname, register_worker.pid, register_worker.concurrency,
          coalesce(register_worker.tasks, '{}'), coalesce(register_worker.now, pg_catalog.now()),
          coalesce(register_worker.now, pg_catalog.now()))
  on conflict on constraint workers_pkey do update
  set heartbeat_at = greatest(w.heartbeat_at, excluded.heartbeat_at),
      hostname = excluded.hostname, pid = excluded.pid,
      concurrency = excluded.concurrency, tasks = excluded.tasks;
  -- The worker's token: its proof of id for the calls that act as it.
  return rowflow._mac(rowflow._secret(), 'worker:' || register_worker.id);
end;
$$;
comment on function rowflow.register_worker(text, text, int, int, text[], timestamptz, text) is
  'Inserts or refreshes the row of a worker pool (id = graphile-worker pool id); answers the worker''s token, which the calls that act as this worker require.';
select rowflow._allow('function rowflow.register_worker(text, text, int, int, text[], timestamptz, text)', '{worker}');

-- from sql/schema/70_workers/release_dead_workers.sql
create or replace function rowflow.release_dead_workers(timeout interval, now timestamptz default null)
returns text[]
language plpgsql
security definer
set search_path to ''
as $$
declare
  v_now timestamptz := coalesce(release_dead_workers.now, now());
  v_ids text[];
  v_orphans text[];
begin
  -- GUARD: a worker or an operator; a zero or negative timeout would
  -- release the jobs of live workers. (Any worker may call it: it only
  -- releases workers that stopped heartbeating.)
  perform rowflow._require('{worker,operator}');
  if release_dead_workers.timeout is null or release_dead_workers.timeout <= interval '0' then
    raise exception 'release_dead_workers: timeout must be a positive interval, got %',
      coalesce(release_dead_workers.timeout::text, 'null') using errcode = '22023';
  end if;

  -- PHASE 1: registered workers that stopped heartbeating.
  with dead as (
    delete from rowflow.workers as w
    where w.heartbeat_at < v_now - release_dead_workers.timeout
    returning w.id
  )
  select coalesce(array_agg(dead.id order by dead.id), '{}') into v_ids from dead;

  -- PHASE 2: holders of rowflow jobs or leases that never registered (or
  -- lost their row), with locks older than the timeout.
  select coalesce(array_agg(distinct x.holder), '{}') into v_orphans
  from (
    select j.locked_by as holder
    from graphile_worker._private_jobs as j
    join graphile_worker._private_tasks as t on t.id = j.task_id and t.identifier = 'rowflow:step'
    where j.locked_by is not null and j.locked_at < v_now - release_dead_workers.timeout
    union all
    select sr.locked_by
    from rowflow.step_runs as sr
    where sr.locked_by is not null and coalesce(sr.started_at, sr.queued_at) < v_now - release_dead_workers.timeout
  ) as x
  where not exists (select 1 from rowflow.workers as w where w.id = x.holder);

  v_ids := array(select distinct x from unnest(v_ids || v_orphans) as x order by x);
  if cardinality(v_ids) > 0 then
    perform rowflow._end_leases(v_ids, null, 'infinity', v_now);
    perform graphile_worker.force_unlock_workers(v_ids);
  end if;
  return v_ids;
end;
$$;
comment on function rowflow.release_dead_workers(interval, timestamptz) is
  'Deletes workers silent for longer than timeout and unlocks their graphile-worker jobs (and those of unregistered lockers); returns their ids.';
select rowflow._allow('function rowflow.release_dead_workers(interval, timestamptz)', '{worker,operator}');

-- from sql/schema/70_workers/release_leases.sql
create or replace function rowflow.release_leases(worker_id text, keep text[], older_than interval default '0',
  now timestamptz default null, token text default null)
returns int
language plpgsql
security definer
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_now timestamptz := coalesce(release_leases.now, pg_catalog.now());
begin
  perform rowflow._require('{worker}');
  perform rowflow._check_worker(release_leases.worker_id, release_leases.token);
  return rowflow._end_leases(array[release_leases.worker_id], release_leases.keep,
                             v_now - coalesce(release_leases.older_than, interval '0'), v_now);
end;
$$;
comment on function rowflow.release_leases(text, text[], interval, timestamptz, text) is
  'A worker''s leases on step runs it does not use (not in keep, older than older_than) end: running ones are lost attempts, reserved ones get jobs. Needs the worker''s token.';
select rowflow._allow('function rowflow.release_leases(text, text[], interval, timestamptz, text)', '{worker}');

-- from sql/schema/70_workers/unregister_worker.sql
create or replace function rowflow.unregister_worker(id text, token text default null)
returns void
language plpgsql
security definer
set search_path to ''
as $$
begin
  perform rowflow._require('{worker}');
  perform rowflow._check_worker(unregister_worker.id, unregister_worker.token);
  delete from rowflow.workers as w where w.id = unregister_worker.id;
end;
$$;
comment on function rowflow.unregister_worker(text, text) is
  'Removes a worker row at clean shutdown (after its jobs were released); needs the worker''s token.';
select rowflow._allow('function rowflow.unregister_worker(text, text)', '{worker}');

-- from sql/schema/80_wake/_notify.sql
create or replace function rowflow._notify(payload jsonb)
returns void
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
begin
  perform rowflow._wake('rowflow', _notify.payload::text);
end;
$$;
comment on function rowflow._notify(jsonb) is
  'Internal: the run-change hint on channel rowflow, at most once per transaction and only when a live view waits (rowflow._wake).';
select rowflow._allow('function rowflow._notify(jsonb)', '{}');

-- from sql/schema/80_wake/_wake.sql
create or replace function rowflow._wake(channel text, payload text)
returns void
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_flag text := case _wake.channel when 'rowflow' then 'rowflow.woke_rowflow' else 'rowflow.woke_jobs' end;
begin
  if coalesce(pg_catalog.current_setting(v_flag, true), '') <> ''
     or (_wake.channel = 'rowflow' and coalesce(pg_catalog.current_setting('rowflow.notified', true), '') <> '') then
    return;
  end if;
  if exists (select 1 from rowflow.waiters as w
             where w.channel = _wake.channel and w.until > pg_catalog.statement_timestamp()) then
    perform pg_catalog.pg_notify(_wake.channel, _wake.payload);
    perform pg_catalog.set_config(v_flag, 'true', true);
    if _wake.channel = 'rowflow' then
      perform pg_catalog.set_config('rowflow.notified', 'true', true);
    end if;
  else
    perform pg_catalog.set_config(v_flag, 'none', true);
  end if;
end;
$$;
select rowflow._allow('function rowflow._wake(text, text)', '{}');

-- from sql/schema/80_wake/_wake_all.sql
create or replace function rowflow._wake_all(jobs int, runs int, hint jsonb)
returns int
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_jobs boolean := _wake_all.jobs > 0 and coalesce(pg_catalog.current_setting('rowflow.woke_jobs', true), '') = '';
  v_runs boolean := _wake_all.runs > 0 and coalesce(pg_catalog.current_setting('rowflow.woke_runs', true), '') = '';
  v_view boolean := _wake_all.hint is not null
                    and coalesce(pg_catalog.current_setting('rowflow.woke_rowflow', true), '') = ''
                    and coalesce(pg_catalog.current_setting('rowflow.notified', true), '') = '';
  v_w record;
  v_sent text;  -- assignments, not PERFORM: plpgsql evaluates them without a statement
begin
  if not (v_jobs or v_runs or v_view) then
    return 0;
  end if;
  select coalesce(bool_or(w.channel = 'jobs:insert'), false) as workers,
         coalesce(bool_or(w.channel = 'rowflow'), false) as views
  into v_w
  from rowflow.waiters as w
  where w.channel in ('jobs:insert', 'rowflow') and w.until > pg_catalog.statement_timestamp();
  if v_jobs or v_runs then
    if v_w.workers then
      perform pg_catalog.pg_notify('jobs:insert',
        '{"count":' || case when v_jobs then _wake_all.jobs else 0 end
        || case when v_runs then ',"runs":' || _wake_all.runs else '' end || '}');
    end if;
    if v_jobs then
      v_sent := pg_catalog.set_config('rowflow.woke_jobs', case when v_w.workers then 'true' else 'none' end, true);
    end if;
    if v_runs then
      v_sent := pg_catalog.set_config('rowflow.woke_runs', case when v_w.workers then 'true' else 'none' end, true);
    end if;
  end if;
  if v_view then
    if v_w.views then
      perform pg_catalog.pg_notify('rowflow', _wake_all.hint::text);
      v_sent := pg_catalog.set_config('rowflow.notified', 'true', true);
    end if;
    v_sent := pg_catalog.set_config('rowflow.woke_rowflow', case when v_w.views then 'true' else 'none' end, true);
  end if;
  -- How many NOTIFYs went out; callers assign it (an assignment is evaluated
  -- without a statement, PERFORM is one).
  return (case when (v_jobs or v_runs) and v_w.workers then 1 else 0 end)
         + (case when v_view and v_w.views then 1 else 0 end);
end;
$$;
comment on function rowflow._wake_all(int, int, jsonb) is
  'Internal: at most one NOTIFY per kind and transaction (jobs and runs for waiting workers, a hint for live views), only when somebody waits; returns how many were sent.';
select rowflow._allow('function rowflow._wake_all(int, int, jsonb)', '{}');

-- from sql/schema/80_wake/mark_waiting.sql
create or replace function rowflow.mark_waiting(
  id text, channel text default 'jobs:insert', ttl interval default '1 minute', now timestamptz default null)
returns void
language plpgsql
security definer
set search_path to ''
as $$
#variable_conflict use_column
begin
  perform rowflow._require('{app,worker,operator,viewer}');
  insert into rowflow.waiters as w (id, channel, until)
  values (mark_waiting.id, mark_waiting.channel,
          coalesce(mark_waiting.now, pg_catalog.now()) + coalesce(mark_waiting.ttl, interval '1 minute'))
  on conflict (channel, id) do update set until = excluded.until;
end;
$$;
comment on function rowflow.mark_waiting(text, text, interval, timestamptz) is
  'Records that id waits for NOTIFYs on channel (jobs:insert or rowflow) for ttl; refresh before it expires (e.g. with the heartbeat).';
select rowflow._allow('function rowflow.mark_waiting(text, text, interval, timestamptz)', '{app,worker,operator,viewer}');

-- from sql/schema/80_wake/unmark_waiting.sql
create or replace function rowflow.unmark_waiting(id text, channel text default null)
returns void
language plpgsql
security definer
set search_path to ''
as $$
#variable_conflict use_column
begin
  perform rowflow._require('{app,worker,operator,viewer}');
  delete from rowflow.waiters as w
  where w.id = unmark_waiting.id and (unmark_waiting.channel is null or w.channel = unmark_waiting.channel);
end;
$$;
comment on function rowflow.unmark_waiting(text, text) is
  'id no longer waits (on channel, or on every channel when null): it is busy, or shutting down.';
select rowflow._allow('function rowflow.unmark_waiting(text, text)', '{app,worker,operator,viewer}');

-- Every attachment made before: its trigger function regenerated (the table
-- owner's now; same oid, so its triggers stay) and its start function created.
select rowflow._purge_stale_attachments();
select rowflow._install_attachment(a.id) from rowflow.table_attachments as a order by a.id;
select rowflow._grant_graphile();
