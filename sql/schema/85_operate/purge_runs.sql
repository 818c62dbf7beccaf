-- rowflow.purge_runs(older_than, statuses, workflow, batch, now) → runs deleted
--
-- Deletes up to `batch` finished runs (status in `statuses`, finished
-- more than `older_than` ago, of `workflow` when given) with their step
-- rows and events, oldest ids first, and answers how many it
-- deleted (the audit rows of those runs stay: an audit outlives what it
-- is about): call it again until it answers 0 (the CLI's `rowflow purge`
-- does, one transaction per batch, so no lock is held for long and a
-- vacuum can follow). Runs locked by another transaction are skipped
-- (SKIP LOCKED), and an unfinished run is never touched whatever the
-- arguments. RF043 for a null or negative interval, an unfinished or
-- unknown status, or a batch outside 1..100,000; RF020 for an unknown
-- workflow. Operators only.
create or replace function rowflow.purge_runs(older_than interval,
  statuses text[] default '{succeeded,failed,cancelled}', workflow text default null, batch int default 1000,
  reason text default null, now timestamptz default null)
returns int
language plpgsql
security definer
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_now timestamptz := coalesce(purge_runs.now, pg_catalog.statement_timestamp());
  v_ids bigint[];
begin
  -- GUARD: operators; arguments that cannot reach unfinished runs.
  perform rowflow._require('{operator}');
  if purge_runs.older_than is null or purge_runs.older_than < interval '0' then
    raise exception 'purge_runs: older_than must be an interval of 0 or more, got %',
      coalesce(purge_runs.older_than::text, 'null') using errcode = 'RF043';
  end if;
  if purge_runs.statuses is null or cardinality(purge_runs.statuses) = 0
     or exists (select 1 from unnest(purge_runs.statuses) as s
                where s is null or s not in ('succeeded', 'failed', 'cancelled')) then
    raise exception 'purge_runs: statuses must be some of succeeded, failed, cancelled, got %',
      coalesce(purge_runs.statuses::text, 'null') using errcode = 'RF043';
  end if;
  if purge_runs.batch is null or purge_runs.batch not between 1 and 100000 then
    raise exception 'purge_runs: batch must be between 1 and 100000, got %', coalesce(purge_runs.batch::text, 'null')
      using errcode = 'RF043';
  end if;
  if purge_runs.workflow is not null
     and not exists (select 1 from rowflow.workflows as w where w.name = purge_runs.workflow) then
    raise exception 'unknown workflow %', purge_runs.workflow using errcode = 'RF020';
  end if;

  -- PHASE 1: pick, lock and delete the batch.
  v_ids := rowflow._purge_batch(purge_runs.older_than, purge_runs.statuses, purge_runs.workflow, purge_runs.batch,
                                v_now);
  if cardinality(v_ids) = 0 then
    return 0;
  end if;
  perform rowflow._audit('purge_runs', purge_runs.workflow, null, null, purge_runs.reason,
    pg_catalog.jsonb_build_object('deleted', cardinality(v_ids), 'olderThan', purge_runs.older_than::text,
                                  'statuses', pg_catalog.to_jsonb(purge_runs.statuses),
                                  'firstId', v_ids[1], 'lastId', v_ids[cardinality(v_ids)]), v_now);
  return cardinality(v_ids);
end;
$$;
comment on function rowflow.purge_runs(interval, text[], text, int, text, timestamptz) is
  'Deletes up to batch finished runs older than older_than (with their steps and events; audit rows stay); answers how many. Call until 0.';
select rowflow._allow('function rowflow.purge_runs(interval, text[], text, int, text, timestamptz)', '{operator}');

-- rowflow._purge_batch(older_than, statuses, workflow, batch, now) → ids deleted
--
-- The body of purge_runs and of the workers' retention: picks up to
-- `batch` finished runs (finished_at is set iff finished) older than
-- older_than, oldest ids first, SKIP LOCKED, and deletes them with their
-- step rows, events, signals, human tasks and failure alerts (delivered
-- or not). The caller validated the arguments.
create or replace function rowflow._purge_batch(older_than interval, statuses text[], workflow text, batch int,
  now timestamptz)
returns bigint[]
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_ids bigint[];
begin
  select coalesce(array_agg(v.id order by v.id), '{}') into v_ids
  from (
    select r.id from rowflow.runs as r
    where r.status = any (_purge_batch.statuses) and r.status in ('succeeded', 'failed', 'cancelled')
      and r.finished_at < _purge_batch.now - _purge_batch.older_than
      and (_purge_batch.workflow is null or r.workflow = _purge_batch.workflow)
    order by r.id
    limit _purge_batch.batch
    for update skip locked
  ) as v;
  if cardinality(v_ids) > 0 then
    delete from rowflow.step_runs as sr where sr.run_id = any (v_ids);
    delete from rowflow.events as e where e.run_id = any (v_ids);
    delete from rowflow.signals as s where s.run_id = any (v_ids);
    delete from rowflow.human_tasks as t where t.run_id = any (v_ids);
    delete from rowflow.step_waits as w where w.run_id = any (v_ids);
    delete from rowflow.alert_attempts as aa
    where aa.alert_id in (select a.id from rowflow.alerts as a where a.run_id = any (v_ids));
    delete from rowflow.alerts as a where a.run_id = any (v_ids);
    delete from rowflow.runs as r where r.id = any (v_ids);
  end if;
  return v_ids;
end;
$$;
comment on function rowflow._purge_batch(interval, text[], text, int, timestamptz) is
  'Internal: deletes up to batch finished runs older than older_than (steps, events, signals, tasks); answers their ids.';
select rowflow._allow('function rowflow._purge_batch(interval, text[], text, int, timestamptz)', '{}');
