-- rowflow._attachment_body(attachment) → the plpgsql body of its trigger function
--
-- One body serves every event of the attachment (each trigger names its
-- transition tables rf_new / rf_old). Without an idempotency key, the
-- statement's rows become queued runs in one INSERT … SELECT from the
-- transition table that also looks up the workflow's latest version and
-- whether a worker or a live view waits: a single row nobody waits for
-- costs no further plpgsql call. A paused workflow's runs are inserted all
-- the same and wait (the write must not fail). When the workflow is unknown
-- (a broken restore), nothing is inserted and the inputs go to
-- rowflow._start_attached, which raises RF020 when rows qualify; keyed
-- attachments go there too
-- (it starts them through _queue_runs, which resolves the keys).
--
-- Measured (pgbench, one client, single-row INSERT, runs per second): the
-- bare table 3,950; a statement trigger inserting one row into a plain
-- table 2,560; this body with a separate workflow lookup, a pending_runs()
-- bookkeeping call, a _run_input call per row and the empty OLD join of an
-- INSERT trigger 1,550; without them, as below, 1,970.
create or replace function rowflow._attachment_body(attachment rowflow.table_attachments)
returns text
language plpgsql stable
set search_path to ''
as $$
#variable_conflict use_column
declare
  v_a rowflow.table_attachments := _attachment_body.attachment;
  v_pk text[];
  v_event text;
  v_arrays text;
  v_rows text;
  v_exprs text := concat_ws(' ', v_a.when_sql, v_a.input_sql, v_a.key_sql);
  v_prefix text := 'select pg_catalog.array_agg(rf_q.input), null::text[] into rf_x' || E'\n' || 'from (';
  v_checks text := '';
