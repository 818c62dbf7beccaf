-- rowflow.maintenance: one row per periodic task the workers share (today
-- 'retention', sql/schema/85_operate/retention.sql). A worker claims a
-- period by locking the row (FOR UPDATE SKIP LOCKED: a worker that finds
-- it locked goes on at once) and finding last_at older than the period;
-- it sets last_at in the same transaction as the work. So exactly one
-- worker does the task per period, however many call it, and a worker
-- that dies mid-task leaves the period unclaimed for the next caller.
create table rowflow.maintenance (
  task        text primary key,
  last_at     timestamptz not null,
  last_by     text,
  last_result jsonb,
  constraint task_is_valid check (task in ('retention'))
);
comment on table rowflow.maintenance is
  'Periodic tasks the workers share (retention): when one last ran, by which worker, with what result.';
select rowflow._allow('table rowflow.maintenance', '{viewer}');
insert into rowflow.maintenance (task, last_at) values ('retention', '-infinity');
