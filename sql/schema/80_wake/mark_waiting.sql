-- rowflow.mark_waiting(id, channel, ttl, now)
--
-- Records that `id` waits for NOTIFYs on channel ('jobs:insert': a worker
-- out of work; 'rowflow': a live view) until now + ttl; refreshed before it
-- expires (workers do it with the heartbeat). While no row is live, writers
-- send no NOTIFY at all. SECURITY DEFINER for every rowflow role (a live view
-- marks 'rowflow'); a forged mark only costs NOTIFYs until it expires.
create or replace function rowflow.mark_waiting(
  id text, channel text default 'jobs:insert', ttl interval default '1 minute', now timestamptz default null)
returns void
language plpgsql
security definer
set search_path to ''
as $$
#variable_conflict use_column
begin
  perform rowflow._require('{app,worker,operator,viewer}');
  insert into rowflow.waiters as w (id, channel, until)
  values (mark_waiting.id, mark_waiting.channel,
          coalesce(mark_waiting.now, pg_catalog.now()) + coalesce(mark_waiting.ttl, interval '1 minute'))
  on conflict (channel, id) do update set until = excluded.until;
end;
$$;
comment on function rowflow.mark_waiting(text, text, interval, timestamptz) is
  'Records that id waits for NOTIFYs on channel (jobs:insert or rowflow) for ttl; refresh before it expires (e.g. with the heartbeat).';
select rowflow._allow('function rowflow.mark_waiting(text, text, interval, timestamptz)', '{app,worker,operator,viewer}');
