-- rowflow.record_alert_attempt(id, lease, status_code, error, duration_ms, retry_at, worker_id, now) → answer
--
-- Records one delivery attempt of a leased alert (rowflow.alert_attempts)
-- and decides the alert: a 2xx status delivers it; otherwise it is pending
-- again at retry_at, or failed (given up) when retry_at is null. The worker
-- computes retry_at from its backoff and how long the alert may be retried
-- (src/worker/alerts/alert-options.ts). Fenced by the lease token
-- claim_alerts answered: a worker whose lease ended (another worker took
-- the alert again) or an alert already settled changes nothing and answers
-- {"ok": false, "reason": "not_lease_holder"}. Otherwise {"ok": true,
-- "status": "delivered" | "pending" | "failed", "attempt": n}. Workers only.
create or replace function rowflow.record_alert_attempt(id bigint, lease uuid, status_code int default null,
  error text default null, duration_ms int default null, retry_at timestamptz default null,
  worker_id text default null, now timestamptz default null)
returns jsonb
language plpgsql
security definer
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_now timestamptz := coalesce(record_alert_attempt.now, pg_catalog.statement_timestamp());
  v_alert rowflow.alerts;
  v_ok boolean := record_alert_attempt.status_code between 200 and 299;
  v_status text;
begin
  -- GUARD: workers only; the lease holder of a pending alert; an outcome.
  perform rowflow._require('{worker}');
  if record_alert_attempt.status_code is null and record_alert_attempt.error is null then
    raise exception 'record_alert_attempt: give the status code or the error of the attempt'
      using errcode = 'RF078';
  end if;
  select a.* into v_alert from rowflow.alerts as a
  where a.id = record_alert_attempt.id and a.status = 'pending' and a.lease = record_alert_attempt.lease
  for update;
  if not found then
    return '{"ok": false, "reason": "not_lease_holder"}'::jsonb;
  end if;

  -- PHASE 1: the attempt.
  insert into rowflow.alert_attempts (alert_id, attempt, at, status_code, error, duration_ms, worker_id)
  values (v_alert.id, v_alert.attempts + 1, v_now, record_alert_attempt.status_code,
          record_alert_attempt.error, record_alert_attempt.duration_ms, record_alert_attempt.worker_id);

  -- PHASE 2: the alert: delivered, again later, or given up.
  v_status := case when v_ok then 'delivered' when record_alert_attempt.retry_at is null then 'failed'
                   else 'pending' end;
  update rowflow.alerts as a
  set status = v_status, attempts = a.attempts + 1, lease = null,
      last_status = record_alert_attempt.status_code, last_error = record_alert_attempt.error,
      next_attempt_at = case when v_status = 'pending' then record_alert_attempt.retry_at else v_now end,
      finished_at = case when v_status = 'pending' then null else v_now end
  where a.id = v_alert.id;
  return pg_catalog.jsonb_build_object('ok', true, 'status', v_status, 'attempt', v_alert.attempts + 1);
end;
$$;
comment on function rowflow.record_alert_attempt(bigint, uuid, int, text, int, timestamptz, text, timestamptz) is
  'Records a delivery attempt of a leased alert: 2xx delivers it, else pending again at retry_at or failed when retry_at is null.';
select rowflow._allow('function rowflow.record_alert_attempt(bigint, uuid, int, text, int, timestamptz, text, timestamptz)', '{worker}');
