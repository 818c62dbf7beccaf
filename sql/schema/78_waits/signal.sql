-- rowflow.signal(run_id, name, payload, now) → what became of the signal
--
-- Sends a named signal to a run: the step waiting for it ({"wait":
-- {"signal": name}}) succeeds with `payload` as its output, which its
-- dependents read as they would a handler's, in this transaction. A signal
-- sent before its step waits (the run is queued, or the step's
-- dependencies are not done yet) is kept and consumed when the step arms
-- (rowflow.arm_step), oldest first. Every signal is stored
-- (rowflow.signals, with who sent it), so nothing is lost silently. The
-- answer says what happened; none of these raise, so an application can
-- signal from its own transaction (a trigger on its payments table, say)
-- without a rowflow state ever failing its write:
--   {"ok": true,  "status": "delivered", "step", "released", "runStatus"}
--   {"ok": true,  "status": "kept", "waitedBy": [steps that will wait for it]}
--   {"ok": false, "status": "unexpected", …}  no unfinished step of the run
--                                            waits for this name (kept,
--                                            unconsumed, until purge)
--   {"ok": false, "status": "run_finished", "runStatus"}   (kept likewise)
--   {"ok": false, "status": "unknown_run"}                 (not stored)
-- Bad input raises: RF060 a name outside ^[A-Za-z0-9_.:-]{1,128}$, RF061 a
-- payload over rowflow.max_output_bytes (default 1 MiB), as a handler's
-- output would be. Lock order as the gates: the run, then its step rows.
create or replace function rowflow.signal(run_id bigint, name text, payload jsonb default null,
  now timestamptz default null)
returns jsonb
language plpgsql
security definer
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_now timestamptz := coalesce(signal.now, pg_catalog.statement_timestamp());
  v_limit int := coalesce(nullif(pg_catalog.current_setting('rowflow.max_output_bytes', true), '')::int, 1048576);
  v_run rowflow.runs;
  v_step text;
  v_id bigint;
  v_waiting text[];
  v_answer jsonb;
begin
  -- GUARD: apps, workers and operators; a valid name; a payload in bounds.
  perform rowflow._require('{app,worker,operator}');
  if signal.name is null or signal.name !~ '^[A-Za-z0-9_.:-]{1,128}$' then
    raise exception 'signal: invalid signal name %: use 1-128 characters A-Z, a-z, 0-9, "_", ".", ":" or "-"',
      coalesce(pg_catalog.quote_literal(left(signal.name, 140)), 'null') using errcode = 'RF060';
  end if;
  if pg_catalog.octet_length(signal.payload::text) > v_limit then
    raise exception 'signal: payload of % bytes is over the limit of % bytes (rowflow.max_output_bytes)',
      pg_catalog.octet_length(signal.payload::text), v_limit using errcode = 'RF061';
  end if;
  select r.* into v_run from rowflow.runs as r where r.id = signal.run_id for no key update;
  if not found then
    return pg_catalog.jsonb_build_object('ok', false, 'status', 'unknown_run', 'run', signal.run_id);
  end if;

  -- PHASE 1: store it, with who sent it.
  insert into rowflow.signals (run_id, name, payload, sent_at, sent_by)
  values (v_run.id, signal.name, signal.payload, v_now, session_user)
  returning id into v_id;
  if v_run.status in ('succeeded', 'failed', 'cancelled') then
    return pg_catalog.jsonb_build_object('ok', false, 'status', 'run_finished', 'run', v_run.id, 'signal', v_id,
                                         'runStatus', v_run.status);
  end if;

  -- PHASE 2: a step waiting for it now takes it (the earliest-armed one).
  select w.step into v_step from rowflow.step_waits as w
  where w.run_id = v_run.id and w.kind = 'signal' and w.signal = signal.name
  order by w.since, w.step limit 1;
  if found and v_run.status = 'running' then
    update rowflow.signals as s set consumed_at = v_now, step = v_step where s.id = v_id;
    v_answer := rowflow._settle_step(v_run.id, v_step, 'succeeded', signal.payload, v_now, 'signal_received',
      pg_catalog.jsonb_build_object('signal', signal.name, 'signalId', v_id, 'by', session_user, 'sentAt', v_now));
    return pg_catalog.jsonb_build_object('ok', true, 'status', 'delivered', 'run', v_run.id, 'signal', v_id,
                                         'step', v_step) || v_answer;
  end if;

  -- PHASE 3: kept for a step that will wait for it, or for nobody.
  select coalesce(array_agg(ws.name order by ws.name), '{}') into v_waiting
  from rowflow.workflow_steps as ws
  left join rowflow.step_runs as sr on sr.run_id = v_run.id and sr.step = ws.name
  where ws.workflow = v_run.workflow and ws.version = v_run.version
    and ws.wait ->> 'kind' = 'signal' and ws.wait ->> 'signal' = signal.name
    and (sr.step is null or sr.status in ('pending', 'queued'));
  if cardinality(v_waiting) > 0 and v_run.status in ('queued', 'running') then
    return pg_catalog.jsonb_build_object('ok', true, 'status', 'kept', 'run', v_run.id, 'signal', v_id,
                                         'waitedBy', pg_catalog.to_jsonb(v_waiting));
  end if;
  return pg_catalog.jsonb_build_object('ok', false, 'status', 'unexpected', 'run', v_run.id, 'signal', v_id,
    'message', pg_catalog.format('no unfinished step of run %s (workflow %s, version %s) waits for signal %s; it is kept, unconsumed',
                                 v_run.id, v_run.workflow, v_run.version, signal.name));
end;
$$;
comment on function rowflow.signal(bigint, text, jsonb, timestamptz) is
  'Sends a named signal to a run: the step waiting for it succeeds with the payload, or it is kept until one waits. Answers delivered / kept / unexpected / run_finished / unknown_run.';
select rowflow._allow('function rowflow.signal(bigint, text, jsonb, timestamptz)', '{app,worker,operator}');
