-- rowflow.claim_alerts(workflows, max, lease_ms, now) → the alerts this worker is to deliver now
--
-- A worker with a webhook (src/worker/alerts/) polls this: up to `max`
-- pending alerts whose next attempt is due, oldest first, of the given
-- workflows (null: every workflow; a worker configured with webhooks for
-- some workflows only claims theirs, so the others' events are never taken
-- by a worker that cannot send them). Each row is leased: a fresh lease
-- token, and next_attempt_at moved lease_ms ahead, so that a worker that
-- dies while posting gives the alert back when the lease ends (at least
-- once: the next worker posts it again, with the same event id). SKIP
-- LOCKED: workers polling together take different rows. The answer's
-- `body` is the event as posted: the stored payload with "id" (the event
-- id) and "type". Workers only.
create or replace function rowflow.claim_alerts(workflows text[] default null, max int default 10,
  lease_ms int default 30000, now timestamptz default null)
returns table (id bigint, event_id uuid, lease uuid, attempt int, run_id bigint, workflow text,
               created_at timestamptz, retry_since timestamptz, body jsonb)
language plpgsql
security definer
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_now timestamptz := coalesce(claim_alerts.now, pg_catalog.statement_timestamp());
begin
  -- GUARD: workers only; a positive batch and lease.
  perform rowflow._require('{worker}');
  if coalesce(claim_alerts.max, 0) < 1 or coalesce(claim_alerts.lease_ms, 0) < 1 then
    raise exception 'claim_alerts: max and lease_ms must be positive, got % and %',
      claim_alerts.max, claim_alerts.lease_ms using errcode = 'RF078';
  end if;
  return query
  with c as (
    select a.id from rowflow.alerts as a
    where a.status = 'pending' and a.next_attempt_at <= v_now
      and (claim_alerts.workflows is null or a.workflow = any (claim_alerts.workflows))
    order by a.next_attempt_at, a.id
    limit claim_alerts.max
    for update skip locked
  )
  update rowflow.alerts as a
  set lease = pg_catalog.gen_random_uuid(),
      next_attempt_at = v_now + pg_catalog.make_interval(secs => claim_alerts.lease_ms / 1000.0)
  from c where a.id = c.id
  returning a.id, a.event_id, a.lease, a.attempts + 1, a.run_id, a.workflow, a.created_at, a.retry_since,
            a.payload || pg_catalog.jsonb_build_object('id', a.event_id, 'type', a.type);
end;
$$;
comment on function rowflow.claim_alerts(text[], int, int, timestamptz) is
  'Leases up to max due pending alerts (of the given workflows; null: all) for delivery; answers each with its lease token and the body to post.';
select rowflow._allow('function rowflow.claim_alerts(text[], int, int, timestamptz)', '{worker}');
