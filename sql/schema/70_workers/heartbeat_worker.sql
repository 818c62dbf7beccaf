-- rowflow.heartbeat_worker(id, now) → whether the row still exists
--
-- Records a heartbeat. False when the row is gone (another worker declared
-- this one dead and released its work); the caller then re-registers and
-- logs a warning. A worker declared dead by mistake cannot commit twice:
-- its gate calls are fenced by the attempt number.
create or replace function rowflow.heartbeat_worker(id text, now timestamptz default null, token text default null)
returns boolean
language plpgsql
security definer
set search_path to ''
as $$
begin
  perform rowflow._require('{worker}');
  perform rowflow._check_worker(heartbeat_worker.id, heartbeat_worker.token);
  update rowflow.workers as w
  set heartbeat_at = greatest(w.started_at, coalesce(heartbeat_worker.now, pg_catalog.now()))
  where w.id = heartbeat_worker.id;
  return found;
end;
$$;
comment on function rowflow.heartbeat_worker(text, timestamptz, text) is
  'Records a heartbeat (with the worker''s token); false when the worker row no longer exists.';
select rowflow._allow('function rowflow.heartbeat_worker(text, timestamptz, text)', '{worker}');
