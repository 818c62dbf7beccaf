-- rowflow._wake_all(jobs, runs, hint) → how many NOTIFYs went out
--
-- The engine's wake-ups after a start or a gate, each kind at most once per
-- transaction and only while somebody waits (rowflow.waiters): NOTIFYing
-- commits serialise on one database-wide lock held through the commit's WAL
-- flush (sql/schema/20_tables/31_waiters.sql). `jobs` new graphile jobs and
-- `runs` new queued runs wake a waiting worker with one NOTIFY
-- 'jobs:insert' {"count": jobs, "runs": runs} (graphile-worker fetches
-- `count` jobs and ignores a count of 0; rowflow's worker claims runs);
-- `hint` goes to live views on 'rowflow'. One probe of rowflow.waiters for
-- all, none when this transaction already sent (or decided not to send)
-- every kind: the transaction-local flags rowflow.woke_jobs, woke_runs,
-- woke_rowflow hold 'true' once sent and 'none' once nobody waited, and
-- rowflow.notified is shared with _wake and _notify.
--
-- NOTIFY is a latency hint only (invariant 5): workers and views poll, so
-- a wake-up lost to a waiter that arrived just after the probe costs at
-- most one poll interval.
create or replace function rowflow._wake_all(jobs int, runs int, hint jsonb)
returns int
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_jobs boolean := _wake_all.jobs > 0 and coalesce(pg_catalog.current_setting('rowflow.woke_jobs', true), '') = '';
  v_runs boolean := _wake_all.runs > 0 and coalesce(pg_catalog.current_setting('rowflow.woke_runs', true), '') = '';
  v_view boolean := _wake_all.hint is not null
                    and coalesce(pg_catalog.current_setting('rowflow.woke_rowflow', true), '') = ''
                    and coalesce(pg_catalog.current_setting('rowflow.notified', true), '') = '';
  v_w record;
  v_sent text;  -- assignments, not PERFORM: plpgsql evaluates them without a statement
begin
  if not (v_jobs or v_runs or v_view) then
    return 0;
  end if;
  select coalesce(bool_or(w.channel = 'jobs:insert'), false) as workers,
         coalesce(bool_or(w.channel = 'rowflow'), false) as views
  into v_w
  from rowflow.waiters as w
  where w.channel in ('jobs:insert', 'rowflow') and w.until > pg_catalog.statement_timestamp();
  if v_jobs or v_runs then
    if v_w.workers then
      perform pg_catalog.pg_notify('jobs:insert',
        '{"count":' || case when v_jobs then _wake_all.jobs else 0 end
        || case when v_runs then ',"runs":' || _wake_all.runs else '' end || '}');
    end if;
    if v_jobs then
      v_sent := pg_catalog.set_config('rowflow.woke_jobs', case when v_w.workers then 'true' else 'none' end, true);
    end if;
    if v_runs then
      v_sent := pg_catalog.set_config('rowflow.woke_runs', case when v_w.workers then 'true' else 'none' end, true);
    end if;
  end if;
  if v_view then
    if v_w.views then
      perform pg_catalog.pg_notify('rowflow', _wake_all.hint::text);
      v_sent := pg_catalog.set_config('rowflow.notified', 'true', true);
    end if;
    v_sent := pg_catalog.set_config('rowflow.woke_rowflow', case when v_w.views then 'true' else 'none' end, true);
  end if;
  -- How many NOTIFYs went out; callers assign it (an assignment is evaluated
  -- without a statement, PERFORM is one).
  return (case when (v_jobs or v_runs) and v_w.workers then 1 else 0 end)
         + (case when v_view and v_w.views then 1 else 0 end);
end;
$$;
comment on function rowflow._wake_all(int, int, jsonb) is
  'Internal: at most one NOTIFY per kind and transaction (jobs and runs for waiting workers, a hint for live views), only when somebody waits; returns how many were sent.';
select rowflow._allow('function rowflow._wake_all(int, int, jsonb)', '{}');
