-- rowflow.retry_alerts(ids, reason, now) → how many alerts were put back to pending
--
-- An operator sends failed (given-up) alerts again: the given ones, or
-- every failed one when ids is null. They become pending, due now, with
-- their attempts kept (the next attempt continues the count; the worker's
-- retry window, retry_since, starts again from this call).
-- Pending and delivered alerts are left alone. One audit row
-- ('retry_alerts') with the ids. Operators only.
create or replace function rowflow.retry_alerts(ids bigint[] default null, reason text default null,
  now timestamptz default null)
returns int
language plpgsql
security definer
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_now timestamptz := coalesce(retry_alerts.now, pg_catalog.statement_timestamp());
  v_ids bigint[];
begin
  perform rowflow._require('{operator}');
  with u as (
    update rowflow.alerts as a
    set status = 'pending', next_attempt_at = v_now, finished_at = null, retry_since = v_now
    where a.status = 'failed' and (retry_alerts.ids is null or a.id = any (retry_alerts.ids))
    returning a.id
  )
  select coalesce(pg_catalog.array_agg(u.id order by u.id), '{}') into v_ids from u;
  if pg_catalog.cardinality(v_ids) > 0 then
    perform rowflow._audit('retry_alerts', null, null, null, retry_alerts.reason,
                           pg_catalog.jsonb_build_object('alerts', pg_catalog.to_jsonb(v_ids)), v_now);
  end if;
  return pg_catalog.cardinality(v_ids);
end;
$$;
comment on function rowflow.retry_alerts(bigint[], text, timestamptz) is
  'Puts failed (given-up) alerts back to pending, due now: the given ids, or all failed ones when null. Answers how many.';
select rowflow._allow('function rowflow.retry_alerts(bigint[], text, timestamptz)', '{operator}');
