-- rowflow.detach(table_name, workflow, caller) → how many attachments were removed
--
-- Removes every attachment of the workflow on the table: its triggers, its
-- generated functions and its row. Runs already started are not touched. The
-- work is in rowflow._detach; the overloads resolve the table as attach's
-- do, and are SECURITY DEFINER with the same rights and caller check
-- (sql/schema/50_attach/attach.sql).
create or replace function rowflow.detach(table_name regclass, workflow text, caller name default current_user)
returns int
language sql
security definer
set search_path to ''
as $$
  select rowflow._detach(detach.table_name, detach.table_name::text, detach.workflow, detach.caller);
$$;
comment on function rowflow.detach(regclass, text, name) is
  'Same as detach(text, text) for a regclass argument.';
select rowflow._allow('function rowflow.detach(regclass, text, name)', '{}');

create or replace function rowflow.detach(
  table_name text,
  workflow text,
  caller name default current_user,
  caller_search_path text default pg_catalog.current_setting('search_path'))
returns int
language sql
security definer
set search_path to ''
as $$
  select rowflow._detach(rowflow._resolve_table(detach.table_name, detach.caller_search_path),
                         detach.table_name, detach.workflow, detach.caller);
$$;
comment on function rowflow.detach(text, text, name, text) is
  'Removes every attachment of workflow on the table (triggers and functions); started runs are left alone. Returns how many. RF030, RF031, RF036, RF037.';
select rowflow._allow('function rowflow.detach(text, text, name, text)', '{}');
