-- rowflow.alert_attempts: one row per delivery attempt of an alert
-- (rowflow.record_alert_attempt): when, the HTTP status or the error
-- (refused, timed out), how long it took and which worker tried. An attempt
-- whose worker died before recording it leaves no row; the alert is posted
-- again when the worker's lease ends. Deleted with the alert's run.
create table rowflow.alert_attempts (
  alert_id    bigint not null,
  attempt     int not null,
  at          timestamptz not null,
  status_code int,
  error       text,
  duration_ms int,
  worker_id   text,
  primary key (alert_id, attempt),
  constraint outcome_is_known check (status_code is not null or error is not null)
);
comment on table rowflow.alert_attempts is
  'One row per delivery attempt of a rowflow.alerts row: when, HTTP status or error, duration, worker.';
select rowflow._allow('table rowflow.alert_attempts', '{viewer}');
