-- rowflow._start_attached(attachment_id, workflow, inputs, keys, source_relid, sources) → run ids
--
-- The slower path of an attachment's start function (rowflow.st_…; the
-- fast one is inline in its body, sql/schema/50_attach/_attachment_start_body.sql):
-- keyed attachments, an unknown workflow (start_runs raises RF020) and a bad
-- mode (RF039). One call per statement with every qualifying row's input:
-- the mode, one _queue_runs call, the pending_runs() note. It runs as
-- rowflow's owner: the start function fixes the workflow. The runs record
-- their source rows (source_relid, `sources`). Answers the runs' ids in
-- input order (null when it started nothing), so that the start function
-- applies supersede to both of its paths alike. The runs continue the
-- trace in the transaction-local settings rowflow.traceparent and
-- rowflow.tracestate when valid (ignored otherwise; _traceparent).
--
-- Backfill priority: graphile-worker takes the available job with the
-- lowest priority value first, and claim_runs and the gates hand out the
-- lowest (priority, id) first. A backfill run gets run priority 1000, the
-- largest start_runs accepts, so any live work is taken before every
-- backfill step whose priority is not more than 999 lower: a backfill
-- delays live work by at most the backfill steps already running, never by
-- its backlog.
create or replace function rowflow._start_attached(attachment_id int, workflow text, inputs jsonb[], keys text[],
  source_relid oid, sources text[])
returns bigint[]
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_mode text := pg_catalog.current_setting('rowflow.mode', true);
  v_tp text := rowflow._traceparent(nullif(pg_catalog.current_setting('rowflow.traceparent', true), ''));
  v_ts text;
  v_prio int;
  v_wf record;
  v_id bigint;
  v_ids bigint[];
  v_ranges text;
  v_now timestamptz;
  v_woke int;
  v_runs bigint[];
begin
  -- GUARD: the mode (unset/''/normal → run priority 0, backfill → 1000,
  -- suppress → nothing; anything else: _attach_mode raises RF039), then the
  -- workflow (start_runs' errors).
  if v_mode is null or v_mode = '' or v_mode = 'normal' then
    v_prio := 0;
  elsif v_mode = 'backfill' then
    v_prio := 1000;
  elsif v_mode = 'suppress' then
    return null;
  else
    perform rowflow._attach_mode();
  end if;
  if coalesce(cardinality(_start_attached.inputs), 0) = 0 then
    return null;
  end if;
  select w.name, w.latest_version, w.paused into v_wf from rowflow.workflows as w
  where w.name = _start_attached.workflow;
  if not found then
    -- start_runs raises the error (RF020) with its message.
    perform rowflow.start_runs(_start_attached.workflow, _start_attached.inputs, _start_attached.keys, v_prio);
    return null;
  end if;

  if v_tp is not null then
    v_ts := rowflow._tracestate(pg_catalog.current_setting('rowflow.tracestate', true));
  end if;

  -- PHASE 1: the runs. One row without an idempotency key (an app's plain
  -- INSERT) is inlined: one INSERT, no further plpgsql call; everything else
  -- (and a bad input, for its RF022) goes through _queue_runs.
  if cardinality(_start_attached.inputs) = 1 and _start_attached.keys[1] is null
     and pg_catalog.jsonb_typeof(_start_attached.inputs[1]) = 'object'
     and pg_catalog.pg_column_size(_start_attached.inputs[1]) <= 174762 then
    v_now := pg_catalog.now();
    insert into rowflow.runs as r (workflow, version, status, input, priority, created_at, updated_at, source_relid,
                                   source_key, traceparent, tracestate)
    values (v_wf.name, v_wf.latest_version, 'queued', _start_attached.inputs[1], v_prio, v_now, v_now,
            _start_attached.source_relid, _start_attached.sources[1], v_tp, v_ts)
    returning r.id into v_id;
    v_woke := rowflow._wake_all(0, 1, pg_catalog.jsonb_build_object('run', v_id));
    v_ranges := pg_catalog.set_config('rowflow.pending_runs',
      coalesce(nullif(pg_catalog.current_setting('rowflow.pending_runs', true), '') || ',', '')
        || v_id || '-' || v_id, true);
    return array[v_id];
  end if;
  v_ids := rowflow._queue_runs(v_wf.name, v_wf.latest_version, _start_attached.inputs, _start_attached.keys,
                               v_prio, null, _start_attached.source_relid, _start_attached.sources, v_tp, v_ts);
  v_runs := v_ids;
  -- A key repeated within the statement maps several rows to one run.
  v_ids := array(select distinct x from unnest(v_ids) as x order by x);

  -- PHASE 2: remember the ids for pending_runs() as ranges "lo-hi" of
  -- consecutive ids (transaction-local, rolled back with a savepoint).
  if cardinality(v_ids) = 1 then
    v_ranges := v_ids[1] || '-' || v_ids[1];
  else
    select pg_catalog.string_agg(g.lo || '-' || g.hi, ',' order by g.lo) into v_ranges
    from (select min(t.id) as lo, max(t.id) as hi
          from (select x.id, x.id - row_number() over (order by x.id) as grp
                from unnest(v_ids) as x(id)) as t
          group by t.grp) as g;
  end if;
  v_ranges := pg_catalog.set_config('rowflow.pending_runs',
    coalesce(nullif(pg_catalog.current_setting('rowflow.pending_runs', true), '') || ',', '') || v_ranges,
    true);
  return v_runs;
end;
$$;
comment on function rowflow._start_attached(int, text, jsonb[], text[], oid, text[]) is
  'Internal: the one call a generated attachment trigger makes per statement (mode, queued runs, pending_runs bookkeeping); returns the run ids in input order.';
select rowflow._allow('function rowflow._start_attached(int, text, jsonb[], text[], oid, text[])', '{}');
