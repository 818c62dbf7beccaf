-- rowflow.tg_runs__child_ended() → trigger rowflow_child_ended on rowflow.runs
--
-- A child run (runs.parent_run_id) ended — succeeded, failed or cancelled,
-- by whatever path (complete_steps, fail_step, _finish_runs, cancel_run):
-- queue a rowflow:child job for the parent step that waits for it, whose
-- rowflow.settle_child takes the outcome. Only a job, in the child's
-- transaction: the parent's lock is taken by that job, never under the
-- child's (lock order: cancel_run locks a parent, then its child). The
-- parent step's attempt is read without a lock; a stale one (the step
-- moved on meanwhile) makes a job that changes nothing.
--
-- Cost for runs that are no children: the trigger's WHEN is false, no
-- call (an AFTER ROW trigger with a false WHEN queues nothing).
create or replace function rowflow.tg_runs__child_ended()
returns trigger
language plpgsql
set search_path to ''
as $$
begin
  perform rowflow._add_step_jobs(array[row(new.parent_run_id, new.parent_step, sr.attempt, null, null,
                                           new.priority)::rowflow.step_job], 'rowflow:child')
  from rowflow.step_runs as sr
  where sr.run_id = new.parent_run_id and sr.step = new.parent_step and sr.status = 'queued';
  return null;
end;
$$;
select rowflow._allow('function rowflow.tg_runs__child_ended()', '{}');

create trigger rowflow_child_ended
after update of status on rowflow.runs
for each row
when (new.parent_run_id is not null and new.finished_at is not null and old.finished_at is null)
execute function rowflow.tg_runs__child_ended();
comment on trigger rowflow_child_ended on rowflow.runs is
  'A child run ended: queue the rowflow:child job of its parent step (rowflow.settle_child).';
