-- rowflow.release_leases(worker_id, keep, older_than, now) → how many ended
--
-- A worker hands back the leases it holds but is not using (`keep` lists
-- the steps it runs or has queued locally, as '<run id>:<step>') taken more
-- than `older_than` ago: a completion whose answer was lost with its
-- connection left them behind. Called with the heartbeat.
create or replace function rowflow.release_leases(worker_id text, keep text[], older_than interval default '0',
  now timestamptz default null, token text default null)
returns int
language plpgsql
security definer
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_now timestamptz := coalesce(release_leases.now, pg_catalog.now());
begin
  perform rowflow._require('{worker}');
  perform rowflow._check_worker(release_leases.worker_id, release_leases.token);
  return rowflow._end_leases(array[release_leases.worker_id], release_leases.keep,
                             v_now - coalesce(release_leases.older_than, interval '0'), v_now);
end;
$$;
comment on function rowflow.release_leases(text, text[], interval, timestamptz, text) is
  'A worker''s leases on step runs it does not use (not in keep, older than older_than) end: running ones are lost attempts, reserved ones get jobs. Needs the worker''s token.';
select rowflow._allow('function rowflow.release_leases(text, text[], interval, timestamptz, text)', '{worker}');
