-- rowflow.tg_step_waits__cancel_child() → trigger rowflow_child_cancel on rowflow.step_waits
--
-- A child wait ended. If its child run is still active, the parent no
-- longer wants it — the parent run was cancelled or failed
-- (rowflow._cancel_steps), the step was skipped (skip_step) — so the child
-- is cancelled too, with the usual cancel (rowflow._cancel_locked: its
-- queued jobs removed, its running handlers refused at their gate call;
-- audited with via 'parent'), and so are its own children, by this same
-- trigger. A child that ended (the wait settles with its outcome) is left
-- as it is. Every deleter of a step_waits row holds the parent run's lock,
-- and a child's id is above its parent's: locks are taken in id order.
create or replace function rowflow.tg_step_waits__cancel_child()
returns trigger
language plpgsql
set search_path to ''
as $$
declare
  v_child rowflow.runs;
begin
  select r.* into v_child from rowflow.runs as r
  where r.id = old.child_run_id and r.status in ('queued', 'running', 'compensating')
  for no key update;
  if found then
    perform rowflow._cancel_locked(v_child, pg_catalog.format('parent run %s step %s ended', old.run_id, old.step),
                                   pg_catalog.statement_timestamp(), false, 'parent');
  end if;
  return null;
end;
$$;
select rowflow._allow('function rowflow.tg_step_waits__cancel_child()', '{}');

create trigger rowflow_child_cancel
after delete on rowflow.step_waits
for each row
when (old.kind = 'child')
execute function rowflow.tg_step_waits__cancel_child();
comment on trigger rowflow_child_cancel on rowflow.step_waits is
  'A child wait ended while its child run is active (the parent was cancelled or failed, the step skipped): cancel the child.';
