-- rowflow.unmark_waiting(id, channel)
--
-- `id` no longer waits (on channel, or on every channel when null): it is
-- busy, or shutting down.
create or replace function rowflow.unmark_waiting(id text, channel text default null)
returns void
language sql
set search_path to ''
as $$
  delete from rowflow.waiters as w
  where w.id = unmark_waiting.id and (unmark_waiting.channel is null or w.channel = unmark_waiting.channel);
$$;
comment on function rowflow.unmark_waiting(text, text) is
  'id no longer waits (on channel, or on every channel when null): it is busy, or shutting down.';
