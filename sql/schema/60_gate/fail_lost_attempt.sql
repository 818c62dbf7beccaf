-- rowflow.fail_lost_attempt(run_id, step, attempt, worker_id, now) → answer
--
-- graphile-worker delivered a job again (the worker holding it crashed or
-- was declared dead) and the step is still running with that attempt: the
-- attempt was lost with its worker. Recorded as failed, with error kind
-- worker_lost, and retried without using up an attempt (rowflow._fail_attempt).
-- The caller must be the worker now holding the job's lock (its lease token
-- went with the lost worker): a session that is not trusted cannot fail
-- another worker's running attempt. Answers as fail_step, or a refusal:
-- not_running (the attempt is no longer running: nothing was lost) or
-- not_lease_holder (the job is not locked by worker_id).
create or replace function rowflow.fail_lost_attempt(run_id bigint, step text, attempt int, worker_id text,
  now timestamptz default null)
returns jsonb
language plpgsql
security definer
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_sr rowflow.step_runs;
  v_deliveries int;
begin
  -- GUARD: a worker; the step running with that attempt; its job locked by worker_id.
  perform rowflow._require('{worker}');
  perform 1 from rowflow.runs as r where r.id = fail_lost_attempt.run_id for no key update;
  select sr.* into v_sr from rowflow.step_runs as sr
  where sr.run_id = fail_lost_attempt.run_id and sr.step = fail_lost_attempt.step
    and sr.status = 'running' and sr.attempt = fail_lost_attempt.attempt;
  if not found then
    return '{"ok": false, "reason": "not_running"}'::jsonb;
  end if;
  select j.attempts into v_deliveries from graphile_worker._private_jobs as j
  where j.id = v_sr.job_id and j.locked_by = fail_lost_attempt.worker_id;
  if not found and not rowflow._trusted() then
    return '{"ok": false, "reason": "not_lease_holder"}'::jsonb;
  end if;
  return rowflow._fail_attempt(fail_lost_attempt.run_id, fail_lost_attempt.step, fail_lost_attempt.attempt,
    pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
      'kind', 'worker_lost', 'code', 'RF_WORKER_LOST', 'workerId', fail_lost_attempt.worker_id,
      'message', pg_catalog.format('the worker running attempt %s stopped before recording an outcome%s',
                                   fail_lost_attempt.attempt,
                                   case when v_deliveries is not null
                                        then pg_catalog.format(' (job delivered %s times)', v_deliveries) else '' end))),
    true, null, fail_lost_attempt.now);
end;
$$;
comment on function rowflow.fail_lost_attempt(bigint, text, int, text, timestamptz) is
  'A re-delivered job''s attempt was lost with its worker: records it as lost (worker_lost) and retries it without using up an attempt. For the worker holding the job''s lock.';
select rowflow._allow('function rowflow.fail_lost_attempt(bigint, text, int, text, timestamptz)', '{worker}');
