-- rowflow.events: what the rows of a run cannot tell: skips, retries,
-- failures, cancellations, compensation, re-deliveries. The ordinary path
-- (run started, step queued / started / succeeded, run succeeded) is implied
-- by the rows' timestamps and not stored, which keeps a step's completion
-- to one row update; rowflow.run_timeline shows both, in order. Runs
-- started before that design stored their ordinary-path events too.
create table rowflow.events (
  id      bigint generated always as identity,
  run_id  bigint not null,
  step    text,
  type    text not null,
  attempt smallint,
  data    jsonb,
  at      timestamptz not null,
  primary key (run_id, id),
  constraint type_is_valid check (type in (
    'run_started', 'run_succeeded', 'run_failed', 'run_compensating', 'run_cancelled',
    'step_queued', 'step_started', 'step_succeeded', 'step_failed', 'step_retrying',
    'step_skipped', 'step_cancelled', 'run_retried', 'run_rerun',
    'step_sleeping', 'step_waiting', 'step_timed_out', 'signal_received',
    'task_created', 'task_claimed', 'task_reassigned', 'task_escalated', 'task_completed', 'row_matched',
    'child_succeeded'))
);
alter sequence rowflow.events_id_seq cache 100;
select rowflow._allow('table rowflow.events', '{viewer}');
