-- One graphile-worker job for a step attempt, as the gates pass it to
-- rowflow._add_step_jobs (sql/schema/65_jobs/_add_step_jobs.sql).
create type rowflow.step_job as (
  run_id   bigint,
  step     text,
  attempt  int,
  queue    text,
  run_at   timestamptz,
  priority int
);
