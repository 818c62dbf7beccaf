-- rowflow._check_attachment_query(query, what, expr, event)
--
-- Compiles one generated query (rowflow._attachment_query) without running
-- it. A cursor opens for exactly one statement, so an expression that
-- closes its parenthesis and appends "; drop table …" fails here with
-- nothing executed. Any error becomes RF034 naming the option, with a hint
-- for the usual mistakes (a non-boolean "when", a json or text input).
create or replace function rowflow._check_attachment_query(query text, what text, expr text, event text)
returns void
language plpgsql
set search_path to ''
as $$
declare
  v_cur refcursor;
  v_state text;
  v_msg text;
begin
  begin
    open v_cur for execute _check_attachment_query.query;
    close v_cur;
  exception when others then
    get stacked diagnostics v_state = returned_sqlstate, v_msg = message_text;
    raise exception 'attach: % expression is invalid for % rows: %', _check_attachment_query.what,
      _check_attachment_query.event,
      case
        when _check_attachment_query.what = 'when' and v_state = '42804'
          then v_msg || ' (the "when" expression must be boolean)'
        when _check_attachment_query.what = 'input' and v_state in ('42804', '42846', '42883')
          then 'it must produce jsonb (cast json or text with ::jsonb, or build it with jsonb_build_object): ' || v_msg
        when v_state in ('0A000', '42P11')
          then 'it must be one SQL expression, not statements: ' || v_msg
        else v_msg end
      using errcode = 'RF034',
            detail = pg_catalog.format('expression: %s; SQLSTATE %s', left(_check_attachment_query.expr, 500), v_state),
            hint = case _check_attachment_query.what
              when 'when' then 'Write a boolean SQL expression over new.<column> and old.<column>, e.g. new.status = ''paid'' and old.status is distinct from ''paid''.'
              when 'input' then 'Write a jsonb SQL expression over new.<column> / old.<column>, e.g. jsonb_build_object(''orderId'', new.id).'
              else 'Write a SQL expression over new.<column> / old.<column>; its value is cast to text.' end;
  end;
  -- A cursor refuses a multi-statement text, but be explicit about SELECT INTO etc.
end;
$$;
