-- rowflow._check_attachment_queries(owner, whats, exprs, events, queries)
--
-- Compiles attach's generated queries (rowflow._attachment_query) without
-- running them, as the table's owner: planning may evaluate a function of
-- the expression (constant folding), and the expressions must never run with
-- rowflow's rights. The checks run in a temporary SECURITY DEFINER function
-- handed to the owner (rowflow._give_function), dropped at once; it answers
-- the first query that fails. A cursor opens for exactly one statement, so
-- an expression that closes its parenthesis and appends "; drop table …"
-- fails here with nothing executed. Any error becomes RF034 naming the
-- option (`whats[i]`), with a hint for the usual mistakes (a non-boolean
-- "when", a json or text input).
create or replace function rowflow._check_attachment_queries(owner oid, whats text[], exprs text[], events text[],
  queries text[])
returns void
language plpgsql
set search_path to ''
as $$
declare
  v_fn text := 'ck_attach_' || pg_catalog.txid_current();
  v_body text := E'\ndeclare\n  rf_c refcursor;\n  rf_state text;\n  rf_msg text;\nbegin\n';
  v_i int;
  v_failed int;
  v_state text;
  v_message text;
  v_what text;
begin
  -- PHASE 1: the checker, as the owner.
  for v_i in 1 .. coalesce(cardinality(_check_attachment_queries.queries), 0) loop
    v_body := v_body || pg_catalog.format(
      E'  begin\n    open rf_c for execute %L;\n    close rf_c;\n'
      || E'  exception when others then\n'
      || E'    get stacked diagnostics rf_state = returned_sqlstate, rf_msg = message_text;\n'
      || E'    return query select %s, rf_state, rf_msg;\n    return;\n  end;\n',
      _check_attachment_queries.queries[v_i], v_i);
  end loop;
  v_body := v_body || E'end;\n';
  execute pg_catalog.format(
    'create function rowflow.%I() returns table (i int, state text, message text) language plpgsql '
    'security definer set search_path to '''' as %L', v_fn, v_body);
  execute pg_catalog.format('revoke all on function rowflow.%I() from public', v_fn);
  perform rowflow._give_function(pg_catalog.format('rowflow.%I()', v_fn)::regprocedure, _check_attachment_queries.owner);
  execute pg_catalog.format('select * from rowflow.%I()', v_fn) into v_failed, v_state, v_message;
  execute pg_catalog.format('drop function rowflow.%I()', v_fn);
  -- PHASE 2: the first failure, as RF034.
  if v_failed is null then
    return;
  end if;
  v_what := _check_attachment_queries.whats[v_failed];
  raise exception 'attach: % expression is invalid for % rows: %', v_what, _check_attachment_queries.events[v_failed],
    case
      when v_what = 'when' and v_state = '42804'
        then v_message || ' (the "when" expression must be boolean)'
      when v_what = 'input' and v_state in ('42804', '42846', '42883')
        then 'it must produce jsonb (cast json or text with ::jsonb, or build it with jsonb_build_object): ' || v_message
      when v_state in ('0A000', '42P11')
        then 'it must be one SQL expression, not statements: ' || v_message
      else v_message end
    using errcode = 'RF034',
          detail = pg_catalog.format('expression: %s; SQLSTATE %s', left(_check_attachment_queries.exprs[v_failed], 500),
                                     v_state),
          hint = case v_what
            when 'when' then 'Write a boolean SQL expression over new.<column> and old.<column>, e.g. new.status = ''paid'' and old.status is distinct from ''paid''.'
            when 'input' then 'Write a jsonb SQL expression over new.<column> / old.<column>, e.g. jsonb_build_object(''orderId'', new.id).'
            else 'Write a SQL expression over new.<column> / old.<column>; its value is cast to text.' end;
end;
$$;
select rowflow._allow('function rowflow._check_attachment_queries(oid, text[], text[], text[], text[])', '{}');
