-- rowflow.set_retention(workflow, retention, reason, now) → {"workflow", "retention", "changed"}
-- rowflow.apply_retention(worker_id, every, batch, max_batches, now) → {"claimed", "deleted", ...}
--
-- Per-workflow retention: set_retention (operators) keeps a workflow's
-- finished runs for `retention` (null: forever, the default), and the
-- workers apply it: each calls apply_retention on its heartbeat, and the
-- call that finds rowflow.maintenance's 'retention' row unlocked and older
-- than `every` claims the period (FOR UPDATE SKIP LOCKED, last_at set in
-- the same transaction), so exactly one worker purges per period however
-- many run, and a caller that finds the row locked answers at once
-- ("claimed": false) instead of waiting. The claiming call deletes, for
-- each workflow with a retention, up to max_batches × batch finished runs
-- older than it (rowflow._purge_batch: oldest first, SKIP LOCKED), and
-- writes an apply_retention audit row when it deleted something.
create or replace function rowflow.set_retention(workflow text, retention interval, reason text default null,
  now timestamptz default null)
returns jsonb
language plpgsql
security definer
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_now timestamptz := coalesce(set_retention.now, pg_catalog.statement_timestamp());
  v_old interval;
begin
  perform rowflow._require('{operator}');
  if set_retention.retention is not null and set_retention.retention <= interval '0' then
    raise exception 'set_retention: retention must be a positive interval or null (keep forever), got %',
      set_retention.retention using errcode = 'RF043';
  end if;
  select w.retention into v_old from rowflow.workflows as w where w.name = set_retention.workflow for no key update;
  if not found then
    raise exception 'unknown workflow %', coalesce(set_retention.workflow, 'null') using errcode = 'RF020';
  end if;
  if v_old is not distinct from set_retention.retention then
    return pg_catalog.jsonb_build_object('workflow', set_retention.workflow, 'retention', v_old::text,
                                         'changed', false);
  end if;
  update rowflow.workflows as w set retention = set_retention.retention, updated_at = v_now
  where w.name = set_retention.workflow;
  perform rowflow._audit('set_retention', set_retention.workflow, null, null, set_retention.reason,
    pg_catalog.jsonb_build_object('from', v_old::text, 'to', set_retention.retention::text), v_now);
  return pg_catalog.jsonb_build_object('workflow', set_retention.workflow,
                                       'retention', set_retention.retention::text, 'changed', true);
end;
$$;
comment on function rowflow.set_retention(text, interval, text, timestamptz) is
  'Keeps a workflow''s finished runs for retention (null: forever); the workers purge older ones (apply_retention).';
select rowflow._allow('function rowflow.set_retention(text, interval, text, timestamptz)', '{operator}');

create or replace function rowflow.apply_retention(worker_id text default null, every interval default '1 minute',
  batch int default 1000, max_batches int default 10, now timestamptz default null)
returns jsonb
language plpgsql
security definer
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_now timestamptz := coalesce(apply_retention.now, pg_catalog.statement_timestamp());
  v_last timestamptz;
  v_wf record;
  v_ids bigint[];
  v_n int;
  v_deleted int := 0;
  v_by jsonb := '{}';
  v_result jsonb;
begin
  -- GUARD: workers and operators; sane bounds; claim the period or go.
  perform rowflow._require('{worker,operator}');
  if apply_retention.every is null or apply_retention.every <= interval '0'
     or apply_retention.batch is null or apply_retention.batch not between 1 and 100000
     or apply_retention.max_batches is null or apply_retention.max_batches not between 1 and 1000 then
    raise exception 'apply_retention: every must be positive, batch 1..100000, max_batches 1..1000'
      using errcode = 'RF043';
  end if;
  -- Most calls come before the period is due: a plain read answers them
  -- without locking (FOR UPDATE writes the row's lock, every worker, every
  -- heartbeat). The locked read then decides.
  if exists (select 1 from rowflow.maintenance as m
             where m.task = 'retention' and m.last_at > v_now - apply_retention.every) then
    return pg_catalog.jsonb_build_object('claimed', false);
  end if;
  select m.last_at into v_last from rowflow.maintenance as m where m.task = 'retention' for update skip locked;
  if not found then
    -- Locked by another caller (it has the period), or missing: the
    -- migration seeds the row; one deleted by hand is put back for the
    -- next call. (Inserting first on every call would make a second caller
    -- wait for a first that inserted the row and still holds it.)
    if not exists (select 1 from rowflow.maintenance as m where m.task = 'retention') then
      insert into rowflow.maintenance (task, last_at) values ('retention', '-infinity') on conflict (task) do nothing;
    end if;
    return pg_catalog.jsonb_build_object('claimed', false);
  end if;
  if v_last > v_now - apply_retention.every then
    return pg_catalog.jsonb_build_object('claimed', false);
  end if;

  -- PHASE 1: each workflow with a retention, oldest runs first, bounded.
  for v_wf in select w.name, w.retention from rowflow.workflows as w where w.retention is not null order by w.name loop
    v_n := 0;
    for i in 1 .. apply_retention.max_batches loop
      v_ids := rowflow._purge_batch(v_wf.retention, '{succeeded,failed,cancelled}', v_wf.name, apply_retention.batch,
                                    v_now);
      v_n := v_n + cardinality(v_ids);
      exit when cardinality(v_ids) < apply_retention.batch;
    end loop;
    if v_n > 0 then
      v_by := v_by || pg_catalog.jsonb_build_object(v_wf.name, v_n);
      v_deleted := v_deleted + v_n;
    end if;
  end loop;

  -- PHASE 2: record the period.
  v_result := pg_catalog.jsonb_build_object('claimed', true, 'deleted', v_deleted, 'workflows', v_by);
  update rowflow.maintenance as m set last_at = v_now, last_by = apply_retention.worker_id, last_result = v_result
  where m.task = 'retention';
  if v_deleted > 0 then
    perform rowflow._audit('apply_retention', null, null, null, null,
                           v_result || pg_catalog.jsonb_build_object('worker', apply_retention.worker_id), v_now);
  end if;
  return v_result;
end;
$$;
comment on function rowflow.apply_retention(text, interval, int, int, timestamptz) is
  'Purges finished runs older than their workflow''s retention, at most once per `every` across all callers (the workers call it on their heartbeat). Answers {"claimed", "deleted", "workflows"}.';
select rowflow._allow('function rowflow.apply_retention(text, interval, int, int, timestamptz)', '{worker,operator}');
