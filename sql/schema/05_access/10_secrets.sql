-- rowflow.secrets: one random key, readable by the owner only, from which the
-- gate derives the tokens that fence worker calls (rowflow._mac). Tokens are
-- computed, not stored: a step's lease token is a MAC of (run, step,
-- attempt), a worker's token a MAC of its id, so no table holds a secret a
-- reader could copy, and a worker can show only the tokens it was handed.
create table rowflow.secrets (
  id   boolean primary key default true,
  key  bytea not null,
  constraint one_row check (id)
);
comment on table rowflow.secrets is
  'The key the gate derives lease and worker tokens from (owner only; rowflow._mac).';

-- The key, drawn once at install. gen_random_uuid() draws from the server's
-- strong random source. Not created on first use: two transactions racing
-- to insert it would make the second wait for the first to end (a claim
-- waiting on another worker's open handler transaction).
insert into rowflow.secrets (key)
select pg_catalog.sha256(pg_catalog.convert_to(pg_catalog.gen_random_uuid()::text
                                               || pg_catalog.gen_random_uuid()::text, 'UTF8'))
on conflict do nothing;

-- rowflow._secret() → the key.
--
-- The helpers of this folder are plpgsql, not SQL: Postgres 15 plans a SQL
-- function with SET search_path again on every call, and the gate calls
-- them once per handed-out step (plpgsql caches its plans per session).
create or replace function rowflow._secret()
returns bytea
language plpgsql stable
set search_path to ''
as $$
begin
  return (select s.key from rowflow.secrets as s);
end;
$$;

-- rowflow._mac(key, message) → a 128-bit token (hex) for message.
--
-- sha256(key || sha256(key || message)): the outer hash over a fixed-length
-- inner one rules out length extension, without pgcrypto's hmac().
create or replace function rowflow._mac(key bytea, message text)
returns text
language plpgsql immutable
set search_path to ''
as $$
begin
  return pg_catalog.left(pg_catalog.encode(pg_catalog.sha256(_mac.key || pg_catalog.sha256(
           _mac.key || pg_catalog.convert_to(_mac.message, 'UTF8'))), 'hex'), 32);
end;
$$;
