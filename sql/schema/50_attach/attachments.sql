-- rowflow.attachments: every live table attachment with its options, as
-- given to rowflow.attach, and its trigger function and triggers. Live only:
-- a row whose table was dropped (its triggers went with it) is not shown,
-- and attach/detach purge such rows.
create or replace view rowflow.attachments as
select
  a.id,
  a.relid::regclass as table_name,
  a.workflow,
  a.events,
  a.when_sql,
  a.input_sql,
  a.key_sql as idempotency_key_sql,
  a.columns,
  a.exclude_columns,
  ('rowflow.' || pg_catalog.quote_ident(a.function_name)) as trigger_function,
  array(select t.tgname::text from pg_catalog.pg_trigger as t
        where t.tgrelid = a.relid and t.tgfoid = p.oid order by t.tgname) as triggers,
  a.created_at,
  a.created_by,
  a.on_delete,
  a.supersede
from rowflow.table_attachments as a
join pg_catalog.pg_proc as p
  on p.proname = a.function_name and p.pronamespace = 'rowflow'::regnamespace
where exists (select 1 from pg_catalog.pg_trigger as t where t.tgrelid = a.relid and t.tgfoid = p.oid);
comment on view rowflow.attachments is
  'Every live table attachment with its options (SQL text as given to rowflow.attach).';
select rowflow._allow('view rowflow.attachments', '{viewer}');