begin
  v_pk := array(
    select a.attname::text
    from pg_catalog.pg_index as i
    cross join lateral unnest(i.indkey) with ordinality as k(attnum, o)
    join pg_catalog.pg_attribute as a on a.attrelid = i.indrelid and a.attnum = k.attnum
    where i.indrelid = v_a.relid and i.indisprimary
    order by k.o);
  foreach v_event in array v_a.events loop
    v_arrays := rowflow._attachment_query(v_a.relid::regclass, v_event, v_pk, v_a.when_sql, v_a.input_sql,
                                          v_a.key_sql, 'rf_tg.rf_inputs, rf_tg.rf_keys');
    if v_a.key_sql is null then
      -- The rows themselves: _attachment_query's inner select (it starts with
      -- a fixed prefix and ends with ") as rf_q").
      v_rows := rowflow._attachment_query(v_a.relid::regclass, v_event, v_pk, v_a.when_sql, v_a.input_sql,
                                          null, 'rf_x');
      if left(v_rows, length(v_prefix)) <> v_prefix or right(v_rows, 9) <> ') as rf_q' then
        raise exception 'internal: unexpected attachment query shape' using errcode = 'XX000';
      end if;
      v_rows := substr(v_rows, length(v_prefix) + 1, length(v_rows) - length(v_prefix) - 9);
      -- An INSERT (DELETE) trigger joins an empty OLD (NEW) row for the
      -- expressions to name; without a mention of it, the join goes.
      if v_event = 'insert' and v_exprs !~* '\mold\M' then
        v_rows := replace(v_rows, E'\nfrom rf_new as new left join (select * from rf_new where false) as old on true\n',
                          E'\nfrom rf_new as new\n');
      elsif v_event = 'delete' and v_exprs !~* '\mnew\M' then
        v_rows := replace(v_rows, E'\nfrom rf_old as old left join (select * from rf_old where false) as new on true\n',
                          E'\nfrom rf_old as old\n');
      end if;
      v_checks := v_checks || pg_catalog.format(E'  %s rf_tg.rf_op = %L then\n',
          case when v_checks = '' then 'if' else 'elsif' end, v_event)
        || E'    if rf_tg.rf_prio is not null then\n'
        || E'      with rf_w as (\n'
        || pg_catalog.format(E'        select w.latest_version as version from rowflow.workflows as w where w.name = %L\n',
             v_a.workflow)
        || E'      ), rf_ins as (\n'
        || E'        insert into rowflow.runs as rf_r (workflow, version, status, input, priority, created_at, updated_at)\n'
        || pg_catalog.format(E'        select %L, rf_w.version, ''queued'',\n', v_a.workflow)
        -- A small JSON object passes as is; anything else meets _run_input (RF022).
        || E'               case when pg_catalog.jsonb_typeof(rf_q.input) = ''object''\n'
        || E'                         and pg_catalog.pg_column_size(rf_q.input) <= 174762\n'
        || E'                         and pg_catalog.pg_column_compression(rf_q.input) is null\n'
        || E'                    then rf_q.input else rowflow._run_input(rf_q.input) end,\n'
        || E'               rf_tg.rf_prio, pg_catalog.now(), pg_catalog.now()\n'
        -- offset 0: the input expression is evaluated once per row, not once per use.
        || E'        from (' || v_rows || E' offset 0) as rf_q, rf_w\n'
        || E'        returning rf_r.id\n'
        || E'      )\n'
        || E'      select pg_catalog.array_agg(rf_ins.id), (select rf_w.version from rf_w),\n'
        || E'             exists (select 1 from rowflow.waiters as x\n'
        || E'                     where x.channel in (''jobs:insert'', ''rowflow'') and x.until > pg_catalog.statement_timestamp())\n'
        || E'      into rf_tg.rf_ids, rf_tg.rf_version, rf_tg.rf_waiting from rf_ins;\n'
        || E'    end if;\n'
        || E'    if rf_tg.rf_version is null then\n      ' || v_arrays || E';\n    end if;\n';
    else
      v_checks := v_checks || pg_catalog.format(E'  %s rf_tg.rf_op = %L then\n    ',
          case when v_checks = '' then 'if' else 'elsif' end, v_event)
        || v_arrays || E';\n';
    end if;
  end loop;
  return E'\n#variable_conflict use_column\n<<rf_tg>>\ndeclare\n'
    || E'  rf_inputs jsonb[];\n  rf_keys text[];\n  rf_ids bigint[];\n  rf_n int;\n  rf_waiting boolean;\n'
    || E'  rf_mode text := pg_catalog.current_setting(''rowflow.mode'', true);\n'
    || E'  rf_prio int;\n  rf_version int;\n  rf_note text;\n'
    || E'  rf_op text := pg_catalog.lower(tg_op);\n'
    || E'  rf_schema text := tg_table_schema;\n  rf_table text := tg_table_name;\nbegin\n'
    || pg_catalog.format(E'  -- rowflow attachment %s: workflow %s on %s (generated by rowflow.attach; do not edit)\n',
         v_a.id, v_a.workflow, v_a.relid::regclass)
    || E'  if rf_tg.rf_mode = ''suppress'' then\n    return null;\n  end if;\n'
    || E'  rf_tg.rf_prio := case when rf_tg.rf_mode is null or rf_tg.rf_mode in ('''', ''normal'') then 0\n'
    || E'                        when rf_tg.rf_mode = ''backfill'' then 1000 end;\n'
    || v_checks
    || E'  end if;\n'
    || E'  if rf_tg.rf_ids is not null then\n'
    -- One run and nobody waiting (the usual write): the pending_runs() note
    -- inline; otherwise rowflow._runs_started also wakes the waiters.
    || E'    if rf_tg.rf_waiting or pg_catalog.cardinality(rf_tg.rf_ids) > 1 then\n'
    || pg_catalog.format(E'      rf_tg.rf_n := rowflow._runs_started(%L, rf_tg.rf_ids, rf_tg.rf_waiting);\n', v_a.workflow)
    || E'    else\n'
    || E'      rf_tg.rf_note := pg_catalog.set_config(''rowflow.pending_runs'',\n'
    || E'        coalesce(nullif(pg_catalog.current_setting(''rowflow.pending_runs'', true), '''') || '','', '''')\n'
    || E'          || rf_tg.rf_ids[1] || ''-'' || rf_tg.rf_ids[1], true);\n'
    || E'    end if;\n'
    || E'  elsif rf_tg.rf_inputs is not null then\n'
    || pg_catalog.format(E'    perform rowflow._start_attached(%s, %L, rf_tg.rf_inputs, rf_tg.rf_keys);\n',
         v_a.id, v_a.workflow)
    || E'  end if;\n  return null;\nend;\n';
end;
$$;
comment on function rowflow._attachment_body(rowflow.table_attachments) is
  'Internal: the plpgsql body of an attachment''s trigger function (queued runs straight from the transition table).';
