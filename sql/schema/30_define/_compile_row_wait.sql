-- rowflow._compile_row_wait(table, where, what, owner) → {"relid", "table", "check"}
--
-- Compiles a waitFor step: {"table": "shop.payments", "where": "order_id =
-- ($.input.orderId)::bigint and status = 'settled'"}. The condition is a
-- SQL boolean expression over the table's columns in which each SQL/JSON
-- path ($.input.…, $.steps.<dep>.…) stands for that value of the run, as
-- text (cast it: `($.input.orderId)::bigint`). It becomes the body of a
-- check function,
--   rowflow.rw_<hash>(ctx jsonb) → the first matching row as JSON, or null
--       select to_jsonb(t) from only <table> as t where (<condition>) limit 1
-- with each path replaced by jsonb_path_query_first(ctx, '<path>') #>> '{}':
-- run values reach it as data, never as SQL text. SECURITY DEFINER, owned by
-- the workflow's owner (rowflow._give_function): the condition runs with the
-- rights of the role that wrote it, never rowflow's, and needs SELECT on the
-- table. The condition is one expression: outside quoted literals and
-- identifiers, ';', comments, dollar quotes, $n parameters and E'' / U&''
-- strings are refused, so it cannot end the query it is part of; Postgres
-- then parses and type-checks the whole body when the function is created
-- (check_function_bodies), which is how a misspelt column or a type error is
-- caught here (RF012) rather than on every run. RF011: no such table, not
-- a table, no SELECT for the owner.
--
-- The table gets one statement-level trigger, rowflow_wait_for (after
-- insert or update; no transition table), which re-checks the steps
-- waiting on it: see sql/schema/78_waits/_row_wait_fired.sql.
create or replace function rowflow._compile_row_wait(table_name jsonb, "where" jsonb, what text, owner name)
returns jsonb
language plpgsql
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_relid oid;
  v_rel pg_catalog.pg_class;
  v_cond text := _compile_row_wait."where" #>> '{}';
  v_out text := '';
  v_i int := 1;
  v_n int;
  v_c text;
  v_j int;
  v_m text[];
  v_fn text;
  v_proc regprocedure;
begin
  -- GUARD: a table the owner may read.
  if jsonb_typeof(_compile_row_wait.table_name) is distinct from 'string' then
    raise exception '%: waitFor.table must be a table name like "shop.payments"', _compile_row_wait.what
      using errcode = 'RF011';
  end if;
  -- A spec is data, resolved the same way wherever it is defined from:
  -- the name must be schema-qualified (pg_catalog aside, nothing is on the path).
  v_relid := rowflow._resolve_table(_compile_row_wait.table_name #>> '{}', '');
  select c.* into v_rel from pg_catalog.pg_class as c where c.oid = v_relid;
  if v_relid is null or v_rel.relkind not in ('r', 'p') then
    raise exception '%: waitFor.table % is not a table', _compile_row_wait.what, _compile_row_wait.table_name::text
      using errcode = 'RF011', hint = 'Schema-qualify it (e.g. "public.payments"): an ordinary or partitioned table.';
  end if;
  if not pg_catalog.has_table_privilege(_compile_row_wait.owner, v_relid, 'SELECT') then
    raise exception '%: the workflow''s owner % may not read %', _compile_row_wait.what, _compile_row_wait.owner,
      v_relid::regclass using errcode = 'RF011',
      hint = 'The condition runs with the owner''s rights: grant it SELECT on the table.';
  end if;
  if jsonb_typeof(_compile_row_wait."where") is distinct from 'string' or length(v_cond) not between 1 and 4000 then
    raise exception '%: waitFor.where must be a SQL condition of 1-4000 characters', _compile_row_wait.what
      using errcode = 'RF012';
  end if;

  -- PHASE 1: the condition, token by token: quoted text is copied, paths
  -- become parameters of the check, anything that could end the expression
  -- is refused.
  v_n := length(v_cond);
  while v_i <= v_n loop
    v_c := substr(v_cond, v_i, 1);
    if v_c in ('''', '"') then
      v_j := v_i + 1;
      loop
        exit when v_j > v_n;
        if substr(v_cond, v_j, 1) = v_c then
          exit when substr(v_cond, v_j + 1, 1) is distinct from v_c;
          v_j := v_j + 1; -- a doubled quote
        end if;
        v_j := v_j + 1;
      end loop;
      if v_j > v_n then
        raise exception '%: waitFor.where has an unterminated % quote', _compile_row_wait.what, v_c using errcode = 'RF012';
      end if;
      if v_c = '''' and v_i > 1 and substr(v_cond, v_i - 1, 1) ~ '[A-Za-z0-9_&]' then
        raise exception '%: waitFor.where may not use E'''', U&'''' or B'''' strings', _compile_row_wait.what
          using errcode = 'RF012';
      end if;
      v_out := v_out || substr(v_cond, v_i, v_j - v_i + 1);
      v_i := v_j + 1;
      continue;
    end if;
    if v_c = ';' or substr(v_cond, v_i, 2) in ('--', '/*') or v_c = '\' then
      raise exception '%: waitFor.where must be one SQL expression: %, outside quotes, is not allowed',
        _compile_row_wait.what, pg_catalog.quote_literal(case when v_c = ';' or v_c = '\' then v_c else substr(v_cond, v_i, 2) end)
        using errcode = 'RF012';
    end if;
    if v_c = '$' then
      v_m := regexp_match(substr(v_cond, v_i), '^\$(\.[A-Za-z_][A-Za-z0-9_]*|\.\"[^"]+\"|\[[0-9]+\])+');
      if v_m is null then
        raise exception '%: waitFor.where: "$" must start a path like $.input.orderId (dollar quotes and $n parameters are not allowed)',
          _compile_row_wait.what using errcode = 'RF012';
      end if;
      v_m := regexp_match(substr(v_cond, v_i), '^(\$(?:\.[A-Za-z_][A-Za-z0-9_]*|\.\"[^"]+\"|\[[0-9]+\])+)');
      perform rowflow._compile_path(to_jsonb(v_m[1]), _compile_row_wait.what || ': waitFor.where path');
      v_out := v_out || pg_catalog.format('(pg_catalog.jsonb_path_query_first(ctx, %L::jsonpath) #>> ''{}'')', v_m[1]);
      v_i := v_i + length(v_m[1]);
      continue;
    end if;
    v_out := v_out || v_c;
    v_i := v_i + 1;
  end loop;

  -- PHASE 2: the check function; Postgres parses and type-checks it now.
  v_fn := 'rw_' || left(md5(v_relid::text || ':' || _compile_row_wait.owner || ':' || v_out), 20);
  begin
    execute pg_catalog.format(
      'create or replace function rowflow.%I(ctx jsonb) returns jsonb language sql stable security definer '
      'set search_path to '''' as %L', v_fn,
      pg_catalog.format('select pg_catalog.to_jsonb(t) from only %s as t where (%s) limit 1', v_relid::regclass, v_out));
  exception when others then
    raise exception '%: waitFor.where is not a valid condition on %: %', _compile_row_wait.what, v_relid::regclass, sqlerrm
      using errcode = 'RF012', hint = 'Qualify functions by schema (the check runs with an empty search_path); cast paths, e.g. ($.input.id)::bigint.';
  end;
  v_proc := pg_catalog.format('rowflow.%I(jsonb)', v_fn)::regprocedure;
  execute pg_catalog.format('revoke all on function %s from public', v_proc);
  perform rowflow._give_function(v_proc, (select r.oid from pg_catalog.pg_roles as r where r.rolname = _compile_row_wait.owner));

  -- PHASE 3: the table's trigger (once per table).
  if not exists (select 1 from pg_catalog.pg_trigger as t where t.tgrelid = v_relid and t.tgname = 'rowflow_wait_for') then
    execute pg_catalog.format('create trigger rowflow_wait_for after insert or update on %s '
                              'for each statement execute function rowflow._row_wait_fired()', v_relid::regclass);
  end if;
  return pg_catalog.jsonb_build_object('relid', v_relid, 'table', v_relid::regclass::text, 'check', v_proc::text);
end;
$$;
comment on function rowflow._compile_row_wait(jsonb, jsonb, text, name) is
  'Internal: compiles a waitFor (table, condition with $.paths) into a check function owned by the workflow''s owner, and gives the table its rowflow_wait_for trigger.';
select rowflow._allow('function rowflow._compile_row_wait(jsonb, jsonb, text, name)', '{}');
