-- rowflow._cancel_source_runs(workflow, relid, keys, superseding, compensate, via) → how many runs it cancelled
--
-- The source-row rules of an attachment (attach's on_delete and supersede),
-- called by its start function as rowflow's owner, for the writer of the
-- business rows: cancels (with compensate: compensates, then cancels) the
-- unfinished runs of `workflow` whose source row is (relid, keys[i]),
-- except the runs in `superseding` — with supersede, superseding[i] is the new run of
-- keys[i], which supersedes the others and is named in their reason; with
-- on_delete, it is null and the reason says the row was deleted. Runs in
-- id order (the lock order of runs), each through rowflow._cancel_locked,
-- so each is audited as a cancel_run with data.via = `via`.
--
-- It never raises: a business write must not fail because of rowflow's own
-- state. An error (a lock timeout, say) rolls back this function's cancels
-- only and becomes a WARNING naming the runs' rows; the runs go on.
create or replace function rowflow._cancel_source_runs(workflow text, relid oid, keys text[], superseding bigint[],
  compensate boolean, via text)
returns int
language plpgsql
set search_path to ''
set plan_cache_mode to force_generic_plan
set enable_seqscan to off
as $$
#variable_conflict use_column
declare
  v_rec record;
  v_n int := 0;
  v_state text;
  v_message text;
begin
  -- GUARD: nothing to do (no row had a key: no primary key).
  if _cancel_source_runs.keys is null
     or not exists (select 1 from unnest(_cancel_source_runs.keys) as k where k is not null) then
    return 0;
  end if;
  -- PHASE 1: each unfinished run of those rows, locked in id order.
  begin
    for v_rec in
      select r as run, k.sup
      from (select t.key, max(t.sup) as sup
            from unnest(_cancel_source_runs.keys, _cancel_source_runs.superseding) as t(key, sup)
            where t.key is not null group by t.key) as k
      join rowflow.runs as r on r.source_relid = _cancel_source_runs.relid and r.source_key = k.key
      where r.workflow = _cancel_source_runs.workflow
        and r.status in ('queued', 'running', 'compensating')
        and not r.id = any (coalesce(_cancel_source_runs.superseding, '{}'))
      order by r.id
      for no key update of r
    loop
      if rowflow._cancel_locked(v_rec.run,
           case when v_rec.sup is null then 'its source row was deleted'
                else pg_catalog.format('superseded by run %s (a newer change of its source row)', v_rec.sup) end,
           null, _cancel_source_runs.compensate, _cancel_source_runs.via) then
        v_n := v_n + 1;
      end if;
    end loop;
  exception when others then
    get stacked diagnostics v_state = returned_sqlstate, v_message = message_text;
    raise warning 'rowflow: % of workflow % could not cancel the runs of % row(s) of %: % (%); they go on',
      _cancel_source_runs.via, _cancel_source_runs.workflow, cardinality(_cancel_source_runs.keys),
      _cancel_source_runs.relid::regclass, v_message, v_state;
    return 0;
  end;
  return v_n;
end;
$$;
comment on function rowflow._cancel_source_runs(text, oid, text[], bigint[], boolean, text) is
  'Internal: cancels (or compensates) the unfinished runs of a workflow started by the given source rows, except the superseding ones; never raises.';
select rowflow._allow('function rowflow._cancel_source_runs(text, oid, text[], bigint[], boolean, text)', '{}');
