-- rowflow._wake(channel, payload)
--
-- One NOTIFY on channel per transaction, only when a waiter on it is live;
-- the older single-channel form of _wake_all (same flags: rowflow.woke_jobs
-- or rowflow.woke_rowflow hold 'true' once sent and 'none' once no waiter
-- was seen; on 'rowflow', rowflow.notified counts as sent). Used by
-- _add_step_jobs, _enqueue and _notify. It reads rowflow.waiters with a
-- plain SELECT (no row lock, no write).
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
select rowflow._allow('function rowflow._wake(text, text)', '{}');
