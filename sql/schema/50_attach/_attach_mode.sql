-- rowflow._attach_mode() → 'normal' | 'suppress' | 'backfill'
--
-- The transaction's mode for attachment triggers, from the setting
-- rowflow.mode: unset, '' or 'normal' → runs start as usual; 'suppress' →
-- triggers start nothing (a bulk load that needs no workflows); 'backfill'
-- → runs start with run priority 1000, so they yield to live work (see
-- sql/schema/50_attach/_start_attached.sql). Anything else raises RF039: a
-- typo like 'supress' must not silently start runs. The generated trigger
-- body tests the three values inline and calls this only for a bad one.
create or replace function rowflow._attach_mode()
returns text
language plpgsql stable
set search_path to ''
as $$
declare
  v_mode text := coalesce(nullif(pg_catalog.current_setting('rowflow.mode', true), ''), 'normal');
begin
  if v_mode not in ('normal', 'suppress', 'backfill') then
    raise exception 'rowflow.mode is %, expected ''normal'', ''suppress'' or ''backfill''',
      pg_catalog.quote_literal(v_mode) using errcode = 'RF039',
      hint = 'Use: set local rowflow.mode = ''suppress''; (or ''backfill'').';
  end if;
  return v_mode;
end;
$$;
select rowflow._allow('function rowflow._attach_mode()', '{}');
