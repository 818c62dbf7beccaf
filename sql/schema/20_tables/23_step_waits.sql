-- rowflow.step_waits: one row per step that is waiting now — for a signal,
-- a person (a human task) or a business row — written by rowflow.arm_step
-- when the step's rowflow:wait job runs, deleted when the wait ends
-- (rowflow._settle_step, rowflow._end_waits). The step run itself stays
-- 'queued' meanwhile, its job_id the deadline job (a rowflow:wait job at
-- `until`), or null when the wait has no deadline: a waiting step holds no
-- worker slot, no transaction and no lock. Who ends it finds it here:
-- rowflow.signal by (run_id, signal), the row-change trigger of a waitFor
-- table by relid, complete_task by task_id.
--
-- A row wait is `confirmed` once no transaction that could have written a
-- matching row unseen is still running: a writer whose trigger ran before
-- this row committed did not see it, and its row may commit after the
-- step's own check looked. arm_step records the transactions writing the
-- table just after the wait committed (`xids`, from pg_locks) and checks
-- again once they have all ended; from then on the table's trigger sees
-- every writer.
--
-- A child wait (kind 'child', child_run_id) waits for a run of another
-- workflow that rowflow._start_child started; when that run ends, a
-- trigger on rowflow.runs queues a rowflow:child job, whose
-- rowflow.settle_child settles the step with the child's outcome. A child
-- wait deleted while its child is still active (the parent was cancelled
-- or failed, or the step skipped) cancels the child: the trigger
-- rowflow_child_cancel below (sql/schema/78_waits/_cancel_child.sql).
create table rowflow.step_waits (
  run_id    bigint not null,
  step      text not null,
  kind      text not null,
  signal    text,                  -- kind 'signal': the name it waits for
  relid     oid,                   -- kind 'row': the table whose rows it waits for
  task_id   bigint,                -- kind 'human': its rowflow.human_tasks row
  since     timestamptz not null,
  until     timestamptz,           -- the deadline (timeout or due); null: none
  confirmed boolean not null default true,
  xids      xid[],                 -- kind 'row' before it is confirmed: the writers to wait for
  child_run_id bigint,             -- kind 'child': the run it waits for (rowflow._start_child)
  primary key (run_id, step),
  constraint kind_is_valid check (kind in ('signal', 'human', 'row', 'child')),
  constraint detail_matches_kind
    check ((kind = 'signal') = (signal is not null) and (kind = 'row') = (relid is not null)
           and (kind = 'human') = (task_id is not null) and (kind = 'child') = (child_run_id is not null))
);
create index step_waits_relid_idx on rowflow.step_waits (relid) where relid is not null;
comment on table rowflow.step_waits is
  'Steps waiting now for a signal, a person, a business row or a child run (their step run stays queued, holding no worker); see rowflow.arm_step.';
select rowflow._allow('table rowflow.step_waits', '{viewer}');
