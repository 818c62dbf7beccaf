-- rowflow.workflows: one row per workflow name. Definitions are data: a
-- workflow is a name with immutable versions (rowflow.workflow_versions);
-- start_runs starts the latest one and the run pins it.
create table rowflow.workflows (
  name           text primary key,
  latest_version int not null,
  paused         boolean not null default false,
  created_at     timestamptz not null default now(),
  updated_at     timestamptz not null default now(),
  owner          name not null default current_user,  -- the role that defined it first; only its members redefine it
  retention      interval,                            -- finished runs older than this are purged by the workers (set_retention)
  constraint name_is_valid check (name ~ '^[a-z][a-z0-9_-]{0,62}$'),
  constraint latest_version_is_positive check (latest_version >= 1),
  constraint retention_is_positive check (retention > interval '0')
);
comment on table rowflow.workflows is
  'One row per workflow name; start_run uses latest_version. While paused, its new runs wait, queued: workers do not claim them.';
select rowflow._allow('table rowflow.workflows', '{viewer,worker}');
