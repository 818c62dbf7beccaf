-- 000007_quiet_notify.sql — the engine's run-change hint on channel
-- 'rowflow' is sent only while somebody listens for it.
--
-- Why: rowflow._notify (000002) NOTIFYs 'rowflow' on every state change, so
-- every begin_step, complete_step, fail_step and cancel_run commit is a
-- NOTIFYing commit. Postgres serialises those: PreCommit_Notify takes one
-- database-wide lock and holds it through the commit's WAL flush. Draining
-- pre-started diamond runs with 16 handlers, most backends sat in
-- wait_event Lock/object (that lock) and the worker ran ~200-490 steps/s
-- while raw graphile-worker ran 3.5-5k no-op jobs/s on the same machine.
-- The hint is only useful to live views (client waitForRun/subscribe, CLI
-- tail, dashboard), which now mark themselves waiting on 'rowflow' in
-- rowflow.waiters while they listen (000005).
--
-- What: _notify keeps its signature and its callers, and delegates to
-- rowflow._wake('rowflow', …): at most one NOTIFY per transaction (the
-- rowflow.notified / rowflow.woke_rowflow flags), and none when no waiter
-- row on 'rowflow' is live.
--
-- NOTIFY stays a hint (DESIGN.md invariant 5): the client's waitForRun
-- polls (pollInterval, 1 s by default) whether or not a NOTIFY arrives.

create or replace function rowflow._notify(payload jsonb)
returns void
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
begin
  perform rowflow._wake('rowflow', _notify.payload::text);
end;
$$;
comment on function rowflow._notify(jsonb) is
  'Internal: the run-change hint on channel rowflow, at most once per transaction and only when a live view waits (rowflow._wake, 000007).';
