-- rowflow.signals: every signal sent to a run (rowflow.signal), kept with
-- the run. A signal whose step waits already is consumed at once; one sent
-- before its step waits is kept (consumed_at null) and consumed, oldest
-- first, when the step arms. A signal that no step consumes stays here,
-- unconsumed, until the run is purged: rowflow.signal answers that nothing
-- waits for it, and the run's timeline shows it. No foreign key to runs
-- (like step_runs: rows are written under the run lock, purge deletes them).
create table rowflow.signals (
  id          bigint generated always as identity primary key,
  run_id      bigint not null,
  name        text not null,
  payload     jsonb,
  sent_at     timestamptz not null,
  sent_by     text not null default session_user,
  consumed_at timestamptz,
  step        text,                -- the step that consumed it
  constraint name_is_valid check (name ~ '^[A-Za-z0-9_.:-]{1,128}$'),
  constraint consumed_by_a_step check ((consumed_at is null) = (step is null))
);
create index signals_run_idx on rowflow.signals (run_id, name, id);
comment on table rowflow.signals is
  'Signals sent to runs (rowflow.signal): consumed by the step waiting for the name (consumed_at, step), or kept until one waits.';
select rowflow._allow('table rowflow.signals', '{viewer}');
