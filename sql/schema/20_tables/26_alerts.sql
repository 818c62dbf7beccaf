-- rowflow.alerts: the outbox of failure alerts. One row per run that
-- failed (event type 'run.failed'), written in the transaction that made
-- the run failed (with rowflow._alert_payload: fail_step's _fail_attempt,
-- _finish_runs after a compensation chain, claim_runs for a run of an
-- unknown version), so a crash between the failure and its delivery loses
-- nothing: the row commits with the failure or neither does. Cancelled runs
-- do not alert (a cancel is somebody's decision, not a failure).
--
-- Delivery is a polling claim by the workers that have a webhook
-- (src/worker/alerts/): rowflow.claim_alerts leases a pending row
-- (next_attempt_at is pushed past the lease, so a worker that dies while
-- posting gives the row back when the lease ends), the worker POSTs, and
-- rowflow.record_alert_attempt records the attempt (rowflow.alert_attempts)
-- and marks the row delivered (2xx), pending again at the retry time, or
-- failed (given up). A worker without a webhook claims nothing, so with no
-- alerting worker the rows stay pending and visible
-- (rowflow.undelivered_alerts); purging a run deletes its alerts.
--
-- Not graphile-worker jobs: a job nobody serves would sit in the job
-- table, counted as queue depth of a task that no worker runs and in the
-- "available job with a lower priority" check that makes dependents
-- yield. The success path writes nothing here.
--
-- The webhook URL is not stored: it is the workers' configuration (URLs of
-- chat and paging services carry their secret), so no database role can
-- read it. `payload` is the event's body without "id" and "type", which
-- claim_alerts adds from the columns.
create table rowflow.alerts (
  id              bigint generated always as identity primary key,
  event_id        uuid not null default pg_catalog.gen_random_uuid(),
  type            text not null,
  run_id          bigint not null,
  workflow        text not null,
  payload         jsonb not null,
  status          text not null default 'pending',
  attempts        int not null default 0,
  next_attempt_at timestamptz not null,
  lease           uuid,
  last_status     int,
  last_error      text,
  created_at      timestamptz not null,
  retry_since     timestamptz not null,
  finished_at     timestamptz,
  constraint type_is_valid check (type in ('run.failed')),
  constraint status_is_valid check (status in ('pending', 'delivered', 'failed')),
  constraint finished_at_matches_status check ((status <> 'pending') = (finished_at is not null)),
  constraint lease_only_while_pending check (status = 'pending' or lease is null)
);
-- What claim_alerts reads: small, rows leave it when delivered or given up.
create index alerts_pending_idx on rowflow.alerts (next_attempt_at) where status = 'pending';
-- A purge deletes a run's alerts.
create index alerts_run_idx on rowflow.alerts (run_id);
create unique index alerts_event_id_idx on rowflow.alerts (event_id);
comment on table rowflow.alerts is
  'Outbox of failure alerts: one row per failed run (type run.failed), written with the failure; delivered by the workers that have a webhook (pending → delivered, or failed when given up).';
comment on column rowflow.alerts.event_id is
  'The event''s id: the body''s "id" and the Idempotency-Key header of every delivery attempt, so a receiver can drop repeats (delivery is at least once).';
comment on column rowflow.alerts.retry_since is
  'Where the workers'' retry window (alerts.giveUpAfter) starts: the failure, or the last rowflow.retry_alerts.';
comment on column rowflow.alerts.next_attempt_at is
  'When the row may be claimed: its creation, then each retry time; while a worker posts it, the end of that worker''s lease.';
select rowflow._allow('table rowflow.alerts', '{viewer}');
