-- rowflow.arm_step(run_id, step, attempt, worker_id, now) → {"ok", "outcome", …} or a refusal
--
-- The body of graphile-worker's `rowflow:wait` task, the job every release
-- path queues for a step with a wait (workflow_steps.wait, compiled by
-- rowflow._compile_wait) instead of a `rowflow:step` job. One short
-- transaction per job; a waiting step holds no worker slot, no transaction
-- and no lock: its step run stays 'queued', with a rowflow.step_waits row,
-- and its job_id is the deadline's rowflow:wait job (or null: no deadline).
-- What the job finds decides (docs/spec.md, "Waits"):
--   startAt in the future  → a job at that time (rowflow:step for a handler
--                            step: it then runs as any step; rowflow:wait
--                            for a wait step), event step_sleeping
--   a handler step         → a rowflow:step job now
--   signal                 → the oldest unconsumed signal of that name is
--                            the output (signal_received), else it waits
--   human                  → a rowflow.human_tasks row, and it waits
--   waitFor                → a matching row is the output (row_matched),
--                            else it waits, confirmed by the next job once
--                            no writer that could not see the wait is left
--                            (rowflow.step_waits); then the table's trigger
--                            (rowflow._row_wait_fired) sees every change
--   child                  → a run of the child workflow
--                            (rowflow._start_child), and it waits; the
--                            child's end settles it (rowflow.settle_child)
--   at the deadline        → a human task with escalateTo escalates once
--                            (a new due), else onTimeout: "fail" fails the
--                            attempt (no retry; the run fails as for a
--                            handler's failure), "skip" skips, {"output"}
--                            succeeds with that output
-- Who else ends a wait: rowflow.signal, rowflow.complete_task, an
-- operator's skip_step or cancel_run. All take the run's lock first, so
-- exactly one of them ends it; a late job finds the step no longer queued
-- or its deadline not yet come, and changes nothing ({"ok": false}).
-- Fenced as begin_steps: an untrusted session arms only a job its worker
-- (graphile pool id) holds the lock of.
create or replace function rowflow.arm_step(run_id bigint, step text, attempt int, worker_id text default null,
  now timestamptz default null)
returns jsonb
language plpgsql
security definer
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_now timestamptz := coalesce(arm_step.now, pg_catalog.statement_timestamp());
  v_run rowflow.runs;
  v_sr rowflow.step_runs;
  v_ws rowflow.workflow_steps;
  v_sw rowflow.step_waits;
  v_wait jsonb;
  v_ctx jsonb;
  v_at timestamptz;
  v_until timestamptz;
  v_signal rowflow.signals;
  v_assignee text;
  v_task bigint;
  v_job bigint;
  v_on jsonb;
  v_answer jsonb;
  v_xids xid[];
begin
  -- GUARD: a worker; lock order run → step; the step is queued with this
  -- attempt, and (untrusted) its job is locked by worker_id.
  perform rowflow._require('{worker}');
  if arm_step.worker_id is null and not rowflow._trusted() then
    raise exception 'arm_step: worker_id is required: the worker whose graphile-worker pool holds the job'
      using errcode = '22023';
  end if;
  select r.* into v_run from rowflow.runs as r where r.id = arm_step.run_id for no key update;
  select sr.* into v_sr from rowflow.step_runs as sr
  where sr.run_id = arm_step.run_id and sr.step = arm_step.step and sr.kind = 'step' for update;
  if not found or v_run.status is distinct from 'running' or v_sr.status <> 'queued' or v_sr.attempt <> arm_step.attempt
     or (not rowflow._trusted()
         and not exists (select 1 from graphile_worker._private_jobs as j
                         where j.id = v_sr.job_id and j.locked_by = arm_step.worker_id)) then
    return (select f.refusal from rowflow._refusals(array[arm_step.run_id], array[arm_step.step], array[arm_step.attempt],
                                                    array[1], array['queued'],
                                                    case when not rowflow._trusted() then arm_step.worker_id end) as f);
  end if;
  select ws.* into v_ws from rowflow.workflow_steps as ws
  where ws.workflow = v_run.workflow and ws.version = v_run.version and ws.name = arm_step.step;
  v_wait := v_ws.wait;
  v_ctx := pg_catalog.jsonb_build_object('input', v_run.input,
                                         'steps', rowflow._deps_outputs(v_run.id, v_ws.depends_on));
  select w.* into v_sw from rowflow.step_waits as w where w.run_id = v_run.id and w.step = arm_step.step;

  if v_sw.run_id is null then
    -- PHASE 1: startAt still ahead → sleep until then.
    v_at := rowflow._start_time(v_wait, v_ctx);
    if v_at > v_now then
      v_job := (rowflow._add_step_jobs(array[row(v_run.id, v_sr.step, v_sr.attempt,
                  rowflow._queue_name(v_ws.queue_name, v_ws.queue_key, v_ctx), v_at, v_ws.priority + v_run.priority
                )::rowflow.step_job], case when v_wait ->> 'kind' = 'time' then 'rowflow:step' else 'rowflow:wait' end))[1];
      update rowflow.step_runs as sr set job_id = v_job where sr.run_id = v_run.id and sr.step = v_sr.step;
      insert into rowflow.events (run_id, step, type, attempt, data, at)
      values (v_run.id, v_sr.step, 'step_sleeping', v_sr.attempt, pg_catalog.jsonb_build_object('until', v_at), v_now);
      return pg_catalog.jsonb_build_object('ok', true, 'outcome', 'sleeping', 'until', v_at);
    end if;
    if v_wait ? 'startAt' and v_at is null then
      -- Nothing usable at the path: the step does not wait; say so.
      insert into rowflow.events (run_id, step, type, attempt, data, at)
      values (v_run.id, v_sr.step, 'step_sleeping', v_sr.attempt,
              pg_catalog.jsonb_build_object('until', null, 'note',
                pg_catalog.format('startAt %s gave no time; starting now', v_wait ->> 'startAt')), v_now);
    end if;

    -- PHASE 2: a handler step runs now, as any step.
    if v_wait ->> 'kind' = 'time' then
      v_job := (rowflow._add_step_jobs(array[row(v_run.id, v_sr.step, v_sr.attempt,
                  rowflow._queue_name(v_ws.queue_name, v_ws.queue_key, v_ctx), v_now, v_ws.priority + v_run.priority
                )::rowflow.step_job]))[1];
      update rowflow.step_runs as sr set job_id = v_job where sr.run_id = v_run.id and sr.step = v_sr.step;
      return '{"ok": true, "outcome": "queued"}'::jsonb;
    end if;

    -- PHASE 3: what it waits for may be there already.
    if v_wait ->> 'kind' = 'signal' then
      update rowflow.signals as s set consumed_at = v_now, step = v_sr.step
      where s.id = (select s2.id from rowflow.signals as s2
                    where s2.run_id = v_run.id and s2.name = v_wait ->> 'signal' and s2.consumed_at is null
                    order by s2.id limit 1)
      returning s.* into v_signal;
      if found then
        v_answer := rowflow._settle_step(v_run.id, v_sr.step, 'succeeded', v_signal.payload, v_now, 'signal_received',
          pg_catalog.jsonb_build_object('signal', v_signal.name, 'signalId', v_signal.id, 'by', v_signal.sent_by,
                                        'sentAt', v_signal.sent_at));
        return pg_catalog.jsonb_build_object('ok', true, 'outcome', 'succeeded', 'signal', v_signal.id) || v_answer;
      end if;
    end if;

    if v_wait ->> 'kind' = 'row' then
      v_answer := rowflow._arm_row(v_run.id, v_sr.step, v_sr.attempt, v_wait, v_ctx, v_now);
      if v_answer is not null then
        return v_answer;
      end if;
    end if;

    -- A child step starts its child run and waits for it (no deadline).
    if v_wait ->> 'kind' = 'child' then
      return rowflow._start_child(v_run, v_ws, v_sr, v_wait, v_ctx, v_now);
    end if;

    -- PHASE 4: wait, until the deadline if there is one.
    v_until := v_now + (v_wait ->> 'timeout')::interval;
    if v_wait ->> 'kind' = 'human' then
      v_assignee := coalesce(v_wait ->> 'assignee',
        jsonb_path_query_first(v_ctx, (v_wait ->> 'assigneePath')::jsonpath, '{}', true) #>> '{}');
      if coalesce(length(v_assignee), 0) not between 1 and 200 then
        return rowflow._fail_wait(v_run.id, v_sr.step, v_sr.attempt, pg_catalog.jsonb_build_object(
          'message', pg_catalog.format('human.assignee %s gave no person or group (1-200 characters)',
                                       v_wait ->> 'assigneePath'), 'code', 'no_assignee'), v_now);
      end if;
      insert into rowflow.human_tasks (run_id, step, workflow, title, description, assignee, form, due_at, escalate_to,
                                       created_at)
      values (v_run.id, v_sr.step, v_run.workflow, v_wait ->> 'title', v_wait ->> 'description', v_assignee,
              coalesce(v_wait -> 'form', '{}'), v_until, v_wait ->> 'escalateTo', v_now)
      returning id into v_task;
      insert into rowflow.events (run_id, step, type, attempt, data, at)
      values (v_run.id, v_sr.step, 'task_created', v_sr.attempt,
              pg_catalog.jsonb_build_object('task', v_task, 'assignee', v_assignee, 'due', v_until), v_now);
    end if;
    insert into rowflow.step_waits (run_id, step, kind, signal, task_id, relid, since, until, confirmed)
    values (v_run.id, v_sr.step, v_wait ->> 'kind', v_wait ->> 'signal', v_task, (v_wait ->> 'relid')::oid, v_now,
            v_until, v_wait ->> 'kind' <> 'row');
    -- A row wait is confirmed by the next rowflow:wait job (PHASE 5), once
    -- this transaction committed; its deadline job comes after.
    perform rowflow._wait_deadline(v_run, v_ws, v_sr, case when v_wait ->> 'kind' = 'row' then v_now else v_until end);
    insert into rowflow.events (run_id, step, type, attempt, data, at)
    values (v_run.id, v_sr.step, 'step_waiting', v_sr.attempt,
            pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object('for', v_wait ->> 'kind',
              'signal', v_wait ->> 'signal', 'task', v_task, 'until', v_until)), v_now);
    perform rowflow._notify(pg_catalog.jsonb_build_object('run', v_run.id));
    return pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object('ok', true, 'outcome', 'waiting', 'task', v_task,
                                                                      'until', v_until));
  end if;

  -- PHASE 5: a row wait is confirmed once every transaction that was
  -- writing its table when the wait committed has ended (step_waits.xids:
  -- the first such job runs after the commit; a writer holds its
  -- RowExclusiveLock on the table until it ends, so pg_locks lists them
  -- all): a writer whose trigger ran before the wait was visible may have
  -- committed a matching row since, so the condition is checked again each
  -- time, every 100 ms at first, backing off to 10 s for a long writer.
  if not v_sw.confirmed then
    v_xids := case when v_sw.xids is null
      then array(select distinct x.transactionid from pg_catalog.pg_locks as l
                 join pg_catalog.pg_locks as x on x.pid = l.pid and x.locktype = 'transactionid' and x.granted
                 where l.locktype = 'relation' and l.relation = v_sw.relid and l.mode = 'RowExclusiveLock'
                   and l.granted and l.pid <> pg_catalog.pg_backend_pid())
      else array(select x from unnest(v_sw.xids) as x
                 where exists (select 1 from pg_catalog.pg_locks as l
                               where l.locktype = 'transactionid' and l.transactionid = x)) end;
    v_answer := rowflow._arm_row(v_run.id, v_sr.step, v_sr.attempt, v_wait, v_ctx, v_now);
    if v_answer is not null then
      return v_answer;
    end if;
    update rowflow.step_waits as w set confirmed = cardinality(v_xids) = 0, xids = nullif(v_xids, '{}')
    where w.run_id = v_run.id and w.step = v_sr.step;
    perform rowflow._wait_deadline(v_run, v_ws, v_sr,
                                   case when cardinality(v_xids) = 0 then v_sw.until
                                        else v_now + least(interval '10 s', greatest(interval '100 ms',
                                                                                     (v_now - v_sw.since) / 10)) end);
    return pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object('ok', true, 'outcome', 'waiting',
      'confirmed', cardinality(v_xids) = 0, 'until', v_sw.until));
  end if;

  -- PHASE 6: the deadline job. Early (a stale job) changes nothing.
  if v_sw.until is null or v_sw.until > v_now then
    return pg_catalog.jsonb_build_object('ok', false, 'reason', 'not_due', 'until', v_sw.until);
  end if;
  if v_sw.kind = 'human' and v_wait ->> 'escalateTo' is not null
     and (select t.escalated_at is null from rowflow.human_tasks as t where t.id = v_sw.task_id) then
    v_until := v_now + (v_wait ->> 'timeout')::interval;
    update rowflow.human_tasks as t
    set assignee = t.escalate_to, status = 'open', claimed_by = null, claimed_at = null, escalated_at = v_now,
        due_at = v_until
    where t.id = v_sw.task_id
    returning t.assignee into v_assignee;
    update rowflow.step_waits as w set until = v_until where w.run_id = v_run.id and w.step = v_sr.step;
    perform rowflow._wait_deadline(v_run, v_ws, v_sr, v_until);
    insert into rowflow.events (run_id, step, type, attempt, data, at)
    values (v_run.id, v_sr.step, 'task_escalated', v_sr.attempt,
            pg_catalog.jsonb_build_object('task', v_sw.task_id, 'to', v_assignee, 'due', v_until), v_now);
    perform rowflow._notify(pg_catalog.jsonb_build_object('run', v_run.id));
    return pg_catalog.jsonb_build_object('ok', true, 'outcome', 'escalated', 'task', v_sw.task_id, 'to', v_assignee,
                                         'until', v_until);
  end if;
  update rowflow.human_tasks as t set status = 'expired' where t.id = v_sw.task_id and t.status in ('open', 'claimed');
  v_on := coalesce(v_wait -> 'onTimeout', '"fail"');
  if v_on = '"fail"' then
    return rowflow._fail_wait(v_run.id, v_sr.step, v_sr.attempt, pg_catalog.jsonb_build_object(
      'message', pg_catalog.format('timed out waiting for %s after %s',
                                   case v_sw.kind when 'signal' then 'signal ' || v_sw.signal
                                                  when 'human' then 'task ' || v_sw.task_id
                                                  else 'a row of ' || (v_wait ->> 'table') end,
                                   v_wait ->> 'timeout'),
      'code', 'timeout', 'waitedSince', v_sw.since), v_now);
  end if;
  v_answer := rowflow._settle_step(v_run.id, v_sr.step, case when v_on = '"skip"' then 'skipped' else 'succeeded' end,
                                   v_on -> 'output', v_now, 'step_timed_out',
                                   pg_catalog.jsonb_build_object('onTimeout', v_on, 'waitedSince', v_sw.since));
  return pg_catalog.jsonb_build_object('ok', true, 'outcome', 'timed_out') || v_answer;
end;
$$;
comment on function rowflow.arm_step(bigint, text, int, text, timestamptz) is
  'The rowflow:wait job: sleeps a step until its startAt, starts its wait (signal, human task) or applies its deadline (escalate, onTimeout).';
select rowflow._allow('function rowflow.arm_step(bigint, text, int, text, timestamptz)', '{worker}');
