-- One NOTIFY per transaction and channel, only when a waiter is live. The
-- transaction-local flag rowflow.woke_jobs / rowflow.woke_rowflow holds
-- 'true' once sent and 'none' once no waiter was seen, so later calls in the
-- same transaction do not look again. On channel 'rowflow' a NOTIFY already
-- sent by the engine's _notify (flag rowflow.notified) counts as sent, and a
-- NOTIFY sent here sets that flag, so the two never both send.
create or replace function rowflow._wake(channel text, payload text)
returns void
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_flag text := case _wake.channel when 'rowflow' then 'rowflow.woke_rowflow' else 'rowflow.woke_jobs' end;
begin
  if coalesce(pg_catalog.current_setting(v_flag, true), '') <> ''
     or (_wake.channel = 'rowflow' and coalesce(pg_catalog.current_setting('rowflow.notified', true), '') <> '') then
    return;
  end if;
  if exists (select 1 from rowflow.waiters as w
             where w.channel = _wake.channel and w.until > pg_catalog.statement_timestamp()) then
    perform pg_catalog.pg_notify(_wake.channel, _wake.payload);
    perform pg_catalog.set_config(v_flag, 'true', true);
    if _wake.channel = 'rowflow' then
      perform pg_catalog.set_config('rowflow.notified', 'true', true);
    end if;
  else
    perform pg_catalog.set_config(v_flag, 'none', true);
  end if;
end;
$$;
