-- rowflow.retry_runs(workflow, statuses, since, before, mode, reason, max_runs, now) → counts
-- rowflow.cancel_runs(workflow, statuses, since, before, reason, max_runs, now, compensate) → counts
--
-- The bulk forms of retry_run and cancel_run over a filter: runs of
-- `workflow` (every workflow when null) whose status is in `statuses` and
-- that were created in [since, before) (open ends when null), oldest first,
-- at most max_runs per call (default 1,000, at most 100,000: one
-- transaction holds their locks until it commits; call again for more).
-- Runs another transaction holds are skipped (SKIP LOCKED). Each run goes
-- through the single-run function, so each is changed, evented and
-- audited exactly as one call would. Answers {"matched", "retried" |
-- "cancelled", "unchanged"}. RF043 for statuses the action cannot apply to
-- or a max_runs outside 1..100,000; RF020 for an unknown workflow.
-- Operators only.
create or replace function rowflow._bulk_runs(workflow text, statuses text[], since timestamptz, before timestamptz,
  max_runs int)
returns setof bigint
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
begin
  if _bulk_runs.max_runs is null or _bulk_runs.max_runs not between 1 and 100000 then
    raise exception 'max_runs must be between 1 and 100000, got %', coalesce(_bulk_runs.max_runs::text, 'null')
      using errcode = 'RF043';
  end if;
  if _bulk_runs.workflow is not null
     and not exists (select 1 from rowflow.workflows as w where w.name = _bulk_runs.workflow) then
    raise exception 'unknown workflow %', _bulk_runs.workflow using errcode = 'RF020';
  end if;
  return query
  select r.id from rowflow.runs as r
  where (_bulk_runs.workflow is null or r.workflow = _bulk_runs.workflow) and r.status = any (_bulk_runs.statuses)
    and (_bulk_runs.since is null or r.created_at >= _bulk_runs.since)
    and (_bulk_runs.before is null or r.created_at < _bulk_runs.before)
  order by r.id
  limit _bulk_runs.max_runs
  for no key update skip locked;
end;
$$;
comment on function rowflow._bulk_runs(text, text[], timestamptz, timestamptz, int) is
  'Internal: the runs a bulk operation applies to (filter, oldest first, locked, SKIP LOCKED).';
select rowflow._allow('function rowflow._bulk_runs(text, text[], timestamptz, timestamptz, int)', '{}');

create or replace function rowflow.retry_runs(workflow text, statuses text[] default '{failed}',
  since timestamptz default null, before timestamptz default null, mode text default 'failed',
  reason text default null, max_runs int default 1000, now timestamptz default null)
returns jsonb
language plpgsql
security definer
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_id bigint;
  v_matched int := 0;
  v_changed int := 0;
begin
  perform rowflow._require('{operator}');
  if retry_runs.mode is null or retry_runs.mode not in ('failed', 'failed_and_downstream') then
    raise exception 'retry_runs: mode must be ''failed'' or ''failed_and_downstream'', got %',
      coalesce(pg_catalog.quote_literal(retry_runs.mode), 'null') using errcode = 'RF043';
  end if;
  if retry_runs.statuses is null or cardinality(retry_runs.statuses) = 0
     or exists (select 1 from unnest(retry_runs.statuses) as s where s is null or s not in ('failed', 'cancelled')) then
    raise exception 'retry_runs: statuses must be some of failed, cancelled, got %',
      coalesce(retry_runs.statuses::text, 'null') using errcode = 'RF043';
  end if;
  for v_id in select b from rowflow._bulk_runs(retry_runs.workflow, retry_runs.statuses, retry_runs.since,
                                                retry_runs.before, retry_runs.max_runs) as b loop
    v_matched := v_matched + 1;
    if (rowflow.retry_run(v_id, retry_runs.mode, retry_runs.reason, retry_runs.now) ->> 'retried')::boolean then
      v_changed := v_changed + 1;
    end if;
  end loop;
  return pg_catalog.jsonb_build_object('matched', v_matched, 'retried', v_changed, 'unchanged', v_matched - v_changed);
end;
$$;
comment on function rowflow.retry_runs(text, text[], timestamptz, timestamptz, text, text, int, timestamptz) is
  'retry_run over a filter (workflow, failed/cancelled statuses, created in [since, before)), at most max_runs per call; answers counts.';
select rowflow._allow('function rowflow.retry_runs(text, text[], timestamptz, timestamptz, text, text, int, timestamptz)', '{operator}');

create or replace function rowflow.cancel_runs(workflow text, statuses text[] default '{queued,running}',
  since timestamptz default null, before timestamptz default null, reason text default null,
  max_runs int default 1000, now timestamptz default null, compensate boolean default false)
returns jsonb
language plpgsql
security definer
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_id bigint;
  v_matched int := 0;
  v_changed int := 0;
begin
  perform rowflow._require('{operator}');
  if cancel_runs.statuses is null or cardinality(cancel_runs.statuses) = 0
     or exists (select 1 from unnest(cancel_runs.statuses) as s
                where s is null or s not in ('queued', 'running', 'compensating')) then
    raise exception 'cancel_runs: statuses must be some of queued, running, compensating, got %',
      coalesce(cancel_runs.statuses::text, 'null') using errcode = 'RF043';
  end if;
  for v_id in select b from rowflow._bulk_runs(cancel_runs.workflow, cancel_runs.statuses, cancel_runs.since,
                                                cancel_runs.before, cancel_runs.max_runs) as b loop
    v_matched := v_matched + 1;
    if rowflow.cancel_run(v_id, cancel_runs.reason, cancel_runs.now, cancel_runs.compensate) then
      v_changed := v_changed + 1;
    end if;
  end loop;
  return pg_catalog.jsonb_build_object('matched', v_matched, 'cancelled', v_changed,
                                       'unchanged', v_matched - v_changed);
end;
$$;
comment on function rowflow.cancel_runs(text, text[], timestamptz, timestamptz, text, int, timestamptz, boolean) is
  'cancel_run over a filter (workflow, queued/running/compensating statuses, created in [since, before)), at most max_runs per call; answers counts.';
select rowflow._allow('function rowflow.cancel_runs(text, text[], timestamptz, timestamptz, text, int, timestamptz, boolean)', '{operator}');
