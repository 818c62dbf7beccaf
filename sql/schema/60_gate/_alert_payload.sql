-- rowflow._alert_payload(run_id, workflow, version, error, at) → the body of a run.failed event
--
-- Built by the statement that fails the run (fail_step's _fail_attempt,
-- _finish_runs, claim_runs), from the values that statement has in hand,
-- and stored in rowflow.alerts: the event tells the failure as it was,
-- even when the run is retried or purged before the event is delivered.
-- "id" and "type" are added by claim_alerts from the row's columns. The
-- run's error is {step, attempt, error} after a step failed (plus
-- "compensation" once a chain ran), or {code, message} for a run of an
-- unknown version; the event flattens both. The schema is in
-- docs/observability.md ("Failure webhook").
create or replace function rowflow._alert_payload(run_id bigint, workflow text, version int, error jsonb,
  at timestamptz)
returns jsonb
language sql
stable
set search_path to ''
as $$
  select pg_catalog.jsonb_build_object(
    'time', pg_catalog.to_char(pg_catalog.timezone('UTC', _alert_payload.at), 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
    'workflow', _alert_payload.workflow,
    'version', _alert_payload.version,
    'runId', _alert_payload.run_id,
    'step', _alert_payload.error ->> 'step',
    'attempt', (_alert_payload.error ->> 'attempt')::int,
    'error', coalesce(_alert_payload.error -> 'error', _alert_payload.error - 'compensation'),
    'compensation', _alert_payload.error -> 'compensation',
    'links', pg_catalog.jsonb_build_object(
      'cli', pg_catalog.format('rowflow show %s', _alert_payload.run_id),
      'sql', pg_catalog.format('select * from rowflow.run_timeline where run_id = %s', _alert_payload.run_id)));
$$;
comment on function rowflow._alert_payload(bigint, text, int, jsonb, timestamptz) is
  'Internal: the body of a run.failed event (without id and type), as stored in rowflow.alerts.';
select rowflow._allow('function rowflow._alert_payload(bigint, text, int, jsonb, timestamptz)', '{}');
