-- rowflow.unmark_waiting(id, channel)
--
-- `id` no longer waits (on channel, or on every channel when null): it is
-- busy, or shutting down. A forged unmark costs the waiter at most one poll
-- interval of latency (NOTIFY is a hint only: invariant 5).
create or replace function rowflow.unmark_waiting(id text, channel text default null)
returns void
language plpgsql
security definer
set search_path to ''
as $$
#variable_conflict use_column
begin
  perform rowflow._require('{app,worker,operator,viewer}');
  delete from rowflow.waiters as w
  where w.id = unmark_waiting.id and (unmark_waiting.channel is null or w.channel = unmark_waiting.channel);
end;
$$;
comment on function rowflow.unmark_waiting(text, text) is
  'id no longer waits (on channel, or on every channel when null): it is busy, or shutting down.';
select rowflow._allow('function rowflow.unmark_waiting(text, text)', '{app,worker,operator,viewer}');
