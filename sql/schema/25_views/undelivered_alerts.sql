-- rowflow.undelivered_alerts: the failure alerts not delivered yet —
-- pending (waiting for a worker with a webhook, or for their next attempt)
-- and failed (given up; rowflow.retry_alerts sends them again) — oldest
-- first, with their last attempt's outcome. `leased`: a worker is posting
-- it now. Pending rows that never had an attempt and stay here mean that no
-- running worker has a webhook for their workflow (docs/observability.md,
-- "Failure webhook"). `rowflow alerts` prints it.
create or replace view rowflow.undelivered_alerts as
select a.id, a.event_id, a.status, a.run_id, a.workflow, a.payload ->> 'step' as step,
       a.payload -> 'error' ->> 'message' as error_message, a.attempts, a.last_status, a.last_error,
       a.created_at, a.next_attempt_at,
       (a.lease is not null and a.next_attempt_at > pg_catalog.now()) as leased
from rowflow.alerts as a
where a.status in ('pending', 'failed');
comment on view rowflow.undelivered_alerts is
  'Failure alerts not delivered yet (pending, or failed: given up) with their last attempt''s outcome; rowflow alerts prints it.';
select rowflow._allow('view rowflow.undelivered_alerts', '{viewer}');
