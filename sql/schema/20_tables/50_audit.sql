-- rowflow.audit: who did what to workflows and runs from outside the
-- engine: every operator action (sql/schema/85_operate/: pause, resume,
-- retry, rerun, skip, purge; cancel_run), every new workflow version
-- (define_workflow) and every attach and detach writes one row, in the action's own
-- transaction, with the acting session's identity: session_user (the
-- login), the role it SET ROLE to ('role' setting; null when none),
-- application_name and client address, the optional reason text and what
-- the action changed; rows with a run_id show in that run's
-- rowflow.run_timeline. The engine's own transitions are in rowflow.events
-- (rowflow.run_timeline).
create table rowflow.audit (
  id               bigint generated always as identity primary key,
  at               timestamptz not null,
  action           text not null,
  workflow         text,
  run_id           bigint,
  step             text,
  reason           text,
  data             jsonb,
  session_user_name name not null,
  set_role         name,
  application_name text,
  client_addr      inet,
  constraint action_is_valid check (action in (
    'pause_workflow', 'resume_workflow', 'retry_run', 'rerun_from', 'skip_step', 'purge_runs', 'cancel_run',
    'set_retention', 'apply_retention', 'define_workflow', 'attach', 'detach', 'define_schedule',
    'drop_schedule', 'pause_schedule', 'resume_schedule', 'complete_task', 'reassign_task',
    'retry_alerts'))
);
comment on table rowflow.audit is
  'One row per operator action (pause, resume, retry, skip, purge, cancel): when, what, on which workflow/run/step, the reason given, and who (session user, SET ROLE, application_name, client address).';
create index audit_run_idx on rowflow.audit (run_id) where run_id is not null;
select rowflow._allow('table rowflow.audit', '{viewer}');
